"""Reading a GJSON path (:mod:`.transform`): its components, brackets, queries, pipes and
multipath selectors, and the ``*``/``?`` patterns of keys and ``%`` queries.  Pure functions of
the path's text; what a path selects is :mod:`.transform`'s to find."""

from __future__ import annotations

import json
from collections.abc import Iterator

__all__ = [
    "PathError",
    "MODIFIERS",
    "Component",
    "Query",
    "outside_strings",
    "closing",
    "parse_query",
    "split_pipe",
    "string_end",
    "json_prefix",
    "selectors",
    "last_name",
    "pattern",
    "like",
]

MODIFIERS = (
    "pretty",
    "ugly",
    "reverse",
    "this",
    "flatten",
    "join",
    "valid",
    "keys",
    "values",
    "tostr",
    "fromstr",
    "group",
    "dig",
)


class PathError(ValueError):
    """A path this evaluator refuses (the message says why)."""


def dot_pipes(rest: str) -> bool:
    """After a ``.``: does the rest start with a modifier or a multipath, which then applies to
    the value so far as a ``|`` would?"""
    if not rest:
        return False
    if rest[0] == "@":
        end = 1
        while end < len(rest) and rest[end] not in ".|:":
            end += 1
        return rest[1:end] in MODIFIERS
    return rest[0] in "[{"


class Component:
    """One key of a path: its characters (each marked escaped or not), and what follows."""

    def __init__(self, path: str) -> None:
        self.chars: list[tuple[str, bool]] = []
        self.rest: str | None = None  # the path inside the value (after '.')
        self.pipe: str | None = None  # the path applied to the value (after '|')
        self.wild = False
        pos = 0
        while pos < len(path):
            char = path[pos]
            if char == "\\" and pos + 1 < len(path):
                self.chars.append((path[pos + 1], True))
                pos += 2
                continue
            if char == "|":
                self.pipe = path[pos + 1 :]
                return
            if char == ".":
                after = path[pos + 1 :]
                if dot_pipes(after):
                    self.pipe = after
                else:
                    self.rest = after
                return
            if char in "*?":
                self.wild = True
            self.chars.append((char, False))
            pos += 1

    @property
    def text(self) -> str:
        return "".join(char for char, _ in self.chars)

    def matches(self, key: str) -> bool:
        if not self.wild:
            return key == self.text
        return like(key, [(c if escaped or c not in "*?" else c + c) for c, escaped in self.chars])


class Query:
    """``#(path op value)``: the path inside each element, the operator (empty: the path
    exists), the value, and whether only the first match is wanted."""

    def __init__(self, path: str, op: str, value: str, first_only: bool) -> None:
        self.path, self.op, self.value, self.first_only = path, op, value, first_only


def string_end(text: str, start: int) -> int:
    pos = start + 1
    while pos < len(text) and text[pos] != '"':
        pos += 2 if text[pos] == "\\" else 1
    return min(pos, len(text) - 1)


def outside_strings(text: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """The positions and characters of ``text`` from ``start`` that stand outside its strings
    and are not escaped: a string is passed over whole, quotes included, and so is a ``\\``
    with the character after it."""
    pos = start
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
        elif char == '"':
            pos = string_end(text, pos) + 1
        else:
            yield pos, char
            pos += 1


def closing(path: str, start: int, opening: str) -> int:
    """The index of the bracket closing the one at ``start`` (strings and escapes skipped)."""
    depth = 0
    for pos, char in outside_strings(path, start):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return pos
    raise PathError(f"the path has an unclosed {opening!r}")


def parse_query(path: str) -> tuple[Query, int]:
    """``#(left op value)`` (or ``#[...]``) at the start of ``path``: the query and where it
    ends (after a trailing ``#`` too)."""
    end = closing(path, 1, path[1])
    inner = path[2:end]
    # The operator is the first of ! = < > % outside brackets and strings.
    split, depth = -1, 0
    for pos, char in outside_strings(inner):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and char in "!=<>%":
            split = pos
            break
    if split < 0:
        left, op, value = inner.strip(), "", ""
    else:
        left, rest = inner[:split].strip(), inner[split:].strip()
        for candidate in ("==", "!=", "!%", "<=", ">=", "=", "<", ">", "%", "!"):
            if rest.startswith(candidate):
                op = "=" if candidate == "==" else candidate
                value = rest[len(candidate) :].strip()
                break
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
    stop = end + 1
    first_only = not path.startswith("#", stop)
    return Query(left, op, value, first_only), stop + (0 if first_only else 1)


def split_pipe(path: str) -> tuple[str, str | None]:
    """``left|right`` where the ``|`` is outside queries and a leading multipath; else the path."""
    pos = 0
    if path[:1] in "[{":
        try:
            pos = closing(path, 0, path[0]) + 1
        except PathError:
            return path, None
    while pos < len(path):
        char = path[pos]
        if char == "\\":
            pos += 2
            continue
        if path.startswith(".#(", pos) or path.startswith(".#[", pos):
            pos = closing(path, pos + 2, path[pos + 2]) + 1
            continue
        if char == "|":
            return path[:pos], path[pos + 1 :]
        pos += 1
    return path, None


def json_prefix(text: str) -> str | None:
    """The JSON value at the start of ``text`` (as written), or None."""
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    return text[:end]


def selectors(inner: str) -> list[tuple[str, str]]:
    """The ``name:path`` pairs of a multipath (the name empty when none is given)."""
    found: list[tuple[str, str]] = []
    depth, start, colon, modifier, pos = 0, 0, -1, False, 0
    while pos <= len(inner):
        char = inner[pos] if pos < len(inner) else ","
        if pos == len(inner) or (char == "," and depth == 0):
            piece = inner[start:pos]
            if colon >= 0:
                found.append((inner[start:colon], inner[colon + 1 : pos]))
            else:
                found.append(("", piece))
            start, colon, modifier = pos + 1, -1, False
        elif char == "\\":
            pos += 1
        elif char == "@" and pos > start and inner[pos - 1] in ".|":
            modifier = True
        elif char == ":" and depth == 0 and colon < 0 and not modifier:
            colon = pos
        elif char == '"':
            pos = string_end(inner, pos)
        elif char in "[({":
            depth += 1
        elif char in "])}":
            depth -= 1
        pos += 1
    return found


def last_name(path: str) -> str:
    for pos in range(len(path) - 1, -1, -1):
        if path[pos] in ".|" and not (pos > 0 and path[pos - 1] == "\\"):
            return path[pos + 1 :]
    return path


def pattern(text: str) -> list[str]:
    """A ``%`` pattern as tokens: ``**`` any run, ``??`` one character, else a literal one
    (``\\`` escaping the next character)."""
    tokens, pos = [], 0
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            tokens.append(text[pos + 1])
            pos += 2
            continue
        tokens.append(char + char if char in "*?" else char)
        pos += 1
    return tokens


def like(text: str, pattern: list[str]) -> bool:
    """Glob matching in linear steps (backtracking only to the last ``*``)."""
    t = p = 0
    star, mark = -1, 0
    while t < len(text):
        if p < len(pattern) and (pattern[p] == "??" or pattern[p] == text[t]):
            t += 1
            p += 1
        elif p < len(pattern) and pattern[p] == "**":
            star, mark = p, t
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "**":
        p += 1
    return p == len(pattern)
