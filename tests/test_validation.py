"""Bad input: a clear error naming the parameter, the problem and the limit, and nothing sent."""

from __future__ import annotations

from typing import Any

import pytest

import psopenai_py
from psopenai_py.errors import ParameterBindingError, ParameterTypeError, PSOpenAIError

KEY = "sk-valid-000000000000000000000"


class NoId:
    name = "x"


CASES = [
    # (positional id, metadata, keyword arguments, error class, parameter, text in the message)
    ("", {}, {}, ParameterBindingError, "CompletionId", "empty or blank"),
    ("   ", {}, {}, ParameterBindingError, "CompletionId", "empty or blank"),
    (None, {}, {}, ParameterBindingError, "CompletionId", "null"),
    (42, {}, {}, ParameterTypeError, "CompletionId", "no property named"),
    (NoId(), {}, {}, ParameterTypeError, "CompletionId", "no property named"),
    ({"id": 5}, {}, {}, ParameterTypeError, "CompletionId", '"int" to type "System.String"'),
    ("c", None, {}, ParameterBindingError, "MetaData", "null"),
    ("c", [("a", "b")], {}, ParameterTypeError, "MetaData", "IDictionary"),
    (
        "c",
        {f"k{i}": "v" for i in range(17)},
        {},
        ParameterBindingError,
        "MetaData",
        "17 pairs; the limit is 16",
    ),
    ("c", {"k" * 65: "v"}, {}, ParameterBindingError, "MetaData", "65 characters; the limit is 64"),
    (
        "c",
        {"k": "v" * 513},
        {},
        ParameterBindingError,
        "MetaData",
        "value of key 'k' has 513 characters; the limit is 512",
    ),
    ("c", {"k": 1}, {}, ParameterBindingError, "MetaData", "value of key 'k' is a number"),
    ("c", {"k": True}, {}, ParameterBindingError, "MetaData", "value of key 'k' is a boolean"),
    ("c", {"k": None}, {}, ParameterBindingError, "MetaData", "value of key 'k' is null"),
    ("c", {"k": {"n": "x"}}, {}, ParameterBindingError, "MetaData", "values must be strings"),
    ("c", {1: "v"}, {}, ParameterBindingError, "MetaData", "keys must be strings"),
    (
        "c",
        {},
        {"max_retry_count": 101},
        ParameterBindingError,
        "MaxRetryCount",
        "greater than the maximum allowed range of 100",
    ),
    (
        "c",
        {},
        {"max_retry_count": -1},
        ParameterBindingError,
        "MaxRetryCount",
        "less than the minimum allowed range of 0",
    ),
    ("c", {}, {"max_retry_count": "3"}, ParameterTypeError, "MaxRetryCount", "System.Int32"),
    ("c", {}, {"max_retry_count": True}, ParameterTypeError, "MaxRetryCount", "System.Int32"),
    (
        "c",
        {},
        {"timeout_sec": -1},
        ParameterBindingError,
        "TimeoutSec",
        "less than the minimum allowed range of 0",
    ),
    ("c", {}, {"timeout_sec": 1.5}, ParameterTypeError, "TimeoutSec", "System.Int32"),
    (
        "c",
        {},
        {"api_base": "ftp://host"},
        ParameterBindingError,
        "ApiBase",
        "not an absolute http or https URL",
    ),
    ("c", {}, {"api_base": "/relative"}, ParameterBindingError, "ApiBase", "absolute"),
    (
        "c",
        {},
        {"api_type": "aws"},
        ParameterBindingError,
        "ApiType",
        'does not belong to the set "OpenAI,Azure"',
    ),
    ("c", {}, {"auth_type": "basic"}, ParameterBindingError, "AuthType", "openai,azure,azure_ad"),
    (
        "c",
        {},
        {"api_key": 12345},
        ParameterTypeError,
        "ApiKey",
        'Cannot convert the value of type "System.Int32" to type "System.Security.SecureString".',
    ),
    ("c", {}, {"organization": 7}, ParameterTypeError, "Organization", "System.String"),
    (
        "c",
        {},
        {"additional_body": "{not json"},
        ParameterBindingError,
        "AdditionalBody",
        "Failed to parse AdditionalBody as JSON.",
    ),
    ("c", {}, {"additional_body": "[1, 2]"}, ParameterBindingError, "AdditionalBody", "not an object"),
    ("c", {}, {"additional_headers": ["X: y"]}, ParameterTypeError, "AdditionalHeaders", "IDictionary"),
    ("c", {}, {"additional_query": {1: "x"}}, ParameterBindingError, "AdditionalQuery", "not a string"),
]


@pytest.mark.parametrize("ident,metadata,kwargs,cls,parameter,text", CASES)
def test_bad_input_sends_nothing(emulator, transport, ident, metadata, kwargs, cls, parameter, text):
    kwargs.setdefault("api_base", emulator.url)
    kwargs.setdefault("api_key", KEY)
    with pytest.raises(cls) as caught:
        psopenai_py.set_chat_completion(ident, metadata, **kwargs)
    exc: Any = caught.value
    builtin_base: type = ValueError if cls is ParameterBindingError else TypeError
    assert issubclass(type(exc), PSOpenAIError) and issubclass(type(exc), builtin_base)
    assert exc.parameter == parameter
    assert f"'{parameter}'" in str(exc)
    assert text in str(exc)
    assert emulator.requests == []
    assert emulator.connections == 0


def test_missing_key_sends_nothing(emulator, transport):
    with pytest.raises(psopenai_py.MissingSettingError):
        psopenai_py.set_chat_completion("chatcmpl-x", {}, api_base=emulator.url)
    assert emulator.requests == [] and emulator.connections == 0


def test_limits_themselves_are_accepted(emulator, stored, transport):
    metadata = {f"k{i:02d}" + "x" * 61: "v" * 512 for i in range(16)}
    assert all(len(k) == 64 for k in metadata)
    result = psopenai_py.set_chat_completion(
        stored, metadata, api_base=emulator.url, api_key=KEY, max_retry_count=100, timeout_sec=0
    )
    assert len(result.metadata) == 16
