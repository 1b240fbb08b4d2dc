"""JSON as it was received: every part keeps its own text, nothing is re-encoded.

The official CLI renders, transforms and converts the response's text itself, so ``1e5`` stays
``1e5``, ``1.10`` stays ``1.10`` and ``"\\u00e9"`` keeps its escape.  ``json.loads`` would lose all
three, so the dialect reads a document into :class:`Node` trees whose scalars are slices of the
text.  Hand-written (no library does this) and iterative over the nesting, so a deep document
cannot exhaust the interpreter's stack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = [
    "Node",
    "JSONTextError",
    "parse",
    "parse_or_none",
    "compact",
    "compact_node",
    "decode_string",
    "go_quote",
]

OBJECT, ARRAY, STRING, NUMBER, TRUE, FALSE, NULL = (
    "object",
    "array",
    "string",
    "number",
    "true",
    "false",
    "null",
)
MAX_DEPTH = 400
"""Deeper documents are refused: far beyond any API object, and shallow enough for the
renderers, which recurse over the nesting.  (The transport's own parser gives up near 1000.)"""

_WHITESPACE = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
# NaN and the infinities are no JSON, but Python's parser (which the transport uses) lets them
# through, and the official indenter copies them as numbers: so are they here.
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|NaN|-?Infinity")
_LITERALS = {"t": ("true", TRUE), "f": ("false", FALSE), "n": ("null", NULL)}


class JSONTextError(ValueError):
    """The text is not one JSON document."""


@dataclass(frozen=True)
class Node:
    """One JSON value: its kind, its exact text, and (for objects and arrays) its parts.

    ``members`` holds an object's ``(key text, value)`` pairs in received order, the key text
    with its quotes and escapes; ``items`` an array's values.
    """

    kind: str
    text: str
    members: tuple[tuple[str, Node], ...] = ()
    items: tuple[Node, ...] = ()

    @property
    def is_container(self) -> bool:
        """Whether the value is an object or an array."""
        return self.kind in (OBJECT, ARRAY)

    def string(self) -> str:
        """A string's decoded text (lone surrogates as U+FFFD, as Go decodes them)."""
        return decode_string(self.text)

    def keys(self) -> list[str]:
        """An object's keys, decoded."""
        return [decode_string(key) for key, _ in self.members]


def decode_string(text: str) -> str:
    """The value of a JSON string literal (quotes included in ``text``)."""
    value: str = json.loads(text)
    if any("\ud800" <= char <= "\udfff" for char in value):
        # An escaped lone surrogate (\ud800) is valid JSON text but no character; Go decodes it
        # as U+FFFD, and it could not be written to a UTF-8 stream anyway.
        value = "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in value)
    return value


_GO_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"'}


def go_quote(value: str) -> str:
    """A JSON string literal for ``value`` as gjson writes one: non-ASCII kept, ``<``, ``>``,
    ``&``, U+2028, U+2029 and other controls as ``\\u`` escapes."""
    pieces = ['"']
    for char in value:
        if char in _GO_ESCAPES:
            pieces.append(_GO_ESCAPES[char])
        elif char < " " or char in "<>&\u2028\u2029":
            pieces.append(f"\\u{ord(char):04x}")
        elif "\ud800" <= char <= "\udfff":
            pieces.append("\\ufffd")
        else:
            pieces.append(char)
    pieces.append('"')
    return "".join(pieces)


def parse_or_none(text: str) -> Node | None:
    """:func:`parse`, or None when ``text`` is not one JSON document."""
    try:
        return parse(text)
    except JSONTextError:
        return None


def parse(text: str) -> Node:
    """Read one JSON document (surrounding whitespace allowed) into a :class:`Node`."""
    reader = _Reader(text)
    reader.skip()
    node = reader.value()
    reader.skip()
    if reader.pos != len(text):
        raise JSONTextError(f"unexpected text after the value at character {reader.pos + 1}")
    return node


class _Frame:
    """An object or array being read: where it starts and what it holds so far."""

    __slots__ = ("items", "key", "kind", "members", "start")

    def __init__(self, kind: str, start: int) -> None:
        self.kind = kind
        self.start = start
        self.members: list[tuple[str, Node]] = []
        self.items: list[Node] = []
        self.key: str | None = None


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, problem: str) -> JSONTextError:
        return JSONTextError(f"{problem} at character {self.pos + 1}")

    def skip(self) -> None:
        match = _WHITESPACE.match(self.text, self.pos)
        assert match is not None
        self.pos = match.end()

    def scalar(self) -> Node:
        text, pos = self.text, self.pos
        char = text[pos : pos + 1]
        if char == '"':
            match = _STRING.match(text, pos)
            if match is None:
                raise self.error("a broken string")
            self.pos = match.end()
            return Node(STRING, match.group())
        if char in _LITERALS:
            word, kind = _LITERALS[char]
            if not text.startswith(word, pos):
                raise self.error("an unknown word")
            self.pos = pos + len(word)
            return Node(kind, word)
        match = _NUMBER.match(text, pos)
        if match is None or not match.group():
            raise self.error("expected a value" if char else "unexpected end")
        self.pos = match.end()
        return Node(NUMBER, match.group())

    def value(self) -> Node:
        """The value at the current position, containers read with an explicit stack."""
        stack: list[_Frame] = []
        while True:
            self.skip()
            char = self.text[self.pos : self.pos + 1]
            if char in ("{", "["):
                if len(stack) >= MAX_DEPTH:
                    raise self.error(f"nesting deeper than {MAX_DEPTH}")
                stack.append(_Frame(OBJECT if char == "{" else ARRAY, self.pos))
                self.pos += 1
                self.skip()
                closing = "}" if char == "{" else "]"
                if self.text.startswith(closing, self.pos):
                    self.pos += 1
                    node = self.close(stack.pop())
                else:
                    if char == "{":
                        self.key_of(stack[-1])
                    continue
            else:
                node = self.scalar()
            # Hand the finished value to its container; close every container it finishes.
            while True:
                if not stack:
                    return node
                frame = stack[-1]
                if frame.kind == OBJECT:
                    assert frame.key is not None
                    frame.members.append((frame.key, node))
                else:
                    frame.items.append(node)
                self.skip()
                char = self.text[self.pos : self.pos + 1]
                closing = "}" if frame.kind == OBJECT else "]"
                if char == ",":
                    self.pos += 1
                    if frame.kind == OBJECT:
                        self.skip()
                        self.key_of(frame)
                    break
                if char != closing:
                    raise self.error(f"expected ',' or '{closing}'")
                self.pos += 1
                node = self.close(stack.pop())

    def key_of(self, frame: _Frame) -> None:
        if not self.text.startswith('"', self.pos):
            raise self.error("expected a key")
        frame.key = self.scalar().text
        self.skip()
        if not self.text.startswith(":", self.pos):
            raise self.error("expected ':'")
        self.pos += 1

    def close(self, frame: _Frame) -> Node:
        text = self.text[frame.start : self.pos]
        if frame.kind == OBJECT:
            return Node(OBJECT, text, members=tuple(frame.members))
        return Node(ARRAY, text, items=tuple(frame.items))


def compact_node(node: Node) -> str:
    """A document without whitespace outside strings, from its parts (as :func:`compact`)."""
    if node.kind == OBJECT:
        return "{" + ",".join(f"{key}:{compact_node(value)}" for key, value in node.members) + "}"
    if node.kind == ARRAY:
        return "[" + ",".join(compact_node(item) for item in node.items) + "]"
    return node.text


def compact(text: str) -> str:
    """``text`` without whitespace outside strings (gjson's ``@ugly``): one line."""
    pieces: list[str] = []
    pos = 0
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[ \t\r\n]+', text, re.DOTALL):
        pieces.append(text[pos : match.start()])
        if match.group()[0] == '"':
            pieces.append(match.group())
        pos = match.end()
    pieces.append(text[pos:])
    return "".join(pieces)
