"""The result object: case-insensitive access, string form, added properties, JSON round trip."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psopenai_py.psobject import PSObject
from psopenai_py.results import COMPLETION_TYPE_NAME, completion_object

RAW = {
    "id": "chatcmpl-abc",
    "object": "chat.completion",
    "created": 1738960610,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "logprobs": None,
            "message": {"role": "assistant", "content": "hello", "refusal": None},
        },
        {
            "index": 1,
            "finish_reason": "content_filter",
            "logprobs": None,
            "message": {"role": "assistant", "content": "cut", "refusal": None},
        },
        {
            "index": 2,
            "finish_reason": "stop",
            "logprobs": None,
            "message": {"role": "assistant", "content": "x", "refusal": "I can't"},
        },
        {
            "index": 3,
            "finish_reason": "stop",
            "logprobs": None,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "audio": {"transcript": "spoken"},
            },
        },
        {
            "index": 4,
            "finish_reason": "length",
            "logprobs": None,
            "message": {"role": "assistant", "content": None, "refusal": None},
        },
    ],
    "metadata": {"Foo": "bar"},
}


def test_completion_object_shape():
    result = completion_object(RAW)
    assert result.pstypenames == [COMPLETION_TYPE_NAME]
    assert str(result) == "chatcmpl-abc"
    assert result.Answer == ["hello", "cut", "I can't", "spoken", ""]  # [string[]]: null is ""
    assert result.Message is None
    assert result.History == []
    assert result.created == dt.datetime.fromtimestamp(1738960610).astimezone()
    assert result.metadata.foo == "bar" and result.Metadata.FOO == "bar"
    assert result["METADATA"]["foo"] == "bar"
    assert result.choices[0].Message.Content == "hello"


def test_created_zero_stays_a_number():
    assert completion_object({**RAW, "created": 0}).created == 0


def test_to_dict_is_what_the_api_sent():
    result = completion_object(RAW)
    assert result.to_dict() == RAW
    assert json.loads(result.to_json()) == RAW
    with_added = result.to_dict(include_added=True)
    assert with_added["Answer"][0] == "hello" and with_added["History"] == []


def test_missing_property_is_attribute_error():
    with pytest.raises(AttributeError):
        _ = completion_object(RAW).nothing_here


def test_setting_a_property_keeps_the_original_case():
    obj = PSObject({"Name": "a"})
    obj.NAME = "b"
    assert obj.to_dict() == {"Name": "b"}
    assert "name" in obj and len(obj) == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_round_trip_of_any_json_object_with_distinct_folded_keys(data):
    def folded_unique(value: object) -> bool:
        if isinstance(value, dict):
            lowered = [k.lower() for k in value]
            return len(set(lowered)) == len(lowered) and all(map(folded_unique, value.values()))
        if isinstance(value, list):
            return all(map(folded_unique, value))
        return True

    if folded_unique(data):
        assert PSObject(data).to_dict() == data
