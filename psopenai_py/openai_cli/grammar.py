"""The official openai CLI's grammar for stored chat completions, as data and one parser.

    psopenai chat:completions {create|retrieve|update|list|delete|export} [flags] [ID]
    psopenai chat:completions:messages list [flags] [ID]
    psopenai chat completions update ...        (the space form, the same commands)

Flags take ``--name value`` or ``--name=value`` (one dash works too), may come before, between or
after the command words, and every value is checked here, before any setting is resolved or
anything sent.  Parsing errors are :class:`UsageError` (exit status 1, as the official CLI's) or
:class:`UnknownCommand` (exit status 3).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .. import checks, scrub
from .flow import FlowError, parse_flow
from .output import visible

__all__ = [
    "Flag",
    "Verb",
    "Parsed",
    "UsageError",
    "UnknownCommand",
    "GLOBAL_FLAGS",
    "VERBS",
    "RESOURCES",
    "parse",
    "command_words",
    "FORMATS",
    "ERROR_FORMATS",
    "GLOBAL_FLAG_INDEX",
    "similarity",
    "suggest",
]

_T = TypeVar("_T")
_V = TypeVar("_V")

FORMATS = ("auto", "json", "jsonl", "pretty", "text")
ERROR_FORMATS = ("auto", "json")


class UsageError(ValueError):
    """A command line that cannot be run: the message names the flag (exit status 1)."""


class UnknownCommand(ValueError):
    """A command word that is not one of the dialect's (exit status 3)."""


@dataclass(frozen=True)
class Flag:
    """One flag: its long name, what its value is, and how it is shown in help."""

    name: str
    help: str
    kind: str = "string"
    """string, int, number, seconds, bool, switch, choice, object, objects, url, header, id"""
    short: str | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    repeatable: bool = False
    minimum: float | None = None
    maximum: float | None = None

    @property
    def key(self) -> str:
        return self.name.replace("-", "_")

    @property
    def takes_value(self) -> bool:
        return self.kind != "switch"

    def convert(self, text: str) -> Any:
        """The flag's value from its text; UsageError naming the flag otherwise."""
        _check_decodable(f"flag --{self.name}", text)
        return _CONVERTERS[self.kind](self, text)


def _check_decodable(what: str, text: str) -> None:
    """A command line word that was not valid UTF-8 (or the locale's encoding) reaches Python
    with lone surrogates in it; it could not be sent, so it is refused here."""
    _checked(f"Incorrect Usage: invalid value for {what}", checks.utf8_text, text)


def _checked(head: str, check: Callable[[_V, str], _T], value: _V, subject: str = "It") -> _T:
    """``check(value, subject)`` (a rule of :mod:`psopenai_py.checks`), its problem as a
    UsageError after ``head``."""
    try:
        return check(value, subject)
    except checks.Invalid as exc:
        raise UsageError(f"{head}: {exc.problem.rstrip('.')}") from None


def _head(flag: Flag) -> str:
    return f"Incorrect Usage: invalid value for flag --{flag.name}"


def _usage(flag: Flag, text: str, problem: str) -> UsageError:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return UsageError(f'Incorrect Usage: invalid value "{shown}" for flag --{flag.name}: {problem}')


def _string(flag: Flag, text: str) -> str:
    return text


def _int(flag: Flag, text: str) -> int:
    try:
        value = int(text, 0)  # the official CLI's strconv.ParseInt with base 0: 0x10, 0o7
    except ValueError:
        raise _usage(flag, text, "not an integer") from None
    _check_range(flag, text, value)
    return value


def _number(flag: Flag, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _usage(flag, text, "not a number") from None
    if not math.isfinite(value):
        raise _usage(flag, text, "not a finite number")
    _check_range(flag, text, value)
    return value


def _seconds(flag: Flag, text: str) -> float:
    return _checked(_head(flag), checks.timeout_seconds, _number(flag, text))


def _check_range(flag: Flag, text: str, value: float) -> None:
    if flag.minimum is not None and value < flag.minimum:
        raise _usage(flag, text, f"less than the minimum {flag.minimum:g}")
    if flag.maximum is not None and value > flag.maximum:
        raise _usage(flag, text, f"greater than the maximum {flag.maximum:g}")


def _bool(flag: Flag, text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "t", "1"):
        return True
    if lowered in ("false", "f", "0"):
        return False
    raise _usage(flag, text, "expected true or false")


def _choice(flag: Flag, text: str) -> str:
    if text not in flag.choices:
        raise _usage(flag, text, f"expected one of {', '.join(flag.choices)}")
    return text


def _flow(flag: Flag, text: str) -> Any:
    if not text.strip(" \t\r\n\ufeff"):
        # An unset shell variable ("--metadata $TAGS") must not clear the metadata.
        raise UsageError(
            f"Incorrect Usage: invalid value for flag --{flag.name}: it is empty "
            "(write '{}' for no pairs, or null to clear)"
        )
    try:
        return parse_flow(text)
    except FlowError as exc:
        raise _usage(flag, text, f"not JSON or YAML flow syntax ({exc})") from None


def _object(flag: Flag, text: str) -> Any:
    value = _flow(flag, text)
    if value is not None and not isinstance(value, dict):
        raise _usage(flag, text, "expected a mapping such as '{foo: bar}' or null")
    return value


def _objects(flag: Flag, text: str) -> list[Any]:
    value = _flow(flag, text)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _usage(flag, text, "expected a list of mappings such as '[{role: user, content: hi}]'")
    return value


def _header(flag: Flag, text: str) -> tuple[str, str]:
    """``Name: Value`` (spaces around either trimmed, as curl's -H), each part checked."""
    name, colon, value = text.partition(":")
    name = name.strip()
    # The value is never quoted in a message: a header may carry a credential.
    head = f"{_head(flag)} ({visible(name) or '?'})"
    if not colon or not name:
        raise UsageError(f"{head}: expected 'Name: Value'")
    _checked(head, checks.header_name, name, "the header")
    return name, _checked(head, checks.header_value, value, "the value")


def _id(flag: Flag, text: str) -> str:
    """An id sent as a header (organization, project): trimmed and checked as a header value."""
    return _checked(_head(flag), checks.header_value, text)


def _url(flag: Flag, text: str) -> str:
    subject = f'--{flag.name} "{visible(checks.shown_url(text.strip()))[:60]}"'
    return _checked("Incorrect Usage", checks.base_url, text, subject)


_CONVERTERS: dict[str, Callable[[Flag, str], Any]] = {
    "url": _url,
    "string": _string,
    "int": _int,
    "number": _number,
    "seconds": _seconds,
    "bool": _bool,
    "choice": _choice,
    "object": _object,
    "objects": _objects,
    "header": _header,
    "id": _id,
}

_FORMAT_ERROR_HELP = "error format: auto (one line on stderr), json (the API's error object on stdout too)"

GLOBAL_FLAGS: tuple[Flag, ...] = (
    Flag("api-key", "API key (default: OPENAI_API_KEY, then the usual resolution and the OS keyring)"),
    Flag(
        "base-url",
        "API base URL, http:// or https:// (default: OPENAI_BASE_URL, then "
        "OPENAI_API_BASE, then https://api.openai.com/v1)",
        kind="url",
    ),
    Flag("organization", "organization id (default: OPENAI_ORG_ID, then OPENAI_ORGANIZATION)", kind="id"),
    Flag("project", "project id, sent as OpenAI-Project (default: OPENAI_PROJECT_ID)", kind="id"),
    Flag(
        "header",
        "an extra request header 'Name: Value' (repeatable; the last one of a name wins)",
        kind="header",
        short="H",
        repeatable=True,
    ),
    Flag(
        "max-retries",
        f"retries on 429 and server errors (0 to {checks.MAX_RETRIES}, default 2)",
        kind="int",
        minimum=0,
        maximum=checks.MAX_RETRIES,
    ),
    Flag("timeout", "seconds to wait for each attempt (default 600)", kind="seconds"),
    Flag("format", "output format: auto (text), json, jsonl, pretty, text", kind="choice", choices=FORMATS),
    Flag("format-error", _FORMAT_ERROR_HELP, kind="choice", choices=ERROR_FORMATS),
    Flag("debug", "log requests and responses to stderr (keys and header values hidden)", kind="switch"),
    Flag("help", "show help", kind="switch", short="h"),
    Flag("version", "show the version", kind="switch", short="v"),
)

GLOBAL_FLAG_INDEX = {flag.name: flag for flag in GLOBAL_FLAGS}

_ID = Flag("completion-id", "the stored completion's id (or the first argument)")
_AFTER = Flag("after", "list after this id")
# Sent as given, as the official CLI does: the server bounds it (1 to 100 today).
_LIMIT = Flag("limit", "items per page (the API takes 1 to 100)", kind="int")
_ORDER = Flag("order", "asc or desc (by creation time)", kind="choice", choices=("asc", "desc"))
_MAX_ITEMS = Flag("max-items", "stop after this many items (-1: all pages)", kind="int", minimum=-1)
_MODEL_FILTER = Flag("model", "only completions of this model")
_METADATA_FILTER = Flag(
    "metadata", "only completions with these metadata pairs: '{team: ops}'", kind="object"
)


@dataclass(frozen=True)
class Verb:
    """One command of the dialect: its words, flags, and whether it takes an id."""

    resource: str
    name: str
    summary: str
    flags: tuple[Flag, ...]
    takes_id: bool = False
    id_required: bool = False

    @property
    def path(self) -> str:
        return f"{self.resource} {self.name}"


def _on_one(name: str, summary: str, *flags: Flag) -> Verb:
    """A chat:completions command on one stored completion, named by --completion-id or the
    first argument."""
    return Verb("chat:completions", name, summary, (_ID, *flags), takes_id=True, id_required=True)


VERBS: tuple[Verb, ...] = (
    Verb(
        "chat:completions",
        "create",
        "create a chat completion (--store true keeps it)",
        (
            Flag("model", "the model", required=True),
            Flag(
                "message",
                "one message '{role: user, content: hi}' (repeatable)",
                kind="objects",
                repeatable=True,
            ),
            Flag("messages", "all messages as a list '[{role: user, content: hi}]'", kind="objects"),
            Flag("metadata", "metadata of the stored completion: '{team: ops}'", kind="object"),
            Flag("store", "true to store the completion", kind="bool"),
            Flag("temperature", "sampling temperature (0 to 2)", kind="number", minimum=0, maximum=2),
            Flag("max-completion-tokens", "upper bound of generated tokens", kind="int", minimum=1),
        ),
    ),
    _on_one("retrieve", "get a stored chat completion"),
    _on_one(
        "update",
        "replace a stored completion's metadata",
        Flag(
            "metadata", "the new metadata: '{foo: bar}' or JSON; null clears it", kind="object", required=True
        ),
    ),
    Verb(
        "chat:completions",
        "list",
        "list stored chat completions (every page)",
        (_AFTER, _LIMIT, _METADATA_FILTER, _MODEL_FILTER, _ORDER, _MAX_ITEMS),
    ),
    _on_one("delete", "delete a stored chat completion"),
    Verb(
        "chat:completions",
        "export",
        "write every listed completion as JSON Lines to a new file (published when complete) or stdout",
        (
            Flag("output", "the new file to write (default: stdout)", short="o"),
            _AFTER,
            _LIMIT,
            _METADATA_FILTER,
            _MODEL_FILTER,
            _ORDER,
            _MAX_ITEMS,
        ),
    ),
    Verb(
        "chat:completions:messages",
        "list",
        "list a stored completion's messages",
        (_ID, _AFTER, _LIMIT, _ORDER, _MAX_ITEMS),
        takes_id=True,
        id_required=True,
    ),
)

RESOURCES = {
    "chat:completions": "stored chat completions",
    "chat:completions:messages": "the messages of a stored chat completion",
}


@dataclass
class Parsed:
    """A parsed command line: the verb (None: resource help), flag values, positionals."""

    resource: str | None
    verb: Verb | None
    values: dict[str, Any] = field(default_factory=dict)
    positionals: list[str] = field(default_factory=list)
    help: bool = False
    version: bool = False

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name.replace("-", "_"), default)


def _flag_index(flags: Sequence[Flag]) -> dict[str, Flag]:
    index: dict[str, Flag] = {}
    for flag in flags:
        index[flag.name] = flag
        if flag.short:
            index[flag.short] = flag
    return index


_ALL_FLAGS = _flag_index([*GLOBAL_FLAGS, *(f for v in VERBS for f in v.flags)])


def _split_flag(word: str) -> tuple[str, str | None] | None:
    """``--name=value`` -> (name, value); ``-n`` -> (n, None); a non-flag word -> None."""
    if word == "-" or not word.startswith("-") or word == "--":
        return None
    body = word[2:] if word.startswith("--") else word[1:]
    name, equals, value = body.partition("=")
    return name, (value if equals else None)


def command_words(argv: Sequence[str]) -> list[str]:
    """The words that are not flags or flag values, in order (to find the command)."""
    words: list[str] = []
    items = iter(argv)
    for word in items:
        split = _split_flag(word)
        if split is None:
            words.append(word)
            continue
        flag = _ALL_FLAGS.get(split[0])
        if flag is not None and flag.takes_value and split[1] is None:
            next(items, None)
    return words


def similarity(a: str, b: str) -> float:
    """Jaro-Winkler similarity, 0 (nothing alike) to 1 (equal): the measure the official CLI's
    parser uses for its "Did you mean" suggestions."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(0, max(len(a), len(b)) // 2 - 1)
    used = [False] * len(b)
    matched_a: list[str] = []
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not used[j] and b[j] == char:
                used[j] = True
                matched_a.append(char)
                break
    if not matched_a:
        return 0.0
    matched_b = [char for j, char in enumerate(b) if used[j]]
    transpositions = sum(x != y for x, y in zip(matched_a, matched_b, strict=True)) / 2
    m = len(matched_a)
    jaro = (m / len(a) + m / len(b) + (m - transpositions) / m) / 3
    if jaro <= 0.7:
        return jaro
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + 0.1 * prefix * (1 - jaro)


_SUGGESTION_THRESHOLD = 0.75  # the official CLI's


def suggest(provided: str, candidates: Sequence[str]) -> str | None:
    """The candidate most like ``provided``, if any is alike enough."""
    best, score = None, 0.0
    for candidate in candidates:
        value = similarity(candidate, provided)
        if value > score:
            best, score = candidate, value
    return best if score >= _SUGGESTION_THRESHOLD else None


def _unknown_word(
    word: str, candidates: Sequence[str], prefix: str, compare: str | None = None
) -> UnknownCommand:
    guess = suggest(word if compare is None else compare, candidates)
    hint = f" Did you mean 'psopenai {prefix}{guess}'?" if guess else ""
    return UnknownCommand(
        f"No help topic for '{visible(word)}'.{hint}" if hint else f"No help topic for '{visible(word)}'"
    )


def _resource_and_verb(words: list[str]) -> tuple[str | None, Verb | None, int]:
    """The resource and verb named by the first words, and how many words they took."""
    parts: list[str] = []
    used = 0
    for word in words:
        pieces = word.split(":")
        candidate = [*parts, *pieces]
        if candidate != ["chat", "completions", "messages"][: len(candidate)]:
            break
        parts = candidate
        used += 1
    if not parts:
        first = words[0] if words else ""
        # Compared in lower case: "CHAT" or "Chat:Completions" is the right command misspelt.
        lowered = first.lower()
        raise _unknown_word(first, list(RESOURCES), "", "chat:completions" if lowered == "chat" else lowered)
    if parts == ["chat"]:
        # As the official CLI's suggestion: the only command under 'chat' is completions.
        if len(words) > used:
            raise UnknownCommand(
                f"No help topic for '{words[used]}'. Did you mean 'psopenai chat:completions'?"
            )
        return None, None, used
    resource = ":".join(parts)
    if used == len(words):
        return resource, None, used
    name = words[used]
    for verb in VERBS:
        if verb.resource == resource and verb.name == name:
            return resource, verb, used + 1
    raise _unknown_word(name, [v.name for v in VERBS if v.resource == resource], resource + " ")


def parse(argv: Sequence[str]) -> Parsed:
    """Parse one dialect command line.  Help and version need nothing else to be right."""
    words = command_words(argv)
    resource, verb, used = _resource_and_verb(words)
    allowed = _flag_index([*GLOBAL_FLAGS, *(verb.flags if verb else ())])
    parsed = Parsed(resource, verb)
    if any(_split_flag(w) in (("help", None), ("h", None)) for w in argv):
        parsed.help = True
        return parsed
    values = parsed.values
    items = iter(argv)
    command_left = used
    for word in items:
        split = _split_flag(word)
        if split is None:
            if command_left:
                command_left -= 1
            else:
                parsed.positionals.append(word)
            continue
        name, inline = split
        flag = allowed.get(name)
        if flag is None:
            guess = suggest(name, [f.name for f in allowed.values()])
            hint = f'. Did you mean "--{guess}"?' if guess else ""
            raise UsageError(f"Incorrect Usage: flag provided but not defined: -{visible(name)}{hint}")
        if not flag.takes_value:
            if inline is not None and _bool(flag, inline) is False:
                continue
            values[flag.key] = True
            continue
        text = inline if inline is not None else next(items, None)
        if text is None:
            raise UsageError(f"Incorrect Usage: flag needs an argument: -{name}")
        value = flag.convert(text)
        if flag.repeatable:
            values.setdefault(flag.key, []).append(value)
        else:
            values[flag.key] = value  # the last one wins, as in the official CLI
    if values.get("version"):
        parsed.version = True
        return parsed
    if verb is None:
        return parsed
    _check_positionals(parsed, verb)
    for flag in verb.flags:
        if flag.required and flag.key not in values:
            raise UsageError(
                f'Required flag "{flag.name}" not set. Run \'psopenai '
                f"{verb.resource} {verb.name} --help' for usage information."
            )
    return parsed


_KEY_SHAPED = scrub.KEY_SHAPED  # the package's one rule of "looks like a key"


def _check_not_a_key(parsed: Parsed) -> None:
    """A key typed where another value belongs (the flag name forgotten, or the wrong flag) is
    refused before it is sent as an id or printed back, and the message does not quote it."""
    for word in parsed.positionals:
        if _KEY_SHAPED.fullmatch(word.strip()):
            raise UsageError(
                "Incorrect Usage: an argument looks like an API key (sk-...); pass a key with "
                "--api-key. Nothing was sent."
            )
    for name, value in parsed.values.items():
        if name != "api_key" and isinstance(value, str) and _KEY_SHAPED.fullmatch(value.strip()):
            raise UsageError(
                f"Incorrect Usage: the value of --{name.replace('_', '-')} looks like an API key "
                "(sk-...); pass a key with --api-key. Nothing was sent."
            )


def _check_positionals(parsed: Parsed, verb: Verb) -> None:
    rest = list(parsed.positionals)
    for word in rest:
        _check_decodable("the argument" if verb.takes_id else "an extra argument", word)
    _check_not_a_key(parsed)
    if verb.takes_id and "completion_id" not in parsed.values and rest:
        parsed.values["completion_id"] = rest.pop(0)
    if rest:
        raise UsageError(f"Unexpected extra arguments: [{' '.join(rest)}]")
    ident = parsed.values.get("completion_id")
    if verb.id_required and not str(ident or "").strip():
        raise UsageError(
            'Required flag "completion-id" not set (or empty). Run \'psopenai '
            f"{verb.resource} {verb.name} --help' for usage information."
        )
    if ident is not None:
        _checked(
            "Incorrect Usage: invalid value for flag --completion-id", checks.completion_id, ident, "The id"
        )
