"""Parity with PSOpenAI 4.49.0's source in the behaviours a migrated script relies on:
Request-ChatCompletion's parameters, warnings, piped completions, retry debug lines and the
types named in errors, each asserted against the emulator over real HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import psopenai_py
from psopenai_py import errors
from psopenai_py.commands.get_completion import begin_get_chat_completion, process_get_chat_completion
from psopenai_py.commands.request_completion import TABLE as REQUEST_TABLE
from psopenai_py.compat import Request_ChatCompletion, invoke, variables
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.powershell.binding import resolve_parameter
from psopenai_py.retry import should_retry

KEY = "sk-parity-000000000000000000000000"


@pytest.fixture
def api(emulator: Emulator, transport: Any) -> Iterator[Emulator]:
    """The emulator as the context's API, with a key."""
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=KEY)
    yield emulator
    psopenai_py.clear_openai_context()


def _sent(emulator: Emulator, index: int = 0) -> dict[str, Any]:
    body = emulator.requests[index].body
    assert body is not None
    loaded: dict[str, Any] = json.loads(body)
    return loaded


# -- Request-ChatCompletion's own parameters: a name of the original never means another one ----


@pytest.mark.parametrize(
    "token,expected",
    [
        ("Role", "Role"),  # not a prefix of -RolePrompt (an alias of -SystemMessage)
        ("D", "DeveloperMessage"),  # the original's own parameter before the common -Debug
        ("De", "DeveloperMessage"),
        ("Ve", "Verbosity"),  # before the common -Verbose
        ("Verbos", "Verbosity"),
        ("Verbose", "Verbose"),
        ("Sys", "SystemMessage"),
    ],
)
def test_request_tokens_resolve_to_the_originals_parameter(token, expected):
    assert resolve_parameter(REQUEST_TABLE, token).name == expected


def test_request_role_does_not_become_a_system_message(api):
    # PSOpenAI accepts -Role and always sends the user message with role "user".
    invoke("Request-ChatCompletion 'hi' -Role user")
    assert _sent(api)["messages"] == [{"role": "user", "content": "hi"}]


def test_request_role_function_without_a_name_is_the_originals_error(api):
    invoke("Request-ChatCompletion 'hi' -Role Function -ErrorVariable errs -ErrorAction SilentlyContinue")
    assert api.requests == []
    assert [str(e) for e in variables["errs"]] == ['Messages with role "function" must have a name.']


def test_request_developer_messages_and_verbosity(api):
    invoke(
        "Request-ChatCompletion 'hi' -SystemMessage ' s1 ', '  ', 's2' -DeveloperMessage 'd1', ' d2 ' "
        "-Verbosity low"
    )
    sent = _sent(api)
    assert sent["messages"] == [
        {"role": "system", "content": "s1"},
        {"role": "system", "content": "s2"},
        {"role": "developer", "content": "d1"},
        {"role": "developer", "content": "d2"},
        {"role": "user", "content": "hi"},
    ]
    assert sent["verbosity"] == "low"
    api.reset()
    invoke("Request-ChatCompletion 'hi'")
    assert "verbosity" not in _sent(api)  # its default 'medium' is sent only when given


# -- Request-ChatCompletion's user message as the original builds it ----------------------------


def test_request_message_is_trimmed(api):
    reply = Request_ChatCompletion("  Who are you?\n")
    assert _sent(api)["messages"] == [{"role": "user", "content": "Who are you?"}]
    assert reply.Message == "Who are you?"


def test_request_without_message_sends_history_and_system_messages(api):
    invoke("Request-ChatCompletion -History @(@{role='user'; content='x'}) -SystemMessage 'be brief'")
    assert _sent(api)["messages"] == [
        {"role": "user", "content": "x"},
        {"role": "system", "content": "be brief"},
    ]
    api.reset()
    # A blank message adds nothing, as in the original.
    psopenai_py.request_chat_completion("   ", history=[{"role": "user", "content": "y"}])
    assert _sent(api)["messages"] == [{"role": "user", "content": "y"}]


@pytest.mark.parametrize("line", ["Request-ChatCompletion", "Request-ChatCompletion '  ' -SystemMessage ' '"])
def test_request_with_no_message_at_all_is_the_originals_error(api, line):
    invoke(f"{line} -ErrorVariable errs -ErrorAction SilentlyContinue")
    assert api.requests == []
    assert [str(e) for e in variables["errs"]] == [
        "No message is specified. You must specify one or more messages."
    ]
    with pytest.raises(errors.ParameterBindingError, match="No message is specified"):
        psopenai_py.request_chat_completion(None)


def test_request_chatgpt_is_the_originals_alias(api):
    reply = invoke("Request-ChatGPT 'hi'")
    assert _sent(api)["messages"] == [{"role": "user", "content": "hi"}]
    assert reply.Message == "hi"


# -- Get-ChatCompletion's list: the warning comes before the page's items -----------------------


def test_more_data_warning_is_written_before_the_items(api, caplog):
    page = {
        "object": "list",
        "data": [{"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "choices": []}],
        "first_id": "chatcmpl-1",
        "last_id": "chatcmpl-1",
        "has_more": True,
    }
    api.inject(Fault(status=200, body=page))
    state = begin_get_chat_completion({"no_history": True})
    items = process_get_chat_completion(state, None)
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        first = next(items)
        assert caplog.messages == ["There is more data that has not been retrieved."]
    assert first.id == "chatcmpl-1" and list(items) == []


def test_piped_completion_without_message_sends_its_history_alone(api):
    # A documented difference: PowerShell would coerce the piped object to the string Message
    # (a completion's id); the port sends the piped conversation alone.
    first = invoke("Request-ChatCompletion 'hi' -Model gpt-y")
    api.reset()
    invoke("Request-ChatCompletion 'hi' -Model gpt-y | Request-ChatCompletion")
    sent = _sent(api, 1)
    assert sent["model"] == "gpt-y"
    assert sent["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": first.Answer[0]},
    ]


def test_get_by_id_fails_its_item_when_the_messages_cannot_be_read(api):
    # A documented difference: the original still outputs the completion with a partial History.
    ident = str(api.store.create(model="gpt-x", messages=[{"role": "user", "content": "Hello."}])["id"])
    api.inject(Fault(status=500, body={"error": {"message": "down"}}, path_contains="/messages"))
    result = invoke(f"Get-ChatCompletion {ident} -ErrorVariable errs -ErrorAction SilentlyContinue")
    assert result is None
    assert [type(e).__name__ for e in variables["errs"]] == ["APIRequestException"]
    assert invoke(f"Get-ChatCompletion {ident}").Message == "Hello."


@pytest.mark.parametrize("call", ["shim", "python"])
def test_request_empty_model_is_an_error_not_the_default_model(api, call):
    # The original sends model "" (the API refuses it); silently using the default model would
    # run the request on a model nobody chose.
    with pytest.raises(errors.ParameterBindingError, match="'Model'"):
        if call == "shim":
            invoke("Request-ChatCompletion 'hi' -Model ''")
        else:
            psopenai_py.request_chat_completion("hi", model="")
    assert api.requests == []


def test_answer_of_a_reply_without_content_is_an_empty_string(api):
    # ObjectParser.ps1 casts Answer to [string[]], which turns a null content into "".
    reply = {
        "id": "chatcmpl-fixed",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-x",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1"}]},
                "finish_reason": "tool_calls",
            },
            {"index": 1, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"},
        ],
    }
    api.inject(Fault(status=200, body=reply))
    result = psopenai_py.set_chat_completion("chatcmpl-fixed", {})
    assert result.Answer == ["", "x"]
    assert result.choices[0].message.content is None  # the API's own fields stay as sent


def test_request_max_completion_tokens_alias(api):
    invoke("Request-ChatCompletion 'hi' -max_completion_tokens 10")
    assert _sent(api)["max_completion_tokens"] == 10


def test_null_retry_count_and_timeout_are_zero_over_the_context(api):
    # PowerShell binds $null to an [int] parameter as 0, and ParseCommonParams takes a bound 0
    # over the context: no retry, no timeout.
    psopenai_py.set_openai_context(max_retry_count=2, timeout_sec=7)
    ident = str(api.store.create(model="gpt-x", messages=[{"role": "user", "content": "Hello."}])["id"])
    api.inject(Fault(status=500, body={"error": {"message": "down"}}))
    result = invoke(
        f"Set-ChatCompletion {ident} -MetaData @{{}} -MaxRetryCount $null -TimeoutSec $null "
        "-ErrorVariable errs -ErrorAction SilentlyContinue"
    )
    assert result is None and len(api.requests) == 1
    assert [type(e).__name__ for e in variables["errs"]] == ["APIRequestException"]


@pytest.mark.parametrize(
    "retries,status,headers,message,expected",
    [
        (0, 500, {}, "x", "Current retry count:0 exceeds max retry count:0. Should not retry anymore."),
        (
            0,
            404,
            {"x-should-retry": "true"},
            "x",
            'Should retry because a header "x-should-retry" is set to "true".',
        ),
        (
            0,
            500,
            {"x-should-retry": "False"},
            "x",
            'Should NOT retry because a header "x-should-retry" is set to "false".',
        ),
        (0, 429, {}, "slow down", 'Should retry due to status code "429"'),
        (
            0,
            429,
            {},
            "You exceeded your current QUOTA",
            "Should NOT retry because it seems quota limit reached.",
        ),
        (0, 503, {}, "x", 'Should retry due to status code "503"'),
        (0, 400, {}, "x", None),
    ],
)
def test_retry_decisions_write_the_originals_debug_lines(caplog, retries, status, headers, message, expected):
    max_retry_count = 0 if expected and expected.startswith("Current") else 3
    with caplog.at_level(logging.DEBUG, logger="psopenai_py"):
        should_retry(
            retries_made=retries,
            max_retry_count=max_retry_count,
            status_code=status,
            headers=headers,
            error_message=message,
        )
    assert caplog.messages == ([expected] if expected else [])


@pytest.mark.parametrize(
    "literal,type_name",
    [
        ("123", "System.Int32"),
        ("1.5", "System.Double"),
        ("$true", "System.Boolean"),
        ("@{a=1}", "System.Collections.Hashtable"),
    ],
)
def test_api_key_of_another_type_names_the_dotnet_type(api, literal, type_name):
    # SecureStringTransformationAttribute.cs names the value's .NET type.
    with pytest.raises(errors.ParameterTypeError) as caught:
        invoke(f"Get-ChatCompletion -ApiKey {literal} -Limit 1")
    assert f'Cannot convert the value of type "{type_name}" to type "System.Security.SecureString".' in str(
        caught.value
    )
    assert api.requests == []
