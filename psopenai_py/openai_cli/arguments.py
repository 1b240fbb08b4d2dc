"""A parsed command line's arguments, checked after parsing: the completion id argument, a key
typed where another value belongs, the required flags (once piped input is merged), and the
checks psopenai keeps where the original leaves them to the server (:func:`check_request`).
Each failure is a :class:`~.grammar.UsageError`, raised before anything is sent."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import checks, scrub
from .flag_values import go_quoted
from .grammar import PROGRAM, Parsed, UsageError, Verb
from .output import visible

if TYPE_CHECKING:
    from .inputs import Request

__all__ = [
    "KEY_SHAPED",
    "take_positionals",
    "check_not_a_key",
    "missing_required",
    "check_request",
    "request_headers",
]

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


# -- the request: what psopenai checks before sending ---------------------------------------------


def _checked(label: str, check: Callable[[Any, str], Any], value: Any, subject: str) -> Any:
    """``check(value, subject)``; a failure as the usage error ``invalid value for <label>``."""
    try:
        return check(value, subject)
    except checks.Invalid as exc:
        raise UsageError(f"Incorrect Usage: invalid value for {label}: {exc.problem.rstrip('.')}") from None


def check_request(verb: Verb, parsed: Parsed, request: Request) -> None:
    """The checks psopenai keeps where the original leaves them to the server: a completion id
    that could not name one, metadata values that are no strings (the message says what to
    write), and the mutual-TLS flags, which it does not support.  Nothing is sent."""
    for name in ("mtls-client-cert-file", "mtls-client-key-file"):
        if parsed.get(name) or os.environ.get(f"OPENAI_{name.upper().replace('-', '_')}"):
            raise UsageError(
                f"Incorrect Usage: --{name} (mutual TLS) is not supported by {PROGRAM}; nothing was sent"
            )
    from . import transform

    for name in ("transform", "transform-error"):
        if parsed.get(name):
            try:
                transform.check(parsed.get(name))
            except transform.PathError as exc:
                shown = go_quoted(parsed.get(name))
                raise UsageError(
                    f"Incorrect Usage: invalid value {shown} for flag --{name}: {exc} "
                    "(psopenai evaluates GJSON paths itself)"
                ) from None
    for name in ("organization", "project"):
        if parsed.get(name):
            _checked(f"flag --{name}", checks.header_value, parsed.get(name), f"The {name} id")
    if request.completion_id is not None:
        _checked("flag --completion-id", checks.completion_id, request.completion_id, "The id")
    if verb.name in ("update", "create") and isinstance(request.body, dict) and "metadata" in request.body:
        request.body["metadata"] = _metadata(request.body["metadata"], allow_null=verb.name == "update")
    if verb.lists and parsed.is_set("metadata"):
        _metadata(parsed.get("metadata"), allow_null=True)


def request_headers(parsed: Parsed) -> dict[str, str]:
    """The -H headers (the last of a name wins), with OpenAI-Project from --project or
    OPENAI_PROJECT_ID unless a -H names it (each value checked)."""
    headers: dict[str, str] = {}
    for name, value in parsed.get("header") or []:
        for known in [k for k in headers if k.lower() == name.lower()]:
            del headers[known]
        headers[name] = value
    project = parsed.get("project") or os.environ.get("OPENAI_PROJECT_ID") or None
    if project and not any(k.lower() == "openai-project" for k in headers):
        source = "--project" if parsed.get("project") else "OPENAI_PROJECT_ID"
        headers["OpenAI-Project"] = _checked(source, checks.header_value, project, "The project id")
    return headers


def _metadata(value: Any, *, allow_null: bool) -> Any:
    """Metadata checked (:func:`psopenai_py.checks.metadata`): strings only, with what to write
    instead; null passes where it clears (an update)."""
    if value is None:
        if allow_null:
            return None
        raise UsageError("Incorrect Usage: invalid value for flag --metadata: it is null")
    return _checked("flag --metadata", _strings_only, value, "The metadata")


def _strings_only(value: Any, subject: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise checks.Invalid("expected a mapping such as '{team: ops}'")
    hint = _metadata_hint(value)
    if hint:
        raise checks.Invalid(hint)
    return checks.metadata(value)


def _metadata_hint(value: Mapping[str, Any]) -> str | None:
    """What to write instead, for the YAML values that are not strings."""
    for key, item in value.items():
        if item is None and ":" in key:
            left, _, right = key.partition(":")
            return f"the key '{key}' has no value; write '{{{left}: {right}}}' (a space after the colon)"
        if item is None:
            return (
                f"the value of key '{key}' is null; metadata values are strings. An update "
                "replaces the whole metadata: leave a key out to remove it, or pass null to clear all"
            )
        if isinstance(item, float) and not math.isfinite(item):
            # 1e400 or .inf: what was typed is not kept, and "Infinity" would be another value.
            what = "NaN" if math.isnan(item) else "a number beyond the range of a double"
            return (
                f"the value of key '{key}' is {what}; metadata values are strings: quote it as "
                "typed, in double quotes"
            )
        if isinstance(item, (bool, int, float)):
            text = json.dumps(item)
            return (
                f"the value of key '{key}' is the {'boolean' if isinstance(item, bool) else 'number'} "
                f"{text}; metadata values are strings: quote it, '{{{key}: \"{text}\"}}'"
            )
        if isinstance(item, (dict, list)):
            kind = "a mapping" if isinstance(item, dict) else "a list"
            return f"the value of key '{key}' is {kind}; metadata values are strings"
    return None
