"""When a failed request is retried and how long to wait first: two policies, as pure functions.

A :class:`RetryPolicy` decides for one failed attempt (a :class:`Failure`: an error status with its
headers, or no answer at all) whether it is retried and after how long.  There are two:

- :data:`PSOPENAI`, PSOpenAI's rules, for the PowerShell commands and the Python functions;
- :data:`SDK`, the official SDKs' rules, for the SDK-shaped client and the openai-CLI dialect (the
  official Python SDK and the Go SDK under the official CLI retry alike).

The rules of each follow; ``Docs/about_Migrating.md`` sets out where they differ, for users.

PSOpenAI's decision, the first rule that applies wins:

1. retries already made >= MaxRetryCount -> stop;
2. ``x-should-retry: true`` -> retry, whatever the status;
3. ``x-should-retry: false`` -> stop;
4. 429 whose error message does not mention ``quota`` -> retry;
5. 429 mentioning quota -> stop;
6. 500..599 -> retry;
7. anything else (other statuses, transport failures, timeouts) -> stop.

PSOpenAI's delay (the original's Get-RetryDelay): the server's ``retry-after-ms`` when that header
is present (an unreadable value means backoff), else ``retry-after`` (whole seconds, or an HTTP
date), when it is in (0, 60000] ms; otherwise ``min(2**n * 1000 * j, 129000)`` ms, ``j`` uniform in
[0.8, 1.2), rounded half to even.

The SDK's decision: retries already made >= max_retries -> stop; no answer -> retry; a server delay
over 120 s -> stop; ``x-should-retry`` exactly ``true`` -> retry, exactly ``false`` -> stop; 408,
409, 429, >= 500 -> retry; anything else -> stop.  Its delay: the server's, when it is finite and
in (0, 120] s; otherwise ``min(0.5 * 2**n, 8) * (1 - 0.25 * r)`` seconds, ``r`` uniform in [0, 1).
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import logging
import math
from collections.abc import Callable, Mapping

from .records import Record

__all__ = [
    "Failure",
    "RetryPolicy",
    "PSOPENAI",
    "SDK",
    "sdk_should_retry",
    "sdk_server_delay_s",
    "sdk_backoff_s",
    "sdk_retry_delay_s",
    "SDK_MAX_SERVER_DELAY_S",
    "SDK_INITIAL_DELAY_S",
    "SDK_MAX_BACKOFF_S",
    "header_value",
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


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (lower case) in any mapping: requests' headers are
    case-insensitive already, a plain dict is searched."""
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
    flag = header_value(headers, "x-should-retry")
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
    raw_ms = header_value(headers, "retry-after-ms")
    if raw_ms is not None:
        delay = ps_int(raw_ms)
    else:
        raw = header_value(headers, "retry-after")
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


# -- the SDK's rules ------------------------------------------------------------------------------

SDK_MAX_SERVER_DELAY_S = 120.0
"""The longest server-directed delay the SDK waits; a longer one means no retry at all."""
SDK_INITIAL_DELAY_S = 0.5
SDK_MAX_BACKOFF_S = 8.0
_SDK_MAX_EXPONENT = 1000  # the SDK caps the retry count in 2**n, so that the power cannot overflow
_INFINITY_WORDS = frozenset({"inf", "+inf", "infinity", "+infinity"})


def sdk_server_delay_s(headers: Mapping[str, str], now: float) -> float | None:
    """The delay the server asked for, in seconds, as the SDK reads it; None when it asks for
    nothing readable.

    ``retry-after-ms`` (milliseconds), else ``retry-after`` (seconds), each a decimal number as
    Python's ``float`` reads it (``1.5``, ``1e3``, `` 2 ``); the first header that reads as a
    number decides.  A number too large to hold (``1e999``) is an excessive delay (over the
    bound, so no retry), where a literal ``inf`` is unreadable.  Otherwise ``retry-after`` as an
    HTTP date, less ``now``.  The value is not bounded here (see :func:`sdk_retry_delay_s`).
    """
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = header_value(headers, name)
        if value is None:
            continue
        try:
            delay = float(value)
        except ValueError:
            continue
        if delay == math.inf and value.strip().lower() not in _INFINITY_WORDS:
            return SDK_MAX_SERVER_DELAY_S + 1
        return delay / divisor
    value = header_value(headers, "retry-after")
    if value is None:
        return None
    try:
        parts = email.utils.parsedate_tz(value)
        if parts is None:
            return None
        return float(email.utils.mktime_tz(parts) - now)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def sdk_should_retry(
    *, retries_made: int, max_retries: int, status_code: int | None, headers: Mapping[str, str], now: float
) -> bool:
    """Whether the SDK retries a failed attempt; ``status_code`` None means no answer at all.
    ``now`` is the clock a ``retry-after`` date is read against."""
    if retries_made >= max_retries:
        return False
    if status_code is None:
        log.debug("Retrying: no answer (the connection failed or timed out).")
        return True
    server = sdk_server_delay_s(headers, now)
    if server is not None and math.isfinite(server) and server > SDK_MAX_SERVER_DELAY_S:
        log.debug(
            "Not retrying: Retry-After of %s seconds exceeds %s seconds.", server, SDK_MAX_SERVER_DELAY_S
        )
        return False
    flag = header_value(headers, "x-should-retry")
    if flag == "true":  # exact strings, as the SDK compares them
        log.debug('Retrying: the header "x-should-retry" is "true".')
        return True
    if flag == "false":
        log.debug('Not retrying: the header "x-should-retry" is "false".')
        return False
    if status_code in (408, 409, 429) or status_code >= 500:
        log.debug("Retrying due to status code %d.", status_code)
        return True
    return False


def sdk_backoff_s(retries_made: int, random: Callable[[], float]) -> float:
    """``min(0.5 * 2**n, 8)`` seconds, less a random part of up to 25 %."""
    base = min(SDK_INITIAL_DELAY_S * 2.0 ** min(retries_made, _SDK_MAX_EXPONENT), SDK_MAX_BACKOFF_S)
    return max(base * (1.0 - 0.25 * random()), 0.0)


def sdk_retry_delay_s(
    retries_made: int, headers: Mapping[str, str], *, now: float, random: Callable[[], float]
) -> float:
    """Seconds to wait before retry number ``retries_made`` (0-based): the server's delay when it
    is finite and in (0, 120] s, else the backoff."""
    server = sdk_server_delay_s(headers, now)
    if server is not None and math.isfinite(server) and 0 < server <= SDK_MAX_SERVER_DELAY_S:
        return server
    return sdk_backoff_s(retries_made, random)


# -- the two policies -----------------------------------------------------------------------------


class Failure(Record):
    """What a failed attempt leaves to decide on."""

    status_code: int | None
    """The error status; None when no answer came (the connection failed, or the attempt
    timed out)."""
    headers: Mapping[str, str]
    """The answer's headers (empty without an answer)."""
    message: str
    """The error's message (PSOpenAI tells a quota 429 from a rate limit by it)."""

    def __repr__(self) -> str:  # the status alone: a hostile server's headers or message may echo a key
        return f"Failure(status_code={self.status_code!r})"


class RetryPolicy(Record):
    """One set of retry rules: whether a failed attempt is retried (``decide``) and after how
    many milliseconds (``wait_ms``), and the log level of the notice that says so."""

    name: str
    decide: Callable[[Failure, int, int, float], bool]
    """``decide(failure, retries_made, max_retries, now)``."""
    wait_ms: Callable[[Failure, int, float, Callable[[], float]], float]
    """``wait_ms(failure, retries_made, now, random)``, asked only when ``decide`` said yes."""
    notice_level: int
    """The level of the two log lines announcing a retry (the error, then the wait)."""

    def __repr__(self) -> str:
        return f"RetryPolicy({self.name!r})"

    def delay_ms(
        self,
        failure: Failure,
        *,
        retries_made: int,
        max_retries: int,
        now: float,
        random: Callable[[], float],
    ) -> float | None:
        """Milliseconds to wait before retrying, or None: not retried."""
        if not self.decide(failure, retries_made, max_retries, now):
            return None
        return self.wait_ms(failure, retries_made, now, random)


PSOPENAI = RetryPolicy(
    name="PSOpenAI",
    decide=lambda f, made, most, now: should_retry(
        retries_made=made,
        max_retry_count=most,
        status_code=f.status_code,
        headers=f.headers,
        error_message=f.message,
    ),
    wait_ms=lambda f, made, now, random: retry_delay_ms(made, f.headers, now=now, random=random),
    notice_level=logging.WARNING,
)
"""PSOpenAI's rules (module docstring): the PowerShell commands and the Python functions."""

SDK = RetryPolicy(
    name="SDK",
    decide=lambda f, made, most, now: sdk_should_retry(
        retries_made=made, max_retries=most, status_code=f.status_code, headers=f.headers, now=now
    ),
    wait_ms=lambda f, made, now, random: 1000.0 * sdk_retry_delay_s(made, f.headers, now=now, random=random),
    notice_level=logging.INFO,
)
"""The official SDKs' rules (module docstring): the SDK-shaped client and the openai-CLI dialect."""
