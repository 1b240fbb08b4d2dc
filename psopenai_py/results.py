"""Result shaping: the objects the chat-completion commands return, as PSOpenAI's ObjectParser
shapes them (type names, ``created`` as a date-time, Answer, Message and History)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from .psobject import PSObject

__all__ = ["COMPLETION_TYPE_NAME", "MESSAGE_TYPE_NAME", "completion_object", "message_object", "history"]

COMPLETION_TYPE_NAME = "PSOpenAI.Chat.Completion"
MESSAGE_TYPE_NAME = "PSOpenAI.Chat.Completion.Message"


def completion_object(data: Mapping[str, Any]) -> PSObject:
    """The output object of a chat completion, as PSOpenAI shapes it.

    ``created`` becomes a local date-time when non-zero; ``Answer`` (one string per choice),
    ``Message`` (None) and ``History`` (empty) are added.
    """
    result = PSObject(data, type_names=(COMPLETION_TYPE_NAME,))
    created = result.get("created")
    if isinstance(created, int) and not isinstance(created, bool) and created != 0:
        result["created"] = _dt.datetime.fromtimestamp(created).astimezone()
    result.add_property("Answer", [_answer(choice) for choice in result.get("choices") or []])
    result.add_property("Message", None)
    result.add_property("History", [])
    return result


def _answer(choice: Any) -> Any:
    """refusal if set; else content; else, when content is null, the audio transcript."""
    message = choice.get("message") if isinstance(choice, Mapping) else None
    if not isinstance(message, Mapping):
        return None
    if message.get("refusal"):
        return message["refusal"]
    content = message.get("content")
    if content is None:
        audio = message.get("audio")
        if isinstance(audio, Mapping) and audio.get("transcript") is not None:
            return audio["transcript"]
    return content


def message_object(data: Mapping[str, Any]) -> PSObject:
    """One stored message: id, role, content, plus refusal, name, content_parts, audio and
    tool_calls when present."""
    fields = {k: data.get(k) for k in ("id", "role", "content")}
    for optional in ("refusal", "name", "content_parts", "audio", "tool_calls"):
        if data.get(optional) is not None:
            fields[optional] = data[optional]
    return PSObject(fields, type_names=(MESSAGE_TYPE_NAME,))


def history(messages: Sequence[Mapping[str, Any]], completion: PSObject) -> list[PSObject]:
    """The stored messages, then the assistant's reply."""
    history = [PSObject({"role": m.get("role"), "content": m.get("content")}) for m in messages]
    choices = completion.get("choices") or []
    if choices and isinstance(choices[0], Mapping) and isinstance(choices[0].get("message"), Mapping):
        reply = choices[0]["message"]
        history.append(PSObject({"role": reply.get("role", "assistant"), "content": reply.get("content")}))
    return history
