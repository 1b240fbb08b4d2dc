"""Remove-ChatCompletion: delete a stored chat completion.

The unit: its parameter table, ``begin`` (check the parameters, resolve the settings once),
``describe`` (the WhatIf target), ``process`` (one pipeline item) and the library function.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..parameters import (
    ID_TEXT,
    Command,
    completion_id_parameter,
    settings_parameters,
)
from ..secret import Secret
from ..transport import encode_path
from ..validation import (
    bind_completion_id,
)
from .common import Invocation, prepare_invocation, settings_kwargs
from .unit import CommandUnit

log = logging.getLogger("psopenai_py")

TABLE = Command(
    name="Remove-ChatCompletion",
    python_name="remove_chat_completion",
    synopsis="Deletes a stored chat completion.",
    bulk=True,
    should_process=True,
    parameters=(completion_id_parameter(ID_TEXT), *settings_parameters()),
)

REMOVE_CHAT_COMPLETION = TABLE


def _id(value: Any) -> str:
    return bind_completion_id(TABLE.parameter("CompletionId"), value)


def begin_remove_chat_completion(kwargs: Mapping[str, Any]) -> Invocation:
    return prepare_invocation(TABLE, **settings_kwargs(kwargs))


def describe_remove_chat_completion(invocation: Invocation, completion_id: Any) -> str:
    """The WhatIf target: the id."""
    return _id(completion_id)


def process_remove_chat_completion(invocation: Invocation, completion_id: Any) -> None:
    ident = _id(completion_id)
    response = invocation.request("DELETE", encode_path("chat/completions/{}", ident))
    # As the original: the line only when the API says it deleted it, with the id it names.
    if isinstance(response, Mapping) and response.get("deleted"):
        log.info('The chat with id "%s" has been deleted.', response.get("id"))


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
    _id(completion_id)
    invocation = begin_remove_chat_completion(dict(locals()))
    process_remove_chat_completion(invocation, completion_id)


UNIT = CommandUnit(
    TABLE,
    begin_remove_chat_completion,
    process_remove_chat_completion,
    "CompletionId",
    describe_remove_chat_completion,
)
