"""Chat-completion commands: Set-ChatCompletion.

Each pipeline command is split the way a PowerShell cmdlet is: ``begin`` checks the parameters and
resolves the settings once, ``process`` handles one pipeline item.  The plain library function is
``begin`` and ``process`` on a single item.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..parameters import SET_CHAT_COMPLETION
from ..psobject import PSObject
from ..secret import Secret
from ..transport import encode_path
from ..validation import bind_completion_id, check_metadata
from .common import Invocation, prepare_invocation, settings_kwargs

__all__ = ["set_chat_completion", "completion_object", "update_completion", "COMPLETION_TYPE_NAME",
           "begin_set_chat_completion", "process_set_chat_completion"]

COMPLETION_TYPE_NAME = "PSOpenAI.Chat.Completion"


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


def update_completion(invocation: Invocation, completion_id: str, metadata: Mapping[str, str]
                      ) -> PSObject:
    """``POST /chat/completions/{id}`` for one already-checked id; the completion object."""
    data = invocation.request(
        "POST", encode_path("chat/completions/{}", completion_id), body={"metadata": metadata}
    )
    return completion_object(data)


@dataclass(frozen=True)
class _SetState:
    invocation: Invocation
    metadata: dict[str, str]


def begin_set_chat_completion(kwargs: Mapping[str, Any]) -> _SetState:
    """Check MetaData and the settings parameters, resolve the settings once."""
    metadata = check_metadata(SET_CHAT_COMPLETION.parameter("MetaData"), kwargs.get("metadata"))
    invocation = prepare_invocation(SET_CHAT_COMPLETION, **settings_kwargs(kwargs))
    return _SetState(invocation, metadata)


def process_set_chat_completion(state: _SetState, completion_id: Any) -> PSObject:
    """Update one completion: an id string, or an object or mapping carrying one."""
    ident = bind_completion_id(SET_CHAT_COMPLETION.parameter("CompletionId"), completion_id)
    return update_completion(state.invocation, ident, state.metadata)


def set_chat_completion(
    completion_id: Any,
    metadata: Mapping[str, str],
    *,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> PSObject:
    """Replace the metadata of a stored chat completion (``POST /chat/completions/{id}``).

    ``completion_id`` is an id string, or any mapping or object with a ``CompletionId``,
    ``Completion``, ``completion_id``, ``InputObject`` or ``Id`` property (case-insensitive), such
    as a completion returned earlier.  Every setting left as None is resolved: parameter, then
    :func:`set_openai_context`, then the ``psopenai_py.OPENAI_*`` globals, then the environment,
    then the OS keyring.  Everything is checked before anything is sent.

    Returns the updated completion (:class:`~psopenai_py.psobject.PSObject`).  Raises
    :class:`~psopenai_py.errors.ParameterBindingError` / ``ParameterTypeError`` for bad input,
    :class:`~psopenai_py.errors.MissingSettingError` when no key is found, and an
    :class:`~psopenai_py.errors.APIRequestException` subclass when the API answers an error.
    """
    # The id is checked first so that a bad id fails before any settings lookup.
    bind_completion_id(SET_CHAT_COMPLETION.parameter("CompletionId"), completion_id)
    state = begin_set_chat_completion({
        "metadata": metadata, "timeout_sec": timeout_sec, "max_retry_count": max_retry_count,
        "api_type": api_type, "api_base": api_base, "api_version": api_version,
        "auth_type": auth_type, "api_key": api_key, "organization": organization,
        "additional_query": additional_query, "additional_headers": additional_headers,
        "additional_body": additional_body,
    })
    return process_set_chat_completion(state, completion_id)
