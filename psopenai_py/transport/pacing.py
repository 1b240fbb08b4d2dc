"""When an attempt may start: the transport's one place that paces requests.

The retry loop (:meth:`psopenai_py.transport.Transport.request`) speaks to a :class:`Pacing`
object at four moments, per (origin, key) of the request (:func:`pacing_key`): before an
attempt (:meth:`Pacing.wait_turn`), when an answer has arrived (:meth:`Pacing.answered`), when
an attempt got no answer (:meth:`Pacing.unanswered`), and when a 429 is about to be retried
after a delay (:meth:`Pacing.rate_limited`).  Every worker thread of a process shares the
transport's one object, so what one learns holds the others: the PowerShell layer's
-ThrottleLimit workers, the SDK-shaped client and the openai-CLI dialect alike.

The policy is :class:`Pacer`: one :class:`~psopenai_py.transport.budget.Budget` per (origin, key)
that reads the server's ``x-ratelimit-*`` headers and keeps just under the budget they announce,
or, without them, learns the rate from 429s (cut at once, grown slowly); after a pause it lets
the waiting attempts go one slot apart.  -ThrottleLimit still bounds how many are in flight; the
pacer only decides when each may start, and the retry decision stays the retry policy's.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol
from urllib.parse import urlsplit

from .. import meter
from ..cancel import SLICE, current, pause, stopped_error
from ..settings import Settings
from .budget import GROWTH, Budget, Change, read_report, server_delay

__all__ = ["PacingKey", "Pacing", "Pacer", "SleptClock", "pacing_key"]

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

    def unanswered(self, key: PacingKey) -> None:
        """An attempt to ``key`` got no answer (the connection failed, it timed out, or the run
        was stopped while it was under way)."""

    def rate_limited(self, key: PacingKey, seconds: float) -> None:
        """A 429 from ``key`` is retried after ``seconds`` (the server's or the backoff's)."""


class SleptClock:
    """A monotonic clock that also moves by what is slept through an injected ``sleep``.

    A test's sleep passes no real time; with this clock the pacer sees the retry delays and its
    own waits go by, as they would with a real sleep, so its decisions can be checked exactly.
    """

    def __init__(
        self, sleep: Callable[[float], object], monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._inner = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._slept = 0.0

    def sleep(self, seconds: float) -> None:
        self._inner(seconds)
        with self._lock:
            self._slept += max(0.0, seconds)

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic() + self._slept


_IDLE_SECONDS = 600.0
"""A budget unused this long (and with nothing under way) is forgotten once the table is large."""
_TABLE_SIZE = 256


class _Turn:
    """This thread's attempt under way: its key, when it started, and for a retry when the
    request's previous attempt (refused) had started."""

    __slots__ = ("key", "refused_start", "started_at")

    def __init__(self, key: PacingKey, started_at: float, refused_start: float | None) -> None:
        self.key = key
        self.started_at = started_at
        self.refused_start = refused_start


class _Gate:
    """One (origin, key): its budget and the attempts waiting for it, first come first served.

    Only the first in line waits for the budget (and sees at once any change an answer makes to
    it); the others wait for their turn to be first.  So attempts start one at a time at the
    pace, and after a pause they leave one slot apart, never together.  Retries go first.
    """

    __slots__ = ("budget", "line", "retries")

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.line: deque[threading.Event] = deque()
        self.retries: set[threading.Event] = set()  # the places of retries, at the front

    def join_ahead(self, place: threading.Event) -> None:
        """A retry's place: ahead of every first attempt, behind the retries already waiting.
        A refused request has had its turn, and sent behind the others it would find the budget
        spent by them and be refused again.  A first attempt first until now steps back (it
        sees so when its wait ends)."""
        index = 0
        while index < len(self.line) and self.line[index] in self.retries:
            index += 1
        if index == 0 and self.line:
            self.line[0].clear()
        self.line.insert(index, place)
        self.retries.add(place)

    def leave(self, place: threading.Event) -> None:
        """Take ``place`` out of the line; the next one, if it is now first, is told."""
        first = bool(self.line) and self.line[0] is place
        with contextlib.suppress(ValueError):
            self.line.remove(place)
        self.retries.discard(place)
        if first and self.line:
            self.line[0].set()


class Pacer:
    """The process's pacing: one :class:`~psopenai_py.transport.budget.Budget` per (origin, key),
    shared by every thread.

    ``sleep`` and ``monotonic`` are injectable, so the waits can be checked exactly with a fake
    clock (:class:`SleptClock`); every wait for the budget goes through
    :func:`psopenai_py.cancel.pause`, and waiting in line looks at the stop signal as often, so a
    stopped run ends either at once.  What the pacer learns (a budget announced, a slow-down
    after a 429) is one -Verbose line per change, never one per request.
    """

    def __init__(
        self, sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._gates: dict[PacingKey, _Gate] = {}
        self._local = threading.local()

    def budget(self, key: PacingKey) -> Budget | None:
        """The budget of ``key`` as learned so far (None: nothing sent there yet)."""
        with self._lock:
            gate = self._gates.get(key)
            return gate.budget if gate is not None else None

    def wait_turn(self, key: PacingKey, *, retry: bool) -> None:
        with self._lock:
            now = self._monotonic()
            self._settle_turn()
            gate = self._gate(key, now)
            if not gate.line and gate.budget.wait(now) <= 0:
                self._start(gate, key, now, retry)
                return
            place = threading.Event()
            if retry:
                gate.join_ahead(place)
            else:
                gate.line.append(place)
            if gate.line[0] is place:
                place.set()
        try:
            # Before the first attempt a stop means the request was never sent; before a retry
            # it had been.
            told = False
            while True:
                _wait_in_line(place, sent=retry)
                while True:
                    with self._lock:
                        if gate.line[0] is not place:
                            break  # a retry went first: wait to be first again
                        now = self._monotonic()
                        wait = gate.budget.wait(now)
                        if wait <= 0:
                            gate.leave(place)
                            self._start(gate, key, now, retry)
                            return
                    if not told:
                        log.debug(
                            "Waiting %d ms for the pace of requests to this server with this key.",
                            round(wait * 1000),
                        )
                        told = True
                    pause(wait, sent=retry, sleep=self._sleep)
        except BaseException:
            with self._lock:
                gate.leave(place)
            raise

    def answered(self, key: PacingKey, status: int, headers: Mapping[str, str]) -> None:
        meter.answered(status)  # a run's summary counts the 429s it met
        report = read_report(headers)
        delay = server_delay(headers) if status == 429 else (None, False)
        with self._lock:
            now = self._monotonic()
            turn: _Turn | None = getattr(self._local, "turn", None)
            self._local.turn = None
            mine = turn if turn is not None and turn.key == key else None
            started_at = mine.started_at if mine is not None else -math.inf
            refused_start = mine.refused_start if mine is not None else None
            self._local.refused = started_at if status == 429 else None
            budget = self._gate(key, now).budget
            try:
                changes = budget.learn(now, status, report, delay, started_at, refused_start)
            except (ArithmeticError, ValueError):
                # The answer has come and stands: headers whose numbers the pacer cannot work
                # with teach it nothing, rather than turn a change made into a failure.
                log.debug("The rate-limit headers of this answer could not be read; they are ignored.")
                if started_at in budget.under_way:  # not released before the failure
                    budget.release(started_at)
                changes = []
        for change in changes:
            log.info("%s", _verbose_line(key[0], change))

    def unanswered(self, key: PacingKey) -> None:
        with self._lock:
            turn: _Turn | None = getattr(self._local, "turn", None)
            self._local.turn = None
            if turn is not None and turn.key == key and key in self._gates:
                self._gates[key].budget.release(turn.started_at)

    def rate_limited(self, key: PacingKey, seconds: float) -> None:
        """Nothing more to learn: the pause a 429 asks for was read from its headers in
        :meth:`answered`.  A backoff the retry policy chose alone (the server named no delay) is
        this thread's own wait, not every worker's: the cut rate spaces the others."""

    def _start(self, gate: _Gate, key: PacingKey, now: float, retry: bool) -> None:
        gate.budget.start(now)
        refused: float | None = getattr(self._local, "refused", None)
        self._local.turn = _Turn(key, now, refused if retry else None)

    def _settle_turn(self) -> None:
        """This thread's previous attempt was never told answered or unanswered: let it go."""
        turn: _Turn | None = getattr(self._local, "turn", None)
        if turn is not None and turn.key in self._gates:
            self._gates[turn.key].budget.release(turn.started_at)
        self._local.turn = None

    def _gate(self, key: PacingKey, now: float) -> _Gate:
        """The gate of ``key``, new on first use (the lock is held)."""
        gate = self._gates.get(key)
        if gate is None:
            if len(self._gates) >= _TABLE_SIZE:
                for stale in [
                    k
                    for k, g in self._gates.items()
                    if not g.line and not g.budget.pending and now - g.budget.last_used > _IDLE_SECONDS
                ]:
                    del self._gates[stale]
            gate = self._gates[key] = _Gate(Budget(last_used=now))
        return gate


def _wait_in_line(place: threading.Event, *, sent: bool) -> None:
    """Wait until ``place`` is first in line, or raise the stop error once the run is stopped
    (in slices, as :func:`psopenai_py.cancel.pause` waits)."""
    signal = current()
    while not place.wait(SLICE):
        if signal is not None and signal.is_set():
            raise stopped_error(sent=sent)
    if signal is not None and signal.is_set():
        raise stopped_error(sent=sent)


def _rate_text(rate: float) -> str:
    return f"{rate:.3g}" if rate < 100 else f"{rate:.0f}"


def _verbose_line(origin: str, change: Change) -> str:
    """One -Verbose line about what the pacer learned of ``origin``'s rate limit."""
    limit = change.limit
    if change.kind == "budget" and limit is not None:
        return (
            f"Rate limit of {origin}: {limit.limit} {change.dimension} a minute, {limit.remaining} left; "
            + (
                f"starting at most {_rate_text(change.rate)} requests a second."
                if change.dimension == "requests"
                else f"pacing requests by the tokens each costs, {_rate_text(change.rate)} tokens a second."
            )
        )
    why = (
        "although its rate-limit headers allowed more"
        if limit is not None
        else "(it announces no rate limit in its headers)"
    )
    return (
        f"Rate limited by {origin} (429) {why}: slowing to {_rate_text(change.rate)} requests a second, "
        f"then speeding up by {round(GROWTH * 100)} % a second while no 429 comes."
    )
