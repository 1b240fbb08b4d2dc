"""The PowerShell literal parser: table tests, error positions, and print-then-parse properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psopenai_py.powershell.literals import PowerShellSyntaxError, parse_argument, parse_literal, to_literal


@pytest.mark.parametrize(
    "text,expected",
    [
        ("@{foo='bar'; team='ops'}", {"foo": "bar", "team": "ops"}),
        ("@{ foo = 'bar' }", {"foo": "bar"}),
        ("@{}", {}),
        ("@{a=1\nb=2}", {"a": 1, "b": 2}),
        ("@{a=1;;b=2;}", {"a": 1, "b": 2}),
        ("@{'key with space'=\"v\"; \"q\"='w'}", {"key with space": "v", "q": "w"}),
        ("@{outer=@{inner=@{deep=$true}}}", {"outer": {"inner": {"deep": True}}}),
        ("[ordered]@{z=1; a=2}", {"z": 1, "a": 2}),
        ("@{list=@('a', 'b'); n=$null; f=$False}", {"list": ["a", "b"], "n": None, "f": False}),
        ("@{a=1 # a comment\n b=2}", {"a": 1, "b": 2}),
        ("@{bare=word}", {"bare": "word"}),
        ("@('a','b')", ["a", "b"]),
        ("@()", []),
        ("@(1; 2, 3)", [1, 2, 3]),
        ("'a','b'", ["a", "b"]),
        ("'it''s'", "it's"),
        ("'\u2018\u2018x\u2019\u2019'", "\u2018x\u2019"),
        ('"say ""hi"""', 'say "hi"'),
        ('"tab`there`nnew `"q`" ``"', 'tab\there\nnew "q" `'),
        ("'no `n escape'", "no `n escape"),
        ("\u2018smart\u2019", "smart"),
        ("42", 42),
        ("-7", -7),
        ("1.5", 1.5),
        ("2e3", 2000.0),
        ("0x1F", 31),
        ("123-abc", "123-abc"),
        ("chatcmpl-abc", "chatcmpl-abc"),
        ("$TRUE", True),
        ("$null", None),
        ('{"a": [1, {"b": null}]}', {"a": [1, {"b": None}]}),
        ("[1, 2]", [1, 2]),
    ],
)
def test_literals(text, expected):
    assert parse_literal(text) == expected


@pytest.mark.parametrize(
    "text,position,words",
    [
        ("@{a=1", 0, "no closing '}'"),
        ("@{a='x}", 4, "no closing quote"),
        ("@{a 1}", 4, "expected '='"),
        ("@{a=1 b=2}", 6, "expected ';'"),
        ("@{a=1; a=2}", 7, "duplicate key 'a'"),
        ("$env:HOME", 0, "only $true, $false and $null"),
        ("@(1, 2", 0, "no closing ')'"),
        ("'abc' extra", 6, "unexpected 'e'"),
        ('{"a": }', 6, "invalid JSON"),
        ("", 0, "expected a value"),
    ],
)
def test_errors_point_at_the_position(text, position, words):
    with pytest.raises(PowerShellSyntaxError) as caught:
        parse_literal(text)
    assert caught.value.position == position
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_argument_mode_keeps_plain_text():
    assert parse_argument("chatcmpl-abc") == "chatcmpl-abc"
    assert parse_argument("a b c") == "a b c"
    assert parse_argument("@{a='b'}") == {"a": "b"}


keys = st.text(min_size=0, max_size=12)


def hashtables(
    key: st.SearchStrategy[str], value: st.SearchStrategy[object], max_size: int
) -> st.SearchStrategy:
    """Dictionaries a PowerShell hashtable can hold: keys distinct without regard to case (the
    parser refuses ``@{'È'=1; 'è'=2}`` as a duplicate key, as PowerShell does)."""
    pairs = st.lists(st.tuples(key, value), max_size=max_size, unique_by=lambda pair: pair[0].lower())
    return pairs.map(dict)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.text(max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | hashtables(keys, children, 4),
    max_leaves=15,
)


def test_typographic_quotes_round_trip():
    data = {"\u2018": None, "\u2018\u2018": "a\u2019b", "it's": "'"}
    assert parse_literal(to_literal(data)) == data


@given(hashtables(keys, values, 6))
def test_printed_hashtable_parses_back_to_itself(data):
    assert parse_literal(to_literal(data)) == data


@given(hashtables(st.text(max_size=64), st.text(max_size=64), 16))
def test_metadata_shaped_dicts_round_trip(data):
    assert parse_literal(to_literal(data)) == data
