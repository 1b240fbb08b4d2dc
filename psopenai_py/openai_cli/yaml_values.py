"""YAML values: what the official CLI reads from flag values and from piped standard input.

The official CLI decodes both with a YAML library, so ``--metadata '{foo: bar}'``, JSON, and a
piped block document such as

    metadata:
      team: ops
    messages:
      - role: user
        content: hi

all work.  This is a hand-written reader for the part of YAML such input uses, because the
runtime dependencies stay three: block mappings and sequences (nested by indentation, compact
``- key: value`` items), flow collections (``{foo: bar}``, ``[a, b]``, JSON) and quoted scalars,
plain scalars (also folded over lines) with YAML 1.2's core-schema types, ``|`` and ``>`` block
scalars, comments and ``---``/``...`` markers.  Anchors, aliases, tags, explicit ``?`` keys,
several documents and tabs as indentation are refused with the line (and, inside a flow
collection, the character); they do not occur in request values.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["YAMLError", "parse_yaml"]


class YAMLError(ValueError):
    """The text is no YAML this reader accepts; the message gives the line."""


_KEY_END = re.compile(r":(?:[ \t]|$)")
_COMMENT = re.compile(r"(?:^|[ \t])#")


def parse_yaml(text: str) -> Any:
    """Parse one YAML document (JSON is YAML) into Python values; an empty one is None."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)
    reader = _Reader(lines)
    return reader.document()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _blank(line: str) -> bool:
    stripped = line.strip(" \t")
    return not stripped or stripped.startswith("#")


def _strip_comment(text: str) -> str:
    match = _COMMENT.search(text)
    return (text[: match.start()] if match else text).rstrip(" \t")


class _Reader:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.i = 0

    def error(self, problem: str, line: int | None = None) -> YAMLError:
        return YAMLError(f"{problem} (line {(self.i if line is None else line) + 1})")

    # -- navigation

    def skip_blank(self) -> None:
        while self.i < len(self.lines) and _blank(self.lines[self.i]):
            self.i += 1

    def at_end(self) -> bool:
        self.skip_blank()
        return self.i >= len(self.lines) or self.lines[self.i].rstrip() == "..."

    def current(self) -> tuple[int, str]:
        line = self.lines[self.i]
        if "\t" in line[: _indent(line) + 1] and line.lstrip(" ").startswith("\t"):
            raise self.error("a tab in the indentation")
        indent = _indent(line)
        return indent, line[indent:]

    # -- the document

    def document(self) -> Any:
        self.skip_blank()
        if self.i < len(self.lines) and self.lines[self.i].startswith("---"):
            rest = self.lines[self.i][3:]
            if rest and rest[0] not in " \t":
                pass  # a plain scalar that starts with ---
            else:
                self.lines[self.i] = "   " + rest
        if self.at_end():
            return None
        value = self.node(0)
        if not self.at_end():
            if self.lines[self.i].startswith("---"):
                raise self.error("more than one document")
            raise self.error("unexpected text (check the indentation)")
        return value

    def node(self, minimum: int) -> Any:
        """The block node starting at the next non-blank line, indented at least ``minimum``."""
        if self.at_end():
            return None
        indent, _ = self.current()
        if indent < minimum:
            return None
        return self.node_here(indent, minimum - 1, compact=True)

    def node_here(self, column: int, parent: int, *, compact: bool) -> Any:
        """The node whose text starts at ``column`` of the current line."""
        content = self.lines[self.i][column:]
        if compact and (content == "-" or content.startswith(("- ", "-\t"))):
            return self.sequence(column)
        if compact and self.key_of(content) is not None:
            return self.mapping(column)
        return self.scalar(column, parent)

    # -- collections

    def key_of(self, content: str) -> tuple[str, str, int] | None:
        """``(key, rest of the line, offset of the rest)`` when ``content`` starts a mapping entry."""
        if content[:1] in ('"', "'"):
            try:
                key, end = _flow_prefix(content)
            except _FlowError:
                return None
            after = content[end:]
            stripped = after.lstrip(" \t")
            if not stripped.startswith(":") or not _KEY_END.match(stripped):
                return None
            offset = end + (len(after) - len(stripped)) + 1
            return str(key), content[offset:], offset
        if content[:1] in ("{", "[", "#", "&", "*", "!", "|", ">", "%") or re.match(
            r"\?(?:[ \t]|$)", content
        ):
            return None
        body = _strip_comment(content)
        match = _KEY_END.search(body)
        if match is None:
            return None
        word = body[: match.start()].rstrip(" \t")
        if not word:
            return None
        value = resolve_plain(word)
        key = word if not isinstance(value, str) else value
        return key, content[match.start() + 1 :], match.start() + 1

    def mapping(self, column: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while not self.at_end():
            indent, content = self.current()
            if indent < column:
                break
            if indent > column:
                raise self.error("unexpected indentation")
            entry = self.key_of(content)
            if entry is None:
                if content == "-" or content.startswith("- "):
                    break  # a sequence at the mapping's indentation ends it (its parent reads it)
                raise self.error("expected 'key: value'")
            key, rest, offset = entry
            if key in result:
                raise self.error(f"duplicate key {key!r}")
            if not _strip_comment(rest).strip(" \t"):
                self.i += 1
                result[key] = self.value_below(column)
            else:
                start = column + offset + (len(rest) - len(rest.lstrip(" \t")))
                result[key] = self.node_here(start, column, compact=False)
        return result

    def value_below(self, column: int) -> Any:
        """A mapping value on the lines after its key: more indented, or a sequence at the
        key's own indentation."""
        if self.at_end():
            return None
        indent, content = self.current()
        if indent > column:
            return self.node(column + 1)
        if indent == column and (content == "-" or content.startswith("- ")):
            return self.sequence(column)
        return None

    def sequence(self, column: int) -> list[Any]:
        result: list[Any] = []
        while not self.at_end():
            indent, content = self.current()
            if indent != column or not (content == "-" or content.startswith(("- ", "-\t"))):
                if indent > column:
                    raise self.error("unexpected indentation")
                break
            rest = content[1:]
            if not _strip_comment(rest).strip(" \t"):
                self.i += 1
                result.append(self.node(column + 1))
                continue
            start = column + 1 + (len(rest) - len(rest.lstrip(" \t")))
            # The item's text stands at its own column, as if on a line of its own.
            self.lines[self.i] = " " * start + self.lines[self.i][start:]
            result.append(self.node_here(start, column, compact=True))
        return result

    # -- scalars

    def scalar(self, column: int, parent: int) -> Any:
        line = self.lines[self.i]
        content = line[column:]
        first = content[:1]
        if first in ("{", "[", '"', "'"):
            return self.flow(column)
        if first in ("|", ">"):
            return self.block_scalar(content, parent)
        if first in ("&", "*", "!", "%") or re.match(r"\?(?:[ \t]|$)", content):
            raise self.error(f"{first!r} (YAML anchors, aliases, tags and explicit keys are not accepted)")
        words = [_strip_comment(content).strip(" \t")]
        self.i += 1
        # A plain scalar goes on over the lines indented under its parent (folded to spaces).
        while self.i < len(self.lines):
            following = self.lines[self.i]
            if _blank(following):
                if following.strip(" \t").startswith("#"):
                    break
                words.append("")
                self.i += 1
                continue
            if (
                _indent(following) <= parent
                or self.key_of(following.strip(" ")) is not None
                or re.match(r"(?:---|\.\.\.)(?:[ \t]|$)", following)
            ):
                break
            words.append(_strip_comment(following).strip(" \t"))
            self.i += 1
        while words and not words[-1]:
            words.pop()
            self.i -= 1
        self.skip_blank()
        return resolve_plain(_fold(words))

    def flow(self, column: int) -> Any:
        """A flow collection or quoted scalar, which may run over several lines."""
        text = "\n".join(self.lines[self.i :])
        start = column
        try:
            value, end = _flow_prefix(text, start)
        except _FlowError as exc:
            raise self.error(str(exc)) from None
        consumed = text[:end].count("\n")
        self.i += consumed
        rest = self.lines[self.i][end - (text.rfind("\n", 0, end) + 1) :]
        if _strip_comment(rest).strip(" \t"):
            raise self.error("unexpected text after a value")
        self.i += 1
        return value

    def block_scalar(self, header: str, parent: int) -> str:
        head = _strip_comment(header).strip(" \t")
        match = re.fullmatch(r"([|>])([-+]?)([1-9]?)([-+]?)", head)
        if match is None:
            raise self.error("a broken block scalar header")
        style, chomp, explicit = match.group(1), match.group(2) or match.group(4), match.group(3)
        self.i += 1
        body: list[str] = []
        indent = parent + int(explicit) if explicit else None
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip(" ") == "":
                body.append("")
                self.i += 1
                continue
            if indent is None:
                indent = _indent(line)
                if indent <= parent:
                    break
            if _indent(line) < indent:
                break
            body.append(line[indent:])
            self.i += 1
        trailing = 0
        while body and body[-1] == "":
            body.pop()
            trailing += 1
        text = "\n".join(body) if style == "|" else _fold_block(body)
        if chomp == "-" or not body:
            return text
        if chomp == "+":
            return text + "\n" * (trailing + 1)
        return text + "\n"


def _fold(words: list[str]) -> str:
    """Plain-scalar folding: lines joined by a space, an empty line kept as a line break."""
    out = ""
    for position, word in enumerate(words):
        if position == 0:
            out = word
        elif word == "":
            out += "\n"
        else:
            out += word if out.endswith("\n") else " " + word
    return out


def _fold_block(lines: list[str]) -> str:
    """``>`` folding: lines joined by spaces, except around empty and more-indented lines."""
    out = ""
    for position, line in enumerate(lines):
        if position == 0:
            out = line
        elif line == "" or line.startswith(" ") or lines[position - 1].startswith(" "):
            out += "\n" + line
        elif lines[position - 1] == "":
            out += line
        else:
            out += " " + line
    return out


# -- the flow part: collections, quoted scalars, plain scalars' types ---------------------------------

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


class _FlowError(ValueError):
    """Text that is no flow value (its message names the character); the block reader words it
    with the line."""


def _flow_prefix(text: str, start: int = 0) -> tuple[Any, int]:
    """The flow collection or quoted scalar starting at ``text[start]`` and where it ends (after
    a key or a dash; the rest of the line is the block reader's)."""
    flow = _Flow(text, start)
    return flow.value(0), flow.pos


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


class _Flow:
    """The flow part of YAML (and JSON) at a position of a text: a collection or a quoted
    scalar, read to its end; its errors name the character."""

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.pos = start

    def error(self, problem: str) -> _FlowError:
        return _FlowError(f"{problem} at character {self.pos + 1}")

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

    def value(self, depth: int) -> Any:
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
        return resolve_plain(self.plain())

    def closes(self, closing: str) -> bool:
        """Past the blanks, whether the collection ends here (its closing bracket is taken)."""
        self.skip_space()
        if self.peek() != closing:
            return False
        self.pos += 1
        return True

    def separator(self, closing: str, opening: str) -> None:
        """After an entry: a ``,`` (taken), or the closing bracket (left for :meth:`closes`)."""
        self.skip_space()
        char = self.peek()
        if char == ",":
            self.pos += 1
        elif char != closing:
            raise self.error(f"expected ',' or '{closing}'" if char else f"unclosed '{opening}'")

    def mapping(self, depth: int) -> dict[str, Any]:
        self.pos += 1
        result: dict[str, Any] = {}
        while not self.closes("}"):
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
            self.separator("}", "{")
        return result

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
        while not self.closes("]"):
            if self.peek() == ",":
                raise self.error("an empty entry")
            result.append(self.value(depth + 1))
            self.separator("]", "[")
        return result

    def plain(self, *, key: bool = False) -> str:
        """A plain scalar inside a collection: up to a flow indicator, ``: `` or `` #``."""
        text = self.text
        start = self.pos
        while self.pos < len(text):
            char = text[self.pos]
            after = text[self.pos + 1] if self.pos + 1 < len(text) else ""
            if char in _FLOW_INDICATORS:
                break
            if char == ":" and (after == "" or after in " \t\r\n" or after in _FLOW_INDICATORS):
                break
            if char == "#" and self.pos > start and text[self.pos - 1] in " \t":
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
