"""How a failed run is reported, as the original reports it, and with no key in any of it.

An API error prints as the original prints it: ``GET "<url>": 404 Not Found`` on stderr, and the
body's ``error`` object on stdout in ``--format-error`` (after ``--transform-error``); any other
failure is one line on stderr.  A message written before the settings are resolved (a usage
error, a bad input) has every key of the command line and the environment taken out of it.
"""

from __future__ import annotations

import http
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from . import arguments
from .flag_values import go_quoted
from .grammar import Parsed, UsageError
from .output import Printer, visible

__all__ = ["shown_usage", "unkeyed", "one_line", "report"]

# Go's http.StatusText for the statuses an API answers with (the original's error line).
_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_SECRET_FLAG = re.compile(r"--?(api-key|admin-api-key|webhook-secret)(?:=(.*))?", re.DOTALL)
_SECRET_ENVIRONMENT = ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "OPENAI_WEBHOOK_SECRET")


def shown_usage(exc: UsageError, argv: Sequence[str]) -> str:
    """A usage error as written: controls escaped, and no key of the command line or the
    environment in it, whole or in part (a message quotes the value it refuses, and a key may
    have been typed into the wrong flag)."""
    return unkeyed(exc.lines(), argv)


def unkeyed(text: str, argv: Sequence[str]) -> str:
    """``text`` with controls escaped and every key of the command line or the environment (and
    anything shaped like a key) taken out, for a message written before the settings are
    resolved."""
    from ..scrub import scrub

    secrets: list[str] = [value for name in _SECRET_ENVIRONMENT if (value := os.environ.get(name))]
    words = list(argv)
    for position, word in enumerate(words):
        match = _SECRET_FLAG.fullmatch(word)
        if match and match.group(2):
            secrets.append(match.group(2))
        elif match and position + 1 < len(words):
            secrets.append(words[position + 1])
        secrets += arguments.KEY_SHAPED.findall(word)
    return arguments.KEY_SHAPED.sub("sk-********", scrub(visible(text), secrets))


def one_line(text: str) -> str:
    """``text`` on one line, every run of whitespace one space."""
    return " ".join(text.split())


def report(exc: Exception, parsed: Parsed, out: Any, err: Any, redact: Callable[[str], str]) -> None:
    """A failure, as the original reports it: for an API error the request and status on
    stderr and the body's ``error`` object on stdout (``--format-error``, ``--transform-error``);
    for any other failure one line on stderr."""
    from ..errors import APIConnectionException, APIRequestException, InvalidResponseException
    from .jsontext import parse_or_none

    if not (
        isinstance(exc, APIRequestException)
        and not isinstance(exc, (APIConnectionException, InvalidResponseException))
        and exc.response is not None
        and exc.status_code
    ):
        err.write(visible(redact(one_line(str(exc)))) + "\n")
        err.flush()
        return
    request = getattr(exc.response, "request", None)
    method = str(getattr(request, "method", "") or "").upper()
    url = redact(str(getattr(request, "url", "") or ""))
    status = int(exc.status_code)
    reason = _STATUS_TEXT.get(status) or _phrase(status)
    err.write(visible(f"{method} {go_quoted(url)}: {status} {reason}") + "\n")
    err.flush()
    body = getattr(exc.response, "content", b"") or b""
    node = parse_or_none(body.decode("utf-8", "replace")) if isinstance(body, bytes) else None
    error = None
    if node is not None and node.kind == "object":
        error = next((value for key, value in node.members if key == '"error"'), None)
    if error is None:
        return  # no error object: nothing for stdout, as the original prints nothing then
    printer = Printer(
        out,
        parsed.get("format-error") or "auto",
        explicit=parsed.is_set("format-error"),
        transform=parsed.get("transform-error") or "",
        title="Error",
        err=err,
    )
    printer.document(error.text)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""
