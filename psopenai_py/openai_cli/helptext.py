"""The dialect's help: the dialect's, a resource's or one command's, with every flag, its value
word, whether it is required or repeatable, the API's default and the environment variable that
sets it.  No key and no network are involved."""

from __future__ import annotations

from collections.abc import Sequence

from .grammar import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_UNKNOWN_COMMAND,
    PROGRAM,
    RESOURCES,
    ROOT_FLAGS,
    VERBS,
    Flag,
    Verb,
)

__all__ = ["help_text"]


_WORDS = {"switch": "", "float": "number", "bool": "true|false", "strings": "string", "retries": "n"}
"""The value words that are not the kind's own name (``int``, ``url``, ``seconds``...)."""


def _value_word(kind: str) -> str:
    """What help writes after a flag for its value, by the flag's kind: a kind that takes null
    (``int?``) adds ``|null``; maps and the other YAML values are ``yaml``."""
    if kind.endswith("?"):
        return _value_word(kind[:-1]) + "|null"
    if kind in ("map", "objects", "any"):
        return "yaml"
    return "'Name: Value'" if kind == "header" else _WORDS.get(kind, kind)


def _flag_lines(flags: Sequence[Flag]) -> list[str]:
    rows = []
    for flag in flags:
        names = f"--{flag.name}" + (f", -{flag.short}" if flag.short else "")
        word = _value_word(flag.kind)
        if word:
            names += f" {word}"
        notes = []
        if flag.required:
            notes.append("required")
        if flag.repeatable:
            notes.append("repeatable")
        if flag.default is not None and flag.kind not in ("format",):
            shown = (
                {True: "true", False: "false"}.get(flag.default, flag.default)
                if isinstance(flag.default, bool)
                else flag.default
            )
            notes.append(f"API default {shown}")
        if flag.environment:
            notes.append(f"env {flag.environment}")
        text = flag.help + (f" ({'; '.join(notes)})" if notes else "")
        rows.append((names, text))
    width = max(len(n) for n, _ in rows)
    return [f"  {n:<{width}}  {t}" for n, t in rows]


def help_text(resource: str | None, verb: Verb | None) -> str:
    """The help of the dialect, a resource or one command; no key or network involved."""
    lines: list[str] = []
    if verb is not None:
        takes = " [ID]" if verb.takes_id else ""
        spaced = verb.resource.replace(":", " ")
        lines += [
            f"{PROGRAM} {verb.title}: {verb.summary}",
            "",
            f"usage: {PROGRAM} {verb.title} [flags]{takes}",
            f"       {PROGRAM} {spaced} {verb.name} [flags]{takes}",
            "",
            "flags (yaml: a YAML or JSON value; @file embeds a file; piped YAML/JSON fills what is unset):",
        ]
        lines += _flag_lines(verb.flags)
    else:
        lines += [
            f"{PROGRAM} chat:completions: stored chat completions, in the openai CLI's words",
            "",
            f"usage: {PROGRAM} [root flags] chat:completions <command> [flags] [ID]",
            f"       {PROGRAM} chat completions <command> [flags] [ID]   (the same)",
            "",
            "commands:",
        ]
        shown = [
            (v.title, v.summary)
            for v in VERBS
            if resource in (None, "chat:completions") or v.resource == resource
        ]
        width = max(len(n) for n, _ in shown)
        lines += [f"  {n:<{width}}  {s}" for n, s in shown]
        lines += ["", "resources: " + "; ".join(f"{k} ({v})" for k, v in RESOURCES.items())]
        lines += ["", f"Run '{PROGRAM} chat:completions <command> --help' for a command's flags."]
    lines += ["", "root flags (anywhere on the line):"]
    lines += _flag_lines([f for f in ROOT_FLAGS])
    lines += [
        "",
        "Output: --format auto (indented JSON; colour on a terminal), json, jsonl, raw (as received),",
        "yaml, pretty (a readable box), explore (JSON here). --transform takes a GJSON path",
        "(choices.0.message.content, data.#.id, metadata.team); -r prints a string bare.",
        "An API error: the request and status on stderr, the error object on stdout",
        "(--format-error, --transform-error).",
        f"Exit status: {EXIT_OK} success, {EXIT_FAILURE} failure or bad command line "
        f"(nothing sent), {EXIT_UNKNOWN_COMMAND} unknown command.",
        "",
    ]
    return "\n".join(lines)
