"""Get-ChatCompletion: one stored chat completion by id, or the list of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ParameterBindingError
from ..parameters import (
    Command,
    Parameter,
    completion_id_parameter,
    paging_parameters,
    settings_parameters,
)
from ..psobject import PSObject
from ..results import completion_object, history, message_object
from ..transport import encode_path
from ..validation import (
    check_optional_str,
    check_switch,
)
from .common import (
    FilterKwargs,
    Filters,
    Invocation,
    PagingKwargs,
    SettingsKwargs,
    arguments,
    completion_id_of,
    list_filters,
    prepare_invocation,
    settings_kwargs,
)
from .paging import Paging, all_messages, pages
from .unit import CommandUnit

TABLE = Command(
    name="Get-ChatCompletion",
    python_name="get_chat_completion",
    synopsis="Gets a stored chat completion by id, or lists stored chat completions.",
    bulk=True,
    list_parameters=("Limit", "All", "After", "Before", "Order", "MetaData", "Model"),
    additions=("MetaData", "Model"),
    parameters=(
        completion_id_parameter(
            "The id of the stored chat completion to get. Without it the command lists stored completions.",
            mandatory=False,
            aliases=("Completion", "completion_id", "Id"),
        ),
        *paging_parameters("completions"),
        Parameter(
            "MetaData", "metadata", "IDictionary", "List only completions whose metadata has all these pairs."
        ),
        Parameter("Model", "model", "String", "List only completions made with this model."),
        Parameter(
            "Primitive",
            "no_history",
            "SwitchParameter",
            "Do not fetch the stored messages for Message and History (one request less per "
            "completion); History then holds the reply alone.",
            aliases=("NoHistory",),
            default=False,
        ),
        *settings_parameters(),
    ),
)

PARAMETER_SET_MESSAGE = (
    "Parameter set cannot be resolved using the specified named parameters. One or more "
    "parameters issued cannot be used together or an insufficient number of parameters were "
    "provided."
)
"""PowerShell's message when the id (the Get set) comes with a list parameter (the List set)."""


@dataclass(frozen=True)
class _GetState:
    """A Get run as its begin step checked it: the list's paging and filters, and whether each
    completion's stored messages are read for its History (not with -Primitive)."""

    invocation: Invocation
    paging: Paging
    filters: Filters
    history: bool


class GetKwargs(PagingKwargs, FilterKwargs, SettingsKwargs, total=False):
    """The arguments of :func:`psopenai_py.get_chat_completion` by its table's Python
    names, as its call and the binder hand them to the begin step."""

    completion_id: Any
    no_history: bool | None


def begin_get_chat_completion(kwargs: GetKwargs) -> _GetState:
    p = TABLE.parameter
    filters = list_filters(TABLE, kwargs)
    paging = Paging.from_kwargs(TABLE, kwargs)
    primitive = check_switch(p("Primitive"), kwargs.get("no_history"))
    check_optional_str(p("Before"), kwargs.get("before"))
    invocation = prepare_invocation(TABLE, **settings_kwargs(kwargs))
    return _GetState(invocation, paging, filters, not primitive)


def check_parameter_set(kwargs: Mapping[str, Any]) -> None:
    """The original's two parameter sets: an id (Get) cannot go with a list parameter (List)."""
    if kwargs.get("completion_id") is None:
        return
    for name in TABLE.list_parameters:
        value = kwargs.get(TABLE.parameter(name).python_name)
        if value is not None and value is not False:
            raise ParameterBindingError(name, PARAMETER_SET_MESSAGE)


def _shaped(state: _GetState, data: Mapping[str, Any]) -> PSObject:
    """A completion as the original shapes it: its stored messages (unless Primitive), then the
    reply, as History; the last user message as Message."""
    messages: list[Mapping[str, Any]] = []
    if state.history:
        ident = str(data.get("id"))
        messages = [message_object(m) for m in all_messages(state.invocation, ident)]
    return completion_object(data, history(messages, data))


def process_get_chat_completion(state: _GetState, completion_id: Any) -> Any:
    """One completion by id, or, with no id, a generator over the list; each with Message and
    History filled from its stored messages unless Primitive (one request per completion)."""
    if completion_id is None:
        return (
            _shaped(state, item)
            for item in pages(state.invocation, "chat/completions", state.paging, state.filters)
        )
    ident = completion_id_of(TABLE, completion_id)
    data = state.invocation.request("GET", encode_path("chat/completions/{}", ident))
    return _shaped(state, data)


def call(given: Mapping[str, Any]) -> PSObject | list[PSObject]:
    """The run of :func:`psopenai_py.get_chat_completion`, from its arguments (its ``locals()``):
    the one completion of an id, or the list."""
    kwargs: GetKwargs = arguments(TABLE, given)
    check_parameter_set(kwargs)
    state = begin_get_chat_completion(kwargs)
    completion_id = kwargs.get("completion_id")
    result = process_get_chat_completion(state, completion_id)
    return list(result) if completion_id is None else result


UNIT = CommandUnit(TABLE, begin_get_chat_completion, process_get_chat_completion, "CompletionId")
