"""Result shaping: the objects the chat-completion commands return, as PSOpenAI's ObjectParser
shapes them (type names, ``created`` as a date-time, Answer, Message and History)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .lazy_pattern import LazyPattern
from .psobject import PSObject

__all__ = [
    "COMPLETION_TYPE_NAME",
    "MESSAGE_TYPE_NAME",
    "REFUSAL_WARNING",
    "TERMINATED_WARNING",
    "completion_object",
    "message_object",
    "is_true",
    "as_int64",
    "reply_message",
    "history",
]

log = logging.getLogger("psopenai_py")

COMPLETION_TYPE_NAME = "PSOpenAI.Chat.Completion"
MESSAGE_TYPE_NAME = "PSOpenAI.Chat.Completion.Message"


REFUSAL_WARNING = 'The model refuses to respond. Refusal message: "{}"'
TERMINATED_WARNING = 'The model seems to have terminated response. Reason: "{}"'


def completion_object(
    data: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]] | None = None,
    *,
    warn: bool = False,
) -> PSObject:
    """The output object of a chat completion, as PSOpenAI's ObjectParser shapes it.

    ``created`` becomes a local date-time when it reads as a non-zero whole number of seconds in
    the platform's range, as the original's ``-as [long]`` reads it (an integer, a float rounded
    half to even, a decimal string; anything else is kept as received);
    ``Answer`` (one string per choice),
    ``Message`` (the last user message of ``messages``, or None) and ``History`` (``messages``
    typed ``PSOpenAI.Chat.Completion.Message``, or empty) are added; an Answer without content
    is ``""``, as the original's ``[string[]]`` cast makes it.  With ``warn``, a refusal
    and a reply cut short (``finish_reason`` length or content_filter) are written as warnings
    on the package logger, as the original writes them (Request-ChatCompletion; Get- and
    Set-ChatCompletion pass ``-WarningAction Ignore`` there, so they do not warn).
    """
    result = PSObject(data, type_names=(COMPLETION_TYPE_NAME,))
    # PSOpenAI 4.49.0 Private/ObjectParser.ps1:234: `if ($null -ne $InputObject.created -and
    # ($unixtime = $InputObject.created -as [long]))`: a value that reads as a non-zero Int64.
    seconds = as_int64(result.get("created"))
    if seconds:
        # Out of the platform's range, the raw value is kept, as received.
        with contextlib.suppress(OverflowError, OSError, ValueError):
            result["created"] = _dt.datetime.fromtimestamp(seconds).astimezone()
    # The original casts Answer to [string[]]: a reply without content is "" there, not null.
    choices = result.get("choices")
    answers = [_answer(choice, warn) for choice in choices] if isinstance(choices, list) else []
    result.add_property("Answer", ["" if a is None else a for a in answers])
    history_items = [_typed_message(m) for m in messages or () if isinstance(m, Mapping)]
    result.add_property("Message", _last_user_message(history_items))
    result.add_property("History", history_items)
    return result


def _typed_message(message: Mapping[str, Any]) -> PSObject:
    if isinstance(message, PSObject):
        if MESSAGE_TYPE_NAME in message.pstypenames:
            return message
        return PSObject(message, type_names=(MESSAGE_TYPE_NAME, *message.pstypenames))
    return PSObject(message, type_names=(MESSAGE_TYPE_NAME,))


def _last_user_message(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """The content of the last ``user`` message; for a list of parts, the text of its last
    ``text`` part; None when that is empty."""
    users = [m for m in messages if m.get("role") == "user"]
    if not users:
        return None
    content = users[-1].get("content")
    if not isinstance(content, str):
        texts = [
            part.get("text")
            for part in (content if isinstance(content, list) else [])
            if isinstance(part, Mapping) and part.get("type") == "text"
        ]
        content = "" if not texts or texts[-1] is None else str(texts[-1])
    return content or None


def _answer(choice: Any, warn: bool = False) -> Any:
    """The original's order: refusal if set; else, when the reply was cut short (length,
    content_filter), its content; else, when content is null, the audio transcript; else
    content."""
    message = choice.get("message") if isinstance(choice, Mapping) else None
    if not isinstance(message, Mapping):
        message = {}
    if message.get("refusal"):
        if warn:
            log.warning(REFUSAL_WARNING.format(message["refusal"]))
        return message["refusal"]
    reason = choice.get("finish_reason") if isinstance(choice, Mapping) else None
    if reason in ("length", "content_filter"):
        if warn:
            log.warning(TERMINATED_WARNING.format(reason))
        return message.get("content")
    content = message.get("content")
    if content is None:
        audio = message.get("audio")
        if isinstance(audio, Mapping) and audio.get("transcript"):
            return audio["transcript"]
    return content


def message_object(data: Mapping[str, Any]) -> PSObject:
    """One stored message: id, role, content, plus refusal, name, content_parts, audio,
    tool_calls and function_call when set (true as PowerShell's ``if`` reads a value, as the
    original tests them: PSOpenAI 4.49.0 Private/ObjectParser.ps1:510-533).  The original adds
    ``function_call`` with the message's tool_calls in it, a slip: here it holds the message's
    function_call (see the Differences table of Set-ChatCompletion)."""
    fields = {k: data.get(k) for k in ("id", "role", "content")}
    for optional in ("refusal", "name", "content_parts", "audio", "tool_calls", "function_call"):
        if is_true(data.get(optional)):
            fields[optional] = data[optional]
    return PSObject(fields, type_names=(MESSAGE_TYPE_NAME,))


def is_true(value: Any) -> bool:
    """Whether PowerShell's ``if`` takes ``value`` as true (LanguagePrimitives.IsTrue) for a value
    parsed from JSON: null, false, 0, "" and an empty list are false, a list of one element is
    that element's truth, any other list and any object (even an empty one) are true."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return bool(value)
    if isinstance(value, (list, tuple)):
        return is_true(value[0]) if len(value) == 1 else bool(value)
    return True


_INT64 = range(-(2**63), 2**63)
_DECIMAL = LazyPattern(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*", re.ASCII)


def as_int64(value: Any) -> int | None:
    """``value -as [long]`` as PowerShell computes it for a value parsed from JSON, or None when
    the conversion fails: an integer in the Int64 range; a float rounded half to even (.NET's
    Convert.ToInt64); a string in decimal notation read as a number, then converted the same way
    ("" is 0).  Not read here, kept as received (see the Differences table of Set-ChatCompletion):
    true and false (1 and 0 to PowerShell) and a string in another of PowerShell's number
    spellings (``0x10``, ``1kb``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not value:
            return 0
        if not _DECIMAL.fullmatch(value):
            return None
        stripped = value.strip()
        value = int(stripped) if stripped.lstrip("+-").isdigit() else float(stripped)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = round(value)  # Python's round is half to even, as Convert.ToInt64
    if isinstance(value, int) and value in _INT64:
        return value
    return None


def reply_message(completion: Mapping[str, Any]) -> dict[str, Any] | None:
    """The assistant's reply as the original adds it to History: role, content, then refusal,
    audio (its id only) and tool_calls when set; None when the completion has no choice."""
    choices = completion.get("choices")
    if (
        not isinstance(choices, list)
        or not choices
        or not isinstance(choices[0], Mapping)
        or not isinstance(choices[0].get("message"), Mapping)
    ):
        return None
    reply = choices[0]["message"]
    out: dict[str, Any] = {"role": reply.get("role"), "content": reply.get("content")}
    if reply.get("refusal"):
        out["refusal"] = reply["refusal"]
    audio = reply.get("audio")
    if audio:
        out["audio"] = {"id": audio.get("id") if isinstance(audio, Mapping) else None}
    if reply.get("tool_calls"):
        out["tool_calls"] = reply["tool_calls"]
    return out


def history(messages: Sequence[Mapping[str, Any]], completion: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The conversation as the original's History holds it: ``messages`` themselves, then the
    assistant's reply (:func:`reply_message`)."""
    reply = reply_message(completion)
    return [*messages, *([reply] if reply is not None else [])]
