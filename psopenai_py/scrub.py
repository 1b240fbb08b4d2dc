"""The one scrubber: every secret in play, in every form a text can carry it, taken out last.

A secret is *in play* from the moment settings resolve (:func:`register`) until nothing holds its
:class:`~psopenai_py.secret.Secret` any more: the registry keeps weak references only, so a key
dropped by its caller leaves the registry with it.

The contract: what is taken out where
-------------------------------------

Texts come in two kinds, and each has its own function:

- **Diagnostics** (:func:`scrub`): exception messages and arguments (:class:`~psopenai_py.errors.
  PSOpenAIError` scrubs its own), error and warning lines, log records of the package,
  ``requests`` and ``urllib3`` at every level (:func:`install_log_filter`), the headers, reason
  and URL of a response, and the body of an error response (they travel on in an exception).
  Taken out of them:

  - every credential *in its place*, whatever the value: a ``Bearer`` token, a ``Basic``
    user:password, an ``api-key`` / ``api_key`` / ``apikey`` value (a header, a query, a JSON
    field), the user-info of a URL (``http://user:pass@host`` becomes ``http://********@host``);
  - every argument shaped like an OpenAI key (:data:`KEY_SHAPED`: ``sk-`` and 20 or more key
    characters), known or not, shown as its masked form (:func:`mask_key`): a key typed in the
    wrong place is named by its first and last characters, never printed whole;
  - every secret in play that is long enough to scrub (:func:`scrubbable`), in any mix of its
    raw form (case-insensitively, as the original's regex replace does), JSON escapes
    (``\\u002d``, ``\\/``, ``\\"``) and percent-encoding (``%2D``, ``+`` for a space), and any
    run of 8 or more characters copied from it (a server may echo a key cut short): the key
    becomes ``<OpenAI API Key>``, the run ``********``.  What the masked form shows on purpose
    (the ``sk-``/``sk-proj-`` prefix and the next three characters) is not a fragment, a run of
    fewer than 5 distinct characters (``00000000``) is not one either, and a secret too regular
    to be a generated key (fewer than 16 distinct characters, as placeholders and test keys are)
    is only ever removed whole.

- **Data** (:func:`scrub_data`): what a server sent as an answer and what a user gave (ids,
  completions, messages, metadata), on its way to an output, a journal or an export file.  Data
  is never rewritten for what it merely looks like: no context pattern and no key shape applies.
  Only a secret in play that is long enough to scrub is taken out (whole in any encoding, or a
  run of 8 of its characters), because such a text holds it only when a server echoed the key;
  a shorter secret only where it stands as a credential (``Bearer x``, ``api_key=x``, a URL's
  user-info).

A secret shorter than :data:`MIN_SCRUBBED` characters (``x``, ``gpt``, ``seed0``, a gateway's
``lm-studio``) cannot be told apart from ordinary text: removing it everywhere would rewrite ids,
model names and outputs (``"index"`` becoming ``"inde<OpenAI API Key>"``), and a key that short
protects nothing anyway.  It is masked in credential places only, in both kinds of text, and
:func:`register` warns once that it is.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import logging
import re
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from .lazy_pattern import LazyPattern
from .secret import Secret

__all__ = [
    "KEY_PLACEHOLDER",
    "TOKEN_MASK",
    "MIN_SCRUBBED",
    "KEY_SHAPED",
    "looks_like_key",
    "mask_key",
    "mask_keys",
    "scrubbable",
    "register",
    "active_secrets",
    "scrub",
    "scrub_data",
    "scrub_value",
    "secret_pattern",
    "FRAGMENT",
    "ScrubFilter",
    "install_log_filter",
    "SCRUBBED_LOGGERS",
]

log = logging.getLogger("psopenai_py")

KEY_PLACEHOLDER = "<OpenAI API Key>"
TOKEN_MASK = "********"

MIN_SCRUBBED = 16
"""Characters a secret needs to be taken out wherever it shows.  The shortest real keys are 32
(Azure) and 51 (OpenAI); no word of an id or a model name reaches 16 characters of a key by
chance.  A shorter secret is masked only where it stands as a credential."""

KEY_SHAPED = LazyPattern(
    # Not after a word character, nor after one or two dashes that follow one (three never).
    r"(?<![A-Za-z0-9_])(?<![A-Za-z0-9_]-)(?<![A-Za-z0-9_]--)(?<!---)sk-[A-Za-z0-9_-]{20,}"
)
"""An OpenAI API key (``sk-...``, ``sk-proj-...``, ``sk-svcacct-...``): long, and never a
completion id, a cursor or a model name.  The one rule of "looks like a key" for every door:
``fullmatch`` tells whether an argument is one, ``search`` finds one inside a text.  Not inside
a longer word (``task-...``, ``chatcmpl-sk-...``), but a key written as a flag (``-sk-...``,
``--sk-...``: pasted after a dash) is one: the dashes are a flag's, the rest is the key."""

# A credential in its place, group 2 its value: whatever the value, it is a credential there.
_BEARER = LazyPattern(r"(?i)(bearer\s+)([^\s'\",;]+)")
# Not inside a longer name: OPENAI_API_KEY is the name of a variable, and its messages say so.
_API_KEY_FIELD = LazyPattern(r"(?i)((?<![A-Za-z0-9_])api[-_]?key['\"]?\s*[:=]\s*['\"]?)([^\s'\",;}&]+)")
# scheme://user-info@host: the user-info goes, the host stays (it says where the call went).
_USER_INFO = LazyPattern(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#@\s'\"<>]*)@")
# Basic user:password in base64: checked by decoding (below), so "basic auth" stays as it is.
_BASIC = LazyPattern(r"(?i)(basic\s+)([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])")

FRAGMENT = 8
"""Characters: any run this long copied from a secret counts as the secret."""
_DISTINCT = 5
"""Distinct characters a run needs to count as a fragment of a key."""
_KEY_DISTINCT = 16
"""Distinct characters (after the ``sk-`` prefix) a secret needs for its fragments to count:
generated keys have dozens, placeholders and test keys a handful."""
_ESCAPE_RUN = LazyPattern(r"(?:\\u[0-9a-fA-F]{4}){" + str(FRAGMENT) + ",}")

_KEY_PREFIXES = ("sk-proj-", "sk-")
_KEY_STARS = 15

_lock = threading.Lock()
_registry: dict[int, weakref.ref[Secret]] = {}
_patterns: dict[str, re.Pattern[str]] = {}
_MAX_PATTERNS = 256
_fragments: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {}
_warned: set[int] = set()


def scrubbable(value: str) -> bool:
    """Whether a secret is long enough to be taken out wherever it shows (see the contract)."""
    return len(value) >= MIN_SCRUBBED


def looks_like_key(text: str) -> bool:
    """Whether an argument is shaped like an OpenAI API key (:data:`KEY_SHAPED`)."""
    return bool(KEY_SHAPED.fullmatch(text.strip()))


def mask_key(key: "str | Secret") -> str:
    """Mask a key for display: ``sk-proj-abc***************yz``, ``sk-abc***************23``.

    The prefix ``sk-proj-`` or ``sk-`` is kept with 3 more characters, other keys keep their
    first 3; then exactly 15 ``*`` and the last 2 characters.  A key too short to keep anything
    without showing most of it becomes 15 ``*`` alone.
    """
    plain = key.reveal() if isinstance(key, Secret) else key
    prefix = next((p for p in _KEY_PREFIXES if plain.startswith(p)), "")
    first = len(prefix) + 3
    # At least as many hidden characters as shown ones, or nothing is shown.
    if len(plain) < (first + 2) * 2:
        return "*" * _KEY_STARS
    return plain[:first] + "*" * _KEY_STARS + plain[-2:]


def mask_keys(text: str) -> str:
    """``text`` with every key-shaped word in it (:data:`KEY_SHAPED`) in its masked form
    (:func:`mask_key`), nothing else changed.

    For a message that quotes back what a user typed (a command word, a help topic, a
    parameter's name or value, an option's value): a key pasted in the wrong place is named by
    its first and last characters, never printed whole, before any key is in play to scrub.
    """
    if "sk-" not in text:
        return text
    return KEY_SHAPED.sub(lambda m: mask_key(m.group()), text)


def register(secret: "Secret | None", *, what: str | None = "The API key") -> None:
    """Put a secret in play: from now on :func:`scrub` removes it, until the Secret is gone.

    A secret too short to scrub (:func:`scrubbable`) is put in play too, for the credential
    places; ``what`` names it in the one warning (per value and process) that says so (None: no
    warning).
    """
    if secret is None or not secret:
        return
    with _lock:
        _prune()
        current = _registry.get(id(secret))
        if current is None or current() is not secret:
            # No callback on the reference: one would run inside a garbage collection that can
            # start while this lock is held, and deadlock. Dead references are pruned instead.
            _registry[id(secret)] = weakref.ref(secret)
        value = secret.reveal()
        warn = what is not None and not scrubbable(value) and hash(value) not in _warned
        if warn:
            _warned.add(hash(value))
    if warn:
        count = len(value)
        log.warning(
            "%s has %d character%s: too short to be told apart from ordinary text, it is hidden "
            "only where it stands as a credential (a header, Bearer, api_key=, a URL's user-info), "
            "and no id or output is changed for it.",
            what,
            count,
            "" if count == 1 else "s",
        )


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


def _values(extra: Iterable["str | Secret | None"]) -> set[str]:
    """The plain values of the secrets in play and of ``extra``."""
    values = set(active_secrets())
    for item in extra:
        plain = item.reveal() if isinstance(item, Secret) else item
        if plain:
            values.add(plain)
    return values


def _is_basic_credentials(token: str) -> bool:
    """Whether a ``Basic`` value is base64 of ``user:password`` (not a word such as "auth")."""
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded


def _in_place(text: str, chosen: Callable[[str], bool], *, fields: bool = True, headers: bool = True) -> str:
    """``text`` with each credential in its place masked when ``chosen`` says so of its value:
    ``headers``, the Bearer and Basic values and a URL's user-info; ``fields``, an api_key value."""
    lowered = text.lower()

    def mask(match: re.Match[str]) -> str:
        return match.group(1) + TOKEN_MASK if chosen(match.group(2)) else match.group()

    if headers and "bearer" in lowered:
        text = _BEARER.sub(mask, text)
    if headers and "basic" in lowered:
        text = _BASIC.sub(lambda m: mask(m) if _is_basic_credentials(m.group(2)) else m.group(), text)
    if headers and "@" in text and "://" in text:
        text = _USER_INFO.sub(
            lambda m: m.group(1) + TOKEN_MASK + "@" if chosen(m.group(2)) else m.group(), text
        )
    if fields and "api" in lowered:
        text = _API_KEY_FIELD.sub(mask, text)
    return text


@functools.lru_cache(maxsize=64)
def _base64_forms(value: str) -> tuple[str, ...]:
    """The characters of ``value``'s base64 that it alone decides, at each of the three places it
    can start in an encoded text (behind 0, 1 or 2 other bytes), in the standard and the URL-safe
    alphabet: a server that echoes a credential it was sent (a Basic header, a token it encoded)
    shows one of these."""
    data = value.encode("utf-8")
    forms: list[str] = []
    for lead in range(3):
        bits = 8 * lead
        encoded = base64.b64encode(b"\0" * lead + data).decode("ascii")
        # Characters whose six bits all come from the value: from ceil(bits / 6) to
        # floor((bits + 8 * len) / 6).
        core = encoded[-(-bits // 6) : (bits + 8 * len(data)) // 6]
        forms += [core, core.replace("+", "-").replace("/", "_")]
    return tuple(dict.fromkeys(forms))


def _remove_whole(text: str, values: Iterable[str]) -> str:
    """``text`` without the scrubbable ``values``: whole in any encoding (base64 too), then their
    fragments."""
    long = sorted((v for v in values if scrubbable(v)), key=len, reverse=True)
    if not long:
        return text
    for value in long:
        for form in _base64_forms(value):
            if form in text:
                text = text.replace(form, KEY_PLACEHOLDER)
    encoded = "\\" in text or "%" in text or "+" in text
    lowered = text.lower()
    for value in long:
        # Without an escape character in the text only the raw form can be there.
        if encoded or value.lower() in lowered:
            text = secret_pattern(value).sub(KEY_PLACEHOLDER, text)
    for value in long:
        text = _hide_fragments(text, value)
    return text


def scrub(text: str, extra: Iterable["str | Secret | None"] = ()) -> str:
    """A diagnostic text (an error, a warning, a log record) with every credential in its place,
    every key-shaped word and every secret in play (and each of ``extra``) removed; see the
    contract above."""
    if not isinstance(text, str) or not text:
        return text
    # A header's value first, whole (a known key in it would leave "Bearer <OpenAI API Key>");
    # an api_key field after the known keys (so a known one shows as the placeholder).
    values = _values(extra)
    text = _in_place(text, lambda value: not _placeholder(value, values), fields=False)
    text = _remove_whole(text, values)
    text = _in_place(text, lambda value: not value.startswith("<"), headers=False)
    # Whatever key is left (one typed in the wrong place, never put in play) keeps only what its
    # masked form shows.
    return mask_keys(text)


def scrub_data(text: str, extra: Iterable["str | Secret | None"] = ()) -> str:
    """Data (an answer, an id, a journal or export line) with the secrets in play (and each of
    ``extra``) removed only where the text holds one: a scrubbable secret anywhere, a shorter
    one where it stands as a credential.  Nothing else is changed; see the contract above."""
    if not isinstance(text, str) or not text:
        return text
    values = _values(extra)
    short = {v for v in values if not scrubbable(v)}
    if short:
        text = _in_place(text, lambda value: _holds(value, short))
    return _remove_whole(text, values)


_PLACEHOLDERS = frozenset({"auth", "token", "your_key", "your_api_key", "$openai_api_key", "<token>"})
"""Words a server's text puts after "Bearer" to show where a key goes (the API's own 401 says
"using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)"): no key, so they are kept."""


def _placeholder(value: str, secrets: set[str]) -> bool:
    """Whether a Bearer value is a placeholder word (its closing punctuation aside) and not
    itself a secret in play."""
    word = value.rstrip(".)")
    return word.lower() in _PLACEHOLDERS and word not in secrets and value not in secrets


def _holds(value: str, secrets: set[str]) -> bool:
    """Whether a credential's value is (or, for user-info and Basic, contains) one of these."""
    if value in secrets:
        return True
    parts = set(value.split(":"))
    with contextlib.suppress(binascii.Error, ValueError):
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        parts |= set(decoded.decode("utf-8", "replace").split(":"))
    return bool(parts & secrets)


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
