"""The official openai CLI's command-line grammar for stored chat completions.

    psopenai [root flags] chat:completions {create|retrieve|update|list|delete} [flags] [ID]
    psopenai [root flags] chat:completions:messages list [flags] [ID]
    psopenai chat completions ...                     (the space form: the same commands)
    psopenai chat:completions export [flags]          (an addition: every stored completion)

The request flags of each command come from the API description (:mod:`.api_flags`, derived by
``contract/derive_cli_flags.py``): adding a field there adds its flag here.  Parsing follows the
official CLI's argument parser level by level (root, resource, command): a word naming a command
of the level goes down a level, any other word is an argument; ``--name value``,
``--name=value`` and ``-name`` alike; a flag of a level above is found at any level below (the
root flags, ``--api-key`` among them, work before, between and after the command words); ``--``
ends the flags.  Errors are :class:`UsageError` (exit status 1) or :class:`UnknownCommand` (3),
worded as the official CLI words them.  A flag's text becomes its value in :mod:`.flag_values`,
a "Did you mean" names what :mod:`.suggest` finds nearest, and :mod:`.arguments` checks the
arguments once the line is parsed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import checks
from .api_flags import TABLE
from .flag_values import FORMATS, convert, go_quoted
from .output import visible
from .suggest import nearest_command, suggest_flag

__all__ = [
    "Flag",
    "Verb",
    "Parsed",
    "UsageError",
    "UnknownCommand",
    "ROOT_FLAGS",
    "VERBS",
    "RESOURCES",
    "PROGRAM",
    "parse",
    "command_words",
    "verbs_from",
    "MAX_ITEMS",
    "HELP",
    "EXIT_OK",
    "EXIT_FAILURE",
    "EXIT_UNKNOWN_COMMAND",
]

PROGRAM = "psopenai"
EXIT_OK = 0
EXIT_FAILURE = 1
"""A :class:`UsageError`, and every failure of a run."""
EXIT_UNKNOWN_COMMAND = 3
"""An :class:`UnknownCommand`."""


class UsageError(ValueError):
    """A command line that cannot be run (exit status 1); nothing was sent.

    ``suggestion`` is the ``--flag`` to propose and ``root_help`` whether the dialect's help goes
    to stdout after the message (an unknown flag before the command words, as the original).
    """

    def __init__(self, message: str, *, suggestion: str = "", root_help: bool = False) -> None:
        super().__init__(message)
        self.suggestion = suggestion
        self.root_help = root_help

    def lines(self) -> str:
        """The stderr text: ``Incorrect Usage: ...`` errors end with an empty line, and a
        suggestion stands on a line of its own between empty lines."""
        text = str(self)
        if not text.startswith("Incorrect Usage:"):
            return text + "\n"
        text += "\n\n"
        if self.suggestion:
            text += f'Did you mean "{self.suggestion}"?\n\n'
        return text


class UnknownCommand(ValueError):
    """A command word that is none of the dialect's (exit status 3)."""


# -- flags ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """One flag: its name, its value kind, where its value goes, and its help."""

    name: str
    help: str
    kind: str = "string"
    """A request kind (string, string?, int, int?, float, float?, bool?, switch, map, any,
    objects, strings) or one of the root flags' own (format, url, header, retries, seconds)."""
    where: str = "client"
    """path, query or body (sent), or client (read by psopenai itself)."""
    api_field: str = ""
    required: bool = False
    default: Any = None
    """The API's default, shown in help; never sent."""
    short: str | None = None
    outer: str | None = None
    """For an inner flag (``--audio.format``): the flag whose value it sets a field of."""
    environment: str | None = None
    repeatable: bool = False
    addition: bool = False
    """A psopenai flag the original does not have: its messages name it ``--name``."""

    @property
    def takes_value(self) -> bool:
        """Whether the flag reads a value (a switch does not: bare is true, ``=false`` false)."""
        return self.kind != "switch"

    @property
    def names(self) -> tuple[str, ...]:
        """The names the flag is found by: its name, and its one-letter name if it has one."""
        return (self.name, self.short) if self.short else (self.name,)


# -- the commands -------------------------------------------------------------------------------

_SUMMARIES = {
    "chat:completions create": "create a chat completion (--store true keeps it)",
    "chat:completions retrieve": "get a stored chat completion",
    "chat:completions update": "modify a stored chat completion's metadata",
    "chat:completions list": "list stored chat completions (every page)",
    "chat:completions delete": "delete a stored chat completion",
    "chat:completions:messages list": "list the messages of a stored chat completion",
    "chat:completions export": "write every listed completion as JSON Lines to a new file or stdout",
}
MAX_ITEMS = Flag("max-items", "the maximum number of items to print (-1 for all)", kind="int")
"""The client's own flag of the lists and of create (its stream), as the original has it."""


@dataclass(frozen=True)
class Verb:
    """One command: its words, its request (method, path), and its flags in help order."""

    resource: str
    name: str
    summary: str
    flags: tuple[Flag, ...]
    method: str = "GET"
    path: str = ""

    @property
    def title(self) -> str:
        """The title of the pretty view, the command's own words."""
        return f"{self.resource} {self.name}"

    @property
    def takes_id(self) -> bool:
        """Whether the command names a stored completion (``--completion-id`` or the argument)."""
        return any(f.where == "path" for f in self.flags)

    @property
    def sends_body(self) -> bool:
        """Whether the request has a body (which piped data can fill)."""
        return self.method == "POST"

    @property
    def lists(self) -> bool:
        """Whether the command goes through the pages of a list."""
        return self.name in ("list", "export")

    def flag(self, name: str) -> Flag | None:
        """The command's flag of that name, if it has one."""
        return next((f for f in self.flags if f.name == name), None)


def _flag_of(row: Mapping[str, Any], where: str, outer: str | None = None) -> Flag:
    """A flag of the derived table; an inner one (``outer`` named) is never repeated itself."""
    return Flag(
        row["flag"],
        row["help"],
        kind=row["kind"],
        where=where,
        api_field=row["field"],
        required=row["required"],
        default=row["default"],
        repeatable=outer is None and row["kind"] in ("objects", "strings"),
        outer=outer,
    )


def _flags_of(rows: Sequence[Mapping[str, Any]]) -> list[Flag]:
    flags: list[Flag] = []
    for row in rows:
        flags.append(_flag_of(row, row["in"]))
        flags += [_flag_of(inner, row["in"], outer=row["flag"]) for inner in row["inner"]]
    return flags


def verbs_from(table: Mapping[str, Any]) -> tuple[Verb, ...]:
    """The commands of a derived flag table (:data:`.api_flags.TABLE`), with the client-side
    flags: ``--max-items`` on the lists and on create (its stream), and the export."""
    verbs = []
    for key, entry in table.items():
        resource, name = key.split(" ")
        flags = _flags_of(entry["flags"])
        if name == "list" or name == "create":
            flags.append(MAX_ITEMS)
        verbs.append(
            Verb(resource, name, _SUMMARIES.get(key, name), tuple(flags), entry["method"], entry["path"])
        )
        if key == "chat:completions list":
            output = Flag("output", "the new file to write (default: stdout)", short="o", addition=True)
            verbs.append(
                Verb(
                    resource,
                    "export",
                    _SUMMARIES["chat:completions export"],
                    (output, *flags),
                    "GET",
                    entry["path"],
                )
            )
    return tuple(verbs)


VERBS = verbs_from(TABLE)
RESOURCES = {
    "chat:completions": "stored chat completions",
    "chat:completions:messages": "the messages of a stored chat completion",
}

ROOT_FLAGS: tuple[Flag, ...] = (
    Flag("debug", "log requests and responses to stderr (keys and credential headers hidden)", kind="switch"),
    Flag("base-url", "API base URL, http:// or https://", kind="url", environment="OPENAI_BASE_URL"),
    Flag("format", "output format: " + ", ".join(FORMATS), kind="format", default="auto"),
    Flag("format-error", "error output format: " + ", ".join(FORMATS), kind="format", default="auto"),
    Flag("transform", "a GJSON path applied to each printed document (choices.0.message.content)"),
    Flag("transform-error", "a GJSON path applied to the error object (message)"),
    Flag("raw-output", "print a string result without quotes", kind="switch", short="r"),
    Flag("api-key", "the API key", environment="OPENAI_API_KEY"),
    Flag("admin-api-key", "the admin API key (not used by these commands)", environment="OPENAI_ADMIN_KEY"),
    Flag("organization", "organization id, sent as OpenAI-Organization", environment="OPENAI_ORG_ID"),
    Flag("project", "project id, sent as OpenAI-Project", environment="OPENAI_PROJECT_ID"),
    Flag(
        "webhook-secret",
        "the webhook signing secret (not used by these commands)",
        environment="OPENAI_WEBHOOK_SECRET",
    ),
    Flag(
        "mtls-client-cert-file",
        "mutual TLS client certificate (not supported by psopenai)",
        environment="OPENAI_MTLS_CLIENT_CERT_FILE",
    ),
    Flag(
        "mtls-client-key-file",
        "mutual TLS client key (not supported by psopenai)",
        environment="OPENAI_MTLS_CLIENT_KEY_FILE",
    ),
    Flag(
        "header",
        "an extra request header 'Name: Value' (the last one of a name wins)",
        kind="header",
        short="H",
        repeatable=True,
        addition=True,
    ),
    Flag(
        "max-retries",
        f"retries on 408, 409, 429, 5xx and lost connections (0 to {checks.MAX_RETRIES}, default 2)",
        kind="retries",
        addition=True,
    ),
    Flag("timeout", "seconds to wait for each attempt (default 600)", kind="seconds", addition=True),
    Flag("help", "show help", kind="switch", short="h"),
    Flag("version", "print the version", kind="switch", short="v"),
)
HELP = next(flag for flag in ROOT_FLAGS if flag.name == "help")


def _index(flags: Sequence[Flag]) -> dict[str, Flag]:
    return {name: flag for flag in flags for name in flag.names}


_ROOT_INDEX = _index(ROOT_FLAGS)
_ALL_INDEX = _index([*ROOT_FLAGS, *(f for v in VERBS for f in v.flags)])


# -- the parsed line ----------------------------------------------------------------------------


@dataclass
class Parsed:
    """A parsed command line: where it went, the flags given, the remaining arguments."""

    resource: str | None = None
    verb: Verb | None = None
    values: dict[str, Any] = field(default_factory=dict)
    given: set[str] = field(default_factory=set)
    positionals: list[str] = field(default_factory=list)
    help_for: tuple[str | None, Verb | None] | None = None
    """Whose help was asked for: (None, None) the dialect's, (resource, None), (resource, verb)."""
    version: bool = False

    def get(self, name: str, default: Any = None) -> Any:
        """A flag's value (the last given, or the list of a repeatable one), or ``default``."""
        return self.values.get(name, default)

    def is_set(self, name: str) -> bool:
        """Whether the flag was given (on the line, or by piped data); only those are sent."""
        return name in self.given


def _set(parsed: Parsed, flag: Flag, typed: str, text: str, flags: Mapping[str, Flag]) -> None:
    """Store one occurrence of a flag (a list flag appends, an inner flag sets its field)."""
    try:
        value = convert(flag, text)
    except ValueError as exc:
        raise UsageError(_invalid(flag, typed, text, str(exc))) from None
    if flag.outer is not None:
        outer = flags[flag.outer]
        current = parsed.values.get(outer.name)
        if outer.kind == "objects":
            items = list(current or [])
            if items and isinstance(items[-1], dict) and flag.api_field not in items[-1]:
                items[-1] = {**items[-1], flag.api_field: value}
            else:
                items.append({flag.api_field: value})
            parsed.values[outer.name] = items
        else:
            parsed.values[outer.name] = {
                **(current if isinstance(current, dict) else {}),
                flag.api_field: value,
            }
        parsed.given.add(outer.name)
        return
    if flag.repeatable:
        parsed.values.setdefault(flag.name, []).append(value)
    else:
        parsed.values[flag.name] = value  # the last one wins
    parsed.given.add(flag.name)


def _invalid(flag: Flag, typed: str, text: str, reason: str) -> str:
    """The original's ``invalid value "<v>" for flag -<name>: <reason>``.  A header's value is
    never quoted (it may carry a credential), a URL's user-info is masked, and psopenai's own
    flags are named ``--name``."""
    name = f"--{flag.name}" if flag.addition else f"-{typed}"
    if flag.kind == "header":
        return f"Incorrect Usage: invalid value for flag {name}: {reason}"
    shown = checks.shown_url(text) if flag.kind == "url" else text
    return f"Incorrect Usage: invalid value {go_quoted(shown)} for flag {name}: {reason}"


class _Level:
    """One level of the command tree: its own flags (the suggestions' candidates), what it
    finds (its own and its ancestors'), and the words that name a level below."""

    def __init__(
        self, name: str, own: Sequence[Flag], found: Mapping[str, Flag], below: Sequence[str]
    ) -> None:
        self.name, self.own, self.found, self.below = name, tuple(own), found, tuple(below)


def _did_you_mean(provided: str, candidates: Sequence[tuple[str, str]]) -> str:
    return f"Did you mean '{PROGRAM} {nearest_command(provided, candidates)}'?"


def _parse_level(parsed: Parsed, args: list[str], level: _Level) -> list[str]:
    """Parse one level's flags up to a word naming a level below; returns the level's
    arguments followed by that word and everything after it (the original's order: the first
    argument is what it takes for a command)."""
    positionals: list[str] = []
    position = 0
    while position < len(args):
        word = args[position].strip()
        if not word:
            break  # as the original: an empty argument ends the line
        if word == "--":
            return positionals + args[position + 1 :]
        if not word.startswith("-"):
            if level.below:
                # A command level: its first argument names the command below, or no command
                # (reported as such rather than as whichever flag happens to follow it).
                return positionals + args[position:]
            positionals.append(word)
            position += 1
            continue
        if word == "-":
            positionals.append(word)
            break
        if word[1] != "-" and not word[1].isalpha():
            return positionals + args[position:]  # -1, -.5: an argument, and the rest too
        body = word[2:] if word[1] == "-" else word[1:]
        name, equals, inline = body.partition("=")
        flag = level.found.get(name)
        if flag is None:
            raise UsageError(
                f"Incorrect Usage: flag provided but not defined: -{visible(name)}",
                suggestion=suggest_flag(name, level.own),
                root_help=level.name == "root",
            )
        if flag.kind == "switch":
            _set(parsed, flag, name, inline or "true", level.found)
        else:
            # psopenai reads --name= as an empty value; the original takes the next word instead,
            # which would make "--api-key= --base-url=..." send the base URL as the key.
            if not equals:
                if position + 1 >= len(args):
                    raise UsageError(f"Incorrect Usage: flag needs an argument: {visible(word)}")
                position += 1
                inline = args[position]
            _set(parsed, flag, name, inline, level.found)
        position += 1
    return positionals


def _resource_words(verbs: Sequence[Verb], resource: str) -> tuple[str, ...]:
    """A resource's command words (``messages`` under chat:completions for the space form)."""
    words = tuple(v.name for v in verbs if v.resource == resource)
    return (*words, "messages") if resource == "chat:completions" else words


_ROOT = _Level("root", ROOT_FLAGS, _ROOT_INDEX, (*RESOURCES, "chat"))
_CHAT = _Level("chat", (HELP,), _ROOT_INDEX, ("completions",))


def parse(argv: Sequence[str], verbs: Sequence[Verb] = VERBS) -> Parsed:
    """Parse one dialect command line (nothing else is looked at: no key, no network).
    ``verbs``: the commands (by default those of the shipped flag table)."""
    parsed = Parsed()
    args = _parse_level(parsed, list(argv), _ROOT)
    if parsed.get("help"):
        parsed.help_for = (None, None)
        return parsed
    if parsed.get("version"):
        parsed.version = True  # honoured at the root only, as the original's
        return parsed
    if not args:
        parsed.help_for = (None, None)
        return parsed
    if args[0] not in _ROOT.below:
        raise UnknownCommand(
            f"No help topic for '{visible(args[0])}'. "
            + _did_you_mean(args[0].lower(), [(r, r) for r in RESOURCES])
        )
    word, rest = args[0], args[1:]
    if word == "chat":  # the space form: chat completions [messages] <command>
        args = _parse_level(parsed, rest, _CHAT)
        if parsed.get("help") or not args:
            parsed.help_for = (None, None)
            return parsed
        if args[0] != "completions":
            raise UnknownCommand(
                f"No help topic for '{visible(args[0])}'. Did you mean '{PROGRAM} chat:completions'?"
            )
        word, rest = "chat:completions", args[1:]
    return _parse_resource(parsed, word, rest, verbs)


def _parse_resource(parsed: Parsed, resource: str, rest: list[str], verbs: Sequence[Verb]) -> Parsed:
    parsed.resource = resource
    level = _Level(resource, (HELP,), _ROOT_INDEX, _resource_words(verbs, resource))
    args = _parse_level(parsed, rest, level)
    if parsed.get("help") or not args:
        parsed.help_for = (resource, None)
        return parsed
    word, rest = args[0], args[1:]
    if word not in level.below:
        candidates = [(v.name, f"{resource} {v.name}") for v in verbs if v.resource == resource]
        candidates += [("help", f"{resource} help"), ("h", f"{resource} help")]
        raise UnknownCommand(f"No help topic for '{visible(word)}'. " + _did_you_mean(word, candidates))
    if word == "messages":  # chat:completions messages list: the space form's resource
        return _parse_resource(parsed, "chat:completions:messages", rest, verbs)
    verb = next(v for v in verbs if v.resource == resource and v.name == word)
    parsed.verb = verb
    found = {**_ROOT_INDEX, **_index(verb.flags)}
    parsed.positionals = _parse_level(parsed, rest, _Level(verb.title, (*verb.flags, HELP), found, ()))
    if parsed.get("help"):
        parsed.help_for = (resource, verb)
    return parsed


def command_words(argv: Sequence[str]) -> list[str]:
    """The words that are no flag and no flag's value, in order (to tell a line's dialect):
    a known flag's value is skipped; an unknown flag is taken to have none."""
    words: list[str] = []
    items = iter(argv)
    for word in items:
        if not word.startswith("-") or word in ("-", "--"):
            words.append(word)
            continue
        name, equals, _ = word.lstrip("-").partition("=")
        flag = _ALL_INDEX.get(name)
        if flag is not None and flag.takes_value and not equals:
            next(items, None)
    return words
