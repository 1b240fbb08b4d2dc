"""The retry decision and the delay before a retry: pure functions (PSOpenAI's rules).

Decision, the first rule that applies wins:

1. retries already made >= MaxRetryCount -> stop;
2. ``x-should-retry: true`` -> retry, whatever the status;
3. ``x-should-retry: false`` -> stop;
4. 429 whose error message does not mention ``quota`` -> retry;
5. 429 mentioning quota -> stop;
6. 500..599 -> retry;
7. anything else (other statuses, transport failures, timeouts) -> stop.

Delay (the original's Get-RetryDelay): the server's ``retry-after-ms`` when that header is present
(an unreadable value means backoff), else ``retry-after`` (whole seconds, or an HTTP date), when it
is in (0, 60000] ms; otherwise ``min(2**n * 1000 * j, 129000)`` ms, ``j`` uniform in [0.8, 1.2),
rounded half to even.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import logging
from collections.abc import Callable, Mapping

__all__ = [
    "should_retry",
    "retry_delay_ms",
    "server_delay_ms",
    "backoff_ms",
    "ps_int",
    "MAX_SERVER_DELAY_MS",
    "MAX_BACKOFF_MS",
]

log = logging.getLogger("psopenai_py")

MAX_SERVER_DELAY_MS = 60_000
MAX_BACKOFF_MS = 129_000
BASE_DELAY_MS = 1_000
JITTER_LOW = 0.8
JITTER_SPAN = 0.4
_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1


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
    """Whether a failed attempt is retried. ``status_code`` None means a transport failure.

    Each decision writes the original's (Should-Retry.ps1) debug line.
    """
    if retries_made >= max_retry_count:
        log.debug(
            "Current retry count:%d exceeds max retry count:%d. Should not retry anymore.",
            retries_made,
            max_retry_count,
        )
        return False
    flag = _header(headers, "x-should-retry")
    # PowerShell's -eq compares strings case-insensitively.
    if flag is not None and flag.lower() == "true":
        log.debug('Should retry because a header "x-should-retry" is set to "true".')
        return True
    if flag is not None and flag.lower() == "false":
        log.debug('Should NOT retry because a header "x-should-retry" is set to "false".')
        return False
    if status_code == 429:
        if "quota" not in error_message.lower():
            log.debug('Should retry due to status code "%d"', status_code)
            return True
        log.debug("Should NOT retry because it seems quota limit reached.")
        return False
    if status_code is not None and 500 <= status_code <= 599:
        log.debug('Should retry due to status code "%d"', status_code)
        return True
    return False


def ps_int(text: str) -> int | None:
    """A header value as PowerShell's ``-as [int]`` reads it, or None when it cannot.

    Decimal integers, ``0x`` hexadecimal and decimal fractions or exponents (``1.5``, ``1e3``),
    a fraction rounded half to even as .NET's conversion does (``1.5`` -> 2, ``2.5`` -> 2); an
    empty text is 0; anything outside Int32 is None.
    """
    value = text.strip()
    if not value:
        return 0
    number: int
    try:
        number = int(value, 10)
    except ValueError:
        try:
            sign = -1 if value[:1] == "-" else 1
            digits = value.lstrip("+-")
            if digits[:2].lower() != "0x":
                raise ValueError(value)
            number = sign * int(digits[2:], 16)
        except ValueError:
            try:
                as_float = float(value)
            except ValueError:
                return None
            if as_float != as_float or as_float in (float("inf"), float("-inf")):
                return None
            number = round(as_float)  # half to even, as [int] of a double
    if not _INT32_MIN <= number <= _INT32_MAX:
        return None
    return number


def _http_date_ms(value: str, now: float) -> int | None:
    """An HTTP date (or an ISO 8601 time) as milliseconds from ``now``, rounded half to even."""
    when: _dt.datetime
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            when = _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.astimezone()  # a time without a zone is local, as .NET reads it
    delta = round((when.timestamp() - now) * 1000.0)
    return delta if _INT32_MIN <= delta <= _INT32_MAX else None


def server_delay_ms(headers: Mapping[str, str], now: float) -> int | None:
    """The delay the server asked for, in ms, exactly as the original's Get-RetryDelay reads it;
    None when it asks for nothing usable (the caller then backs off).

    - ``retry-after-ms`` present: its value as an integer; ``retry-after`` is then not
      consulted, even when this value is unreadable (which means backoff);
    - otherwise ``retry-after``: a non-zero integer is seconds (``1.5`` reads as 2, half to
      even), else an HTTP date, as milliseconds from now;
    - the value is used only when it is in (0, 60000].
    """
    delay: int | None = None
    raw_ms = _header(headers, "retry-after-ms")
    if raw_ms is not None:
        delay = ps_int(raw_ms)
    else:
        raw = _header(headers, "retry-after")
        if raw is not None:
            seconds = ps_int(raw)
            if seconds:  # 0 (or unreadable) falls through to the date, as in the original
                delay = seconds * 1000
                if not _INT32_MIN <= delay <= _INT32_MAX:
                    delay = None  # the original's [int] assignment fails: backoff
            else:
                delay = _http_date_ms(raw, now)
    if delay is not None and 0 < delay <= MAX_SERVER_DELAY_MS:
        return delay
    return None


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
