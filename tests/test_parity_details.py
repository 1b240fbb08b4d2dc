"""The smaller behaviours of PSOpenAI 4.49.0 a migrating script meets: each matched, with the
original's file and line, or kept different, with the row of the Differences table
(Docs/Set-ChatCompletion.md) that says why."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path
from typing import Any

import pytest

import psopenai_py
from psopenai_py import errors
from psopenai_py.commands.get_messages import TABLE as MESSAGES_TABLE
from psopenai_py.commands.set_completion import TABLE as SET_TABLE
from psopenai_py.compat import (
    Get_ChatCompletion,
    Get_ChatCompletionMessage,
    Request_ChatCompletion,
    Set_ChatCompletion,
    invoke,
)
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.powershell.binding import bind, resolve_parameter
from psopenai_py.powershell.literals import parse_literal
from psopenai_py.results import as_int64, is_true

KEY = "sk-details-00000000000000000000000"
DIFFERENCES = (Path(__file__).resolve().parents[1] / "Docs" / "Set-ChatCompletion.md").read_text(
    encoding="utf-8"
)


@pytest.fixture
def api(emulator: Emulator, transport: Any):
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=KEY)
    yield emulator
    psopenai_py.clear_openai_context()


def _sent(emulator: Emulator, index: int = 0) -> dict[str, Any]:
    body = emulator.requests[index].body
    assert body is not None
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def _row(what: str) -> str:
    """The Differences table's row whose first cell starts with ``what``."""
    rows = [line for line in DIFFERENCES.splitlines() if line.startswith(f"| {what}")]
    assert len(rows) == 1, f"no Differences row for {what!r}"
    return rows[0]


def _stored(emulator: Emulator) -> str:
    return str(emulator.store.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])["id"])


# -- Request-ChatCompletion -MetaData @{} / $null (item 11) -------------------------------------


@pytest.mark.parametrize("literal,sent", [("@{}", {}), ("$null", None), ("@{k='v'}", {"k": "v"})])
def test_request_metadata_is_sent_whenever_bound(api, literal, sent):
    # PSOpenAI 4.49.0 Public/Chat/Request-ChatCompletion.ps1:403-405: ContainsKey('MetaData')
    # sends it as given, an empty dictionary as {} and $null as null.
    invoke(f"Request-ChatCompletion 'hi' -MetaData {literal}")
    body = _sent(api)
    assert "metadata" in body and body["metadata"] == sent


def test_request_metadata_from_python_none_is_not_given(api):
    psopenai_py.request_chat_completion("hi")
    psopenai_py.request_chat_completion("hi", metadata={})
    assert "metadata" not in _sent(api, 0)
    assert _sent(api, 1)["metadata"] == {}


# -- -MaxCompletionTokens 0 (item 15) -------------------------------------------------------------


@pytest.mark.parametrize("tokens", [0, -1])
def test_max_completion_tokens_is_sent_as_given(api, tokens):
    # PSOpenAI 4.49.0 Public/Chat/Request-ChatCompletion.ps1:193-195 ([int], no range) and
    # :412-414 (sent when bound).
    Request_ChatCompletion("hi", MaxCompletionTokens=tokens)
    assert _sent(api)["max_completion_tokens"] == tokens


# -- -OutBuffer (item 15) -------------------------------------------------------------------------


def test_out_buffer_is_a_common_parameter(api):
    # PSOpenAI 4.49.0 Public/Chat/Request-ChatCompletion.ps1:2 (and every command's [CmdletBinding()])
    # gives PowerShell's common parameters, -OutBuffer (alias ob) among them, an Int32 in
    # 0..Int32.MaxValue.
    ident = _stored(api)
    outputs = invoke(f"Get-ChatCompletion {ident} -OutBuffer 10 -Primitive")
    assert str(outputs) == ident
    assert str(Get_ChatCompletion(ident, ob=0, Primitive=True)) == ident
    with pytest.raises(
        errors.ParameterBindingError, match="The -1 argument is less than the minimum allowed range of 0"
    ):
        invoke(f"Get-ChatCompletion {ident} -OutBuffer -1")
    with pytest.raises(errors.ParameterBindingError, match="ambiguous"):
        resolve_parameter(SET_TABLE, "Out")  # -OutBuffer and -OutVariable, as in PowerShell
    assert len(api.requests) == 2


# -- -MaxRetryCount conversions (item 15) ---------------------------------------------------------


@pytest.mark.parametrize(
    "value,text,expected",
    [
        ("3", True, 3),
        ("3", False, 3),
        (3.0, False, 3),
        ("2.5", True, 2),  # a fraction rounds half to even, as Convert.ToInt32
        ("3.5", True, 4),
        (True, False, 1),  # [int]$true is 1
        (False, False, 0),
        ("$true", True, 1),  # $true typed on a command line
        ("", True, 0),  # [int]'' is 0
        ("0x2", True, 2),
    ],
)
def test_max_retry_count_converts_as_powershell_converts_to_int32(value, text, expected):
    # PSOpenAI 4.49.0 Public/Chat/Set-ChatCompletion.ps1:21: [int]$MaxRetryCount, converted by
    # PowerShell's binder (LanguagePrimitives.ConvertTo) before ValidateRange(0, 100).
    bound = bind(SET_TABLE, [("MaxRetryCount", value), ("MetaData", {})], ["chatcmpl-a"], from_text=text)
    assert bound.values["MaxRetryCount"] == expected and type(bound.values["MaxRetryCount"]) is int


def test_max_retry_count_true_retries_once(api):
    # PSOpenAI 4.49.0 Public/Chat/Set-ChatCompletion.ps1:21 and Private/Should-Retry.ps1:47-50.
    ident = _stored(api)
    api.inject(Fault(status=500, body={"error": {"message": "down"}}, times=5))
    with pytest.raises(errors.APIRequestException, match="500"):
        invoke(f"Set-ChatCompletion {ident} -MetaData @{{}} -MaxRetryCount $true -ErrorAction Stop")
    assert len(api.requests) == 2


# -- content_filter in any casing (item 15) -------------------------------------------------------


@pytest.mark.parametrize("code", ["content_filter", "Content_Filter", "CONTENT_FILTER"])
def test_content_filter_code_in_any_casing(api, code):
    # PSOpenAI 4.49.0 Private/Parse-WebExceptionResponse.ps1:73: -eq compares without regard to case.
    api.inject(Fault(status=400, body={"error": {"message": "filtered", "code": code}}))
    with pytest.raises(errors.ContentFilteredException, match="filtered"):
        psopenai_py.request_chat_completion("hi")


# -- created as a string or a float (item 15) -----------------------------------------------------


def _completion(created: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-c",
        "object": "chat.completion",
        "created": created,
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}],
    }


@pytest.mark.parametrize(
    "created,seconds",
    [
        ("1700000000", 1700000000),
        (" 1700000000 ", 1700000000),
        (1700000000.0, 1700000000),
        (1700000000.5, 1700000000),  # half to even
        (1700000001.5, 1700000002),
        ("1.7e9", 1700000000),
        ("1700000000.7", 1700000001),
    ],
)
def test_created_as_a_string_or_a_float_becomes_a_date(api, created, seconds):
    # PSOpenAI 4.49.0 Private/ObjectParser.ps1:234-237: `$InputObject.created -as [long]`, then
    # FromUnixTimeSeconds(...).LocalDateTime.
    api.inject(Fault(status=200, body=_completion(created)))
    result = Get_ChatCompletion("chatcmpl-c", Primitive=True)
    assert result.created == dt.datetime.fromtimestamp(seconds).astimezone()


@pytest.mark.parametrize("created", ["", "0", 0.4, "yesterday", True, "0x6553F100"])
def test_created_that_is_no_date_is_kept(api, created):
    # PSOpenAI 4.49.0 Private/ObjectParser.ps1:234: a value reading as 0 is no date; true and
    # other number spellings are kept by the port (row below).
    api.inject(Fault(status=200, body=_completion(created)))
    assert Get_ChatCompletion("chatcmpl-c", Primitive=True).created == created
    assert "| read as a number (`true` is 1" in _row("`created` as `true`")


def test_as_int64_table():
    cases = {"12": 12, "-3": -3, "+4": 4, "2.5": 2, 2**63 - 1: 2**63 - 1, 2**63: None, float("nan"): None}
    cases.update({float("inf"): None, "1e400": None, "١٢": None, "1 2": None, "": 0, None: None})
    assert {k: as_int64(k) for k in cases} == cases


# -- the message's function_call (item 15: kept different) ---------------------------------------


def test_a_stored_messages_function_call_holds_its_own_value(api):
    # PSOpenAI 4.49.0 Private/ObjectParser.ps1:531-533 adds function_call when set, but fills it
    # with the message's tool_calls; kept different, see the Differences table's row.
    call = {"name": "lookup", "arguments": "{}"}
    page = {
        "object": "list",
        "data": [
            {"id": "m1", "role": "assistant", "content": None, "function_call": call, "tool_calls": None},
            {"id": "m2", "role": "user", "content": "x", "function_call": None, "audio": {}},
        ],
        "has_more": False,
    }
    api.inject(Fault(status=200, body=page))
    first, second = Get_ChatCompletionMessage("chatcmpl-m")
    assert first.function_call == call and "tool_calls" not in first
    assert "function_call" not in second
    assert second.audio == {}  # an object, even empty, is true to PowerShell's if (:525)
    assert "holding the message's `function_call`" in _row("A stored message's `function_call`")


def test_is_true_as_powershell():
    # PowerShell's LanguagePrimitives.IsTrue, which the original's `if ($InputObject.x)` applies.
    false: list[Any] = [None, False, 0, 0.0, "", [], [0], [""], [[]]]
    true: list[Any] = [True, 1, "0", "a", [1], [0, 0], {}, {"a": 1}, [{}]]
    assert [is_true(v) for v in false] == [False] * len(false)
    assert [is_true(v) for v in true] == [True] * len(true)


# -- InputObject and -Before on Get-ChatCompletionMessage (item 15) -------------------------------


def test_get_messages_takes_input_object_and_before(api):
    # PSOpenAI 4.49.0 Private/Get-ChatCompletionMessage.ps1:6-11 (the alias InputObject) and
    # :29-30 (a hidden -Before, never sent).
    ident = _stored(api)
    assert resolve_parameter(MESSAGES_TABLE, "InputObject").name == "CompletionId"
    messages = invoke(f"Get-ChatCompletionMessage -InputObject {ident} -Before m0")
    assert messages.role == "user"
    assert "before" not in api.requests[0].target
    assert psopenai_py.get_chat_completion_message(ident, before="m0")[0].role == "user"


# -- two piped ids to Get-ChatCompletion (item 15: kept different) --------------------------------


def test_two_piped_ids_are_both_read(api):
    # PSOpenAI 4.49.0 Public/Chat/Get-ChatCompletion.ps1:78 sets $HasMore once, in begin, and
    # :151 leaves it false after the first id, so the second id gives nothing; kept different.
    first, second = _stored(api), _stored(api)
    assert [str(c) for c in Get_ChatCompletion([first, second], Primitive=True)] == [first, second]
    assert [m.role for m in Get_ChatCompletionMessage([first, second])] == ["user", "user"]
    assert "every id is read, in order" in _row("Two or more ids piped to Get-ChatCompletion")


# -- the network-error class and text (item 15: kept different) ----------------------------------


def test_a_network_failure_is_an_api_connection_exception(transport):
    # PSOpenAI 4.49.0 Private/Invoke-OpenAIAPIRequest.ps1:188-196 and
    # Parse-WebExceptionResponse.ps1:45-48 rethrow .NET's HttpRequestException; kept different.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(errors.APIConnectionException) as caught:
        Request_ChatCompletion("hi", ApiBase=f"http://127.0.0.1:{port}/v1", ApiKey=KEY, ErrorAction="Stop")
    assert isinstance(caught.value, errors.APIRequestException) and isinstance(caught.value, ConnectionError)
    assert str(caught.value).startswith("The request could not be completed: ")
    assert caught.value.error_id == "PSOpenAI.APIRequest.APIConnectionException"
    assert "`APIConnectionException`, an `APIRequestException` and a `ConnectionError`" in _row(
        "A network failure"
    )


# -- "v$x" and bare words in literals (item 15: kept different) -----------------------------------


def test_a_variable_in_a_double_quoted_string_is_an_error(api):
    ident = _stored(api)
    with pytest.raises(errors.PowerShellSyntaxError, match=r"the variable '\$x'"):
        invoke(f"""Set-ChatCompletion {ident} -MetaData @{{k="v$x"}}""")
    with pytest.raises(errors.PowerShellSyntaxError, match="not expanded"):
        parse_literal('"v$x"')
    assert api.requests == []
    assert "an error pointing at the `$`" in _row("A variable in a double-quoted string")


def test_a_bare_word_in_a_literal_is_text(api):
    ident = _stored(api)
    assert parse_literal("@{k=v}") == {"k": "v"}
    assert parse_literal("@(a, b)") == ["a", "b"]
    Set_ChatCompletion(ident, MetaData=parse_literal("@{team=ops}"))
    assert _sent(api)["metadata"] == {"team": "ops"}
    assert "the word as text" in _row("A bare word as a value")
