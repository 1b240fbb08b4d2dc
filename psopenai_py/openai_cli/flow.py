"""YAML's flow form (``{foo: bar}``, ``[a, b]``, quoted and plain scalars) and JSON.

The official CLI decodes ``--metadata '{foo: string}'`` with a YAML library; this is a small
hand-written parser for the flow part of YAML (flow mappings and sequences, quoted and plain
scalars, YAML 1.2 core-schema types), because the package's runtime dependencies stay
``requests``, ``urllib3`` and ``keyring`` and a YAML library would be a fourth.  The block form
(indentation) is :mod:`.yaml_values`'s, which reads its flow parts with this parser; anchors and
tags are refused with the position.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["FlowError", "parse_flow", "parse_flow_prefix", "resolve_plain"]

MAX_DEPTH = 64
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INFINITE = {
    ".inf": float("inf"),
    ".Inf": float("inf"),
    ".INF": float("inf"),
    "+.inf": float("inf"),
    "-.inf": float("-inf"),
    "-.Inf": float("-inf"),
    "-.INF": float("-inf"),
}
_FLOW_INDICATORS = ",[]{}"
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


class FlowError(ValueError):
    """The text is neither JSON nor a YAML flow value; the message gives the position."""


def parse_flow(text: str) -> Any:
    """Parse JSON or a YAML flow value: mappings, sequences, quoted or plain scalars."""
    # A byte-order mark, as a Windows editor or PowerShell's Get-Content may leave at the start.
    parser = _Parser(text[1:] if text.startswith("\ufeff") else text)
    parser.skip_space()
    value = parser.value(0, top=True)
    parser.skip_space()
    if parser.pos != len(parser.text):
        raise parser.error("unexpected text after the value")
    return value


def parse_flow_prefix(text: str, start: int = 0) -> tuple[Any, int]:
    """The flow collection or quoted scalar starting at ``text[start]`` and where it ends (a
    block YAML document holds such values after a key or a dash; the rest of its line is the
    caller's to read)."""
    parser = _Parser(text)
    parser.pos = start
    return parser.value(0), parser.pos


def resolve_plain(word: str) -> Any:
    """A plain scalar's type under YAML 1.2's core schema: null, bool, int, float or string."""
    if word in _NULLS:
        return None
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    if _INT.fullmatch(word):
        return int(word)
    if _OCT.fullmatch(word):
        return int(word[2:], 8)
    if _HEX.fullmatch(word):
        return int(word[2:], 16)
    if _FLOAT.fullmatch(word):
        return float(word)
    if word in _INFINITE:
        return _INFINITE[word]
    if word in (".nan", ".NaN", ".NAN"):
        return float("nan")
    return word


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, problem: str) -> FlowError:
        return FlowError(f"{problem} at character {self.pos + 1}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r\n":
                self.pos += 1
            elif char == "#" and (self.pos == 0 or text[self.pos - 1] in " \t\r\n"):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def value(self, depth: int, *, top: bool = False) -> Any:
        if depth > MAX_DEPTH:
            raise self.error(f"nesting deeper than {MAX_DEPTH}")
        char = self.peek()
        if char == "{":
            return self.mapping(depth)
        if char == "[":
            return self.sequence(depth)
        if char in ('"', "'"):
            return self.quoted()
        if char in ("&", "*", "!", "|", ">", "%", "@", "`"):
            raise self.error(f"{char!r} (YAML anchors, tags and block scalars are not accepted)")
        return resolve_plain(self.plain(top=top))

    def mapping(self, depth: int) -> dict[str, Any]:
        self.pos += 1
        result: dict[str, Any] = {}
        while True:
            self.skip_space()
            if self.peek() == "}":
                self.pos += 1
                return result
            start = self.pos
            key = self.key(depth)
            self.skip_space()
            if self.peek() == ":":
                self.pos += 1
                self.skip_space()
                item = None if self.peek() in (",", "}") else self.value(depth + 1)
            else:
                item = None  # YAML's {a} is {a: null}
            if key in result:
                self.pos = start
                raise self.error(f"duplicate key {key!r}")
            result[key] = item
            self.skip_space()
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char != "}":
                raise self.error("expected ',' or '}'" if char else "unclosed '{'")

    def key(self, depth: int) -> str:
        char = self.peek()
        if char in ('"', "'"):
            return self.quoted()
        if char in ("{", "["):
            raise self.error("a mapping or sequence as a key is not accepted")
        if char in (",", "}", ":", ""):
            raise self.error("expected a key")
        word = self.plain(key=True)
        value = resolve_plain(word)
        # JSON object keys are strings; a YAML key like 1 or true becomes its text.
        return word if not isinstance(value, str) else value

    def sequence(self, depth: int) -> list[Any]:
        self.pos += 1
        result: list[Any] = []
        while True:
            self.skip_space()
            if self.peek() == "]":
                self.pos += 1
                return result
            if self.peek() == ",":
                raise self.error("an empty entry")
            result.append(self.value(depth + 1))
            self.skip_space()
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char != "]":
                raise self.error("expected ',' or ']'" if char else "unclosed '['")

    def plain(self, *, key: bool = False, top: bool = False) -> str:
        """A plain scalar: up to a flow indicator (inside a collection), ``: `` or `` #``."""
        text = self.text
        start = self.pos
        while self.pos < len(text):
            char = text[self.pos]
            after = text[self.pos + 1] if self.pos + 1 < len(text) else ""
            if not top and char in _FLOW_INDICATORS:
                break
            if char == ":" and (after == "" or after in " \t\r\n" or (not top and after in _FLOW_INDICATORS)):
                if top:
                    raise self.error("block mappings are not accepted; write {key: value}")
                break
            if char == "#" and self.pos > start and text[self.pos - 1] in " \t":
                break
            if char in "\r\n" and top:
                break
            self.pos += 1
        # Flow folding: a line break (with the blanks around it) is one space; blanks inside a
        # line are kept as written, so '{note: a  b}' keeps its two spaces.
        lines = [line.strip(" \t") for line in re.split(r"\r\n|\r|\n", text[start : self.pos])]
        word = " ".join(line for line in lines if line)
        if key and not word:
            raise self.error("expected a key")
        return word

    def quoted(self) -> str:
        quote = self.peek()
        self.pos += 1
        text = self.text
        parts: list[str] = []
        while True:
            if self.pos >= len(text):
                raise self.error(f"unclosed {quote} quote")
            char = text[self.pos]
            if quote == "'" and char == "'":
                if text.startswith("''", self.pos):
                    parts.append("'")
                    self.pos += 2
                    continue
                self.pos += 1
                return "".join(parts)
            if quote == '"' and char == '"':
                self.pos += 1
                return "".join(parts)
            if quote == '"' and char == "\\":
                parts.append(self.escape())
                continue
            parts.append(char)
            self.pos += 1

    def escape(self) -> str:
        text = self.text
        code = text[self.pos + 1] if self.pos + 1 < len(text) else ""
        if code in _ESCAPES:
            self.pos += 2
            return _ESCAPES[code]
        if code in _HEX_ESCAPES:
            width = _HEX_ESCAPES[code]
            digits = text[self.pos + 2 : self.pos + 2 + width]
            if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                self.pos += 2 + width
                if code == "u" and 0xD800 <= int(digits, 16) <= 0xDBFF:
                    return self.surrogate_pair(int(digits, 16))
                return chr(int(digits, 16))
        raise self.error("an unknown escape")

    def surrogate_pair(self, high: int) -> str:
        # JSON writes characters beyond the BMP as two \u escapes.
        match = re.compile(r"\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE).match(self.text, self.pos)
        if match is None:
            raise self.error("a lone surrogate escape")
        self.pos = match.end()
        low = int(match.group(1), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def dumps_compact(value: Any) -> str:
    """Compact JSON, non-ASCII kept (for messages quoting a parsed value)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
