"""Records: classes that only hold named values, declared by their annotations.

``class Counts(Record): finished: int; failed: int = 0`` is a class with a constructor taking
``finished`` and ``failed`` by position or keyword (``failed`` defaulting to 0), fields that
cannot be assigned after construction, and a repr naming every field.  ``frozen=False`` in the
class line lets the fields be assigned; ``eq=True`` compares two records field by field (and
hashes a frozen one by its fields); without it a record is equal only to itself, as a plain
object.

Why not :mod:`dataclasses` or :class:`typing.NamedTuple`: every command line builds these
records, and a one-shot command's start-up was mostly the making of its classes.  A dataclass
costs the import of ``inspect``, ``ast`` and ``dis`` and about half a millisecond per class (it
writes and compiles each ``__init__`` from source); a named tuple about a third of one.  A record
class costs next to nothing to make: its constructor is one shared function that reads the
class's field table, and nothing is compiled; a record takes about a microsecond more to build
than a plain class's instance (a one-shot command line builds about fifty).  Type checkers see
a record as a frozen dataclass (:func:`typing.dataclass_transform`), so constructors, defaults
and read-only fields are checked.

The repr shows every field's own repr.  A record holding anything that must not be shown whole
(an organization, request headers) masks it in ``_shown`` or defines its own ``__repr__``; a
key is always a :class:`~psopenai_py.secret.Secret`, whose repr masks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # typing.dataclass_transform is Python 3.11+; only the type checker reads it here
    from typing_extensions import Self, dataclass_transform
else:

    def dataclass_transform(**_options: object) -> Any:
        """At run time the declaration for type checkers does nothing."""
        return lambda cls: cls


__all__ = ["Record"]


def _check_order(name: str, fields: tuple[str, ...], defaults: dict[str, Any]) -> None:
    # As a dataclass: a field without a default after one with a default could never be given
    # by position alone, so the fields with defaults are the last ones.
    tail = fields[len(fields) - len(defaults) :]
    if not all(field in defaults for field in tail):
        late = next(field for field in tail if field not in defaults)
        raise TypeError(f"{name}: field {late!r} has no default but follows a field that has one")


def _wrong_arguments(cls: type[Record], args: tuple[Any, ...], kwargs: dict[str, Any]) -> TypeError:
    """The error of a constructor call that does not fit the fields, as Python words it."""
    name, fields = cls.__name__, cls._record_fields
    if len(args) > len(fields):
        return TypeError(f"{name}() takes {len(fields)} positional arguments, {len(args)} given")
    for field in fields[: len(args)]:
        if field in kwargs:
            return TypeError(f"{name}() got multiple values for argument {field!r}")
    for field in kwargs:
        if field not in fields:
            return TypeError(f"{name}() got an unexpected keyword argument {field!r}")
    missing = [f for f in fields[len(args) :] if f not in kwargs and f not in cls._record_defaults]
    return TypeError(f"{name}() missing required argument: {missing[0]!r}")


def _equal(self: Record, other: object) -> object:  # a bool, or NotImplemented
    if not isinstance(other, Record) or other.__class__ is not self.__class__:
        return NotImplemented
    return self._values() == other._values()


def _hash(self: Record) -> int:
    return hash(self._values())


@dataclass_transform(frozen_default=True, eq_default=False)
class Record:
    """The base of every record class (see the module's docstring)."""

    _record_fields: ClassVar[tuple[str, ...]] = ()
    """The fields in the constructor's order: the bases' first, then the class's own."""
    _record_names: ClassVar[frozenset[str]] = frozenset()
    _record_defaults: ClassVar[dict[str, Any]] = {}

    _record_frozen: ClassVar[bool] = True

    def __init_subclass__(cls, *, frozen: bool = True, eq: bool = False, **options: Any) -> None:
        # Runs once per record class as its module loads: kept to a few steps for the common
        # case (a record extending Record directly).
        super().__init_subclass__(**options)
        namespace = cls.__dict__
        # A class variable is not a field.  Annotations are strings where the module postpones
        # them (as every module of this package does), objects otherwise: str() reads both.
        own = [
            field
            # the class's own annotations (from Python 3.10 on, never its bases'; evaluated on
            # first use from Python 3.14 on, where a module does not postpone them)
            for field, annotation in cls.__annotations__.items()
            if not str(annotation).startswith(("ClassVar", "typing.ClassVar"))
        ]
        defaults = {field: namespace[field] for field in own if field in namespace}
        fields = tuple(own)
        if cls.__bases__ != (Record,):  # the bases' fields come first, with their defaults
            inherited: tuple[str, ...] = ()
            inherited_defaults: dict[str, Any] = {}
            for base in reversed(cls.__mro__[1:]):
                inherited += tuple(f for f in base.__dict__.get("_record_fields", ()) if f not in inherited)
                inherited_defaults.update(base.__dict__.get("_record_defaults", {}))
            fields = inherited + tuple(f for f in own if f not in inherited)
            defaults = {**inherited_defaults, **defaults}
        _check_order(cls.__name__, fields, defaults)
        cls._record_fields, cls._record_names, cls._record_defaults = fields, frozenset(fields), defaults
        if cls.__bases__ != (Record,) and frozen != cls._record_frozen:  # as dataclasses refuse it
            raise TypeError(f"{cls.__name__}: a frozen record and one that is not cannot extend each other")
        if not frozen:
            cls._record_frozen = False
        if eq:
            cls.__eq__ = _equal  # type: ignore[method-assign,assignment]
            # A mutable record that compares by value must not be hashable (as a dataclass).
            cls.__hash__ = _hash if frozen else None  # type: ignore[method-assign,assignment]

    def __setattr__(self, name: str, value: Any) -> None:
        if self._record_frozen:
            raise AttributeError(
                f"cannot assign to field {name!r}: {type(self).__name__} is frozen (see replace)"
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if self._record_frozen:
            raise AttributeError(f"cannot delete {name!r}: {type(self).__name__} is frozen")
        object.__delattr__(self, name)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The one constructor of every record, reading the class's field table: a generated one
        # per class is what makes a dataclass slow to define.  The fields go into the instance's
        # dictionary in three calls of C (no slots: filling slots takes a call per field, which
        # made a command line's start-up slower than the plain classes' own constructors).  The
        # usual call is checked by counting alone; a wrong one is told apart afterwards.
        cls = type(self)
        fields = cls._record_fields
        values = self.__dict__
        values.update(cls._record_defaults)
        if args:
            if len(args) > len(fields) or (kwargs and not kwargs.keys().isdisjoint(fields[: len(args)])):
                raise _wrong_arguments(cls, args, kwargs)
            values.update(zip(fields, args, strict=False))  # fewer arguments than fields
        values.update(kwargs)
        if len(values) != len(fields) or not kwargs.keys() <= cls._record_names:
            raise _wrong_arguments(cls, args, kwargs)

    def _values(self) -> tuple[Any, ...]:
        values = self.__dict__
        return tuple(values[field] for field in self._record_fields)

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, in their order."""
        values = self.__dict__
        return {field: values[field] for field in self._record_fields}

    def replace(self, **changes: Any) -> Self:
        """A new record: this one's fields with ``changes`` (by field name) over them."""
        return type(self)(**{**self.as_dict(), **changes})

    def _shown(self) -> dict[str, Any]:
        """The fields as the repr shows them: a record masks here what must not be shown whole."""
        return self.as_dict()

    def __repr__(self) -> str:
        fields = ", ".join(f"{field}={value!r}" for field, value in self._shown().items())
        return f"{type(self).__name__}({fields})"
