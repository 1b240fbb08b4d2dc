"""Whole-attempt deadlines: one TimeoutSec for the whole of an attempt, however the server drips.

A per-read socket timeout alone lets a server that sends one byte of its status line or headers
every second hold an attempt forever.  So every attempt with a deadline gets a :class:`Watchdog`
that shuts its connection down when the deadline passes; the connections report to the watchdog
of the attempt their thread is making (:func:`watched`), and one timer thread serves every
watchdog of the process (:class:`_Deadlines`).  :class:`WatchedAdapter` is the requests adapter
whose connections do that report, direct or through an HTTP(S) proxy.

Two more limits reach an attempt from its caller's context rather than through every call in
between: a stopped run (:mod:`psopenai_py.cancel`'s :class:`~psopenai_py.cancel.StopSignal`) fires
the watchdog of the attempt in flight, and :func:`connect_limit` bounds how long making a new
connection may take (the SDK's ``Timeout(connect=...)``), within the attempt's deadline.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests.adapters
import urllib3.connection
import urllib3.connectionpool

from ..cancel import on_stop
from ..errors import TimeoutException

__all__ = ["Watchdog", "WatchedAdapter", "watched", "time_left", "connect_limit"]


class _Deadlines:
    """One daemon thread that fires every attempt's watchdog at its deadline.

    Hand-written instead of a ``threading.Timer`` per attempt: starting a thread for each
    attempt cost about 0.2 ms per call, as much as the rest of the client's own work.  Watchdogs
    wait in a heap by deadline; a finished one is dropped when it comes up (or when the heap is
    tidied), so ``finish`` never has to search the heap.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._count = 0
        self._thread: threading.Thread | None = None

    def watch(self, deadline: float, watchdog: Watchdog) -> None:
        with self._condition:
            self._count += 1
            heapq.heappush(self._heap, (deadline, self._count, watchdog))
            if len(self._heap) > 1024:  # many finished watchdogs with far deadlines: tidy up
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="psopenai-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is watchdog:
                self._condition.notify()  # an earlier deadline than the thread is waiting for

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap:
                    self._condition.wait()
                deadline, _, watchdog = self._heap[0]
                left = deadline - time.monotonic()
                if watchdog.done:
                    heapq.heappop(self._heap)
                    continue
                if left > 0:
                    # Clamped: a wait past threading.TIMEOUT_MAX (about 49 days on Windows)
                    # raises OverflowError, and a TimeoutSec up to 2147483647 is allowed.
                    self._condition.wait(min(left, threading.TIMEOUT_MAX))
                    continue
                heapq.heappop(self._heap)
            watchdog.fire()


_deadlines = _Deadlines()


class Watchdog:
    """Shuts down the connection of one attempt when its deadline passes.

    Only attempts with a deadline (a TimeoutSec; 0 means none) are watched by the timer thread;
    one without never fires.  ``finish`` and the firing are exclusive under a lock, so a
    connection already handed back to the pool is never shut down.
    """

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self._lock = threading.Lock()
        self._connection: Any = None
        self._done = False
        self._stopped = False
        self.fired = False
        if deadline is not None:
            _deadlines.watch(deadline, self)

    def attach(self, connection: Any) -> None:
        """The attempt now uses ``connection``: shut it at the deadline (at once if it passed, or
        if the run was stopped)."""
        with self._lock:
            self._connection = connection
            shut = self.fired or self._stopped
        if shut:
            self._shut(connection)

    def stop(self) -> None:
        """The run was stopped: shut the attempt's connection now, and any it takes later."""
        with self._lock:
            self._stopped = True
            connection = None if self._done else self._connection
        if connection is not None:
            self._shut(connection)

    def fire(self) -> None:
        """The deadline has passed: shut the attempt's connection down, unless it finished (or
        the deadline was postponed meanwhile: then it is watched again, until the new one)."""
        with self._lock:
            if self._done:
                return
            deadline = self.deadline
            later = deadline is not None and deadline > time.monotonic()
            if not later:
                self.fired = True
            connection = self._connection
        if later:
            assert deadline is not None
            _deadlines.watch(deadline, self)
        elif connection is not None:
            self._shut(connection)

    def postpone(self, seconds: float) -> None:
        """Move the deadline to ``seconds`` from now: an idle limit, given again at each sign of
        progress.  Only a watchdog made with a deadline can be postponed."""
        if self.deadline is not None:
            # One write: the timer thread, finding the old deadline passed, watches the new one.
            self.deadline = time.monotonic() + seconds

    def shut(self) -> None:
        """Shut the attempt's connection down now, whatever the deadline (the run was stopped);
        ``fired`` stays as it is."""
        with self._lock:
            connection = None if self._done else self._connection
        if connection is not None:
            self._shut(connection)

    @staticmethod
    def _shut(connection: Any) -> None:
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def finish(self) -> bool:
        """Stop watching; False when the deadline had already struck."""
        with self._lock:
            self._done = True
            # Let go of the connection: the timer thread keeps a finished watchdog until its
            # deadline comes up, and a pool closed meanwhile would otherwise leave its socket open.
            self._connection = None
        return not self.fired

    @property
    def done(self) -> bool:
        """Whether the attempt has finished watching (the timer thread then forgets it)."""
        return self._done

    def time_left(self) -> float | None:
        """Seconds until the deadline (None: no deadline); TimeoutException once it has passed."""
        return time_left(self.deadline)


class _AttemptWatch(threading.local):
    current: Watchdog | None = None


_attempt_watch = _AttemptWatch()
"""The watchdog of the attempt this thread is making, for its connection to report to."""


@contextlib.contextmanager
def watched(timeout: float | None) -> Iterator[Watchdog]:
    """Make one attempt within ``timeout`` seconds (None: no limit) in the body: the connections
    this thread uses meanwhile report to the watchdog yielded, which is finished on the way out."""
    watch = Watchdog(time.monotonic() + timeout if timeout else None)
    _attempt_watch.current = watch
    try:
        with on_stop(watch.stop):  # a stopped run ends the attempt at once
            yield watch
    finally:
        _attempt_watch.current = None
        watch.finish()


_connect_limit: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "psopenai_connect_limit", default=None
)


@contextlib.contextmanager
def connect_limit(seconds: float | None) -> Iterator[None]:
    """Within the body, making a new connection may take at most ``seconds`` (None: only the
    attempt's deadline limits it).  A kept-alive connection needs none."""
    token = _connect_limit.set(seconds)
    try:
        yield
    finally:
        _connect_limit.reset(token)


def time_left(deadline: float | None) -> float | None:
    """Seconds until ``deadline`` (None: no deadline); TimeoutException once it has passed."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutException()
    return left


class _WatchedConnection(urllib3.connection.HTTPConnection):
    """A connection that reports to the attempt's watchdog: when it connects (watched from the
    first byte, so a proxy dripping its answer to CONNECT is cut off too; ``sock`` is the plain
    socket until TLS wraps it) and when a kept-alive one carries the next request."""

    def connect(self) -> None:
        self._report()
        limit = _connect_limit.get()
        # urllib3 sets this to the connect timeout before connecting and to the read timeout
        # after, so lowering it here bounds the connect alone.
        if limit is not None and (not isinstance(self.timeout, (int, float)) or self.timeout > limit):
            self.timeout = limit
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._report()
        super().request(*args, **kwargs)

    def _report(self) -> None:
        watch = _attempt_watch.current
        if watch is not None:
            watch.attach(self)


class _WatchedHTTPSConnection(_WatchedConnection, urllib3.connection.HTTPSConnection):
    """The same over TLS (the watching comes first in the method order, then TLS's connect)."""


# urllib3 takes no argument for the connection class a pool makes: a pool subclass with its
# ``ConnectionCls`` set, listed in the pool manager's ``pool_classes_by_scheme`` table, is the
# only way in.  Both are public attributes but not documented as hooks; this is the one place
# that uses them (see WatchedAdapter).
class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _use_watched_pools(manager: Any) -> Any:
    manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
    return manager


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """The adapter whose connections report to the attempt's watchdog, direct or through an
    HTTP(S) proxy (a proxy that drips is cut off at the deadline too; a SOCKS proxy keeps its
    own connections, bounded by the per-read timeouts)."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        _use_watched_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            _use_watched_pools(manager)
        return manager
