"""Get-ChatCompletion: one stored chat completion by id, or the list of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, overload

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
from ..secret import Secret
from ..transport import encode_path
from ..validation import (
    bind_completion_id,
    check_metadata,
    check_optional_str,
    check_switch,
)
from .common import Invocation, SettingsKwargs, arguments, prepare_invocation, settings_kwargs
from .paging import Paging, pages
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
            "Before",
            "before",
            "String",
            "Accepted for compatibility and not used (the API pages with After only).",
            hidden=True,
        ),
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


def _id(value: Any) -> str:
    return bind_completion_id(TABLE.parameter("CompletionId"), value)


@dataclass(frozen=True)
class _GetState:
    invocation: Invocation
    paging: Paging
    filters: tuple[tuple[str, Any], ...]
    history: bool


class GetKwargs(SettingsKwargs, total=False):
    """The keywords get_chat_completion hands to its begin step (the binder hands the same, by
    the table's Python names)."""

    completion_id: Any
    limit: int | None
    all_pages: bool | None
    after: str | None
    order: str | None
    before: str | None
    metadata: Mapping[str, str] | None
    model: str | None
    no_history: bool | None


def begin_get_chat_completion(kwargs: GetKwargs) -> _GetState:
    p = TABLE.parameter
    metadata = check_metadata(p("MetaData"), kwargs.get("metadata"), optional=True)
    model = check_optional_str(p("Model"), kwargs.get("model"))
    filters = tuple(
        [*((f"metadata[{k}]", v) for k, v in metadata.items()), *((("model", model),) if model else ())]
    )
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
        messages = [
            message_object(m)
            for m in pages(
                state.invocation,
                encode_path("chat/completions/{}/messages", ident),
                Paging(None, True, None, "asc"),
            )
        ]
    return completion_object(data, history(messages, data))


def process_get_chat_completion(state: _GetState, completion_id: Any) -> Any:
    """One completion by id, or, with no id, a generator over the list; each with Message and
    History filled from its stored messages unless Primitive (one request per completion)."""
    if completion_id is None:
        return (
            _shaped(state, item)
            for item in pages(state.invocation, "chat/completions", state.paging, state.filters)
        )
    ident = _id(completion_id)
    data = state.invocation.request("GET", encode_path("chat/completions/{}", ident))
    return _shaped(state, data)


@overload
def get_chat_completion(
    completion_id: None = None,
    *,
    limit: int | None = None,
    all_pages: bool | None = None,
    after: str | None = None,
    order: str | None = None,
    before: str | None = None,
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
) -> list[PSObject]: ...


@overload
def get_chat_completion(
    completion_id: str | Mapping[str, Any] | PSObject,
    *,
    limit: int | None = None,
    all_pages: bool | None = None,
    after: str | None = None,
    order: str | None = None,
    before: str | None = None,
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
) -> PSObject: ...


def get_chat_completion(
    completion_id: Any = None,
    *,
    limit: int | None = None,
    all_pages: bool | None = None,
    after: str | None = None,
    order: str | None = None,
    before: str | None = None,
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
) -> PSObject | list[PSObject]:
    """Get one stored chat completion by id (``GET /chat/completions/{id}``), or, with no id,
    list stored completions: ``limit`` (1-100, default 20), ``all_pages`` (follow the pages),
    ``after``, ``order`` (asc/desc), and the ``metadata`` and ``model`` filters.  Each has
    ``Message`` (the last user message) and ``History`` (the stored messages, then the reply)
    from its stored messages, one request more per completion, unless ``no_history`` (the
    original's -Primitive).  ``before`` is accepted and not used, as in the
    original.  An id with a list parameter is an error.  Returns a completion, or a list."""
    kwargs: GetKwargs = arguments(TABLE, locals())
    check_parameter_set(kwargs)
    state = begin_get_chat_completion(kwargs)
    result = process_get_chat_completion(state, completion_id)
    return list(result) if completion_id is None else result


UNIT = CommandUnit(TABLE, begin_get_chat_completion, process_get_chat_completion, "CompletionId")
