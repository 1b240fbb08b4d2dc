"""The core checks (psopenai_py.checks): each rule on a table of values and as a property over
any text, and the words of a refusal: the problem and the limit, never a front-end's name for the
value, never the key or header value itself."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psopenai_py import checks
from psopenai_py.checks import Invalid

# Every front-end's name for a value: the core's sentences use none of them.
FRONT_END_WORDS = (
    "ApiKey",
    "ApiBase",
    "AdditionalHeaders",
    "CompletionId",
    "MetaData",
    "TimeoutSec",
    "api_key",
    "api_base",
    "base_url",
    "extra_headers",
    "completion_id",
    "--",
    "Cannot validate argument",
    "Incorrect Usage",
)


def refusal(check, *args) -> str:
    with pytest.raises(Invalid) as caught:
        check(*args)
    problem = caught.value.problem
    assert str(caught.value) == problem and problem.endswith(".")
    assert not [w for w in FRONT_END_WORDS if w in problem], problem
    return problem


KEY = "sk-proj-0123456789abcdefghijklmnopqrstuv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (KEY, KEY),
        (f" \t{KEY}\r\n", KEY),
        (f"\ufeff{KEY}\n", KEY),
        (f"\u00a0{KEY}\u2028", KEY),
        ("My API Key", "My API Key"),  # a space inside is printable ASCII
        ("  \n", ""),
        ("", ""),
    ],
)
def test_a_key_is_trimmed(text, expected):
    assert checks.api_key(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (KEY[:10] + "\n" + KEY[10:], "a line break at position 11"),
        (KEY[:10] + "\r" + KEY[10:], "a line break at position 11"),
        (KEY[:3] + "\0" + KEY[3:], "a control character at position 4"),
        (KEY + "\x7f", "a control character at position 41"),
        ("sk-abc\u00e9defghijklmnop", "a non-ASCII character at position 7"),
        (KEY[:5] + "\u200b" + KEY[5:], "a non-ASCII character at position 6"),
    ],
)
def test_a_key_with_anything_but_printable_ascii_inside_is_refused_unquoted(text, words):
    problem = refusal(checks.api_key, text)
    assert problem.startswith("The API key has ") and words in problem
    assert "printable ASCII" in problem
    assert not any(text[i : i + 8] in problem for i in range(len(text) - 7))


@given(st.text(max_size=60))
def test_any_key_text_is_either_printable_ascii_once_trimmed_or_refused(text):
    try:
        key = checks.api_key(text, "The key")
    except Invalid as exc:
        assert exc.problem.startswith("The key has ")
        assert any(not " " <= c <= "~" for c in checks.trim(text))
    else:
        assert key == checks.trim(text) and all(" " <= c <= "~" for c in key)


def edge(char: str) -> bool:
    return char.isspace() or char == "\ufeff"


@given(st.text(alphabet=st.sampled_from(" \t\r\n\u00a0\u2028\ufeffab\u00e9"), max_size=40))
def test_trim_takes_off_exactly_the_white_space_and_byte_order_marks_around(text):
    trimmed = checks.trim(text)
    start = text.find(trimmed) if trimmed else len(text)
    assert text[start : start + len(trimmed)] == trimmed
    assert all(edge(c) for c in text[:start] + text[start + len(trimmed) :])
    assert not trimmed or not (edge(trimmed[0]) or edge(trimmed[-1]))


@pytest.mark.parametrize("name", ["X-Note", "Connection", "OpenAI-Project", "x!#$%&'*+-.^_`|~9"])
def test_token_header_names_pass(name):
    assert checks.header_name(name) == name


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Bad Name", "is not an HTTP token"),
        ("X:Y", "is not an HTTP token"),
        ("", "is not an HTTP token"),
        ("\u041a", "is not an HTTP token"),
        (7, "is not an HTTP token"),
        *((name, "frames the request") for name in checks.FRAMING_HEADERS),
        ("content-length", "frames the request"),
        ("HOST", "frames the request"),
    ],
)
def test_a_header_name_that_is_no_token_or_frames_the_request_is_refused(name, words):
    assert words in refusal(checks.header_name, name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("close", "close"), ("  padded\t", "padded"), ("caf\u00e9", "caf\u00e9"), ("a\tb", "a\tb"), ("", "")],
)
def test_a_header_value_is_trimmed(text, expected):
    assert checks.header_value(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a\r\nInjected: 1", "a line break at position 2"),
        ("a\nb", "a line break at position 2"),
        ("a\x1bb", "a control character (U+001B) at position 2"),
        ("a\0", "a control character (U+0000) at position 2"),
        ("a\x85b", "a control character (U+0085) at position 2"),
        ("\u65e5", "a character outside Latin-1 (U+65E5) at position 1"),
    ],
)
def test_a_header_value_with_a_break_a_control_or_beyond_latin1_is_refused_unquoted(text, words):
    problem = refusal(checks.header_value, "secret-" + text)
    assert words.replace("position 2", "position 9").replace("position 1", "position 8") in problem
    assert "secret" not in problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://api.openai.com/v1", "https://api.openai.com/v1"),
        (" http://127.0.0.1:8080/v1\n", "http://127.0.0.1:8080/v1"),
        ("HTTP://[::1]:1/v1", "HTTP://[::1]:1/v1"),
        ("https://x.openai.azure.com", "https://x.openai.azure.com"),
    ],
)
def test_a_base_url_is_trimmed(text, expected):
    assert checks.base_url(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ftp://x/v1", "is not an absolute http or https URL"),
        ("127.0.0.1:8080/v1", "is not an absolute http or https URL"),
        ("/v1", "is not an absolute http or https URL"),
        ("http://user:s3cretpw@h/v1", "carries user-info"),
        ("http://h:99999/v1", "has an invalid port; a port is a number from 1 to 65535"),
        ("http://h:0/v1", "has an invalid port"),
        ("http://h:x/v1", "has an invalid port"),
        ("http://h/v 1", "has a space or control character at position 11"),
        ("http://h/v\x001", "has a space or control character at position 11"),
        ("http://a..b/v1", "has an invalid host name"),
        ("http://a%b/v1", "has an invalid host name"),
    ],
)
def test_a_base_url_that_cannot_be_one_is_refused(text, words):
    problem = refusal(checks.base_url, text)
    assert problem.startswith('The URL "') and words in problem
    assert "s3cretpw" not in problem and "\x00" not in problem


def test_ids_pass_as_given_up_to_1024_characters():
    for ident in ("chatcmpl-abc123", " padded ", "x" * checks.COMPLETION_ID_MAX_LENGTH):
        assert checks.completion_id(ident) == ident


@pytest.mark.parametrize(
    ("ident", "words"),
    [
        ("", "is empty or blank"),
        (" \t", "is empty or blank"),
        ("x" * 1025, "has 1025 characters; the limit is 1024"),
        ("chatcmpl-a\x01b", "the control character U+0001"),
        ("chatcmpl-a\x9fb", "the control character U+009F"),
        ("chatcmpl-\udc80", "the lone surrogate U+DC80"),
    ],
)
def test_ids_that_no_stored_completion_has_are_refused(ident, words):
    problem = refusal(checks.completion_id, ident)
    assert problem.startswith("The id ") and words in problem


def test_metadata_at_its_limits_passes():
    value = {"k" * 64: "v" * 512, **{f"k{i}": "" for i in range(15)}}
    assert checks.metadata(value) == value


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({f"k{i}": "v" for i in range(17)}, "It has 17 pairs; the limit is 16."),
        ({"k" * 65: "v"}, "has 65 characters; the limit is 64."),
        ({"k": "v" * 513}, "The value of key 'k' has 513 characters; the limit is 512."),
        ({"k": 1}, "The value of key 'k' is a number; values must be strings."),
        ({"k": None}, "The value of key 'k' is null; values must be strings."),
        ({1: "v"}, "The key 1 is a number; keys must be strings."),
        ({"k": "\ud800"}, "holds the lone surrogate U+D800"),
        ({"\udcff": "v"}, "The key '\\udcff' holds the lone surrogate U+DCFF"),
    ],
)
def test_metadata_beyond_the_apis_limits_is_refused(value, words):
    assert words in refusal(checks.metadata, value)


@pytest.mark.parametrize("seconds", [0.001, 1, 600.0, checks.MAX_TIMEOUT_SECONDS])
def test_a_timeout_is_seconds_above_zero(seconds):
    assert checks.timeout_seconds(seconds) == float(seconds)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "must be more than 0 seconds; it is 0"),
        (-1, "must be more than 0 seconds; it is -1"),
        (math.nan, "is NaN"),
        (math.inf, "over the limit of 2147483647"),
        (10**300, "over the limit of 2147483647"),
        (10**5000, "(an integer of 16610 bits) seconds, over the limit"),
    ],
    ids=["zero", "negative", "nan", "inf", "10^300", "10^5000"],
)
def test_a_timeout_that_can_be_no_deadline_is_refused(seconds, words):
    assert words in refusal(checks.timeout_seconds, seconds)


def test_retries_range_from_none_to_the_most():
    assert checks.retries(0) == 0 and checks.retries(checks.MAX_RETRIES) == checks.MAX_RETRIES
    assert "from 0 to 100; it is 101" in refusal(checks.retries, 101)
    assert "it is -1" in refusal(checks.retries, -1)


def test_text_that_utf8_cannot_carry_is_refused_with_its_byte():
    assert checks.utf8_text("caf\u00e9", "The model") == "caf\u00e9"
    assert "character 4 is the byte 0xe9" in refusal(checks.utf8_text, "caf\udce9", "The model")
    assert "character 1 is the lone surrogate U+D800" in refusal(checks.utf8_text, "\ud800", "The model")


def test_the_core_imports_no_front_end_and_no_parameter_table():
    # One rule per fact, under every door: the checks cannot lean on a door's words or tables
    # (the scrubber masks a URL's user-info; the errors module gives the one binding error).
    tree = ast.parse((Path(checks.__file__)).read_text(encoding="utf-8"))
    imported = {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level
    }
    assert imported <= {"scrub", "errors"}, imported
