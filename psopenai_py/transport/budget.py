"""What a server's rate limit allows, learned from its answers: pure parts of the pacer.

- :func:`parse_duration` and :func:`read_report` read the ``x-ratelimit-*`` headers (the API's
  limit per minute, what remains, and how long until the budget is whole again, in the Go
  duration format such as ``12ms``, ``6m0s``, ``1h2m3.5s``);
- :func:`server_delay` reads how long a 429 asks to wait (``retry-after-ms``, ``retry-after``);
- :class:`Budget` is the state of one (origin, key): when the next attempt may start, given what
  the answers so far said.  It works on the times it is given and never reads a clock, so every
  decision can be checked exactly; :class:`~psopenai_py.transport.pacing.Pacer` holds one per
  (origin, key) and does the waiting and the locking.

How a budget decides:

- **Headers present**: the pace is the announced rate, a little under (``limit / 60`` a second,
  or less when the reset says the budget refills more slowly, as a daily one does), and the burst
  is what the server says remains.  Each answer sets the local count to the server's
  ``remaining``, plus what refilled over the answered attempt's round trip, less every attempt of
  this process still under way (the report may not count them: one sent a moment after another
  can reach the server first).  A report that says a little more than the local count is not
  followed (it may be the older of two that overtook each other), nor one from an attempt
  older than the last followed.  So a run spends the burst, then follows the refill, and other
  processes on the same key are seen too.  Tokens are paced alike when their headers come, at
  the cost per request the server's own counts show (see :class:`Budget`).  A 429 the headers
  explain (nothing remained) cuts nothing; one they do not explain means the server enforces a
  shorter window than they describe, and is taken as below.  The headers are claims that
  answers test: what they alone say never holds a start past :data:`TEST_AFTER`; then one
  attempt goes, and a success (the server let through what they had no room for) ends following
  them.
- **No headers**: nothing is paced until a 429.  The first cuts the pace at once to 90 % of the
  lowest of: the pace now, the answers that succeeded over the last second (with enough of
  them), and one request per ``retry-after-ms`` when that is at most a second (an empty token
  bucket asks for the time one request takes to refill, as the API does: "Please try again in
  20ms" at 3,000 a minute); knowing none, one request per wait asked for.  Later 429s cut again
  only when the answers since the last cut say the pace is over the limit (more than 5 % of at
  least ten refused, or at least three and half: the pace less that share; a retry refused twice
  at this pace after waiting what it was told: three quarters), never below a quarter at once;
  429s to attempts that started before the last cut say nothing new.  While the pace holds work
  back, it grows by 2 % a second (at most 0.3 % an answer) until the next cut, five times that
  while under 90 % of the pace the last cut came down from.
- **Pauses and releases**: a 429 that asks to wait holds every start until then, and afterwards
  the waiting attempts start one slot apart at the pace (the pacer's line lets one at a time
  wait for the budget), never all at once.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Mapping
from typing import NamedTuple

from ..retry import header_value

__all__ = [
    "Limit",
    "Report",
    "Budget",
    "Change",
    "parse_duration",
    "read_report",
    "server_delay",
    "SAFETY",
    "CUT",
    "GROWTH",
    "GROWTH_PER_ANSWER",
    "HINT_SHARE",
    "MAX_HOLD",
    "TEST_AFTER",
]

SAFETY = 0.98
"""The share of an announced rate the pacer keeps to: a little under, for clocks that differ."""
CUT = 0.9
"""A 429 cuts the rate to this share of the lowest estimate of what the server admits."""
GROWTH = 0.02
"""While the pace holds work back and no 429 comes, the rate grows by this share a second..."""
GROWTH_PER_ANSWER = 0.003
"""... and by no more than this share an answer."""
WINDOW = 1.0
"""Seconds of successful answers that make the measured rate."""
SLACK = 2.0
"""A report implying this many more requests than the local count is followed; fewer is not."""
FLOOR = 0.25
"""Once paced, one cut takes the pace to no less than this share of itself."""
OVER = 0.05
"""More than this share of 429s since the last cut means the pace is over the limit."""
SAMPLES = 20
"""The last answers since the last cut whose share of 429s is read."""
FEW = 3
"""Refusals since the last cut that, half the answers or more, say the pace is well over (a finer
share is read from ten answers)."""
STEP = 0.95
"""A cut smaller than this share of the pace is none (the pace is already about right)."""
HINT_SHARE = 0.9
"""The share of ``1 / retry-after-ms`` taken as the server's rate (that is an upper bound)."""
MAX_HOLD = 120.0
"""The longest pause a 429 may ask of every start: what the SDK's retry waits at most (PSOpenAI's
waits 60 s at most).  A longer ask is no retry's wait (the retry backs off or stops instead), so
holding every start for it would stall the whole run for nothing: such an ask pauses nothing."""
TEST_AFTER = 20.0
"""Seconds at most that the headers alone hold a start: one request's time at the slowest pace the
API's per-minute limits set (3 a minute, its lowest tier).  A longer wait
(a budget they say is spent for hours) is tested instead: one attempt goes beyond it; a 429 bears
the claim out, a success disproves it and the headers are no longer followed (see
:meth:`Budget.wait`)."""
MIN_RATE = 0.01
"""Requests a second below which no estimate goes (one in 100 s): a pace, not a stop."""
_EPSILON = 1e-9
_MAX_COUNT = 2**53

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> float | None:
    """Seconds of a duration as the API writes it (Go's format: ``0s``, ``12ms``, ``1.5s``,
    ``6m0s``, ``23h47m36.648s``; a bare number is seconds); None when it is not one."""
    value = text.strip()
    if not value:
        return None
    try:
        seconds = float(value)  # some servers send plain seconds
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    position, total = 0, 0.0
    while position < len(value):
        match = _DURATION_PART.match(value, position)
        if match is None:
            return None
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    return total if math.isfinite(total) else None


def _count(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        return None
    # Past 2**53 a count is no longer exact as a float, and past about 1e308 it is none at all
    # (OverflowError in the arithmetic, after the request was answered): no API limit comes near.
    return value if 0 <= value <= _MAX_COUNT else None


class Limit(NamedTuple):
    """One announced limit: its size, what remains, seconds until it is whole again."""

    limit: int
    remaining: int
    reset: float

    @property
    def rate(self) -> float:
        """Units a second the budget refills: ``limit`` a minute, or less when ``reset`` says it
        refills more slowly (a daily budget announced in the same headers)."""
        per_minute = self.limit / 60.0
        used = self.limit - self.remaining
        if used > 0 and self.reset > 0:
            return max(MIN_RATE, min(per_minute, used / self.reset))
        return max(MIN_RATE, per_minute)

    @property
    def capacity(self) -> float:
        """The most the budget holds: what remains plus what refills until the reset."""
        return max(1.0, self.remaining + self.reset * self.rate)


class Report(NamedTuple):
    """What one answer's headers say of the budget (None: that dimension is not reported)."""

    requests: Limit | None
    tokens: Limit | None


def _limit(headers: Mapping[str, str], dimension: str) -> Limit | None:
    limit = _count(headers.get(f"x-ratelimit-limit-{dimension}"))
    remaining = _count(headers.get(f"x-ratelimit-remaining-{dimension}"))
    reset_text = headers.get(f"x-ratelimit-reset-{dimension}")
    reset = parse_duration(reset_text) if reset_text is not None else None
    if limit is None or limit == 0 or remaining is None or reset is None:
        return None  # a partial or unreadable report teaches nothing sound
    return Limit(limit, min(remaining, limit), reset)


def read_report(headers: Mapping[str, str]) -> Report | None:
    """The budget an answer's ``x-ratelimit-*`` headers describe, or None without them."""
    # One pass over the headers, names in any case: this runs on every answer, most of which
    # carry none of these.
    found = {name.lower(): value for name, value in headers.items() if name[:12].lower() == "x-ratelimit-"}
    if not found:
        return None
    report = Report(_limit(found, "requests"), _limit(found, "tokens"))
    return report if report.requests is not None or report.tokens is not None else None


def server_delay(headers: Mapping[str, str]) -> tuple[float | None, bool]:
    """Seconds a 429 asks to wait, and whether that is to the millisecond (``retry-after-ms``)
    rather than rounded up to whole seconds (``retry-after``); (None, False) when it asks
    nothing readable, or more than :data:`MAX_HOLD`.  Dates in ``retry-after`` are left to the
    retry delay's own reading."""
    for name, unit, precise in (("retry-after-ms", 1e-3, True), ("retry-after", 1.0, False)):
        text = header_value(headers, name)
        if text is None:
            continue
        try:
            value = float(text.strip()) * unit
        except ValueError:
            return None, False
        if math.isfinite(value) and 0 < value <= MAX_HOLD:
            return value, precise
        return None, False
    return None, False


class Change(NamedTuple):
    """Something a budget learned that is worth one -Verbose line: ``kind`` is ``budget`` (a
    limit announced or changed) or ``slowed`` (a 429 cut the rate)."""

    kind: str
    dimension: str
    limit: Limit | None
    rate: float


# The records below are plain classes with slots, not dataclasses: a one-shot command line
# makes a budget, and dataclasses would cost its start-up their import (inspect, ast, dis).
class _Bucket:
    """The local count of one dimension: ``level`` units at ``stamp``, refilled at ``rate`` up to
    ``capacity``; below zero when attempts under way are not counted by the server yet."""

    __slots__ = ("capacity", "level", "rate", "stamp")

    def __init__(self, rate: float, capacity: float, level: float, stamp: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.level = level
        self.stamp = stamp

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds from ``now`` until ``amount`` is in the count."""
        self.refill(now)
        return max(0.0, (amount - self.level) / self.rate)

    def take(self, amount: float, now: float) -> None:
        """Take ``amount`` (below zero if the server's count says so: see :class:`Budget`)."""
        self.refill(now)
        self.level -= amount


def _follow(
    bucket: _Bucket | None, changed: bool, rate: float, capacity: float, level: float, now: float, unit: float
) -> _Bucket:
    """The local count after a report that implies ``level``.

    A report lower than the count is followed at once.  One higher by less than :data:`SLACK`
    units is not: answers overtake each other on the way (two attempts sent a moment apart reach
    the server in either order, and one sent before its turn's neighbour may be counted after
    it), so a report a little higher is as likely stale as new; the count's own refill catches
    up with a real gain.  A clearly higher one (another process stopped, or the count was too
    cautious) is followed.
    """
    if bucket is None or changed:
        return _Bucket(rate, capacity, level, now)
    bucket.refill(now)
    bucket.rate, bucket.capacity = rate, capacity
    if level < bucket.level or level > bucket.level + SLACK * unit:
        bucket.level = level
    bucket.level = min(bucket.level, capacity)
    return bucket


class _Tokens:
    """The token dimension: its bucket, the cost per request the server's counts show, and the
    last report (to learn that cost from the next)."""

    __slots__ = ("announced", "bucket", "cost", "last", "samples")

    def __init__(self, bucket: _Bucket, announced: Limit) -> None:
        self.bucket = bucket
        self.announced = announced
        self.cost = 0.0
        self.samples = 0
        self.last: tuple[float, int] | None = None  # (when, remaining) of the previous report


class Budget:
    """When attempts to one (origin, key) may start.  Times are seconds on one monotonic clock.

    Tokens: the pacer does not count a request's tokens from its body.  It learns the cost per
    request from the server's own counts (how much ``remaining-tokens`` fell from one answer to
    the next, refill taken into account), because only the server knows what it charges: its
    tokenizer, ``max_tokens``, images and tools, and that updating, listing or deleting stored
    completions costs nothing.  A body-based estimate would be a second truth, wrong both ways.
    """

    __slots__ = (
        "anchor",
        "announced",
        "beyond",
        "ceiling",
        "delays",
        "disproven",
        "first_seen",
        "held_until",
        "last_cut",
        "last_growth",
        "last_used",
        "last_wait",
        "paced_since",
        "peak",
        "recent",
        "requests",
        "successes",
        "tokens",
        "under_way",
    )

    def __init__(self, last_used: float = 0.0) -> None:
        self.requests: _Bucket | None = None  # None: starts are not paced
        self.announced: Limit | None = None
        self.disproven = False  # a success came to a start the headers had no room for
        self.beyond: deque[float] = deque(maxlen=64)  # starts made past what the headers allow
        self.paced_since: float | None = None  # when the next start began to wait for the headers
        self.ceiling: float | None = None  # the rate 429s taught; None: none did
        self.peak: float | None = None  # the pace the last cut came down from
        self.tokens: _Tokens | None = None
        self.under_way: deque[float] = deque()  # when the unanswered attempts started
        self.held_until = -math.inf  # no start before this (a 429 asked to wait)
        self.anchor = -math.inf  # when the attempt whose report was followed last started
        self.first_seen: float | None = None  # the first answer (how long successes have been counted)
        self.last_cut = -math.inf
        self.last_growth = -math.inf
        self.last_wait = -math.inf
        self.last_used = last_used
        self.successes: deque[float] = deque(maxlen=4096)
        self.delays: deque[tuple[float, float]] = deque(maxlen=256)
        self.recent: deque[tuple[float, bool]] = deque(maxlen=SAMPLES)

    # -- starting ----------------------------------------------------------------------------------

    @property
    def rate(self) -> float | None:
        """Starts a second allowed now (None: not paced)."""
        return self.requests.rate if self.requests is not None else None

    def wait(self, now: float) -> float:
        """Seconds from ``now`` until the next attempt may start (0: it may start now).

        What only the headers say (no 429 taught this pace) holds a start :data:`TEST_AFTER` at
        most, counted from when it began to wait: past that the claim is tested, not sat out (a
        server whose headers lie would otherwise pin the run for as long as it likes), one test
        at a time."""
        self.last_used = now
        pace = self._pace(now)
        if self.ceiling is None and pace > _EPSILON:
            if any(started in self.under_way for started in self.beyond):
                pace = min(pace, 1.0)  # a test is under way: look again soon
            else:
                if self.paced_since is None:
                    self.paced_since = now
                pace = min(pace, max(0.0, self.paced_since + TEST_AFTER - now))
        wait = max(0.0, self.held_until - now, pace)
        if wait > _EPSILON:
            self.last_wait = now
            return wait
        return 0.0

    def _pace(self, now: float) -> float:
        """Seconds until the counts of requests and tokens allow one more start."""
        pace = 0.0
        if self.requests is not None:
            pace = self.requests.wait_for(1.0, now)
        tokens = self.tokens
        if tokens is not None and tokens.cost > 0:
            pace = max(pace, tokens.bucket.wait_for(tokens.cost, now))
        return pace

    @property
    def pending(self) -> int:
        """Attempts under way: started and not answered yet."""
        return len(self.under_way)

    def start(self, now: float) -> None:
        """An attempt starts now: it takes its share of the budget."""
        self.under_way.append(now)
        self.last_used = now
        self.paced_since = None
        if self.ceiling is None and self._pace(now) > _EPSILON:
            self.beyond.append(now)  # past the headers' budget: its answer tests them
        if self.requests is not None:
            self.requests.take(1.0, now)
        if self.tokens is not None and self.tokens.cost > 0:
            self.tokens.bucket.take(self.tokens.cost, now)

    def release(self, started_at: float) -> None:
        """The attempt started at ``started_at`` is no longer under way (answered, or failed on
        the way, or stopped)."""
        try:
            self.under_way.remove(started_at)
        except ValueError:
            if self.under_way:
                self.under_way.popleft()

    def _uncounted(self, started_at: float) -> int:
        """Attempts under way that the answered one's report may not count: all of them.  Those
        that started after it reached the server after it; but one that started before may
        have been sent after it too (a thread held up between its turn and its first byte), and
        counting it again costs one request of burst, where leaving it out costs a 429."""
        return len(self.under_way)

    # -- learning ------------------------------------------------------------------------------------

    def learn(
        self,
        now: float,
        status: int,
        report: Report | None,
        delay: tuple[float | None, bool] = (None, False),
        started_at: float = -math.inf,
        refused_start: float | None = None,
    ) -> list[Change]:
        """An attempt reserved at ``started_at`` was answered: follow what the answer says.

        ``report`` is its ``x-ratelimit-*`` headers read, ``delay`` its :func:`server_delay`,
        ``refused_start`` when the request's previous attempt, refused, had started (a retry's).
        Returns what changed enough to be told.
        """
        self.release(started_at)
        self.last_used = now
        if self.first_seen is None:
            self.first_seen = now
        changes: list[Change] = []
        # What the server will hold when the next attempt reaches it: the report, plus what
        # refills for as long as the answered attempt took (the report's way back and the next
        # attempt's way there; or, where the server spends its time after counting, the report's
        # whole age), less the attempts under way that the report did not count.
        age = max(0.0, now - started_at) if math.isfinite(started_at) else 0.0
        uncounted = self._uncounted(started_at)
        # Answers come back out of order: a report older than the one followed last would count
        # as unspent what attempts answered since have spent.
        if report is not None and started_at >= self.anchor:
            self.anchor = started_at
            if report.requests is not None:
                changes += self._follow_requests(now, report.requests, age, uncounted)
            if report.tokens is not None:
                changes += self._follow_tokens(now, report.tokens, age, uncounted)
        if started_at in self.beyond:
            self.beyond.remove(started_at)
            self.paced_since = None  # the next test, if any, after TEST_AFTER from now
            if status != 429 and status < 500:
                self._disprove()
        if started_at > self.last_cut:
            self.recent.append((now, status == 429))
        if status == 429:
            changes += self._limited(now, report, delay, started_at, refused_start)
        else:
            self.successes.append(now)
            self._grow(now)
        return changes

    def _disprove(self) -> None:
        """The server let through a start its headers had no room for: they are not followed
        any more; the pace is what 429s teach, as for a server that announces nothing."""
        self.disproven = True
        self.announced = None
        self.tokens = None
        if self.ceiling is None:
            self.requests = None

    def _follow_requests(self, now: float, limit: Limit, age: float, uncounted: int) -> list[Change]:
        if self.disproven:
            return []
        changed = self.announced is None or self.announced.limit != limit.limit
        self.announced = limit
        rate = self._paced_rate(limit.rate * SAFETY)
        capacity = limit.capacity
        if self.ceiling is not None:
            # A 429 came although the headers allowed it: the server enforces a shorter window
            # than they describe, so no more than a second of the rate goes at once.
            capacity = min(capacity, max(1.0, rate))
        level = min(capacity, limit.remaining + age * limit.rate - uncounted)
        self.requests = _follow(self.requests, changed, rate, capacity, level, now, 1.0)
        if self.held_until > now:
            self._hold(now, self.held_until - now)  # a pause asked for earlier still holds
        return [Change("budget", "requests", limit, rate)] if changed else []

    def _follow_tokens(self, now: float, limit: Limit, age: float, uncounted: int) -> list[Change]:
        if self.disproven:
            return []
        tokens = self.tokens
        changed = tokens is None or tokens.announced.limit != limit.limit
        rate = max(MIN_RATE, limit.rate * SAFETY)
        if tokens is None:
            tokens = self.tokens = _Tokens(_Bucket(rate, limit.capacity, limit.remaining, now), limit)
        elif tokens.last is not None:
            when, before = tokens.last
            refilled = before + (now - when) * limit.rate
            if refilled < limit.capacity:  # a full bucket hides what was taken
                sample = max(0.0, refilled - limit.remaining)
                tokens.cost = sample if tokens.samples == 0 else 0.7 * tokens.cost + 0.3 * sample
                tokens.samples += 1
        tokens.announced = limit
        tokens.last = (now, limit.remaining)
        level = min(limit.capacity, limit.remaining + age * limit.rate - uncounted * tokens.cost)
        tokens.bucket = _follow(
            tokens.bucket, changed, rate, limit.capacity, level, now, max(1.0, tokens.cost)
        )
        return [Change("budget", "tokens", limit, rate)] if changed else []

    def _measured(self, now: float) -> float | None:
        """Successful answers a second over the last :data:`WINDOW`, or None before any."""
        while self.successes and self.successes[0] < now - WINDOW:
            self.successes.popleft()
        if len(self.successes) < SAMPLES or self.first_seen is None:
            return None  # too few to tell a rate
        # Over the time answers have been counted, if that is shorter than the window: the first
        # answers of a run would otherwise read as a slow server.
        return len(self.successes) / max(min(WINDOW, now - self.first_seen), 0.1)

    def _limited(
        self,
        now: float,
        report: Report | None,
        delay: tuple[float | None, bool],
        started_at: float,
        refused_start: float | None,
    ) -> list[Change]:
        seconds, precise = delay
        explained = report is not None and (
            (report.requests is not None and report.requests.remaining == 0)
            or (
                report.tokens is not None
                and self.tokens is not None
                and report.tokens.remaining < self.tokens.cost
            )
        )
        # A wait to the millisecond of at most a second is what one request takes to refill in
        # a bucket that is (nearly) empty: the longest of those lately is one request's time at
        # the server's rate.  A longer wait is a pause (tokens, a daily cap), not a pace.
        if seconds and precise and seconds <= 1.0:
            self.delays.append((now, seconds))
        while self.delays and self.delays[0][0] < now - WINDOW:
            self.delays.popleft()
        # 1 / that wait is an upper bound of the rate (a bucket not quite empty asks for less):
        # taken at HINT_SHARE of it.
        hint = HINT_SHARE / max(d for _, d in self.delays) if self.delays else None
        changes: list[Change] = []
        if started_at > self.last_cut and not explained:
            # New news: an attempt started under the current pace was refused although nothing
            # the server announced says why (or it announces nothing).
            current = self.rate
            estimates = [x for x in (hint, self._admitted_lately(now)) if x is not None]
            if refused_start is not None and refused_start > self.last_cut and current is not None:
                # A retry refused twice at this pace, after waiting what the server asked: the
                # others take what refills, so the pace is over (by a quarter, say).
                estimates.append(current * 0.75)
            if self.ceiling is None:
                # The first cut: the pace (if the headers set one) and what succeeded lately.
                estimates += [x for x in (current, self._measured(now)) if x is not None]
                if not estimates:  # nothing known at all: one request per the wait asked for
                    estimates = [1.0 / seconds if seconds else 1.0]
            ceiling = max(MIN_RATE, CUT * min(estimates)) if estimates else None
            if ceiling is not None and current is not None and self.ceiling is not None:
                ceiling = max(ceiling, current * FLOOR)  # one 429 halves the pace at most
            if ceiling is not None and (current is None or ceiling < current * STEP):
                changes.append(self._cut(now, ceiling))
        if seconds:
            self._hold(now, seconds)
        return changes

    def _admitted_lately(self, now: float) -> float | None:
        """What the server lets through, read from the last answers (at most :data:`SAMPLES`)
        to attempts started since the last cut, when more than :data:`OVER` of them were
        refused: the pace less its refused share, and, with enough answers, the answers let
        through a second.  None when too few answered yet, or a stray 429 under the limit (it
        says nothing)."""
        answered = len(self.recent)
        refused = sum(1 for _, limited in self.recent if limited)
        current = self.rate
        if self.ceiling is None or current is None or answered < FEW or refused <= OVER * answered:
            return None
        share = refused / answered
        if answered < SAMPLES // 2:
            # Too few for a fine share: only three or more refused, half or more of them, says
            # anything (the pace is well over).
            return current * max(0.5, 1.0 - share) if refused >= FEW and share >= 0.5 else None
        estimate = current * (1.0 - share)
        span = now - self.recent[0][0]
        if answered >= SAMPLES and span > 0:
            estimate = min(estimate, (answered - refused) / span)
        return estimate

    def _cut(self, now: float, ceiling: float) -> Change:
        """Slow down at once to ``ceiling``, no burst: one start a slot apart."""
        self.peak = self.rate
        self.recent.clear()
        self.ceiling = ceiling
        self.last_cut = self.last_growth = now
        rate = self._paced_rate(ceiling)
        if self.requests is None:
            self.requests = _Bucket(rate, 1.0, 1.0, now)
        else:
            # The count keeps what it owes to attempts already given a start.
            self.requests.refill(now)
            self.requests.rate = rate
            self.requests.capacity = (
                1.0 if self.announced is None else min(self.requests.capacity, max(1.0, rate))
            )
            self.requests.level = min(self.requests.level, self.requests.capacity)
        return Change("slowed", "requests", self.announced, rate)

    def _hold(self, now: float, seconds: float) -> None:
        """No start before ``now + seconds``; then one slot apart at the rate (what would refill
        during the pause is not kept, so its end is no burst)."""
        self.held_until = max(self.held_until, now + seconds)
        bucket = self.requests
        if bucket is None:
            return
        bucket.refill(now)
        bucket.level = min(bucket.level, 1.0 - (self.held_until - now) * bucket.rate)

    def _grow(self, now: float) -> None:
        """Speed up slowly after a cut, while the pace is what holds the work back."""
        if self.ceiling is None or self.requests is None:
            return
        elapsed = min(1.0, now - self.last_growth)
        self.last_growth = now
        if now - self.last_wait > 1.0 or elapsed <= 0:
            return  # nobody waited for the pace lately: a faster pace would not be tried
        # 2 % a second, and no more than 0.3 % an answer: at a slow pace a second holds few
        # answers, and growing by the second would meet the limit again every few requests.
        # Five times that while still under 90 % of the pace the last cut came down from: a cut
        # that went too deep (few answers to judge by) comes back soon.
        fast = 5.0 if self.peak is not None and self.ceiling < CUT * self.peak else 1.0
        self.ceiling *= 1.0 + fast * min(GROWTH * elapsed, GROWTH_PER_ANSWER)
        if self.announced is not None and self.ceiling >= self.announced.rate * SAFETY:
            self.ceiling = None  # back to the announced budget
        self.requests.refill(now)
        self.requests.rate = self._paced_rate(self.ceiling)

    def _paced_rate(self, rate: float | None) -> float:
        """The pace: the lower of the announced rate and what 429s taught."""
        candidates = [x for x in (rate, self.ceiling) if x is not None]
        if self.announced is not None:
            candidates.append(self.announced.rate * SAFETY)
        return max(MIN_RATE, min(candidates)) if candidates else MIN_RATE
