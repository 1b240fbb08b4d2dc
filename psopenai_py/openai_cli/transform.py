"""``--transform`` and ``--transform-error``: GJSON paths over JSON as received.

The official CLI hands these paths to tidwall/gjson.  This is a small evaluator of the same path
syntax, written here because the runtime dependencies stay three:

- keys separated by ``.``, ``\\`` escaping a special character (``fav\\.movie``), ``*`` and ``?``
  wildcards in a key (the first key that matches and leads somewhere wins);
- array indexes (``choices.0``), ``#`` for an array's length, ``#.key`` to take ``key`` from
  every element (``choices.#.message.content``);
- queries: ``#(key==value)`` for the first element that matches, ``#(...)#`` for all of them,
  with ``== = != < <= > >=``, ``%`` and ``!%`` (``*``/``?`` patterns), ``~true ~false ~null ~*``,
  a bare ``#(key)`` for existence and ``#(=="x")`` on an array of scalars; queries nest;
- ``|``, which applies what follows to the result so far rather than to each element;
- the modifiers ``@this @keys @values @reverse @ugly @pretty @valid @flatten @join @tostr
  @fromstr @group @dig`` (with their ``:argument``), multipaths ``[a,b]`` and ``{a,"name":b}``,
  literals ``!true``, ``!"text"``, ``!{...}``, and the ``..`` JSON-lines prefix.

A path that matches nothing gives None, and the caller prints the document unchanged, as the
official CLI does.  What this evaluator cannot mean (an unclosed query or multipath, ``@pretty``
with options) is refused by :func:`check` before anything is sent, rather than silently printing
the whole document.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

from . import formats
from .jsontext import (
    ARRAY,
    FALSE,
    NULL,
    NUMBER,
    OBJECT,
    STRING,
    TRUE,
    Node,
    compact_node,
    go_quote,
    parse_or_none,
)

__all__ = ["PathError", "check", "get"]

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
_MAX_PATH_DEPTH = 64


class PathError(ValueError):
    """A path this evaluator refuses (the message says why)."""


def check(path: str) -> None:
    """Raise :class:`PathError` for a path that cannot be evaluated as written: a query,
    multipath or JSON literal left unclosed, or ``@pretty`` with options.  (Checked on the
    path alone, before anything is sent; a valid path that matches nothing is no error.)"""
    pos = 0
    while pos < len(path):
        char = path[pos]
        if char == "\\":
            pos += 2
            continue
        if char == '"':
            pos = _string_end(path, pos) + 1
            continue
        structural = (char in "([" and path[pos - 1 : pos] == "#") or (
            char in "[{" and (pos == 0 or path[pos - 1] in ".|,:!")
        )
        if structural:
            end = _closing(path, pos, char)
            check(path[pos + 1 : end])
            pos = end + 1
            continue
        modifier = char == "@" and (pos == 0 or path[pos - 1] in ".|,:")
        if modifier and path.startswith("pretty:", pos + 1) and path[pos + 8 : pos + 9] not in ("", "|"):
            raise PathError("@pretty takes no options here (its layout is the json format's)")
        pos += 1


def get(node: Node | None, path: str, _depth: int = 0) -> Node | None:
    """The value ``path`` selects in ``node``, or None when it selects nothing."""
    if _depth > _MAX_PATH_DEPTH:
        raise PathError(f"the path nests deeper than {_MAX_PATH_DEPTH} levels")
    if node is None:
        return None
    depth = _depth + 1
    if len(path) > 1:
        if path[0] == "@":
            applied = _modifier(node, path, depth)
            if applied is not None:
                result, rest = applied
                if rest[:1] in (".", "|"):
                    return get(result, rest[1:], depth)
                return result
        elif path[0] == "!":
            literal = _literal(path)
            if literal is not None:
                result, rest = literal
                if rest[:1] in (".", "|"):
                    return get(result, rest[1:], depth)
                return result
        if path[0] in "[{":
            built = _multipath(node, path, depth)
            if built is not None:
                return built
        if path.startswith(".."):
            # JSON lines: the document is the only line.
            lines = Node(ARRAY, "[" + node.text + "]", items=(node,))
            found, pipe = _walk_array(lines, path[2:], depth)
            return _piped(found, pipe, depth)
    if node.kind == OBJECT:
        found, pipe = _walk_object(node, path, depth)
    elif node.kind == ARRAY:
        found, pipe = _walk_array(node, path, depth)
    else:
        return None
    return _piped(found, pipe, depth)


def _piped(found: Node | None, pipe: str | None, depth: int) -> Node | None:
    return get(found, pipe, depth) if pipe is not None else found


def _built(text: str) -> Node | None:
    return parse_or_none(text) if text else None


# -- reading a component --------------------------------------------------------------------------


def _dot_pipes(rest: str) -> bool:
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


class _Component:
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
                if _dot_pipes(after):
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
        return _like(key, [(c if escaped or c not in "*?" else c + c) for c, escaped in self.chars])


def _walk_object(node: Node, path: str, depth: int) -> tuple[Node | None, str | None]:
    part = _Component(path)
    for key_text, value in node.members:
        if not part.matches(Node(STRING, key_text).string()):
            continue
        if part.rest is None:
            return value, part.pipe
        if value.kind == OBJECT:
            found, pipe = _walk_object(value, part.rest, depth + 1)
        elif value.kind == ARRAY:
            found, pipe = _walk_array(value, part.rest, depth + 1)
        else:
            continue
        if found is not None:
            return found, pipe
    return None, None


# -- arrays -------------------------------------------------------------------------------------


class _Query:
    def __init__(self, path: str, op: str, value: str, first_only: bool) -> None:
        self.path, self.op, self.value, self.first_only = path, op, value, first_only


def _closing(path: str, start: int, opening: str) -> int:
    """The index of the bracket closing the one at ``start`` (strings and escapes skipped)."""
    depth, pos = 0, start
    while pos < len(path):
        char = path[pos]
        if char == "\\":
            pos += 2
            continue
        if char == '"':
            pos += 1
            while pos < len(path) and path[pos] != '"':
                pos += 2 if path[pos] == "\\" else 1
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise PathError(f"the path has an unclosed {opening!r}")


def _parse_query(path: str) -> tuple[_Query, int]:
    """``#(left op value)`` (or ``#[...]``) at the start of ``path``: the query and where it
    ends (after a trailing ``#`` too)."""
    end = _closing(path, 1, path[1])
    inner = path[2:end]
    # The operator is the first of ! = < > % outside brackets and strings.
    split, depth, pos = -1, 0, 0
    while pos < len(inner):
        char = inner[pos]
        if char == "\\":
            pos += 2
            continue
        if char == '"':
            pos += 1
            while pos < len(inner) and inner[pos] != '"':
                pos += 2 if inner[pos] == "\\" else 1
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and char in "!=<>%":
            split = pos
            break
        pos += 1
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
    return _Query(left, op, value, first_only), stop + (0 if first_only else 1)


def _split_pipe(path: str) -> tuple[str, str | None]:
    """``left|right`` where the ``|`` is outside queries and a leading multipath; else the path."""
    pos = 0
    if path[:1] in "[{":
        try:
            pos = _closing(path, 0, path[0]) + 1
        except PathError:
            return path, None
    while pos < len(path):
        char = path[pos]
        if char == "\\":
            pos += 2
            continue
        if path.startswith(".#(", pos) or path.startswith(".#[", pos):
            pos = _closing(path, pos + 2, path[pos + 2]) + 1
            continue
        if char == "|":
            return path[:pos], path[pos + 1 :]
        pos += 1
    return path, None


def _walk_array(node: Node, path: str, depth: int) -> tuple[Node | None, str | None]:
    items = node.items
    if path.startswith("#(") or path.startswith("#["):
        query, stop = _parse_query(path)
        return _run_query(items, query, path[stop:], depth)
    if path == "#" or path.startswith("#|"):
        return Node(NUMBER, str(len(items))), (path[2:] if path.startswith("#|") else None)
    if path.startswith("#."):
        key, pipe = _split_pipe(path[2:])
        found = [get(item, key, depth) for item in items]
        return _built("[" + ",".join(f.text for f in found if f is not None) + "]"), pipe
    part = _Component(path)
    text = part.text
    if not (text.isascii() and text.isdigit()) or part.wild:
        return None, None
    index = int(text)
    if index >= len(items):
        return None, None
    item = items[index]
    if part.rest is None:
        return item, part.pipe
    if item.kind == OBJECT:
        return _walk_object(item, part.rest, depth + 1)
    if item.kind == ARRAY:
        return _walk_array(item, part.rest, depth + 1)
    return None, None


def _run_query(
    items: tuple[Node, ...], query: _Query, after: str, depth: int
) -> tuple[Node | None, str | None]:
    rest, pipe = None, None
    if after.startswith("|"):
        pipe = after[1:]
    elif after.startswith("."):
        rest, pipe = _split_pipe(after[1:])
    elif after:
        raise PathError(f"unexpected {after!r} after a query")
    matched: list[str] = []
    for item in items:
        # A scalar element answers only a query on itself: #(=="x").
        subject = get(item, query.path, depth) if item.is_container else (None if query.path else item)
        if not _query_matches(query, subject):
            continue
        found = get(item, rest, depth) if rest is not None else item
        if query.first_only:
            return found, pipe
        if found is not None:
            matched.append(found.text)
    if query.first_only:
        return None, None
    return _built("[" + ",".join(matched) + "]"), pipe


def _truthy(node: Node | None, wanted: str) -> bool | None:
    """The ``~`` conversions: None for an unknown one."""
    if wanted == "*":
        return node is not None
    if wanted == "null":
        return node is None or node.kind == NULL
    boolean = None
    if node is not None and node.kind == STRING:
        boolean = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}.get(
            node.string().lower()
        )
    if wanted == "true":
        if node is None:
            return False
        if node.kind == NUMBER:
            return _number(node.text) != 0
        return node.kind == TRUE or boolean is True
    if wanted == "false":
        if node is None or node.kind in (NULL, FALSE):
            return True
        if node.kind == NUMBER:
            return _number(node.text) == 0
        return boolean is False
    return None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _query_matches(query: _Query, subject: Node | None) -> bool:
    value = query.value
    if value.startswith("~"):
        truth = _truthy(subject, value[1:])
        if truth is None:
            return False
        subject, value = Node(TRUE if truth else FALSE, "true" if truth else "false"), "true"
    if subject is None:
        return False
    op = query.op
    if not op:
        return True
    if subject.kind == STRING:
        text = subject.string()
        comparisons: dict[str, Callable[[], bool]] = {
            "=": lambda: text == value,
            "!=": lambda: text != value,
            "<": lambda: text < value,
            "<=": lambda: text <= value,
            ">": lambda: text > value,
            ">=": lambda: text >= value,
            "%": lambda: _like(text, _pattern(value)),
            "!%": lambda: not _like(text, _pattern(value)),
        }
        return comparisons.get(op, lambda: False)()
    if subject.kind == NUMBER:
        left, right = _number(subject.text), _number(value)
        if math.isnan(left) or math.isnan(right):
            return op == "!="
        return {
            "=": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }.get(op, False)
    if subject.kind == TRUE:
        return {"=": value == "true", "!=": value != "true", ">": value == "false", ">=": True}.get(op, False)
    if subject.kind == FALSE:
        return {"=": value == "false", "!=": value != "false", "<": value == "true", "<=": True}.get(
            op, False
        )
    return False


def _pattern(text: str) -> list[str]:
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


def _like(text: str, pattern: list[str]) -> bool:
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


# -- modifiers, literals, multipaths --------------------------------------------------------------


def _modifier(node: Node, path: str, depth: int) -> tuple[Node | None, str] | None:
    """``@name[:arg]`` at the start of ``path``: its result and the rest of the path; None
    when the name is no modifier (it is then a key)."""
    end = 1
    while end < len(path) and path[end] not in ":|.":
        end += 1
    name, rest, arg = path[1:end], path[end:], ""
    if name not in MODIFIERS:
        return None
    if rest.startswith(":") and len(rest) > 1:
        rest = rest[1:]
        if rest[0] in '{["':
            prefix = _json_prefix(rest)
            if prefix is not None:
                arg, rest = rest[: len(prefix)], rest[len(prefix) :]
        if not arg:
            stop = 0
            while stop < len(rest) and rest[stop] != "|":
                if rest[stop] in '{["(':
                    stop = _closing(rest, stop, rest[stop]) if rest[stop] != '"' else _string_end(rest, stop)
                stop += 1
            arg, rest = rest[:stop], rest[stop:]
    elif rest.startswith(":"):
        rest = ""
    return _MODIFIER_FUNCTIONS[name](node, arg, depth), rest


def _string_end(text: str, start: int) -> int:
    pos = start + 1
    while pos < len(text) and text[pos] != '"':
        pos += 2 if text[pos] == "\\" else 1
    return min(pos, len(text) - 1)


def _json_prefix(text: str) -> str | None:
    """The JSON value at the start of ``text`` (as written), or None."""
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    return text[:end]


def _options(arg: str) -> dict[str, object]:
    try:
        value = json.loads(arg) if arg else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _unwrap(text: str) -> str:
    text = text.strip()
    return text[1:-1].strip() if len(text) >= 2 and text[0] in "[{" else text


def _mod_pretty(node: Node, arg: str, depth: int) -> Node | None:
    if arg:
        raise PathError("@pretty takes no options here (its layout is the json format's)")
    return _built(formats.indented(node))


def _mod_reverse(node: Node, arg: str, depth: int) -> Node | None:
    if node.kind == ARRAY:
        return _built("[" + ",".join(item.text for item in reversed(node.items)) + "]")
    if node.kind == OBJECT:
        return _built("{" + ",".join(f"{k}:{v.text}" for k, v in reversed(node.members)) + "}")
    return node


def _flatten(node: Node, deep: bool) -> str:
    parts = []
    for item in node.items:
        raw = item.text
        if item.kind == ARRAY:
            raw = _unwrap(_flatten(item, deep) if deep else item.text)
        if raw.strip():
            parts.append(raw.strip())
    return "[" + ",".join(parts) + "]"


def _mod_flatten(node: Node, arg: str, depth: int) -> Node | None:
    if node.kind != ARRAY:
        return node
    return _built(_flatten(node, bool(_options(arg).get("deep"))))


def _mod_join(node: Node, arg: str, depth: int) -> Node | None:
    if node.kind != ARRAY:
        return node
    objects = [item for item in node.items if item.kind == OBJECT]
    if _options(arg).get("preserve"):
        return _built("{" + ",".join(_unwrap(o.text) for o in objects if o.members) + "}")
    order: list[str] = []
    chosen: dict[str, tuple[str, Node]] = {}
    for item in objects:
        for key, value in item.members:
            name = Node(STRING, key).string()
            if name not in chosen:
                order.append(name)
                chosen[name] = (key, value)
            else:
                chosen[name] = (chosen[name][0], value)
    return _built("{" + ",".join(f"{chosen[n][0]}:{chosen[n][1].text}" for n in order) + "}")


def _mod_keys(node: Node, arg: str, depth: int) -> Node | None:
    if node.kind == OBJECT:
        return _built("[" + ",".join(key for key, _ in node.members) + "]")
    count = len(node.items) if node.kind == ARRAY else 1
    return _built("[" + ",".join(["null"] * count) + "]")


def _mod_values(node: Node, arg: str, depth: int) -> Node | None:
    if node.kind == ARRAY:
        return node
    if node.kind == OBJECT:
        return _built("[" + ",".join(value.text for _, value in node.members) + "]")
    return _built("[" + node.text + "]")


def _mod_fromstr(node: Node, arg: str, depth: int) -> Node | None:
    return parse_or_none(node.string()) if node.kind == STRING else node


def _mod_group(node: Node, arg: str, depth: int) -> Node | None:
    if node.kind != OBJECT:
        return None
    rows: list[list[str]] = []
    for key, value in node.members:
        if value.kind != ARRAY:
            continue
        for position, item in enumerate(value.items):
            if position == len(rows):
                rows.append([])
            rows[position].append(f"{key}:{item.text}")
    return _built("[" + ",".join("{" + ",".join(row) + "}" for row in rows) + "]")


def _mod_dig(node: Node, arg: str, depth: int) -> Node | None:
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        hit = get(current, arg, depth)
        if hit is not None:
            found.append(hit.text)
        children = [v for _, v in current.members] if current.kind == OBJECT else list(current.items)
        stack.extend(reversed(children))
    return _built("[" + ",".join(found) + "]")


_MODIFIER_FUNCTIONS: dict[str, Callable[[Node, str, int], Node | None]] = {
    "pretty": _mod_pretty,
    "ugly": lambda node, arg, depth: _built(compact_node(node)),
    "reverse": _mod_reverse,
    "this": lambda node, arg, depth: node,
    "flatten": _mod_flatten,
    "join": _mod_join,
    "valid": lambda node, arg, depth: node,  # what reaches a transform is valid JSON
    "keys": _mod_keys,
    "values": _mod_values,
    "tostr": lambda node, arg, depth: Node(STRING, go_quote(node.text)),
    "fromstr": _mod_fromstr,
    "group": _mod_group,
    "dig": _mod_dig,
}


def _literal(path: str) -> tuple[Node, str] | None:
    """``!value`` at the start of ``path``: the value and the rest; None when it is no literal."""
    body = path[1:]
    if body[:1] in '{["+-0123456789':
        prefix = _json_prefix(body)
        if prefix is None:
            return None
        found = parse_or_none(prefix)
        return (found, body[len(prefix) :]) if found is not None else None
    end = 0
    while end < len(body) and body[end] not in ".|":
        end += 1
    word = body[:end].lower()
    if word in ("true", "false", "null"):
        return Node(word, word), body[end:]
    if word in ("nan", "inf"):
        return Node(NUMBER, body[:end]), body[end:]
    return None


def _multipath(node: Node, path: str, depth: int) -> Node | None:
    """``[a,b]`` or ``{a,"name":b}`` at the start of ``path``: a new array or object of what
    each path selects (those that select nothing are left out)."""
    end = _closing(path, 0, path[0])
    rest = path[end + 1 :]
    if rest and rest[0] not in ".|":
        return None
    selectors = _selectors(path[1:end])
    as_object = path[0] == "{"
    parts = []
    for name, sub in selectors:
        found = get(node, sub, depth)
        if found is None:
            continue
        if as_object:
            if name and name[0] == '"' and parse_or_none(name) is not None:
                label = name
            else:
                last = name or _last_name(sub)
                simple = bool(name) or all(c >= " " and c not in "[]{}()#|!" for c in last)
                label = go_quote(last if simple else "_")
            parts.append(f"{label}:{found.text}")
        else:
            parts.append(found.text)
    built = _built(("{" if as_object else "[") + ",".join(parts) + ("}" if as_object else "]"))
    return get(built, rest[1:], depth) if rest else built


def _selectors(inner: str) -> list[tuple[str, str]]:
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
            pos = _string_end(inner, pos)
        elif char in "[({":
            depth += 1
        elif char in "])}":
            depth -= 1
        pos += 1
    return found


def _last_name(path: str) -> str:
    for pos in range(len(path) - 1, -1, -1):
        if path[pos] in ".|" and not (pos > 0 and path[pos - 1] == "\\"):
            return path[pos + 1 :]
    return path
