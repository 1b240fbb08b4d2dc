"""Chat-completion commands: Set-, Get-, Remove- and Request-ChatCompletion, and
Get-ChatCompletionMessage.

Each pipeline command is split the way a PowerShell cmdlet is: ``begin`` checks the parameters and
resolves the settings once, ``process`` handles one pipeline item.  The plain library function is
``begin`` and ``process`` on a single item.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ParameterBindingError, TimeoutException
from ..parameters import (
    GET_CHAT_COMPLETION,
    GET_CHAT_COMPLETION_MESSAGE,
    REMOVE_CHAT_COMPLETION,
    REQUEST_CHAT_COMPLETION,
    SET_CHAT_COMPLETION,
    Command,
)
from ..pslit import to_literal
from ..psobject import PSObject
from ..secret import Secret
from ..transport import encode_path
from ..validation import (
    bind_completion_id,
    check_choice,
    check_float,
    check_int,
    check_metadata,
    check_optional_str,
    check_switch,
)
from .common import Invocation, prepare_invocation, settings_kwargs

log = logging.getLogger("psopenai_py")

__all__ = ["set_chat_completion", "get_chat_completion", "remove_chat_completion",
           "get_chat_completion_message", "request_chat_completion", "completion_object",
           "update_completion", "COMPLETION_TYPE_NAME", "MESSAGE_TYPE_NAME"]

COMPLETION_TYPE_NAME = "PSOpenAI.Chat.Completion"
MESSAGE_TYPE_NAME = "PSOpenAI.Chat.Completion.Message"
MORE_DATA_WARNING = "There is more data that has not been retrieved."


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


def describe_set_chat_completion(state: _SetState, completion_id: Any) -> str:
    """The WhatIf target: the id and the metadata it would get."""
    ident = bind_completion_id(SET_CHAT_COMPLETION.parameter("CompletionId"), completion_id)
    return f"{ident} (replace the metadata with {to_literal(state.metadata)})"


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


# -- shared pieces --------------------------------------------------------------------------------


def _id(command: Command, value: Any) -> str:
    return bind_completion_id(command.parameter("CompletionId"), value)


@dataclass(frozen=True)
class _Paging:
    limit: int | None
    all_pages: bool
    after: str | None
    order: str | None

    @classmethod
    def from_kwargs(cls, command: Command, kwargs: Mapping[str, Any]) -> _Paging:
        p = command.parameter
        return cls(
            limit=check_int(p("Limit"), kwargs.get("limit")),
            all_pages=check_switch(p("All"), kwargs.get("all_pages")),
            after=check_optional_str(p("After"), kwargs.get("after")),
            order=check_choice(p("Order"), kwargs.get("order")),
        )


def _pages(invocation: Invocation, path: str, paging: _Paging,
           filters: Sequence[tuple[str, Any]] = ()) -> Iterator[Any]:
    """Every item of a paged list, as PSOpenAI pages it: limit 100 and ``after=<last id>`` while
    ``has_more`` with -All; TimeoutSec > 0 is one deadline over the whole loop."""
    limit = 100 if paging.all_pages else (paging.limit or 20)
    after = paging.after
    timeout = invocation.settings.timeout_sec
    deadline = time.monotonic() + timeout if timeout > 0 else None
    while True:
        left = None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutException()
        query: list[tuple[str, Any]] = [("limit", limit), ("order", paging.order or "asc")]
        if after:
            query.append(("after", after))
        page = invocation.request("GET", path, query=[*query, *filters], timeout_override=left)
        data = (page.get("data") or []) if isinstance(page, Mapping) else []
        yield from data
        has_more = bool(page.get("has_more")) if isinstance(page, Mapping) else False
        if not (paging.all_pages and has_more and data):
            if has_more and not paging.all_pages and paging.limit is None:
                log.warning(MORE_DATA_WARNING)
            return
        after = str(data[-1].get("id"))


def _message_object(data: Mapping[str, Any]) -> PSObject:
    """One stored message: id, role, content, plus refusal, name, content_parts, audio and
    tool_calls when present."""
    fields = {k: data.get(k) for k in ("id", "role", "content")}
    for optional in ("refusal", "name", "content_parts", "audio", "tool_calls"):
        if data.get(optional) is not None:
            fields[optional] = data[optional]
    return PSObject(fields, type_names=(MESSAGE_TYPE_NAME,))


def _history(messages: Sequence[Mapping[str, Any]], completion: PSObject) -> list[PSObject]:
    """The stored messages, then the assistant's reply."""
    history = [PSObject({"role": m.get("role"), "content": m.get("content")}) for m in messages]
    choices = completion.get("choices") or []
    if choices and isinstance(choices[0], Mapping) and isinstance(choices[0].get("message"),
                                                                  Mapping):
        reply = choices[0]["message"]
        history.append(PSObject({"role": reply.get("role", "assistant"),
                                 "content": reply.get("content")}))
    return history


# -- Get-ChatCompletion ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _GetState:
    invocation: Invocation
    paging: _Paging
    filters: tuple[tuple[str, Any], ...]
    history: bool


def begin_get_chat_completion(kwargs: Mapping[str, Any]) -> _GetState:
    p = GET_CHAT_COMPLETION.parameter
    metadata = check_metadata(p("MetaData"), kwargs.get("metadata"), optional=True)
    model = check_optional_str(p("Model"), kwargs.get("model"))
    filters = tuple([*((f"metadata[{k}]", v) for k, v in metadata.items()),
                     *((("model", model),) if model else ())])
    paging = _Paging.from_kwargs(GET_CHAT_COMPLETION, kwargs)
    no_history = check_switch(p("NoHistory"), kwargs.get("no_history"))
    invocation = prepare_invocation(GET_CHAT_COMPLETION, **settings_kwargs(kwargs))
    return _GetState(invocation, paging, filters, not no_history)


def process_get_chat_completion(state: _GetState, completion_id: Any) -> Any:
    """One completion by id (with History), or, with no id, a generator over the list."""
    if completion_id is None:
        return (completion_object(item)
                for item in _pages(state.invocation, "chat/completions", state.paging,
                                   state.filters))
    ident = _id(GET_CHAT_COMPLETION, completion_id)
    data = state.invocation.request("GET", encode_path("chat/completions/{}", ident))
    result = completion_object(data)
    if state.history:
        messages = list(_pages(state.invocation, encode_path("chat/completions/{}/messages",
                                                             ident),
                               _Paging(None, True, None, "asc")))
        result["History"] = _history(messages, result)
    return result


def get_chat_completion(
    completion_id: Any = None,
    *,
    limit: int | None = None,
    all_pages: bool | None = None,
    after: str | None = None,
    order: str | None = None,
    metadata: Mapping[str, str] | None = None,
    model: str | None = None,
    no_history: bool | None = None,
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
) -> Any:
    """Get one stored chat completion by id (``GET /chat/completions/{id}``, History from its
    stored messages unless ``no_history``), or, with no id, list stored completions: ``limit``
    (1-100, default 20), ``all_pages`` (follow the pages), ``after``, ``order`` (asc/desc), and
    the ``metadata`` and ``model`` filters.  Returns a completion, or a list of completions."""
    kwargs = dict(locals())
    state = begin_get_chat_completion(kwargs)
    result = process_get_chat_completion(state, completion_id)
    return list(result) if completion_id is None else result


# -- Remove-ChatCompletion ------------------------------------------------------------------------

def begin_remove_chat_completion(kwargs: Mapping[str, Any]) -> Invocation:
    return prepare_invocation(REMOVE_CHAT_COMPLETION, **settings_kwargs(kwargs))


def describe_remove_chat_completion(invocation: Invocation, completion_id: Any) -> str:
    """The WhatIf target: the id."""
    return _id(REMOVE_CHAT_COMPLETION, completion_id)


def process_remove_chat_completion(invocation: Invocation, completion_id: Any) -> None:
    ident = _id(REMOVE_CHAT_COMPLETION, completion_id)
    invocation.request("DELETE", encode_path("chat/completions/{}", ident))
    log.info('The chat with id "%s" has been deleted.', ident)


def remove_chat_completion(
    completion_id: Any,
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
) -> None:
    """Delete a stored chat completion (``DELETE /chat/completions/{id}``); returns nothing."""
    _id(REMOVE_CHAT_COMPLETION, completion_id)
    invocation = begin_remove_chat_completion(dict(locals()))
    process_remove_chat_completion(invocation, completion_id)


# -- Get-ChatCompletionMessage --------------------------------------------------------------------

@dataclass(frozen=True)
class _MessagesState:
    invocation: Invocation
    paging: _Paging


def begin_get_chat_completion_message(kwargs: Mapping[str, Any]) -> _MessagesState:
    paging = _Paging.from_kwargs(GET_CHAT_COMPLETION_MESSAGE, kwargs)
    invocation = prepare_invocation(GET_CHAT_COMPLETION_MESSAGE, **settings_kwargs(kwargs))
    return _MessagesState(invocation, paging)


def process_get_chat_completion_message(state: _MessagesState, completion_id: Any
                                        ) -> Iterator[PSObject]:
    ident = _id(GET_CHAT_COMPLETION_MESSAGE, completion_id)
    path = encode_path("chat/completions/{}/messages", ident)
    return (_message_object(m) for m in _pages(state.invocation, path, state.paging))


def get_chat_completion_message(
    completion_id: Any,
    *,
    limit: int | None = None,
    all_pages: bool | None = None,
    after: str | None = None,
    order: str | None = None,
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
) -> list[PSObject]:
    """The stored messages of a completion (``GET /chat/completions/{id}/messages``), paged like
    :func:`get_chat_completion`'s list; one object per message."""
    _id(GET_CHAT_COMPLETION_MESSAGE, completion_id)
    state = begin_get_chat_completion_message(dict(locals()))
    return list(process_get_chat_completion_message(state, completion_id))


# -- Request-ChatCompletion -----------------------------------------------------------------------

@dataclass(frozen=True)
class _RequestState:
    invocation: Invocation
    body: dict[str, Any]
    system_message: str | None


def begin_request_chat_completion(kwargs: Mapping[str, Any]) -> _RequestState:
    p = REQUEST_CHAT_COMPLETION.parameter
    model = check_optional_str(p("Model"), kwargs.get("model")) or str(p("Model").default)
    system = check_optional_str(p("SystemMessage"), kwargs.get("system_message"))
    store = check_switch(p("Store"), kwargs.get("store"))
    metadata = check_metadata(p("MetaData"), kwargs.get("metadata"), optional=True)
    temperature = check_float(p("Temperature"), kwargs.get("temperature"))
    max_tokens = check_int(p("MaxCompletionTokens"), kwargs.get("max_completion_tokens"))
    body: dict[str, Any] = {"model": model}
    if store:
        body["store"] = True  # sent only when -Store is given, as in the original
    if metadata:
        body["metadata"] = metadata
    if temperature is not None:
        body["temperature"] = temperature
    if max_tokens is not None:
        body["max_completion_tokens"] = max_tokens
    invocation = prepare_invocation(REQUEST_CHAT_COMPLETION, **settings_kwargs(kwargs))
    return _RequestState(invocation, body, system)


def process_request_chat_completion(state: _RequestState, message: Any) -> PSObject:
    text = check_optional_str(REQUEST_CHAT_COMPLETION.parameter("Message"), message)
    if not text:
        raise ParameterBindingError("Message", "Cannot validate argument on parameter 'Message'. "
                                               "The argument is null or empty.")
    messages = ([{"role": "system", "content": state.system_message}]
                if state.system_message else [])
    messages.append({"role": "user", "content": text})
    body = {"model": state.body["model"], "messages": messages,
            **{k: v for k, v in state.body.items() if k != "model"}}
    result = completion_object(state.invocation.request("POST", "chat/completions", body=body))
    result["Message"] = text
    result["History"] = _history(messages, result)
    return result


def request_chat_completion(
    message: str,
    *,
    system_message: str | None = None,
    model: str | None = None,
    store: bool | None = None,
    metadata: Mapping[str, str] | None = None,
    temperature: float | None = None,
    max_completion_tokens: int | None = None,
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
    """Create a chat completion (``POST /chat/completions``, not streamed); with ``store`` it is
    stored, with ``metadata``.  Returns the completion with Message and History filled in."""
    state = begin_request_chat_completion(dict(locals()))
    return process_request_chat_completion(state, message)
