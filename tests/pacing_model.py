"""A bulk run against a rate-limited server, played out on a simulated clock.

``workers`` threads each take the next item, wait for their turn, send (half the latency to the
server, half back), and on a 429 wait the server's ``retry-after-ms`` and try again, at most
``max_retries`` times, as the transport's retry loop does.  The server is the emulator's own rate
limiter; the client is :class:`~psopenai_py.transport.budget.Budget` behind the pacer's line
(first come first served, only the first waits for the budget).  Nothing sleeps, so a run of
thousands of requests takes milliseconds and the same inputs always give the same figures.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from dataclasses import dataclass
from email.message import Message

from psopenai_py.emulator.ratelimit import RateLimit, RateLimiter
from psopenai_py.transport.budget import Budget, read_report, server_delay


@dataclass
class Outcome:
    """What a simulated run came to."""

    seconds: float
    answers: int
    limited: int
    failed: int
    ideal: float

    @property
    def share(self) -> float:
        return self.limited / self.answers if self.answers else 0.0


@dataclass
class _Attempt:
    item: int
    retries: int
    started_at: float = 0.0
    headers: dict[str, str] | None = None
    refused: float | None = None  # when its previous attempt, refused, had started


def simulate(
    *,
    count: int,
    per_second: float,
    burst_seconds: float,
    workers: int,
    latency: float,
    headers: bool,
    max_retries: int = 5,
) -> Outcome:
    """Play ``count`` updates through ``workers`` against a server allowing ``per_second`` with
    ``burst_seconds`` of burst; return the time, the answers, the 429s and the failed items."""
    now = [0.0]
    config = RateLimit(
        requests_per_minute=max(1, round(per_second * 60)), burst_seconds=burst_seconds, headers=headers
    )
    server = RateLimiter(config, clock=lambda: now[0])
    key = Message()
    key["Authorization"] = "Bearer sk-simulated-key-0000000000"
    budget = Budget()
    events: list[tuple[float, int, str, _Attempt]] = []
    order = itertools.count()
    items = iter(range(count))
    answers = limited = failed = 0

    def push(at: float, kind: str, attempt: _Attempt) -> None:
        heapq.heappush(events, (at, next(order), kind, attempt))

    line: deque[_Attempt] = deque()
    timer = [False]  # whether the first in line has a wake-up pending

    def begin(attempt: _Attempt) -> None:
        budget.start(now[0])
        attempt.started_at = now[0]
        push(now[0] + latency / 2, "serve", attempt)

    def look() -> None:
        """The first in line looks at the budget: starts, or sleeps until it may."""
        while line and not timer[0]:
            wait = budget.wait(now[0])
            if wait > 0:
                timer[0] = True
                push(now[0] + wait, "wake", line[0])
                return
            begin(line.popleft())

    def ask(attempt: _Attempt) -> None:
        if attempt.retries:
            # Ahead of first attempts, behind other retries, as in the pacer's line.
            index = 0
            while index < len(line) and line[index].retries:
                index += 1
            line.insert(index, attempt)
        else:
            line.append(attempt)
        look()

    def take_next() -> None:
        item = next(items, None)
        if item is not None:
            ask(_Attempt(item, 0))

    for _ in range(workers):
        take_next()
    while events:
        at, _, kind, attempt = heapq.heappop(events)
        now[0] = at
        if kind == "retry":
            ask(attempt)
        elif kind == "wake":
            timer[0] = False
            look()
        elif kind == "serve":
            verdict = server.check(key, "POST", "/v1/chat/completions/x", b"{}")
            attempt.headers = dict(verdict.headers)
            push(at + latency / 2, "limited" if verdict.refusal else "answer", attempt)
        else:
            answered = attempt.headers or {}
            status = 429 if kind == "limited" else 200
            answers += 1
            delay = server_delay(answered) if status == 429 else (None, False)
            budget.learn(at, status, read_report(answered), delay, attempt.started_at, attempt.refused)
            attempt.refused = attempt.started_at if status == 429 else None
            if status == 429:
                limited += 1
                if attempt.retries < max_retries:
                    attempt.retries += 1
                    push(at + (delay[0] or 1.0), "retry", attempt)
                    continue
                failed += 1
            take_next()
            # An answer may change the budget: the first in line looks again at its next wake-up.
    capacity = max(1.0, per_second * burst_seconds)
    ideal = max(max(0.0, count - capacity) / per_second, math.ceil(count / workers) * latency)
    return Outcome(now[0], answers, limited, failed, ideal)
