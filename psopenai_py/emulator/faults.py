"""Faults: what the emulator does instead of (or before) answering an API request, queued by a
test or a rehearsal (:meth:`Emulator.inject`, ``POST /__emulator/faults``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .protocol import error_body

__all__ = ["Fault", "rate_limit_fault", "quota_fault"]


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
