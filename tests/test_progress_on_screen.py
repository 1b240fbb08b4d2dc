"""The progress line as a person at the terminal sees it: a bulk run's standard error on a real
pseudo-terminal, everything it receives fed to a terminal model and the screen sampled through
the run.  The line is on screen nearly all of the run, whatever goes by, and one summary line
ends the run: after all of its input, after a Ctrl-C, with the 429s it met."""

from __future__ import annotations

import os
import re
import sys

import pytest

from psopenai_py.emulator import Emulator, rate_limit_fault
from tests.watched_run import PROGRESS, SUMMARY, watch

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

KEY = "sk-screen-0000000000000000000000000"
LATENCY_MS = 50
PER_WORKER = 40
"""Items per worker: ``PER_WORKER * LATENCY_MS`` is about how long a run lasts (two seconds)."""


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    return {
        **os.environ,
        "OPENAI_API_BASE": emulator.url,
        "OPENAI_API_KEY": KEY,
        "PYTHONPATH": os.getcwd(),
        # Shown from the start, so that the whole run can be held to it.
        "PSOPENAI_PROGRESS_DELAY": "0",
    }


def _ids_with_missing(emulator: Emulator, count: int, every: int) -> tuple[list[str], int]:
    """``count`` stored ids with an unknown one after every ``every``: (the input, how many
    unknown)."""
    stored = emulator.store.seed(count, prefix="chatcmpl-screen-")
    items: list[str] = []
    for index, ident in enumerate(stored):
        items.append(ident)
        if index % every == every - 1:
            items.append(f"chatcmpl-unknown-{index:06d}")
    return items, len(items) - count


@pytest.mark.parametrize("output", ["file", "terminal"])
def test_the_progress_line_stays_on_screen_and_the_summary_ends_the_run(env, emulator, tmp_path, output):
    throttle = 16
    items, unknown = _ids_with_missing(emulator, throttle * PER_WORKER, every=100)
    emulator.latency_ms = LATENCY_MS
    watched = watch(
        emulator, env, items, tmp_path, throttle=throttle, stdout_on_terminal=output == "terminal"
    )
    assert watched.status == 1, watched.lines()[-5:]  # the unknown ids failed
    visible = watched.visibility()
    assert visible >= 0.8, f"the progress line was on screen {visible:.0%} of the run"
    # The total is known (the ids come from a regular file) and shown with the time left.
    assert f"/{len(items)} (" in watched.received and " left" in watched.received
    lines = watched.lines()
    summary = SUMMARY.match(lines[-1])
    assert summary, lines[-3:]
    assert summary["word"] == "Set-ChatCompletion"
    assert (int(summary["done"]), int(summary["failed"]), int(summary["not_sent"])) == (
        throttle * PER_WORKER,
        unknown,
        0,
    )
    assert summary["limited"] is None  # no 429 was met, and none is mentioned
    # Nothing of the progress line stays behind: every other line is an error (or an output).
    errors = [line for line in lines[:-1] if not line.startswith("{") and not line.startswith('"')]
    assert not [line for line in errors if PROGRESS.search(line)]
    assert (
        len([line for line in errors if line.startswith("Set-ChatCompletion: [chatcmpl-unknown-")]) == unknown
    )


def test_a_stopped_run_ends_with_one_interrupted_line_that_sums_it_up(env, emulator, tmp_path):
    ids = emulator.store.seed(16 * PER_WORKER, prefix="chatcmpl-stop-")
    emulator.latency_ms = LATENCY_MS
    watched = watch(emulator, env, ids, tmp_path, throttle=16, interrupt_after=100)
    assert watched.status == 130
    lines = watched.lines()
    # The notice of what is being finished, then the progress line while they finish, then one
    # line that says what became of every item, how long it took and how fast it went.
    assert lines[0].startswith("stopping: finishing ") and lines[0].endswith("a second Ctrl-C quits now")
    assert "stopping: " in watched.received.split(lines[0], 1)[1]  # the line says it is stopping
    assert len(lines) == 2, lines
    summary = SUMMARY.match(lines[-1])
    assert summary and summary["word"] == "interrupted", lines
    done, failed, not_sent = int(summary["done"]), int(summary["failed"]), int(summary["not_sent"])
    assert done + failed + not_sent == len(ids) and not_sent > 0
    assert done + failed == len({r.target for r in emulator.requests})


def test_the_summary_counts_the_429s_and_retry_warnings_name_their_item(env, emulator, tmp_path):
    ids = emulator.store.seed(4 * PER_WORKER, prefix="chatcmpl-limited-")
    emulator.latency_ms = LATENCY_MS
    emulator.inject(*(rate_limit_fault(retry_after_ms="20") for _ in range(3)))
    watched = watch(emulator, env, ids, tmp_path, throttle=4, extra=["-MaxRetryCount", "3"])
    assert watched.status == 0
    lines = watched.lines()
    summary = SUMMARY.match(lines[-1])
    assert summary, lines[-3:]
    assert (summary["done"], summary["failed"], summary["limited"]) == (str(len(ids)), "0", "3")
    retries = [line for line in lines if "Retry the request" in line]
    assert len(retries) == 3, lines
    for line in retries:
        assert re.fullmatch(
            r"WARNING: \[chatcmpl-limited-\d{6}\] Retry the request after waiting 20 ms \(retry count: 0\)",
            line,
        ), line
    # Each warning names an item that was indeed sent twice.
    targets = [r.target.rsplit("/", 1)[1] for r in emulator.requests if r.method == "POST"]
    named = {re.search(r"\[(.*?)\]", line)[1] for line in retries}  # type: ignore[index]
    assert all(targets.count(ident) == 2 for ident in named)


def test_a_run_from_a_pipe_learns_its_total_when_the_input_ends(env, emulator, tmp_path):
    ids = [*emulator.store.seed(4 * 10, prefix="chatcmpl-piped-"), "chatcmpl-unknown-last"]
    emulator.latency_ms = LATENCY_MS
    watched = watch(emulator, env, ids, tmp_path, throttle=4, stdin_pipe=True)
    assert watched.status == 1
    drawn = re.findall(r"Set-ChatCompletion: \d+(/\d+)?(?: \(\d+%\))?, ", watched.received)
    # At first the input could not tell its size.  Once read to its end (the last items were
    # in flight), it could: the line drawn again after the last item's error line says so.
    assert drawn[0] == "" and drawn[-1] == f"/{len(ids)}", drawn
    assert SUMMARY.match(watched.lines()[-1])
