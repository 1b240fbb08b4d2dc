"""The one scrubber removes pieces of a key too: any run of 8 or more characters copied from a
generated key, raw or as JSON escapes, wherever it stands; and nothing else."""

from __future__ import annotations

import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from psopenai_py.scrub import FRAGMENT, scrub
from tests.conftest import CANARY_KEY

ALPHABET = string.ascii_letters + string.digits


@st.composite
def generated_keys(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet=ALPHABET, min_size=40, max_size=64))
    return "sk-proj-" + body


def leaks(text: str, key: str) -> bool:
    shown = len("sk-proj-") + 3
    return any(
        key[i : i + FRAGMENT] in text
        for i in range(len(key) - FRAGMENT + 1)
        if i + FRAGMENT > shown and len(set(key[i : i + FRAGMENT])) >= 5
    )


@settings(max_examples=200, deadline=None)
@given(
    key=generated_keys(),
    start=st.integers(min_value=0, max_value=60),
    length=st.integers(min_value=FRAGMENT, max_value=70),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_any_run_of_a_generated_key_is_removed(key: str, start: int, length: int, before: str, after: str):
    piece = key[start : start + length]
    if len(set(key[8:])) < 16 or len(piece) < FRAGMENT:
        return
    for text in (before + piece + after, before + json.dumps(piece, ensure_ascii=True)[1:-1] + after):
        assert not leaks(scrub(text, (key,)), key)


def test_a_run_written_as_json_escapes_is_removed():
    piece = CANARY_KEY[10:30]
    escaped = "".join(f"\\u{ord(c):04x}" for c in piece)
    assert scrub(f'{{"echo": "{escaped}"}}', (CANARY_KEY,)) == '{"echo": "********"}'


def test_what_the_masked_form_shows_is_not_a_leak():
    assert scrub("key sk-proj-CAN***************yZ in use", (CANARY_KEY,)) == (
        "key sk-proj-CAN***************yZ in use"
    )


def test_placeholder_and_test_keys_are_removed_whole_only():
    # Their pieces are words and zeros that ordinary text holds too.
    key = "sk-test-0000000000000000"
    assert scrub("created 1800000000, chatcmpl-test-000001", (key,)) == (
        "created 1800000000, chatcmpl-test-000001"
    )
    assert key not in scrub(f"echo {key}", (key,))


def test_ordinary_text_is_left_alone():
    text = '{"id": "chatcmpl-000001", "created": 1800000000, "metadata": {"team": "ops"}}'
    assert scrub(text, (CANARY_KEY,)) == text
