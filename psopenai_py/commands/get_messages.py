"""Get-ChatCompletionMessage: the stored messages of a stored chat completion."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..parameters import (
    ID_TEXT,
    Command,
    completion_id_parameter,
    paging_parameters,
    settings_parameters,
)
from ..psobject import PSObject
from ..results import message_object
from ..secret import Secret
from ..transport import encode_path
from ..validation import (
    bind_completion_id,
)
from .common import Invocation, SettingsKwargs, arguments, prepare_invocation, settings_kwargs
from .paging import Paging, pages
from .unit import CommandUnit

TABLE = Command(
    name="Get-ChatCompletionMessage",
    python_name="get_chat_completion_message",
    synopsis="Gets the stored messages of a stored chat completion.",
    bulk=True,
    parameters=(
        completion_id_parameter(ID_TEXT, aliases=("Completion", "completion_id", "Id")),
        *paging_parameters("messages"),
        *settings_parameters(),
    ),
)


def _id(value: Any) -> str:
    return bind_completion_id(TABLE.parameter("CompletionId"), value)


@dataclass(frozen=True)
class _MessagesState:
    invocation: Invocation
    paging: Paging


class MessagesKwargs(SettingsKwargs, total=False):
    """The keywords get_chat_completion_message hands to its begin step (the binder hands the same, by
    the table's Python names)."""

    limit: int | None
    all_pages: bool | None
    after: str | None
    order: str | None


def begin_get_chat_completion_message(kwargs: MessagesKwargs) -> _MessagesState:
    paging = Paging.from_kwargs(TABLE, kwargs)
    invocation = prepare_invocation(TABLE, **settings_kwargs(kwargs))
    return _MessagesState(invocation, paging)


def process_get_chat_completion_message(state: _MessagesState, completion_id: Any) -> Iterator[PSObject]:
    ident = _id(completion_id)
    path = encode_path("chat/completions/{}/messages", ident)
    return (message_object(m) for m in pages(state.invocation, path, state.paging))


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
    _id(completion_id)
    state = begin_get_chat_completion_message(arguments(TABLE, locals()))
    return list(process_get_chat_completion_message(state, completion_id))


UNIT = CommandUnit(
    TABLE, begin_get_chat_completion_message, process_get_chat_completion_message, "CompletionId"
)
