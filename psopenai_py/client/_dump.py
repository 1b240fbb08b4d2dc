"""How a result object is dumped (``model_dump``, ``to_dict``, ...) and written as JSON text, by
the SDK's (pydantic's) rules (see :mod:`._models`)."""

from __future__ import annotations

import json
import math
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union, cast, get_args, get_origin

from ._construct import Constructed, unwrap_annotated, validate

if TYPE_CHECKING:
    from ._models import BaseModel

__all__ = ["Dump", "json_text"]


@dataclass(frozen=True)
class Dump:
    """One dump's options, applied at every depth."""

    json_mode: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool
    fallback: Callable[[Any], Any] | None

    def model(self, model: BaseModel, include: Any, exclude: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        table = model._fields()
        for name, value in model._items():
            declared = name in table
            if declared and self.exclude_unset and name not in model._fields_set:
                continue
            if self.exclude_none and value is None:
                continue
            if declared and self.exclude_defaults and not table[name].required and value is None:
                continue
            keep, inner_include, inner_exclude = _selected(name, include, exclude)
            if keep:
                kind = table[name].annotation if declared else Any
                out[name] = self.value(value, inner_include, inner_exclude, kind)
        return out

    def value(self, value: Any, include: Any, exclude: Any, kind: Any = Any) -> Any:
        """One value; ``kind`` is its declared type, which a JSON dump writes it as (as pydantic
        writes ``true`` in an integer field as ``1``, and an integer in a float field as ``1.0``)."""
        kind = _serialised_kind(value, kind)
        origin = get_origin(kind)
        if isinstance(value, Constructed):
            return self.model(cast("BaseModel", value), include, exclude)
        if isinstance(value, (list, tuple)):
            item_kind = get_args(kind)[0] if origin is list and get_args(kind) else Any
            items = []
            for index, item in enumerate(value):
                keep, inner_include, inner_exclude = _selected(index, include, exclude)
                if keep:
                    items.append(self.value(item, inner_include, inner_exclude, item_kind))
            return items if self.json_mode or isinstance(value, list) else type(value)(items)
        if isinstance(value, Mapping):
            item_kind = get_args(kind)[1] if origin is dict and len(get_args(kind)) > 1 else Any
            out = {}
            for key, item in value.items():
                keep, inner_include, inner_exclude = _selected(key, include, exclude)
                if keep:
                    out[key] = self.value(item, inner_include, inner_exclude, item_kind)
            return out
        if self.json_mode and isinstance(value, (bool, int)):
            if kind is float:
                value = float(value)
            elif kind is int and isinstance(value, bool):
                value = int(value)
        if self.json_mode:
            if isinstance(value, float) and not math.isfinite(value):
                return None  # as pydantic writes inf and nan in JSON mode
            if not (value is None or isinstance(value, (str, int, float))):
                if self.fallback is not None:
                    return self.fallback(value)
                raise TypeError(f"Unable to serialize unknown type: {type(value)!r}")
        return value


def _serialised_kind(value: Any, kind: Any) -> Any:
    """The declared type a value is written as: a union's member the value is of, else its
    first member that is not None."""
    kind, _ = unwrap_annotated(kind)
    if get_origin(kind) not in (Union, types.UnionType):
        return kind
    members = [m for m in get_args(kind) if m is not type(None)]
    for member in members:
        if validate(value, member, strict=True)[0]:
            return _serialised_kind(value, member)
    return _serialised_kind(value, members[0]) if members else Any


def _selected(key: Any, include: Any, exclude: Any) -> tuple[bool, Any, Any]:
    """Whether ``key`` is kept by pydantic's ``include``/``exclude`` and their parts below it."""
    inner_include = None
    if include is not None:
        if isinstance(include, Mapping):
            parts = [include[k] for k in (key, "__all__") if k in include]
            if not parts:
                return False, None, None
            inner_include = _merge(parts)
        elif key not in include:
            return False, None, None
    inner_exclude = None
    if exclude is not None:
        if isinstance(exclude, Mapping):
            parts = [exclude[k] for k in (key, "__all__") if k in exclude]
            if any(p is True for p in parts):
                return False, None, None
            inner_exclude = _merge(parts) if parts else None
        elif key in exclude:
            return False, None, None
    return True, inner_include, inner_exclude


def _merge(parts: list[Any]) -> Any:
    """Several include/exclude parts for one key as one (``True`` means the whole value)."""
    parts = [p for p in parts if p is not None and p is not False]
    if not parts or any(p is True for p in parts):
        return None
    if len(parts) == 1:
        return parts[0]
    merged: dict[Any, Any] = {}
    for part in parts:
        for key, sub in part.items() if isinstance(part, Mapping) else ((k, True) for k in part):
            merged[key] = sub if key not in merged else _merge([merged[key], sub]) or True
    return merged


# -- JSON text ----------------------------------------------------------------------------------


def _float_text(value: float) -> str:
    """A float as pydantic writes it in JSON: Python's shortest form, with the exponent written
    without zero padding (``1e-7``, ``1e+16``) and the numbers from 1e-5 to 1e-4 in decimals
    (``0.000015``)."""
    text = repr(value)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = int(exponent)
    if power == -5:
        sign = "-" if mantissa.startswith("-") else ""
        return f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
    return f"{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"


def _string_text(text: str, ensure_ascii: bool) -> str:
    """A JSON string as pydantic writes it: Python's escapes, except that DEL (U+007F) is left as
    it is even when only ASCII is written."""
    if not ensure_ascii or "\x7f" not in text:
        return json.dumps(text, ensure_ascii=ensure_ascii)
    return '"' + "\x7f".join(json.dumps(part, ensure_ascii=True)[1:-1] for part in text.split("\x7f")) + '"'


def json_text(value: Any, *, indent: int | None = None, ensure_ascii: bool = False) -> str:
    """JSON text as pydantic writes it: compact (``{"a":1}``) or indented; floats as
    :func:`_float_text`.  Hand-written because Python's encoder writes floats its own way and
    cannot be told otherwise."""
    parts: list[str] = []
    _write(value, parts, indent, ensure_ascii, 0)
    return "".join(parts)


def _write(value: Any, out: list[str], indent: int | None, ensure_ascii: bool, depth: int) -> None:
    if isinstance(value, str):
        out.append(_string_text(value, ensure_ascii))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float_text(value) if math.isfinite(value) else "null")
    elif isinstance(value, (list, tuple, Mapping)):
        items = list(value.items()) if isinstance(value, Mapping) else list(value)
        opening, closing = ("{", "}") if isinstance(value, Mapping) else ("[", "]")
        if not items:
            out.append(opening + closing)
            return
        newline = "" if indent is None else "\n" + " " * (indent * (depth + 1))
        out.append(opening)
        for position, item in enumerate(items):
            if position:
                out.append(",")
            out.append(newline)
            if isinstance(value, Mapping):
                key, item = item
                out.append(_string_text(str(key), ensure_ascii))
                out.append(":" if indent is None else ": ")
            _write(item, out, indent, ensure_ascii, depth + 1)
        if indent is not None:
            out.append("\n" + " " * (indent * depth))
        out.append(closing)
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
