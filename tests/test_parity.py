"""Behaviours a script migrated from PSOpenAI 4.49.0 relies on, one test per difference that
was once silent: each asserts the original's behaviour against the emulator over real HTTP, or
on the pure function that decides it."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import psopenai_py
from psopenai_py import errors
from psopenai_py.commands.get_completion import TABLE as GET_TABLE
from psopenai_py.commands.request_completion import TABLE as REQUEST_TABLE
from psopenai_py.commands.set_completion import TABLE as SET_TABLE
from psopenai_py.compat import (
    Get_ChatCompletion,
    Remove_ChatCompletion,
    Request_ChatCompletion,
    Set_ChatCompletion,
    invoke,
    variables,
)
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.masking import mask_organization
from psopenai_py.powershell.binding import PIPELINE_INPUT_MESSAGE, bind, resolve_parameter
from psopenai_py.powershell.host import Host
from psopenai_py.powershell.literals import PowerShellSyntaxError, parse_literal
from psopenai_py.results import MESSAGE_TYPE_NAME
from psopenai_py.retry import retry_delay_ms, server_delay_ms

KEY = "sk-parity-000000000000000000000000"
OTHER_KEY = "sk-parity-111111111111111111111111"
NOW = 1_800_000_000.0


@pytest.fixture
def api(emulator: Emulator, transport: Any) -> Iterator[Emulator]:
    """The emulator as the context's API, with a key."""
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=KEY)
    yield emulator
    psopenai_py.clear_openai_context()


def _stored(emulator: Emulator) -> str:
    created = emulator.store.create(
        model="gpt-x",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "Hi."},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Hello.", "name": "ann"},
        ],
    )
    return str(created["id"])


def _completion(message: dict[str, Any], finish_reason: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-fixed",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-x",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
    }


# -- 1. Get-ChatCompletion by id: Message, History, Primitive, parameter sets --------------------


def test_row01_get_by_id_message_and_history(api):
    ident = _stored(api)
    result = Get_ChatCompletion(ident)
    assert result.Message == "Hello."  # PSOpenAI's own test checks this
    assert [h.role for h in result.History] == ["system", "user", "assistant", "user", "assistant"]
    first = result.History[0]
    assert first.id == f"{ident}-0" and first.content == "be brief"
    assert result.History[3].name == "ann"
    assert all(h.pstypenames[0] == MESSAGE_TYPE_NAME for h in result.History)
    assert result.History[-1].content == result.choices[0].message.content
    assert "id" not in result.History[-1]  # the reply as the original adds it: role, content

    primitive = Get_ChatCompletion(ident, Primitive=True)
    assert primitive.Message is None and [h.role for h in primitive.History] == ["assistant"]
    assert Get_ChatCompletion(ident, NoHistory=True).History == primitive.History
    assert len(api.requests) == 4  # get + messages, then two gets alone


def test_row01_list_fills_history_per_item_unless_primitive(api):
    ids = [_stored(api) for _ in range(2)]
    listed = Get_ChatCompletion()
    assert [c.id for c in listed] == ids and [c.Message for c in listed] == ["Hello.", "Hello."]
    assert len(api.requests) == 3  # the list, then one messages request per completion
    api.reset()
    ids = [_stored(api) for _ in range(2)]
    assert [c.History[0].role for c in Get_ChatCompletion(Primitive=True, Before="x")] == ["assistant"] * 2
    assert len(api.requests) == 1


@pytest.mark.parametrize("extra", [{"Limit": 5}, {"All": True}, {"Order": "desc"}, {"Before": "x"}])
def test_row01_id_with_a_list_parameter_is_a_parameter_set_error(api, extra):
    with pytest.raises(errors.ParameterBindingError, match="Parameter set cannot be resolved"):
        Get_ChatCompletion("chatcmpl-a", **extra)
    with pytest.raises(errors.ParameterBindingError, match="Parameter set cannot be resolved"):
        psopenai_py.get_chat_completion("chatcmpl-a", limit=5)
    assert api.requests == []


def test_row01_piped_ids_with_a_list_parameter_are_binding_errors(api):
    errs: list[BaseException] = []
    assert Get_ChatCompletion(["a", "b"], Limit=5, ErrorVariable=errs, ErrorAction="SilentlyContinue") is None
    assert [str(e) for e in errs] == [PIPELINE_INPUT_MESSAGE] * 2
    assert api.requests == []


# -- 2. the CLI's JSON lines carry what the object carries --------------------------------------


def test_row02_cli_json_lines_carry_answer_message_history(emulator):
    ident = _stored(emulator)
    env = {**os.environ, "OPENAI_API_BASE": emulator.url, "OPENAI_API_KEY": KEY}
    result = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Get-ChatCompletion", ident],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    data = json.loads(line)
    assert data["Message"] == "Hello."
    assert data["Answer"] == [data["choices"][0]["message"]["content"]]
    assert [h["role"] for h in data["History"]] == ["system", "user", "assistant", "user", "assistant"]
    assert data["History"][0]["id"] == f"{ident}-0"
    assert isinstance(data["created"], int) and data["created"] == emulator.store.get(ident)["created"]


# -- 3. AuthType is forced to openai with the OpenAI ApiType -------------------------------------


@pytest.mark.parametrize("auth", ["azure", "azure_ad", "AZURE"])
def test_row03_openai_api_type_forces_openai_auth(api, auth):
    ident = _stored(api)
    Set_ChatCompletion(ident, MetaData={"a": "1"}, AuthType=auth, Organization="org-abc123")
    (request,) = api.requests
    assert request.header("api-key") is None
    assert request.header("Authorization") == f"Bearer {KEY}"
    assert request.header("OpenAI-Organization") == "org-abc123"


# -- 4. piped items plus an explicit CompletionId -----------------------------------------------


def test_row04_pipeline_plus_explicit_id_binds_no_item(api, capsys):
    ident = _stored(api)
    errs: list[BaseException] = []
    result = Set_ChatCompletion(
        ["chatcmpl-p1", "chatcmpl-p2"], CompletionId=ident, MetaData={}, ErrorVariable=errs
    )
    assert result is None and api.requests == []
    assert [type(e) for e in errs] == [errors.ParameterBindingError] * 2
    err = capsys.readouterr().err
    for item in ("chatcmpl-p1", "chatcmpl-p2"):  # each refused item named, as its error's target
        assert err.count(f"Set-ChatCompletion: [{item}] {PIPELINE_INPUT_MESSAGE}") == 1
    with pytest.raises(errors.ParameterBindingError, match="cannot be bound"):
        invoke(f"'a','b' | Set-ChatCompletion -CompletionId {ident} -MetaData @{{}} -ErrorAction Stop")
    assert api.requests == []


# -- 5. prefixes of migrated scripts keep their meaning -----------------------------------------


@pytest.mark.parametrize(
    "table,prefix,expected",
    [
        (SET_TABLE, "C", "CompletionId"),  # not Confirm
        (SET_TABLE, "Co", "CompletionId"),
        (SET_TABLE, "T", "TimeoutSec"),  # not ThrottleLimit
        (GET_TABLE, "M", "MaxRetryCount"),  # not the added MetaData / Model filters
        (GET_TABLE, "P", "Primitive"),
        (GET_TABLE, "WarningA", None),  # WhatIf? no: Get has none; WarningAction alone
        (SET_TABLE, "Wh", "WhatIf"),
        (SET_TABLE, "Th", "ThrottleLimit"),
        (REQUEST_TABLE, "Sys", "SystemMessage"),
        (REQUEST_TABLE, "RolePrompt", "SystemMessage"),
    ],
)
def test_row05_prefixes_prefer_the_originals_parameters(table, prefix, expected):
    resolved = resolve_parameter(table, prefix).name
    assert resolved == (expected or "WarningAction")


def test_row05_ambiguity_among_the_originals_parameters_stays(api):
    with pytest.raises(errors.ParameterBindingError, match="-MetaData -MaxRetryCount"):
        resolve_parameter(SET_TABLE, "M")
    ident = _stored(api)
    assert Set_ChatCompletion(C=ident, MetaD={"k": "v"}, T=5).metadata.k == "v"


# -- 6. Request-ChatCompletion as the original ---------------------------------------------------


def test_row06_request_default_model_aliases_and_piped_conversation(api):
    first = Request_ChatCompletion("hi", RolePrompt="be brief")
    body = json.loads(api.requests[0].body)
    assert body["model"] == "gpt-5.4-mini"
    assert body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    Request_ChatCompletion("x", system="sys")
    assert json.loads(api.requests[1].body)["messages"][0] == {"role": "system", "content": "sys"}

    api.reset()
    second = invoke("Request-ChatCompletion 'hi' -Model gpt-y | Request-ChatCompletion 'next'")
    sent = json.loads(api.requests[1].body)
    assert sent["model"] == "gpt-y"  # bound by property name from the piped completion
    assert [(m["role"], m.get("content")) for m in sent["messages"]] == [
        ("user", "hi"),
        ("assistant", first.Answer[0]),
        ("user", "next"),
    ]
    api.reset()
    invoke("'a' | Request-ChatCompletion 'b' -ErrorVariable errs -ErrorAction SilentlyContinue")
    assert api.requests == []  # a piped string cannot bind: Message is taken, it has no Model
    assert [str(e) for e in variables["errs"]] == [PIPELINE_INPUT_MESSAGE]
    assert second.Message == "next" and [h.role for h in second.History] == [
        "user",
        "assistant",
        "user",
        "assistant",
    ]


# -- 7. Remove-ChatCompletion's line only when the API says deleted -----------------------------


def test_row07_deleted_line_only_when_deleted_true(api, caplog):
    ident = _stored(api)
    api.inject(Fault(status=200, body={"id": ident, "object": "chat.completion.deleted", "deleted": False}))
    with caplog.at_level(logging.INFO, logger="psopenai_py"):
        Remove_ChatCompletion(ident)
        assert not any("has been deleted" in m for m in caplog.messages)
        Remove_ChatCompletion(ident)
    assert f'The chat with id "{ident}" has been deleted.' in caplog.messages


# -- 8. small texts: Azure lines, organization mask, retry delays, messages ---------------------


def test_row08_azure_verbose_lines(emulator, transport, caplog):
    emulator.inject(Fault(status=404, body={"error": {"message": "nope"}}))
    with caplog.at_level(logging.INFO, logger="psopenai_py"), pytest.raises(errors.NotFoundException):
        psopenai_py.get_chat_completion(
            "chatcmpl-a", api_type="Azure", api_base=f"http://127.0.0.1:{emulator.port}", api_key=KEY
        )
    assert "Request to Azure OpenAI API" in caplog.messages
    assert any(m.startswith("Azure OpenAI API response: StatusCode = 404") for m in caplog.messages)


@pytest.mark.parametrize(
    "org,expected",
    [
        ("org-abcdefgh12", "org-ab***************12"),
        ("org-" + "x" * 40, "org-xx***************xx"),
        ("myorganization", "myo***************on"),
    ],
)
def test_row08_organization_masked_with_15_stars(org, expected):
    assert mask_organization(org) == expected


@pytest.mark.parametrize(
    "headers,expected",
    [
        ({"retry-after-ms": "nonsense", "retry-after": "2"}, None),  # ms present: retry-after unread
        ({"retry-after-ms": "", "retry-after": "2"}, None),
        ({"retry-after-ms": "0x10"}, 16),
        ({"retry-after-ms": "250.5"}, 250),
        ({"retry-after": "1.5"}, 2000),  # "1.5" -as [int] is 2
        ({"retry-after": "2.5"}, 2000),  # half to even
        ({"retry-after": "0.4"}, None),  # 0: falls to the date, which it is not
        ({"retry-after": "-3"}, None),
        ({"retry-after": "99999999999"}, None),  # beyond Int32
        ({"retry-after": "9999999"}, None),  # beyond Int32 once in ms
    ],
)
def test_row08_retry_delay_follows_get_retry_delay(headers, expected):
    assert server_delay_ms(headers, NOW) == expected
    backoff = retry_delay_ms(2, headers, now=NOW, random=lambda: 0.5)
    assert backoff == (expected if expected is not None else 4000)


def test_row08_messages_without_error_message_and_field_types(api):
    api.inject(Fault(status=503, raw_body="down"))
    with pytest.raises(errors.APIRequestException) as caught:
        Set_ChatCompletion("chatcmpl-a", MetaData={}, ErrorAction="Stop")
    assert str(caught.value) == (
        "OpenAI API returned an 503 (Service Unavailable) Error: "
        "Response status code does not indicate success: 503 (Service Unavailable)."
    )
    api.inject(Fault(status=400, body={"error": {"message": "m", "code": 42, "type": 7, "param": ["p"]}}))
    with pytest.raises(errors.BadRequestException) as caught:
        psopenai_py.set_chat_completion("chatcmpl-a", {})
    assert (caught.value.code, caught.value.type, caught.value.param) == ("42", None, None)


# -- 9. ContentFilteredException is not a BadRequestException -----------------------------------


def test_row09_content_filtered_is_not_a_bad_request(api):
    assert issubclass(errors.ContentFilteredException, errors.APIRequestException)
    assert not issubclass(errors.ContentFilteredException, errors.BadRequestException)
    api.inject(Fault(status=400, body={"error": {"message": "filtered", "code": "content_filter"}}))
    with pytest.raises(errors.ContentFilteredException):
        try:
            psopenai_py.set_chat_completion("chatcmpl-a", {})
        except errors.BadRequestException:  # must not swallow it
            pytest.fail("ContentFilteredException was caught as a BadRequestException")


# -- 10. AdditionalQuery values as PowerShell strings -------------------------------------------


def test_row10_additional_query_values_and_base_query(emulator, transport):
    ident = _stored(emulator)
    psopenai_py.get_chat_completion(
        ident,
        no_history=True,
        api_base=f"{emulator.url}?tenant=a",
        api_key=KEY,
        additional_query={"flag": True, "off": False, "list": ["a", 1], "gone": None, "n": 2.0, "f": 0.5},
    )
    (request,) = emulator.requests
    assert request.target.split("?", 1)[1] == "tenant=a&flag=True&off=False&list=a+1&n=2&f=0.5"


# -- 11. an explicit empty setting passes over the context --------------------------------------


def test_row11_explicit_empty_setting_falls_to_global_then_environment(api, monkeypatch):
    ident = _stored(api)
    psopenai_py.set_openai_context(organization="org-context")
    monkeypatch.setattr(psopenai_py, "OPENAI_ORGANIZATION", "org-global")
    monkeypatch.setenv("OPENAI_API_KEY", OTHER_KEY)
    Set_ChatCompletion(ident, MetaData={}, Organization="")
    invoke(f"Set-ChatCompletion {ident} -MetaData @{{}} -ApiKey $null -Organization $null")
    Set_ChatCompletion(ident, MetaData={})
    headers = [(r.header("OpenAI-Organization"), r.header("Authorization")) for r in api.requests]
    assert headers == [
        ("org-global", f"Bearer {KEY}"),
        ("org-global", f"Bearer {OTHER_KEY}"),  # the context's key passed over: the environment's
        ("org-context", f"Bearer {KEY}"),
    ]


# -- 12. binding errors are not item errors -----------------------------------------------------


@pytest.mark.parametrize("call", ["named", "positional", "text"])
def test_row12_empty_id_is_a_command_error_before_settings(emulator, transport, call):
    # No key anywhere: an item error would come after a MissingSettingError; a binding error first.
    with pytest.raises(errors.ParameterBindingError, match="CompletionId"):
        if call == "named":
            Set_ChatCompletion(CompletionId="", MetaData={}, ErrorAction="SilentlyContinue")
        elif call == "positional":
            Remove_ChatCompletion("  ", ErrorAction="SilentlyContinue")
        else:
            invoke("Get-ChatCompletion -Id '' -ErrorAction SilentlyContinue")
    assert emulator.requests == []


# -- 13. literals as PowerShell reads them ------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1kb", 1024),
        ("3GB", 3 * 1024**3),
        ("10l", 10),
        ("1.5d", 1.5),
        ("1.5kb", 1536.0),
        ("0b101", 5),
        ("0xFFFFFFFF", -1),
        ("0x80000000", -(2**31)),
        ("0x1FFFFFFFF", 0x1FFFFFFFF),
        ("0xFFFFFFFFFFFFFFFF", -1),
        ('"`u{263A}"', "\u263a"),
        ("@{a=1 <# note #>; b=2}", {"a": 1, "b": 2}),
        ("<# lead #> 'x'", "x"),
        ("@'\nit's $literal\n'@", "it's $literal"),
        ('@"\nA`tB\n"@', "A\tB"),
        ('"a `$b"', "a $b"),
        ('"5$"', "5$"),
    ],
)
def test_row13_literals(text, expected):
    value = parse_literal(text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    "text,words",
    [
        ("@{a=1; A=2}", "duplicate key 'A'"),
        ('"hi $name"', "'$name' inside a double-quoted string was not expanded"),
        ('@"\n$(Get-Date)\n"@', "not expanded"),
        ("<# open", "no closing '#>'"),
        ("@'\nno end", "no closing '@"),
    ],
)
def test_row13_literal_errors(text, words):
    with pytest.raises(PowerShellSyntaxError, match=words.replace("$", r"\$").replace("(", r"\(")):
        parse_literal(text)


@pytest.mark.parametrize(
    "text,expected", [("0x10", 16), ("3.0", 3), ("2.5", 2), ("3.5", 4), ("1kb", 1024), (" 7 ", 7)]
)
def test_row13_cli_int_conversion(text, expected):
    assert (
        bind(SET_TABLE, [("TimeoutSec", text), ("MetaData", "@{}")], ["x"], from_text=True).values[
            "TimeoutSec"
        ]
        == expected
    )


@pytest.mark.parametrize("text", ["abc", "3000000000", "1.5e10"])
def test_row13_cli_int_conversion_errors(text):
    with pytest.raises(errors.ParameterTypeError, match=r"System\.Int32"):
        bind(SET_TABLE, [("TimeoutSec", text), ("MetaData", "@{}")], ["x"], from_text=True)


# -- 16. the result parser's warnings -----------------------------------------------------------


def _run(call: Any, **kwargs: Any) -> tuple[Any, str]:
    stream = io.StringIO()
    from psopenai_py.commands import find_unit
    from psopenai_py.compat import _run_python_call

    result = _run_python_call(find_unit(call), (), kwargs, Host(stream))
    return result, stream.getvalue()


def test_row16_refusal_and_cut_short_warnings(api):
    api.inject(Fault(status=200, body=_completion({"role": "assistant", "content": None, "refusal": "No."})))
    result, lines = _run("Request-ChatCompletion", Message="hi")
    assert result.Answer == ["No."]
    assert lines == 'WARNING: The model refuses to respond. Refusal message: "No."\n'

    api.inject(Fault(status=200, body=_completion({"role": "assistant", "content": "Half"}, "length")))
    _, lines = _run("Request-ChatCompletion", Message="hi")
    assert lines == 'WARNING: The model seems to have terminated response. Reason: "length"\n'

    api.inject(Fault(status=200, body=_completion({"role": "assistant", "content": "x"}, "content_filter")))
    _, lines = _run("Request-ChatCompletion", Message="hi", WarningAction="SilentlyContinue")
    assert lines == ""

    api.inject(Fault(status=200, body=_completion({"role": "assistant", "content": None, "refusal": "No."})))
    with pytest.raises(errors.ActionPreferenceStopException, match="refuses to respond"):
        _run("Request-ChatCompletion", Message="hi", WarningAction="Stop")


def test_row16_get_and_set_do_not_warn_as_in_the_original(api):
    body = _completion({"role": "assistant", "content": None, "refusal": "No."})
    api.inject(Fault(status=200, body=body, method="GET"), Fault(status=200, body=body, method="POST"))
    got, lines = _run("Get-ChatCompletion", CompletionId="chatcmpl-fixed", Primitive=True)
    assert got.Answer == ["No."] and lines == ""
    _, lines = _run("Set-ChatCompletion", CompletionId="chatcmpl-fixed", MetaData={})
    assert lines == ""
