"""Faults: what the emulator does instead of (or before) answering an API request, queued by a
test or a rehearsal (:meth:`Emulator.inject`, ``POST /__emulator/faults``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .protocol import error_body

__all__ = ["Fault", "rate_limit_fault", "quota_fault", "MAX_DELAY_MS", "MAX_TIMES"]

MAX_DELAY_MS = 600_000
"""The longest delay a fault may hold an answer (as the latency's bound)."""
MAX_TIMES = 1_000_000
"""The most requests one fault may apply to."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _one_line(text: str) -> bool:
    """No line break or NUL: a header value that would end the emulator's own answer early."""
    return not any(ch in text for ch in "\r\n\x00")


@dataclass
class Fault:
    """What the emulator does instead of (or before) answering the next matching request.

    ``status`` with ``headers`` and ``body`` (a JSON value, or ``raw_body`` text sent as is);
    ``delay_ms`` waits first (then answers normally when no status is set); ``drop`` closes the
    connection without answering.  ``times`` is how many requests the fault applies to, and
    ``method``/``path_contains`` restrict which requests match.

    A streamed answer (``stream: true``) answered normally can be spoilt part-way:
    ``chunk_delay_ms`` waits before each chunk after the first, ``drop_after_chunks`` closes the
    connection after that many chunks (the body never ends), ``error_after_chunks`` sends an
    error event after that many chunks and ends the body without ``[DONE]``.  Other answers
    ignore them.
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw_body: str | None = None
    delay_ms: int = 0
    drop: bool = False
    times: int = 1
    method: str | None = None
    path_contains: str | None = None
    chunk_delay_ms: int = 0
    drop_after_chunks: int | None = None
    error_after_chunks: int | None = None

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem is not None:
            raise ValueError(problem)

    def problem(self) -> str | None:
        """What makes this fault one the emulator cannot act on (None: nothing).  Checked when it
        is made: a fault with ``"times": "x"`` would otherwise fail every later request."""
        for name, low, high in (("delay_ms", 0, MAX_DELAY_MS), ("times", 1, MAX_TIMES)):
            value = getattr(self, name)
            if not _is_int(value) or not low <= value <= high:
                return f"'{name}' must be an integer from {low} to {high}"
        if self.status is not None and (not _is_int(self.status) or not 100 <= self.status <= 599):
            return "'status' must be an HTTP status from 100 to 599, or null"
        drop: Any = self.drop  # typed bool, but made from any JSON value
        if not isinstance(drop, bool):
            return "'drop' must be true or false"
        if not isinstance(self.headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and _one_line(k) and k and _one_line(v)
            for k, v in self.headers.items()
        ):
            return "'headers' must be an object of one-line strings"
        for name, longest in (("raw_body", None), ("method", 16), ("path_contains", 2048)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or (longest and len(value) > longest)):
                limit = f" of at most {longest} characters" if longest else ""
                return f"'{name}' must be a string{limit}, or null"
        try:
            json.dumps(self.body, allow_nan=False)
        except (TypeError, ValueError):
            return "'body' must be a JSON value"
        return None

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request with that method and path."""
        return (self.method is None or self.method.upper() == method) and (
            self.path_contains is None or self.path_contains in path
        )

    def payload(self) -> tuple[bytes, str]:
        """The answer's body and Content-Type: ``raw_body`` as HTML text, else ``body`` as JSON."""
        if self.raw_body is not None:
            return self.raw_body.encode("utf-8"), "text/html"
        return json.dumps(self.body).encode("utf-8"), "application/json"


def rate_limit_fault(**headers: str) -> Fault:
    """A 429 rate-limit error (retried by clients); headers such as ``retry_after_ms='1500'``."""
    return Fault(
        status=429,
        headers={k.replace("_", "-"): v for k, v in headers.items()},
        body=error_body(
            "Rate limit reached for requests. Please try again later.", "requests", code="rate_limit_exceeded"
        ),
    )


def quota_fault() -> Fault:
    """A 429 quota error (never retried by clients)."""
    return Fault(
        status=429,
        body=error_body(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            code="insufficient_quota",
        ),
    )
