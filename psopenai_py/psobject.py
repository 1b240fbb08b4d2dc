"""The result object: a PowerShell-like property bag over a parsed JSON response.

Property names are case-insensitive for both attribute and key access (``r.metadata``,
``r.Metadata``, ``r["METADATA"]``), as PowerShell's are; nested objects behave the same.
``str(obj)`` is the object's ``id`` when it has one, as the original's ToString override is.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

__all__ = ["PSObject", "to_plain"]


class PSObject(MutableMapping[str, Any]):
    """A case-insensitive property bag with type names, convertible back to plain JSON."""

    __slots__ = ("_added", "_data", "_index", "_type_names")

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        type_names: Iterable[str] = (),
    ) -> None:
        # Filled directly rather than through __setitem__: every response is wrapped once per
        # call, so this loop is on the hot path of each request.
        values: dict[str, Any] = {}
        index: dict[str, str] = {}
        for key, value in (data or {}).items():
            real = index.setdefault(key.lower(), key)
            values[real] = _wrap(value)
        object.__setattr__(self, "_data", values)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_type_names", list(type_names))
        object.__setattr__(self, "_added", set())

    # -- mapping protocol, case-insensitive ---------------------------------------------------
    def _real_key(self, key: str) -> str:
        real: str = self._index[key.lower()]
        return real

    def __getitem__(self, key: str) -> Any:
        return self._data[self._real_key(key)]

    def __setitem__(self, key: str, value: Any) -> None:
        real = self._index.get(key.lower(), key)
        self._index[key.lower()] = real
        self._data[real] = _wrap(value)

    def __delitem__(self, key: str) -> None:
        real = self._real_key(key)
        del self._data[real]
        del self._index[real.lower()]
        self._added.discard(real.lower())

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._index

    # -- attribute access -----------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no property {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._data))

    # -- PowerShell-isms ------------------------------------------------------------------------
    @property
    def pstypenames(self) -> list[str]:
        """The type names, most specific first (``PSOpenAI.Chat.Completion``)."""
        return list(self._type_names)

    def add_property(self, name: str, value: Any) -> None:
        """Add a property the API did not send (like Add-Member); :meth:`to_dict` leaves it out."""
        self[name] = value
        self._added.add(name.lower())

    def __str__(self) -> str:
        ident = self._data.get(self._index.get("id", "id"))
        return (
            str(ident)
            if ident is not None
            else "@{" + "; ".join(f"{k}={v}" for k, v in self._data.items()) + "}"
        )

    def __repr__(self) -> str:
        type_name = self._type_names[0] if self._type_names else "PSObject"
        return f"<{type_name} {json.dumps(self.to_dict(include_added=False), default=str)[:200]}>"

    def __eq__(self, other: object) -> bool:
        mine: dict[str, Any] = self.to_dict(include_added=True)
        if isinstance(other, PSObject):
            return mine == other.to_dict(include_added=True)
        if isinstance(other, Mapping):
            theirs: Any = to_plain(other)
            return bool(mine == theirs)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self, *, include_added: bool = False) -> dict[str, Any]:
        """The plain JSON-compatible dict: nested objects unwrapped, date-times as Unix seconds.

        Properties added by the package (Answer, Message, History) are left out unless
        ``include_added`` is true, so the default is what the API sent.
        """
        return {
            key: to_plain(value, include_added=include_added)
            for key, value in self._data.items()
            if include_added or key.lower() not in self._added
        }

    def to_json(self, *, include_added: bool = False, indent: int | None = None) -> str:
        """UTF-8 JSON text of :meth:`to_dict`: compact, or indented by ``indent`` spaces."""
        return json.dumps(
            self.to_dict(include_added=include_added),
            ensure_ascii=False,
            indent=indent,
            separators=(",", ": ") if indent is not None else (",", ":"),
        )

    def model_dump(self) -> dict[str, Any]:
        """The SDK model's name for :meth:`to_dict` (what the API sent)."""
        return self.to_dict()

    def model_dump_json(self, *, indent: int | None = None) -> str:
        """The SDK model's name for :meth:`to_json` (compact by default, as pydantic's)."""
        return self.to_json(indent=indent)


def _wrap(value: Any) -> Any:
    # Exact-type checks first: JSON gives plain dicts, lists and scalars, and an ABC isinstance
    # check costs several times more than a type comparison.
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        return PSObject(value)
    if kind is list:
        return [_wrap(item) for item in value]
    if isinstance(value, PSObject):
        return value
    if isinstance(value, Mapping):
        return PSObject(value)
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


def to_plain(value: Any, *, include_added: bool = False) -> Any:
    """Turn PSObjects (at any depth) back into dicts and date-times into Unix seconds."""
    if isinstance(value, PSObject):
        return value.to_dict(include_added=include_added)
    if isinstance(value, Mapping):
        return {k: to_plain(v, include_added=include_added) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(item, include_added=include_added) for item in value]
    if isinstance(value, _dt.datetime):
        return int(value.timestamp())
    return value
