"""The API routes: stored chat completions as the OpenAI API serves them.

Each also without the ``/v1`` prefix, and under Azure's ``/openai/v1``:

- ``POST /v1/chat/completions``: create (stored when ``store`` is true), with a canned reply;
  with ``stream: true`` the answer is a :class:`~.streaming.Streamed` that the connection sends
  as server-sent events (``stream_options``: ``include_usage``, ``include_obfuscation``);
- ``GET /v1/chat/completions``: list (``model``, ``metadata[k]=v``, ``after``, ``limit``, ``order``);
- ``GET | POST | DELETE /v1/chat/completions/{id}``: get, update metadata, delete;
- ``GET /v1/chat/completions/{id}/messages``: the stored messages, paged.

Requests are checked as the API checks them, and refused with its statuses and messages.
"""

from __future__ import annotations

import hmac
from email.message import Message
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from .protocol import CONTROL_PREFIX, ApiError, bad_request, json_object, mask_key
from .store import CompletionStore, StoreFull, page
from .streaming import Streamed

if TYPE_CHECKING:
    from .server import EmulatorServer

__all__ = ["answer", "authorize", "check_metadata", "store_full"]

_METADATA_MAX_PAIRS = 16
_METADATA_MAX_KEY = 64
_METADATA_MAX_VALUE = 512


def answer(server: EmulatorServer, method: str, path: str, query: str, headers: Message, body: bytes) -> Any:
    """The API's answer to one request: the JSON value of a 200, a :class:`~.streaming.Streamed`
    completion for a streamed create, or :class:`ApiError`."""
    for prefix in ("/openai/v1", "/v1"):
        if path.startswith(prefix + "/"):
            path = path[len(prefix) :]
            break
    segments = path.strip("/").split("/")
    if segments[:2] != ["chat", "completions"] or len(segments) > 4:
        raise ApiError(404, f"Invalid URL ({method} {path})")
    authorize(server.api_key, headers)
    store = server.store
    params = parse_qsl(query, keep_blank_values=True)
    # Path segments are percent-decoded as a path (a "+" stays a "+").
    ident = unquote(segments[2]) if len(segments) >= 3 else None
    if ident is None:
        if method == "POST":
            return _create(store, json_object(body))
        if method == "GET":
            return _list(store, params)
    elif len(segments) == 3:
        if method == "GET":
            return _found(ident, store.get(ident))
        if method == "POST":
            metadata = check_metadata(json_object(body), required=True)
            return _found(ident, store.update_metadata(ident, metadata))
        if method == "DELETE":
            if not store.delete(ident):
                raise _not_found(ident)
            return {"object": "chat.completion.deleted", "id": ident, "deleted": True}
    elif segments[3] == "messages" and method == "GET":
        messages = store.messages(ident)
        if messages is None:
            raise _not_found(ident)
        after, limit, order = _paging(params)
        return page(messages, after=after, limit=limit, order=order)
    raise ApiError(405, f"Method {method} not allowed for {path}")


def authorize(api_key: str | None, headers: Message) -> None:
    """A key is required (Bearer or ``api-key``); with ``api_key`` set, that key alone."""
    bearer = headers.get("Authorization", "")
    key = bearer[7:] if bearer.lower().startswith("bearer ") else headers.get("api-key")
    if not key:
        raise ApiError(
            401,
            "You didn't provide an API key. You need to provide your API "
            "key in an Authorization header using Bearer auth (i.e. "
            "Authorization: Bearer YOUR_KEY).",
        )
    if api_key is not None and not hmac.compare_digest(
        key.encode("utf-8", "surrogateescape"), api_key.encode("utf-8", "surrogateescape")
    ):
        raise ApiError(
            401,
            f"Incorrect API key provided: {mask_key(key)}. You can find "
            "your API key at https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )


def _found(ident: str, completion: dict[str, Any] | None) -> dict[str, Any]:
    if completion is None:
        raise _not_found(ident)
    return completion


def _missing(param: str) -> ApiError:
    return bad_request(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def _create(store: CompletionStore, body: dict[str, Any]) -> dict[str, Any] | Streamed:
    model = body.get("model")
    messages = body.get("messages")
    if not isinstance(model, str) or not model:
        raise bad_request("you must provide a model parameter", "model", "missing_required_parameter")
    if not isinstance(messages, list) or not messages:
        raise _missing("messages")
    metadata = check_metadata(body, required=False)
    streamed = _stream_options(body)  # checked before anything is stored
    try:
        completion = store.create(
            model=model, messages=messages, metadata=metadata, store=body.get("store") is True
        )
    except StoreFull as exc:
        raise store_full(exc) from None
    if streamed is None:
        return completion
    return Streamed(completion, **streamed)


def _stream_options(body: dict[str, Any]) -> dict[str, bool] | None:
    """``stream`` and ``stream_options`` as the API checks them: None when not streamed, else
    the options (``include_usage``, ``include_obfuscation``)."""
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise bad_request(
            f"Invalid type for 'stream': expected a boolean, but got {_json_name(stream)} instead.",
            "stream",
            "invalid_type",
        )
    options = body.get("stream_options")
    if options is None:
        return {} if stream else None
    if not stream:
        raise bad_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            "invalid_value",
        )
    if not isinstance(options, dict):
        raise bad_request(
            f"Invalid type for 'stream_options': expected an object, but got {_json_name(options)} instead.",
            "stream_options",
            "invalid_type",
        )
    chosen: dict[str, bool] = {}
    for key in ("include_usage", "include_obfuscation"):
        value = options.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise bad_request(
                f"Invalid type for 'stream_options.{key}': expected a boolean, but got "
                f"{_json_name(value)} instead.",
                f"stream_options.{key}",
                "invalid_type",
            )
        chosen[key] = value
    return chosen


def _json_name(value: Any) -> str:
    """The JSON type of a parsed value, as the API names it in its messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _list(store: CompletionStore, params: list[tuple[str, str]]) -> dict[str, Any]:
    model = next((v for k, v in params if k == "model"), None)
    metadata = {k[9:-1]: v for k, v in params if k.startswith("metadata[") and k.endswith("]")}
    after, limit, order = _paging(params)
    items = store.list(model=model, metadata=metadata or None)
    return page(items, after=after, limit=limit, order=order)


def _not_found(ident: str) -> ApiError:
    return ApiError(404, f"No chat completion found with id '{ident}'.", code="not_found")


def store_full(exc: StoreFull) -> ApiError:
    """The store holds its limit: what to do about it."""
    return bad_request(
        f"{exc} Reset the emulator (POST {CONTROL_PREFIX}reset) or start it with a higher --max-stored.",
        code="emulator_store_full",
    )


def check_metadata(body: dict[str, Any], *, required: bool) -> dict[str, str] | None:
    """The body's ``metadata`` as the API checks it: at most 16 pairs of strings, keys up to 64
    characters, values up to 512; null or absent (when not required) is None."""
    if "metadata" not in body:
        if required:
            raise _missing("metadata")
        return None
    metadata = body["metadata"]
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise bad_request(
            f"Invalid type for 'metadata': expected an object, but got {type(metadata).__name__} instead.",
            "metadata",
            "invalid_type",
        )
    if len(metadata) > _METADATA_MAX_PAIRS:
        raise bad_request(
            "Invalid 'metadata': too many properties. Expected an object with "
            f"at most {_METADATA_MAX_PAIRS} properties, but got an object with "
            f"{len(metadata)} properties instead.",
            "metadata",
            "object_above_max_properties",
        )
    for key, value in metadata.items():
        if len(key) > _METADATA_MAX_KEY:
            raise bad_request(
                f"Invalid 'metadata': key '{key}' is too long. Expected a "
                f"string with maximum length {_METADATA_MAX_KEY}, but got a "
                f"string with length {len(key)} instead.",
                "metadata",
                "string_above_max_length",
            )
        if not isinstance(value, str):
            raise bad_request(
                f"Invalid type for 'metadata.{key}': expected a string, but got "
                f"{type(value).__name__} instead.",
                f"metadata.{key}",
                "invalid_type",
            )
        if len(value) > _METADATA_MAX_VALUE:
            raise bad_request(
                f"Invalid 'metadata.{key}': string too long. Expected a string "
                f"with maximum length {_METADATA_MAX_VALUE}, but got a string "
                f"with length {len(value)} instead.",
                f"metadata.{key}",
                "string_above_max_length",
            )
    return metadata


def _paging(params: list[tuple[str, str]]) -> tuple[str | None, int, str]:
    values = dict(params)
    order = values.get("order", "asc")
    if order not in ("asc", "desc"):
        raise bad_request(
            f"Invalid value for 'order': expected one of asc, desc, but got '{order}' instead.",
            "order",
            "invalid_value",
        )
    try:
        limit = int(values.get("limit", "20"))
    except ValueError:
        raise bad_request("Invalid type for 'limit': expected an integer.", "limit", "invalid_type") from None
    if not 1 <= limit <= 100:
        raise bad_request(
            f"Invalid 'limit': integer out of range ({limit}); expected 1 to 100.",
            "limit",
            "integer_out_of_range",
        )
    return values.get("after"), limit, order
