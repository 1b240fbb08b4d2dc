"""How a result object is built from what the server sends, loosely, as the SDK's default
(non-strict) construction builds it, and pydantic's validation, which that construction tries
first for a union (see :mod:`._models`).  Hand-written: pydantic is not a run-time dependency."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

__all__ = [
    "FieldInfo",
    "Constructed",
    "Discriminator",
    "construct_type",
    "substitute",
    "unwrap_annotated",
    "validate",
]

_C = TypeVar("_C", bound="Constructed")


class FieldInfo:
    """One declared field: its type, whether it is required, its default (always None here)."""

    __slots__ = ("annotation", "default", "name", "required")

    alias: ClassVar[None] = None  # no field of these types has a wire name of its own

    def __init__(self, name: str, annotation: Any, required: bool) -> None:
        self.name = name
        self.annotation = annotation
        self.required = required
        self.default: Any = None

    def is_required(self) -> bool:
        """True for a field declared without a default (the SDK's required fields)."""
        return self.required

    def __repr__(self) -> str:
        return f"FieldInfo(annotation={self.annotation!r}, required={self.required})"


class Constructed:
    """What construction knows of a model class (:class:`~._models.BaseModel` is one): its table
    of fields and its constructor without validation."""

    __slots__ = ()

    @classmethod
    def _fields(cls) -> dict[str, FieldInfo]:
        raise NotImplementedError

    @classmethod
    def construct(cls: type[_C], _fields_set: set[str] | None = None, **values: Any) -> _C:
        """An object from data as sent, without validation."""
        raise NotImplementedError


def substitute(annotation: Any, arguments: Mapping[Any, Any]) -> Any:
    """``annotation`` with its type variables replaced (a page's ``List[T]`` -> ``List[Item]``)."""
    if isinstance(annotation, TypeVar):
        return arguments.get(annotation, Any)
    args = get_args(annotation)
    origin = get_origin(annotation)
    if not args or origin is None or origin is Literal or not arguments:
        return annotation
    new = tuple(substitute(a, arguments) for a in args)
    if origin in (Union, types.UnionType):
        return Union[new]  # noqa: UP007  (a union made of a tuple of types)
    if origin is typing.Annotated:
        return annotation
    return origin[new] if origin in (list, dict) else annotation.copy_with(new)


class Discriminator:
    """``Annotated[Union[...], Discriminator("type")]``: a union whose member is named by that
    field of the data, when the data fits none of them (the SDK marks its tool calls so)."""

    def __init__(self, field: str) -> None:
        self.field = field


def unwrap_annotated(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """The type inside ``Annotated[...]`` and the marks around it."""
    marks: tuple[Any, ...] = ()
    while get_origin(annotation) is typing.Annotated:
        marks += get_args(annotation)[1:]
        annotation = get_args(annotation)[0]
    return annotation, marks


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Constructed)


def construct_type(value: Any, annotation: Any) -> Any:
    """``value`` converted to ``annotation`` where it fits, else as it is (never an error).

    A union (``Optional[...]`` included) takes the value as pydantic would validate it (a
    member it fits exactly, else one it can be converted to, as ``"5"`` to an optional integer);
    failing that, the member its discriminator names, else the first member, loosely.
    """
    annotation, marks = unwrap_annotated(annotation)
    origin = get_origin(annotation) or annotation
    if origin in (Union, types.UnionType):
        valid, validated = validate(value, annotation, strict=False)
        if valid:
            return validated
        variants = get_args(annotation)
        for mark in marks:
            if isinstance(mark, Discriminator) and isinstance(value, Mapping):
                tag = value.get(mark.field)
                named = [v for v in variants if isinstance(tag, str) and tag and tag in _tags(v, mark.field)]
                if named:
                    return construct_type(value, named[0])
        return construct_type(value, variants[0])
    if origin is dict:
        if not isinstance(value, Mapping):
            return value
        args = get_args(annotation)
        item = args[1] if len(args) > 1 else Any
        return {k: construct_type(v, item) for k, v in value.items()}
    if _is_model(origin):
        # As the SDK: a list where one object belongs becomes a list of them.
        if isinstance(value, list):
            return [origin.construct(**v) if _is_str_mapping(v) else v for v in value]
        return origin.construct(**value) if _is_str_mapping(value) else value
    if origin is list:
        if not isinstance(value, list):
            return value
        args = get_args(annotation)
        return [construct_type(v, args[0]) if args else v for v in value]
    if origin is float and isinstance(value, int):  # a JSON integer (or a bool, as the SDK has it)
        as_float = float(value)
        return as_float if as_float == value else value
    return value


def _is_str_mapping(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, str) for k in value)


def _tags(variant: Any, field: str) -> tuple[Any, ...]:
    """The values a model's ``Literal`` field allows (a discriminated union's tags)."""
    variant, _ = unwrap_annotated(variant)
    declared = variant._fields().get(field) if _is_model(variant) else None
    if declared is None:
        return ()
    kind, _ = unwrap_annotated(declared.annotation)
    return get_args(kind) if get_origin(kind) is Literal else ()


_INVALID: Any = object()
_NOT_SCALAR: Any = object()
_BOOL_WORDS = {
    **dict.fromkeys(("0", "off", "f", "false", "n", "no"), False),
    **dict.fromkeys(("1", "on", "t", "true", "y", "yes"), True),
}
_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9][0-9_]*(\.0*)?\s*")


def validate(value: Any, annotation: Any, *, strict: bool) -> tuple[bool, Any]:
    """pydantic's validation of JSON data against ``annotation``, which the SDK's loose
    construction tries first for a union: ``(True, the value as validated)`` or ``(False, None)``.

    ``strict`` takes each type exactly (an integer for a float excepted); otherwise pydantic's
    lax conversions apply: numbers and number text to numbers, ``0``/``1`` and words such as
    ``"yes"`` to booleans.  A union is smart: a member the value fits strictly, else the first it
    can be converted to.  A model: its required fields present, each field valid, extra keys kept.
    """
    annotation, _ = unwrap_annotated(annotation)
    origin = get_origin(annotation) or annotation
    if annotation is Any or annotation is object:
        return True, value
    if annotation is None or annotation is type(None):
        return value is None, None
    if origin in (Union, types.UnionType):
        variants = get_args(annotation)
        for mode in (True,) if strict else (True, False):
            for variant in variants:
                valid, validated = validate(value, variant, strict=mode)
                if valid:
                    return True, validated
        return False, None
    converted = _scalar(value, origin, strict)
    if converted is not _NOT_SCALAR:
        return (converted is not _INVALID), (None if converted is _INVALID else converted)
    if origin is Literal:
        found = any(value == a and type(value) is type(a) for a in get_args(annotation))
        return found, value if found else None
    if origin is list:
        if not isinstance(value, list):
            return False, None
        args = get_args(annotation)
        items = [validate(v, args[0], strict=strict) if args else (True, v) for v in value]
        return all(ok for ok, _ in items), [v for _, v in items]
    if origin is dict:
        if not _is_str_mapping(value):
            return False, None
        args = get_args(annotation)
        pairs = {
            k: validate(v, args[1], strict=strict) if len(args) > 1 else (True, v) for k, v in value.items()
        }
        return all(ok for ok, _ in pairs.values()), {k: v for k, (_, v) in pairs.items()}
    if _is_model(origin):
        if not _is_str_mapping(value):
            return False, None
        data = dict(value)
        for name, field in origin._fields().items():
            if name not in value:
                if field.required:
                    return False, None
                continue
            valid, validated = validate(value[name], field.annotation, strict=strict)
            if not valid:
                return False, None
            data[name] = validated
        return True, origin.construct(**data)
    return False, None


def _scalar(value: Any, kind: Any, strict: bool) -> Any:
    """``value`` as a ``bool``/``int``/``float``/``str`` as pydantic validates one, ``_INVALID``
    when it cannot be, or ``_NOT_SCALAR`` for any other ``kind``."""
    if kind is str:
        return value if isinstance(value, str) else _INVALID
    if kind is bool:
        if isinstance(value, bool):
            return value
        if strict:
            return _INVALID
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        return _BOOL_WORDS.get(value.lower(), _INVALID) if isinstance(value, str) else _INVALID
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if strict:
            return _INVALID
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, float):  # a whole number within 64 bits, as pydantic takes one
            return int(value) if value.is_integer() and -(2**63) <= value < 2**63 else _INVALID
        if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
            digits = value.strip().replace("_", "")
            return int(float(digits)) if "." in digits else int(digits)
        return _INVALID
    if kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if strict:
            return _INVALID
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return _INVALID
        return _INVALID
    return _NOT_SCALAR
