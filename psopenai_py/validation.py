"""PowerShell's wording of the checks made before anything is sent.

The rules themselves live in :mod:`psopenai_py.checks` (one rule per fact, shared by every
front-end); this module puts them in PowerShell's binding errors, which always name the parameter
(by its PowerShell name and its Python keyword), the problem and the limit.  Ranges and sets come
from the parameter tables in :mod:`psopenai_py.parameters`, so the limits are stated in one place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from . import checks
from .checks import (
    COMPLETION_ID_MAX_LENGTH,
    METADATA_MAX_KEY_LENGTH,
    METADATA_MAX_PAIRS,
    METADATA_MAX_VALUE_LENGTH,
    is_absolute_http_url,
)
from .errors import ParameterBindingError, ParameterTypeError
from .masking import mask_key, mask_organization
from .parameters import Parameter
from .secret import Secret

__all__ = [
    "METADATA_MAX_PAIRS",
    "METADATA_MAX_KEY_LENGTH",
    "METADATA_MAX_VALUE_LENGTH",
    "COMPLETION_ID_MAX_LENGTH",
    "check_int",
    "check_float",
    "check_switch",
    "check_choice",
    "check_api_base",
    "check_api_key",
    "check_organization",
    "check_header_value",
    "check_headers",
    "clean_api_key",
    "is_absolute_http_url",
    "check_optional_str",
    "check_mapping",
    "check_additional_body",
    "check_metadata",
    "bind_completion_id",
]

_T = TypeVar("_T")


def _label(param: Parameter) -> str:
    if param.python_name == param.name:
        return f"'{param.name}'"
    return f"'{param.name}' ({param.python_name})"


def _invalid(param: Parameter, problem: str) -> ParameterBindingError:
    return ParameterBindingError(
        param.name, f"Cannot validate argument on parameter {_label(param)}. {problem}"
    )


def _worded(param: Parameter, check: Callable[..., _T], *args: Any, after: str = "") -> _T:
    """``check(*args)``, its :class:`~psopenai_py.checks.Invalid` as this parameter's binding
    error (``after`` added to the problem)."""
    try:
        return check(*args)
    except checks.Invalid as exc:
        raise _invalid(param, exc.problem + after) from None


_NOTHING_SENT = " Nothing was sent."


def _wrong_type(param: Parameter, value: Any, target: str) -> ParameterTypeError:
    return ParameterTypeError(
        param.name,
        f"Cannot process argument transformation on parameter {_label(param)}. "
        f'Cannot convert the value of type "{type(value).__name__}" to type "{target}".',
    )


def _out_of_range(param: Parameter, value: float, *, advice: bool) -> None:
    """PowerShell's ValidateRange error when ``value`` is outside the parameter's range, with the
    "Supply an argument ..." advice PowerShell gives for integers when ``advice``."""
    number = checks.number_text
    low, high = param.minimum, param.maximum
    if low is not None and value < low:
        word, limit, within = "less than the minimum", low, "greater than or equal to"
    elif high is not None and value > high:
        word, limit, within = "greater than the maximum", high, "less than or equal to"
    else:
        return
    problem = f"The {number(value)} argument is {word} allowed range of {number(limit)}."
    if advice:
        problem += f" Supply an argument that is {within} {number(limit)} and then try the command again."
    raise _invalid(param, problem)


def check_int(param: Parameter, value: Any) -> int | None:
    """An int within the parameter's range, or None for "not given"."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(param, value, "System.Int32")
    _out_of_range(param, value, advice=True)
    return value


def check_switch(param: Parameter, value: Any) -> bool:
    """A switch: True or False (None means not given, False)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _wrong_type(param, value, "System.Management.Automation.SwitchParameter")
    return value


def check_float(param: Parameter, value: Any) -> float | None:
    """A number within the parameter's range, or None for "not given"."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong_type(param, value, "System.Double")
    if isinstance(value, float) and math.isnan(value):
        raise _invalid(param, "The argument is NaN, which is not a number. Supply a number.")
    _out_of_range(param, value, advice=False)
    try:
        return float(value)
    except OverflowError:
        raise _invalid(
            param, f"The {checks.number_text(value)} argument is too large for a number."
        ) from None


def check_choice(param: Parameter, value: Any) -> str | None:
    """One of the parameter's choices, matched case-insensitively and returned in canonical case."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong_type(param, value, "System.String")
    for choice in param.choices:
        if choice.lower() == value.lower():
            return choice
    raise _invalid(
        param,
        f'The argument "{value}" does not belong to the set "{",".join(param.choices)}" '
        "specified by the ValidateSet attribute. Supply an argument that is in the set and then "
        "try the command again.",
    )


def check_api_base(param: Parameter, value: Any) -> str | None:
    """An absolute http(s) URL with a host, a valid port and no user-info, surrounding
    whitespace trimmed (see :func:`psopenai_py.checks.base_url`)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong_type(param, value, "System.Uri")
    return _worded(param, checks.base_url, value, f'The argument "{checks.shown_url(value.strip())}"')


def check_header_value(
    param: Parameter, value: str, *, what: str = "The value", masked: str | None = None
) -> str:
    """``value`` trimmed and checked as an HTTP header value (see
    :func:`psopenai_py.checks.header_value`); the error shows the value masked."""
    shown = masked if masked is not None else mask_key(checks.trim(value))
    return _worded(
        param, checks.header_value, value, f"{what} {checks.printable(shown)}", after=_NOTHING_SENT
    )


def clean_api_key(param: Parameter, key: Secret, *, source: str = "The API key") -> Secret | None:
    """A key trimmed and checked (see :func:`psopenai_py.checks.api_key`; None when nothing is
    left); the error shows the key masked."""
    plain = key.reveal()
    subject = f"{source} {checks.printable(mask_key(checks.trim(plain)))}"
    trimmed = _worded(param, checks.api_key, plain, subject, after=_NOTHING_SENT)
    if not trimmed:
        return None
    return key if trimmed == plain else Secret(trimmed)


def check_organization(param: Parameter, value: Any) -> str | None:
    """An organization id, trimmed and checked as a header value; blank counts as not given."""
    text = check_optional_str(param, value)
    if text is None:
        return None
    trimmed = check_header_value(param, text, masked=mask_organization(checks.trim(text)))
    return trimmed or None


def check_headers(param: Parameter, value: Any) -> Mapping[str, Any] | None:
    """AdditionalHeaders: names are HTTP tokens and not message framing, values (as text)
    trimmed and checked (see :mod:`psopenai_py.checks`)."""
    mapping = check_mapping(param, value)
    if mapping is None:
        return None
    result: dict[str, str] = {}
    for name, item in mapping.items():
        _worded(param, checks.header_name, name, after=_NOTHING_SENT)
        result[name] = check_header_value(param, str(item), what=f"The value of header {name!r}")
    return result


def check_api_key(param: Parameter, value: Any) -> Secret | None:
    """A str or a Secret, wrapped, trimmed and checked; an empty key counts as not given."""
    if value is None:
        return None
    if isinstance(value, Secret):
        return clean_api_key(param, value) if value else None
    if isinstance(value, str):
        return clean_api_key(param, Secret(value)) if value else None
    raise ParameterTypeError(
        param.name,
        f"Cannot process argument transformation on parameter {_label(param)}. "
        f'Cannot convert the value of type "{_dotnet_name(value)}" to type '
        '"System.Security.SecureString".',
    )


def _dotnet_name(value: Any) -> str:
    """The .NET type PowerShell gives a value of this kind (as the original's message names it);
    the Python type name for anything else."""
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        return "System.Int32" if -(2**31) <= value < 2**31 else "System.Int64"
    if isinstance(value, float):
        return "System.Double"
    if isinstance(value, Mapping):
        return "System.Collections.Hashtable"
    return type(value).__name__


def check_optional_str(param: Parameter, value: Any) -> str | None:
    """A str, or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong_type(param, value, "System.String")
    return value


def check_mapping(param: Parameter, value: Any) -> Mapping[str, Any] | None:
    """A mapping with string keys, or None."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _wrong_type(param, value, "System.Collections.IDictionary")
    for key in value:
        if not isinstance(key, str):
            raise _invalid(param, f"The key {key!r} is not a string.")
    return value


def check_additional_body(param: Parameter, value: Any) -> Mapping[str, Any] | None:
    """A mapping, or a JSON object as text (parsed here, so bad JSON sends nothing)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _invalid(param, "Failed to parse AdditionalBody as JSON.") from None
        if not isinstance(value, dict):
            raise _invalid(param, "Failed to parse AdditionalBody as JSON: it is not an object.")
    return check_mapping(param, value)


def check_metadata(param: Parameter, value: Any, *, optional: bool = False) -> dict[str, str]:
    """The API's metadata limits (see :func:`psopenai_py.checks.metadata`).

    ``optional``: None is allowed and gives an empty dict (filters, Request-ChatCompletion).
    """
    if value is None and optional:
        return {}
    if value is None:
        raise _invalid(param, "The argument is null. Supply a dictionary (an empty one clears the metadata).")
    if not isinstance(value, Mapping):
        raise _wrong_type(param, value, "System.Collections.IDictionary")
    return _worded(param, checks.metadata, value)


def bind_completion_id(param: Parameter, value: Any) -> str:
    """A completion id from a string, a mapping or an object with one of the id properties."""
    ident = value
    if not isinstance(value, str) and value is not None:
        ident = _property_by_name(value, param.names)
        if ident is None:
            raise ParameterTypeError(
                param.name,
                f"Cannot bind parameter {_label(param)}: the {type(value).__name__} value has no "
                f"property named {', '.join(param.names)}.",
            )
    if ident is None:
        raise _invalid(param, "The argument is null. Supply a non-null argument and try the command again.")
    if not isinstance(ident, str):
        raise _wrong_type(param, ident, "System.String")
    return _worded(param, checks.completion_id, ident, "The argument")


def _property_by_name(value: Any, names: tuple[str, ...]) -> Any:
    """Case-insensitive property lookup on a mapping or an object, first matching name wins."""
    if isinstance(value, Mapping):
        lowered = {k.lower(): k for k in value if isinstance(k, str)}
        for name in names:
            if name.lower() in lowered:
                return value[lowered[name.lower()]]
        return None
    attributes = {a.lower(): a for a in dir(value) if not a.startswith("_")}
    for name in names:
        if name.lower() in attributes:
            return getattr(value, attributes[name.lower()])
    return None
