"""Set-ChatCompletion over real HTTP against the emulator: the wire, errors, retries, pooling."""

from __future__ import annotations

import json
import logging
import threading

import pytest
import requests

import psopenai_py
from psopenai_py import errors
from psopenai_py.emulator import Emulator, Fault, quota_fault, rate_limit_fault
from psopenai_py.transport import USER_AGENT

KEY = "sk-proj-wire0000000000000000000000000000"


def call(emulator: Emulator, ident: object, metadata: dict[str, str] | None = None, **kwargs):
    kwargs.setdefault("api_key", KEY)
    kwargs.setdefault("api_base", emulator.url)
    return psopenai_py.set_chat_completion(ident, metadata if metadata is not None else {"a": "b"}, **kwargs)


def test_plain_call_on_the_wire(emulator, stored, transport):
    result = call(emulator, stored, {"team": "ops", "reviewed": "yes"})
    (request,) = emulator.requests
    assert request.request_line == f"POST /v1/chat/completions/{stored} HTTP/1.1"
    assert request.body == b'{"metadata":{"team":"ops","reviewed":"yes"}}'
    assert [name for name, _ in request.headers] == [
        "Host",
        "User-Agent",
        "Accept",
        "Accept-Encoding",
        "Authorization",
        "Content-Type",
        "Content-Length",
    ]
    assert request.header("Host") == f"127.0.0.1:{emulator.port}"
    assert request.header("User-Agent") == USER_AGENT
    assert USER_AGENT.startswith(f"psopenai_py/{psopenai_py.__version__} ")
    assert request.header("Authorization") == f"Bearer {KEY}"
    assert request.header("Content-Type") == "application/json"
    assert request.header("Content-Length") == str(len(request.body))
    assert result.id == stored
    assert result.metadata.to_dict() == {"team": "ops", "reviewed": "yes"}
    assert emulator.store.get(stored)["metadata"] == {"team": "ops", "reviewed": "yes"}


def test_metadata_is_replaced_not_merged_and_empty_clears(emulator, stored, transport):
    assert call(emulator, stored, {}).metadata.to_dict() == {}
    assert emulator.store.get(stored)["metadata"] == {}


def test_non_ascii_body_bytes(emulator, stored, transport):
    call(emulator, stored, {"note": "café ☕"})
    assert emulator.requests[0].body == '{"metadata":{"note":"café ☕"}}'.encode()


def test_organization_header_and_extras(emulator, stored, transport):
    call(
        emulator,
        stored,
        organization=" org-abc ",
        additional_headers={"X-Trace": "1", "OpenAI-Organization": "org-other"},
        additional_query={"tag": "a b"},
        additional_body={"extra": 1, "metadata": {"x": "y"}},
    )
    (request,) = emulator.requests
    assert request.target == f"/v1/chat/completions/{stored}?tag=a+b"
    assert request.header("OpenAI-Organization") == "org-abc"
    assert request.header("X-Trace") == "1"
    assert request.body == b'{"metadata":{"x":"y"},"extra":1}'


def test_additional_body_json_string(emulator, stored, transport):
    call(emulator, stored, additional_body='{"user": "u1"}')
    assert emulator.requests[0].json() == {"metadata": {"a": "b"}, "user": "u1"}


def test_azure_v1_path_and_api_key_header(emulator, stored, transport):
    base = f"http://127.0.0.1:{emulator.port}"
    call(emulator, stored, api_type="azure", api_base=base)
    (request,) = emulator.requests
    assert request.target == f"/openai/v1/chat/completions/{stored}"
    assert request.header("api-key") == KEY
    assert request.header("Authorization") is None


def test_completion_object_binds_by_property(emulator, stored, transport):
    first = call(emulator, stored, {"a": "1"})
    second = call(emulator, first, {"a": "2"})
    third = call(emulator, {"ID": stored}, {"a": "3"})
    assert (second.metadata.a, third.metadata.a) == ("2", "3")


def test_traversal_id_stays_in_its_segment(emulator, transport):
    with pytest.raises(errors.NotFoundException) as caught:
        call(emulator, "../files")
    # The id is encoded as HttpUtility.UrlEncode does (lowercase hex); urllib3 then normalises
    # percent-escapes to uppercase on the wire, an equivalent form (RFC 3986, 6.2.2.1).
    assert emulator.requests[0].target == "/v1/chat/completions/..%2Ffiles"
    assert "'../files'" in str(caught.value)
    with pytest.raises(errors.NotFoundException):
        call(emulator, "..")
    assert emulator.requests[1].target == "/v1/chat/completions/%2E%2E"


# -- errors ---------------------------------------------------------------------------------------


def _error_fault(status: int, code: str | None = None, message: str = "went wrong") -> Fault:
    return Fault(status=status, body={"error": {"message": message, "type": "t", "param": "p", "code": code}})


@pytest.mark.parametrize(
    "status,code,cls,reason",
    [
        (400, None, errors.BadRequestException, "Bad Request"),
        (400, "content_filter", errors.ContentFilteredException, "Bad Request"),
        (401, None, errors.UnauthorizedException, "Unauthorized"),
        (403, None, errors.PermissionDeniedException, "Forbidden"),
        (404, None, errors.NotFoundException, "Not Found"),
        (409, None, errors.ConflictException, "Conflict"),
        (422, None, errors.UnprocessableEntityException, "Unprocessable Entity"),
        (429, None, errors.RateLimitExceededException, "Too Many Requests"),
        (429, "insufficient_quota", errors.QuotaLimitExceededException, "Too Many Requests"),
        (418, None, errors.APIRequestException, "I'm a Teapot"),
        (500, None, errors.APIRequestException, "Internal Server Error"),
    ],
)
def test_status_to_exception(emulator, stored, transport, status, code, cls, reason):
    emulator.inject(_error_fault(status, code))
    with pytest.raises(cls) as caught:
        call(emulator, stored)
    exc = caught.value
    assert type(exc) is cls
    assert str(exc) == f"OpenAI API returned an {status} ({reason}) Error: went wrong"
    assert (exc.status_code, exc.type, exc.code, exc.param) == (status, "t", code, "p")
    assert exc.content == {"error": {"message": "went wrong", "type": "t", "param": "p", "code": code}}
    assert exc.error_id == f"PSOpenAI.APIRequest.{cls.__name__}"
    assert exc.response.status_code == status
    assert len(emulator.requests) == 1


def test_unknown_id_is_not_found_with_the_servers_message(emulator, transport):
    with pytest.raises(errors.NotFoundException) as caught:
        call(emulator, "chatcmpl-missing")
    assert str(caught.value) == (
        "OpenAI API returned an 404 (Not Found) Error: No chat completion found with id 'chatcmpl-missing'."
    )


def test_error_without_json_body_uses_reason_phrase(emulator, stored, transport):
    emulator.inject(Fault(status=502, raw_body="<html>bad gateway</html>"))
    with pytest.raises(errors.APIRequestException) as caught:
        call(emulator, stored)
    assert str(caught.value) == (
        "OpenAI API returned an 502 (Bad Gateway) Error: "
        "Response status code does not indicate success: 502 (Bad Gateway)."
    )
    assert caught.value.content is None


def test_azure_service_name_in_messages(emulator, stored, transport):
    emulator.inject(_error_fault(404))
    with pytest.raises(errors.NotFoundException, match=r"^Azure OpenAI API returned an 404"):
        call(emulator, stored, api_type="Azure", api_base=f"http://127.0.0.1:{emulator.port}")


def test_success_with_non_json_body(emulator, stored, transport):
    emulator.inject(Fault(status=200, raw_body="not json"))
    with pytest.raises(errors.InvalidResponseException, match="not JSON"):
        call(emulator, stored)


def test_emulator_rejects_17_keys_with_the_api_code(emulator, stored):
    # The client refuses 17 keys before sending, so speak to the emulator directly.
    body = {"metadata": {f"k{i}": "v" for i in range(17)}}
    answer = requests.post(
        f"{emulator.url}/chat/completions/{stored}",
        json=body,
        headers={"Authorization": "Bearer x"},
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "object_above_max_properties"


def test_missing_key_at_the_server_is_unauthorized(emulator, stored, transport):
    emulator.server.api_key = "sk-the-right-key-0000000000"
    with pytest.raises(errors.UnauthorizedException, match="Incorrect API key provided"):
        call(emulator, stored, api_key="sk-the-wrong-key-000000000")


# -- retries over HTTP ----------------------------------------------------------------------------


def test_rate_limit_retried_with_server_delay_and_warnings(emulator, stored, transport, clock, caplog):
    emulator.inject(rate_limit_fault(retry_after_ms="1500"), rate_limit_fault(retry_after="2"))
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        result = call(emulator, stored, max_retry_count=2)
    assert result.id == stored
    assert clock.sleeps == [1.5, 2.0]
    assert len(emulator.requests) == 3
    assert [r.getMessage() for r in caplog.records] == [
        "OpenAI API returned an 429 (Too Many Requests) Error: Rate limit reached for requests. "
        "Please try again later.",
        "Retry the request after waiting 1500 ms (retry count: 0)",
        "OpenAI API returned an 429 (Too Many Requests) Error: Rate limit reached for requests. "
        "Please try again later.",
        "Retry the request after waiting 2000 ms (retry count: 1)",
    ]


def test_retry_after_http_date(emulator, stored, transport, clock):
    import email.utils

    date = email.utils.formatdate(clock.now + 12, usegmt=True)
    emulator.inject(rate_limit_fault(retry_after=date))
    call(emulator, stored, max_retry_count=1)
    assert clock.sleeps == [12.0]


@pytest.mark.parametrize(
    "headers", [{"retry-after-ms": "60001"}, {"retry-after": "0"}, {"retry-after": "yesterday"}]
)
def test_out_of_window_server_delay_uses_backoff(emulator, stored, transport, clock, headers):
    emulator.inject(Fault(status=503, headers=headers))
    call(emulator, stored, max_retry_count=1)
    assert clock.sleeps == [1.0]  # 2**0 * 1000 * (0.8 + 0.4 * 0.5)


def test_backoff_sequence_with_fixed_random(emulator, stored, transport, clock):
    clock.random_value = 0.25
    emulator.inject(Fault(status=500, times=4))
    call(emulator, stored, max_retry_count=4)
    assert clock.sleeps == [0.9, 1.8, 3.6, 7.2]
    assert len(emulator.requests) == 5


def test_max_retry_count_exhausted_raises_last_error(emulator, stored, transport, clock):
    emulator.inject(Fault(status=500, times=3))
    with pytest.raises(errors.APIRequestException) as caught:
        call(emulator, stored, max_retry_count=2)
    assert caught.value.status_code == 500
    assert len(emulator.requests) == 3 and len(clock.sleeps) == 2


def test_max_retry_count_zero_sends_once(emulator, stored, transport, clock):
    emulator.inject(rate_limit_fault())
    with pytest.raises(errors.RateLimitExceededException):
        call(emulator, stored, max_retry_count=0)
    assert len(emulator.requests) == 1 and clock.sleeps == []


def test_max_retry_count_hundred(emulator, stored, transport, clock):
    emulator.inject(Fault(status=503, times=100, headers={"retry-after-ms": "1"}))
    assert call(emulator, stored, max_retry_count=100).id == stored
    assert len(emulator.requests) == 101 and clock.sleeps == [0.001] * 100


def test_quota_is_not_retried(emulator, stored, transport, clock):
    emulator.inject(quota_fault())
    with pytest.raises(errors.QuotaLimitExceededException):
        call(emulator, stored, max_retry_count=5)
    assert len(emulator.requests) == 1 and clock.sleeps == []


def test_x_should_retry_true_retries_a_404(emulator, stored, transport, clock):
    emulator.inject(
        Fault(status=404, headers={"x-should-retry": "true"}, body={"error": {"message": "later"}})
    )
    assert call(emulator, stored, max_retry_count=1).id == stored
    assert len(emulator.requests) == 2


def test_x_should_retry_false_stops_a_503(emulator, stored, transport, clock):
    emulator.inject(Fault(status=503, headers={"x-should-retry": "false"}))
    with pytest.raises(errors.APIRequestException):
        call(emulator, stored, max_retry_count=3)
    assert len(emulator.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_other_statuses_are_not_retried(emulator, stored, transport, clock, status):
    emulator.inject(_error_fault(status))
    with pytest.raises(errors.APIRequestException):
        call(emulator, stored, max_retry_count=3)
    assert len(emulator.requests) == 1 and clock.sleeps == []


def test_dropped_connection_is_not_retried(emulator, stored, transport, clock):
    emulator.inject(Fault(drop=True))
    with pytest.raises(errors.APIConnectionException):
        call(emulator, stored, max_retry_count=3)
    assert len(emulator.requests) == 1 and clock.sleeps == []


def test_timeout_is_per_attempt_and_not_retried(emulator, stored, transport, clock):
    emulator.inject(Fault(delay_ms=1500))
    with pytest.raises(errors.TimeoutException, match=r"^The operation was canceled due to timeout\.$"):
        call(emulator, stored, timeout_sec=1, max_retry_count=3)
    assert len(emulator.requests) == 1 and clock.sleeps == []


def test_timeout_zero_waits_as_long_as_needed(emulator, stored, transport):
    emulator.inject(Fault(delay_ms=1200))
    assert call(emulator, stored, timeout_sec=0).id == stored


def test_connection_refused_is_a_connection_error(transport):
    with Emulator() as gone:
        base = gone.url
    with pytest.raises(errors.APIConnectionException) as caught:
        psopenai_py.set_chat_completion("chatcmpl-x", {}, api_base=base, api_key=KEY)
    assert isinstance(caught.value, ConnectionError)


# -- connections ----------------------------------------------------------------------------------


def test_fifty_sequential_calls_share_one_connection(emulator, stored, transport):
    for i in range(50):
        call(emulator, stored, {"n": str(i)})
    assert len(emulator.requests) == 50
    assert emulator.connections == 1
    assert {r.connection for r in emulator.requests} == {emulator.requests[0].connection}


def test_threads_share_the_pool_safely(emulator, stored, transport):
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                assert call(emulator, stored, {"t": f"{n}-{i}"}).id == stored
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []
    assert len(emulator.requests) == 80
    assert emulator.connections <= 8


def test_control_api_over_http(emulator, stored):
    faults = [{"status": 503, "times": 2}]
    requests.post(
        f"http://127.0.0.1:{emulator.port}/__emulator/faults", data=json.dumps(faults), timeout=5
    ).raise_for_status()
    stats = requests.get(f"http://127.0.0.1:{emulator.port}/__emulator/stats", timeout=5).json()
    assert stats["faults"] == 1 and stats["stored"] == 1
