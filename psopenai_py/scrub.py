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
- the user-info of any URL (``http://user:pass@host`` becomes ``http://********@host``);
- any run of 8 or more characters copied from a secret (a server may echo a key cut short, or
  as a run of ``\\u`` escapes): the run becomes ``********``.  What the package's own masked
  form shows on purpose (the ``sk-``/``sk-proj-`` prefix and the next three characters) is not a
  fragment, a run of fewer than 5 distinct characters (``00000000``) is not one either, and a
  secret shorter than 8 characters, or too regular to be a generated key (fewer than 16 distinct
  characters, as placeholders and test keys are), is only ever removed whole.

It is applied to exception messages and arguments (:class:`~psopenai_py.errors.PSOpenAIError`
scrubs its own), to the bodies and headers of responses that travel on in an exception, and to log
records of the package, ``requests`` and ``urllib3`` at every level (:func:`install_log_filter`).
"""

from __future__ import annotations

import contextlib
import functools
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
    "FRAGMENT",
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

FRAGMENT = 8
"""Characters: any run this long copied from a secret counts as the secret."""
_DISTINCT = 5
"""Distinct characters a run needs to count as a fragment of a key."""
_KEY_DISTINCT = 16
"""Distinct characters (after the ``sk-`` prefix) a secret needs for its fragments to count:
generated keys have dozens, placeholders and test keys a handful."""
_ESCAPE_RUN = re.compile(r"(?:\\u[0-9a-fA-F]{4}){" + str(FRAGMENT) + ",}")

_lock = threading.Lock()
_registry: dict[int, weakref.ref[Secret]] = {}
_patterns: dict[str, re.Pattern[str]] = {}
_MAX_PATTERNS = 256
_fragments: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {}


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


def _fragments_of(value: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The secret's runs of :data:`FRAGMENT` characters that count as a leak, and the few 4-letter
    seeds that every one of them contains (found in a text by C substring search, so a text
    without any seed is passed in a few microseconds)."""
    with _lock:
        cached = _fragments.get(value)
    if cached is not None:
        return cached
    prefix = next((p for p in ("sk-proj-", "sk-") if value.startswith(p)), "")
    shown = len(prefix) + 3 if prefix else 0  # what mask_key shows on purpose
    if len(set(value[len(prefix) :])) < _KEY_DISTINCT:
        # Not random enough to be a generated key (a placeholder or test key such as
        # sk-test-0000...): its pieces are words and zeros that ordinary text holds too, so only
        # the whole value is removed.
        with _lock:
            _fragments[value] = (frozenset(), ())
        return frozenset(), ()
    grams = frozenset(
        value[i : i + FRAGMENT].lower()
        for i in range(len(value) - FRAGMENT + 1)
        # A run of few distinct characters (00000000) says next to nothing about a key and turns
        # up in ordinary text (timestamps, counters): only runs with the entropy of a key count.
        if i + FRAGMENT > shown and len(set(value[i : i + FRAGMENT])) >= _DISTINCT
    )
    # A run [i, i+8) with i+8 > shown holds the aligned 4-letter piece at the largest multiple of
    # 4 in [i, i+4], which ends at or past ``shown``: those pieces are the seeds.
    seeds = tuple(
        dict.fromkeys(value[k : k + 4].lower() for k in range(0, len(value) - 3, 4) if k + 4 > shown)
    )
    with _lock:
        if len(_fragments) >= _MAX_PATTERNS:
            _fragments.clear()
        _fragments[value] = (grams, seeds)
    return grams, seeds


@functools.lru_cache(maxsize=64)
def _seed_pattern(seeds: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive search for any of a key's seeds."""
    return re.compile("|".join(re.escape(seed) for seed in seeds), re.IGNORECASE)


def _hide_fragments(text: str, value: str) -> str:
    """``text`` with every run of :data:`FRAGMENT` or more characters copied from ``value``
    replaced by :data:`TOKEN_MASK`."""
    grams, seeds = _fragments_of(value)
    if not grams:
        return text
    if "\\u" in text:
        # A run of JSON escapes (\u0073\u006b...) is read back before it is looked at.
        def escaped(match: re.Match[str]) -> str:
            run = match.group()
            decoded = "".join(chr(int(run[i + 2 : i + 6], 16)) for i in range(0, len(run), 6))
            return TOKEN_MASK if _hide_fragments(decoded, value) != decoded else run

        text = _ESCAPE_RUN.sub(escaped, text)
    # In any case, as the whole key is matched: an uppercased piece gives most of it away too.
    if not _seed_pattern(seeds).search(text):
        return text  # the common case, answered in C without a copy of the text
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lowercase to two (U+0130): keep positions
        lowered = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
    hidden = [False] * len(text)
    found = False
    for start in range(len(text) - FRAGMENT + 1):
        if lowered[start : start + FRAGMENT] in grams:
            found = True
            for index in range(start, start + FRAGMENT):
                hidden[index] = True
    if not found:
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        if hidden[index]:
            while index < len(text) and hidden[index]:
                index += 1
            out.append(TOKEN_MASK)
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


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
    for value in values:
        if len(value) >= FRAGMENT:
            text = _hide_fragments(text, value)
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
        if record.exc_info and not record.exc_text:
            # Formatted here, scrubbed: a handler's Formatter uses exc_text when it is set, and
            # would otherwise print the exception's text (a foreign one, unscrubbed) whole.
            with contextlib.suppress(Exception):
                record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


_FORMATTER = logging.Formatter()


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
