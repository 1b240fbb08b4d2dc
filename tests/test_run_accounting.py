"""Every input item is accounted for exactly once, and the user sees a last line that says so,
however the run ends: a second Ctrl-C, items declined at -Confirm, a list cut short, a restore
stopped part-way, an export stopped or whose output went away.  Each run is a real process with
its standard error on a real pseudo-terminal, against the emulator on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import sys

import pytest

from psopenai_py.emulator import Emulator
from tests.terminal_run import Step, after_requests, run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

KEY = "sk-accounting-00000000000000000000000"

QUIT = re.compile(
    r"^quit: (?P<done>\d+) done, (?P<failed>\d+) failed, (?P<unknown>\d+) in flight "
    r"\(outcome unknown, possibly applied\), (?P<not_sent>\d+) not sent$"
)


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    return {
        **os.environ,
        "OPENAI_API_BASE": emulator.url,
        "OPENAI_API_KEY": KEY,
        "PYTHONPATH": os.getcwd(),
        "PSOPENAI_PROGRESS_DELAY": "0",
    }


def _ids(emulator: Emulator, tmp_path, count: int, prefix: str):
    ids = emulator.store.seed(count, prefix=prefix)
    path = tmp_path / "ids.txt"
    path.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    return ids, path


def test_a_second_ctrl_c_still_ends_with_a_line_that_accounts_for_every_item(env, emulator, tmp_path):
    ids, path = _ids(emulator, tmp_path, 200, "chatcmpl-quit-")
    emulator.latency_ms = 1500
    ran = run(
        ["Set-ChatCompletion", "-MetaData", "@{q='1'}", "-ThrottleLimit", "8"],
        env,
        stdin=path,
        stdout=tmp_path / "out.jsonl",
        steps=[Step(after_requests(emulator, 8), signals=[signal.SIGINT, signal.SIGINT], gap=0.2)],
    )
    assert ran.status == 130
    lines = ran.lines()
    quit_line = QUIT.match(lines[-1])
    assert quit_line, lines[-3:]
    counts = {k: int(v) for k, v in quit_line.groupdict().items()}
    assert sum(counts.values()) == len(ids), counts
    assert counts["unknown"] == 8, counts  # the requests the server had when the run quit
    # The line ends the terminal's last line: nothing is left open after it.
    assert ran.received.endswith("\n")


PROMPT = 'default is "Y"): '


def _after_prompts(count: int):
    return lambda received: received.count(PROMPT) >= count


def _answers(*typed: bytes) -> list[Step]:
    return [Step(_after_prompts(index + 1), typed=answer) for index, answer in enumerate(typed)]


SUMMARY = re.compile(r"^Set-ChatCompletion: (?P<tally>.*) in [\d.]+ \w+ \([\d.]+/s\)$")


@pytest.mark.parametrize(
    ("typed", "tally"),
    [
        ((b"n\r", b"y\r", b"n\r", b"y\r", b"y\r"), "3 done, 0 failed, 2 declined, 0 not sent"),
        ((b"y\r", b"l\r"), "1 done, 0 failed, 4 declined, 0 not sent"),  # No to All
    ],
)
def test_items_declined_at_confirm_are_counted_in_the_summary(env, emulator, tmp_path, typed, tally):
    _, path = _ids(emulator, tmp_path, 5, "chatcmpl-confirm-")
    ran = run(
        ["Set-ChatCompletion", "-MetaData", "@{c='2'}", "-Confirm"],
        env,
        stdin=path,
        stdout=tmp_path / "out.jsonl",
        steps=_answers(*typed),
    )
    assert ran.status == 0, ran.lines()[-3:]
    summary = SUMMARY.match(ran.lines()[-1])
    assert summary, ran.lines()[-3:]
    assert summary["tally"] == tally
    assert len({r.target for r in emulator.requests if r.method == "POST"}) == int(tally.split()[0])


def test_an_answer_ended_at_confirm_counts_the_declined_and_the_unsent(env, emulator, tmp_path):
    _, path = _ids(emulator, tmp_path, 5, "chatcmpl-confirm-")
    ran = run(
        ["Set-ChatCompletion", "-MetaData", "@{c='2'}", "-Confirm"],
        env,
        stdin=path,
        stdout=tmp_path / "out.jsonl",
        steps=_answers(b"n\r", b"y\r", b"y\r", b"\x04"),  # Ctrl-D at the fourth prompt
    )
    assert ran.status == 130, ran.lines()[-3:]
    last = ran.lines()[-1]
    assert last.startswith("interrupted: 2 done, 0 failed, 1 declined, 2 not sent"), last


def test_a_list_stopped_part_way_is_not_reported_done(env, emulator, tmp_path):
    emulator.store.seed(600, prefix="chatcmpl-list-")
    emulator.latency_ms = 100
    out = tmp_path / "list.jsonl"
    ran = run(
        ["Get-ChatCompletion", "-All", "-Limit", "20"],
        env,
        stdout=out,
        steps=[Step(after_requests(emulator, 3), signals=[signal.SIGINT])],
    )
    assert ran.status == 130
    written = len(out.read_bytes().splitlines())
    assert 0 < written < 600
    assert ran.lines()[-1] == (
        f"interrupted: 0 done, 0 failed, 1 list cut short after {written} results "
        "(later pages not read), 0 not sent"
    )


def _journaled_change(env, emulator, tmp_path, count: int):
    """``count`` completions changed by a journaled Set-ChatCompletion: the journal's path."""
    import subprocess

    _, path = _ids(emulator, tmp_path, count, "chatcmpl-restore-")
    journal = tmp_path / "change.jsonl"
    change = ["Set-ChatCompletion", "-MetaData", "@{j='2'}", "-ThrottleLimit", "8", "-Journal", str(journal)]
    with open(path, "rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "psopenai_py", *change],
            stdin=stdin,
            capture_output=True,
            env=env,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    return journal


RESTORE_SUMMARY = re.compile(r"^Restore-ChatCompletionMetadata: (?P<tally>.*) in [\d.]+ \w+ \([\d.]+/s\)$")


def test_a_restore_shows_its_progress_and_ends_with_its_summary(env, emulator, tmp_path):
    journal = _journaled_change(env, emulator, tmp_path, 40)
    emulator.latency_ms = 20
    ran = run(
        ["Restore-ChatCompletionMetadata", str(journal), "-ThrottleLimit", "4"],
        env,
        stdout=tmp_path / "restored.jsonl",
    )
    assert ran.status == 0, ran.lines()[-3:]
    assert "Restore-ChatCompletionMetadata: " in ran.received.split("\n")[0]  # the progress line
    # The journal is read before its first change is taken back: the line knows the total.
    assert re.search(r"Restore-ChatCompletionMetadata: \d+/40 \(", ran.received), ran.received[:300]
    summary = RESTORE_SUMMARY.match(ran.lines()[-1])
    assert summary, ran.lines()[-3:]
    assert summary["tally"] == "40 done, 0 failed, 0 not sent"


def test_an_interrupted_restore_counts_the_rest_of_the_journal_as_not_sent(env, emulator, tmp_path):
    journal = _journaled_change(env, emulator, tmp_path, 200)
    before = len(emulator.requests)
    emulator.latency_ms = 100
    ran = run(
        ["Restore-ChatCompletionMetadata", str(journal), "-ThrottleLimit", "4"],
        env,
        stdout=tmp_path / "restored.jsonl",
        steps=[Step(after_requests(emulator, before + 12), signals=[signal.SIGINT])],
    )
    assert ran.status == 130
    last = re.match(r"^interrupted: (\d+) done, (\d+) failed, (\d+) not sent in ", ran.lines()[-1])
    assert last, ran.lines()[-3:]
    done, failed, not_sent = map(int, last.groups())
    assert done + failed + not_sent == 200 and not_sent > 100, last.group(0)


def _export(env, *args: str, stdout=None, **kwargs):
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Export-ChatCompletion", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        timeout=60,
        **kwargs,
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_an_export_to_a_full_output_says_so_in_one_line(env, emulator):
    emulator.store.seed(250, prefix="chatcmpl-export-")
    with open("/dev/full", "wb") as full:
        done = _export(env, "-", "-Debug", stdout=full)
    err = done.stderr.decode()
    assert done.returncode == 1
    assert err.splitlines()[-1] == (
        "psopenai: the output could not be written (No space left on device): "
        "0 completions written; the rest were not exported"
    ), err[-500:]
    assert "Traceback" not in err and "unexpected" not in err


def test_an_export_to_an_output_closed_early_says_what_was_written(env, emulator):
    import subprocess

    emulator.store.seed(2000, prefix="chatcmpl-export-")
    child = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", "Export-ChatCompletion", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.readline()
    child.stdout.close()  # `| head -1`
    err = child.stderr.read().decode()
    assert child.wait(30) == 1
    last = re.fullmatch(
        r"psopenai: the output was closed: (\d+) completions written; the rest were not exported\n", err
    )
    assert last, err
    assert int(last.group(1)) < 2000


def test_an_export_shows_its_progress_and_its_receipt(env, emulator, tmp_path):
    emulator.store.seed(300, prefix="chatcmpl-export-")
    emulator.latency_ms = 30
    target = tmp_path / "all.jsonl"
    ran = run(["Export-ChatCompletion", str(target), "-IncludeMessages", "-ThrottleLimit", "4"], env)
    assert ran.status == 0, ran.lines()
    assert re.search(r"Export-ChatCompletion: \d+, [\d.]+/s, 0 errors", ran.received)
    # The progress line is gone: the receipt's lines are all that stays.
    assert ran.lines() == [f"Saved {target}", "Stored completions: 300", "All pages fetched."]


def test_an_interrupted_export_says_what_was_read_and_not_saved(env, emulator, tmp_path):
    emulator.store.seed(2000, prefix="chatcmpl-export-")
    emulator.latency_ms = 50
    target = tmp_path / "all.jsonl"
    ran = run(
        ["Export-ChatCompletion", str(target), "-IncludeMessages", "-ThrottleLimit", "4"],
        env,
        steps=[Step(after_requests(emulator, 120), signals=[signal.SIGINT])],
    )
    assert ran.status == 130
    assert re.search(r"Export-ChatCompletion: \d+, [\d.]+/s, 0 errors", ran.received)
    last = re.fullmatch(
        r"interrupted: (\d+) completions read, nothing saved \('(.*)' was not written\)", ran.lines()[-1]
    )
    assert last, ran.lines()[-3:]
    assert 0 < int(last.group(1)) < 2000 and last.group(2) == str(target)
    assert not target.exists()


def test_each_streamed_reply_ends_its_own_line(env, emulator):
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Request-ChatCompletion", "-Stream", "--format", "text"],
        input=b"first q\nsecond q\nthird q\n",
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().split("\n")
    assert lines[-1] == "" and len(lines) == 4, lines  # three replies, a line end after each
    assert lines[0] and lines[0] == lines[1] == lines[2]


def test_a_second_ctrl_c_counts_the_rest_of_piped_input(env, emulator, tmp_path):
    ids, path = _ids(emulator, tmp_path, 300, "chatcmpl-quit-")
    emulator.latency_ms = 1500
    ran = run(
        ["Set-ChatCompletion", "-MetaData", "@{q='1'}", "-ThrottleLimit", "4"],
        env,
        stdin_pipe=path.read_bytes(),
        stdout=tmp_path / "out.jsonl",
        steps=[Step(after_requests(emulator, 4), signals=[signal.SIGINT, signal.SIGINT], gap=0.2)],
    )
    assert ran.status == 130
    quit_line = QUIT.match(ran.lines()[-1])
    assert quit_line, ran.lines()[-3:]
    counts = {k: int(v) for k, v in quit_line.groupdict().items()}
    assert sum(counts.values()) == len(ids) and counts["unknown"] == 4, counts


def test_an_export_to_the_terminal_it_shows_progress_on_keeps_the_two_apart(env, emulator):
    emulator.store.seed(150, prefix="chatcmpl-export-")
    emulator.latency_ms = 20
    ran = run(
        ["Export-ChatCompletion", "-", "-IncludeMessages", "-ThrottleLimit", "4"],
        env,
        stdout_on_terminal=True,
        columns=4000,
    )
    assert ran.status == 0
    assert re.search(r"Export-ChatCompletion: \d+, [\d.]+/s, 0 errors", ran.received)
    lines = ran.lines()
    # Every completion on a line of its own, nothing of the progress line left among them.
    assert lines[-2:] == ["Stored completions: 150", "All pages fetched."]
    assert len(lines) == 152 and all(line.startswith('{"id":"chatcmpl-export-') for line in lines[:-2])


def test_a_second_ctrl_c_during_an_export_still_says_what_was_read(env, emulator, tmp_path):
    import time

    emulator.store.seed(500, prefix="chatcmpl-export-")
    emulator.latency_ms = 20
    target = tmp_path / "all.jsonl"
    slowed: list[float] = []

    def slow_down(_received: str) -> bool:
        # Past the first page: from now on each request takes seconds, so that the first Ctrl-C
        # has requests in flight to wait for.
        if len(emulator.requests) < 130:
            return False
        emulator.latency_ms = 3000
        slowed.append(time.monotonic())
        return True

    ran = run(
        ["Export-ChatCompletion", str(target), "-IncludeMessages", "-ThrottleLimit", "4"],
        env,
        steps=[
            Step(slow_down),
            Step(
                lambda _r: time.monotonic() > slowed[0] + 0.5, signals=[signal.SIGINT, signal.SIGINT], gap=0.3
            ),
        ],
    )
    assert ran.status == 130
    last = re.fullmatch(
        r"quit: (\d+) completions read, nothing saved \('(.*)' was not written\)", ran.lines()[-1]
    )
    assert last, ran.lines()[-3:]
    assert int(last.group(1)) == 100 and last.group(2) == str(target) and not target.exists()
