"""The one scrubber: every secret in play, in every form a text can carry it, taken out last.

A secret is *in play* from the moment settings resolve (:func:`register`) until nothing holds its
:class:`~psopenai_py.secret.Secret` any more: the registry keeps weak references only, so a key
dropped by its caller leaves the registry with it.

:func:`scrub` removes from a text:

- each registered secret, matched character by character in any mix of its raw form
  (case-insensitively, as the original's regex replace does), JSON escapes (``\\u002d``, ``\\/``,
  ``\\"``) and percent-encoding (``%2D``, ``+`` for a space), so a server echoing the key in a
  JSON string or a URL does not get it through;
- any ``Bearer <token>`` and ``api-key: <value>`` header value, whatever the token;
- the user-info of any URL (``http://user:pass@host`` becomes ``http://********@host``).

It is applied to exception messages and arguments (:class:`~psopenai_py.errors.PSOpenAIError`
scrubs its own), to the bodies and headers of responses that travel on in an exception, and to log
records of the package, ``requests`` and ``urllib3`` at every level (:func:`install_log_filter`).
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Iterable
from typing import Any

from .secret import Secret

__all__ = [
    "KEY_PLACEHOLDER",
    "TOKEN_MASK",
    "register",
    "active_secrets",
    "scrub",
    "scrub_value",
    "secret_pattern",
    "ScrubFilter",
    "install_log_filter",
    "SCRUBBED_LOGGERS",
]

KEY_PLACEHOLDER = "<OpenAI API Key>"
TOKEN_MASK = "********"

# Any bearer token that is still in a text (for instance one we were never told about, in a
# header dump) loses its value, whatever the key was.
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",;]+")
_API_KEY_HEADER = re.compile(r"(?i)(api-key['\"]?\s*[:=]\s*['\"]?)[^\s'\",;}]+")
# scheme://user-info@host: the user-info goes, the host stays (it says where the call went).
_USER_INFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s'\"<>]*@")

_lock = threading.Lock()
_registry: dict[int, weakref.ref[Secret]] = {}
_patterns: dict[str, re.Pattern[str]] = {}
_MAX_PATTERNS = 256


def register(secret: "Secret | None") -> None:
    """Put a secret in play: from now on :func:`scrub` removes it, until the Secret is gone."""
    if secret is None or not secret:
        return
    with _lock:
        _prune()
        current = _registry.get(id(secret))
        if current is None or current() is not secret:
            # No callback on the reference: one would run inside a garbage collection that can
            # start while this lock is held, and deadlock. Dead references are pruned instead.
            _registry[id(secret)] = weakref.ref(secret)


def _prune() -> None:
    """Drop dead references, and the cached patterns of values no longer in play (the caller
    holds the lock)."""
    dead = [ident for ident, ref in _registry.items() if ref() is None]
    if not dead:
        return
    for ident in dead:
        del _registry[ident]
    alive = {s.reveal() for s in (r() for r in _registry.values()) if s is not None}
    for value in [v for v in _patterns if v not in alive]:
        del _patterns[value]


def active_secrets() -> list[str]:
    """The plain values of the secrets in play, longest first (so a key containing another
    is replaced whole)."""
    with _lock:
        _prune()
        secrets = [s for s in (r() for r in _registry.values()) if s is not None]
    values = {s.reveal() for s in secrets if s.reveal()}
    return sorted(values, key=len, reverse=True)


def _either_case(text: str) -> str:
    """A regex matching ``text`` in any case, spelt out per character: faster than IGNORECASE,
    which keeps the engine from skipping ahead to the possible first characters."""
    out = []
    for ch in text:
        variants = sorted({v for v in (ch, ch.lower(), ch.upper()) if len(v) == 1})
        out.append(
            "[" + "".join(re.escape(v) for v in variants) + "]" if len(variants) > 1 else re.escape(ch)
        )
    return "".join(out)


def _char_forms(ch: str) -> list[str]:
    """Regex alternatives for one character: raw, JSON-escaped, percent-encoded."""
    forms = [_either_case(ch)]
    code = ord(ch)
    if code <= 0xFFFF:
        forms.append(re.escape("\\u") + _either_case(f"{code:04x}"))
    else:  # a JSON surrogate pair
        high = 0xD800 + ((code - 0x10000) >> 10)
        low = 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms.append(
            re.escape("\\u") + _either_case(f"{high:04x}") + re.escape("\\u") + _either_case(f"{low:04x}")
        )
    forms.append("".join("%" + _either_case(f"{byte:02x}") for byte in ch.encode("utf-8")))
    json_short = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n"}
    json_short.update({"\r": "\\r", "\t": "\\t"})
    if ch in json_short:
        forms.append(re.escape(json_short[ch]))
    if ch == " ":
        forms.append(re.escape("+"))
    return forms


def secret_pattern(value: str) -> re.Pattern[str]:
    """The pattern matching ``value`` in any mix of its raw, JSON-escaped and percent forms,
    case-insensitively (as the original's regex replace is)."""
    with _lock:
        pattern = _patterns.get(value)
    if pattern is None:
        pattern = re.compile("".join("(?:" + "|".join(_char_forms(ch)) + ")" for ch in value))
        with _lock:
            if len(_patterns) >= _MAX_PATTERNS:
                _patterns.clear()
            _patterns[value] = pattern
    return pattern


def scrub(text: str, extra: Iterable["str | Secret | None"] = ()) -> str:
    """``text`` with every secret in play (and each of ``extra``) removed, in every form."""
    if not isinstance(text, str) or not text:
        return text
    # Cheap tests first: most texts (log lines, bodies) hold no header, no URL, no escape.
    lowered = text.lower()
    if "bearer" in lowered:
        text = _BEARER.sub(lambda m: m.group(1) + TOKEN_MASK, text)
    if "api-key" in lowered:
        text = _API_KEY_HEADER.sub(lambda m: m.group(1) + TOKEN_MASK, text)
    if "@" in text and "://" in text:
        text = _USER_INFO.sub(lambda m: m.group(1) + TOKEN_MASK + "@", text)
    values = set(active_secrets())
    for item in extra:
        plain = item.reveal() if isinstance(item, Secret) else item
        if plain:
            values.add(plain)
    if not values:
        return text
    encoded = "\\" in text or "%" in text or "+" in text
    lowered = text.lower()
    for value in sorted(values, key=len, reverse=True):
        # Without an escape character in the text only the raw form can be there.
        if encoded or value.lower() in lowered:
            text = secret_pattern(value).sub(KEY_PLACEHOLDER, text)
    return text


def scrub_value(value: Any, _depth: int = 0) -> Any:
    """A copy of a str, or of a list/tuple/dict of them (nested), scrubbed; anything else as is."""
    if isinstance(value, str):
        return scrub(value)
    if _depth > 50:
        return value
    if isinstance(value, tuple):
        return tuple(scrub_value(v, _depth + 1) for v in value)
    if isinstance(value, list):
        return [scrub_value(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {scrub_value(k, _depth + 1): scrub_value(v, _depth + 1) for k, v in value.items()}
    return value


class ScrubFilter(logging.Filter):
    """Formats a record's message once, scrubbed; the record then carries no arguments.

    Placed on the loggers that create records (a logger's filters see only its own records, not
    its children's), so whatever handler a record reaches, root's or any other, it is clean.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the record as logging would report it
            return True
        record.msg = scrub(message)
        record.args = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


SCRUBBED_LOGGERS = (
    "psopenai_py",
    "requests",
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.response",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "urllib3.util.ssl_",
    "urllib3.contrib.pyopenssl",
    "charset_normalizer",
)

_FILTER = ScrubFilter()


def install_log_filter() -> None:
    """Put the scrubbing filter on every logger that may carry a secret (idempotent); loggers of
    ``urllib3`` and ``requests`` created later are caught when this runs again (each request)."""
    manager = logging.Logger.manager
    names = set(SCRUBBED_LOGGERS)
    names.update(
        name
        for name in list(manager.loggerDict)
        if name.startswith(("urllib3.", "requests.", "psopenai_py."))
    )
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
