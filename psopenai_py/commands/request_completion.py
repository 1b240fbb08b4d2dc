"""Request-ChatCompletion: create a chat completion (stored with -Store; streamed with -Stream)."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import retired_models
from ..errors import ParameterBindingError, ParameterTypeError
from ..parameters import (
    Command,
    Parameter,
    settings_parameters,
)
from ..psobject import PSObject
from ..results import completion_object
from ..results import history as with_reply
from ..scrub import scrub_data
from ..streaming import KeySafeText, StreamedText, reply_pieces
from ..transport import ChunkStream
from ..validation import (
    check_float,
    check_int,
    check_metadata,
    check_optional_str,
    check_switch,
)
from . import stored
from .common import Invocation, SettingsKwargs, arguments, prepare_invocation, settings_kwargs
from .unit import CommandUnit

log = logging.getLogger("psopenai_py")

DEFAULT_MODEL = "gpt-5.4-mini"
"""The original's default model (PSOpenAI 4.49.0)."""

TABLE = Command(
    name="Request-ChatCompletion",
    python_name="request_chat_completion",
    synopsis=(
        "Sends a chat completion request; with -Stream the reply's text comes as it is written, "
        "with -Store the result is stored."
    ),
    parameters=(
        Parameter(
            "Message",
            "message",
            "String",
            "The user message, trimmed; a blank one adds no user message (History, system or "
            "developer messages alone may then be sent).",
            aliases=("Text",),
            position=0,
            pipeline_by_value=True,
        ),
        Parameter(
            "Role",
            "role",
            "String",
            "Accepted as in PSOpenAI, where the user message is always sent with role user; "
            "'function' is an error there (it needs a -Name this command does not have).",
            default="user",
        ),
        Parameter(
            "SystemMessage",
            "system_message",
            "String[]",
            "System messages sent before the user message (after any History), each trimmed; "
            "blank ones are skipped.",
            aliases=("system", "RolePrompt", "Instruction"),
        ),
        Parameter(
            "DeveloperMessage",
            "developer_message",
            "String[]",
            "Developer messages sent after the system messages, each trimmed; blank ones are skipped.",
        ),
        Parameter(
            "Model",
            "model",
            "String",
            "The model to use. A piped completion gives its own model.",
            default=DEFAULT_MODEL,
            pipeline_by_property=True,
        ),
        Parameter(
            "History",
            "history",
            "Object[]",
            "Earlier messages of the conversation (each with role and content), sent before the "
            "system and user messages. A piped completion gives its own History, so "
            "Request-ChatCompletion 'hi' | Request-ChatCompletion 'next' continues the conversation.",
            pipeline_by_property=True,
        ),
        Parameter(
            "Verbosity",
            "verbosity",
            "String",
            "The reply's verbosity (low, medium, high), sent only when given.",
            default="medium",
        ),
        Parameter(
            "Stream",
            "stream",
            "SwitchParameter",
            "Stream the reply: its text comes out piece by piece as the model writes it (strings, "
            "also written as information records), instead of the completion object.",
            default=False,
        ),
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
            "Metadata to store with the completion (same limits as Set-ChatCompletion). Sent "
            "whenever the parameter is given, as the original sends it: an empty dictionary as {}, "
            "$null as null (from Python, None is not given).",
        ),
        Parameter(
            "Temperature", "temperature", "Double", "Sampling temperature, 0 to 2.", minimum=0, maximum=2
        ),
        Parameter(
            "MaxCompletionTokens",
            "max_completion_tokens",
            "Int32",
            "The most tokens the reply may have; sent as given (0 too: the API judges it).",
            aliases=("max_completion_tokens",),
        ),
        *settings_parameters(),
    ),
)


NO_MESSAGE = "No message is specified. You must specify one or more messages."
"""The original's error when nothing at all would be sent."""

FUNCTION_ROLE_MESSAGE = 'Messages with role "function" must have a name.'
"""The original's error for -Role function (it needs -Name, which this command does not take)."""


@dataclass(frozen=True)
class _RequestState:
    invocation: Invocation
    body: dict[str, Any]
    system_messages: tuple[str, ...]
    message: Any = None
    model_given: bool = False
    history: tuple[Any, ...] = ()
    role: str = "user"
    developer_messages: tuple[str, ...] = ()
    stream: bool = False


def _texts(param: Parameter, value: Any) -> tuple[str, ...]:
    """A String[] parameter: one string or a list of them (numbers read as text, as PowerShell
    converts them); None is no string."""
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str):
            raise ParameterTypeError(
                param.name,
                f"Cannot process argument transformation on parameter '{param.name}'. Cannot "
                f'convert the value of type "{type(item).__name__}" to type "System.String[]".',
            )
        out.append(item)
    return tuple(out)


class RequestKwargs(SettingsKwargs, total=False):
    """The arguments of :func:`psopenai_py.request_chat_completion` by its table's Python
    names, as its call and the binder hand them to the begin step."""

    message: str | None
    role: str | None
    system_message: str | Sequence[str] | None
    developer_message: str | Sequence[str] | None
    model: str | None
    history: Any
    verbosity: str | None
    stream: bool | None
    store: bool | None
    metadata: Mapping[str, str] | None
    temperature: float | None
    max_completion_tokens: int | None


def begin_request_chat_completion(kwargs: RequestKwargs) -> _RequestState:
    p = TABLE.parameter
    given_model = check_optional_str(p("Model"), kwargs.get("model"))
    if given_model is not None and not given_model.strip():
        # The original sends it and the API refuses it; never fall back to the default model.
        raise ParameterBindingError(
            "Model", "Cannot validate argument on parameter 'Model'. The argument is null or empty."
        )
    model = given_model or DEFAULT_MODEL
    history_given = kwargs.get("history")
    if history_given is not None and not isinstance(history_given, (list, tuple)):
        history_given = [history_given]
    role = check_optional_str(p("Role"), kwargs.get("role"))
    if role == "":
        raise ParameterBindingError(
            "Role", "Cannot validate argument on parameter 'Role'. The argument is null or empty."
        )
    system = _texts(p("SystemMessage"), kwargs.get("system_message"))
    developer = _texts(p("DeveloperMessage"), kwargs.get("developer_message"))
    verbosity = check_optional_str(p("Verbosity"), kwargs.get("verbosity"))
    stream = check_switch(p("Stream"), kwargs.get("stream"))
    store = check_switch(p("Store"), kwargs.get("store"))
    temperature = check_float(p("Temperature"), kwargs.get("temperature"))
    max_tokens = check_int(p("MaxCompletionTokens"), kwargs.get("max_completion_tokens"))
    body: dict[str, Any] = {"model": model}
    if verbosity is not None:
        body["verbosity"] = verbosity  # the original sends it only when given
    if store:
        body["store"] = True  # sent only when -Store is given, as in the original
    if "metadata" in kwargs:
        # Sent whenever the parameter is bound, as the original's ContainsKey('MetaData') test
        # does: @{} as {}, $null as null (the library's call leaves out a None it was not given).
        given_metadata = kwargs["metadata"]
        body["metadata"] = None if given_metadata is None else check_metadata(p("MetaData"), given_metadata)
    if temperature is not None:
        body["temperature"] = temperature
    if max_tokens is not None:
        body["max_completion_tokens"] = max_tokens
    invocation = prepare_invocation(TABLE, **settings_kwargs(kwargs))
    return _RequestState(
        invocation,
        body,
        system,
        kwargs.get("message"),
        given_model is not None,
        tuple(history_given or ()),
        (role or "user").lower(),
        developer,
        stream,
    )


def _history_message(item: Any) -> dict[str, Any] | None:
    """One History entry as the original sends it: role, then content (a refusal of the
    assistant as a refusal part), audio id, name, tool_calls, tool_call_id when set."""
    role = _property(item, "role")
    if not role:
        return None
    out: dict[str, Any] = {"role": str(role)}
    refusal = _property(item, "refusal")
    content = _property(item, "content")
    if refusal and role == "assistant":
        out["content"] = [{"type": "refusal", "refusal": refusal}]
    elif content:
        out["content"] = content
    audio = _property(item, "audio")
    audio_id = _property(audio, "id") if audio is not None else None
    if audio_id:
        out["audio"] = {"id": audio_id}
    for name in ("name", "tool_calls", "tool_call_id"):
        value = _property(item, name)
        if value:
            out[name] = str(value) if name == "name" else value
    return out


def _property(value: Any, name: str) -> Any:
    """A property by name, case-insensitively, of a mapping or an object (None when absent)."""
    if isinstance(value, Mapping):
        for key in value:
            if isinstance(key, str) and key.lower() == name.lower():
                return value[key]
        return None
    if value is None or isinstance(value, (str, int, float, list, tuple)):
        return None
    return getattr(value, name, None)


def process_request_chat_completion(state: _RequestState, item: Any) -> PSObject | Iterator[StreamedText]:
    """One request.  A piped string is the Message; a piped object (a completion) binds Model
    and History by property name, as the original does, so its conversation continues.  With
    -Stream the output is the reply's text, piece by piece (see :func:`_streamed`)."""
    message, model, past = item, state.body["model"], state.history
    if item is not None and not isinstance(item, str):
        message = state.message
        piped_model = _property(item, "model")
        if piped_model and not state.model_given:
            model = check_optional_str(TABLE.parameter("Model"), piped_model)
        piped_history = _property(item, "History")
        if piped_history is not None and not past:
            past = tuple(piped_history) if isinstance(piped_history, (list, tuple)) else (piped_history,)
    text = check_optional_str(TABLE.parameter("Message"), message)
    if text == "":
        raise ParameterBindingError(
            "Message", "Cannot validate argument on parameter 'Message'. The argument is null or empty."
        )
    if state.role == "function":
        raise ParameterBindingError("Role", FUNCTION_ROLE_MESSAGE)
    # As the original builds them: History, then the system and developer messages (trimmed,
    # blank ones skipped), then the trimmed user message, always with role user.
    messages = [m for m in (_history_message(h) for h in past) if m is not None]
    for role, texts in (("system", state.system_messages), ("developer", state.developer_messages)):
        messages.extend({"role": role, "content": t.strip()} for t in texts if t.strip())
    if text is not None and text.strip():
        messages.append({"role": "user", "content": text.strip()})
    if not messages:
        raise ParameterBindingError("Message", NO_MESSAGE)
    body = {
        "model": model,
        "messages": messages,
        **{k: v for k, v in state.body.items() if k != "model"},
    }
    _warn_if_deprecated(state.invocation, model)
    if state.stream:
        # Opened here, so that an answer that is no stream fails this item at once, as a
        # request does; its text is read as the output is asked for.
        return _streamed(stored.create_stream(state.invocation, body), state.invocation)
    data = state.invocation.request("POST", "chat/completions", body=body)
    # Message and History show the user's words again: scrubbed as the answer's fields are, so a
    # key in play typed into a message shows no more here than in the answer.
    key = state.invocation.settings.api_key
    shown = json.loads(scrub_data(json.dumps(messages, ensure_ascii=False), (key,)))
    return completion_object(data, with_reply(shown, data), warn=True)


def _warn_if_deprecated(invocation: Invocation, model: str) -> None:
    """The original's warning for a discontinued or soon discontinued model, before the request
    (under -WarningAction Stop it ends the command there: nothing is sent).  Azure requests are
    not checked, as in the original, whose Azure body names no model (the name is a deployment's)."""
    if invocation.settings.api_type == "Azure":
        return
    warning = retired_models.deprecation_warning(model, retired_models.clock())
    if warning is not None:
        log.warning("%s", warning)


def _streamed(stream: ChunkStream, invocation: Invocation) -> Iterator[StreamedText]:
    """-Stream's output, as PSOpenAI writes it (``Public/Chat/Request-ChatCompletion.ps1``, the
    "Send API Request (Stream)" region): one string per chunk that has text (the first chunk's
    empty string included) as it comes, and nothing else: no completion object, no History.
    Each piece is let go as soon as it cannot be the start of a key (:class:`KeySafeText`), so
    that no key is spelled out across pieces; closing this iterator closes the stream."""
    with contextlib.closing(stream):
        safe = KeySafeText((invocation.settings.api_key,))
        for text in reply_pieces(stream):
            for piece in safe.add(text):
                yield StreamedText(piece)
        for piece in safe.finish():
            yield StreamedText(piece)


def call(given: Mapping[str, Any]) -> PSObject | Iterator[StreamedText]:
    """The run of :func:`psopenai_py.request_chat_completion`, from its arguments (its
    ``locals()``): one request for the message."""
    kwargs: RequestKwargs = arguments(TABLE, given)
    if kwargs.get("metadata") is None:
        kwargs.pop("metadata", None)  # a Python None is "not given"; the binder's $null is bound
    state = begin_request_chat_completion(kwargs)
    return process_request_chat_completion(state, kwargs.get("message"))


UNIT = CommandUnit(TABLE, begin_request_chat_completion, process_request_chat_completion, "Message")
