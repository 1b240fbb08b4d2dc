"""Benchmarks: import time, one CLI update, per-call overhead, bulk throughput, pipeline memory,
bulk runs at the rate limit (``benchmarks/rate_limit.py``).

Run ``python -m pip install -e '.[bench]' && python benchmarks/run.py`` (about 10 minutes; add
``--quick`` for a smaller, less precise run).  Results go to ``benchmarks/results.md``.  Every
comparison is measured side by side in the same run, interleaved, and reported as medians, since
absolute times on a shared machine drift.  All traffic goes to an emulator on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
KEY = "sk-bench-000000000000000000000000"
PYTHON = sys.executable
PSOPENAI = [PYTHON, "-m", "psopenai_py"]


def median(values: list[float]) -> float:
    return statistics.median(values)


@contextmanager
def emulator(latency_ms: int = 0) -> Iterator[str]:
    """An emulator in its own process (so its work is not counted as ours); yields its base URL."""
    process = subprocess.Popen(
        [*PSOPENAI, "emulator", "--port", "0", "--no-record", "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().rsplit(" ", 1)[1].strip()
        yield base
    finally:
        process.terminate()
        process.wait(30)


def control(base: str, action: str, body: dict[str, Any]) -> Any:
    root = base.rsplit("/v1", 1)[0]
    answer = requests.post(f"{root}/__emulator/{action}", data=json.dumps(body), timeout=600)
    answer.raise_for_status()
    return answer.json()


def seed(base: str, count: int, prefix: str) -> list[str]:
    control(base, "seed", {"count": count, "prefix": prefix})
    return [f"{prefix}{index:06d}" for index in range(count)]


def run_env(base: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(
        OPENAI_API_KEY=KEY,
        OPENAI_API_BASE=base,
        OPENAI_BASE_URL=base,
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    return env


def timed_process(args: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(
        args,
        env=env,
        input=stdin,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def children_cpu() -> float | None:
    """Seconds of CPU (user and system) used so far by this process's finished children, where
    the platform counts them (not on Windows)."""
    try:
        import resource
    except ImportError:
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_process_cpu(args: list[str], env: dict[str, str]) -> tuple[float, float | None]:
    """Wall seconds of a whole process, and its CPU seconds where they are counted: the CPU time
    moves less than the wall time when other work shares the machine."""
    before = children_cpu()
    wall = timed_process(args, env)
    after = children_cpu()
    return wall, (after - before if after is not None and before is not None else None)


def load_text() -> str:
    """The machine's load average, for the record (figures on a shared machine depend on it)."""
    try:
        one, five, _ = os.getloadavg()
    except (AttributeError, OSError):  # not on every platform
        return "load not known"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


@contextmanager
def canned_server() -> Iterator[str]:
    """The canned-response server (benchmarks/canned_server.py) in its own process; its base URL."""
    process = subprocess.Popen([PYTHON, str(HERE / "canned_server.py")], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = process.stdout.readline().split()[1]
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(30)


# -- measurements ---------------------------------------------------------------------------------


def import_times(runs: int) -> dict[str, float]:
    """Median seconds of ``import X`` in a fresh interpreter (interpreter start-up excluded)."""
    code = "import time; t = time.perf_counter(); import {0}; print(time.perf_counter() - t)"
    samples: dict[str, list[float]] = {"psopenai_py": [], "requests": [], "openai": []}
    for _ in range(runs):
        for module in samples:
            out = subprocess.run(
                [PYTHON, "-c", code.format(module)], capture_output=True, text=True, check=True
            ).stdout
            samples[module].append(float(out))
    return {module: median(values) for module, values in samples.items()}


def cli_oneshot(runs: int) -> dict[str, float]:
    """Whole-process seconds of one update: the psopenai CLI vs a Python script with the SDK."""
    with emulator() as base:
        (ident,) = seed(base, 1, "chatcmpl-oneshot-")
        env = run_env(base)
        ours = [*PSOPENAI, "Set-ChatCompletion", ident, "-MetaData", "@{k='v'}"]
        sdk = [PYTHON, str(HERE / "oneshot_openai.py"), ident]
        samples: dict[str, list[float]] = {"psopenai CLI": [], "openai SDK script": []}
        timed_process(ours, env)
        timed_process(sdk, env)
        for _ in range(runs):
            samples["psopenai CLI"].append(timed_process(ours, env))
            samples["openai SDK script"].append(timed_process(sdk, env))
    return {name: median(values) for name, values in samples.items()}


def per_call(calls: int, repeats: int) -> dict[str, float]:
    """Median microseconds per warm sequential update over keep-alive."""
    import openai

    import psopenai_py

    with emulator() as base:
        (ident,) = seed(base, 1, "chatcmpl-warm-")
        url = f"{base}/chat/completions/{ident}"
        psopenai_py.set_openai_context(api_base=base, api_key=KEY)
        session = requests.Session()
        client = openai.OpenAI(api_key=KEY, base_url=base, max_retries=0)
        headers = {"Authorization": f"Bearer {KEY}"}

        def ours() -> None:
            psopenai_py.set_chat_completion(ident, {"k": "v"})

        def bare_requests() -> None:
            session.post(url, json={"metadata": {"k": "v"}}, headers=headers).json()

        def openai_sdk() -> None:
            client.chat.completions.update(ident, metadata={"k": "v"})

        contenders: list[Callable[[], None]] = [ours, bare_requests, openai_sdk]
        for call in contenders:
            for _ in range(100):
                call()
        samples: dict[str, list[float]] = {c.__name__: [] for c in contenders}
        for _ in range(repeats):
            for call in contenders:
                started = time.perf_counter()
                for _ in range(calls):
                    call()
                samples[call.__name__].append((time.perf_counter() - started) / calls * 1e6)
    return {name: median(values) for name, values in samples.items()}


def client_cost(calls: int, repeats: int) -> dict[str, float]:
    """Median microseconds per warm update against the canned server: ours vs the floor, a bare
    ``urllib3.PoolManager().request`` doing the same POST and JSON decode."""
    import urllib3

    import psopenai_py

    with canned_server() as base:
        url = f"{base}/chat/completions/chatcmpl-canned"
        psopenai_py.set_openai_context(api_base=base, api_key=KEY)
        pool = urllib3.PoolManager()
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}

        def ours() -> None:
            psopenai_py.set_chat_completion("chatcmpl-canned", {"k": "v"})

        def bare_urllib3() -> None:
            body = json.dumps({"metadata": {"k": "v"}})
            json.loads(pool.request("POST", url, body=body, headers=headers).data)

        contenders: list[Callable[[], None]] = [ours, bare_urllib3]
        for call in contenders:
            for _ in range(200):
                call()
        samples: dict[str, list[float]] = {c.__name__: [] for c in contenders}
        for _ in range(repeats):
            for call in contenders:
                started = time.perf_counter()
                for _ in range(calls):
                    call()
                samples[call.__name__].append((time.perf_counter() - started) / calls * 1e6)
        psopenai_py.clear_openai_context()
    return {name: median(values) for name, values in samples.items()}


def _layer(filename: str) -> str:
    """Which layer a profiled function belongs to, by its file."""
    path = filename.replace("\\", "/")
    for marker, layer in (
        ("/psopenai_py/", "psopenai_py"),
        ("/requests/", "requests"),
        ("/urllib3/", "urllib3"),
        ("/http/client.py", "http.client"),
        ("/email/", "http.client"),
        ("/json/", "json"),
        ("/socket.py", "socket"),
    ):
        if marker in path:
            return layer
    if "_socket.socket" in filename or "select" in filename:
        return "socket"
    if filename.startswith("<"):
        return "builtins (called from every layer)"
    return "other"


def client_profile(calls: int) -> dict[str, float]:
    """Where a warm ``set_chat_completion`` spends its time: cProfile's own time per function,
    summed by layer, as shares of the whole (profiling slows small functions most, so the shares
    lean towards call-heavy layers; they explain the gap, they are not timings)."""
    import cProfile
    import pstats

    import psopenai_py

    with canned_server() as base:
        psopenai_py.set_openai_context(api_base=base, api_key=KEY)
        for _ in range(200):
            psopenai_py.set_chat_completion("chatcmpl-canned", {"k": "v"})
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(calls):
            psopenai_py.set_chat_completion("chatcmpl-canned", {"k": "v"})
        profiler.disable()
        psopenai_py.clear_openai_context()
    totals: dict[str, float] = {}
    stats: Any = getattr(pstats.Stats(profiler), "stats")  # noqa: B009 (not in the stubs)
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        layer = _layer(filename if filename != "~" else name)
        totals[layer] = totals.get(layer, 0.0) + tottime
    whole = sum(totals.values())
    return {layer: value / whole for layer, value in sorted(totals.items(), key=lambda kv: -kv[1])}


def import_profile(runs: int) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Milliseconds of import (``-X importtime`` self times, medians of ``runs``) by top-level
    package, for the CLI's one-shot update and for the minimal requests script, against the
    canned server; and the CLI's own modules, each with its own median."""
    with canned_server() as base:
        env = run_env(base)
        script = (
            "import os, requests; "
            "requests.post(os.environ['OPENAI_BASE_URL'] + '/chat/completions/chatcmpl-canned', "
            "json={'metadata': {'k': 'v'}}, "
            "headers={'Authorization': 'Bearer ' + os.environ['OPENAI_API_KEY']}).json()"
        )
        commands = {
            "psopenai CLI": [
                PYTHON,
                "-X",
                "importtime",
                "-m",
                "psopenai_py",
                "Set-ChatCompletion",
                "chatcmpl-canned",
                "-MetaData",
                "@{k='v'}",
            ],
            "requests script": [PYTHON, "-X", "importtime", "-c", script],
        }
        result: dict[str, dict[str, float]] = {}
        own: list[dict[str, float]] = []
        for name, args in commands.items():
            samples: list[dict[str, float]] = []
            for _ in range(runs):
                err = subprocess.run(args, env=env, capture_output=True, text=True, check=True).stderr
                by_package: dict[str, float] = {}
                by_module: dict[str, float] = {}
                for line in err.splitlines():
                    if not line.startswith("import time:") or "self [us]" in line:
                        continue
                    self_us, _cumulative, module = (part.strip() for part in line[12:].split("|"))
                    top = module.split(".")[0]
                    if top == "psopenai_py":
                        by_module[module] = int(self_us) / 1000
                    key = (
                        top
                        if top
                        in ("psopenai_py", "requests", "urllib3", "charset_normalizer", "idna", "certifi")
                        else "stdlib and site"
                    )
                    by_package[key] = by_package.get(key, 0.0) + int(self_us) / 1000
                samples.append(by_package)
                if by_module:
                    own.append(by_module)
            keys = set().union(*samples)
            result[name] = {k: median([s.get(k, 0.0) for s in samples]) for k in sorted(keys)}
    modules = set().union(*own)
    own_medians = {m: median([s.get(m, 0.0) for s in own]) for m in modules}
    return result, dict(sorted(own_medians.items(), key=lambda kv: -kv[1]))


def oneshot_floor(runs: int) -> dict[str, float]:
    """Whole-process seconds of one update against the canned server: the psopenai CLI vs a
    minimal ``python -c`` script with ``requests.post``, wall time and (where counted, as
    ``... CPU``) CPU time."""
    with canned_server() as base:
        env = run_env(base)
        ours = [*PSOPENAI, "Set-ChatCompletion", "chatcmpl-canned", "-MetaData", "@{k='v'}"]
        script = (
            "import os, requests; "
            "requests.post(os.environ['OPENAI_BASE_URL'] + '/chat/completions/chatcmpl-canned', "
            "json={'metadata': {'k': 'v'}}, "
            "headers={'Authorization': 'Bearer ' + os.environ['OPENAI_API_KEY']}).json()"
        )
        minimal = [PYTHON, "-c", script]
        samples: dict[str, list[float]] = {}
        timed_process(ours, env)
        timed_process(minimal, env)
        for _ in range(runs):
            for name, args in (("psopenai CLI", ours), ("requests script", minimal)):
                wall, cpu = timed_process_cpu(args, env)
                samples.setdefault(name, []).append(wall)
                if cpu is not None:
                    samples.setdefault(f"{name} CPU", []).append(cpu)
    return {name: median(values) for name, values in samples.items()}


def bulk(count: int, latency_ms: int, repeats: int) -> dict[int | str, float]:
    """Seconds for ``count`` updates through the CLI with per-request latency, by ThrottleLimit."""
    results: dict[int | str, float] = {}
    with emulator(latency_ms) as base:
        ids = seed(base, count, "chatcmpl-bulk-")
        env = run_env(base)
        stdin = "\n".join(ids) + "\n"
        for limit, runs in ((1, 1), (8, repeats), (32, repeats)):
            args = [*PSOPENAI, "Set-ChatCompletion", "-MetaData", "@{k='v'}", "-ThrottleLimit", str(limit)]
            results[limit] = median([timed_process(args, env, stdin) for _ in range(runs)])
    results["ideal_32"] = count * latency_ms / 1000 / 32
    return results


# Runs the CLI in this process and then writes the process's own peak resident size to the file
# named by PSOPENAI_BENCH_PEAK.  Measured from inside because the operating system's count for a
# child (wait4's ru_maxrss) also keeps the peak of the parent it was forked from: a benchmark
# process that has loaded the openai SDK would be counted as the CLI's memory.  VmHWM is the peak
# of this program's own memory since exec; getrusage is the fallback where /proc is missing.
_PEAK_WRAPPER = """
import os, runpy, sys
def peak_kb():
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.argv = ['psopenai', *sys.argv[1:]]
try:
    runpy.run_module('psopenai_py', run_name='__main__', alter_sys=True)
finally:
    with open(os.environ['PSOPENAI_BENCH_PEAK'], 'w') as out:
        out.write(str(peak_kb()))
"""


def peak_memory(count: int, throttle: int) -> float:
    """Peak RSS in MB of the CLI updating ``count`` piped ids (emulator without latency)."""
    with emulator() as base, tempfile.TemporaryDirectory() as scratch:
        ids = seed(base, count, "chatcmpl-mem-")
        peak_file = Path(scratch) / "peak"
        with tempfile.TemporaryFile("w+") as source:
            source.write("\n".join(ids) + "\n")
            source.seek(0)
            done = subprocess.run(
                [
                    PYTHON,
                    "-c",
                    _PEAK_WRAPPER,
                    "Set-ChatCompletion",
                    "-MetaData",
                    "@{k='v'}",
                    "-ThrottleLimit",
                    str(throttle),
                ],
                stdin=source,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**run_env(base), "PSOPENAI_BENCH_PEAK": str(peak_file)},
                check=False,
            )
        if done.returncode != 0:
            raise RuntimeError(f"the memory run failed with status {done.returncode}")
        return int(peak_file.read_text()) / 1024


# -- report ---------------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("psopenai_py", "requests", "urllib3", "openai", "keyring")}


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


MEASURES = {
    "imports": "the package's import time vs requests' and the openai SDK's",
    "oneshot-sdk": "one CLI update as a whole process vs a script with the openai SDK",
    "warm": "warm sequential updates vs bare requests and the openai SDK",
    "client-warm": "client cost of a warm call against the canned server, and its profile by layer",
    "client-oneshot": "client cost of one CLI update as a whole process against the canned server, "
    "and its import profile",
    "bulk": "2000 piped updates with 100 ms latency at ThrottleLimit 1, 8 and 32",
    "memory": "peak memory of the CLI updating many piped ids",
}
"""What ``--only`` can name, in the order of the results table."""

ROW_MARKERS = {
    "imports": ("| `import psopenai_py` vs `import requests`", "| `import psopenai_py` vs `import openai`"),
    "oneshot-sdk": ("| one update, whole process:",),
    "warm": ("| warm per-call,", "| the same vs the openai SDK's"),
    "client-warm": ("| client cost, warm per-call",),
    "client-oneshot": ("| client cost, one update as a whole process",),
    "bulk": (
        "updates, 100 ms latency each,",
        "| the same with `-ThrottleLimit 8`",
        "| the same with `-ThrottleLimit 32`",
    ),
    "memory": ("| peak memory (RSS)",),
}
"""How each measure's rows are found in an earlier results file (their text up to the figures)."""

REMEASURED = "Rows measured again since (`python benchmarks/run.py --only MEASURE`):"


ONESHOT_GAP = [
    "What the CLI pays beyond the script is the package's own modules, each of which a one-shot "
    "update uses: the package and its exceptions; the PowerShell front-end (the process shell, "
    "the argument tokens, the binder, the literal parser that reads `-MetaData @{...}`); the "
    "command's parameter table and checks; the settings resolution; the transport (session, wire "
    "format, deadlines, pacing, retry rules, log scrubbing); the pipeline with its host, streams "
    "and counters; the result object. Of the standard library only `signal` (the shell's Ctrl-C "
    "and SIGTERM handling) and `contextvars` load beyond what `requests` loads. Then comes the "
    "work the script does not do: checking every parameter, resolving the settings, scrubbing "
    "the answer, shaping it and writing it as JSON, and the interpreter's start and end for the "
    "extra modules.",
    "",
    "What a one-shot update does not use does not load (`tests/test_oneshot_modules.py` holds it): "
    "no dataclasses (the records of a command line are `records.Record` classes, whose "
    "constructor is built without `dataclasses`: that module costs about half a millisecond with "
    "`inspect`, `ast` and `dis` to import), no thread pool, no keyring when the key is in the "
    "environment, no emulator, journal, other command, streamed-answer reader, help page or "
    "other front-end; and no pattern is compiled before its first use. What is left would go "
    "only by merging modules, which saves a part of the per-module cost of an import at the "
    "price of the layout, or by leaving the checks out.",
]


def block_marks(measure: str) -> tuple[str, str]:
    """The comments around a measure's explanation block, so that ``--only`` can replace it."""
    return f"<!-- {measure} -->", f"<!-- /{measure} -->"


def merge(text: str, rows: dict[str, list[str]], blocks: dict[str, list[str]], note: dict[str, str]) -> str:
    """An earlier results file with the rows and blocks of the measures run again replaced, and
    a line per measure saying when (the other rows stay as they were, with their own date)."""
    lines = text.splitlines()
    for measure, new_rows in rows.items():
        for marker, row in zip(ROW_MARKERS[measure], new_rows, strict=True):
            found = [i for i, line in enumerate(lines) if line.startswith("|") and marker in line]
            if len(found) != 1:
                raise SystemExit(f"{marker!r}: not one row in the results file; run them all")
            lines[found[0]] = row
    for measure, block in blocks.items():
        start, end = block_marks(measure)
        if start not in lines or end not in lines:
            raise SystemExit(f"{start}: no such block in the results file; run them all")
        lines[lines.index(start) : lines.index(end) + 1] = block
    if REMEASURED not in lines:
        at = next(i for i, line in enumerate(lines) if line.startswith("All numbers are medians")) + 1
        lines[at:at] = ["", REMEASURED]
    at = lines.index(REMEASURED) + 1
    while at < len(lines) and lines[at].startswith("- "):
        if any(lines[at].startswith(f"- {measure}:") for measure in note):
            del lines[at]
        else:
            at += 1
    lines[at:at] = [f"- {measure}: {when}" for measure, when in note.items()]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller counts")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(MEASURES),
        metavar="MEASURE",
        help="run this measure alone (may be given again for more) and replace its rows in the "
        "output file, the others kept as they were: "
        + "; ".join(f"{name}: {what}" for name, what in MEASURES.items()),
    )
    args = parser.parse_args()
    q = args.quick
    chosen = [m for m in MEASURES if not args.only or m in args.only]
    sizes = dict(
        import_runs=5 if q else 21,
        cli_runs=3 if q else 11,
        calls=200 if q else 2000,
        repeats=2 if q else 3,
        bulk=200 if q else 2000,
        memory=5000 if q else 100_000,
    )
    started = time.time()
    load_before = load_text()
    # An installed copy has its bytecode compiled by pip; an editable checkout may not (for
    # example under PYTHONDONTWRITEBYTECODE), and compiling on every start would be measured as
    # the package's own cost.  Compile once so every contender starts from bytecode.
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(HERE.parent / "psopenai_py")], check=True)
    rows: dict[str, list[str]] = {}
    blocks: dict[str, list[str]] = {}
    if "imports" in chosen:
        print("import times ...", flush=True)
        imports = import_times(sizes["import_runs"])
        r_req = imports["psopenai_py"] / imports["requests"]
        r_oai = imports["psopenai_py"] / imports["openai"]
        rows["imports"] = [
            f"| `import psopenai_py` vs `import requests` | {imports['psopenai_py'] * 1000:.1f} ms vs "
            f"{imports['requests'] * 1000:.1f} ms = **{r_req:.2f} x** | <= 1.15 x | "
            f"{verdict(r_req <= 1.15)} |",
            f"| `import psopenai_py` vs `import openai` | {imports['psopenai_py'] * 1000:.1f} ms vs "
            f"{imports['openai'] * 1000:.1f} ms = **{r_oai:.2f} x** | <= 0.3 x | {verdict(r_oai <= 0.3)} |",
        ]
    if "oneshot-sdk" in chosen:
        print("one CLI update ...", flush=True)
        oneshot = cli_oneshot(sizes["cli_runs"])
        r_cli = oneshot["psopenai CLI"] / oneshot["openai SDK script"]
        rows["oneshot-sdk"] = [
            f"| one update, whole process: `psopenai Set-ChatCompletion` vs a Python script with the "
            f"openai SDK | {oneshot['psopenai CLI'] * 1000:.0f} ms vs "
            f"{oneshot['openai SDK script'] * 1000:.0f} ms = **{r_cli:.2f} x** | <= 0.35 x | "
            f"{verdict(r_cli <= 0.35)} |"
        ]
    if "warm" in chosen:
        print("per-call overhead ...", flush=True)
        warm = per_call(sizes["calls"], sizes["repeats"])
        r_bare = warm["ours"] / warm["bare_requests"]
        r_sdk = warm["ours"] / warm["openai_sdk"]
        rows["warm"] = [
            f"| warm per-call, {sizes['calls']} sequential updates over keep-alive: "
            f"`set_chat_completion` vs bare `requests.Session().post` | {warm['ours']:.0f} us vs "
            f"{warm['bare_requests']:.0f} us = **{r_bare:.2f} x** | <= 1.15 x | {verdict(r_bare <= 1.15)} |",
            f"| the same vs the openai SDK's `chat.completions.update` | {warm['ours']:.0f} us vs "
            f"{warm['openai_sdk']:.0f} us = **{r_sdk:.2f} x** | <= 0.8 x | {verdict(r_sdk <= 0.8)} |",
        ]
    if "client-warm" in chosen:
        print("client cost of a warm call against a canned server ...", flush=True)
        floor_warm = client_cost(sizes["calls"], sizes["repeats"] + 2)
        floor_profile = client_profile(sizes["calls"])
        r_floor = floor_warm["ours"] / floor_warm["bare_urllib3"]
        rows["client-warm"] = [
            f"| client cost, warm per-call against a canned-response server: `set_chat_completion` vs a "
            f"bare `urllib3.PoolManager().request` POST + JSON decode | {floor_warm['ours']:.0f} us vs "
            f"{floor_warm['bare_urllib3']:.0f} us = **{r_floor:.2f} x** | <= 1.3 x | "
            f"{verdict(r_floor <= 1.3)} |"
        ]
        blocks["client-warm"] = [
            *block_marks("client-warm")[:1],
            "Warm per call, shares of the profiled time of `set_chat_completion` by layer (cProfile, "
            f"{sizes['calls']} calls against the canned server; a bare urllib3 call pays only the "
            "urllib3, http.client, socket and json layers):",
            "",
            "| layer | share |",
            "|---|---|",
            *(f"| {layer} | {share * 100:.0f} % |" for layer, share in floor_profile.items()),
            "",
            *block_marks("client-warm")[1:],
        ]
    if "client-oneshot" in chosen:
        print("client cost of one CLI update against a canned server ...", flush=True)
        # Three times the runs of the other whole-process rows: the gap it measures is a few
        # milliseconds in over a hundred, and the machine may be shared.
        floor_oneshot = oneshot_floor(sizes["cli_runs"] * 3)
        floor_imports, own_modules = import_profile(5 if q else 9)
        ours, theirs = floor_oneshot["psopenai CLI"], floor_oneshot["requests script"]
        r_floor_cli = ours / theirs
        cpu = ""
        if "psopenai CLI CPU" in floor_oneshot:
            r_cpu = floor_oneshot["psopenai CLI CPU"] / floor_oneshot["requests script CPU"]
            cpu = f" (CPU time {r_cpu:.2f} x)"
        rows["client-oneshot"] = [
            f"| client cost, one update as a whole process against the canned server: `psopenai "
            f"Set-ChatCompletion` vs `python -c` with `requests.post` | {ours * 1000:.0f} ms vs "
            f"{theirs * 1000:.0f} ms = **{r_floor_cli:.2f} x**{cpu} | <= 1.1 x | "
            f"{verdict(r_floor_cli <= 1.1)} |"
        ]
        cli, script = floor_imports["psopenai CLI"], floor_imports["requests script"]
        blocks["client-oneshot"] = [
            *block_marks("client-oneshot")[:1],
            "One-shot update, import time by package (`-X importtime` self times, median of "
            f"{5 if q else 9}, ms; `-X importtime` slows every import down alike):",
            "",
            "| package | psopenai CLI | requests script |",
            "|---|---|---|",
            *(
                f"| {package} | {cli.get(package, 0.0):.1f} | {script.get(package, 0.0):.1f} |"
                for package in sorted(set(cli) | set(script))
            ),
            "",
            f"The package's own modules on that path: {len(own_modules)}, "
            f"{sum(own_modules.values()):.1f} ms in all (a module's self time also holds any pass "
            "of the garbage collector that runs while it loads); the largest: "
            + ", ".join(
                f"`{m.removeprefix('psopenai_py.')}` {t:.2f}" for m, t in list(own_modules.items())[:8]
            )
            + ".",
            "",
            *ONESHOT_GAP,
            "",
            *block_marks("client-oneshot")[1:],
        ]
    if "bulk" in chosen:
        print("bulk throughput ...", flush=True)
        bulk_times = bulk(sizes["bulk"], 100, sizes["repeats"])
        r_bulk = bulk_times[32] / bulk_times["ideal_32"]
        rows["bulk"] = [
            f"| {sizes['bulk']} updates, 100 ms latency each, CLI fed by stdin: serial | "
            f"{bulk_times[1]:.1f} s | | |",
            f"| the same with `-ThrottleLimit 8` | {bulk_times[8]:.2f} s | | |",
            f"| the same with `-ThrottleLimit 32` vs the ideal {sizes['bulk']} x 0.1 s / 32 = "
            f"{bulk_times['ideal_32']:.2f} s | {bulk_times[32]:.2f} s = **{r_bulk:.2f} x** ideal | "
            f"<= 1.2 x | {verdict(r_bulk <= 1.2)} |",
        ]
    if "memory" in chosen:
        print("pipeline memory ...", flush=True)
        memory_small = peak_memory(1000, 8)
        memory_large = peak_memory(sizes["memory"], 8)
        rows["memory"] = [
            f"| peak memory (RSS) of the CLI updating {sizes['memory']:,} piped ids "
            f"(1,000 ids: {memory_small:.1f} MB) | **{memory_large:.1f} MB** | < 100 MB | "
            f"{verdict(memory_large < 100)} |"
        ]

    now = f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"
    load = f"{load_before} before, {load_text()} after"
    if args.only:
        note = {m: f"{now}{' (--quick)' if q else ''}, {load}" for m in chosen}
        text = merge(args.output.read_text(encoding="utf-8"), rows, blocks, note)
        args.output.write_text(text, encoding="utf-8")
        print(
            "\n".join(
                line for measure in chosen for line in (*rows.get(measure, ()), *blocks.get(measure, ()))
            )
        )
        return 0
    v = versions()
    lines = [
        "# Benchmark results",
        "",
        f"Measured {now} by `python benchmarks/run.py`{' --quick' if q else ''} in "
        f"{time.time() - started:.0f} s, {load}.",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}. Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "All numbers are medians of interleaved runs; ratios compare figures from the same run.",
        "",
        "| Measure | Result | Target | |",
        "|---|---|---|---|",
        *(row for measure in MEASURES for row in rows[measure]),
        "",
        "### What the client-cost rows are made of",
        "",
        *blocks["client-warm"],
        "",
        *blocks["client-oneshot"],
        "",
        "The emulator runs in its own process and serves every contender alike; its time is in "
        "every figure, so the ratios understate differences in client cost. The two client-cost "
        "rows use `benchmarks/canned_server.py` instead, which answers every request with the same "
        "prepared bytes, so what remains is the clients' own cost.",
        "",
    ]
    args.output.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    print("bulk runs at the rate limit ...", flush=True)
    # The rate-limit rows have their own script (benchmarks/rate_limit.py); a full run adds them.
    import rate_limit

    load = rate_limit.load_text()
    section = rate_limit.rows(
        rate_limit.measure(1 if q else 3), f"{load} before, {rate_limit.load_text()} after"
    )
    rate_limit.write(section, args.output)
    print("\n".join(section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
