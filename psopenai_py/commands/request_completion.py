"""Request-ChatCompletion: create a chat completion (stored with -Store).

The unit: its parameter table, ``begin`` (check the parameters, resolve the settings once),
``describe`` (the WhatIf target), ``process`` (one pipeline item) and the library function.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ParameterBindingError
from ..parameters import (
    Command,
    Parameter,
    settings_parameters,
)
from ..psobject import PSObject
from ..results import completion_object, history
from ..secret import Secret
from ..validation import (
    check_float,
    check_int,
    check_metadata,
    check_optional_str,
    check_switch,
)
from .common import Invocation, prepare_invocation, settings_kwargs
from .unit import CommandUnit

log = logging.getLogger("psopenai_py")

TABLE = Command(
    name="Request-ChatCompletion",
    python_name="request_chat_completion",
    synopsis="Sends a chat completion request (not streamed); with -Store the result is stored.",
    parameters=(
        Parameter(
            "Message",
            "message",
            "String",
            "The user message.",
            aliases=("Text",),
            position=0,
            mandatory=True,
            pipeline_by_value=True,
        ),
        Parameter(
            "SystemMessage",
            "system_message",
            "String",
            "A system message sent before the user message.",
            aliases=("Instruction",),
        ),
        Parameter("Model", "model", "String", "The model to use.", default="gpt-4o-mini"),
        Parameter(
            "Store",
            "store",
            "SwitchParameter",
            "Store the completion (sends store: true only when given).",
            default=False,
        ),
        Parameter(
            "MetaData",
            "metadata",
            "IDictionary",
            "Metadata to store with the completion (same limits as Set-ChatCompletion).",
        ),
        Parameter(
            "Temperature", "temperature", "Double", "Sampling temperature, 0 to 2.", minimum=0, maximum=2
        ),
        Parameter(
            "MaxCompletionTokens",
            "max_completion_tokens",
            "Int32",
            "The most tokens the reply may have.",
            minimum=1,
        ),
        *settings_parameters(),
    ),
)

REQUEST_CHAT_COMPLETION = TABLE


@dataclass(frozen=True)
class _RequestState:
    invocation: Invocation
    body: dict[str, Any]
    system_message: str | None


def begin_request_chat_completion(kwargs: Mapping[str, Any]) -> _RequestState:
    p = TABLE.parameter
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
    invocation = prepare_invocation(TABLE, **settings_kwargs(kwargs))
    return _RequestState(invocation, body, system)


def process_request_chat_completion(state: _RequestState, message: Any) -> PSObject:
    text = check_optional_str(TABLE.parameter("Message"), message)
    if not text:
        raise ParameterBindingError(
            "Message", "Cannot validate argument on parameter 'Message'. The argument is null or empty."
        )
    messages = [{"role": "system", "content": state.system_message}] if state.system_message else []
    messages.append({"role": "user", "content": text})
    body = {
        "model": state.body["model"],
        "messages": messages,
        **{k: v for k, v in state.body.items() if k != "model"},
    }
    result = completion_object(state.invocation.request("POST", "chat/completions", body=body))
    result["Message"] = text
    result["History"] = history(messages, result)
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


UNIT = CommandUnit(TABLE, begin_request_chat_completion, process_request_chat_completion, "Message")
