"""The pacer against a server whose rate-limit headers and 429 delays lie: however absurd the
``retry-after`` or the ``x-ratelimit-*`` claims, no start waits without bound.

Each bulk run goes through a transport with an injected sleep (the pacer's clock moves by what is
slept), so a wait the pacer would take shows as slept seconds, not as real time: a run that would
stall for hours ends at once here and its slept total says so.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from psopenai_py.compat import Set_ChatCompletion
from psopenai_py.transport import Transport, set_default_transport
from psopenai_py.transport.budget import Budget, read_report, server_delay

from .hostile_server import HostileServer, Reply, Seen, completion

KEY = "sk-proj-HOSTILEkeyPacingHeaders0123456789abcdefgh"
IDS = [f"chatcmpl-pace{index}" for index in range(6)]


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


class Slept:
    """The injected sleep: adds up what the run would have waited."""

    def __init__(self) -> None:
        self.total = 0.0

    def __call__(self, seconds: float) -> None:
        self.total += max(0.0, seconds)


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
