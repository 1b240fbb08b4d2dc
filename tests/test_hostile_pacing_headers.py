"""The pacer against a server whose rate-limit headers and 429 delays lie: however absurd the
``retry-after`` or the ``x-ratelimit-*`` claims, no start waits without bound.

Each bulk run goes through a transport with an injected sleep (the pacer's clock moves by what is
slept), so a wait the pacer would take shows as slept seconds, not as real time: a run that would
stall for hours ends at once here and its slept total says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from psopenai_py.compat import Set_ChatCompletion
from psopenai_py.transport import Transport, set_default_transport
from psopenai_py.transport.budget import TEST_AFTER, Budget, read_report, server_delay

from .hostile_server import HostileServer, Reply, Seen, completion

KEY = "sk-proj-HOSTILEkeyPacingHeaders0123456789abcdefgh"
IDS = [f"chatcmpl-pace{index}" for index in range(6)]


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


class Slept:
    """The injected sleep: adds up what the run would have waited.  It passes a few real
    milliseconds per call, so a wait polled in steps (for an answer under way) sees the answer
    come after a few steps, as it would in real time."""

    def __init__(self) -> None:
        self.total = 0.0

    def __call__(self, seconds: float) -> None:
        self.total += max(0.0, seconds)
        time.sleep(min(max(0.0, seconds), 0.005))


@pytest.fixture
def slept() -> Iterator[Slept]:
    clock = Slept()
    fresh = Transport(sleep=clock, random=lambda: 0.5)
    old = set_default_transport(fresh)
    yield clock
    fresh.close()
    set_default_transport(old)


def bulk(server: HostileServer, *, retries: int = 1) -> tuple[list[str], list[str]]:
    """A bulk Set-ChatCompletion of IDS: the ids output and the ids of the errors, in order."""
    errors: list[BaseException] = []
    outputs = Set_ChatCompletion(
        IDS,
        MetaData={"k": "v"},
        ThrottleLimit=3,
        MaxRetryCount=retries,
        TimeoutSec=5,
        ApiKey=KEY,
        ApiBase=server.base_url,
        ErrorVariable=errors,
        ErrorAction="SilentlyContinue",
    )
    # PowerShell's way: no output at all is $null, one output is the object itself.
    done = [o.id for o in (outputs if isinstance(outputs, list) else [] if outputs is None else [outputs])]
    failed = [str(getattr(e, "TargetObject", None)) for e in errors]
    assert sorted(done + failed) == sorted(IDS) and len(done + failed) == len(IDS)
    return done, failed


def answer(headers: dict[str, str]) -> object:
    def script(seen: Seen) -> Reply:
        return Reply(200, completion(seen.path.rsplit("/", 1)[-1]), headers=headers)

    return script


# -- retry-after that no retry policy honours ---------------------------------------------------


@pytest.mark.parametrize("header", ["retry-after", "retry-after-ms"])
@pytest.mark.parametrize("value", ["99999999", "99999999999", "1e300", "4000000000"])
def test_a_429_asking_an_absurd_wait_holds_no_start_for_it(server, slept, header, value):
    """PSOpenAI's retry backs off when the asked delay is over 60 s, the SDK's stops over 120 s:
    a pause the pacer took for the whole ask would hold every start of the run for years."""
    server.reset()
    server.script = lambda seen: Reply(429, {"error": {"message": "slow down"}}, headers={header: value})
    done, failed = bulk(server)
    assert done == [] and failed == IDS
    assert slept.total < 600  # a few backoffs per item, never the asked years


@pytest.mark.parametrize("value", ["99999999", "1e300", "121"])
def test_server_delay_reads_no_pause_past_what_a_retry_waits(value):
    assert server_delay({"retry-after": value}) == (None, False)


@pytest.mark.parametrize(("value", "seconds"), [("120", 120.0), ("1", 1.0), ("0.5", 0.5)])
def test_server_delay_keeps_a_pause_a_retry_waits(value, seconds):
    assert server_delay({"retry-after": value})[0] == seconds


def test_a_budget_told_an_absurd_pause_waits_no_longer_than_a_retry_would():
    budget = Budget()
    budget.start(0.0)
    budget.learn(0.1, 429, None, server_delay({"retry-after-ms": "1e15"}), started_at=0.0)
    assert budget.wait(0.1) <= 120.0


# -- x-ratelimit-* headers that lie ---------------------------------------------------------------

LIES = {
    "nothing left, whole again in a nanosecond": {
        "x-ratelimit-limit-requests": "1",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1ns",
    },
    "nothing left, whole again now": {
        "x-ratelimit-limit-requests": "1",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "0s",
    },
    "more left than the limit": {
        "x-ratelimit-limit-requests": "1",
        "x-ratelimit-remaining-requests": "999999",
        "x-ratelimit-reset-requests": "1ms",
    },
    "nothing left for eleven thousand years": {
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "99999999h",
    },
    "nothing left for 1e308 seconds": {
        "x-ratelimit-limit-requests": "100",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1e308",
    },
    "no tokens left for ages": {
        "x-ratelimit-limit-tokens": "1",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "9999999999999m",
    },
}


@pytest.mark.parametrize("headers", list(LIES.values()), ids=list(LIES))
def test_headers_a_success_disproves_never_pin_a_run(server, slept, headers):
    """Every answer is a 200 whose headers say nothing is left: the successes disprove them.
    Before, such a run went at one request a minute (or one in 100 s) for ever."""
    server.reset()
    server.script = answer(headers)
    done, failed = bulk(server)
    assert done == IDS and failed == []
    # One test of the claim after 20 s, then the looks (a second each) while its answer comes: a
    # minute at most here, where each look passes only 5 ms of real time and a loaded machine
    # shows more of them.  Before, 6 items took 240 to 800 s.
    assert slept.total <= 60


@pytest.mark.parametrize("headers", list(LIES.values()), ids=list(LIES))
def test_no_claim_of_the_headers_alone_holds_a_start_past_the_test(headers):
    budget = Budget()
    budget.start(0.0)
    budget.learn(0.01, 200, read_report(headers), started_at=0.0)
    waited, now = 0.0, 0.01
    while (wait := budget.wait(now)) > 0:  # the pacer asks again after each wait
        waited += wait
        now += wait
    assert waited <= TEST_AFTER


def test_a_start_beyond_an_announced_budget_that_succeeds_ends_following_the_headers():
    budget = Budget()
    report = read_report(LIES["nothing left for eleven thousand years"])
    budget.start(0.0)
    budget.learn(0.1, 200, report, started_at=0.0)
    first = budget.wait(0.1)
    assert 0 < first <= 20.0  # the claim is tested after 20 s at most
    budget.start(0.1 + first)
    budget.learn(0.2 + first, 200, report, started_at=0.1 + first)
    assert budget.wait(0.2 + first) == 0.0  # the server let it through: the claim was false


def test_a_start_beyond_an_honest_budget_is_refused_and_the_budget_holds():
    budget = Budget()
    report = read_report(LIES["nothing left for eleven thousand years"])
    budget.start(0.0)
    budget.learn(0.1, 200, report, started_at=0.0)
    first = budget.wait(0.1)
    budget.start(0.1 + first)
    budget.learn(0.2 + first, 429, report, (None, False), started_at=0.1 + first)
    assert budget.wait(0.2 + first) > 0  # a 429 bore the claim out: it is still paced


# -- numbers too large for the pacer's arithmetic -------------------------------------------------

HUGE = "1" + "0" * 400


@pytest.mark.parametrize(
    "headers",
    [
        {
            "x-ratelimit-limit-requests": HUGE,
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "1s",
        },
        {
            "x-ratelimit-limit-requests": "10",
            "x-ratelimit-remaining-requests": HUGE,
            "x-ratelimit-reset-requests": "1s",
        },
        {
            "x-ratelimit-limit-tokens": HUGE,
            "x-ratelimit-remaining-tokens": HUGE,
            "x-ratelimit-reset-tokens": "1s",
        },
    ],
    ids=["limit", "remaining", "tokens"],
)
def test_a_count_too_large_for_a_float_fails_no_item(server, slept, headers):
    """Before, the pacer's arithmetic raised OverflowError after the answer: each update was made
    on the server and reported to the user as an unexpected failure."""
    server.reset()
    server.script = answer(headers)
    done, failed = bulk(server)
    assert done == IDS and failed == []


def test_a_count_too_large_for_a_float_is_no_report():
    assert (
        read_report(
            {
                "x-ratelimit-limit-requests": HUGE,
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "1s",
            }
        )
        is None
    )


@pytest.mark.parametrize("failure", [ZeroDivisionError, OverflowError, ValueError])
def test_arithmetic_the_pacer_cannot_do_fails_no_answered_request(server, slept, monkeypatch, failure):
    """Whatever the headers make of the pacer's arithmetic, an answer already received stands:
    the pacer learns nothing from it instead of failing the item."""

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise failure("the headers broke the arithmetic")

    monkeypatch.setattr(Budget, "learn", broken)
    server.reset()
    server.script = answer({})
    done, failed = bulk(server)
    assert done == IDS and failed == []
