"""What the requests of a run met, counted as it goes: a front-end's window on the transport.

A front-end that runs many requests (the PowerShell pipeline) makes a :class:`Meter` and runs
its work inside :func:`scope`, as it does with its stop signal (:mod:`psopenai_py.cancel`).  The
transport tells :func:`answered` the status of every answer it receives; the answer is counted on
the meter of the run the request belongs to, found through a context variable, so worker threads
count on their run's meter as long as they run in a copy of the submitting thread's context
(``contextvars.copy_context``).  Outside any run nothing is counted.

Today the meter counts the 429 answers (rate limited, retried or not): a run's summary says how
many it met.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading

from .scoped import scoped

__all__ = ["Meter", "answered", "current", "scope"]

TOO_MANY_REQUESTS = 429


class Meter:
    """The counts of one run; safe to update from every worker thread at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rate_limited = 0

    @property
    def rate_limited(self) -> int:
        """How many answers were 429 (Too Many Requests), whether retried or not."""
        return self._rate_limited

    def answered(self, status: int) -> None:
        """An attempt of this run was answered with ``status``."""
        if status == TOO_MANY_REQUESTS:
            with self._lock:
                self._rate_limited += 1


_current: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("psopenai_meter", default=None)


def current() -> Meter | None:
    """The meter of the run this code belongs to, or None outside any run."""
    return _current.get()


def scope(meter: Meter | None) -> contextlib.AbstractContextManager[None]:
    """Run the body with ``meter`` as the current one (None: nothing is counted)."""
    return scoped(_current, meter)


def answered(status: int) -> None:
    """Count an answer with ``status`` on the current run's meter, if there is one.  Called by
    the transport for every attempt that was answered, in the thread that sent it."""
    meter = _current.get()
    if meter is not None:
        meter.answered(status)
