"""The two exception trees: the official SDK's for the SDK-shaped client, PSOpenAI's for the
PowerShell commands and Python functions.  Each SDK class holds every relation the official
package's classes hold among themselves, and sits at exactly one place of PSOpenAI's tree."""

from __future__ import annotations

import inspect
import itertools
import json
from typing import Any

import pytest

import psopenai_py
from psopenai_py import errors

openai = pytest.importorskip("openai")
httpx2 = pytest.importorskip("httpx2")

SDK_NAMES = [
    "OpenAIError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "APIResponseValidationError",
]
PSOPENAI_NAMES = [n for n in errors.__all__ if n not in SDK_NAMES]

# Where each SDK class sits in PSOpenAI's tree: its most specific PSOpenAI class.
PLACE = {
    "OpenAIError": "PSOpenAIError",
    "APIError": "APIRequestException",
    "APIStatusError": "APIRequestException",
    "BadRequestError": "BadRequestException",
    "AuthenticationError": "UnauthorizedException",
    "PermissionDeniedError": "PermissionDeniedException",
    "NotFoundError": "NotFoundException",
    "ConflictError": "ConflictException",
    "UnprocessableEntityError": "UnprocessableEntityException",
    "RateLimitError": "RateLimitExceededException",
    "InternalServerError": "APIRequestException",
    "APIConnectionError": "APIRequestException",
    "APITimeoutError": "TimeoutException",
    "APIResponseValidationError": "InvalidResponseException",
}


def test_every_sdk_name_is_importable_from_the_package_root_and_the_client():
    from psopenai_py import client

    for name in SDK_NAMES:
        assert getattr(psopenai_py, name) is getattr(errors, name) is getattr(client, name)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(SDK_NAMES, SDK_NAMES)))
def test_the_sdk_tree_holds_relation_for_relation(a, b):
    assert issubclass(getattr(errors, a), getattr(errors, b)) is issubclass(
        getattr(openai, a), getattr(openai, b)
    )


@pytest.mark.parametrize("name", SDK_NAMES)
def test_each_sdk_class_sits_at_one_place_of_psopenais_tree(name):
    cls = getattr(errors, name)
    ancestors = [getattr(errors, p) for p in PSOPENAI_NAMES if issubclass(cls, getattr(errors, p))]
    # A chain: any two of them are related, so the class has one most specific PSOpenAI class.
    assert all(issubclass(x, y) or issubclass(y, x) for x, y in itertools.combinations(ancestors, 2))
    most_specific = max(ancestors, key=lambda c: len(c.__mro__))
    assert most_specific.__name__ == PLACE[name]


@pytest.mark.parametrize("name", PSOPENAI_NAMES)
def test_psopenais_tree_is_untouched_by_the_sdk_classes(name):
    # No PSOpenAI class derives from an SDK class, so its relations are PSOpenAI's alone.
    cls = getattr(errors, name)
    assert not any(issubclass(cls, getattr(errors, s)) for s in SDK_NAMES)


def test_a_timeout_is_no_connection_exception_in_psopenais_tree():
    assert not issubclass(errors.APITimeoutError, errors.APIConnectionException)
    assert not issubclass(errors.TimeoutException, errors.APIConnectionException)
    assert issubclass(errors.APITimeoutError, errors.APIConnectionError)


@pytest.mark.parametrize(
    "name",
    ["APIError", "APIStatusError", "APIConnectionError", "APITimeoutError", "APIResponseValidationError"],
)
def test_the_constructors_take_the_sdks_arguments(name):
    ours = inspect.signature(getattr(errors, name).__init__)
    theirs = inspect.signature(getattr(openai, name).__init__)
    assert [(p.name, p.kind) for p in ours.parameters.values()] == [
        (p.name, p.kind) for p in theirs.parameters.values()
    ]


# -- one answer, both ways ---------------------------------------------------------------------------

BODIES = [
    {"error": {"message": "No such thing.", "type": "invalid_request_error", "param": "id", "code": "nf"}},
    {"error": {"message": "", "type": "t", "code": 123}},
    {"error": {"type": "server_error"}},
    {"error": "invalid_token"},
    {"message": "top level"},
    ["a", "list"],
    "not json at all",
    "",
]


class _Answer:
    """A response as the transport hands one on: status, headers, text."""

    def __init__(self, status: int, text: str) -> None:
        self.status_code = status
        self.text = text
        self.headers = {"x-request-id": "req_abc"}
        self.request = None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 418, 422, 429, 500, 502, 503])
@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_a_status_error_is_the_sdks_class_message_body_and_fields(status, body, theirs_client):
    text = body if isinstance(body, str) else json.dumps(body)
    response = httpx2.Response(
        status,
        headers={"x-request-id": "req_abc"},
        content=text.encode(),
        request=httpx2.Request("GET", "http://127.0.0.1:9/v1/chat/completions/x"),
    )
    theirs = theirs_client._make_status_error_from_response(response)
    ours = errors.sdk_status_error(_Answer(status, text))
    seen = [type(ours).__name__, str(ours), ours.body, ours.code, ours.type, ours.param, ours.status_code]
    expected = [
        type(theirs).__name__,
        str(theirs),
        theirs.body,
        theirs.code,
        theirs.type,
        theirs.param,
        theirs.status_code,
    ]
    assert seen == expected
    assert ours.request_id == theirs.request_id == "req_abc"
    assert repr(ours) == repr(theirs)


@pytest.fixture(scope="module")
def theirs_client() -> Any:
    made = openai.OpenAI(api_key="sk-x", base_url="http://127.0.0.1:9/v1")
    yield made
    made.close()


def _request(label: str) -> Any:
    return httpx2.Request("GET", f"http://127.0.0.1:9/{label}")


def test_no_answer_errors_say_what_the_sdks_say():
    assert str(errors.APIConnectionError(request=None)) == str(
        openai.APIConnectionError(request=_request("a"))
    )
    assert str(errors.APITimeoutError(None)) == str(openai.APITimeoutError(_request("b")))
    assert errors.APITimeoutError(None).body is None


def test_an_error_in_a_stream_is_a_plain_api_error_with_the_servers_message():
    failed = errors.APIRequestException("PSOpenAI's words", content={"error": {"message": "boom", "code": 5}})
    converted = errors.sdk_exception(failed)
    assert type(converted) is errors.APIError and str(converted) == "boom"
    assert converted.body == {"message": "boom", "code": 5} and converted.code == "5"


def test_the_powershell_side_keeps_psopenais_classes_and_words(emulator, transport):
    with pytest.raises(errors.NotFoundException) as caught:
        psopenai_py.get_chat_completion(
            "chatcmpl-none", api_base=emulator.url, api_key="sk-ps-000000000000000000"
        )
    assert not isinstance(caught.value, errors.OpenAIError)
    assert str(caught.value).startswith("OpenAI API returned an 404 (Not Found) Error:")


def test_the_client_raises_the_sdks_classes_which_are_psopenais_too(emulator, transport):
    client = psopenai_py.OpenAI(api_key="sk-client-00000000000000000000", base_url=emulator.url)
    with pytest.raises(errors.NotFoundError) as caught:
        client.chat.completions.retrieve("chatcmpl-none")
    assert isinstance(caught.value, errors.NotFoundException) and isinstance(
        caught.value, errors.APIStatusError
    )
    assert str(caught.value) == "Error code: 404 - No chat completion found with id 'chatcmpl-none'."
    assert caught.value.request.headers["Authorization"] != "Bearer sk-client-00000000000000000000"


def test_no_key_is_the_sdks_openai_error_and_psopenais_missing_setting(monkeypatch):
    with pytest.raises(errors.OpenAIError) as caught:
        psopenai_py.OpenAI()
    assert isinstance(caught.value, errors.MissingSettingError) and "Missing credentials" in str(caught.value)
