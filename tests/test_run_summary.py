"""The summary line a bulk run on a terminal ends with, and where progress is not written: what it
counts (done, failed, not sent, how long, how fast, the 429s met, retried or not), who writes
it when a run is stopped, and that a pipe, a file or a switched-off run gets nothing of it unless
asked."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading

import pytest

import psopenai_py
from psopenai_py import meter
from psopenai_py.commands import find_unit
from psopenai_py.emulator import Emulator, quota_fault, rate_limit_fault
from psopenai_py.errors import APIRequestException
from psopenai_py.powershell import progress
from psopenai_py.powershell.binding import bind
from psopenai_py.powershell.host import Host
from psopenai_py.powershell.pipeline import execute
from tests.screen import screen
from tests.watched_run import PROGRESS, SUMMARY

KEY = "sk-summary-000000000000000000000000"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def context(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=KEY)
    monkeypatch.setenv("PSOPENAI_PROGRESS_DELAY", "0")
    monkeypatch.delenv("PSOPENAI_PROGRESS", raising=False)


def _run(
    items: list[str], stream: io.StringIO, *params: tuple[str, object], host: Host | None = None
) -> Host:
    runner = find_unit("Set-ChatCompletion")
    host = host or Host(stream)
    bound = bind(runner.table, [("MetaData", {}), *params], pipeline=items)
    list(execute(runner, bound, host))
    return host


def _last_line(stream: io.StringIO) -> str:
    return [line for line in screen(stream.getvalue()) if line.strip()][-1]


def test_a_run_on_a_terminal_ends_with_one_summary_line(emulator, transport):
    ids = emulator.store.seed(5, prefix="chatcmpl-sum-")
    stream = Tty()
    _run([*ids[:2], "chatcmpl-missing", *ids[2:]], stream, ("ThrottleLimit", 2))
    lines = [line for line in screen(stream.getvalue()) if line.strip()]
    assert lines[0].startswith("Set-ChatCompletion: [chatcmpl-missing] ")
    assert len(lines) == 2
    summary = SUMMARY.match(lines[1])
    assert summary, lines
    assert (summary["word"], summary["done"], summary["failed"], summary["not_sent"]) == (
        "Set-ChatCompletion",
        "5",
        "1",
        "0",
    )
    assert float(summary["rate"]) > 0 and summary["limited"] is None


@pytest.mark.parametrize(
    ("faults", "words", "failed"),
    [
        ([rate_limit_fault(retry_after_ms="10")], "1 answer was 429 (rate limited)", 0),
        # Two retried, then one that is not (a spent quota): each answer met is counted.
        (
            [rate_limit_fault(retry_after_ms="10"), rate_limit_fault(retry_after_ms="10"), quota_fault()],
            "3 answers were 429 (rate limited)",
            1,
        ),
    ],
    ids=["one", "retried-and-not"],
)
def test_the_summary_counts_the_429_answers_met(emulator, transport, faults, words, failed):
    ids = emulator.store.seed(4, prefix="chatcmpl-limit-")
    emulator.inject(*faults)
    stream = Tty()
    _run(ids, stream, ("MaxRetryCount", 2))
    summary = _last_line(stream)
    assert summary.endswith(f"; {words}"), summary
    assert SUMMARY.match(summary)["failed"] == str(failed)  # type: ignore[index]


def test_a_stopped_run_leaves_its_last_line_to_its_caller_who_sums_it_up_the_same(emulator, transport):
    ids = emulator.store.seed(6, prefix="chatcmpl-halt-")
    emulator.inject(rate_limit_fault(retry_after_ms="10"))
    stream = Tty()
    host = Host(stream)
    with pytest.raises(APIRequestException):
        _run(
            [*ids[:3], "chatcmpl-missing", *ids[3:]],
            stream,
            ("ErrorAction", "Stop"),
            ("MaxRetryCount", 1),
            host=host,
        )
    assert not [line for line in screen(stream.getvalue()) if SUMMARY.match(line)]
    assert not [line for line in screen(stream.getvalue()) if PROGRESS.search(line)]
    summary = SUMMARY.match(f"stopped: {host.summary()}")
    assert summary, host.summary()
    assert (summary["done"], summary["failed"], summary["not_sent"], summary["limited"]) == (
        "3",
        "1",
        "3",
        "1",
    )


def test_a_run_shorter_than_the_delay_shows_nothing_and_sums_up_nothing(emulator, transport, monkeypatch):
    monkeypatch.setenv("PSOPENAI_PROGRESS_DELAY", "30")
    ids = emulator.store.seed(3, prefix="chatcmpl-short-")
    stream = Tty()
    host = _run(ids, stream)
    assert stream.getvalue() == ""
    assert host.summary() == "3 done, 0 failed, 0 not sent"  # no timing for a run that showed none


def test_a_single_item_has_no_progress_and_no_summary(emulator, transport):
    [ident] = emulator.store.seed(1, prefix="chatcmpl-one-")
    stream = Tty()
    _run([ident], stream)
    assert stream.getvalue() == ""


@pytest.mark.parametrize("switch", ["SilentlyContinue", "Ignore", "environment"])
def test_progress_switched_off_takes_the_summary_with_it(emulator, transport, monkeypatch, switch):
    ids = emulator.store.seed(4, prefix="chatcmpl-off-")
    stream = Tty()
    if switch == "environment":
        monkeypatch.setenv("PSOPENAI_PROGRESS", "0")
        _run(ids, stream)
    else:
        _run(ids, stream, ("ProgressAction", switch))
    assert stream.getvalue() == ""


def test_a_stream_that_is_not_a_terminal_gets_lines_only(emulator, transport):
    ids = emulator.store.seed(6, prefix="chatcmpl-plain-")
    emulator.inject(rate_limit_fault(retry_after_ms="10"))
    stream = io.StringIO()
    _run([*ids, "chatcmpl-missing"], stream, ("MaxRetryCount", 1), ("ThrottleLimit", 3))
    text = stream.getvalue()
    assert "\r" not in text and "\x1b" not in text
    assert not PROGRESS.search(text) and " not sent" not in text
    assert [line.split(" ", 1)[0] for line in text.splitlines()] == [
        "WARNING:",
        "WARNING:",
        "Set-ChatCompletion:",
    ]


def test_progress_on_a_log_when_asked(emulator, transport, monkeypatch):
    monkeypatch.setenv("PSOPENAI_PROGRESS", "1")
    monkeypatch.setattr(progress, "PLAIN_INTERVAL", 0.05)
    ids = emulator.store.seed(12, prefix="chatcmpl-log-")
    emulator.latency_ms = 30
    stream = io.StringIO()
    _run(ids, stream)
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()
    # Whole lines, one every so often, then the summary.
    assert len(lines) >= 3 and all(PROGRESS.search(line) for line in lines[:-1]), lines
    assert all(line.startswith("Set-ChatCompletion: ") and "/12 (" in line for line in lines[:-1])
    assert SUMMARY.match(lines[-1]) and lines[-1].startswith("Set-ChatCompletion: 12 done, ")


def test_the_command_line_writes_nothing_of_it_to_a_pipe(emulator):
    ids = emulator.store.seed(20, prefix="chatcmpl-pipe-")
    emulator.latency_ms = 10
    env = {
        **os.environ,
        "OPENAI_API_BASE": emulator.url,
        "OPENAI_API_KEY": KEY,
        "PYTHONPATH": os.getcwd(),
        "PSOPENAI_PROGRESS_DELAY": "0",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "psopenai_py",
            "Set-ChatCompletion",
            "-MetaData",
            "@{}",
            "-ThrottleLimit",
            "4",
        ],
        input="\n".join([*ids[:10], "chatcmpl-missing", *ids[10:]]).encode(),
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        "Set-ChatCompletion: [chatcmpl-missing] OpenAI API returned an 404 (Not Found) Error: No chat "
        "completion found with id 'chatcmpl-missing'."
    ]
    assert len(result.stdout.decode().splitlines()) == 20 and b"\r" not in result.stdout


# -- the meter the transport counts on ------------------------------------------------------------


def test_the_meter_counts_429s_of_its_own_run_only():
    mine, theirs = meter.Meter(), meter.Meter()
    meter.answered(429)  # outside any run: counted nowhere
    with meter.scope(mine):
        for status in (200, 429, 500, 429, 404):
            meter.answered(status)
        with meter.scope(theirs):
            meter.answered(429)
        meter.answered(429)
    meter.answered(429)
    assert (mine.rate_limited, theirs.rate_limited) == (3, 1)
    assert meter.current() is None


def test_the_meter_counts_from_every_worker_at_once():
    import contextvars

    counted = meter.Meter()
    with meter.scope(counted):
        contexts = [contextvars.copy_context() for _ in range(8)]

    def answer_many(context: contextvars.Context) -> None:
        for _ in range(2000):
            context.run(meter.answered, 429)

    workers = [threading.Thread(target=answer_many, args=(context,)) for context in contexts]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert counted.rate_limited == 8 * 2000
