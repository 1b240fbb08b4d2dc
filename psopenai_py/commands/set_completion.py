"""Set-ChatCompletion: replace the metadata of a stored chat completion.

The unit: its parameter table, ``begin`` (check the parameters, resolve the settings once),
``describe`` (the WhatIf target), ``process`` (one pipeline item) and the library function.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..literal_text import to_literal
from ..parameters import (
    ID_TEXT,
    Command,
    Parameter,
    completion_id_parameter,
    settings_parameters,
)
from ..psobject import PSObject
from ..results import completion_object
from ..secret import Secret
from ..transport import encode_path
from ..validation import bind_completion_id, check_metadata
from .common import Invocation, prepare_invocation, settings_kwargs
from .unit import CommandUnit

log = logging.getLogger("psopenai_py")

TABLE = Command(
    name="Set-ChatCompletion",
    python_name="set_chat_completion",
    synopsis="Modifies the metadata of a stored chat completion.",
    bulk=True,
    should_process=True,
    parameters=(
        completion_id_parameter(ID_TEXT),
        Parameter(
            "MetaData",
            "metadata",
            "IDictionary",
            "The metadata that replaces the stored metadata: at most 16 pairs, string keys "
            "of at most 64 characters, string values of at most 512 characters. An empty "
            "dictionary clears it.",
            mandatory=True,
        ),
        *settings_parameters(),
    ),
)

SET_CHAT_COMPLETION = TABLE


def update_completion(invocation: Invocation, completion_id: str, metadata: Mapping[str, str]) -> PSObject:
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
    metadata = check_metadata(TABLE.parameter("MetaData"), kwargs.get("metadata"))
    invocation = prepare_invocation(TABLE, **settings_kwargs(kwargs))
    return _SetState(invocation, metadata)


def describe_set_chat_completion(state: _SetState, completion_id: Any) -> str:
    """The WhatIf target: the id and the metadata it would get."""
    ident = bind_completion_id(TABLE.parameter("CompletionId"), completion_id)
    return f"{ident} (replace the metadata with {to_literal(state.metadata)})"


def process_set_chat_completion(state: _SetState, completion_id: Any) -> PSObject:
    """Update one completion: an id string, or an object or mapping carrying one."""
    ident = bind_completion_id(TABLE.parameter("CompletionId"), completion_id)
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
    bind_completion_id(TABLE.parameter("CompletionId"), completion_id)
    state = begin_set_chat_completion(
        {
            "metadata": metadata,
            "timeout_sec": timeout_sec,
            "max_retry_count": max_retry_count,
            "api_type": api_type,
            "api_base": api_base,
            "api_version": api_version,
            "auth_type": auth_type,
            "api_key": api_key,
            "organization": organization,
            "additional_query": additional_query,
            "additional_headers": additional_headers,
            "additional_body": additional_body,
        }
    )
    return process_set_chat_completion(state, completion_id)


UNIT = CommandUnit(
    TABLE,
    begin_set_chat_completion,
    process_set_chat_completion,
    "CompletionId",
    describe_set_chat_completion,
)
