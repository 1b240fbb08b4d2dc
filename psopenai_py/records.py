"""Records: classes that only hold named values, declared by their annotations.

``class Counts(Record): finished: int; failed: int = 0`` is a class with slots, a constructor
taking ``finished`` and ``failed`` by position or keyword (``failed`` defaulting to 0), fields
that cannot be assigned after construction, and a repr naming every field.  ``frozen=False`` in
the class line lets the fields be assigned; ``eq=True`` compares two records field by field (and
hashes a frozen one by its fields); without it a record is equal only to itself, as a plain
object.

Why not :mod:`dataclasses` or :class:`typing.NamedTuple`: every command line builds these
records, and a one-shot command's start-up was mostly the making of its classes.  A dataclass
costs the import of ``inspect``, ``ast`` and ``dis`` and about half a millisecond per class (it
writes and compiles each ``__init__`` from source); a named tuple about a third of one.  A record
class costs next to nothing to make: its constructor is one shared function that reads the
class's field table, and nothing is compiled.  Type checkers see a record as a frozen dataclass
(:func:`typing.dataclass_transform`), so constructors, defaults and read-only fields are checked.

The repr shows every field's own repr.  A record holding anything that must not be shown whole
(an organization, request headers) masks it in ``_shown`` or defines its own ``__repr__``; a
key is always a :class:`~psopenai_py.secret.Secret`, whose repr masks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

if TYPE_CHECKING:  # typing.dataclass_transform is Python 3.11+; only the type checker reads it here
    from typing_extensions import Self, dataclass_transform
else:

    def dataclass_transform(**_options: object) -> Any:
        """At run time the declaration for type checkers does nothing."""
        return lambda cls: cls


__all__ = ["Record"]


def _is_class_variable(annotation: object) -> bool:
    # Annotations are strings where the module says ``from __future__ import annotations`` (as
    # every module of this package does), objects otherwise.
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return annotation is ClassVar or getattr(annotation, "__origin__", None) is ClassVar


class _RecordType(type):
    """Makes a record class: its fields from its annotations, their defaults out of the class
    namespace (a slot cannot have a class attribute of the same name) and into the field table,
    and the fields as its slots."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **options: Any
    ) -> _RecordType:
        if "__annotate__" in namespace and "__annotations__" not in namespace:
            # Python 3.14 evaluates a class's annotations lazily unless the module postpones them.
            raise TypeError(f"{name}: a record's module must say 'from __future__ import annotations'")
        annotations = namespace.get("__annotations__", {})
        own = tuple(field for field, annotation in annotations.items() if not _is_class_variable(annotation))
        inherited: tuple[str, ...] = ()
        defaults: dict[str, Any] = {}
        for base in reversed(bases):
            for field in getattr(base, "_record_fields", ()):
                if field not in inherited:
                    inherited += (field,)
            defaults.update(getattr(base, "_record_defaults", {}))
        defaults.update({field: namespace.pop(field) for field in own if field in namespace})
        fields = inherited + tuple(field for field in own if field not in inherited)
        _check_order(name, fields, defaults)
        namespace["__slots__"] = tuple(field for field in own if field not in inherited)
        namespace["_record_fields"] = fields
        namespace["_record_defaults"] = defaults
        return super().__new__(mcs, name, bases, namespace, **options)


def _check_order(name: str, fields: tuple[str, ...], defaults: dict[str, Any]) -> None:
    # As a dataclass: a field without a default after one with a default could never be given
    # by position alone.
    seen_default = None
    for field in fields:
        if field in defaults:
            seen_default = field
        elif seen_default is not None:
            raise TypeError(
                f"{name}: field {field!r} has no default but follows {seen_default!r}, which has one"
            )


_set = object.__setattr__  # past a frozen record's own __setattr__


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


def _frozen_setattr(self: Record, name: str, value: object) -> NoReturn:
    raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen (see replace)")


def _frozen_delattr(self: Record, name: str) -> NoReturn:
    raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")


def _equal(self: Record, other: object) -> object:  # a bool, or NotImplemented
    if not isinstance(other, Record) or other.__class__ is not self.__class__:
        return NotImplemented
    return self._values() == other._values()


def _hash(self: Record) -> int:
    return hash(self._values())


@dataclass_transform(frozen_default=True, eq_default=False)
class Record(metaclass=_RecordType):
    """The base of every record class (see the module's docstring)."""

    __slots__ = ()

    _record_fields: ClassVar[tuple[str, ...]]
    """The fields in the constructor's order: the bases' first, then the class's own."""
    _record_defaults: ClassVar[dict[str, Any]]

    def __init_subclass__(cls, *, frozen: bool = True, eq: bool = False, **options: Any) -> None:
        super().__init_subclass__(**options)
        if frozen:
            cls.__setattr__ = _frozen_setattr  # type: ignore[method-assign,assignment]
            cls.__delattr__ = _frozen_delattr  # type: ignore[method-assign,assignment]
        elif any(getattr(base, "__setattr__", None) is _frozen_setattr for base in cls.__mro__[1:]):
            raise TypeError(f"{cls.__name__}: a record that is not frozen cannot extend a frozen one")
        if eq:
            cls.__eq__ = _equal  # type: ignore[method-assign,assignment]
            # A mutable record that compares by value must not be hashable (as a dataclass).
            cls.__hash__ = _hash if frozen else None  # type: ignore[method-assign,assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The one constructor of every record, reading the class's field table: a generated one
        # per class is what makes a dataclass slow to define.  The usual call is checked by
        # counting alone; a wrong one is told apart afterwards (_wrong_arguments).
        cls = type(self)
        fields = cls._record_fields
        values = cls._record_defaults.copy()
        if args:
            if len(args) > len(fields) or (kwargs and not kwargs.keys().isdisjoint(fields[: len(args)])):
                raise _wrong_arguments(cls, args, kwargs)
            values.update(zip(fields, args, strict=False))  # fewer arguments than fields
        values.update(kwargs)
        if len(values) != len(fields):
            raise _wrong_arguments(cls, args, kwargs)
        try:
            for field in fields:
                _set(self, field, values[field])
        except KeyError:  # a field missing, and as many unknown keywords given
            raise _wrong_arguments(cls, args, kwargs) from None

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field) for field in self._record_fields)

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, in their order."""
        return {field: getattr(self, field) for field in self._record_fields}

    def replace(self, **changes: Any) -> Self:
        """A new record: this one's fields with ``changes`` (by field name) over them."""
        return type(self)(**{**self.as_dict(), **changes})

    def _shown(self) -> dict[str, Any]:
        """The fields as the repr shows them: a record masks here what must not be shown whole."""
        return self.as_dict()

    def __repr__(self) -> str:
        fields = ", ".join(f"{field}={value!r}" for field, value in self._shown().items())
        return f"{type(self).__name__}({fields})"
