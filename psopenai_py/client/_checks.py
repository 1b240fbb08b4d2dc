"""The SDK-shaped client's checks of what it is given: :mod:`psopenai_py.checks`' rules, worded
with the SDK's keywords, and the SDK's own (an empty id is a ``ValueError``, a wrong type a
``TypeError``).  Everything is checked before anything is sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .. import checks
from ..errors import ParameterBindingError, ParameterTypeError
from ._options import is_given, timeout_parts

__all__ = [
    "typed",
    "check_str",
    "check_mapping",
    "check_headers",
    "check_id",
    "check_metadata",
    "check_timeout",
    "check_max_retries",
    "check_messages",
    "check_model",
    "query_pairs",
]


def typed(value: Any, name: str, kinds: type | tuple[type, ...], what: str) -> Any:
    """``value`` (None passes) when it is one of ``kinds`` and no bool; a type error otherwise."""
    if value is None or (isinstance(value, kinds) and not isinstance(value, bool)):
        return value
    raise ParameterTypeError(name, f"`{name}` must be {what}, not {type(value).__name__}.")


def check_str(value: Any, name: str) -> str | None:
    """A str or None."""
    checked: str | None = typed(value, name, str, "a str")
    return checked


def check_mapping(value: Any, name: str) -> dict[str, Any]:
    """A mapping with str keys (headers, query and body members are named by text); None and
    the "not given" sentinels are an empty one."""
    if not is_given(value) or value is None:
        return {}
    mapping: Mapping[Any, Any] = typed(value, name, Mapping, "a mapping")
    for key in mapping:
        if not isinstance(key, str):
            raise ParameterTypeError(
                name, f"The keys of `{name}` must be str; {key!r} is a {type(key).__name__}."
            )
    return dict(mapping)


def check_headers(value: Any, name: str) -> dict[str, str | None]:
    """Headers as the SDK takes them (``default_headers``, ``extra_headers``): each name and value
    checked (:func:`psopenai_py.checks.header_name`, :func:`~psopenai_py.checks.header_value`);
    a header given ``omit`` is kept as None: it removes that header."""
    checked: dict[str, str | None] = {}
    for header, item in check_mapping(value, name).items():
        checks.checked(name, checks.header_name, header, f"The header name {header!r} in `{name}`")
        if not is_given(item):
            checked[header] = None
            continue
        checked[header] = checks.checked(
            name, checks.header_value, str(item), f"The value of header {header!r} in `{name}`"
        )
    return checked


def check_id(value: Any, name: str = "completion_id") -> str:
    """The SDK's check of a path id (a str, not empty), then the id's rules (not blank, at most
    1024 characters, no control character)."""
    if not isinstance(value, str):
        raise ParameterBindingError(
            name, f"Expected a string for `{name}` but received {type(value).__name__}"
        )
    if not value.strip():
        raise ParameterBindingError(name, f"Expected a non-empty value for `{name}` but received {value!r}")
    return checks.checked(name, checks.completion_id, value, f"`{name}`")


def check_metadata(value: Any) -> dict[str, str] | None:
    """The API's metadata limits (16 pairs, keys of 64 and values of 512 characters, values
    text); None passes (an update with null clears the metadata)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ParameterTypeError("metadata", f"`metadata` must be a mapping, not {type(value).__name__}.")
    try:
        return checks.metadata(value)
    except checks.Invalid as exc:
        raise ParameterBindingError(
            "metadata", f"Invalid `metadata`. {exc.problem} Nothing was sent."
        ) from None


def check_timeout(value: Any) -> tuple[float | None, float | None]:
    """A timeout as the SDK takes one (seconds, None for no limit, or a ``Timeout``): ``(attempt,
    connect)`` seconds, each more than 0 and at most 2147483647, or None."""
    try:
        parts = timeout_parts(value)
    except TypeError as exc:
        raise ParameterTypeError("timeout", str(exc)) from None
    for part in parts:
        if part is not None:
            checks.checked("timeout", checks.timeout_seconds, part, "`timeout`")
    return parts


def check_max_retries(value: Any) -> int:
    """The SDK's: an int from 0 (None and other types a ``TypeError``, a negative one a
    ``ValueError``), at most 100 (this package's bound of retries)."""
    if value is None:
        raise ParameterTypeError(
            "max_retries",
            "max_retries cannot be None. Use 0 to disable retries or a large integer for a larger "
            "retry budget.",
        )
    if not isinstance(value, int) or isinstance(value, bool):
        raise ParameterTypeError("max_retries", "max_retries must be a non-negative integer")
    if value < 0:
        raise ParameterBindingError("max_retries", "max_retries must be a non-negative integer")
    return checks.checked("max_retries", checks.retries, value, "`max_retries`")


def check_messages(value: Any) -> list[Any]:
    """``create``'s messages: a list of message objects (mappings, sent as given)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ParameterTypeError("messages", "`messages` must be a list of message objects.")
    messages = [dict(m) if isinstance(m, Mapping) else m for m in value]
    if not all(isinstance(m, dict) for m in messages):
        raise ParameterTypeError("messages", "`messages` must be a list of message objects.")
    return messages


def check_model(value: Any) -> str:
    """``create``'s model: a non-empty str."""
    if not isinstance(value, str) or not value:
        raise ParameterBindingError("model", "`model` must be a non-empty str.")
    return value


def query_pairs(name: str, value: Any) -> list[tuple[str, str]]:
    """One query parameter as the SDK writes it: ``true``/``false``, numbers as text, a mapping as
    ``name[key]`` pairs, a list as repeated ``name[]``; None (and "not given") leaves it out."""
    if value is None or not is_given(value):
        return []
    if isinstance(value, bool):
        return [(name, "true" if value else "false")]
    if isinstance(value, Mapping):
        return [pair for key, item in value.items() for pair in query_pairs(f"{name}[{key}]", item)]
    if isinstance(value, (list, tuple)):
        return [pair for item in value for pair in query_pairs(f"{name}[]", item)]
    return [(name, str(value))]
