"""The PowerShell binder, as table tests over the Set-ChatCompletion table."""

from __future__ import annotations

from typing import Any

import pytest

from psopenai_py.commands.set_completion import TABLE as CMD
from psopenai_py.errors import ParameterBindingError, ParameterTypeError
from psopenai_py.powershell.binding import SWITCH_PRESENT, bind, resolve_parameter


@pytest.mark.parametrize(
    "given,expected",
    [
        ("CompletionId", "CompletionId"),
        ("completionid", "CompletionId"),
        ("COMPLETIONID", "CompletionId"),
        ("Comp", "CompletionId"),
        ("com", "CompletionId"),
        ("Completion", "CompletionId"),
        ("completion_id", "CompletionId"),
        ("Id", "CompletionId"),
        ("InputObject", "CompletionId"),
        ("inp", "CompletionId"),
        ("meta", "MetaData"),
        ("MetaData", "MetaData"),
        ("Max", "MaxRetryCount"),
        ("Ti", "TimeoutSec"),
        ("ApiK", "ApiKey"),
        ("ApiB", "ApiBase"),
        ("ApiT", "ApiType"),
        ("Au", "AuthType"),
        ("OrgId", "Organization"),
        ("org", "Organization"),
        ("AdditionalQ", "AdditionalQuery"),
        ("AdditionalH", "AdditionalHeaders"),
        ("AdditionalB", "AdditionalBody"),
        ("ApiV", "ApiVersion"),
        ("Verbose", "Verbose"),
        ("vb", "Verbose"),
        ("Verb", "Verbose"),
        ("Deb", "Debug"),
        ("ea", "ErrorAction"),
        ("ErrorA", "ErrorAction"),
        ("ev", "ErrorVariable"),
        ("ErrorV", "ErrorVariable"),
        ("wa", "WarningAction"),
        ("Wa", "WarningAction"),
        ("Thr", "ThrottleLimit"),
        ("wi", "WhatIf"),
        ("WhatIf", "WhatIf"),
        ("cf", "Confirm"),
        ("Conf", "Confirm"),
    ],
)
def test_names_prefixes_and_aliases(given, expected):
    assert resolve_parameter(CMD, given).name == expected


@pytest.mark.parametrize(
    "given,message",
    [
        (
            "M",
            "Parameter cannot be processed because the parameter name 'M' is ambiguous. Possible "
            "matches include: -MetaData -MaxRetryCount.",
        ),
        (
            "A",
            "Possible matches include: -ApiType -ApiBase -ApiVersion -AuthType -ApiKey "
            "-AdditionalQuery -AdditionalHeaders -AdditionalBody.",
        ),
        ("Api", "-ApiType -ApiBase -ApiVersion -ApiKey."),
        ("E", "-ErrorAction -ErrorVariable."),
        ("W", "-WhatIf -WarningAction -WarningVariable."),
        ("Additional", "-AdditionalQuery -AdditionalHeaders -AdditionalBody."),
        ("Foo", "A parameter cannot be found that matches parameter name 'Foo'."),
        ("CompletionIdX", "A parameter cannot be found that matches parameter name 'CompletionIdX'."),
    ],
)
def test_ambiguous_and_unknown_names(given, message):
    with pytest.raises(ParameterBindingError) as caught:
        resolve_parameter(CMD, given)
    assert message in str(caught.value)


def _bind(
    named: list[tuple[str, Any]] | None = None, positional: list[Any] | None = None, **kwargs: Any
) -> Any:
    return bind(CMD, named or [], positional or [], **kwargs)


def test_positional_and_named():
    bound = _bind([("meta", {"a": "b"})], ["chatcmpl-1"])
    assert bound.values == {"CompletionId": "chatcmpl-1", "MetaData": {"a": "b"}}
    assert bound.kwargs() == {"completion_id": "chatcmpl-1", "metadata": {"a": "b"}}


def test_named_position_parameter_leaves_no_position_open():
    with pytest.raises(
        ParameterBindingError, match="A positional parameter cannot be found that accepts argument 'x'"
    ):
        _bind([("Id", "a"), ("MetaData", {})], ["x"])


def test_specified_twice():
    with pytest.raises(ParameterBindingError, match="'CompletionId' is specified more than once"):
        _bind([("Id", "a"), ("Completion", "b"), ("MetaData", {})])


@pytest.mark.parametrize(
    "named,positional,missing",
    [
        ([], [], "CompletionId MetaData"),
        ([("MetaData", {})], [], "CompletionId"),
        ([], ["chatcmpl-1"], "MetaData"),
    ],
)
def test_missing_mandatory(named, positional, missing):
    with pytest.raises(ParameterBindingError) as caught:
        _bind(named, positional)
    assert str(caught.value) == (
        f"Cannot process command because of one or more missing mandatory parameters: {missing}."
    )


def test_pipeline_input_satisfies_the_pipeline_parameter():
    bound = _bind([("MetaData", {})], pipeline=iter(["a", "b"]))
    assert "CompletionId" not in bound.values and bound.pipeline is not None


def test_pipeline_input_never_satisfies_metadata():
    with pytest.raises(ParameterBindingError, match="parameters: MetaData"):
        _bind([("Id", "a")], pipeline=iter([]))


@pytest.mark.parametrize(
    "name,text,expected",
    [
        ("MaxRetryCount", "5", 5),
        ("TimeoutSec", " 30 ", 30),
        ("MetaData", "@{a='b'}", {"a": "b"}),
        ("MetaData", '{"a": "b"}', {"a": "b"}),
        ("CompletionId", "chatcmpl-x", "chatcmpl-x"),
        ("AdditionalBody", '{"x": 1}', '{"x": 1}'),
        ("AdditionalBody", "@{x=1}", {"x": 1}),
        ("ApiKey", "sk-abc", "sk-abc"),
        ("Verbose", SWITCH_PRESENT, True),
        ("Verbose", "$false", False),
    ],
)
def test_text_values_are_converted(name, text, expected):
    named = [(name, text)] + ([("MetaData", {})] if name != "MetaData" else [])
    bound = _bind(named, ["c"] if name != "CompletionId" else [], from_text=True)
    assert {**bound.values, "Verbose": bound.common.verbose}[name] == expected


@pytest.mark.parametrize(
    "name,text,cls,message",
    [
        (
            "MaxRetryCount",
            "many",
            ParameterTypeError,
            'Cannot convert value "many" to type "System.Int32". Error: "Input string was not in a '
            'correct format."',
        ),
        ("MetaData", "@{a=", ParameterBindingError, "at position 4"),
        ("MetaData", "'just text'", ParameterTypeError, "System.Collections.IDictionary"),
        ("MetaData", SWITCH_PRESENT, ParameterBindingError, "Missing an argument for parameter 'MetaData'."),
        (
            "ErrorAction",
            "Sometimes",
            ParameterBindingError,
            'The possible enumeration values are "Continue, Ignore, Inquire, SilentlyContinue, Stop"',
        ),
    ],
)
def test_conversion_errors_name_the_parameter(name, text, cls, message):
    with pytest.raises(cls) as caught:
        _bind(
            [(name, text), ("Id", "c")] + ([("MetaData", {})] if name != "MetaData" else []), from_text=True
        )
    assert message in str(caught.value)
    assert caught.value.parameter == name


def test_common_parameters():
    bound = _bind(
        [
            ("Id", "c"),
            ("Meta", {}),
            ("vb", SWITCH_PRESENT),
            ("ea", "silentlycontinue"),
            ("ev", "errs"),
            ("wa", "stop"),
            ("Debug", True),
        ]
    )
    common = bound.common
    assert (
        common.verbose,
        common.debug,
        common.error_action,
        common.warning_action,
        common.error_variable,
    ) == (True, True, "SilentlyContinue", "Stop", "errs")
    assert set(bound.values) == {"CompletionId", "MetaData"}


def test_ranges_are_checked_by_the_command_not_twice():
    # The binder converts; the range (from the same table) is the library's check.
    bound = _bind([("Id", "c"), ("Meta", {}), ("Max", "101")], from_text=True)
    assert bound.values["MaxRetryCount"] == 101


T = __import__("psopenai_py.powershell.binding", fromlist=["ParameterToken"]).ParameterToken


@pytest.mark.parametrize(
    "tokens,named,positional",
    [
        ([T("Id"), "c", T("Meta"), "@{}"], [("Id", "c"), ("Meta", "@{}")], []),
        (["c", T("Meta", "@{}")], [("Meta", "@{}")], ["c"]),
        ([T("Verbose"), "c", T("Meta"), "@{}"], [("Verbose", SWITCH_PRESENT), ("Meta", "@{}")], ["c"]),
        ([T("Verbose", "$false"), "c"], [("Verbose", "$false")], ["c"]),
    ],
)
def test_split_arguments(tokens, named, positional):
    from psopenai_py.powershell.binding import split_arguments

    assert split_arguments(CMD, tokens) == (named, positional)


@pytest.mark.parametrize("tokens", [[T("MetaData")], [T("MetaData"), T("Verbose")]])
def test_split_arguments_missing_value(tokens):
    from psopenai_py.powershell.binding import split_arguments

    with pytest.raises(ParameterBindingError) as caught:
        split_arguments(CMD, tokens)
    assert str(caught.value) == (
        "Missing an argument for parameter 'MetaData'. Specify a "
        "parameter of type 'System.Collections.IDictionary' and try "
        "again."
    )
