"""What every part of the emulator says alike: errors in the API's shape, JSON request bodies,
and untrusted text made safe for one log line (credentials masked)."""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "CONTROL_PREFIX",
    "ApiError",
    "bad_request",
    "error_body",
    "json_value",
    "json_object",
    "bounded_int",
    "mask_key",
    "masked_header",
    "loggable",
    "hide_keys",
    "peer",
    "MAX_LATENCY_MS",
]

CONTROL_PREFIX = "/__emulator/"
"""The path of the control API (faults, records, stats, seed, latency, reset)."""

MAX_LATENCY_MS = 600_000
"""The most latency (milliseconds) added to every answer, from the command line or the control API."""

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key"})
# At a word's start, or right after a percent-escape: in a request line a key may follow one
# (``x%2Fsk-...``, ``a%20sk-...``), where there is no word boundary; inside a word (``task-...``) not.
_KEYLIKE = re.compile(r"(?i)(bearer\s+)?(?:\b|(?<=%[0-9A-Fa-f][0-9A-Fa-f]))(sk-[A-Za-z0-9_\-]{8,})")


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """An error as the API words it: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class ApiError(Exception):
    """A request the emulator answers with an error status and an error body in the API's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = error_body(message, type_, param, code)


def bad_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """A 400 ``invalid_request_error``, as the API answers a request it cannot take."""
    return ApiError(400, message, param=param, code=code)


def json_value(body: bytes, default: str | None = None) -> Any:
    """The parsed body (``default`` when empty); invalid JSON, invalid UTF-8 or nesting too deep
    for the parser is a 400, as the API answers it."""
    try:
        return json.loads(body if body or default is None else default)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise bad_request(
            "We could not parse the JSON body of your request. (HINT: This "
            "likely means you aren't using your HTTP library correctly.)"
        ) from None


def json_object(body: bytes, default: str | None = None) -> dict[str, Any]:
    """The body as a JSON object (``default`` when empty: the control API's ``"{}"``)."""
    value = json_value(body, default)
    if not isinstance(value, dict):
        raise bad_request("The body of your request must be a JSON object.")
    return value


def bounded_int(options: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    """``options[name]`` (``default`` when absent) as an integer from ``low`` to ``high``."""
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad_request(
            f"Invalid '{name}': expected an integer from {low} to {high}, but "
            f"got {loggable(json.dumps(value), 40)} instead.",
            param=name,
            code="integer_out_of_range" if isinstance(value, int) else "invalid_type",
        )
    return value


def mask_key(key: str) -> str:
    """A key for display: its first 3 and last 4 characters around ``****``; short keys hide all.

    The emulator keeps its own copy of this rule: it imports nothing from the client package.
    """
    return key[:3] + "****" + key[-4:] if len(key) >= 16 else "****"


def masked_header(name: str, value: str) -> str:
    """The value of a header as the control API shows it: credentials masked, scheme kept."""
    if name.lower() not in _SECRET_HEADERS:
        return value
    scheme, _, token = value.partition(" ")
    if token and scheme.lower() in ("bearer", "basic"):
        return f"{scheme} {mask_key(token.strip())}"
    return mask_key(value.strip())


def loggable(text: str, limit: int = 160) -> str:
    """Untrusted text for one log line: key-like tokens masked, escaped, cut to ``limit``."""
    text = _KEYLIKE.sub(lambda m: (m.group(1) or "") + mask_key(m.group(2)), text)
    shown = text[:limit].encode("unicode_escape").decode("ascii")
    return shown + ("..." if len(text) > limit else "")


def hide_keys(text: str) -> str:
    """``text`` with every key-like word shown as ``sk-****``: for a message that quotes back an
    option's value (argparse's errors), where a key pasted in the wrong place must show nothing
    of itself, not even the last characters a log line keeps."""
    return _KEYLIKE.sub(lambda m: (m.group(1) or "") + "sk-****", text)


def peer(address: Any) -> str:
    """A client's address as ``host:port`` for a log line."""
    try:
        return f"{address[0]}:{address[1]}"
    except (TypeError, IndexError):
        return str(address)
