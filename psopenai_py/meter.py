"""What a run tells its front-end as it goes: a front-end's window on the transport and on a
one-step command's work.

A front-end that runs many requests (the PowerShell pipeline) makes a :class:`Meter` and runs
its work inside :func:`scope`, as it does with its stop signal (:mod:`psopenai_py.cancel`).  The
transport tells :func:`answered` the status of every answer it receives; the answer is counted on
the meter of the run the request belongs to, found through a context variable, so worker threads
count on their run's meter as long as they run in a copy of the submitting thread's context
(``contextvars.copy_context``).  Outside any run nothing is counted.

The meter counts the 429 answers (rate limited, retried or not): a run's summary says how many
it met.  A command that is one step over many things (Export-ChatCompletion) counts what it made
(:func:`produced`, for the progress line), says in its own words what its work came to when it
ends early (:func:`ended_early`: what was read, what was not saved), and writes to the streams
the front-end gives it (:attr:`Meter.output`, :attr:`Meter.say`), whose failures the front-end
reports in its own words.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import Any

from .scoped import scoped

__all__ = ["Meter", "answered", "current", "scope", "produced", "ended_early"]

TOO_MANY_REQUESTS = 429


class Meter:
    """The counts of one run; safe to update from every worker thread at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rate_limited = 0
        self._produced = 0
        self.outcome: str | None = None
        """What a one-step command's work came to when it ended early (stopped, or its output
        failed), in the command's words; None when it did not."""
        self.output: Any = None
        """Where the front-end wants a command's own writes to standard output (an export to
        ``-``): its standard output, whose failures it reports; None: the process's."""
        self.say: Callable[[str], None] | None = None
        """Where the front-end wants a command's lines for the user (a receipt): one line per
        call, kept apart from its progress line; None: the process's standard error."""

    @property
    def produced(self) -> int:
        """How many things the run's one step has made so far (an export's completions)."""
        return self._produced

    def made(self, count: int) -> None:
        """``count`` more things were made."""
        with self._lock:
            self._produced += count

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


def produced(count: int) -> None:
    """Count ``count`` things made by the current run's one step, if there is a run."""
    meter = _current.get()
    if meter is not None:
        meter.made(count)


def ended_early(outcome: str) -> None:
    """Tell the current run's front-end what the work came to, as it ends early (nothing when
    there is no run: a Python caller has the exception)."""
    meter = _current.get()
    if meter is not None:
        meter.outcome = outcome
