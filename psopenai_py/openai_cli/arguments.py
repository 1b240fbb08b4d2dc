"""A parsed command line's arguments, checked after parsing: the completion id argument, a key
typed where another value belongs, and the required flags (once piped input is merged)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import checks, scrub
from .grammar import PROGRAM, Parsed, UsageError, Verb
from .output import visible

__all__ = ["KEY_SHAPED", "take_positionals", "check_not_a_key", "missing_required"]

KEY_SHAPED = scrub.KEY_SHAPED  # the package's one rule of "looks like a key"
_SECRET_FLAGS = frozenset({"api-key", "admin-api-key", "webhook-secret"})


def take_positionals(parsed: Parsed) -> None:
    """The first argument is the completion id where the command takes one (unless
    --completion-id is given); any other is refused, as the original refuses it."""
    verb = parsed.verb
    assert verb is not None
    rest = list(parsed.positionals)
    for word in rest:
        try:
            checks.utf8_text(word, "The argument" if verb.takes_id else "An extra argument")
        except checks.Invalid as exc:
            raise UsageError(f"Incorrect Usage: {exc.problem.rstrip('.')}") from None
    check_not_a_key(parsed, rest)
    if verb.takes_id and not parsed.is_set("completion-id") and rest:
        parsed.values["completion-id"] = rest.pop(0)
        parsed.given.add("completion-id")
    if rest:
        raise UsageError(f"Unexpected extra arguments: [{' '.join(visible(w) for w in rest)}]")


def check_not_a_key(parsed: Parsed, words: Sequence[str]) -> None:
    """A key typed where another value belongs (the flag name forgotten, or the wrong flag) is
    refused before it is sent as an id or printed back, and the message does not quote it."""
    for word in words:
        if KEY_SHAPED.fullmatch(word.strip()):
            raise UsageError(
                "Incorrect Usage: an argument looks like an API key (sk-...); pass a key with "
                "--api-key. Nothing was sent."
            )
    for name, value in parsed.values.items():
        if name not in _SECRET_FLAGS and isinstance(value, str) and KEY_SHAPED.fullmatch(value.strip()):
            raise UsageError(
                f"Incorrect Usage: the value of --{name} looks like an API key "
                "(sk-...); pass a key with --api-key. Nothing was sent."
            )


def missing_required(verb: Verb, parsed: Parsed, body: Any) -> UsageError | None:
    """The original's check of required flags, after piped input was merged: a body field
    counts as given when the body holds it."""
    missing = []
    for flag in verb.flags:
        if not flag.required or flag.outer is not None or parsed.is_set(flag.name):
            continue
        if flag.where == "body" and isinstance(body, dict) and flag.api_field in body:
            continue
        missing.append(flag.name)
    if not missing:
        return None
    head = f'Required flag "{missing[0]}"' if len(missing) == 1 else f'Required flags "{", ".join(missing)}"'
    return UsageError(f"{head} not set\nRun '{PROGRAM} {verb.title} --help' for usage information")
