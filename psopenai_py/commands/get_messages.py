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
from ..transport import encode_path
from ..validation import check_optional_str
from .common import (
    Invocation,
    PagingKwargs,
    SettingsKwargs,
    arguments,
    completion_id_of,
    prepare_invocation,
    settings_kwargs,
)
from .paging import Paging, pages
from .unit import CommandUnit

TABLE = Command(
    name="Get-ChatCompletionMessage",
    python_name="get_chat_completion_message",
    synopsis="Gets the stored messages of a stored chat completion.",
    bulk=True,
    parameters=(
        # PSOpenAI 4.49.0 Private/Get-ChatCompletionMessage.ps1:6-11: the aliases InputObject, Id,
        # Completion and completion_id; its hidden -Before (:29-30) is accepted and unused.
        completion_id_parameter(ID_TEXT, aliases=("Completion", "completion_id", "InputObject", "Id")),
        *paging_parameters("messages"),
        *settings_parameters(),
    ),
)


@dataclass(frozen=True)
class _MessagesState:
    invocation: Invocation
    paging: Paging


class MessagesKwargs(PagingKwargs, SettingsKwargs, total=False):
    """The arguments of :func:`psopenai_py.get_chat_completion_message` by its table's Python
    names, as its call and the binder hand them to the begin step."""

    completion_id: Any


def begin_get_chat_completion_message(kwargs: MessagesKwargs) -> _MessagesState:
    paging = Paging.from_kwargs(TABLE, kwargs)
    check_optional_str(TABLE.parameter("Before"), kwargs.get("before"))
    invocation = prepare_invocation(TABLE, **settings_kwargs(kwargs))
    return _MessagesState(invocation, paging)


def process_get_chat_completion_message(state: _MessagesState, completion_id: Any) -> Iterator[PSObject]:
    ident = completion_id_of(TABLE, completion_id)
    path = encode_path("chat/completions/{}/messages", ident)
    return (message_object(m) for m in pages(state.invocation, path, state.paging))


def call(given: Mapping[str, Any]) -> list[PSObject]:
    """The run of :func:`psopenai_py.get_chat_completion_message`, from its arguments (its
    ``locals()``): the id checked first, then its messages."""
    kwargs: MessagesKwargs = arguments(TABLE, given)
    completion_id_of(TABLE, kwargs.get("completion_id"))
    state = begin_get_chat_completion_message(kwargs)
    return list(process_get_chat_completion_message(state, kwargs.get("completion_id")))


UNIT = CommandUnit(
    TABLE, begin_get_chat_completion_message, process_get_chat_completion_message, "CompletionId"
)
