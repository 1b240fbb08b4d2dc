"""What is wrong with a value before it is sent: one rule per fact, in words that name no
front-end and no parameter.

Each check takes a value of the right Python type (the front-ends check types in their own
terms), returns it normalised (trimmed) or raises :class:`Invalid`, whose sentence starts with
the ``subject`` the caller gives ("The API key given by --api-key", "`base_url` ...") and says what
is wrong and what the limit is.  The front-ends word the failure their way around that sentence:
:mod:`psopenai_py.validation` as PowerShell's binding errors ("Cannot validate argument on
parameter 'ApiBase'"), the SDK-shaped client with its keywords, the openai CLI's dialect with its
flags.  A sentence never quotes a key or a header value (either may be a credential).

Where the doors differ on purpose, it is written here, beside the rule:

- The paging limit has no rule here.  PowerShell's ``-Limit`` keeps PSOpenAI's
  ``ValidateRange(1, 100)`` (its parameter table); the SDK and the openai CLI send ``limit`` as
  given and leave the bound to the server, as the official SDK and CLI do.
- A timeout of 0: PowerShell's ``-TimeoutSec 0`` means no time limit (its table's range starts at
  0); the SDK's and the CLI's timeout is seconds per attempt, checked by :func:`timeout_seconds`,
  and 0 seconds could never succeed.
- Metadata ``None``: PSOpenAI's ``-MetaData`` is a mandatory dictionary (``@{}`` clears it); the
  API's update takes null to clear, and the SDK and the CLI send it.  :func:`metadata` checks a
  mapping; each door decides about ``None``.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .errors import ParameterBindingError
from .scrub import KEY_SHAPED, scrub

__all__ = [
    "Invalid",
    "kind_of",
    "checked",
    "MAX_RETRIES",
    "MAX_TIMEOUT_SECONDS",
    "METADATA_MAX_PAIRS",
    "METADATA_MAX_KEY_LENGTH",
    "METADATA_MAX_VALUE_LENGTH",
    "COMPLETION_ID_MAX_LENGTH",
    "FRAMING_HEADERS",
    "KEY_RULE",
    "HEADER_VALUE_RULE",
    "HEADER_RULE",
    "trim",
    "api_key",
    "header_name",
    "header_value",
    "base_url",
    "is_absolute_http_url",
    "shown_url",
    "printable",
    "completion_id",
    "metadata",
    "timeout_seconds",
    "retries",
    "utf8_text",
    "number_text",
]


class Invalid(ValueError):
    """A value that cannot be sent; ``problem`` is one sentence saying why (and the limit)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


_T = TypeVar("_T")


def checked(name: str, check: Callable[..., _T], *args: Any) -> _T:
    """``check(*args)``; its problem raised as a
    :class:`~psopenai_py.errors.ParameterBindingError` of ``name`` (the caller's word for the
    value: a keyword, an environment variable), the sentence as the check wrote it."""
    try:
        return check(*args)
    except Invalid as exc:
        raise ParameterBindingError(name, f"{exc.problem} Nothing was sent.") from None


MAX_RETRIES = 100
"""The most retries of one request (MaxRetryCount's range is 0 to this)."""
MAX_TIMEOUT_SECONDS = 2147483647
"""The longest wait for one attempt: PowerShell's Int32 TimeoutSec at its largest.  A longer one
(10**300, infinity) cannot be a deadline: the clock and the socket would overflow on it."""

# The API reference's limits on metadata (not in the OpenAPI schema, enforced by the service).
METADATA_MAX_PAIRS = 16
METADATA_MAX_KEY_LENGTH = 64
METADATA_MAX_VALUE_LENGTH = 512
COMPLETION_ID_MAX_LENGTH = 1024
"""The longest id sent: far above any real id (about 40 characters), far below what a URL can
carry."""


def number_text(value: float) -> str:
    """A limit or an argument as text: integers in full (2147483647, not 2.14748e+09), and a
    huge integer by its size (str() of one past 4300 digits raises)."""
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 128 else f"(an integer of {value.bit_length()} bits)"
    if value.is_integer() and abs(value) < 1e18:
        return str(int(value))
    return f"{value:g}"


# -- text that goes into a header ----------------------------------------------------------------

# The rules below in the words of the help pages (parameter descriptions quote them).
KEY_RULE = (
    "Surrounding white space and byte-order marks are trimmed; anything but printable ASCII left "
    "in it (a line break, a control character, an accented letter) is refused, the key shown masked."
)
HEADER_VALUE_RULE = (
    "Surrounding white space is trimmed; a line break, a control character or a character outside "
    "Latin-1 left in it is refused."
)


def trim(text: str) -> str:
    """``text`` without surrounding white space (any Unicode space: a no-break space pasted from
    a web page, a file's line ending) or byte-order mark (a file saved by a Windows editor)."""
    # Walked by hand rather than with a regular expression: a trailing-space pattern takes time
    # quadratic in a long run of inner spaces.
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or text[start] == "\ufeff"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] == "\ufeff"):
        end -= 1
    return text[start:end]


def api_key(text: str, subject: str = "The API key") -> str:
    """The key trimmed (:func:`trim`; empty when nothing is left).

    Anything but printable ASCII left inside is refused, its position named and the key never
    quoted: every real key is printable ASCII, and the HTTP clients the other dialects run on
    (.NET's HttpClient under PSOpenAI, httpx under the official SDK) refuse a non-ASCII header
    value, so a key with an accent or a line break inside is a paste accident that would only
    fail later, with the key in some library's message.
    """
    key = trim(text)
    for position, char in enumerate(key, start=1):
        if " " <= char <= "~":
            continue
        if char in "\r\n":
            what = "a line break"
        elif unicodedata.category(char) == "Cc":
            what = "a control character"
        else:
            what = "a non-ASCII character"
        raise Invalid(
            f"{subject} has {what} at position {position}; an API key is printable ASCII "
            "(surrounding white space is trimmed)."
        )
    return key


_TOKEN_CHARACTERS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
"""What an HTTP token is made of (RFC 9110 tchar)."""

FRAMING_HEADERS = ("Content-Length", "Transfer-Encoding", "Host", "TE", "Trailer", "Upgrade")
"""Headers the HTTP client sets from the request itself.  A given Content-Length or
Transfer-Encoding would make the server wait for bytes that never come, or read the next request
as this one's body; Host would send the key to whatever the server maps another name to; TE,
Trailer and Upgrade ask for codings or protocols the client cannot speak.  Harmless ones, such as
``Connection: close``, go out as given."""


_FRAMING = frozenset(name.lower() for name in FRAMING_HEADERS)

HEADER_RULE = (
    "Values are trimmed of surrounding white space; a name that is not an HTTP token, a header that "
    f"frames the request ({', '.join(FRAMING_HEADERS)}), or a value with a line break, a control "
    "character or a character outside Latin-1 is refused (the value shown masked) and nothing is sent."
)


def header_name(name: object, subject: str | None = None) -> str:
    """An HTTP header name: an RFC 9110 token, and not one of :data:`FRAMING_HEADERS`."""
    shown = repr(name)[:80]
    if not isinstance(name, str) or not name or not _TOKEN_CHARACTERS.issuperset(name):
        raise Invalid(
            f"{subject or f'The header name {shown}'} is not an HTTP token: a header name may "
            "hold only letters, digits and !#$%&'*+-.^_`|~."
        )
    if name.lower() in _FRAMING:
        raise Invalid(
            f"{subject or f'The header {shown}'} frames the request: the HTTP client sets it from "
            "the URL and the body, and it cannot be replaced."
        )
    return name


def header_value(text: str, subject: str = "The header value") -> str:
    """A header value (or a key-like setting sent as one) trimmed (:func:`trim`).

    A line break would split the header in two (a request smuggled after it); other control
    characters (tab aside) are not allowed in a field value (RFC 9110) and show a broken input;
    a character outside Latin-1 has no byte to go out as.  Latin-1 letters go out as their byte.
    """
    value = trim(text)
    for position, char in enumerate(value, start=1):
        if char in "\r\n":
            what = "a line break"
        elif char != "\t" and unicodedata.category(char) == "Cc":
            what = f"a control character (U+{ord(char):04X})"
        elif ord(char) > 0xFF:
            what = f"a character outside Latin-1 (U+{ord(char):04X})"
        else:
            continue
        raise Invalid(
            f"{subject} has {what} at position {position}; a header value may hold no line break "
            "or control character and only Latin-1 characters (surrounding white space is trimmed)."
        )
    return value


# -- the API's base URL --------------------------------------------------------------------------


def is_absolute_http_url(value: str) -> bool:
    """True for ``http://host...`` and ``https://host...``."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def shown_url(value: str) -> str:
    """A URL as a message may show it: user-info masked, control characters escaped."""
    return printable(scrub(value))


def printable(text: str) -> str:
    """Control characters as escapes, so a message never carries a raw CR, LF or NUL."""
    return "".join(ch if ch.isprintable() or ord(ch) > 0xFF else f"\\x{ord(ch):02x}" for ch in text)


def base_url(text: str, subject: str | None = None) -> str:
    """An absolute http(s) URL with a host, a valid port and no user-info; surrounding white
    space trimmed (a trailing newline would otherwise end up in every request's path).
    ``subject`` defaults to the URL quoted (user-info masked)."""
    base = text.strip()
    subject = subject or f'The URL "{shown_url(base)}"'
    if not is_absolute_http_url(base):
        raise Invalid(
            f"{subject} is not an absolute http or https URL (for example https://api.openai.com/v1)."
        )
    parts = urlsplit(base)
    if "@" in parts.netloc:
        # requests would drop the credentials silently, and they would show in the Path lines.
        raise Invalid(
            f"{subject} carries user-info (user:password@); credentials in the URL are not "
            "supported: the key has a setting of its own, a proxy's credentials go in HTTPS_PROXY."
        )
    bad = next((i for i, ch in enumerate(base) if ch.isspace() or not ch.isprintable()), None)
    if bad is not None:
        # urlsplit drops some of them silently and keeps others in the path: refused instead.
        raise Invalid(
            f"{subject} has a space or control character at position {bad + 1}; encode it (%20) or remove it."
        )
    try:
        port = parts.port  # raises for a port that is not a number, or out of range
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        # Port 0 would silently become 80; a bad one would fail deep inside the HTTP client.
        raise Invalid(f"{subject} has an invalid port; a port is a number from 1 to 65535.")
    host = parts.hostname or ""
    if not host.startswith("[") and ":" not in host:
        try:
            host.encode("idna")  # an empty or over-long label, or a character no host may hold
            valid = not any(ch in host for ch in '\\<>"{}|^`%')
        except UnicodeError:
            valid = False
        if not valid:
            raise Invalid(f'{subject} has an invalid host name "{printable(host)}".')
    return base


# -- ids and metadata ----------------------------------------------------------------------------


def utf8_text(text: str, subject: str) -> str:
    """``text`` as given, if UTF-8 can carry it: a lone surrogate (a command-line byte that was
    not valid in the locale's encoding, or a JSON ``\\ud800`` escape) is refused, named."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        what = (
            f"the byte 0x{code - 0xDC00:02x}"
            if 0xDC80 <= code <= 0xDCFF
            else f"the lone surrogate U+{code:04X}"
        )
        raise Invalid(
            f"{subject} is not valid text: character {exc.start + 1} is {what}, which is not UTF-8 text."
        ) from None
    return text


def completion_id(text: str, subject: str = "The id") -> str:
    """A stored completion's id as given: not blank, at most :data:`COMPLETION_ID_MAX_LENGTH`
    characters, no control character or lone surrogate (no stored id has one: such an id is a
    broken input line, and would only be answered 404)."""
    if not text.strip():
        raise Invalid(f"{subject} is empty or blank; supply a completion id such as chatcmpl-abc123.")
    if len(text) > COMPLETION_ID_MAX_LENGTH:
        raise Invalid(
            f"{subject} has {len(text)} characters; the limit is {COMPLETION_ID_MAX_LENGTH} (stored "
            "completion ids are about 40, chatcmpl-...)."
        )
    bad = _lone_surrogate(text) or next(
        (f"the control character U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cc"), None
    )
    if bad is not None:
        raise Invalid(f"{subject} holds {bad}; no stored completion id does.")
    if KEY_SHAPED.fullmatch(text.strip()):
        # Sent, it would stand in the request's path, where proxies and server logs keep it.
        raise Invalid(
            f"{subject} looks like an API key (sk-...), not a completion id (chatcmpl-...); nothing was sent."
        )
    return text


def _lone_surrogate(text: str) -> str | None:
    for char in text:
        if 0xD800 <= ord(char) <= 0xDFFF:
            return f"the lone surrogate U+{ord(char):04X}"
    return None


def _key_shown(text: str) -> str:
    """A metadata key as a message shows it: quoted, escaped, cut short."""
    return ascii(text[:20]) + ("..." if len(text) > 20 else "")


def kind_of(value: Any) -> str:
    """A value's kind in a user's words ("a number", "null"), as JSON and PowerShell name them
    rather than Python's class names ("a int", "a NoneType")."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: a bool is an int to isinstance
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, (list, tuple)):
        return "a list"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def metadata(value: Mapping[Any, Any]) -> dict[str, str]:
    """The API's metadata limits: at most 16 pairs, string keys of up to 64 characters and
    string values of up to 512, none holding a lone surrogate.  Each sentence names the pair."""
    if len(value) > METADATA_MAX_PAIRS:
        raise Invalid(f"It has {len(value)} pairs; the limit is {METADATA_MAX_PAIRS}.")
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise Invalid(f"The key {key!r} is {kind_of(key)}; keys must be strings.")
        if len(key) > METADATA_MAX_KEY_LENGTH:
            raise Invalid(
                f"The key {key[:20]!r}... has {len(key)} characters; the limit is {METADATA_MAX_KEY_LENGTH}."
            )
        if not isinstance(item, str):
            raise Invalid(f"The value of key {key!r} is {kind_of(item)}; values must be strings.")
        for text, what in (
            (key, f"The key {_key_shown(key)}"),
            (item, f"The value of key {_key_shown(key)}"),
        ):
            bad = _lone_surrogate(text)
            if bad is not None:
                raise Invalid(f"{what} holds {bad}, which no request can carry.")
        if len(item) > METADATA_MAX_VALUE_LENGTH:
            raise Invalid(
                f"The value of key {key!r} has {len(item)} characters; the limit is "
                f"{METADATA_MAX_VALUE_LENGTH}."
            )
        result[key] = item
    return result


# -- numbers -------------------------------------------------------------------------------------


def timeout_seconds(value: float, subject: str = "The timeout") -> float:
    """Seconds for one attempt, as the SDK's and the CLI's timeout: more than 0, at most
    :data:`MAX_TIMEOUT_SECONDS`.  (PowerShell's TimeoutSec, where 0 means no limit, is checked by
    its parameter table.)"""
    if isinstance(value, float) and math.isnan(value):
        raise Invalid(f"{subject} is NaN; give a number of seconds.")
    if not value > 0:
        raise Invalid(f"{subject} must be more than 0 seconds; it is {number_text(value)}.")
    if value > MAX_TIMEOUT_SECONDS:
        raise Invalid(f"{subject} is {number_text(value)} seconds, over the limit of {MAX_TIMEOUT_SECONDS}.")
    return float(value)


def retries(value: int, subject: str = "The number of retries") -> int:
    """Retries of one request: 0 to :data:`MAX_RETRIES`."""
    if not 0 <= value <= MAX_RETRIES:
        raise Invalid(f"{subject} must be from 0 to {MAX_RETRIES}; it is {number_text(value)}.")
    return value
