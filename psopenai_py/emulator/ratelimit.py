"""The emulator's rate-limit mode: a budget of requests (and tokens) per minute per API key, told
in the ``x-ratelimit-*`` headers and enforced with 429 ``rate_limit_exceeded``, as the API does.

Each key has a token bucket per dimension: it refills at the limit per minute (``rpm / 60`` a
second) and holds ``burst_seconds`` of it (60 s: a whole minute, as the headers describe the
budget; less: the shorter enforcement window the API also applies).  Every API request takes one
request from its key's bucket; a request that creates a completion also takes its tokens, counted
as the API's guide says it counts them for the rate limit: the larger of ``max_tokens``
(``max_completion_tokens``) and an estimate from the characters of the messages (four to a
token).  The other stored-completion calls cost no tokens.

A request that finds its bucket short is refused without being served: 429 with the API's error
(``type`` ``requests`` or ``tokens``, ``code`` ``rate_limit_exceeded``, "Rate limit reached for
... Please try again in 10ms. ...") and ``retry-after-ms`` / ``retry-after`` saying when enough
will be there; it takes nothing from the bucket.  Every answer of a limited key carries
``x-ratelimit-limit-requests`` (the limit per minute), ``x-ratelimit-remaining-requests`` (what the
bucket holds now, whole) and ``x-ratelimit-reset-requests`` (how long until it is full again, in
the API's duration format such as ``12ms``, ``1s``, ``6m0s``), and the ``-tokens`` ones when tokens
are limited; ``headers=False`` leaves them out (the 429s still carry ``retry-after-ms``).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from email.message import Message
from typing import Any, NamedTuple

from .protocol import bad_request, error_body, json_object

__all__ = [
    "RateLimit",
    "RateLimiter",
    "Verdict",
    "Bucket",
    "duration_text",
    "token_cost",
    "configure",
    "describe",
]

_MAX_LIMIT = 1_000_000_000
_MAX_BURST_SECONDS = 3600.0
_MAX_KEYS = 4096
"""Buckets kept at most; beyond it full ones are forgotten (a full bucket is a new one)."""

RATE_LIMITS_URL = "https://platform.openai.com/account/rate-limits"


@dataclass(frozen=True)
class RateLimit:
    """The budget the emulator enforces per API key; ``None`` leaves a dimension unlimited.

    ``requests_per_minute`` and ``tokens_per_minute`` are the limits the headers announce;
    ``burst_seconds`` is how much of that rate one key may spend at once (60: a whole minute);
    ``headers`` sends the ``x-ratelimit-*`` headers on every answer of a limited key.
    """

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    burst_seconds: float = 60.0
    headers: bool = True

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "tokens_per_minute"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_LIMIT
            ):
                raise ValueError(f"{name} must be an integer from 1 to {_MAX_LIMIT}, or None; got {value!r}")
        burst = self.burst_seconds
        if (
            isinstance(burst, bool)
            or not isinstance(burst, (int, float))
            or not (0 < burst <= _MAX_BURST_SECONDS and math.isfinite(burst))
        ):
            raise ValueError(f"burst_seconds must be a number above 0 and at most {_MAX_BURST_SECONDS:g}")
        if not isinstance(self.headers, bool):
            raise ValueError("headers must be true or false")

    @property
    def active(self) -> bool:
        """Whether any dimension is limited."""
        return self.requests_per_minute is not None or self.tokens_per_minute is not None


def duration_text(seconds: float) -> str:
    """A duration as the API writes it in ``x-ratelimit-reset-*`` and its 429 messages (the Go
    duration format, to the millisecond): ``0s``, ``12ms``, ``1s``, ``45.19s``, ``6m0s``,
    ``1h2m3.5s``."""
    millis = max(0, math.ceil(seconds * 1000 - 1e-6))
    if millis == 0:
        return "0s"
    if millis < 1000:
        return f"{millis}ms"
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, fraction = divmod(rest, 1000)
    text = f"{whole}.{fraction:03d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text


@dataclass
class Bucket:
    """A token bucket: ``rate`` a second up to ``capacity``, ``level`` as of ``stamp``."""

    rate: float
    capacity: float
    level: float
    stamp: float

    @classmethod
    def full(cls, per_minute: int, burst_seconds: float, now: float) -> Bucket:
        rate = per_minute / 60.0
        # At least one request's worth, so a tiny budget still admits something.
        capacity = max(1.0, rate * burst_seconds)
        return cls(rate, capacity, capacity, now)

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` is in the bucket (0: it is there now)."""
        return max(0.0, (amount - self.level) / self.rate)

    def until_full(self) -> float:
        return max(0.0, (self.capacity - self.level) / self.rate)


class Verdict(NamedTuple):
    """What the limiter says of one request: headers for its answer, and a refusal (status,
    error body, extra headers) when it is not to be served."""

    headers: dict[str, str]
    refusal: tuple[int, dict[str, Any]] | None = None


_ADMIT = Verdict({})


def _per_minute_name(dimension: str) -> str:
    return "requests per min (RPM)" if dimension == "requests" else "tokens per min (TPM)"


def token_cost(method: str, path: str, body: bytes) -> tuple[int, str | None]:
    """The tokens a request takes from the token budget, and its model (when it names one).

    Only creating a completion costs tokens: the larger of its ``max_completion_tokens`` (or
    ``max_tokens``) and a quarter of the characters of its messages' text, rounded up.
    """
    if method != "POST" or path.rstrip("/").split("/")[-2:] != ["chat", "completions"]:
        return 0, None
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return max(1, math.ceil(len(body) / 4)), None
    if not isinstance(request, dict):
        return max(1, math.ceil(len(body) / 4)), None
    characters = 0
    messages = request.get("messages")
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            characters += len(content)
        elif isinstance(content, list):
            for part in content:
                text = part.get("text") if isinstance(part, dict) else None
                characters += len(text) if isinstance(text, str) else 0
    limit = request.get("max_completion_tokens", request.get("max_tokens"))
    asked = limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else 0
    model = request.get("model")
    return max(1, asked, math.ceil(characters / 4)), model if isinstance(model, str) else None


def _key_of(headers: Message) -> str | None:
    """A digest of the request's API key (Bearer or ``api-key``), or None without one."""
    bearer = headers.get("Authorization", "")
    key = bearer[7:] if bearer.lower().startswith("bearer ") else headers.get("api-key")
    if not key:
        return None
    return hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


class RateLimiter:
    """The buckets of every key under one :class:`RateLimit`, and what it refused.

    ``clock`` is injectable so the buckets can be checked exactly.
    """

    def __init__(self, config: RateLimit | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._config = config or RateLimit()
        self._buckets: dict[str, dict[str, Bucket]] = {}
        self.admitted = 0
        self.limited = 0

    @property
    def config(self) -> RateLimit:
        return self._config

    @config.setter
    def config(self, value: RateLimit) -> None:
        """A new budget; every key starts again with a full bucket."""
        with self._lock:
            self._config = value
            self._buckets.clear()

    @property
    def active(self) -> bool:
        return self._config.active

    def reset(self) -> None:
        """Forget the buckets (all full again) and the counters; the budget stays."""
        with self._lock:
            self._buckets.clear()
            self.admitted = 0
            self.limited = 0

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"admitted": self.admitted, "limited": self.limited}

    def check(self, headers: Message, method: str, path: str, body: bytes) -> Verdict:
        """Take what this request costs from its key's buckets, or refuse it."""
        config = self._config
        if not config.active:
            return _ADMIT
        key = _key_of(headers)
        if key is None:
            return _ADMIT  # no key: the API refuses it with a 401 before any rate limit
        limits = {"requests": config.requests_per_minute, "tokens": config.tokens_per_minute}
        tokens, model = token_cost(method, path, body) if config.tokens_per_minute else (0, None)
        cost = {"requests": 1, "tokens": tokens}
        with self._lock:
            now = self._clock()
            buckets = self._buckets_of(key, config, now)
            for bucket in buckets.values():
                bucket.refill(now)
            short = {
                name: bucket.wait_for(cost[name])
                for name, bucket in buckets.items()
                # Within a rounding error counts as there: waiting the time a refusal names must
                # be enough, however the seconds add up in floating point.
                if cost[name] and bucket.level < cost[name] - 1e-9
            }
            if short:
                self.limited += 1
            else:
                self.admitted += 1
                for name, bucket in buckets.items():
                    bucket.level -= cost[name]
            state = {
                name: (int(limits[name] or 0), math.floor(b.level + 1e-9), b.until_full(), b.capacity)
                for name, b in buckets.items()
            }
        answer_headers: dict[str, str] = {}
        if config.headers:
            for name, (limit, remaining, reset, _capacity) in state.items():
                answer_headers[f"x-ratelimit-limit-{name}"] = str(limit)
                answer_headers[f"x-ratelimit-remaining-{name}"] = str(max(0, remaining))
                answer_headers[f"x-ratelimit-reset-{name}"] = duration_text(reset)
        if not short:
            return Verdict(answer_headers)
        # The dimension that keeps the request waiting longest is the one the error names.
        name = max(short, key=lambda n: short[n])
        limit, remaining, _reset, capacity = state[name]
        subject = f"{model} in organization org-emulator" if model else "organization org-emulator"
        used = limit - max(0, remaining)
        if cost[name] > capacity:
            # It can never fit: the API says the request is too large rather than "try again".
            message = (
                f"Request too large for {subject} on {_per_minute_name(name)}: Limit {limit}, "
                f"Requested {cost[name]}. The input or output tokens must be reduced in order to "
                f"run successfully. Visit {RATE_LIMITS_URL} to learn more."
            )
            return Verdict(answer_headers, (429, error_body(message, name, code="rate_limit_exceeded")))
        wait = short[name]
        message = (
            f"Rate limit reached for {subject} on {_per_minute_name(name)}: Limit {limit}, Used "
            f"{used}, Requested {cost[name]}. Please try again in {duration_text(wait)}. Visit "
            f"{RATE_LIMITS_URL} to learn more."
        )
        millis = max(1, math.ceil(wait * 1000))
        answer_headers["retry-after-ms"] = str(millis)
        answer_headers["retry-after"] = str(math.ceil(millis / 1000))
        return Verdict(answer_headers, (429, error_body(message, name, code="rate_limit_exceeded")))

    def _buckets_of(self, key: str, config: RateLimit, now: float) -> dict[str, Bucket]:
        """The key's buckets, new and full on its first request (the lock is held)."""
        buckets = self._buckets.get(key)
        if buckets is not None:
            return buckets
        if len(self._buckets) >= _MAX_KEYS:
            for stale, old in list(self._buckets.items()):
                for bucket in old.values():
                    bucket.refill(now)
                if all(b.level >= b.capacity for b in old.values()):
                    del self._buckets[stale]
            while len(self._buckets) >= _MAX_KEYS:  # all busy: the oldest key starts over
                del self._buckets[next(iter(self._buckets))]
        buckets = {}
        if config.requests_per_minute:
            buckets["requests"] = Bucket.full(config.requests_per_minute, config.burst_seconds, now)
        if config.tokens_per_minute:
            buckets["tokens"] = Bucket.full(config.tokens_per_minute, config.burst_seconds, now)
        self._buckets[key] = buckets
        return buckets


def describe(limiter: RateLimiter) -> dict[str, Any]:
    """The budget and the counters, as the control API shows them."""
    return {**asdict(limiter.config), **limiter.counts()}


def configure(limiter: RateLimiter, body: bytes) -> dict[str, Any]:
    """``POST /__emulator/ratelimit``: a new budget from a JSON object with the fields of
    :class:`RateLimit` (absent ones take their defaults; ``{}`` turns the limits off)."""
    options = json_object(body, "{}")
    unknown = sorted(set(options) - set(RateLimit.__dataclass_fields__))
    if unknown:
        raise bad_request(
            f"Unknown rate-limit field: '{unknown[0][:40]}'.", unknown[0][:40], "unknown_parameter"
        )
    try:
        limiter.config = RateLimit(**options)
    except (TypeError, ValueError) as exc:
        raise bad_request(f"Invalid rate limit: {exc}.", code="invalid_value") from None
    return describe(limiter)
