"""A flag's value from its text, as the official CLI's Go parser reads it, and Go's way of
showing values in the original's messages.

The original's flags are Go's ``flag`` package values: integers by ``strconv.ParseInt`` (0x, 0o,
0b, underscores), numbers by ``strconv.ParseFloat``, booleans by ``strconv.ParseBool``, and maps
and ``any`` values as YAML.  The root flags psopenai adds (``--header``, ``--max-retries``,
``--timeout``) and the URL, format and header values are checked here too, each failure a
``ValueError`` whose text the grammar words as the original's ``invalid value`` message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import checks
from .output import visible
from .yaml_values import YAMLError, parse_yaml

if TYPE_CHECKING:
    from .grammar import Flag

__all__ = ["FORMATS", "convert", "go_value", "go_quoted"]

FORMATS = ("auto", "explore", "json", "jsonl", "pretty", "raw", "yaml")
"""The official output formats, in its order (its messages list them so)."""


def _go_int(text: str) -> int:
    """Go's ``strconv.ParseInt(text, 0, 64)``: decimal, 0x, 0o, 0b, a leading 0 for octal,
    underscores between digits; its error text otherwise."""
    body = text[1:] if text[:1] in "+-" else text
    sign = -1 if text[:1] == "-" else 1
    try:
        if re.fullmatch(r"0[0-7_]+", body):
            value = int(body[1:].replace("_", "") or "0", 8)
        elif (
            re.fullmatch(r"(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)", body)
            and "__" not in body
        ):
            value = int(body, 0)
        else:
            raise ValueError
    except ValueError:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None
    value *= sign
    if not -(2**63) <= value < 2**63:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": value out of range')
    return value


def _go_float(text: str) -> int | float:
    """Go's ``strconv.ParseFloat(text, 64)``, the value as Go's JSON encoder would write it (an
    integral value as an integer: ``--temperature 1`` sends ``1``)."""
    if not re.fullmatch(
        r"[+-]?(?:[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", text, re.IGNORECASE
    ):
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax')
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax') from None
    if not math.isfinite(value):
        # Parsed by the original, which then fails to encode the request body.
        raise ValueError(
            f"json: unsupported value: {'NaN' if math.isnan(value) else ('+Inf' if value > 0 else '-Inf')}"
        )
    if value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


_BOOLEANS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True}
_BOOLEANS.update({"0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False})


def _go_bool(text: str) -> bool:
    if text not in _BOOLEANS:
        raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')
    return _BOOLEANS[text]


def go_value(value: Any) -> str:
    """A parsed value as Go's ``%v`` shows it in the original's messages."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _literal_ok(text: str) -> bool:
    """Text the original takes as a plain string where YAML fails: identifiers, ids, base64."""
    return all(char.isalnum() or char in "_-.=" for char in text)


def _yaml(text: str) -> Any:
    try:
        return parse_yaml(text)
    except YAMLError as exc:
        if _literal_ok(text):
            return text
        raise ValueError(f"failed to parse as YAML: {exc}") from None


def _map(text: str) -> Any:
    if text == "null":
        return None
    if not text.strip(" \t\r\n\ufeff"):
        # The original sends null for an empty value: an unset shell variable ("--metadata
        # $TAGS") would clear the metadata by accident.
        raise ValueError("it is empty (write '{}' for no pairs, or null to clear)")
    value = _yaml(text)
    if value is not None and not isinstance(value, dict):
        raise ValueError(
            f'Couldn\'t convert "{text}" ({go_value(value)}) to expected type map[string]interface {{}}'
        )
    return value


def _any(text: str) -> Any:
    # A file to embed (@prompt.txt) stays as written until the request is built.
    return text if text.startswith("@") else _yaml(text)


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "string": lambda text: text,
    "string?": lambda text: None if text == "null" else text,
    "int": _go_int,
    "int?": lambda text: None if text == "null" else _go_int(text),
    "float": _go_float,
    "float?": lambda text: None if text == "null" else _go_float(text),
    "bool?": lambda text: None if text == "null" else _go_bool(text),
    "switch": _go_bool,
    "map": _map,
    "objects": _map,
    "any": _any,
    "strings": lambda text: text,
}


def _format(text: str) -> str:
    if text.lower() not in FORMATS:
        raise ValueError(f"format must be one of: {', '.join(FORMATS)}")
    return text


def _url(text: str) -> str:
    text = text.strip()  # a trailing newline from $(cat file) is no part of a URL
    if text and not text.startswith(("http://", "https://")):
        raise ValueError(f'--base-url "{text}" is missing a scheme (expected http:// or https://)')
    try:
        return checks.base_url(text, f'--base-url "{visible(checks.shown_url(text.strip()))[:60]}"')
    except checks.Invalid as exc:
        raise ValueError(exc.problem.rstrip(".")) from None


def _header(text: str) -> tuple[str, str]:
    """``Name: Value`` (spaces around either trimmed, as curl's -H), each part checked; the
    value is never quoted in a message (a header may carry a credential)."""
    name, colon, value = text.partition(":")
    name = name.strip()
    if not colon or not name:
        raise ValueError("expected 'Name: Value'")
    try:
        checks.header_name(name, "the header")
        return name, checks.header_value(value, "the value")
    except checks.Invalid as exc:
        raise ValueError(f"({visible(name)}) {exc.problem.rstrip('.')}") from None


def _retries(text: str) -> int:
    value = _go_int(text)
    if not 0 <= value <= checks.MAX_RETRIES:
        raise ValueError(f"retries are 0 to {checks.MAX_RETRIES}")
    return value


def _seconds(text: str) -> float:
    value = float(_go_float(text))
    try:
        return checks.timeout_seconds(value, "the timeout")
    except checks.Invalid as exc:
        raise ValueError(exc.problem.rstrip(".")) from None


_CONVERTERS.update(format=_format, url=_url, header=_header, retries=_retries, seconds=_seconds)


def convert(flag: Flag, text: str) -> Any:
    """The value of ``flag`` from its text; ValueError with the reason otherwise."""
    try:
        checks.utf8_text(text, "It")
    except checks.Invalid as exc:
        raise ValueError(exc.problem.rstrip(".")) from None
    return _CONVERTERS[flag.kind](text)


def go_quoted(text: str) -> str:
    """Go's ``%q`` of a string, as the original quotes values in its messages: in double quotes,
    ``"`` and ``\\`` escaped, and every character that is not printable as an escape."""
    pieces = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            pieces.append("\\" + char)
        elif char.isprintable() and not 0xD800 <= code <= 0xDFFF:
            pieces.append(char)
        elif char in _GO_NAMED:
            pieces.append(_GO_NAMED[char])
        elif code < 0x80:
            pieces.append(f"\\x{code:02x}")
        else:
            pieces.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    pieces.append('"')
    return "".join(pieces)


_GO_NAMED = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
