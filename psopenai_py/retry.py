"""The retry decision and the delay before a retry: pure functions (PSOpenAI's rules).

Decision, the first rule that applies wins:

1. retries already made >= MaxRetryCount -> stop;
2. ``x-should-retry: true`` -> retry, whatever the status;
3. ``x-should-retry: false`` -> stop;
4. 429 whose error message does not mention ``quota`` -> retry;
5. 429 mentioning quota -> stop;
6. 500..599 -> retry;
7. anything else (other statuses, transport failures, timeouts) -> stop.

Delay: the server's ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date), when it is
in (0, 60000] ms; otherwise ``min(2**n * 1000 * j, 129000)`` ms, ``j`` uniform in [0.8, 1.2),
rounded half to even.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Mapping

__all__ = [
    "should_retry",
    "retry_delay_ms",
    "server_delay_ms",
    "backoff_ms",
    "MAX_SERVER_DELAY_MS",
    "MAX_BACKOFF_MS",
]

MAX_SERVER_DELAY_MS = 60_000
MAX_BACKOFF_MS = 129_000
BASE_DELAY_MS = 1_000
JITTER_LOW = 0.8
JITTER_SPAN = 0.4


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Header lookup that works on any mapping (requests' headers are already case-insensitive)."""
    value = headers.get(name)
    if value is None:
        for key, item in headers.items():
            if key.lower() == name:
                return item
    return value


def should_retry(
    *,
    retries_made: int,
    max_retry_count: int,
    status_code: int | None,
    headers: Mapping[str, str],
    error_message: str,
) -> bool:
    """Whether a failed attempt is retried. ``status_code`` None means a transport failure."""
    if retries_made >= max_retry_count:
        return False
    flag = _header(headers, "x-should-retry")
    # PowerShell's -eq compares strings case-insensitively.
    if flag is not None and flag.lower() == "true":
        return True
    if flag is not None and flag.lower() == "false":
        return False
    if status_code == 429:
        return "quota" not in error_message.lower()
    return status_code is not None and 500 <= status_code <= 599


def server_delay_ms(headers: Mapping[str, str], now: float) -> int | None:
    """The delay the server asked for, in ms, or None when absent, unreadable or out of (0, 60000]."""
    delay: float | None = None
    raw_ms = _header(headers, "retry-after-ms")
    if raw_ms is not None:
        try:
            delay = float(raw_ms)
        except ValueError:
            delay = None
    if delay is None:
        raw = _header(headers, "retry-after")
        if raw is not None:
            delay = _retry_after_ms(raw.strip(), now)
    if delay is None or delay != delay:  # NaN never compares in range
        return None
    if 0 < delay <= MAX_SERVER_DELAY_MS:
        return round(delay)
    return None


def _retry_after_ms(value: str, now: float) -> float | None:
    try:
        return int(value) * 1000.0
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return (when.timestamp() - now) * 1000.0


def backoff_ms(retries_made: int, random: Callable[[], float]) -> int:
    """Exponential backoff with multiplicative jitter, capped at 129 s."""
    jitter = JITTER_LOW + JITTER_SPAN * random()
    # Python's round() rounds half to even, as .NET's Math.Round does.
    return round(min(2.0**retries_made * BASE_DELAY_MS * jitter, MAX_BACKOFF_MS))


def retry_delay_ms(
    retries_made: int,
    headers: Mapping[str, str],
    *,
    now: float,
    random: Callable[[], float],
) -> int:
    """Milliseconds to wait before retry number ``retries_made`` (0-based)."""
    server = server_delay_ms(headers, now)
    return server if server is not None else backoff_ms(retries_made, random)
