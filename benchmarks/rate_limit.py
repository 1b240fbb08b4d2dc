"""Bulk runs at the rate limit: 2,000 updates through the CLI against an emulator that limits its key.

The emulator (in its own process) allows 100 requests a second with two seconds of burst (a token
bucket: ``--requests-per-minute 6000 --burst-seconds 2``), once with its ``x-ratelimit-*`` headers
and once without.  The CLI is fed the ids on stdin with ``-ThrottleLimit 32 -MaxRetryCount 5``.
Measured: the wall time of the whole CLI process against the ideal ``(2000 - burst) / rate`` (no
client can do better than spending the burst at once and then the rate), the 429 answers the
emulator gave (its own count) and the items left unchanged (read back from the emulator).

Run ``python benchmarks/rate_limit.py`` (about two minutes; ``--runs N`` repeats each mode); it
prints the figures and refreshes their section of ``benchmarks/results.md`` (``--no-write``: print
only).  ``python benchmarks/run.py`` runs it too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from run import PSOPENAI, control, emulator, run_env, seed  # benchmarks/run.py, beside this file

HERE = Path(__file__).resolve().parent
COUNT = 2000
RATE = 100  # requests a second
BURST_SECONDS = 2.0
THROTTLE = 32
MAX_RETRY = 5
IDEAL = (COUNT - RATE * BURST_SECONDS) / RATE

BEFORE = {
    "measured": "2026-12-06 on main at aea9089, before the pacer (a shared pause after each 429; "
    "medians of 3 runs, load average 1.0 to 7.3)",
    True: {"seconds": 8.07, "limited": 7919, "answers": 8870, "failed": 1049},
    False: {"seconds": 7.81, "limited": 7868, "answers": 8824, "failed": 1044},
}
"""Today's figures before the pacer, measured with this script on the code it replaced; kept
here as the side-by-side column, since that code is gone.  Their wall time is short because
half the items failed at once: the server's 10 ms retry-after-ms spent five retries in 50 ms."""

SECTION_START = "<!-- rate-limit rows: benchmarks/rate_limit.py -->"
SECTION_END = "<!-- end of rate-limit rows -->"


@dataclass
class Run:
    """One bulk run: wall seconds, answers the emulator gave, of them 429, items not changed."""

    seconds: float
    answers: int
    limited: int
    failed: int

    @property
    def share(self) -> float:
        return self.limited / self.answers if self.answers else 0.0


def _limit(base: str, *, headers: bool, on: bool = True) -> None:
    body: dict[str, Any] = (
        {"requests_per_minute": RATE * 60, "burst_seconds": BURST_SECONDS, "headers": headers} if on else {}
    )
    control(base, "ratelimit", body)


def _changed(base: str) -> int:
    """How many stored completions carry the metadata the run set (read with the limit off)."""
    headers = {"Authorization": "Bearer sk-bench-count"}
    after: str | None = None
    changed = 0
    while True:
        params: dict[str, Any] = {"limit": 100, "metadata[k]": "v"}
        if after:
            params["after"] = after
        page = requests.get(f"{base}/chat/completions", params=params, headers=headers, timeout=60).json()
        changed += len(page["data"])
        if not page["has_more"]:
            return changed
        after = page["last_id"]


def bulk_at_the_limit(base: str, *, headers: bool) -> Run:
    """One run of COUNT updates through the CLI against the limited emulator at ``base``."""
    control(base, "reset", {})
    ids = seed(base, COUNT, "chatcmpl-rate-")
    _limit(base, headers=headers)  # a new budget: the key starts with a full bucket
    args = [
        *PSOPENAI,
        "Set-ChatCompletion",
        "-MetaData",
        "@{k='v'}",
        "-ThrottleLimit",
        str(THROTTLE),
        "-MaxRetryCount",
        str(MAX_RETRY),
    ]
    started = time.perf_counter()
    subprocess.run(
        args,
        env=run_env(base),
        input="\n".join(ids) + "\n",
        text=True,
        check=False,  # failed items are counted from the emulator's side
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    counts = requests.get(_root(base) + "ratelimit", timeout=60).json()
    _limit(base, headers=headers, on=False)
    failed = COUNT - _changed(base)
    return Run(seconds, counts["admitted"] + counts["limited"], counts["limited"], failed)


def _root(base: str) -> str:
    return base.rsplit("/v1", 1)[0] + "/__emulator/"


def measure(runs: int) -> dict[bool, list[Run]]:
    """``runs`` runs with the headers and without, interleaved."""
    results: dict[bool, list[Run]] = {True: [], False: []}
    with emulator() as base:
        for _ in range(runs):
            for headers in (True, False):
                run = bulk_at_the_limit(base, headers=headers)
                results[headers].append(run)
                print(
                    f"  {'with' if headers else 'without'} headers: {run.seconds:.2f} s "
                    f"({run.seconds / IDEAL:.2f} x ideal), {run.limited} of {run.answers} answers 429 "
                    f"({run.share * 100:.1f} %), {run.failed} failed",
                    flush=True,
                )
    return results


def load_text() -> str:
    """The machine's load average, for the record (figures on a shared machine depend on it)."""
    try:
        one, five, _ = os.getloadavg()
    except (AttributeError, OSError):  # not on every platform
        return "load not known"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def rows(results: dict[bool, list[Run]], load: str) -> list[str]:
    """The section of results.md: one row per mode, before and after side by side."""
    lines = [
        SECTION_START,
        "",
        f"### Bulk runs at the rate limit ({time.strftime('%Y-%m-%d', time.gmtime())})",
        "",
        f"{COUNT} updates through `psopenai Set-ChatCompletion` fed by stdin, `-ThrottleLimit {THROTTLE} "
        f"-MaxRetryCount {MAX_RETRY}`, against the emulator limiting the key to {RATE} requests a "
        f"second with {BURST_SECONDS:g} seconds of burst (`--requests-per-minute {RATE * 60} "
        f"--burst-seconds {BURST_SECONDS:g}`); ideal ({COUNT} - {int(RATE * BURST_SECONDS)}) / {RATE} = "
        f"{IDEAL:.1f} s. Medians of {len(results[True])} runs by `python benchmarks/rate_limit.py`, "
        f"{load} on {os.cpu_count()} CPUs. Before: {BEFORE['measured']}.",
        "",
        "| Measure | Before | Now | Target | |",
        "|---|---|---|---|---|",
    ]
    for headers, target_ratio, target_share in ((True, 1.1, 0.01), (False, 1.3, 0.05)):
        runs = results[headers]
        seconds = statistics.median(r.seconds for r in runs)
        ratio = seconds / IDEAL
        limited = statistics.median(r.limited for r in runs)
        answers = statistics.median(r.answers for r in runs)
        share = statistics.median(r.share for r in runs)
        failed = max(r.failed for r in runs)
        before: dict[str, Any] = BEFORE[headers]  # type: ignore[assignment]
        met = ratio <= target_ratio and share <= target_share and failed == 0
        label = "with `x-ratelimit-*` headers" if headers else "without the headers (429s only)"
        lines.append(
            f"| {label}: wall time vs ideal; 429 answers; failed items | "
            f"{before['seconds']:.1f} s = {before['seconds'] / IDEAL:.2f} x; {before['limited']} of "
            f"{before['answers']} ({before['limited'] / before['answers'] * 100:.0f} %); "
            f"{before['failed']} | "
            f"{seconds:.1f} s = **{ratio:.2f} x**; {limited:.0f} of {answers:.0f} "
            f"(**{share * 100:.1f} %**); {failed} | <= {target_ratio} x, <= {target_share * 100:.0f} %, 0 | "
            f"{'met' if met else '**missed**'} |"
        )
    lines += ["", SECTION_END]
    return lines


def write(section: list[str], path: Path) -> None:
    """Put the section into results.md, replacing its earlier version (or at the end)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = "\n".join(section)
    pattern = re.compile(re.escape(SECTION_START) + ".*?" + re.escape(SECTION_END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each mode (default: 3)")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    parser.add_argument("--json", action="store_true", help="print every run as JSON too")
    args = parser.parse_args()
    load_before = load_text()
    results = measure(args.runs)
    load = f"{load_before} before, {load_text()} after"
    section = rows(results, load)
    print("\n".join(section))
    if args.json:
        print(json.dumps({str(k): [vars(r) for r in v] for k, v in results.items()}))
    if not args.no_write:
        write(section, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
