"""Cancellation: a signal a front-end sets and the core's waits read.

A front-end that runs many requests (the PowerShell pipeline, a bulk run) makes a signal,
usually a :class:`threading.Event`, and runs its work inside :func:`scope`.  Every wait of the
core (a retry delay, a shared rate-limit pause) goes through :func:`pause`, which ends early
with :class:`~psopenai_py.errors.RunStoppedError` once the signal is set; a streamed answer
(:mod:`psopenai_py.transport.stream`) ends the same way, its connection shut.  No front-end needs to
replace a method of a core object to stop a run, and worker threads see the signal as long as
they run in a copy of the submitting thread's context (``contextvars.copy_context``).

A :class:`StopSignal` stops a request that is already on the wire too: the transport registers
each attempt with the current signal (:func:`on_stop`), and setting the signal shuts that
attempt's connection, so a blocked read ends at once (the asynchronous client cancels a task's
request this way).  A plain :class:`threading.Event` stops the waits only.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from .errors import RunStoppedError
from .scoped import scoped

__all__ = ["CancelSignal", "StopSignal", "current", "scope", "on_stop", "pause", "stopped_error", "SLICE"]

SLICE = 0.2
"""Seconds: the longest one blocking wait lasts, so that an interrupt handler may run (on
Windows a blocked wait does not let a Ctrl-C handler in)."""


class CancelSignal(Protocol):
    """What a cancellation signal offers: a :class:`threading.Event` is one."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class StopSignal(threading.Event):
    """A cancellation signal that also stops what is in flight: the callbacks registered with
    :func:`on_stop` while it is current run once when it is set (at once, for one registered
    after that)."""

    def __init__(self) -> None:
        super().__init__()
        self._guard = threading.Lock()
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._count = 0

    def set(self) -> None:
        """Set the signal and run every registered callback (each once)."""
        with self._guard:
            super().set()
            callbacks, self._callbacks = list(self._callbacks.values()), {}
        for callback in callbacks:
            callback()

    def register(self, callback: Callable[[], None]) -> int:
        """Run ``callback`` when the signal is set (now, if it is); a token for :meth:`unregister`."""
        with self._guard:
            if not self.is_set():
                self._count += 1
                self._callbacks[self._count] = callback
                return self._count
        callback()
        return 0

    def unregister(self, token: int) -> None:
        """Forget a callback that is no longer needed (its attempt finished)."""
        with self._guard:
            self._callbacks.pop(token, None)


_current: contextvars.ContextVar[CancelSignal | None] = contextvars.ContextVar(
    "psopenai_cancel", default=None
)


def current() -> CancelSignal | None:
    """The signal of the run this code belongs to, or None outside any run."""
    return _current.get()


def scope(signal: CancelSignal | None) -> contextlib.AbstractContextManager[None]:
    """Run the body with ``signal`` as the current one (None: not cancellable)."""
    return scoped(_current, signal)


@contextlib.contextmanager
def on_stop(callback: Callable[[], None]) -> Iterator[None]:
    """While the body runs, ``callback`` stops it when the current signal is a
    :class:`StopSignal` and gets set (no effect under any other signal, or none)."""
    signal = _current.get()
    if not isinstance(signal, StopSignal):
        yield
        return
    token = signal.register(callback)
    try:
        yield
    finally:
        signal.unregister(token)


def stopped_error(*, sent: bool) -> RunStoppedError:
    """The failure of a request whose wait was cut short: ``sent`` tells whether any attempt of
    it had reached the server before (a retry wait) or not (a wait before the first attempt)."""
    if not sent:
        return RunStoppedError("Not sent: the run was stopped.", sent=False)
    return RunStoppedError(
        "Not retried: the run was stopped while this item waited to be retried, so it was not applied.",
        sent=True,
    )


def pause(seconds: float, *, sent: bool, sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait ``seconds``, or raise :func:`stopped_error` as soon as the current signal is set.

    ``sleep`` is the caller's clock: the real one waits on the signal itself, in slices of
    :data:`SLICE`; an injected one (tests) is called whole and the signal looked at after it.
    """
    signal = _current.get()
    if signal is None:
        if seconds > 0:
            sleep(seconds)
        return
    if signal.is_set():
        raise stopped_error(sent=sent)
    if sleep is not time.sleep:
        sleep(seconds)
        if signal.is_set():
            raise stopped_error(sent=sent)
        return
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if signal.wait(min(left, SLICE)):
            raise stopped_error(sent=sent)
