"""The result objects' machinery: typed models that behave as the official SDK's do, without
pydantic (the package's run-time dependencies stay requests, urllib3 and keyring).

A model class is its table of fields: class annotations in the SDK's declaration order, a field
with a default (``= None``) optional, one without required.  What the server sends is taken
loosely, as the SDK's default (non-strict) construction takes it:

- a declared key is converted to the declared type where it fits (an object to its model, the
  items of a list, a union's variant, a JSON integer to a float) and kept as sent where it does
  not (a string in ``created`` stays a string): reading a result never fails;
- a declared key that is absent reads ``None`` and is not *set*; one sent as ``null`` reads
  ``None`` and is set;
- an unknown key is kept as sent, as an attribute and in every dump (an object stays a ``dict``).

``model_dump``/``model_dump_json``/``to_dict``/``to_json``, ``repr``, ``==`` and iteration follow
the SDK's (pydantic's) rules: every declared field in declaration order, then the extra keys;
``exclude_unset`` keeps what the server sent, ``exclude_none`` drops ``None`` fields at every depth
of the models (not inside plain ``dict`` values), ``exclude_defaults`` drops the optional fields
still at ``None``.  ``_request_id`` (the ``x-request-id`` of the answer) is set on the object a
call returns, never on the objects inside it, and is part of no dump, ``repr`` or comparison.

Hand-written rather than taken from a library: the behaviour to match is pydantic's as the SDK
configures it, and pydantic is not a run-time dependency of this package.  The keywords of
pydantic's dumps that concern features these types do not have (aliases, computed fields,
serialisation warnings, round trips, polymorphism) are accepted and change nothing.
"""

from __future__ import annotations

import copy as _copy
import json
import math
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

__all__ = ["BaseModel", "FieldInfo", "Discriminator", "construct_type", "json_text"]

_M = TypeVar("_M", bound="BaseModel")

IncEx = set[int] | set[str] | Mapping[int, Any] | Mapping[str, Any]
"""pydantic's include/exclude shape: a set of keys, or a mapping of key to ``True`` or a nested one."""


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


class _ModelFields:
    """``Model.model_fields``: the table, read when first asked for (the annotations may name
    classes defined later in their module)."""

    def __get__(self, instance: object, owner: type[BaseModel]) -> dict[str, FieldInfo]:
        return owner._fields()


class BaseModel:
    """The base of every result type (the SDK's ``BaseModel``); see the module docstring."""

    __slots__ = ("__dict__", "_extra", "_fields_set", "_request_id")

    _fields_set: set[str]
    _extra: dict[str, Any]
    _request_id: str | None
    """The ``x-request-id`` header of the answer, on the object a call returns (absent inside it)."""

    _field_table: ClassVar[dict[str, FieldInfo] | None] = None
    _type_arguments: ClassVar[dict[Any, Any]] = {}
    model_fields: ClassVar[_ModelFields] = _ModelFields()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._field_table = None  # each class resolves its own table on first use

    def __init__(self, **data: Any) -> None:
        self._fill(data, None)

    # -- the table and construction -----------------------------------------------------------

    @classmethod
    def _fields(cls) -> dict[str, FieldInfo]:
        table = cls.__dict__.get("_field_table")
        if table is None:
            hints = typing.get_type_hints(cls, include_extras=True)
            table = {}
            for name, annotation in hints.items():
                if name.startswith("_") or get_origin(annotation) is ClassVar:
                    continue
                has_default = any(
                    name in vars(klass) for klass in cls.__mro__ if klass not in (BaseModel, object)
                )
                table[name] = FieldInfo(name, _substitute(annotation, cls._type_arguments), not has_default)
            cls._field_table = table
        return table

    @classmethod
    def construct(cls: type[_M], _fields_set: set[str] | None = None, **values: Any) -> _M:
        """A model from data as sent, without validation (see the module docstring)."""
        model = cls.__new__(cls)
        model._fill(values, _fields_set)
        return model

    model_construct = construct

    def _fill(self, values: Mapping[str, Any], fields_set: set[str] | None) -> None:
        table = self._fields()
        given = set() if fields_set is None else set(fields_set)
        held: dict[str, Any] = {}
        for name, field in table.items():
            if name in values:
                value = values[name]
                held[name] = None if value is None else construct_type(value, field.annotation)
                given.add(name)
            else:
                held[name] = None
        object.__setattr__(self, "__dict__", held)
        object.__setattr__(self, "_fields_set", given)
        object.__setattr__(self, "_extra", {k: v for k, v in values.items() if k not in table})

    # -- attributes -----------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Only reached when the normal lookup fails: an extra key, or nothing.
        if not name.startswith("__"):
            try:
                return object.__getattribute__(self, "_extra")[name]
            except (KeyError, AttributeError):
                pass
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):  # private state (slots), never a field, as pydantic's
            object.__setattr__(self, name, value)
        elif name in self._fields():
            self.__dict__[name] = value
            self._fields_set.add(name)
        else:
            self._extra[name] = value

    @property
    def model_fields_set(self) -> set[str]:
        """The fields the server (or the caller) set, absent ones excluded."""
        return self._fields_set

    @property
    def model_extra(self) -> dict[str, Any]:
        """The keys the type does not declare, as sent."""
        return self._extra

    def _items(self) -> Iterator[tuple[str, Any]]:
        yield from self.__dict__.items()
        yield from self._extra.items()

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        """``(name, value)`` of every field, then every extra key (``dict(model)`` works)."""
        return self._items()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseModel):
            return NotImplemented
        return (
            _origin(type(self)) is _origin(type(other))
            and self.__dict__ == other.__dict__
            and self._extra == other._extra
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, as the SDK's are

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._items())})"

    __str__ = __repr__

    def model_copy(self: _M, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> _M:
        """A copy (``deep``: of every value too), with ``update`` set over it."""
        twin = type(self).__new__(type(self))
        copier: Callable[[Any], Any] = _copy.deepcopy if deep else _copy.copy
        object.__setattr__(twin, "__dict__", copier(self.__dict__))
        object.__setattr__(twin, "_extra", copier(self._extra))
        object.__setattr__(twin, "_fields_set", set(self._fields_set))
        for name, value in (update or {}).items():
            setattr(twin, name, value)
            twin._fields_set.add(name)
        return twin

    # -- dumps ----------------------------------------------------------------------------------

    def model_dump(
        self,
        *,
        mode: Literal["json", "python"] | str = "python",
        include: IncEx | None = None,
        exclude: IncEx | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        exclude_computed_fields: bool = False,
        round_trip: bool = False,
        warnings: bool | Literal["none", "warn", "error"] = True,
        fallback: Callable[[Any], Any] | None = None,
        serialize_as_any: bool = False,
        polymorphic_serialization: bool | None = None,
    ) -> dict[str, Any]:
        """The model as a ``dict``: every declared field (absent ones as None) and the extra keys;
        ``mode="json"`` gives only JSON values.  Keywords as pydantic's."""
        if mode not in ("python", "json"):
            raise ValueError(f"Invalid mode {mode!r}: expected 'python' or 'json'.")
        options = _Dump(mode == "json", exclude_unset, exclude_defaults, exclude_none, fallback)
        return options.model(self, include, exclude)

    def model_dump_json(
        self,
        *,
        indent: int | None = None,
        ensure_ascii: bool = False,
        include: IncEx | None = None,
        exclude: IncEx | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        exclude_computed_fields: bool = False,
        round_trip: bool = False,
        warnings: bool | Literal["none", "warn", "error"] = True,
        fallback: Callable[[Any], Any] | None = None,
        serialize_as_any: bool = False,
        polymorphic_serialization: bool | None = None,
    ) -> str:
        """:meth:`model_dump` in JSON mode as JSON text: compact unless ``indent`` is given."""
        data = self.model_dump(
            mode="json",
            include=include,
            exclude=exclude,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            fallback=fallback,
        )
        return json_text(data, indent=indent, ensure_ascii=ensure_ascii)

    def to_dict(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> dict[str, object]:
        """What the server sent (``exclude_unset``), as a ``dict``, in declaration order."""
        return self.model_dump(
            mode=mode,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        """:meth:`to_dict` as JSON text, indented by 2 (``indent=None``: compact)."""
        return self.model_dump_json(
            indent=indent,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )


def _origin(cls: type[BaseModel]) -> type[BaseModel]:
    """A parametrised page class compares as its generic class, as pydantic's do."""
    origin = cls.__dict__.get("_generic_origin")
    return origin if isinstance(origin, type) else cls


# -- loose construction ---------------------------------------------------------------------------


def _substitute(annotation: Any, arguments: Mapping[Any, Any]) -> Any:
    """``annotation`` with its type variables replaced (a page's ``List[T]`` -> ``List[Item]``)."""
    if isinstance(annotation, TypeVar):
        return arguments.get(annotation, Any)
    args = get_args(annotation)
    origin = get_origin(annotation)
    if not args or origin is None or origin is Literal or not arguments:
        return annotation
    new = tuple(_substitute(a, arguments) for a in args)
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


def _unwrap(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """The type inside ``Annotated[...]`` and the marks around it."""
    marks: tuple[Any, ...] = ()
    while get_origin(annotation) is typing.Annotated:
        marks += get_args(annotation)[1:]
        annotation = get_args(annotation)[0]
    return annotation, marks


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def construct_type(value: Any, annotation: Any) -> Any:
    """``value`` converted to ``annotation`` where it fits, else as it is (never an error).

    A union (``Optional[...]`` included) takes the value as pydantic would validate it (a
    member it fits exactly, else one it can be converted to, as ``"5"`` to an optional integer);
    failing that, the member its discriminator names, else the first member, loosely.
    """
    annotation, marks = _unwrap(annotation)
    origin = get_origin(annotation) or annotation
    if origin in (Union, types.UnionType):
        valid, validated = _validate(value, annotation, strict=False)
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
    variant, _ = _unwrap(variant)
    declared = variant._fields().get(field) if _is_model(variant) else None
    if declared is None:
        return ()
    kind, _ = _unwrap(declared.annotation)
    return get_args(kind) if get_origin(kind) is Literal else ()


_INVALID: Any = object()
_NOT_SCALAR: Any = object()
_BOOL_WORDS = {
    **dict.fromkeys(("0", "off", "f", "false", "n", "no"), False),
    **dict.fromkeys(("1", "on", "t", "true", "y", "yes"), True),
}
_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9][0-9_]*(\.0*)?\s*")


def _validate(value: Any, annotation: Any, *, strict: bool) -> tuple[bool, Any]:
    """pydantic's validation of JSON data against ``annotation``, which the SDK's loose
    construction tries first for a union: ``(True, the value as validated)`` or ``(False, None)``.

    ``strict`` takes each type exactly (an integer for a float excepted); otherwise pydantic's
    lax conversions apply: numbers and number text to numbers, ``0``/``1`` and words such as
    ``"yes"`` to booleans.  A union is smart: a member the value fits strictly, else the first it
    can be converted to.  A model: its required fields present, each field valid, extra keys kept.
    """
    annotation, _ = _unwrap(annotation)
    origin = get_origin(annotation) or annotation
    if annotation is Any or annotation is object:
        return True, value
    if annotation is None or annotation is type(None):
        return value is None, None
    if origin in (Union, types.UnionType):
        variants = get_args(annotation)
        for mode in (True,) if strict else (True, False):
            for variant in variants:
                valid, validated = _validate(value, variant, strict=mode)
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
        items = [_validate(v, args[0], strict=strict) if args else (True, v) for v in value]
        return all(ok for ok, _ in items), [v for _, v in items]
    if origin is dict:
        if not _is_str_mapping(value):
            return False, None
        args = get_args(annotation)
        pairs = {
            k: _validate(v, args[1], strict=strict) if len(args) > 1 else (True, v) for k, v in value.items()
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
            valid, validated = _validate(value[name], field.annotation, strict=strict)
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


# -- dumps ----------------------------------------------------------------------------------------


class _Dump:
    """One dump's options, applied at every depth."""

    def __init__(
        self,
        json_mode: bool,
        exclude_unset: bool,
        exclude_defaults: bool,
        exclude_none: bool,
        fallback: Callable[[Any], Any] | None,
    ) -> None:
        self.json_mode = json_mode
        self.exclude_unset = exclude_unset
        self.exclude_defaults = exclude_defaults
        self.exclude_none = exclude_none
        self.fallback = fallback

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
        if isinstance(value, BaseModel):
            return self.model(value, include, exclude)
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
    kind, _ = _unwrap(kind)
    if get_origin(kind) not in (Union, types.UnionType):
        return kind
    members = [m for m in get_args(kind) if m is not type(None)]
    for member in members:
        if _validate(value, member, strict=True)[0]:
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
