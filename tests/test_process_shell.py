"""What both command lines do as processes, run as real processes against the emulator: an output
that fails (a full disk), a standard output closed before the start, SIGTERM, and what the first
Ctrl-C says in a terminal.

The PowerShell command line (``psopenai Set-ChatCompletion ...``) and the openai CLI's dialect
(``psopenai chat:completions ...``) share one process shell; each keeps its own words and codes.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from psopenai_py.emulator import Emulator
from psopenai_py.powershell import cli
from tests.screen import screen
from tests.test_terminal import run_in_pty

KEY = "sk-shell-0000000000000000000000000"
ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "psopenai_py"]
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="POSIX descriptors and signals")
ACCOUNT = r"(\d+) done, (\d+) failed, (\d+) not sent"


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return {
        **clean,
        "OPENAI_API_BASE": emulator.url,
        "OPENAI_BASE_URL": emulator.url,
        "OPENAI_API_KEY": KEY,
        "PYTHONPATH": str(ROOT),
    }


def _posts(emulator: Emulator) -> list[str]:
    return [r.target.split("?")[0].rsplit("/", 1)[1] for r in emulator.requests if r.method == "POST"]


def _clean(err: str) -> None:
    assert "Traceback" not in err and "Exception ignored" not in err and "unexpected error" not in err, err
    assert KEY not in err


# -- an output that cannot be written --------------------------------------------------------------


needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")


@needs_dev_full
@pytest.mark.parametrize("throttle", ["1", "4"])
def test_a_full_output_stops_the_run_and_accounts_for_every_item(env, emulator, throttle):
    ids = emulator.store.seed(80, prefix="chatcmpl-full-")
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [*COMMAND, "Set-ChatCompletion", "-MetaData", "@{a='1'}", "-ThrottleLimit", throttle],
            input="\n".join(ids).encode(),
            stdout=full,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
        )
    err = result.stderr.decode()
    _clean(err)
    assert result.returncode == 1
    [line] = err.splitlines()
    match = re.fullmatch(
        rf"psopenai: the output could not be written \(No space left on device\): {ACCOUNT}", line
    )
    assert match, line
    done, failed, not_sent = map(int, match.groups())
    # Every item is accounted for once; every change that reached the server is counted.
    assert done + failed + not_sent == 80
    assert len(_posts(emulator)) == done + failed
    assert done >= 1 and not_sent > 0  # it stopped at the first failed write


class _FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")


def test_a_full_output_is_one_counted_line_in_process_too(emulator):
    """The same through ``cli.main`` with a stream of its own (no /dev/full needed)."""
    ids = emulator.store.seed(5, prefix="chatcmpl-disk-")
    err = io.StringIO()
    status = cli.main(
        ["Set-ChatCompletion", "-MetaData", "@{}", "-ApiBase", emulator.url, "-ApiKey", KEY],
        stdin=io.StringIO("\n".join(ids)),
        stdout=_FullDisk(),
        stderr=err,
    )
    assert status == 1
    assert err.getvalue() == (
        "psopenai: the output could not be written (No space left on device): 1 done, 0 failed, 4 not sent\n"
    )
    assert _posts(emulator) == ids[:1]


def test_a_full_output_for_help_is_one_line():
    err = io.StringIO()
    assert cli.main(["help", "Set-ChatCompletion"], stdout=_FullDisk(), stderr=err) == 1
    assert err.getvalue() == "psopenai: the output could not be written (No space left on device)\n"


@needs_dev_full
@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--version"], "psopenai: the output could not be written (No space left on device)"),
        (
            ["help", "Set-ChatCompletion"],
            "psopenai: the output could not be written (No space left on device)",
        ),
        (["chat:completions", "--help"], "psopenai: cannot write the output (No space left on device)."),
    ],
    ids=lambda a: " ".join(a) if isinstance(a, list) else "",
)
def test_text_that_only_fails_at_the_last_flush_is_one_line_too(env, emulator, argv, line):
    with open("/dev/full", "wb") as full:
        result = subprocess.run([*COMMAND, *argv], stdout=full, stderr=subprocess.PIPE, env=env, timeout=60)
    err = result.stderr.decode()
    _clean(err)
    assert (result.returncode, err) == (1, line + "\n")
    assert emulator.requests == []


@needs_dev_full
@pytest.mark.parametrize(
    "argv",
    [
        ["chat:completions", "update", "--metadata", "{a: b}", "--completion-id"],
        ["chat:completions", "list", "--format", "jsonl"],
    ],
    ids=lambda a: a[1],
)
def test_the_dialect_with_a_full_output_is_one_line_and_exit_1(env, emulator, argv):
    [stored] = emulator.store.seed(1, prefix="chatcmpl-dfull-")
    if argv[-1] == "--completion-id":
        argv = [*argv, stored]
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [*COMMAND, *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            timeout=60,
        )
    err = result.stderr.decode()
    _clean(err)
    assert result.returncode == 1
    assert err == "psopenai: cannot write the output (No space left on device).\n"
    assert len(emulator.requests) == 1


# -- a standard output closed before the start -------------------------------------------------------


def _closed_stdout(
    argv: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*COMMAND, *argv],
        input=stdin.encode(),
        stderr=subprocess.PIPE,
        env=env,
        timeout=60,
        preexec_fn=lambda: os.close(1),  # as `>&-` leaves it
    )


@POSIX_ONLY
def test_a_closed_stdout_refuses_a_run_and_sends_nothing(env, emulator):
    ids = emulator.store.seed(20, prefix="chatcmpl-closed-")
    result = _closed_stdout(["Set-ChatCompletion", "-MetaData", "@{a='1'}"], env, "\n".join(ids))
    err = result.stderr.decode()
    _clean(err)
    assert result.returncode == 2  # stopped before the first item
    [line] = err.splitlines()
    assert "standard output is closed" in line and "nothing was sent" in line, line
    assert emulator.requests == []


@POSIX_ONLY
@pytest.mark.parametrize(
    "argv",
    [
        ["chat:completions", "update", "--metadata", "{a: b}", "--completion-id", "chatcmpl-x"],
        ["chat:completions", "list"],
        ["chat:completions", "--help"],
    ],
    ids=lambda a: a[1],
)
def test_the_dialect_refuses_a_closed_stdout_and_sends_nothing(env, emulator, argv):
    result = _closed_stdout(argv, env)
    err = result.stderr.decode()
    _clean(err)
    assert result.returncode == 1
    assert err == "psopenai: cannot write the output (standard output is closed); nothing was sent.\n"
    assert emulator.requests == []


@POSIX_ONLY
def test_a_closed_stdout_leaves_the_emulator_serving(env):
    """The emulator's start line is a courtesy: it serves with stdout closed, as before."""
    child = subprocess.Popen(
        [*COMMAND, "emulator", "--port", "0"],
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=lambda: os.close(1),
    )
    try:
        time.sleep(0.5)
        assert child.poll() is None
    finally:
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=10)


# -- SIGTERM ---------------------------------------------------------------------------------------------


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.02)


@POSIX_ONLY
@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["Export-ChatCompletion", "{target}", "-IncludeMessages"],
            r"terminated: \d+ completions read, nothing saved \('.*x\.jsonl' was not written\)",
        ),
        (["chat:completions", "export", "--limit", "2", "-o", "{target}"], r"Terminated\."),
    ],
    ids=["powershell", "dialect"],
)
def test_sigterm_during_an_export_is_143_one_line_and_no_file(env, emulator, tmp_path, argv, line):
    emulator.store.seed(150, prefix="chatcmpl-term-")
    emulator.latency_ms = 10
    target = tmp_path / "x.jsonl"
    child = subprocess.Popen(
        [*COMMAND, *(a.format(target=target) for a in argv)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _wait_for(lambda: any(p.name.endswith(".partial") for p in tmp_path.iterdir()), "the staging file")
    # Two more pages: the export is in its page loop, well past the creation of its staging file.
    sent = len(emulator.requests)
    _wait_for(lambda: len(emulator.requests) >= sent + 2, "two more pages")
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=20)
    _clean(err.decode())
    assert child.returncode == 143
    lines = err.decode().splitlines()
    assert len(lines) == 1 and re.fullmatch(line, lines[0]), lines
    assert list(tmp_path.iterdir()) == []  # no destination, no staging file


# -- the first Ctrl-C says what it is doing ----------------------------------------------------------


NOTICE = "stopping: finishing 3 requests in flight; a second Ctrl-C quits now"


@POSIX_ONLY
@pytest.mark.parametrize("second", [False, True], ids=["once", "twice"])
def test_the_first_ctrl_c_says_what_it_finishes_and_how_to_quit_now(env, emulator, second):
    ids = emulator.store.seed(9, prefix="chatcmpl-say-")
    emulator.latency_ms = 2500  # three requests stay in flight well after the Ctrl-C
    typed: list[str] = []

    def keys(shown: str) -> bytes:
        if not typed and len(emulator.requests) >= 3:
            typed.append("first")
            return b"\x03"  # Ctrl-C as typed: the terminal echoes ^C and sends SIGINT
        if second and typed == ["first"] and "quits now" in shown:
            typed.append("second")
            return b"\x03"
        return b""

    status, shown = run_in_pty(
        ["Set-ChatCompletion", "-MetaData", "@{}", "-ThrottleLimit", "3", "--format", "json"],
        env,
        stdin="\n".join(ids) + "\n",
        keys=keys,
    )
    assert status == 130 and "Traceback" not in shown
    lines = [line for line in screen(shown) if line]
    # The notice is a clean line of its own (the echoed ^C erased), before any answer arrived.
    assert lines[0] == NOTICE, lines
    outputs = [line for line in lines if line.startswith("{")]
    if second:  # quit at once: the answers in flight are never waited for, nothing is summed up
        assert outputs == [] and not [line for line in lines if line.startswith("interrupted")], lines
        return
    assert len(outputs) == 3
    # The run lasted long enough to show progress: the last line also says how long it took.
    timed = r"interrupted: 3 done, 0 failed, 6 not sent in [\d.]+ s \([\d.]+/s\)"
    assert re.fullmatch(timed, lines[-1]), lines


def test_ctrl_c_while_the_front_end_loads_with_stderr_closed_is_130(monkeypatch):
    from psopenai_py import __main__ as entry
    from psopenai_py import openai_cli

    def interrupted(argv: object) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(openai_cli, "is_dialect", interrupted)
    monkeypatch.setattr(sys, "stderr", None)  # as `2>&-` leaves it
    assert entry.main(["Get-ChatCompletion"]) == 130


@needs_dev_full
@pytest.mark.parametrize("how", ["full", "closed"])
def test_a_listing_stops_fetching_pages_when_its_output_fails(env, emulator, how):
    emulator.store.seed(40, prefix="chatcmpl-list-")
    argv = [*COMMAND, "Get-ChatCompletion", "-All", "-Limit", "2"]
    if how == "full":
        with open("/dev/full", "wb") as full:
            result = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, env=env, timeout=60)
        status, err = result.returncode, result.stderr.decode()
    else:  # `| head -1`
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert child.stdout is not None and child.stderr is not None
        child.stdout.readline()
        child.stdout.close()
        err = child.stderr.read().decode()
        status = child.wait(30)
    _clean(err)
    assert status == 1
    # The list was not read to its end: it is not "done", and the line says so.
    assert re.search(
        r": 0 done, 0 failed, 1 list cut short after \d+ results? \(later pages not read\), 0 not sent\n$",
        err,
    ), err
    # Twenty pages to list; the run stopped within a page or two of the failed write.
    assert len(emulator.requests) <= 3
