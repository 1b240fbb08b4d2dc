"""The retry decision and delays as pure functions: table tests and property tests."""

from __future__ import annotations

import email.utils

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psopenai_py.retry import (
    MAX_BACKOFF_MS,
    backoff_ms,
    retry_delay_ms,
    server_delay_ms,
    should_retry,
)

NOW = 1_800_000_000.0

# (retries made, max, status, headers, error message, expected)
DECISIONS = [
    # rule 1: the count is checked first, so the default 0 never retries
    (0, 0, 500, {}, "boom", False),
    (0, 0, 429, {"x-should-retry": "true"}, "slow down", False),
    (3, 3, 503, {}, "", False),
    (99, 100, 503, {}, "", True),
    (100, 100, 503, {}, "", False),
    # rule 2: x-should-retry true wins over any status
    (0, 1, 400, {"x-should-retry": "true"}, "bad", True),
    (0, 1, 404, {"x-should-retry": "true"}, "missing", True),
    (0, 1, 429, {"x-should-retry": "TRUE"}, "insufficient quota", True),
    # rule 3: x-should-retry false wins over 429/5xx
    (0, 1, 500, {"x-should-retry": "false"}, "", False),
    (0, 1, 429, {"X-Should-Retry": "False"}, "rate", False),
    # rule 4/5: 429 and quota, case-insensitive
    (0, 1, 429, {}, "Rate limit reached", True),
    (0, 1, 429, {}, "You exceeded your current quota", False),
    (0, 1, 429, {}, "QUOTA exceeded", False),
    # rule 6: every 5xx
    (0, 1, 500, {}, "", True),
    (0, 1, 502, {}, "", True),
    (0, 1, 599, {}, "", True),
    # rule 7: everything else, transport failures included
    (0, 1, 400, {}, "", False),
    (0, 1, 401, {}, "", False),
    (0, 1, 404, {}, "", False),
    (0, 1, 408, {}, "", False),
    (0, 1, 409, {}, "", False),
    (0, 1, 600, {}, "", False),
    (0, 1, None, {}, "connection reset", False),
    (0, 1, 418, {"x-should-retry": "maybe"}, "", False),
]


@pytest.mark.parametrize("made,maximum,status,headers,message,expected", DECISIONS)
def test_decision_table(made, maximum, status, headers, message, expected):
    assert (
        should_retry(
            retries_made=made,
            max_retry_count=maximum,
            status_code=status,
            headers=headers,
            error_message=message,
        )
        is expected
    )


@given(
    st.integers(0, 100),
    st.integers(0, 100),
    st.one_of(st.none(), st.integers(100, 599)),
    st.sampled_from([{}, {"x-should-retry": "true"}, {"x-should-retry": "false"}]),
)
def test_never_retries_past_the_maximum(made, maximum, status, headers):
    if made >= maximum:
        assert not should_retry(
            retries_made=made, max_retry_count=maximum, status_code=status, headers=headers, error_message=""
        )


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(NOW + seconds_from_now, usegmt=True)


# (headers, expected delay in ms or None for "use the backoff")
SERVER_DELAYS = [
    ({"retry-after-ms": "1500"}, 1500),
    ({"retry-after-ms": "1"}, 1),
    ({"retry-after-ms": "60000"}, 60000),
    ({"retry-after-ms": "60001"}, None),
    ({"retry-after-ms": "0"}, None),
    ({"retry-after-ms": "-5"}, None),
    ({"retry-after-ms": "250.5"}, 250),  # half to even
    ({"retry-after-ms": "251.5"}, 252),
    ({"retry-after-ms": "200", "retry-after": "9"}, 200),  # ms wins
    ({"retry-after-ms": "nonsense", "retry-after": "2"}, None),  # ms present: retry-after unread
    ({"retry-after": "2"}, 2000),
    ({"retry-after": "60"}, 60000),
    ({"retry-after": "61"}, None),
    ({"retry-after": "0"}, None),
    ({"retry-after": _http_date(30)}, 30000),
    ({"retry-after": _http_date(61)}, None),
    ({"retry-after": _http_date(-5)}, None),
    ({"retry-after": "Not a date"}, None),
    ({"Retry-After-Ms": "700"}, 700),
    ({}, None),
]


@pytest.mark.parametrize("headers,expected", SERVER_DELAYS)
def test_server_delay_table(headers, expected):
    assert server_delay_ms(headers, NOW) == expected


@pytest.mark.parametrize(
    "made,random_value,expected",
    [
        (0, 0.0, 800),
        (0, 0.5, 1000),
        (0, 0.999999, 1200),
        (1, 0.0, 1600),
        (1, 0.5, 2000),
        (2, 0.0, 3200),
        (2, 0.999999, 4800),
        (3, 0.5, 8000),
        (6, 0.5, 64000),
        (7, 0.0, 102400),
        (7, 0.5, 128000),
        (7, 0.75, MAX_BACKOFF_MS),
        (8, 0.0, MAX_BACKOFF_MS),
        (100, 0.5, MAX_BACKOFF_MS),
        # rounding half to even: 1000 * (0.8 + 0.4 * r) is exactly 800.5 and 801.5 here
        (0, 0.00125, 800),
        (0, 0.00375, 802),
    ],
)
def test_backoff_table(made, random_value, expected):
    assert backoff_ms(made, lambda: random_value) == expected


@given(st.integers(0, 100), st.floats(0.0, 1.0, exclude_max=True))
def test_backoff_within_jitter_window_and_cap(made, r):
    delay = backoff_ms(made, lambda: r)
    ideal = 2.0**made * 1000
    assert 0 < delay <= MAX_BACKOFF_MS
    assert delay >= min(ideal * 0.8, MAX_BACKOFF_MS) - 0.5
    assert delay <= min(ideal * 1.2, MAX_BACKOFF_MS) + 0.5


def test_server_delay_is_used_without_jitter():
    assert retry_delay_ms(5, {"retry-after-ms": "1234"}, now=NOW, random=lambda: 0.99) == 1234


def test_out_of_window_server_delay_falls_back_to_backoff():
    assert retry_delay_ms(1, {"retry-after": "3600"}, now=NOW, random=lambda: 0.5) == 2000
