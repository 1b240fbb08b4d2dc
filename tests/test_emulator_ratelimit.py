"""The emulator's rate-limit mode: token buckets per key, the x-ratelimit-* headers in the API's
formats, 429 rate_limit_exceeded with retry-after-ms, and its options (Emulator, command line,
control API)."""

from __future__ import annotations

import math
import re
from email.message import Message
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from psopenai_py.emulator import Emulator, RateLimit
from psopenai_py.emulator.__main__ import _parser, _rate_limit, main
from psopenai_py.emulator.ratelimit import RateLimiter, duration_text, token_cost
from psopenai_py.transport.budget import parse_duration

KEY = "sk-ratelimit-test-000000000000000"
AUTH = {"Authorization": f"Bearer {KEY}"}


def headers_of(key: str | None = KEY) -> Message:
    message = Message()
    if key is not None:
        message["Authorization"] = f"Bearer {key}"
    return message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the API's duration format ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0s"),
        (0.0004, "1ms"),  # rounded up: waiting the time shown is always enough
        (0.012, "12ms"),
        (0.12, "120ms"),
        (1.0, "1s"),
        (45.19, "45.19s"),
        (51.189, "51.189s"),
        (86.4, "1m26.4s"),
        (360.0, "6m0s"),
        (3723.5, "1h2m3.5s"),
        (85656.648, "23h47m36.648s"),
    ],
)
def test_durations_are_written_as_the_api_writes_them(seconds, text):
    assert duration_text(seconds) == text


@given(st.integers(min_value=0, max_value=10**9))
def test_every_duration_written_reads_back_to_the_millisecond(millis):
    assert parse_duration(duration_text(millis / 1000)) == pytest.approx(millis / 1000, abs=1e-9)


# -- what a request costs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "cost"),
    [
        (
            "POST",
            "/v1/chat/completions",
            b'{"model":"m","messages":[{"role":"user","content":"12345678"}]}',
            2,
        ),
        (
            "POST",
            "/v1/chat/completions",
            b'{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":50}',
            50,
        ),
        (
            "POST",
            "/openai/v1/chat/completions",
            b'{"model":"m","max_completion_tokens":7,"messages":[{"content":[{"type":"text","text":"'
            + b"x" * 40
            + b'"}]}]}',
            10,
        ),
        ("POST", "/v1/chat/completions/chatcmpl-1", b'{"metadata":{"k":"v"}}', 0),  # an update
        ("GET", "/v1/chat/completions", b"", 0),
        ("DELETE", "/v1/chat/completions/chatcmpl-1", b"", 0),
        ("POST", "/v1/chat/completions", b"not json at all", 4),
    ],
)
def test_only_creating_a_completion_costs_tokens(method, path, body, cost):
    assert token_cost(method, path, body)[0] == cost


# -- the buckets, exactly --------------------------------------------------------------------------


def test_a_key_spends_its_burst_then_the_rate_and_a_refusal_takes_nothing():
    clock = Clock()
    limiter = RateLimiter(RateLimit(requests_per_minute=600, burst_seconds=0.3), clock=clock)  # 10/s, 3
    seen = []
    for _ in range(4):
        verdict = limiter.check(headers_of(), "GET", "/v1/chat/completions", b"")
        seen.append(
            (
                verdict.refusal[0] if verdict.refusal else 200,
                verdict.headers["x-ratelimit-remaining-requests"],
                verdict.headers["x-ratelimit-reset-requests"],
                verdict.headers.get("retry-after-ms"),
            )
        )
    assert seen == [
        (200, "2", "100ms", None),
        (200, "1", "200ms", None),
        (200, "0", "300ms", None),
        (429, "0", "300ms", "100"),
    ]
    assert all(limiter.check(headers_of(), "GET", "/x", b"").refusal for _ in range(3))  # still empty
    clock.now += 0.1  # one request refilled: the refusals took nothing
    assert limiter.check(headers_of(), "GET", "/x", b"").refusal is None
    assert limiter.check(headers_of("sk-another-key-000000000000000"), "GET", "/x", b"").refusal is None
    assert limiter.counts() == {"admitted": 5, "limited": 4}


def test_a_refusal_speaks_as_the_api():
    clock = Clock()
    limiter = RateLimiter(RateLimit(requests_per_minute=60, burst_seconds=1), clock=clock)
    limiter.check(headers_of(), "GET", "/v1/chat/completions", b"")
    clock.now += 0.25
    verdict = limiter.check(headers_of(), "GET", "/v1/chat/completions", b"")
    assert verdict.refusal is not None
    status, body = verdict.refusal
    assert status == 429
    assert body["error"]["type"] == "requests" and body["error"]["code"] == "rate_limit_exceeded"
    assert body["error"]["message"] == (
        "Rate limit reached for organization org-emulator on requests per min (RPM): Limit 60, Used 60, "
        "Requested 1. Please try again in 750ms. Visit https://platform.openai.com/account/rate-limits "
        "to learn more."
    )
    assert (verdict.headers["retry-after-ms"], verdict.headers["retry-after"]) == ("750", "1")


def test_tokens_are_limited_on_creating_completions_only():
    clock = Clock()
    limiter = RateLimiter(RateLimit(tokens_per_minute=6000, burst_seconds=1), clock=clock)  # 100/s, 100
    create = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":60}'
    first = limiter.check(headers_of(), "POST", "/v1/chat/completions", create)
    assert first.refusal is None
    assert first.headers == {
        "x-ratelimit-limit-tokens": "6000",
        "x-ratelimit-remaining-tokens": "40",
        "x-ratelimit-reset-tokens": "600ms",
    }
    assert limiter.check(headers_of(), "POST", "/v1/chat/completions/chatcmpl-1", b"{}").refusal is None
    second = limiter.check(headers_of(), "POST", "/v1/chat/completions", create)
    assert second.refusal is not None
    error = second.refusal[1]["error"]
    assert error["type"] == "tokens" and error["code"] == "rate_limit_exceeded"
    assert error["message"].startswith(
        "Rate limit reached for gpt-4o-mini in organization org-emulator on tokens per min (TPM): "
        "Limit 6000, Used 5960, Requested 60. Please try again in 200ms."
    )
    assert second.headers["retry-after-ms"] == "200"
    too_large = limiter.check(
        headers_of(), "POST", "/v1/chat/completions", create.replace(b'"max_tokens":60', b'"max_tokens":500')
    )
    assert too_large.refusal is not None
    assert too_large.refusal[1]["error"]["message"].startswith("Request too large for gpt-4o-mini")
    assert "retry-after-ms" not in too_large.headers


def test_no_key_no_limit_and_headers_can_be_left_out():
    limiter = RateLimiter(RateLimit(requests_per_minute=60, burst_seconds=1, headers=False), clock=Clock())
    assert all(limiter.check(headers_of(None), "GET", "/x", b"").refusal is None for _ in range(5))
    assert limiter.check(headers_of(), "GET", "/x", b"").headers == {}
    refused = limiter.check(headers_of(), "GET", "/x", b"")
    assert refused.refusal is not None
    assert set(refused.headers) == {"retry-after-ms", "retry-after"}


@settings(max_examples=60, deadline=None)
@given(
    per_minute=st.integers(min_value=1, max_value=100_000),
    burst=st.floats(min_value=0.01, max_value=60),
    gaps=st.lists(st.floats(min_value=0, max_value=2), min_size=1, max_size=80),
)
def test_no_key_is_ever_admitted_more_than_its_burst_and_its_rate(per_minute, burst, gaps):
    clock = Clock()
    limiter = RateLimiter(RateLimit(requests_per_minute=per_minute, burst_seconds=burst), clock=clock)
    start = clock.now
    capacity = max(1.0, per_minute / 60 * burst)
    admitted = 0
    for gap in gaps:
        clock.now += gap
        admitted += limiter.check(headers_of(), "GET", "/x", b"").refusal is None
        assert admitted <= capacity + (clock.now - start) * per_minute / 60 + 1e-6
    # Spend what is left; the refusal then says how long until one more fits, and that is enough.
    while (refused := limiter.check(headers_of(), "GET", "/x", b"")).refusal is None:
        pass
    clock.now += int(refused.headers["retry-after-ms"]) / 1000
    assert limiter.check(headers_of(), "GET", "/x", b"").refusal is None


def test_budgets_are_checked():
    for bad in (
        {"requests_per_minute": 0},
        {"tokens_per_minute": -1},
        {"requests_per_minute": True},
        {"burst_seconds": 0},
        {"burst_seconds": math.inf},
        {"headers": "yes"},
    ):
        with pytest.raises(ValueError):
            RateLimit(**bad)


# -- over HTTP -------------------------------------------------------------------------------------


def api(emulator: Emulator, method: str, path: str, key: str = KEY, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, emulator.url + path, headers={"Authorization": f"Bearer {key}"}, timeout=5, **kwargs
    )


def control(emulator: Emulator, method: str, body: Any = None) -> requests.Response:
    return requests.request(
        method, f"http://127.0.0.1:{emulator.port}/__emulator/ratelimit", json=body, timeout=5
    )


def test_the_headers_and_the_429_over_http(emulator):
    emulator.rate_limit = RateLimit(requests_per_minute=120, burst_seconds=1)  # 2/s, burst 2
    ok = api(emulator, "GET", "/chat/completions")
    missing = api(emulator, "GET", "/chat/completions/chatcmpl-nothing")
    refused = api(emulator, "GET", "/chat/completions")
    assert (ok.status_code, missing.status_code, refused.status_code) == (200, 404, 429)
    for answer in (ok, missing, refused):
        assert answer.headers["x-ratelimit-limit-requests"] == "120"
        assert re.fullmatch(r"\d+", answer.headers["x-ratelimit-remaining-requests"])
        assert parse_duration(answer.headers["x-ratelimit-reset-requests"]) is not None
        assert "x-ratelimit-limit-tokens" not in answer.headers
    assert ok.headers["x-ratelimit-remaining-requests"] == "1"
    error = refused.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("requests", None, "rate_limit_exceeded")
    assert 0 < int(refused.headers["retry-after-ms"]) <= 500
    assert refused.headers["retry-after"] == "1"
    assert api(emulator, "GET", "/chat/completions", key=KEY + "x").status_code == 200  # its own bucket
    assert emulator.rate_limited == 1


def test_the_control_api_sets_reads_and_turns_off_the_limit(emulator):
    answer = control(emulator, "POST", {"requests_per_minute": 60, "burst_seconds": 1, "headers": False})
    assert answer.json() == {
        "requests_per_minute": 60,
        "tokens_per_minute": None,
        "burst_seconds": 1,
        "headers": False,
        "admitted": 0,
        "limited": 0,
    }
    assert emulator.rate_limit == RateLimit(requests_per_minute=60, burst_seconds=1, headers=False)
    first, second = api(emulator, "GET", "/chat/completions"), api(emulator, "GET", "/chat/completions")
    assert (first.status_code, second.status_code) == (200, 429)
    assert not any(h.startswith("x-ratelimit") for h in first.headers)
    assert control(emulator, "GET").json()["limited"] == 1
    requests.post(f"http://127.0.0.1:{emulator.port}/__emulator/reset", timeout=5)
    assert control(emulator, "GET").json()["limited"] == 0  # counters forgotten, the budget kept
    assert api(emulator, "GET", "/chat/completions").status_code == 200  # a full bucket again
    bad = control(emulator, "POST", {"requests_per_minute": -5})
    assert bad.status_code == 400 and "requests_per_minute" in bad.json()["error"]["message"]
    assert control(emulator, "POST", {"rpm": 5}).status_code == 400
    assert control(emulator, "POST", {}).json()["requests_per_minute"] is None  # off
    assert all(api(emulator, "GET", "/chat/completions").status_code == 200 for _ in range(5))


def test_an_emulator_started_with_a_limit():
    with Emulator(rate_limit=RateLimit(requests_per_minute=60, burst_seconds=1)) as emulator:
        assert api(emulator, "GET", "/chat/completions").status_code == 200
        assert api(emulator, "GET", "/chat/completions").status_code == 429
        assert emulator.rate_limited == 1


def test_the_command_line_options():
    args = _parser("psopenai emulator").parse_args(
        ["--requests-per-minute", "6000", "--burst-seconds", "2", "--no-ratelimit-headers"]
    )
    assert _rate_limit(args) == RateLimit(requests_per_minute=6000, burst_seconds=2.0, headers=False)
    args = _parser("psopenai emulator").parse_args(["--tokens-per-minute", "1000"])
    assert _rate_limit(args) == RateLimit(tokens_per_minute=1000)
    assert _rate_limit(_parser("x").parse_args([])).active is False


def test_bad_command_line_options_exit_2(capsys):
    assert main(["--requests-per-minute", "0"], prog="psopenai emulator") == 2
    assert "--requests-per-minute" in capsys.readouterr().err
    assert main(["--burst-seconds", "7200"], prog="psopenai emulator") == 2
    assert "burst_seconds must be a number above 0 and at most 3600" in capsys.readouterr().err
