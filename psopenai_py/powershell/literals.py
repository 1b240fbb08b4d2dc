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
from collections.abc import Iterator
from typing import Any

from ..errors import PowerShellSyntaxError
from ..lazy_pattern import LazyPattern
from ..literal_text import QUOTES_SINGLE as _QUOTES_SINGLE
from ..literal_text import to_literal

__all__ = [
    "PowerShellSyntaxError",
    "parse_literal",
    "parse_argument",
    "parse_number",
    "to_literal",
    "Parser",
    "MAX_NESTING",
    "MAX_NUMBER_DIGITS",
]

MAX_NESTING = 100
"""How deep hashtables, arrays, parentheses and JSON may nest in one literal (Python's stack, not
PowerShell, sets the real bound: a limit here makes it an error with a position, not a crash)."""
MAX_NUMBER_DIGITS = 100
"""The most digits a number literal may have (Python refuses ints past 4300 digits)."""

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
# PowerShell's numeric literals: decimal (a fraction or an exponent makes a double), 0x hex and
# 0b binary, each with an optional type suffix (l long, d decimal, u/ul/us/s/y/uy/n) and an
# optional multiplier (kb, mb, gb, tb, pb), all case-insensitive.
_SUFFIX = r"(?P<type>ul|us|uy|[ldusyn])?(?P<mult>[kmgtp]b)?"
_NUMBER = LazyPattern(r"(?P<num>[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)" + _SUFFIX + r"(?![\w.])", re.I)
_HEX = LazyPattern(r"(?P<num>[+-]?0x[0-9a-f]+)" + _SUFFIX + r"(?![\w.])", re.I)
_BINARY = LazyPattern(r"(?P<num>[+-]?0b[01]+)" + _SUFFIX + r"(?![\w.])", re.I)
_MULTIPLIERS = {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}
# Characters that end a bare word (an unquoted string) in argument mode.
_BARE_END = set(" \t\r\n;,=(){}|@'\"")
_QUOTES_DOUBLE = '"\u201c\u201d\u201e'


class Parser:
    """A cursor over a text, reading PowerShell values."""

    def __init__(self, text: str, position: int = 0) -> None:
        self.text = text
        self.pos = position
        self.depth = 0

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
            elif self.text.startswith("<#", self.pos):  # a block comment
                end = self.text.find("#>", self.pos + 2)
                if end < 0:
                    raise self.error("the block comment starting here has no closing '#>'")
                self.pos = end + 2
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
        if self.depth >= MAX_NESTING:
            raise self.error(f"the value is nested deeper than {MAX_NESTING} levels")
        self.depth += 1
        try:
            return self._single()
        finally:
            self.depth -= 1

    def _single(self) -> Any:
        if self.text.startswith("[ordered]", self.pos):
            self.pos += len("[ordered]")
            self.skip_space()
            if not self.text.startswith("@{", self.pos):
                raise self.error("expected '@{' after [ordered]")
        ch = self.peek()
        if self.text.startswith(("@'", '@"'), self.pos):
            return self.here_string()
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

    def _elements(self, opening: str, closing: str, what: str) -> Iterator[None]:
        """Steps through the ``what`` that opens at the cursor: once per element, with the cursor
        on it (the separators before it skipped); done past its closing."""
        start = self.pos
        self.expect(opening)
        while True:
            self._skip_separators()
            if self.peek() == closing:
                self.pos += 1
                return
            if self.at_end():
                self.pos = start
                raise self.error(f"the {what} starting here has no closing '{closing}'")
            yield

    def hashtable(self) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for _ in self._elements("@{", "}", "hashtable"):
            key_pos = self.pos
            key = self.key()
            self.skip_space(newlines=False)
            if self.peek() != "=":
                raise self.error(f"expected '=' after the key {key!r}")
            self.pos += 1
            self.skip_space()
            # A hashtable's keys are case-insensitive, as PowerShell's are.
            folded = key.lower() if isinstance(key, str) else key
            if any((k.lower() if isinstance(k, str) else k) == folded for k in result):
                self.pos = key_pos
                raise self.error(
                    f"duplicate key {key!r} in the hashtable (keys are case-insensitive: "
                    "PowerShell says Duplicate keys are not allowed in hash literals)"
                )
            result[key] = self.value()
            self.skip_space(newlines=False)
            if self.peek() not in (";", "\n", "\r", "}", "#") and not self.at_end():
                raise self.error("expected ';', a new line or '}' after a hashtable value")
        return result

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
        _check_digits(self, word, start)
        number = _as_number(word)
        return number if number is not None else word

    def array(self) -> list[Any]:
        items: list[Any] = []
        for _ in self._elements("@(", ")", "array"):
            item = self.value()
            items.extend(item if isinstance(item, list) else [item])
        return items

    def single_quoted(self) -> str:
        return self._quoted(_QUOTES_SINGLE, expandable=False)

    def double_quoted(self) -> str:
        return self._quoted(_QUOTES_DOUBLE, expandable=True)

    def _quoted(self, quotes: str, *, expandable: bool) -> str:
        """The string whose opening quote is at the cursor: a quote doubled stands for itself; in
        an ``expandable`` (double-quoted) one a backtick escapes and a variable is an error."""
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while not self.at_end():
            ch = self.text[self.pos]
            if expandable and ch == "`":
                if self.pos + 1 >= len(self.text):
                    break
                out.append(self._escape())
                continue
            if expandable and ch == "$":
                self._no_variable()
            if ch in quotes:
                if len(self.peek(2)) == 2 and self.peek(2)[1] in quotes:
                    out.append(ch)
                    self.pos += 2
                    continue
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        self.pos = start
        raise self.error("the string starting here has no closing quote")

    def _escape(self) -> str:
        """A backtick escape at the cursor: the named ones, `` `u{263A} ``, or the character."""
        nxt = self.text[self.pos + 1]
        if nxt == "u" and self.peek(3)[2:] == "{":
            match = re.compile(r"`u\{([0-9a-fA-F]{1,6})\}").match(self.text, self.pos)
            if not match or int(match.group(1), 16) > 0x10FFFF:
                raise self.error("`u{...} takes 1 to 6 hexadecimal digits, at most 10FFFF")
            self.pos = match.end()
            return chr(int(match.group(1), 16))
        self.pos += 2
        return _BACKTICK_ESCAPES.get(nxt, nxt)

    def _no_variable(self) -> None:
        """A ``$name`` (or ``$(...)``, ``${...}``) inside a double-quoted string is an error:
        no shell expanded it, and sending it literally would store the wrong text."""
        match = re.compile(r"\$(?:[\w:?^]+|\{[^}]*\}?|\()").match(self.text, self.pos)
        if match:
            raise self.error(
                f"the variable {match.group(0)!r} inside a double-quoted string was not expanded "
                "(psopenai does not run PowerShell): let your shell expand it, or write a literal $ "
                "as `$ or inside single quotes"
            )

    def here_string(self) -> str:
        """``@'`` or ``@"``, a new line, the text, a new line, then ``'@`` or ``"@`` at the start
        of a line.  The single-quoted form is literal; the double-quoted one takes escapes."""
        start = self.pos
        quote = self.text[self.pos + 1]
        header = re.compile(r"@[\'\"][ \t]*\r?\n").match(self.text, self.pos)
        if not header:
            raise self.error(f"a here-string's @{quote} must end its line")
        body_start = header.end()
        closing = re.compile(r"\r?\n" + re.escape(quote) + "@").search(self.text, body_start - 1)
        if not closing or closing.start() < body_start - 1:
            self.pos = start
            raise self.error("the here-string starting here has no closing " + quote + "@ at a line start")
        body_end = max(closing.start(), body_start)
        if quote == "'":
            self.pos = closing.end()
            return self.text[body_start:body_end]
        out: list[str] = []
        self.pos = body_start
        while self.pos < body_end:
            ch = self.text[self.pos]
            if ch == "`" and self.pos + 1 < body_end:
                out.append(self._escape())
                continue
            if ch == "$":
                self._no_variable()
            out.append(ch)
            self.pos += 1
        self.pos = closing.end()
        return "".join(out)

    def variable(self) -> Any:
        match = re.compile(r"\$(true|false|null)(?![\w:])", re.I).match(self.text, self.pos)
        if not match:
            raise self.error("only $true, $false and $null are understood here")
        self.pos = match.end()
        return {"true": True, "false": False, "null": None}[match.group(1).lower()]

    def json_value(self) -> Any:
        decoder = json.JSONDecoder()
        start = self.pos
        try:
            value, end = decoder.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            self.pos = exc.pos
            raise self.error(f"invalid JSON: {exc.msg}") from None
        except RecursionError:
            raise self.error(f"the JSON value is nested deeper than {MAX_NESTING} levels") from None
        if _depth(value) + self.depth > MAX_NESTING:
            self.pos = start
            raise self.error(f"the JSON value is nested deeper than {MAX_NESTING} levels")
        self.pos = end
        return value

    def number_or_word(self) -> Any:
        for pattern in (_HEX, _BINARY, _NUMBER) if _could_be_number(self.text, self.pos) else ():
            match = pattern.match(self.text, self.pos)
            # A number followed by more word characters (123-abc) is a bare word, as in
            # PowerShell's argument mode.
            if match and (match.end() >= len(self.text) or self.text[match.end()] in _BARE_END):
                _check_digits(self, match.group(0))
                number = _as_number(match.group(0))
                if number is None:
                    raise self.error(f"the number {match.group(0)!r} is out of range for its type")
                self.pos = match.end()
                return number
        start = self.pos
        while not self.at_end() and self.text[self.pos] not in _BARE_END:
            self.pos += 1
        if self.pos == start:
            raise self.error(f"unexpected {self.peek()!r}")
        return self.text[start : self.pos]


def _depth(value: Any) -> int:
    """How deep a decoded JSON value nests (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            level += 1
            deepest = max(deepest, level)
            if deepest > MAX_NESTING:
                return deepest
            stack.extend((child, level) for child in item)
    return deepest


def _could_be_number(text: str, position: int = 0) -> bool:
    """Whether a number literal could start at ``position``: every one starts with a sign, a point
    or a digit.  Another word (a bare key, a bare string) is not matched against the number
    patterns, which then need not even be compiled."""
    first = text[position : position + 1]
    return first in ("+", "-", ".") or first.isdecimal()


def _check_digits(parser: Parser, word: str, position: int | None = None) -> None:
    """A number of more than MAX_NUMBER_DIGITS digits is an error at its position."""
    for pattern in (_HEX, _BINARY, _NUMBER) if _could_be_number(word) else ():
        match = pattern.fullmatch(word)
        if match:
            number = match.group("num").lstrip("+-")
            digits = sum(ch.isdigit() for ch in number) if pattern is _NUMBER else len(number) - 2
            break
    else:
        return
    if digits > MAX_NUMBER_DIGITS:
        if position is not None:
            parser.pos = position
        raise parser.error(f"the number has more than {MAX_NUMBER_DIGITS} digits")


def _as_number(word: str) -> int | float | None:
    """A numeric literal as PowerShell reads it, or None when ``word`` is not one (or is out
    of range).  Hex and binary without a suffix are Int32 when they fit in 32 bits
    (``0xFFFFFFFF`` is -1), else Int64 (two's complement in 64 bits); ``1kb`` is 1024."""
    for pattern in (_HEX, _BINARY, _NUMBER) if _could_be_number(word) else ():
        match = pattern.fullmatch(word)
        if match:
            return _number_value(match)
    return None


def _number_value(match: re.Match[str]) -> int | float | None:
    text = match.group("num")
    suffix = (match.group("type") or "").lower()
    multiplier = _MULTIPLIERS.get((match.group("mult") or "").lower(), 1)
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    value: int | float
    if digits[:2].lower() in ("0x", "0b"):
        base = 16 if digits[1] in "xX" else 2
        raw = int(digits[2:], base)
        bits = (len(digits) - 2) * (4 if base == 16 else 1)
        if suffix in ("", "l") and raw < (1 << 64):
            # The literal's bits are the value's: a full-width literal is negative.
            width = 32 if suffix == "" and bits <= 32 else 64
            if raw >= 1 << (width - 1):
                raw -= 1 << width
        value = sign * raw
    elif "." in digits or "e" in digits.lower():
        value = sign * float(digits)
        if suffix in ("l", "u", "ul", "us", "s", "y", "uy", "n"):
            if not value.is_integer():
                return None  # an integer type suffix on a fraction: not a number
            value = int(value)
    else:
        value = sign * int(digits)
    if suffix == "d":
        value = float(value)  # decimal: the nearest Python has that JSON can carry
    value = value * multiplier
    if isinstance(value, int) and not -(1 << 63) <= value < (1 << 64):
        return None if suffix != "n" else value
    return value


def parse_number(text: str) -> int | float | None:
    """A whole text as one PowerShell numeric literal (``0x10``, ``1kb``, ``2.5``), or None."""
    return _as_number(text.strip())


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
        stripped[:2] in ("@{", "@(", "@'", '@"')
        or stripped[:1] in ("{", "[", "'", '"', "$")
        or stripped.startswith("[ordered]")
    ):
        return parse_literal(text)
    return text
