"""The pacer: reading the rate-limit headers, the budget's decisions on a given clock, the line
of waiting attempts with a fake clock, and whole bulk runs played out on a simulated clock."""

from __future__ import annotations

import itertools
import logging
import math
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psopenai_py import cancel
from psopenai_py.errors import RunStoppedError
from psopenai_py.transport.budget import (
    CUT,
    GROWTH,
    GROWTH_PER_ANSWER,
    HINT_SHARE,
    SAFETY,
    Budget,
    Limit,
    Report,
    parse_duration,
    read_report,
    server_delay,
)
from psopenai_py.transport.pacing import Pacer, SleptClock

from .pacing_model import simulate

ORIGIN = "http://127.0.0.1:80"
KEY = (ORIGIN, "digest-one")


def ratelimit_headers(limit: int, remaining: int, reset: str, dimension: str = "requests") -> dict[str, str]:
    return {
        f"x-ratelimit-limit-{dimension}": str(limit),
        f"x-ratelimit-remaining-{dimension}": str(remaining),
        f"x-ratelimit-reset-{dimension}": reset,
    }


# -- reading the headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0s", 0.0),
        ("12ms", 0.012),
        ("120ms", 0.12),
        ("1s", 1.0),
        ("45.19s", 45.19),
        ("6m0s", 360.0),
        ("1m26.4s", 86.4),
        ("23h47m36.648s", 85656.648),
        ("1.5µs", 1.5e-6),
        ("250us", 0.00025),
        ("7", 7.0),  # plain seconds, as some servers send
        (" 2s ", 2.0),
        ("", None),
        ("soon", None),
        ("1x", None),
        ("1s2", None),
        ("-1s", None),
        ("-3", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_durations_in_the_apis_format(text, seconds):
    result = parse_duration(text)
    assert result == (pytest.approx(seconds) if seconds is not None else None)


@given(
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=0, max_value=999),
)
def test_any_go_duration_reads_as_its_seconds(hours, minutes, seconds, millis):
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "")
    text += f"{seconds}.{millis:03d}s"
    assert parse_duration(text) == pytest.approx(hours * 3600 + minutes * 60 + seconds + millis / 1000)


@pytest.mark.parametrize(
    ("headers", "report"),
    [
        ({}, None),
        (
            ratelimit_headers(5000, 4999, "12ms"),
            Report(Limit(5000, 4999, 0.012), None),
        ),
        (
            {
                "X-RateLimit-Limit-Tokens": "150000",
                "X-RateLimit-Remaining-Tokens": "149984",
                "X-Ratelimit-Reset-Tokens": "6m0s",
            },
            Report(None, Limit(150000, 149984, 360.0)),
        ),
        (
            {**ratelimit_headers(60, 59, "1s"), **ratelimit_headers(1000, 10, "bad", "tokens")},
            Report(Limit(60, 59, 1.0), None),
        ),
        (ratelimit_headers(60, 61, "0s"), Report(Limit(60, 60, 0.0), None)),  # never more than the limit
        ({"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "5"}, None),  # no reset
        (ratelimit_headers(0, 0, "1s"), None),
        ({**ratelimit_headers(60, 5, "1s"), "x-ratelimit-limit-requests": "sixty"}, None),
        (ratelimit_headers(60, -1, "1s"), None),
    ],
)
def test_a_report_is_read_whole_or_not_at_all(headers, report):
    assert read_report(headers) == report


@pytest.mark.parametrize(
    ("limit", "rate", "capacity"),
    [
        (Limit(5000, 4999, 0.012), 5000 / 60, 5000.0),  # the API: a minute's bucket
        (Limit(6000, 199, 0.01), 100.0, 200.0),  # the emulator with a two-second burst
        (Limit(6000, 6000, 0.0), 100.0, 6000.0),  # nothing spent yet
        (Limit(1000, 0, 86400.0), 1000 / 86400, 1000.0),  # a daily budget refills more slowly
        (Limit(1, 0, 60.0), 1 / 60, 1.0),
    ],
)
def test_what_a_limit_says_of_rate_and_burst(limit, rate, capacity):
    assert limit.rate == pytest.approx(rate)
    assert limit.capacity == pytest.approx(capacity)


@pytest.mark.parametrize(
    ("headers", "delay"),
    [
        ({"retry-after-ms": "20"}, (0.02, True)),
        ({"Retry-After-Ms": "1500", "retry-after": "2"}, (1.5, True)),
        ({"retry-after": "46"}, (46.0, False)),
        ({"retry-after": "Wed, 21 Oct 2099 07:28:00 GMT"}, (None, False)),
        ({"retry-after-ms": "soon"}, (None, False)),
        ({"retry-after-ms": "0"}, (None, False)),
        ({}, (None, False)),
    ],
)
def test_the_wait_a_429_asks_for(headers, delay):
    assert server_delay(headers) == delay


# -- the budget's decisions, on a given clock ------------------------------------------------------


def answer(
    budget: Budget,
    now: float,
    status: int = 200,
    headers: dict[str, str] | None = None,
    started_at: float | None = None,
) -> list[Any]:
    headers = headers or {}
    delay = server_delay(headers) if status == 429 else (None, False)
    started = (
        started_at if started_at is not None else (budget.under_way[0] if budget.under_way else -math.inf)
    )
    return budget.learn(now, status, read_report(headers), delay, started)


def start(budget: Budget, now: float) -> float:
    """Start one attempt at ``now`` if the budget allows; the wait it asked for otherwise."""
    wait = budget.wait(now)
    if wait == 0:
        budget.start(now)
    return wait


def test_nothing_is_paced_before_the_server_says_anything():
    budget = Budget()
    assert [start(budget, 0.0) for _ in range(100)] == [0.0] * 100
    assert budget.rate is None and budget.pending == 100


def test_the_headers_set_the_pace_and_the_burst():
    budget = Budget()
    start(budget, 0.0)
    changes = answer(budget, 0.0, headers=ratelimit_headers(6000, 199, "10ms"))
    assert [c.kind for c in changes] == ["budget"]
    assert budget.rate == pytest.approx(100 * SAFETY)
    assert [start(budget, 0.0) for _ in range(199)] == [0.0] * 199  # the burst that remains
    assert start(budget, 0.0) == pytest.approx(1 / (100 * SAFETY))  # then the refill
    # Told once: the same budget again is no news.
    assert answer(budget, 0.001, headers=ratelimit_headers(6000, 0, "2s")) == []


def test_attempts_under_way_are_not_spent_twice_and_the_round_trip_refills():
    budget = Budget()
    for _ in range(3):
        start(budget, 0.0)
    # The first answer, 0.1 s after its start, reports 10 left: two attempts are still under way,
    # and 0.1 s of the rate (10 a second) has refilled since.
    answer(budget, 0.1, headers=ratelimit_headers(600, 10, "9s"), started_at=0.0)
    assert budget.requests is not None
    assert budget.requests.level == pytest.approx(10 + 0.1 * 10 - 2)


def test_a_report_a_little_higher_is_not_trusted_a_lower_or_much_higher_one_is():
    budget = Budget()
    start(budget, 0.0)
    answer(budget, 0.0, headers=ratelimit_headers(600, 5, "5s"), started_at=0.0)
    assert budget.requests is not None
    for level_said, kept in ((6, 5), (3, 3), (10, 10)):
        start(budget, 0.0)
        budget.requests.level += 1  # as if nothing was spent: only the report moves the count
        answer(budget, 0.0, headers=ratelimit_headers(600, level_said, "5s"), started_at=0.0)
        assert budget.requests.level == pytest.approx(kept)


def test_a_late_answer_of_an_earlier_attempt_is_not_followed():
    budget = Budget()
    start(budget, 0.0)
    start(budget, 0.5)
    answer(budget, 1.0, headers=ratelimit_headers(600, 2, "58s"), started_at=0.5)
    followed = 2 + 0.5 * 10 - 1  # the report, the refill since its attempt started, one under way
    answer(budget, 1.0, headers=ratelimit_headers(600, 50, "5s"), started_at=0.0)  # overtaken
    assert budget.requests is not None
    assert budget.requests.level == pytest.approx(followed)


def test_without_headers_the_first_429_cuts_to_what_the_server_lets_through():
    budget = Budget()
    for index in range(100):  # 100 answers in the first second
        start(budget, index * 0.01)
        answer(budget, index * 0.01, started_at=index * 0.01)
    start(budget, 0.995)
    changes = answer(budget, 1.0, 429, {"retry-after-ms": "8"}, started_at=0.995)
    assert [c.kind for c in changes] == ["slowed"]
    # The lowest estimate: one request per 8 ms at HINT_SHARE (112), what succeeded (100).
    assert budget.rate == pytest.approx(CUT * 100.0)
    assert budget.held_until == pytest.approx(1.008)


def test_429s_to_attempts_started_before_the_cut_cut_nothing_more():
    budget = Budget()
    for _ in range(10):
        start(budget, 0.0)
    answer(budget, 0.01, 429, {"retry-after-ms": "10"}, started_at=0.0)
    rate = budget.rate
    assert rate == pytest.approx(CUT * HINT_SHARE / 0.01)
    for _ in range(9):  # the rest of the first round
        assert answer(budget, 0.011, 429, {"retry-after-ms": "10"}, started_at=0.0) == []
    assert budget.rate == rate


def test_after_a_pause_the_attempts_leave_one_slot_apart():
    budget = Budget()
    start(budget, 0.0)
    answer(budget, 0.0, 429, {"retry-after-ms": "500"}, started_at=0.0)  # about 1 per 0.5 s
    rate = CUT * HINT_SHARE / 0.5
    assert budget.rate == pytest.approx(rate)
    now, starts = 0.0, []
    for _ in range(4):
        wait = budget.wait(now)
        now += wait
        assert budget.wait(now) == 0
        budget.start(now)
        starts.append(now)
    assert starts[0] == pytest.approx(0.5)  # the pause asked for
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx([1 / rate] * 3)


def test_a_429_the_headers_explain_holds_but_cuts_nothing():
    budget = Budget()
    start(budget, 0.0)
    answer(budget, 0.0, headers=ratelimit_headers(600, 3, "0.7s"), started_at=0.0)
    start(budget, 0.1)
    changes = answer(
        budget, 0.1, 429, {**ratelimit_headers(600, 0, "1s"), "retry-after-ms": "100"}, started_at=0.1
    )
    assert changes == [] and budget.ceiling is None
    assert budget.wait(0.1) == pytest.approx(0.1, abs=0.02)


def test_a_429_the_headers_do_not_explain_means_a_shorter_window_than_announced():
    budget = Budget()
    start(budget, 0.0)
    answer(budget, 0.0, headers=ratelimit_headers(6000, 5000, "9s"), started_at=0.0)
    start(budget, 0.1)
    changes = answer(
        budget, 0.1, 429, {**ratelimit_headers(6000, 4990, "9s"), "retry-after-ms": "20"}, started_at=0.1
    )
    assert [c.kind for c in changes] == ["slowed"]
    assert budget.requests is not None
    assert budget.requests.capacity <= max(1.0, budget.requests.rate)  # no more than a second at once


def test_the_pace_grows_slowly_and_only_while_it_holds_work_back():
    budget = Budget()
    start(budget, 0.0)
    answer(budget, 0.0, 429, {"retry-after-ms": "100"}, started_at=0.0)
    rate = budget.rate
    assert rate is not None
    # Nobody waits for the pace: answers come and the pace stays.
    for second in range(1, 4):
        answer(budget, float(second), started_at=float(second) - 0.5)
    assert budget.rate == pytest.approx(rate)
    # Work waits for the pace: it grows by GROWTH a second, GROWTH_PER_ANSWER an answer at most.
    now = 10.0
    for _ in range(10):
        assert budget.wait(now) >= 0
        budget.last_wait = now
        answer(budget, now + 0.5, started_at=now)
        now += 0.5
    assert budget.rate == pytest.approx(rate * (1 + min(GROWTH * 0.5, GROWTH_PER_ANSWER)) ** 10)
    for _ in range(10):  # faster answers: by the second
        budget.last_wait = now
        answer(budget, now + 0.01, started_at=now)
        now += 0.01
    assert budget.rate == pytest.approx(
        rate * (1 + min(GROWTH * 0.5, GROWTH_PER_ANSWER)) ** 10 * (1 + GROWTH * 0.01) ** 10
    )


def test_the_token_cost_is_learned_from_the_servers_counts_and_paces_starts():
    budget = Budget()
    remaining = 50_000.0  # of 60,000 a minute: 1,000 a second
    for index in range(6):  # one create every 0.1 s, each taking 500 tokens
        now = index * 0.1
        start(budget, now)
        remaining = min(60_000.0, remaining + (100.0 if index else 0.0)) - 500
        reset = f"{(60_000 - remaining) / 1000:.3f}s"
        answer(
            budget, now, headers=ratelimit_headers(60_000, int(remaining), reset, "tokens"), started_at=now
        )
    assert budget.tokens is not None
    assert budget.tokens.cost == pytest.approx(500, rel=0.01)
    level = budget.tokens.bucket.level
    assert level == pytest.approx(remaining, rel=0.001)  # the local count, refilled a little under
    waits = [start(budget, 0.5) for _ in range(120)]
    assert waits.count(0.0) == int(level // 500)  # as many as the tokens pay for, then a wait
    assert waits[-1] == pytest.approx((500 - level % 500) / (1000 * SAFETY), rel=0.01)


def test_updates_cost_no_tokens():
    budget = Budget()
    for index in range(5):
        start(budget, index * 0.1)
        answer(
            budget, index * 0.1, headers=ratelimit_headers(6000, 6000, "0s", "tokens"), started_at=index * 0.1
        )
    assert budget.tokens is not None and budget.tokens.cost == 0
    assert [start(budget, 1.0) for _ in range(50)] == [0.0] * 50


# -- whole runs on a simulated clock ---------------------------------------------------------------


@pytest.mark.parametrize("latency", [0.002, 0.05, 0.3])
@pytest.mark.parametrize("headers", [True, False])
def test_the_benchmark_run_on_a_simulated_clock(headers, latency):
    # 2,000 updates, 100 a second with two seconds of burst, 32 workers.
    run = simulate(count=2000, per_second=100, burst_seconds=2, workers=32, latency=latency, headers=headers)
    assert run.failed == 0
    assert run.seconds <= (1.1 if headers else 1.3) * run.ideal
    assert run.share <= (0.01 if headers else 0.05)


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(min_value=200, max_value=1500),
    per_second=st.floats(min_value=3, max_value=400),
    burst_seconds=st.floats(min_value=0.1, max_value=4),
    workers=st.integers(min_value=1, max_value=64),
    latency=st.sampled_from([0.001, 0.01, 0.05, 0.2]),
)
def test_with_headers_a_run_stays_under_the_budget(count, per_second, burst_seconds, workers, latency):
    # Before the first answer nothing is known: the burst must hold the first ThrottleLimit.
    burst_seconds = max(burst_seconds, (workers + 1) / per_second)
    run = simulate(
        count=count,
        per_second=per_second,
        burst_seconds=burst_seconds,
        workers=workers,
        latency=latency,
        headers=True,
    )
    assert run.failed == 0
    assert run.limited <= 0.01 * run.answers
    assert run.seconds <= 1.1 * run.ideal + 2 * latency + 2 / per_second


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(min_value=200, max_value=1500),
    per_second=st.floats(min_value=3, max_value=400),
    burst_seconds=st.floats(min_value=0.1, max_value=4),
    workers=st.integers(min_value=1, max_value=64),
    latency=st.sampled_from([0.001, 0.01, 0.05, 0.2]),
)
def test_without_headers_a_run_learns_the_rate_from_429s(count, per_second, burst_seconds, workers, latency):
    run = simulate(
        count=count,
        per_second=per_second,
        burst_seconds=burst_seconds,
        workers=workers,
        latency=latency,
        headers=False,
    )
    assert run.failed == 0
    # The first rounds meet the limit unwarned (one 429 per worker each, a few rounds while the
    # cuts find the rate: three refusals halve the pace); after that, few.
    assert run.limited <= 5 * workers + 10 + 0.05 * run.answers
    assert run.seconds <= 1.3 * run.ideal + 2 * latency + 2.0


# -- the pacer: the line, the waits and what it tells ----------------------------------------------


class FakeTime:
    """A monotonic clock that only moves by what is slept (no real time passes)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.clock = SleptClock(self.sleeps.append, monotonic=lambda: 1000.0)

    def pacer(self) -> Pacer:
        return Pacer(self.clock.sleep, self.clock.monotonic)

    @property
    def now(self) -> float:
        return self.clock.monotonic()


def test_the_pacer_waits_exactly_what_the_budget_says():
    time = FakeTime()
    pacer = time.pacer()
    pacer.wait_turn(KEY, retry=False)
    pacer.answered(KEY, 200, ratelimit_headers(60, 0, "1s"))
    assert time.sleeps == []
    pacer.wait_turn(KEY, retry=False)
    assert time.sleeps == [pytest.approx(1 / SAFETY)]  # one request a second, a little under


def test_waiting_attempts_leave_one_slot_apart_after_a_pause():
    time = FakeTime()
    pacer = time.pacer()
    pacer.wait_turn(KEY, retry=False)
    pacer.answered(KEY, 429, {"retry-after-ms": "400"})
    rate = CUT * HINT_SHARE / 0.4
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        pacer.wait_turn(KEY, retry=False)
        with lock:
            starts.append(time.now)
        pacer.answered(KEY, 200, {})

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    starts.sort()
    assert starts[0] == pytest.approx(1000.4)  # the pause, then one at a time at the pace
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx([1 / rate] * 3, rel=0.05)


def test_other_origins_and_keys_are_not_held():
    time = FakeTime()
    pacer = time.pacer()
    pacer.wait_turn(KEY, retry=False)
    pacer.answered(KEY, 429, {"retry-after-ms": "30000"})
    for other in ((ORIGIN, "digest-two"), ("http://other:80", "digest-one")):
        pacer.wait_turn(other, retry=False)
        pacer.answered(other, 200, {})
    assert time.sleeps == []
    pacer.wait_turn(KEY, retry=False)
    assert time.sleeps and time.sleeps[0] >= 30.0


@pytest.mark.parametrize("retry", [False, True])
def test_a_stopped_run_ends_the_wait_and_says_whether_it_was_sent(retry):
    time = FakeTime()
    pacer = time.pacer()
    pacer.wait_turn(KEY, retry=False)
    pacer.answered(KEY, 200, ratelimit_headers(60, 0, "1s"))
    stop = threading.Event()
    stop.set()
    with cancel.scope(stop), pytest.raises(RunStoppedError) as raised:
        pacer.wait_turn(KEY, retry=retry)
    assert raised.value.sent is retry
    budget = pacer.budget(KEY)
    assert budget is not None and budget.pending == 0
    pacer.wait_turn(KEY, retry=False)  # the line is free again


def test_a_stop_reaches_an_attempt_waiting_in_line():
    release = threading.Event()
    held = SleptClock(lambda seconds: release.wait(5), monotonic=lambda: 0.0)
    pacer = Pacer(held.sleep, held.monotonic)  # the first in line is held until released
    pacer.wait_turn(KEY, retry=False)
    pacer.answered(KEY, 200, ratelimit_headers(60, 0, "1s"))
    first = threading.Thread(target=pacer.wait_turn, args=(KEY,), kwargs={"retry": False})
    first.start()
    stop = threading.Event()
    outcome: list[RunStoppedError] = []

    def second() -> None:
        with cancel.scope(stop):
            try:
                pacer.wait_turn(KEY, retry=False)
            except RunStoppedError as error:
                outcome.append(error)

    waiter = threading.Thread(target=second)
    waiter.start()
    stop.set()
    waiter.join(2)
    release.set()
    first.join(5)
    assert not waiter.is_alive() and len(outcome) == 1 and outcome[0].sent is False


def test_an_attempt_without_an_answer_is_no_longer_under_way():
    pacer = FakeTime().pacer()
    pacer.wait_turn(KEY, retry=False)
    pacer.unanswered(KEY)
    pacer.wait_turn(KEY, retry=False)
    pacer.wait_turn(KEY, retry=False)  # the last one was never told: it is let go
    budget = pacer.budget(KEY)
    assert budget is not None and budget.pending == 1


def test_what_the_pacer_learns_is_told_once_per_change(caplog):
    pacer = FakeTime().pacer()
    with caplog.at_level(logging.INFO, logger="psopenai_py"):
        for _ in range(20):
            pacer.wait_turn(KEY, retry=False)
            pacer.answered(KEY, 200, ratelimit_headers(6000, 5000, "9s"))
        pacer.wait_turn(KEY, retry=False)
        pacer.answered(KEY, 200, ratelimit_headers(3000, 2000, "9s"))
        other = ("http://127.0.0.1:81", "digest")
        for _ in range(5):
            pacer.wait_turn(other, retry=False)
        for _ in range(5):
            pacer.answered(other, 429, {"retry-after-ms": "10"})
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert lines == [
        f"Rate limit of {ORIGIN}: 6000 requests a minute, 5000 left; starting at most 98 requests a second.",
        f"Rate limit of {ORIGIN}: 3000 requests a minute, 2000 left; starting at most 49 requests a second.",
        "Rate limited by http://127.0.0.1:81 (429) (it announces no rate limit in its headers): slowing to "
        f"{CUT * HINT_SHARE / 0.01:.0f} requests a second, then speeding up by 2 % a second while no 429 "
        "comes.",
    ]
