"""GJSON's modifiers (``@reverse``, ``@keys``, ``@join:{"preserve":true}``, ...) and literals
(``!true``, ``!{"a":1}``) for :mod:`.transform`: each modifier a function of the value so far and
its argument, its result JSON text read back into a node."""

from __future__ import annotations

import json
from collections.abc import Callable

from . import formats
from .jsontext import ARRAY, NUMBER, OBJECT, STRING, Node, compact_node, go_quote, parse_or_none
from .transform_syntax import MODIFIERS, PathError, closing, json_prefix, string_end

__all__ = ["apply_modifier", "literal", "Walk"]

Walk = Callable[[Node, str], Node | None]
"""The evaluator's ``get`` at the current depth (``@dig`` looks a path up at every level)."""


def apply_modifier(node: Node, path: str, walk: Walk) -> tuple[Node | None, str] | None:
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
            prefix = json_prefix(rest)
            if prefix is not None:
                arg, rest = rest[: len(prefix)], rest[len(prefix) :]
        if not arg:
            stop = 0
            while stop < len(rest) and rest[stop] != "|":
                if rest[stop] in '{["(':
                    stop = closing(rest, stop, rest[stop]) if rest[stop] != '"' else string_end(rest, stop)
                stop += 1
            arg, rest = rest[:stop], rest[stop:]
    elif rest.startswith(":"):
        rest = ""
    return _MODIFIER_FUNCTIONS[name](node, arg, walk), rest


def _options(arg: str) -> dict[str, object]:
    try:
        value = json.loads(arg) if arg else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _unwrap(text: str) -> str:
    text = text.strip()
    return text[1:-1].strip() if len(text) >= 2 and text[0] in "[{" else text


def _mod_pretty(node: Node, arg: str, walk: Walk) -> Node | None:
    if arg:
        raise PathError("@pretty takes no options here (its layout is the json format's)")
    return parse_or_none(formats.indented(node))


def _mod_reverse(node: Node, arg: str, walk: Walk) -> Node | None:
    if node.kind == ARRAY:
        return parse_or_none("[" + ",".join(item.text for item in reversed(node.items)) + "]")
    if node.kind == OBJECT:
        return parse_or_none("{" + ",".join(f"{k}:{v.text}" for k, v in reversed(node.members)) + "}")
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


def _mod_flatten(node: Node, arg: str, walk: Walk) -> Node | None:
    if node.kind != ARRAY:
        return node
    return parse_or_none(_flatten(node, bool(_options(arg).get("deep"))))


def _mod_join(node: Node, arg: str, walk: Walk) -> Node | None:
    if node.kind != ARRAY:
        return node
    objects = [item for item in node.items if item.kind == OBJECT]
    if _options(arg).get("preserve"):
        return parse_or_none("{" + ",".join(_unwrap(o.text) for o in objects if o.members) + "}")
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
    return parse_or_none("{" + ",".join(f"{chosen[n][0]}:{chosen[n][1].text}" for n in order) + "}")


def _mod_keys(node: Node, arg: str, walk: Walk) -> Node | None:
    if node.kind == OBJECT:
        return parse_or_none("[" + ",".join(key for key, _ in node.members) + "]")
    count = len(node.items) if node.kind == ARRAY else 1
    return parse_or_none("[" + ",".join(["null"] * count) + "]")


def _mod_values(node: Node, arg: str, walk: Walk) -> Node | None:
    if node.kind == ARRAY:
        return node
    if node.kind == OBJECT:
        return parse_or_none("[" + ",".join(value.text for _, value in node.members) + "]")
    return parse_or_none("[" + node.text + "]")


def _mod_fromstr(node: Node, arg: str, walk: Walk) -> Node | None:
    return parse_or_none(node.string()) if node.kind == STRING else node


def _mod_group(node: Node, arg: str, walk: Walk) -> Node | None:
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
    return parse_or_none("[" + ",".join("{" + ",".join(row) + "}" for row in rows) + "]")


def _mod_dig(node: Node, arg: str, walk: Walk) -> Node | None:
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        hit = walk(current, arg)
        if hit is not None:
            found.append(hit.text)
        children = [v for _, v in current.members] if current.kind == OBJECT else list(current.items)
        stack.extend(reversed(children))
    return parse_or_none("[" + ",".join(found) + "]")


_MODIFIER_FUNCTIONS: dict[str, Callable[[Node, str, Walk], Node | None]] = {
    "pretty": _mod_pretty,
    "ugly": lambda node, arg, walk: parse_or_none(compact_node(node)),
    "reverse": _mod_reverse,
    "this": lambda node, arg, walk: node,
    "flatten": _mod_flatten,
    "join": _mod_join,
    "valid": lambda node, arg, walk: node,  # what reaches a transform is valid JSON
    "keys": _mod_keys,
    "values": _mod_values,
    "tostr": lambda node, arg, walk: Node(STRING, go_quote(node.text)),
    "fromstr": _mod_fromstr,
    "group": _mod_group,
    "dig": _mod_dig,
}


def literal(path: str) -> tuple[Node, str] | None:
    """``!value`` at the start of ``path``: the value and the rest; None when it is no literal."""
    body = path[1:]
    if body[:1] in '{["+-0123456789':
        prefix = json_prefix(body)
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
