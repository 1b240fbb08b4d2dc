"""The two retry policies: the SDK's rules as pure functions held to the official client's own
decisions (tables and properties), PSOpenAI's unchanged, and which front-end retries by which."""

from __future__ import annotations

import email.utils
import io
import logging
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psopenai_py
from psopenai_py import retry
from psopenai_py.emulator import Fault
from psopenai_py.openai_cli import main as openai_cli

openai = pytest.importorskip("openai")
httpx2 = pytest.importorskip("httpx2")

KEY = "sk-retry-0000000000000000000000"


@pytest.fixture(scope="module")
def official() -> Any:
    client = openai.OpenAI(api_key="sk-x", base_url="http://127.0.0.1:9/v1")
    yield client
    client.close()


def _theirs_should_retry(official: Any, status: int, headers: dict[str, str]) -> bool:
    return bool(official._should_retry(httpx2.Response(status, headers=headers)))


def _theirs_delay(official: Any, headers: dict[str, str] | None) -> float | None:
    return official._parse_retry_after_header(httpx2.Headers(headers) if headers is not None else None)


DECISIONS: list[tuple[int, dict[str, str]]] = [
    *((status, {}) for status in (400, 401, 403, 404, 408, 409, 418, 422, 429, 500, 502, 503, 599, 600)),
    (400, {"x-should-retry": "true"}),
    (500, {"x-should-retry": "false"}),
    (500, {"x-should-retry": "FALSE"}),  # the SDK compares exactly: not a "false"
    (404, {"x-should-retry": "True"}),
    (429, {"retry-after": "121"}),
    (429, {"retry-after": "120"}),
    (429, {"retry-after-ms": "120001"}),
    (400, {"x-should-retry": "true", "retry-after": "500"}),
    (503, {"retry-after": "1e999"}),
    (503, {"retry-after": "inf"}),
    (503, {"retry-after": "nan"}),
    (503, {"retry-after-ms": "junk", "retry-after": "200"}),
]


@pytest.mark.parametrize(("status", "headers"), DECISIONS)
def test_the_sdk_decides_as_the_official_client(official, status, headers):
    ours = retry.sdk_should_retry(
        retries_made=0, max_retries=2, status_code=status, headers=headers, now=time.time()
    )
    assert ours is _theirs_should_retry(official, status, headers)


def test_the_budget_and_no_answer():
    assert not retry.sdk_should_retry(retries_made=2, max_retries=2, status_code=503, headers={}, now=0)
    assert retry.sdk_should_retry(retries_made=1, max_retries=2, status_code=None, headers={}, now=0)
    assert not retry.sdk_should_retry(retries_made=0, max_retries=0, status_code=None, headers={}, now=0)


SERVER_DELAYS = [
    {},
    {"retry-after-ms": "1500"},
    {"retry-after-ms": "0.5"},
    {"retry-after-ms": "-3"},
    {"retry-after-ms": "1e999"},
    {"retry-after-ms": "x", "retry-after": "7"},
    {"retry-after": "7"},
    {"retry-after": " 2.5 "},
    {"retry-after": "1_0"},
    {"retry-after": "0"},
    {"retry-after": "inf"},
    {"retry-after": "Infinity"},
    {"retry-after": "nan"},
    {"retry-after": "soon"},
    {"retry-after": ""},
]


@pytest.mark.parametrize("headers", SERVER_DELAYS, ids=str)
def test_the_server_delay_is_read_as_the_official_client_reads_it(official, headers):
    ours = retry.sdk_server_delay_s(headers, now=time.time())
    assert _same(ours, _theirs_delay(official, headers))


def _same(a: float | None, b: float | None) -> bool:
    """Equal numbers (NaN equal to itself), or both None."""
    if a is None or b is None:
        return a is b
    return a == b or (a != a and b != b)


def test_a_date_is_read_against_the_clock():
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry.sdk_server_delay_s({"retry-after": date}, now=now) == 30.0
    assert retry.sdk_retry_delay_s(0, {"retry-after": date}, now=now, random=lambda: 0.0) == 30.0
    late = email.utils.formatdate(now + 600, usegmt=True)
    assert not retry.sdk_should_retry(
        retries_made=0, max_retries=2, status_code=503, headers={"retry-after": late}, now=now
    )


@given(
    st.dictionaries(
        st.sampled_from(["retry-after", "retry-after-ms", "x-should-retry"]),
        st.one_of(
            st.sampled_from(["true", "false", "inf", "nan", "1e999", "-1", "0", "120", "121"]),
            st.floats(allow_nan=False).map(repr),
            st.integers(-10, 10**6).map(str),
            st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=5),
        ),
    ),
    st.sampled_from([400, 404, 408, 409, 429, 500, 503]),
)
@settings(max_examples=300, deadline=None)
def test_any_headers_decide_and_wait_as_the_official_client(official, headers, status):
    # No dates here: the official client reads them against its own clock.
    assert retry.sdk_should_retry(
        retries_made=0, max_retries=2, status_code=status, headers=headers, now=time.time()
    ) is _theirs_should_retry(official, status, headers)
    assert _same(retry.sdk_server_delay_s(headers, now=time.time()), _theirs_delay(official, headers))


@pytest.mark.parametrize("retries_made", [0, 1, 2, 3, 4, 5, 10, 1000, 5000])
@pytest.mark.parametrize("r", [0.0, 0.5, 0.999])
def test_the_backoff_is_the_official_clients(official, monkeypatch, retries_made, r):
    import openai._base_client as base

    monkeypatch.setattr(base, "random", lambda: r)
    options = openai._models.FinalRequestOptions.construct(method="get", url="/x", max_retries=10**6)
    theirs = official._calculate_retry_timeout(10**6 - retries_made, options, None)
    assert retry.sdk_retry_delay_s(retries_made, {}, now=0, random=lambda: r) == pytest.approx(theirs)


@given(st.integers(0, 2000), st.floats(0, 1, exclude_max=True))
def test_the_backoff_stays_in_its_bounds_and_jitter_only_shortens(retries_made, r):
    delay = retry.sdk_backoff_s(retries_made, lambda: r)
    ceiling = min(0.5 * 2.0**retries_made, 8.0) if retries_made < 64 else 8.0
    assert 0.75 * ceiling <= delay <= ceiling <= 8.0


def test_the_policies_differ_where_the_docs_say():
    rate_limit = retry.Failure(429, {}, "You exceeded your current quota")
    no_answer = retry.Failure(None, {}, "reset")
    conflict = retry.Failure(409, {}, "")
    far = retry.Failure(503, {"retry-after": "90"}, "")
    kwargs: dict[str, Any] = {"retries_made": 0, "max_retries": 2, "now": 0.0, "random": lambda: 0.5}
    assert retry.PSOPENAI.delay_ms(rate_limit, **kwargs) is None
    assert retry.SDK.delay_ms(rate_limit, **kwargs) == 437.5
    assert retry.PSOPENAI.delay_ms(no_answer, **kwargs) is None
    assert retry.SDK.delay_ms(no_answer, **kwargs) == 437.5
    assert retry.PSOPENAI.delay_ms(conflict, **kwargs) is None
    assert retry.SDK.delay_ms(conflict, **kwargs) == 437.5
    assert retry.PSOPENAI.delay_ms(far, **kwargs) == 1000  # over 60 s: its backoff, 1 s x 1.0
    assert retry.SDK.delay_ms(far, **kwargs) == 90_000.0  # within 120 s: as asked
    assert (retry.PSOPENAI.notice_level, retry.SDK.notice_level) == (logging.WARNING, logging.INFO)


def test_psopenais_policy_is_its_old_rule_unchanged():
    for status in (400, 408, 409, 429, 500, 503):
        for headers in ({}, {"x-should-retry": "TRUE"}, {"retry-after-ms": "1500"}):
            failure = retry.Failure(status, headers, "boom")
            decided = retry.should_retry(
                retries_made=0, max_retry_count=1, status_code=status, headers=headers, error_message="boom"
            )
            expected = retry.retry_delay_ms(0, headers, now=0.0, random=lambda: 0.5) if decided else None
            got = retry.PSOPENAI.delay_ms(failure, retries_made=0, max_retries=1, now=0.0, random=lambda: 0.5)
            assert got == expected


# -- who retries by which ------------------------------------------------------------------------


def test_the_powershell_commands_do_not_retry_a_408(emulator, transport, stored, clock):
    emulator.inject(Fault(status=408, body={"error": {"message": "slow"}}, times=3))
    with pytest.raises(psopenai_py.APIRequestException):
        psopenai_py.get_chat_completion(stored, api_base=emulator.url, api_key=KEY, max_retry_count=2)
    assert len(emulator.requests) == 1 and clock.sleeps == []


def test_the_client_retries_a_408_and_a_reset_by_the_sdks_rules(emulator, transport, stored, clock):
    emulator.inject(Fault(status=408, body={"error": {"message": "slow"}}), Fault(drop=True))
    client = psopenai_py.OpenAI(api_key=KEY, base_url=emulator.url)
    assert client.chat.completions.retrieve(stored).id == stored
    # 0.5 s, then 1 s, each less 25 % of the random draw (0.5 here)
    assert len(emulator.requests) == 3 and clock.sleeps == [0.4375, 0.875]


def test_the_openai_cli_dialect_retries_a_409_by_the_sdks_rules(emulator, transport, stored, clock):
    emulator.inject(Fault(status=409, body={"error": {"message": "busy"}}, times=2))
    out, err = io.StringIO(), io.StringIO()
    status = openai_cli(
        ["--api-key", KEY, "--base-url", emulator.url, "chat:completions", "retrieve", stored],
        stdout=out,
        stderr=err,
    )
    assert status == 0 and len(emulator.requests) == 3 and len(clock.sleeps) == 2
    assert "Retry" not in err.getvalue()  # the SDK's notice is a log record, not a warning line
