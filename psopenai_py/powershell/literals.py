"""PowerShell literals as text: parse them into Python values, and print Python values as them.

Parsed: ``@{...}`` hashtables (bare, quoted or numeric keys; ``=``; ``;`` or newlines between
pairs; nesting; ``[ordered]`` prefix), ``@(...)`` arrays and comma lists, ``'...'`` strings
(``''`` is a quote), ``"..."`` strings (backtick escapes and ``""``), numbers, ``$true``,
``$false``, ``$null``, and bare words as strings.  A text starting with ``{`` or ``[`` is read as
JSON.  Hand-written because no library parses PowerShell's literal syntax; it is a small
recursive-descent parser that reports the position of the first problem.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import PowerShellSyntaxError
from ..literal_text import QUOTES_SINGLE as _QUOTES_SINGLE
from ..literal_text import to_literal

__all__ = ["PowerShellSyntaxError", "parse_literal", "parse_argument", "to_literal", "Parser"]

_BACKTICK_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_NUMBER = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?(?![\w.])")
_HEX = re.compile(r"[+-]?0[xX][0-9a-fA-F]+(?![\w.])")
# Characters that end a bare word (an unquoted string) in argument mode.
_BARE_END = set(" \t\r\n;,=(){}|@'\"")
_QUOTES_DOUBLE = '"\u201c\u201d\u201e'


class Parser:
    """A cursor over a text, reading PowerShell values."""

    def __init__(self, text: str, position: int = 0) -> None:
        self.text = text
        self.pos = position

    # -- helpers --------------------------------------------------------------------------------
    def error(self, message: str) -> PowerShellSyntaxError:
        return PowerShellSyntaxError(message, self.text, self.pos)

    def peek(self, length: int = 1) -> str:
        return self.text[self.pos : self.pos + length]

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def skip_space(self, newlines: bool = True) -> None:
        spaces = " \t\r\n" if newlines else " \t"
        while not self.at_end():
            ch = self.text[self.pos]
            if ch in spaces:
                self.pos += 1
            elif ch == "#":  # a comment runs to the end of the line
                while not self.at_end() and self.text[self.pos] != "\n":
                    self.pos += 1
            else:
                break

    def expect(self, token: str) -> None:
        if not self.text.startswith(token, self.pos):
            found = self.peek() or "the end of the text"
            raise self.error(f"expected {token!r} but found {found!r}")
        self.pos += len(token)

    # -- values ---------------------------------------------------------------------------------
    def value(self) -> Any:
        """One value, or a comma list of values (an array); a leading comma wraps one value in
        an array, as PowerShell's unary comma does (so ``@(,@(1))`` keeps its inner array)."""
        self.skip_space()
        if self.peek() == ",":
            self.pos += 1
            return [self.single()]
        first = self.single()
        self.skip_space(newlines=False)
        if self.peek() != ",":
            return first
        items = [first]
        while self.peek() == ",":
            self.pos += 1
            self.skip_space()
            items.append(self.single())
            self.skip_space(newlines=False)
        return items

    def single(self) -> Any:
        self.skip_space()
        if self.at_end():
            raise self.error("expected a value")
        if self.text.startswith("[ordered]", self.pos):
            self.pos += len("[ordered]")
            self.skip_space()
            if not self.text.startswith("@{", self.pos):
                raise self.error("expected '@{' after [ordered]")
        ch = self.peek()
        if self.text.startswith("@{", self.pos):
            return self.hashtable()
        if self.text.startswith("@(", self.pos):
            return self.array()
        if ch in _QUOTES_SINGLE:
            return self.single_quoted()
        if ch in _QUOTES_DOUBLE:
            return self.double_quoted()
        if ch == "$":
            return self.variable()
        if ch in "{[":
            return self.json_value()
        if ch == "(":
            self.pos += 1
            inner = self.value()
            self.skip_space()
            self.expect(")")
            return inner
        return self.number_or_word()

    def hashtable(self) -> dict[Any, Any]:
        start = self.pos
        self.expect("@{")
        result: dict[Any, Any] = {}
        while True:
            self._skip_separators()
            if self.peek() == "}":
                self.pos += 1
                return result
            if self.at_end():
                self.pos = start
                raise self.error("the hashtable starting here has no closing '}'")
            key_pos = self.pos
            key = self.key()
            self.skip_space(newlines=False)
            if self.peek() != "=":
                raise self.error(f"expected '=' after the key {key!r}")
            self.pos += 1
            self.skip_space()
            if key in result:
                self.pos = key_pos
                raise self.error(f"duplicate key {key!r} in the hashtable")
            result[key] = self.value()
            self.skip_space(newlines=False)
            if self.peek() not in (";", "\n", "\r", "}", "#") and not self.at_end():
                raise self.error("expected ';', a new line or '}' after a hashtable value")

    def _skip_separators(self) -> None:
        while True:
            self.skip_space()
            if self.peek() == ";":
                self.pos += 1
                continue
            return

    def key(self) -> Any:
        ch = self.peek()
        if ch in _QUOTES_SINGLE:
            return self.single_quoted()
        if ch in _QUOTES_DOUBLE:
            return self.double_quoted()
        start = self.pos
        while not self.at_end() and self.text[self.pos] not in " \t\r\n=;}":
            self.pos += 1
        word = self.text[start : self.pos]
        if not word:
            raise self.error("expected a key")
        number = _as_number(word)
        return number if number is not None else word

    def array(self) -> list[Any]:
        start = self.pos
        self.expect("@(")
        items: list[Any] = []
        while True:
            self._skip_separators()
            if self.peek() == ")":
                self.pos += 1
                return items
            if self.at_end():
                self.pos = start
                raise self.error("the array starting here has no closing ')'")
            item = self.value()
            items.extend(item if isinstance(item, list) else [item])

    def single_quoted(self) -> str:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while not self.at_end():
            ch = self.text[self.pos]
            if ch in _QUOTES_SINGLE:
                if self.peek(2)[1:] in _QUOTES_SINGLE and len(self.peek(2)) == 2:
                    out.append(ch)
                    self.pos += 2
                    continue
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        self.pos = start
        raise self.error("the string starting here has no closing quote")

    def double_quoted(self) -> str:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while not self.at_end():
            ch = self.text[self.pos]
            if ch == "`":
                if self.pos + 1 >= len(self.text):
                    break
                nxt = self.text[self.pos + 1]
                out.append(_BACKTICK_ESCAPES.get(nxt, nxt))
                self.pos += 2
                continue
            if ch in _QUOTES_DOUBLE:
                if len(self.peek(2)) == 2 and self.peek(2)[1] in _QUOTES_DOUBLE:
                    out.append(ch)
                    self.pos += 2
                    continue
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        self.pos = start
        raise self.error("the string starting here has no closing quote")

    def variable(self) -> Any:
        match = re.compile(r"\$(true|false|null)(?![\w:])", re.I).match(self.text, self.pos)
        if not match:
            raise self.error("only $true, $false and $null are understood here")
        self.pos = match.end()
        return {"true": True, "false": False, "null": None}[match.group(1).lower()]

    def json_value(self) -> Any:
        decoder = json.JSONDecoder()
        try:
            value, end = decoder.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            self.pos = exc.pos
            raise self.error(f"invalid JSON: {exc.msg}") from None
        self.pos = end
        return value

    def number_or_word(self) -> Any:
        for pattern in (_HEX, _NUMBER):
            match = pattern.match(self.text, self.pos)
            # A number followed by more word characters (123-abc) is a bare word, as in
            # PowerShell's argument mode.
            if match and (match.end() >= len(self.text) or self.text[match.end()] in _BARE_END):
                self.pos = match.end()
                number = _as_number(match.group(0))
                assert number is not None
                return number
        start = self.pos
        while not self.at_end() and self.text[self.pos] not in _BARE_END:
            self.pos += 1
        if self.pos == start:
            raise self.error(f"unexpected {self.peek()!r}")
        return self.text[start : self.pos]


def _as_number(word: str) -> int | float | None:
    try:
        if _HEX.fullmatch(word):
            return int(word, 16)
        if re.fullmatch(r"[+-]?\d+", word):
            return int(word)
        if _NUMBER.fullmatch(word):
            return float(word)
    except ValueError:
        return None
    return None


def parse_literal(text: str) -> Any:
    """Parse a whole text as one PowerShell value (or JSON); trailing text is an error."""
    parser = Parser(text)
    value = parser.value()
    parser.skip_space()
    if not parser.at_end():
        raise parser.error(f"unexpected {parser.peek()!r} after the value")
    return value


def parse_argument(text: str) -> Any:
    """A command-line argument: a literal when it looks like one (``@{``, ``@(``, JSON, quotes,
    ``$true``...), the text itself otherwise."""
    stripped = text.lstrip()
    if (
        stripped[:2] in ("@{", "@(")
        or stripped[:1] in ("{", "[", "'", '"', "$")
        or stripped.startswith("[ordered]")
    ):
        return parse_literal(text)
    return text
