"""The event-stream parser: the rules as a table, and properties over any way the bytes are cut
into reads and any line ends."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psopenai_py.transport import sse
from psopenai_py.transport.sse import Event, SSEFormatError, SSEParser


def parse(*reads: bytes, max_event_bytes: int = 1 << 20) -> list[Event]:
    parser = SSEParser(max_event_bytes=max_event_bytes)
    events: list[Event] = []
    for data in reads:
        events += parser.feed(data)
    return events + parser.close()


RULES = [
    ("one data line", b"data: hello\n\n", [Event("hello")]),
    ("data lines joined with LF", b"data: a\ndata: b\ndata:c\n\n", [Event("a\nb\nc")]),
    ("one space after the colon dropped, not two", b"data:  two\n\n", [Event(" two")]),
    ("no space after the colon", b"data:x\n\n", [Event("x")]),
    ("a comment is ignored", b": keep-alive\ndata: x\n\n", [Event("x")]),
    ("a comment alone dispatches nothing", b": ping\n\n", []),
    ("event names the event", b"event: error\ndata: {}\n\n", [Event("{}", "error")]),
    ("the name lasts one event", b"event: a\ndata: 1\n\ndata: 2\n\n", [Event("1", "a"), Event("2")]),
    ("a name without data is forgotten", b"event: a\n\ndata: 2\n\n", [Event("2")]),
    ("a blank line dispatches", b"data: 1\n\ndata: 2\n\n", [Event("1"), Event("2")]),
    ("extra blank lines dispatch nothing", b"\n\n\ndata: 1\n\n\n\n", [Event("1")]),
    ("CRLF line ends", b"data: a\r\ndata: b\r\n\r\n", [Event("a\nb")]),
    ("CR line ends", b"data: a\rdata: b\r\r", [Event("a\nb")]),
    ("mixed line ends", b"data: a\r\ndata: b\rdata: c\n\r\n", [Event("a\nb\nc")]),
    ("an empty data line", b"data\n\n", [Event("")]),
    ("empty data is still an event", b"data:\n\n", [Event("")]),
    ("data lines around an empty one", b"data: a\ndata:\ndata: b\n\n", [Event("a\n\nb")]),
    ("a field without a colon is that field", b"data\ndata: x\n\n", [Event("\nx")]),
    ("unknown fields are ignored", b"foo: bar\ndata: x\n\n", [Event("x")]),
    ("id is kept", b"id: 7\ndata: x\n\n", [Event("x", id="7")]),
    ("id lasts across events", b"id: 7\ndata: x\n\ndata: y\n\n", [Event("x", id="7"), Event("y", id="7")]),
    ("an id with a NUL is ignored", b"id: 7\x00\ndata: x\n\n", [Event("x")]),
    ("retry is a number", b"retry: 1500\ndata: x\n\n", [Event("x", retry=1500)]),
    ("a retry that is no number is ignored", b"retry: 1.5\ndata: x\n\n", [Event("x")]),
    ("the end marker is data like any", b"data: [DONE]\n\n", [Event("[DONE]")]),
    ("a BOM at the start is dropped", b"\xef\xbb\xbfdata: x\n\n", [Event("x")]),
    ("a BOM later is data", b"data: \xef\xbb\xbfx\n\n", [Event("\ufeffx")]),
    ("UTF-8 text", "data: grüße 日本\n\n".encode(), [Event("grüße 日本")]),
    ("invalid UTF-8 reads as U+FFFD", b"data: a\xffb\n\n", [Event("a\ufffdb")]),
    ("a last event whose lines ended comes", b"data: 1\n\ndata: [DONE]\n", [Event("1"), Event("[DONE]")]),
    ("a last line cut off by the end is dropped", b"data: 1\n\ndata: [DO", [Event("1")]),
    ("a field name is case-sensitive", b"Data: x\n\ndata: y\n\n", [Event("y")]),
    ("a colon in the value is kept", b'data: {"a": 1}\n\n', [Event('{"a": 1}')]),
]


@pytest.mark.parametrize(("body", "expected"), [(b, e) for _, b, e in RULES], ids=[n for n, _, _ in RULES])
def test_rules(body: bytes, expected: list[Event]) -> None:
    assert parse(body) == expected


@pytest.mark.parametrize(("body", "expected"), [(b, e) for _, b, e in RULES], ids=[n for n, _, _ in RULES])
def test_rules_hold_when_every_byte_is_a_read_of_its_own(body: bytes, expected: list[Event]) -> None:
    # CRLF cut between two reads, a UTF-8 character cut in the middle, a BOM cut: all put together.
    assert parse(*(body[i : i + 1] for i in range(len(body)))) == expected


def test_a_crlf_cut_between_reads_is_one_line_end() -> None:
    # Read as CR then LF, it would be two line ends: a blank line dispatching too early.
    assert parse(b"data: a\r", b"\ndata: b\r\n\r\n") == [Event("a\nb")]


def test_a_character_cut_between_reads_is_put_together() -> None:
    body = "data: é€😀\n\n".encode()
    for cut in range(1, len(body)):
        assert parse(body[:cut], body[cut:]) == [Event("é€😀")], cut


def test_events_come_as_soon_as_their_blank_line_does() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: 1\n") == []
    assert parser.feed(b"\n") == [Event("1")]
    assert parser.feed(b"data: 2\n\nda") == [Event("2")]
    assert parser.feed(b"ta: 3\n\n") == [Event("3")]
    assert parser.close() == []


def test_lines_counts_whole_lines_only() -> None:
    parser = SSEParser()
    parser.feed(b"data: x")
    assert parser.lines == 0  # a line that has not ended is no sign of progress
    parser.feed(b"yz")
    assert parser.lines == 0
    parser.feed(b"\n: comment\n\n")
    assert parser.lines == 3


def test_a_line_beyond_the_limit_is_refused() -> None:
    parser = SSEParser(max_event_bytes=100)
    with pytest.raises(SSEFormatError, match="longer than 100 bytes"):
        for _ in range(20):
            parser.feed(b"x" * 10)  # a line that never ends


def test_an_event_beyond_the_limit_is_refused() -> None:
    with pytest.raises(SSEFormatError, match="larger than 100 bytes"):
        parse(b"data: " + b"x" * 60 + b"\n" + b"data: " + b"y" * 60 + b"\n\n", max_event_bytes=100)


def test_an_event_within_the_limit_passes() -> None:
    assert parse(b"data: " + b"x" * 90 + b"\n\n", max_event_bytes=100) == [Event("x" * 90)]


# -- properties ------------------------------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=20)
_name = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=8)
_events = st.lists(
    st.tuples(st.lists(_text, min_size=1, max_size=3), st.one_of(st.none(), _name)), max_size=6
)
_ends = st.sampled_from([b"\n", b"\r\n", b"\r"])


def _encode(events: list[tuple[list[str], str | None]], ends: list[bytes]) -> bytes:
    out = bytearray()
    for index, (lines, name) in enumerate(events):
        end = ends[index % len(ends)]
        if name is not None:
            out += b"event: " + name.encode() + end
        for line in lines:
            out += b"data: " + line.encode("utf-8") + end
        out += end
    return bytes(out)


@given(events=_events, ends=st.lists(_ends, min_size=1, max_size=4), cuts=st.lists(st.integers(0, 400)))
def test_any_events_with_any_line_ends_cut_anywhere_come_back(
    events: list[tuple[list[str], str | None]], ends: list[bytes], cuts: list[int]
) -> None:
    body = _encode(events, ends)
    points = sorted({c for c in cuts if 0 < c < len(body)})
    reads = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    expected = [Event("\n".join(lines), name or "message") for lines, name in events]
    assert parse(*reads) == expected


@given(body=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300)))
def test_how_the_bytes_are_cut_never_changes_the_events(body: bytes, cuts: list[int]) -> None:
    points = sorted({c for c in cuts if 0 < c < len(body)})
    reads = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    assert parse(*reads) == parse(body)


def test_the_parser_is_pure_and_imports_no_http_library() -> None:
    # Like the wire format: the rules stand on their own, tested above as tables and properties.
    tree = ast.parse(Path(sse.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "dataclasses"}
