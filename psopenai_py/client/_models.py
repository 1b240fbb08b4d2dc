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

:class:`BaseModel` is here; how a value is built (and validated, for a union) is
:mod:`._construct`'s, how it is dumped and written as JSON text :mod:`._dump`'s.
"""

from __future__ import annotations

import copy as _copy
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Literal, TypeVar, get_origin

from ._construct import Constructed, FieldInfo, construct_type, substitute
from ._dump import Dump, json_text

__all__ = ["BaseModel", "FieldInfo"]

_M = TypeVar("_M", bound="BaseModel")

IncEx = set[int] | set[str] | Mapping[int, Any] | Mapping[str, Any]
"""pydantic's include/exclude shape: a set of keys, or a mapping of key to ``True`` or a nested one."""


class _ModelFields:
    """``Model.model_fields``: the table, read when first asked for (the annotations may name
    classes defined later in their module)."""

    def __get__(self, instance: object, owner: type[BaseModel]) -> dict[str, FieldInfo]:
        return owner._fields()


class BaseModel(Constructed):
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
                    name in vars(klass)
                    for klass in cls.__mro__
                    if klass not in (BaseModel, Constructed, object)
                )
                table[name] = FieldInfo(name, substitute(annotation, cls._type_arguments), not has_default)
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
        options = Dump(mode == "json", exclude_unset, exclude_defaults, exclude_none, fallback)
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
