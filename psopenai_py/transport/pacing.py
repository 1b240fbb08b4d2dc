"""When an attempt may start: the transport's one place that paces requests.

The retry loop (:meth:`psopenai_py.transport.Transport.request`) speaks to a :class:`Pacing`
object at three moments, per (origin, key) of the request (:func:`pacing_key`): before an
attempt (:meth:`Pacing.wait_turn`), when an answer has arrived (:meth:`Pacing.answered`), and
when a 429 is about to be retried after a delay (:meth:`Pacing.rate_limited`).  Every worker
thread of a process shares the transport's one object, so what one learns holds the others.

Today's policy is :class:`SharedPause`: a 429 seen by one thread holds the threads calling the
same server with the same key until its retry delay is over, so N workers do not hammer a
rate-limited server N times over, and nobody else waits for it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol
from urllib.parse import urlsplit

from .. import meter
from ..cancel import pause
from ..settings import Settings

__all__ = ["PacingKey", "Pacing", "SharedPause", "pacing_key"]

log = logging.getLogger("psopenai_py")

PacingKey = tuple[str, str]
"""(origin, digest of the key): requests that share one server's rate limit."""


def pacing_key(settings: Settings, url: str) -> PacingKey:
    """The (origin, key) a request is paced by: one origin however it is written (the default
    port spelt out or not, any case), and a digest of the key rather than the key (the table may
    outlive the key's Secret)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    origin = f"{scheme}://{(parts.hostname or '').lower()}:{port}"
    digest = hashlib.blake2b(settings.api_key.reveal().encode("utf-8"), digest_size=16).hexdigest()
    return origin, digest


class Pacing(Protocol):
    """What the retry loop asks and tells about pacing; one object serves every thread."""

    def wait_turn(self, key: PacingKey, *, retry: bool) -> None:
        """Return when an attempt to ``key`` may start.  ``retry``: an earlier attempt of this
        request was answered and the thread has just waited its retry delay.  A wait goes
        through :func:`psopenai_py.cancel.pause` (``sent=retry``), so a stopped run ends it at
        once and says whether the request had reached the server."""

    def answered(self, key: PacingKey, status: int, headers: Mapping[str, str]) -> None:
        """An attempt to ``key`` was answered (any status, its headers as received, scrubbed).
        A pacer passes the status on to :func:`psopenai_py.meter.answered` (run summaries count
        the 429s through it)."""

    def rate_limited(self, key: PacingKey, seconds: float) -> None:
        """A 429 from ``key`` is retried after ``seconds`` (the server's or the backoff's)."""


class SharedPause:
    """The shared pause after a 429, per (origin, key): the others wait out the retry delay too."""

    def __init__(
        self, sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._paused_until: dict[PacingKey, float] = {}  # on the monotonic clock

    def wait_turn(self, key: PacingKey, *, retry: bool) -> None:
        if retry:
            return  # the thread has just waited its own delay; only first attempts are held
        remaining = self._paused_until.get(key, 0.0) - self._monotonic()
        if remaining > 0:
            log.debug(
                "Waiting %d ms: another request of this process to this server with this key was "
                "rate limited.",
                round(remaining * 1000),
            )
            # Before this request's first attempt: a stop here means it was never sent.
            pause(remaining, sent=False, sleep=self._sleep)

    def answered(self, key: PacingKey, status: int, headers: Mapping[str, str]) -> None:
        """The shared pause learns from retried 429s alone (:meth:`rate_limited`); the answer is
        counted on the run's meter (a run's summary says how many 429s it met)."""
        meter.answered(status)

    def rate_limited(self, key: PacingKey, seconds: float) -> None:
        until = self._monotonic() + seconds
        with self._lock:
            now = self._monotonic()
            # Forget pauses that are over, so the table stays as small as the live origins.
            for stale in [k for k, v in self._paused_until.items() if v <= now]:
                del self._paused_until[stale]
            self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)
