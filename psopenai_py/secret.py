"""The opaque wrapper every API key travels in.

A key is wrapped in :class:`Secret` as soon as it enters the package.  Its value comes out only
through :meth:`Secret.reveal`, which is called at the HTTP boundary and by the masking helpers.
The wrapper deliberately does not subclass ``str``: width formatting, concatenation, slicing and
``json.dumps`` would all reveal a ``str`` subclass's value.
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["Secret"]

_MASK = "<secret>"


class Secret:
    """An API key or other credential whose text never shows by accident.

    ``repr``, ``str`` and ``format`` give ``<secret>``; pickling and copying to JSON are refused.
    Two secrets compare equal when their values are equal.
    """

    __slots__ = ("__weakref__", "_value")  # weakly held by the scrubber's registry

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret value must be a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """Return the plain value. Call it only where the value must leave the process."""
        value: str = object.__getattribute__(self, "_value")
        return value

    def __bool__(self) -> bool:
        return bool(self.reveal())

    def __len__(self) -> int:
        return len(self.reveal())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self.reveal() == other.reveal()
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Secret, self.reveal()))

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, format_spec: str) -> str:
        return format(_MASK, format_spec)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __copy__(self) -> "Secret":
        return self

    def __deepcopy__(self, memo: Any) -> "Secret":
        return self
