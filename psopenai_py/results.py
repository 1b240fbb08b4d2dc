"""Result shaping: the objects the chat-completion commands return, as PSOpenAI's ObjectParser
shapes them (type names, ``created`` as a date-time, Answer, Message and History)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from .psobject import PSObject

__all__ = [
    "COMPLETION_TYPE_NAME",
    "MESSAGE_TYPE_NAME",
    "REFUSAL_WARNING",
    "TERMINATED_WARNING",
    "completion_object",
    "message_object",
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

    ``created`` becomes a local date-time when it is a non-zero integer in the platform's range
    (anything else is kept as received); ``Answer`` (one string per choice),
    ``Message`` (the last user message of ``messages``, or None) and ``History`` (``messages``
    typed ``PSOpenAI.Chat.Completion.Message``, or empty) are added; an Answer without content
    is ``""``, as the original's ``[string[]]`` cast makes it.  With ``warn``, a refusal
    and a reply cut short (``finish_reason`` length or content_filter) are written as warnings
    on the package logger, as the original writes them (Request-ChatCompletion; Get- and
    Set-ChatCompletion pass ``-WarningAction Ignore`` there, so they do not warn).
    """
    result = PSObject(data, type_names=(COMPLETION_TYPE_NAME,))
    created = result.get("created")
    if isinstance(created, int) and not isinstance(created, bool) and created != 0:
        # Out of the platform's range, the raw number is kept, as received.
        with contextlib.suppress(OverflowError, OSError, ValueError):
            result["created"] = _dt.datetime.fromtimestamp(created).astimezone()
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
    """One stored message: id, role, content, plus refusal, name, content_parts, audio and
    tool_calls when present (set and not empty, as the original tests them)."""
    fields = {k: data.get(k) for k in ("id", "role", "content")}
    for optional in ("refusal", "name", "content_parts", "audio", "tool_calls"):
        if data.get(optional):
            fields[optional] = data[optional]
    return PSObject(fields, type_names=(MESSAGE_TYPE_NAME,))


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
