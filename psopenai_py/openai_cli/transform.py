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

import math
from collections.abc import Callable

from .jsontext import ARRAY, FALSE, NULL, NUMBER, OBJECT, STRING, TRUE, Node, go_quote, parse_or_none
from .transform_modifiers import apply_modifier, literal
from .transform_syntax import (
    Component,
    PathError,
    Query,
    closing,
    last_name,
    like,
    outside_strings,
    parse_query,
    pattern,
    selectors,
    split_pipe,
)

__all__ = ["PathError", "check", "get"]

_MAX_PATH_DEPTH = 64


def check(path: str) -> None:
    """Raise :class:`PathError` for a path that cannot be evaluated as written: a query,
    multipath or JSON literal left unclosed, or ``@pretty`` with options.  (Checked on the
    path alone, before anything is sent; a valid path that matches nothing is no error.)"""
    resume = 0  # after a bracketed part, checked on its own
    for pos, char in outside_strings(path):
        if pos < resume:
            continue
        structural = (char in "([" and path[pos - 1 : pos] == "#") or (
            char in "[{" and (pos == 0 or path[pos - 1] in ".|,:!")
        )
        if structural:
            end = closing(path, pos, char)
            check(path[pos + 1 : end])
            resume = end + 1
            continue
        modifier = char == "@" and (pos == 0 or path[pos - 1] in ".|,:")
        if modifier and path.startswith("pretty:", pos + 1) and path[pos + 8 : pos + 9] not in ("", "|"):
            raise PathError("@pretty takes no options here (its layout is the json format's)")


def get(node: Node | None, path: str, _depth: int = 0) -> Node | None:
    """The value ``path`` selects in ``node``, or None when it selects nothing."""
    if _depth > _MAX_PATH_DEPTH:
        raise PathError(f"the path nests deeper than {_MAX_PATH_DEPTH} levels")
    if node is None:
        return None
    depth = _depth + 1
    if len(path) > 1:
        head = None
        if path[0] == "@":
            head = apply_modifier(node, path, lambda found, sub: get(found, sub, depth))
        elif path[0] == "!":
            head = literal(path)
        if head is not None:
            result, rest = head
            return get(result, rest[1:], depth) if rest[:1] in (".", "|") else result
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


def _walk_object(node: Node, path: str, depth: int) -> tuple[Node | None, str | None]:
    part = Component(path)
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


def _walk_array(node: Node, path: str, depth: int) -> tuple[Node | None, str | None]:
    items = node.items
    if path.startswith("#(") or path.startswith("#["):
        query, stop = parse_query(path)
        return _run_query(items, query, path[stop:], depth)
    if path == "#" or path.startswith("#|"):
        return Node(NUMBER, str(len(items))), (path[2:] if path.startswith("#|") else None)
    if path.startswith("#."):
        key, pipe = split_pipe(path[2:])
        found = [get(item, key, depth) for item in items]
        return parse_or_none("[" + ",".join(f.text for f in found if f is not None) + "]"), pipe
    part = Component(path)
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
    items: tuple[Node, ...], query: Query, after: str, depth: int
) -> tuple[Node | None, str | None]:
    rest, pipe = None, None
    if after.startswith("|"):
        pipe = after[1:]
    elif after.startswith("."):
        rest, pipe = split_pipe(after[1:])
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
    return parse_or_none("[" + ",".join(matched) + "]"), pipe


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


def _query_matches(query: Query, subject: Node | None) -> bool:
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
            "%": lambda: like(text, pattern(value)),
            "!%": lambda: not like(text, pattern(value)),
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


def _multipath(node: Node, path: str, depth: int) -> Node | None:
    """``[a,b]`` or ``{a,"name":b}`` at the start of ``path``: a new array or object of what
    each path selects (those that select nothing are left out)."""
    end = closing(path, 0, path[0])
    rest = path[end + 1 :]
    if rest and rest[0] not in ".|":
        return None
    pairs = selectors(path[1:end])
    as_object = path[0] == "{"
    parts = []
    for name, sub in pairs:
        found = get(node, sub, depth)
        if found is None:
            continue
        if as_object:
            if name and name[0] == '"' and parse_or_none(name) is not None:
                label = name
            else:
                last = name or last_name(sub)
                simple = bool(name) or all(c >= " " and c not in "[]{}()#|!" for c in last)
                label = go_quote(last if simple else "_")
            parts.append(f"{label}:{found.text}")
        else:
            parts.append(found.text)
    built = parse_or_none(("{" if as_object else "[") + ",".join(parts) + ("}" if as_object else "]"))
    return get(built, rest[1:], depth) if rest else built
