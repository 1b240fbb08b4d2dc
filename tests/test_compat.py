"""The PowerShell shim over the emulator: binding, pipeline, ErrorAction, streams, invoke()."""

from __future__ import annotations

import pytest

import psopenai_py
from psopenai_py import compat
from psopenai_py.compat import Set_ChatCompletion, invoke
from psopenai_py.emulator import Emulator, Fault, rate_limit_fault
from psopenai_py.errors import (
    ActionPreferenceStopException,
    MissingSettingError,
    NotFoundException,
    ParameterBindingError,
)

KEY = "sk-compat-0000000000000000000000"


@pytest.fixture
def ids(emulator: Emulator, transport) -> list[str]:
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=KEY)
    return [
        str(emulator.store.create(model="m", messages=[{"role": "user", "content": "x"}])["id"])
        for _ in range(3)
    ]


def updated_ids(emulator: Emulator) -> list[str]:
    return [r.target.rsplit("/", 1)[1] for r in emulator.requests]


def test_named_prefix_and_positional_forms(emulator, ids):
    assert Set_ChatCompletion(CompletionId=ids[0], MetaData={"a": "1"}, MaxRetryCount=3).id == ids[0]
    assert Set_ChatCompletion(ids[0], meta={"a": "2"}).metadata.a == "2"
    assert Set_ChatCompletion(comp=ids[0], METADATA={"a": "3"}).Metadata.A == "3"
    assert Set_ChatCompletion(Id=ids[0], MetaData={}, OrgId="org-x").id == ids[0]
    assert emulator.requests[3].header("OpenAI-Organization") == "org-x"


def test_pipeline_by_value_and_property_in_order(emulator, ids):
    first = Set_ChatCompletion(ids[0], MetaData={"k": "v"})
    outputs = Set_ChatCompletion([ids[1], {"Id": ids[2]}, first], MetaData={"k": "w"})
    assert [o.id for o in outputs] == [ids[1], ids[2], ids[0]]
    assert updated_ids(emulator)[1:] == [ids[1], ids[2], ids[0]]


def test_input_object_and_generators_are_pipeline_input(emulator, ids):
    outputs = Set_ChatCompletion(InputObject=(i for i in ids), MetaData={})
    assert [o.id for o in outputs] == ids


def test_one_output_is_unrolled_and_none_for_nothing(emulator, ids):
    assert Set_ChatCompletion([ids[0]], MetaData={}).id == ids[0]
    assert Set_ChatCompletion([], MetaData={}) is None
    assert Set_ChatCompletion(["chatcmpl-missing"], MetaData={}, ErrorAction="SilentlyContinue") is None


def test_continue_reports_and_goes_on(emulator, ids, capsys):
    errors: list[BaseException] = []
    outputs = Set_ChatCompletion([ids[0], "chatcmpl-missing", ids[1]], MetaData={}, ErrorVariable=errors)
    assert [o.id for o in outputs] == [ids[0], ids[1]]
    assert len(errors) == 1 and isinstance(errors[0], NotFoundException)
    assert capsys.readouterr().err == (
        "Set-ChatCompletion: [chatcmpl-missing] OpenAI API returned an 404 (Not Found) Error: No "
        "chat completion found with id 'chatcmpl-missing'.\n"
    )


def test_silently_continue_collects_but_does_not_write(emulator, ids, capsys):
    outputs = Set_ChatCompletion(
        [ids[0], "chatcmpl-missing", ids[1]],
        MetaData={},
        ErrorAction="SilentlyContinue",
        ErrorVariable="errs",
    )
    assert len(outputs) == 2
    assert len(compat.variables["errs"]) == 1
    assert capsys.readouterr().err == ""


def test_error_variable_plus_appends(emulator, ids):
    Set_ChatCompletion(["chatcmpl-x1"], MetaData={}, ea="SilentlyContinue", ev="acc")
    Set_ChatCompletion(["chatcmpl-x2"], MetaData={}, ea="SilentlyContinue", ev="+acc")
    assert [str(e).rsplit("'", 2)[1] for e in compat.variables["acc"]] == ["chatcmpl-x1", "chatcmpl-x2"]


def test_ignore_collects_nothing(emulator, ids, capsys):
    errors: list[BaseException] = []
    Set_ChatCompletion(["chatcmpl-missing"], MetaData={}, ErrorAction="Ignore", ErrorVariable=errors)
    assert errors == [] and capsys.readouterr().err == ""


def test_stop_raises_the_typed_exception_and_stops(emulator, ids):
    with pytest.raises(NotFoundException):
        Set_ChatCompletion([ids[0], "chatcmpl-missing", ids[1]], MetaData={}, ErrorAction="Stop")
    assert updated_ids(emulator) == [ids[0], "chatcmpl-missing"]


def test_bad_item_in_the_pipeline_is_an_item_error(emulator, ids, capsys):
    outputs = Set_ChatCompletion(["", {"name": "no id"}, ids[0]], MetaData={})
    assert outputs.id == ids[0]
    err = capsys.readouterr().err
    assert err.count("Set-ChatCompletion: ") == 2 and "empty or blank" in err


def test_missing_key_stops_before_any_request_even_with_pipeline_input(emulator, transport):
    psopenai_py.set_openai_context(api_base=emulator.url)
    with pytest.raises(MissingSettingError):
        Set_ChatCompletion(["a", "b"], MetaData={}, ErrorAction="Continue")
    assert emulator.requests == []


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"MaxRetryCount": 101}, "maximum allowed range of 100"),
        ({"TimeoutSec": -1}, "minimum allowed range of 0"),
        ({"MetaData": {f"k{i}": "v" for i in range(17)}}, "the limit is 16"),
        ({"M": {}}, "is ambiguous"),
        ({"Nope": 1}, "cannot be found"),
    ],
)
def test_bad_parameters_send_nothing(emulator, ids, kwargs, message):
    kwargs = {"MetaData": {}, **kwargs} if "M" not in kwargs else kwargs
    with pytest.raises(ParameterBindingError, match=message):
        Set_ChatCompletion(ids, **kwargs)
    assert emulator.requests == []


def test_verbose_and_warnings_on_stderr(emulator, ids, clock, capsys):
    emulator.inject(rate_limit_fault(retry_after_ms="10"))
    Set_ChatCompletion(ids[0], MetaData={}, MaxRetryCount=1, Verbose=True)
    err = capsys.readouterr().err.splitlines()
    assert "VERBOSE: Request to OpenAI API" in err
    assert "WARNING: Retry the request after waiting 10 ms (retry count: 0)" in err
    assert not any(KEY in line for line in err)


def test_warning_action_silently_continue_and_stop(emulator, ids, clock, capsys):
    emulator.inject(rate_limit_fault(retry_after_ms="10"))
    Set_ChatCompletion(ids[0], MetaData={}, MaxRetryCount=1, WarningAction="SilentlyContinue")
    assert "WARNING" not in capsys.readouterr().err
    emulator.inject(rate_limit_fault(retry_after_ms="10"))
    with pytest.raises(ActionPreferenceStopException, match="WarningPreference"):
        Set_ChatCompletion(ids[0], MetaData={}, MaxRetryCount=1, WarningAction="Stop")


def test_context_commands(emulator):
    compat.Set_OpenAIContext(ApiBase=emulator.url, MaxRetry=2, OrgId="org-1")
    context = compat.Get_OpenAIContext()
    assert (context.ApiBase, context.MaxRetryCount, context.Organization) == (emulator.url, 2, "org-1")
    compat.Clear_OpenAIContext()
    assert compat.Get_OpenAIContext().MaxRetryCount == 0


# -- invoke("...") --------------------------------------------------------------------------------


def test_invoke_named(emulator, ids):
    result = invoke(f"Set-ChatCompletion -CompletionId {ids[0]} -MetaData @{{foo='bar'; n='1'}}")
    assert result.metadata.to_dict() == {"foo": "bar", "n": "1"}
    assert emulator.requests[0].body == b'{"metadata":{"foo":"bar","n":"1"}}'


def test_invoke_positional_prefix_colon_and_switch(emulator, ids):
    result = invoke(f"set-chatcompletion '{ids[1]}' -meta:@{{a='x'}} -Verbose -Max 2")
    assert result.id == ids[1]


def test_invoke_pipeline_from_expression_and_between_commands(emulator, ids):
    outputs = invoke(
        f"'{ids[0]}', '{ids[1]}' | Set-ChatCompletion -MetaData @{{s='1'}} | "
        f"Set-ChatCompletion -MetaData @{{s='2'}}"
    )
    assert [o.metadata.s for o in outputs] == ["2", "2"]
    assert updated_ids(emulator) == [ids[0], ids[0], ids[1], ids[1]]


def test_invoke_error_action_stop(emulator, ids):
    with pytest.raises(NotFoundException):
        invoke("Set-ChatCompletion -CompletionId chatcmpl-none -MetaData @{} -ErrorAction Stop")


def test_invoke_unknown_command():
    with pytest.raises(ParameterBindingError, match="not recognized"):
        invoke("Get-Nothing -Id x")


def test_invoke_syntax_error_points_at_it(emulator, ids):
    with pytest.raises(ValueError, match="at position"):
        invoke(f"Set-ChatCompletion {ids[0]} -MetaData @{{a='1'")
    assert emulator.requests == []


def test_dropped_connection_under_continue(emulator, ids, capsys):
    emulator.inject(Fault(drop=True))
    outputs = Set_ChatCompletion(ids[:2], MetaData={})
    assert outputs.id == ids[1]
    assert f"Set-ChatCompletion: [{ids[0]}] The request could not be completed" in capsys.readouterr().err


def test_no_verbose_lines_without_verbose_even_when_the_app_logs_debug(emulator, ids, capsys):
    import logging

    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    try:
        Set_ChatCompletion(ids[0], MetaData={})
    finally:
        root.setLevel(old)
    assert "VERBOSE:" not in capsys.readouterr().err
