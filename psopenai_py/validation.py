"""Checks of argument values, made before anything is sent.

Messages follow PowerShell's binding errors and always name the parameter (by its PowerShell name
and its Python keyword), the problem and the limit.  Ranges and sets come from the parameter
tables in :mod:`psopenai_py.parameters`, so the limits are stated in one place.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import ParameterBindingError, ParameterTypeError
from .masking import mask_key, mask_organization
from .parameters import Parameter
from .scrub import scrub
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
    "HEADER_NAME_PATTERN",
    "check_optional_str",
    "check_mapping",
    "check_additional_body",
    "check_metadata",
    "bind_completion_id",
]

# The API reference's limits on metadata (not in the OpenAPI schema, enforced by the service).
METADATA_MAX_PAIRS = 16
METADATA_MAX_KEY_LENGTH = 64
METADATA_MAX_VALUE_LENGTH = 512
COMPLETION_ID_MAX_LENGTH = 1024
"""The longest id sent: far above any real id, far below what a URL can carry."""


def _label(param: Parameter) -> str:
    if param.python_name == param.name:
        return f"'{param.name}'"
    return f"'{param.name}' ({param.python_name})"


def _invalid(param: Parameter, problem: str) -> ParameterBindingError:
    return ParameterBindingError(
        param.name, f"Cannot validate argument on parameter {_label(param)}. {problem}"
    )


def _wrong_type(param: Parameter, value: Any, target: str) -> ParameterTypeError:
    return ParameterTypeError(
        param.name,
        f"Cannot process argument transformation on parameter {_label(param)}. "
        f'Cannot convert the value of type "{type(value).__name__}" to type "{target}".',
    )


def _number(value: float) -> str:
    """A limit or an argument as text: integers in full (2147483647, not 2.14748e+09), and a
    huge integer by its size (str() of one past 4300 digits raises)."""
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 128 else f"(an integer of {value.bit_length()} bits)"
    if value.is_integer() and abs(value) < 1e18:
        return str(int(value))
    return f"{value:g}"


def check_int(param: Parameter, value: Any) -> int | None:
    """An int within the parameter's range, or None for "not given"."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(param, value, "System.Int32")
    if param.minimum is not None and value < param.minimum:
        raise _invalid(
            param,
            f"The {_number(value)} argument is less than the minimum allowed range of "
            f"{_number(param.minimum)}. Supply an argument that is greater than or equal to "
            f"{_number(param.minimum)} and then try the command again.",
        )
    if param.maximum is not None and value > param.maximum:
        raise _invalid(
            param,
            f"The {_number(value)} argument is greater than the maximum allowed range of "
            f"{_number(param.maximum)}. Supply an argument that is less than or equal to "
            f"{_number(param.maximum)} and then try the command again.",
        )
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
    if param.minimum is not None and value < param.minimum:
        raise _invalid(
            param,
            f"The {_number(value)} argument is less than the minimum allowed range of "
            f"{_number(param.minimum)}.",
        )
    if param.maximum is not None and value > param.maximum:
        raise _invalid(
            param,
            f"The {_number(value)} argument is greater than the maximum allowed range of "
            f"{_number(param.maximum)}.",
        )
    try:
        return float(value)
    except OverflowError:
        raise _invalid(param, f"The {_number(value)} argument is too large for a number.") from None


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
    whitespace trimmed (a trailing space would otherwise end up in every request's path)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong_type(param, value, "System.Uri")
    base: str = value.strip()
    if not is_absolute_http_url(base):
        raise _invalid(
            param,
            f'The argument "{_printable(scrub(base))}" is not an absolute http or https URL '
            "(for example https://api.openai.com/v1).",
        )
    problem = api_base_problem(base)
    if problem:
        raise _invalid(param, problem)
    return base


def api_base_problem(value: str) -> str | None:
    """Why an absolute URL cannot be an API base (user-info, a bad port or host, a control or
    space character in it), or None."""
    parts = urlsplit(value)

    def shown() -> str:  # the value as a message may show it: built only for a message
        return _printable(scrub(value))

    if "@" in parts.netloc:
        # requests would drop the credentials silently, and they would show in the Path lines.
        return (
            f'The argument "{shown()}" carries user-info (user:password@); '
            "credentials in the URL are not supported: give the key with -ApiKey and the "
            "proxy's credentials in HTTPS_PROXY."
        )
    bad = next((i for i, ch in enumerate(value) if ch.isspace() or not ch.isprintable()), None)
    if bad is not None:
        # urlsplit drops some of them silently and keeps others in the path: refused instead.
        return (
            f'The argument "{shown()}" contains a space or control character at position {bad}; '
            "encode it (%20) or remove it."
        )
    try:
        port = parts.port  # raises for a port that is not a number, or out of range
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        # Port 0 would silently become 80; a bad one would fail deep inside the HTTP client.
        return f'The argument "{shown()}" has an invalid port; a port is a number from 1 to 65535.'
    host = parts.hostname or ""
    if not host.startswith("[") and ":" not in host:
        try:
            host.encode("idna")  # an empty or over-long label, or a character no host may hold
        except UnicodeError:
            return f'The argument "{shown()}" has an invalid host name "{_printable(host)}".'
        if any(ch in host for ch in '\\<>"{}|^`%'):
            return f'The argument "{shown()}" has an invalid host name "{_printable(host)}".'
    return None


def is_absolute_http_url(value: str) -> bool:
    """True for ``http://host...`` and ``https://host...``."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


HEADER_NAME_PATTERN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An HTTP header name (RFC 9110 token)."""


def _printable(text: str) -> str:
    """Control characters shown as escapes, so a message never carries a raw CR, LF or NUL."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 256 else ch for ch in text)


def _header_problem(value: str) -> str | None:
    for index, ch in enumerate(value):
        if ch in "\r\n\0":
            name = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\0": "a NUL character"}[ch]
            return f"{name} at position {index}"
        if ord(ch) > 0xFF:
            return f"the non-Latin-1 character U+{ord(ch):04X} at position {index}"
    return None


def check_header_value(
    param: Parameter, value: str, *, what: str = "The value", masked: str | None = None
) -> str:
    """``value`` with surrounding whitespace trimmed; a CR, LF or NUL, or a character outside
    Latin-1, left inside it is a binding error showing the value masked (HTTP headers cannot carry
    them, and http.client would otherwise fail with the whole value in its message)."""
    trimmed = value.strip()
    problem = _header_problem(trimmed)
    if problem:
        shown = masked if masked is not None else mask_key(trimmed)
        raise _invalid(
            param,
            f"{what} {_printable(shown)} contains {problem}; an HTTP header value may hold no CR, "
            "LF or NUL and only Latin-1 characters (surrounding whitespace is trimmed). Nothing "
            "was sent.",
        )
    return trimmed


def clean_api_key(param: Parameter, key: Secret, *, source: str = "The API key") -> Secret | None:
    """A key trimmed and checked as a header value (None when nothing is left)."""
    plain = key.reveal()
    trimmed = check_header_value(param, plain, what=source, masked=mask_key(plain.strip()))
    if not trimmed:
        return None
    return key if trimmed == plain else Secret(trimmed)


def check_organization(param: Parameter, value: Any) -> str | None:
    """An organization id, trimmed and checked as a header value; blank counts as not given."""
    text = check_optional_str(param, value)
    if text is None:
        return None
    trimmed = check_header_value(param, text, masked=mask_organization(text.strip()))
    return trimmed or None


def check_headers(param: Parameter, value: Any) -> Mapping[str, Any] | None:
    """AdditionalHeaders: names are HTTP tokens, values (as text) trimmed and checked."""
    mapping = check_mapping(param, value)
    if mapping is None:
        return None
    result: dict[str, str] = {}
    for name, item in mapping.items():
        if not HEADER_NAME_PATTERN.fullmatch(name):
            raise _invalid(
                param,
                f"The header name {_printable(name)!r} is not a valid HTTP header name (letters, "
                "digits and !#$%&'*+-.^_`|~ only). Nothing was sent.",
            )
        result[name] = check_header_value(param, str(item), what=f"The value of header {name!r}")
    return result


def check_api_key(param: Parameter, value: Any) -> Secret | None:
    """A str or a Secret, wrapped, trimmed and checked as a header value; an empty key counts
    as not given."""
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
    """The API's metadata limits: 16 pairs, string keys of 64 and string values of 512 characters.

    ``optional``: None is allowed and gives an empty dict (filters, Request-ChatCompletion).
    """
    if value is None and optional:
        return {}
    if value is None:
        raise _invalid(param, "The argument is null. Supply a dictionary (an empty one clears the metadata).")
    if not isinstance(value, Mapping):
        raise _wrong_type(param, value, "System.Collections.IDictionary")
    if len(value) > METADATA_MAX_PAIRS:
        raise _invalid(param, f"It has {len(value)} pairs; the limit is {METADATA_MAX_PAIRS}.")
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise _invalid(param, f"The key {key!r} is a {type(key).__name__}; keys must be strings.")
        if len(key) > METADATA_MAX_KEY_LENGTH:
            raise _invalid(
                param,
                f"The key {key[:20]!r}... has {len(key)} characters; the limit is {METADATA_MAX_KEY_LENGTH}.",
            )
        if not isinstance(item, str):
            raise _invalid(
                param, f"The value of key {key!r} is a {type(item).__name__}; values must be strings."
            )
        for text, what in ((key, f"The key {_shown(key)}"), (item, f"The value of key {_shown(key)}")):
            bad = _unencodable(text)
            if bad is not None:
                raise _invalid(param, f"{what} holds {bad}, which no request can carry.")
        if len(item) > METADATA_MAX_VALUE_LENGTH:
            raise _invalid(
                param,
                f"The value of key {key!r} has {len(item)} characters; the "
                f"limit is {METADATA_MAX_VALUE_LENGTH}.",
            )
        result[key] = item
    return result


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
    if not ident.strip():
        raise _invalid(
            param, "The argument is an empty or blank string. Supply a completion id such as chatcmpl-abc123."
        )
    if len(ident) > COMPLETION_ID_MAX_LENGTH:
        raise _invalid(
            param,
            f"The id has {len(ident)} characters; the limit is {COMPLETION_ID_MAX_LENGTH} (stored "
            "completion ids are about 40, chatcmpl-...).",
        )
    bad = _unencodable(ident) or next(
        (f"the control character U+{ord(c):04X}" for c in ident if unicodedata.category(c) == "Cc"), None
    )
    if bad is not None:
        raise _invalid(param, f"The id holds {bad}; no stored completion id does.")
    return ident


def _unencodable(text: str) -> str | None:
    """A lone surrogate (from a JSON \\ud800 escape), which UTF-8 cannot carry, named; else None."""
    for char in text:
        if 0xD800 <= ord(char) <= 0xDFFF:
            return f"the lone surrogate U+{ord(char):04X}"
    return None


def _shown(text: str) -> str:
    """A key as a message shows it: quoted, escaped, cut short."""
    return ascii(text[:20]) + ("..." if len(text) > 20 else "")


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
