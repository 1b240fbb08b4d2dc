"""The text of a streamed reply as the commands hand it on (``psopenai_py.streaming``): the pieces
PSOpenAI picks out of the chunks, and pieces let go as they come without ever spelling a key."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psopenai_py.streaming import KeySafeText, StreamedText, reply_pieces

KEY = "sk-proj-Wq8Zt3Lk9Rv2Xn6Bc4Hy7Jm1Pd5Sg0Fa"


def leaks(text: str, key: str = KEY) -> list[str]:
    low = text.lower()
    return sorted({key[i : i + 8] for i in range(len(key) - 7) if key[i : i + 8].lower() in low})


def run(pieces: list[str], key: str = KEY) -> list[str]:
    safe = KeySafeText((key,))
    out: list[str] = []
    for piece in pieces:
        out += safe.add(piece)
    return out + safe.finish()


# -- which chunks give text (Public/Chat/Request-ChatCompletion.ps1, the "Stream" region) ------------


def _chunk(**choice: Any) -> dict[str, Any]:
    return {"object": "chat.completion.chunk", "choices": [choice]}


PIECES = [
    ("the role chunk's empty content", [_chunk(delta={"role": "assistant", "content": ""})], [""]),
    ("content", [_chunk(delta={"content": "Hi"})], ["Hi"]),
    ("no content (the last choice chunk)", [_chunk(delta={}, finish_reason="stop")], []),
    ("null content", [_chunk(delta={"content": None})], []),
    ("content that is no string", [_chunk(delta={"content": 5})], []),
    ("a usage chunk without choices", [{"choices": [], "usage": {"total_tokens": 3}}], []),
    ("no choices at all", [{"object": "chat.completion.chunk"}], []),
    ("only the first choice counts", [{"choices": [{"delta": {}}, {"delta": {"content": "x"}}]}], []),
    ("a delta that is no object", [_chunk(delta="text")], []),
]


@pytest.mark.parametrize(
    ("chunks", "expected"), [(c, e) for _, c, e in PIECES], ids=[n for n, _, _ in PIECES]
)
def test_the_chunks_that_give_text_are_the_originals(chunks, expected):
    assert list(reply_pieces(chunks)) == expected


def test_streamed_text_is_a_string():
    piece = StreamedText("Hi")
    assert piece == "Hi" and isinstance(piece, str) and piece + "!" == "Hi!"


# -- pieces let go as they come ---------------------------------------------------------------------


def test_text_without_a_key_goes_on_piece_for_piece():
    # Each piece ends in white space or punctuation, which no key holds: nothing waits.
    safe = KeySafeText((KEY,))
    for piece in ["", "This ", "is ", "a ", "reply. "]:
        assert safe.add(piece) == [piece]
    assert safe.finish() == []


def test_a_piece_whose_end_could_start_a_key_waits_for_the_next_one_only():
    safe = KeySafeText((KEY,))
    assert safe.add("Wq") == []  # "Wq" starts the key's run after its prefix
    assert safe.add(" and more ") == ["Wq", " and more "]


def test_a_key_spelled_a_few_characters_per_piece_never_shows():
    pieces = ["Your key: "] + [KEY[i : i + 3] for i in range(0, len(KEY), 3)] + [" -- done"]
    out = run(pieces)
    assert leaks("".join(out)) == []
    assert "".join(out).startswith("Your key: ") and "".join(out).endswith(" -- done")


def test_the_end_of_the_text_goes_at_the_finish():
    safe = KeySafeText((KEY,))
    assert safe.add("Wq8Z") == []
    assert safe.finish() == ["Wq8Z"]  # four characters of a key are no leak


# -- properties --------------------------------------------------------------------------------------

_ALNUM = string.ascii_letters + string.digits
_keys = st.permutations(_ALNUM).map(lambda chars: "sk-" + "".join(chars[:32]))
"""Keys as generated ones look: every 8-character run of them is a fragment the scrubber takes out."""
_filler = st.text(alphabet=" .,;:!?\n" + "abcXYZ019", max_size=12)


@st.composite
def _texts_with_key_runs(draw: st.DrawFn) -> tuple[str, list[str]]:
    key = draw(_keys)
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        parts.append(draw(_filler))
        start = draw(st.integers(0, len(key) - 1))
        parts.append(key[start : start + draw(st.integers(1, len(key)))])
    parts.append(draw(_filler))
    text = "".join(parts)
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=40))))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return key, pieces


@given(case=_texts_with_key_runs())
def test_no_run_of_a_key_shows_however_the_text_is_cut(case: tuple[str, list[str]]) -> None:
    key, pieces = case
    out = run(pieces, key)
    assert leaks("".join(out), key) == []


@given(key=_keys, pieces=st.lists(st.text(alphabet=" .,;:!?\n", max_size=8), max_size=20))
def test_text_that_shares_nothing_with_a_key_goes_on_unchanged(key: str, pieces: list[str]) -> None:
    # Not a character of the text is in the key: every piece goes on at once, as it came.
    safe = KeySafeText((key,))
    for piece in pieces:
        assert safe.add(piece) == [piece]
    assert safe.finish() == []


@given(key=_keys, pieces=st.lists(st.text(alphabet="abcdefgh ", max_size=8), max_size=20))
def test_text_without_a_key_run_comes_out_whole_in_order(key: str, pieces: list[str]) -> None:
    # Some pieces may wait, but none is lost, changed or reordered.
    assert run(pieces, key) == pieces
