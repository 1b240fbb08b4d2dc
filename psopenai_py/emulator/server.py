"""The emulator's HTTP side: an HTTP/1.1 keep-alive server on 127.0.0.1 speaking the OpenAI
stored-completions API, with fault injection, request recording and connection counting.

Routes (each also without the ``/v1`` prefix, and under Azure's ``/openai/v1``):

- ``POST /v1/chat/completions``: create (stored when ``store`` is true), with a canned reply;
- ``GET /v1/chat/completions``: list (``model``, ``metadata[k]=v``, ``after``, ``limit``, ``order``);
- ``GET | POST | DELETE /v1/chat/completions/{id}``: get, update metadata, delete;
- ``GET /v1/chat/completions/{id}/messages``: the stored messages, paged.

Control API (never recorded): ``POST /__emulator/faults`` (a JSON list of faults),
``GET /__emulator/requests``, ``GET /__emulator/stats``, ``POST /__emulator/reset``,
``POST /__emulator/seed`` (``{"count": N, "prefix": ..., "metadata": {...}}``) and
``POST /__emulator/latency`` (``{"ms": N}``).
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .store import CompletionStore, page

__all__ = ["Fault", "RecordedRequest", "EmulatorServer", "quota_fault", "rate_limit_fault"]

_METADATA_MAX_PAIRS = 16
_METADATA_MAX_KEY = 64
_METADATA_MAX_VALUE = 512
_CONTROL_PREFIX = "/__emulator/"


@dataclass
class Fault:
    """What the emulator does instead of (or before) answering the next matching request.

    ``status`` with ``headers`` and ``body`` (a JSON value, or ``raw_body`` text sent as is);
    ``delay_ms`` waits first (then answers normally when no status is set); ``drop`` closes the
    connection without answering.  ``times`` is how many requests the fault applies to, and
    ``method``/``path_contains`` restrict which requests match.
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw_body: str | None = None
    delay_ms: int = 0
    drop: bool = False
    times: int = 1
    method: str | None = None
    path_contains: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and (
            self.path_contains is None or self.path_contains in path
        )


def rate_limit_fault(**headers: str) -> Fault:
    """A 429 rate-limit error (retried by clients); headers such as ``retry_after_ms='1500'``."""
    return Fault(
        status=429,
        headers={k.replace("_", "-"): v for k, v in headers.items()},
        body=_error(
            "Rate limit reached for requests. Please try again later.",
            "requests",
            None,
            "rate_limit_exceeded",
        ),
    )


def quota_fault() -> Fault:
    """A 429 quota error (never retried by clients)."""
    return Fault(
        status=429,
        body=_error(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            None,
            "insufficient_quota",
        ),
    )


@dataclass
class RecordedRequest:
    """One request as it arrived: request line parts, headers in order, body bytes."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    connection: int
    received_at: float = 0.0
    """time.monotonic() when the request arrived."""

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.target} {self.version}"

    def json(self) -> Any:
        return json.loads(self.body)


def _error(message: str, type_: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = _error(message, type_, param, code)


class EmulatorServer(ThreadingHTTPServer):
    """The server object: state, faults, records and counters shared by all handler threads."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        port: int = 0,
        *,
        latency_ms: int = 0,
        api_key: str | None = None,
        seed: int | None = None,
        record: bool = True,
    ) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.store = CompletionStore(seed=seed)
        self.latency_ms = latency_ms
        self.api_key = api_key
        self.record = record
        self.lock = threading.Lock()
        self.faults: deque[Fault] = deque()
        self.requests: list[RecordedRequest] = []
        self.connections = 0

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, dropped connection) is normal here, not an error.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.requests.clear()
            self.connections = 0
        self.store.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorServer
    server_version = "psopenai-emulator"

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        # One handler instance serves one TCP connection, however many requests it carries.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.lock:
            self.server.connections += 1
            self.connection_number = self.server.connections

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the records and the control API tell what happened."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    # -- plumbing -------------------------------------------------------------------------------
    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        if parts.path.startswith(_CONTROL_PREFIX):
            self._control(parts.path[len(_CONTROL_PREFIX) :], body)
            return
        if self.server.record:
            with self.server.lock:
                self.server.requests.append(
                    RecordedRequest(
                        self.command,
                        self.path,
                        self.request_version,
                        list(self.headers.items()),
                        body,
                        self.connection_number,
                        time.monotonic(),
                    )
                )
        started = time.perf_counter()
        fault = self.server.take_fault(self.command, parts.path)
        if self.server.latency_ms:
            time.sleep(self.server.latency_ms / 1000.0)
        if fault is not None:
            if fault.delay_ms:
                time.sleep(fault.delay_ms / 1000.0)
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status is not None:
                payload = (
                    fault.raw_body.encode("utf-8")
                    if fault.raw_body is not None
                    else json.dumps(fault.body).encode("utf-8")
                )
                content_type = "text/html" if fault.raw_body is not None else "application/json"
                self._send(fault.status, payload, content_type, fault.headers, started)
                return
        try:
            status, result = self._route(parts.path, parts.query, body)
        except _ApiError as exc:
            status, result = exc.status, exc.body
        self._send(
            status, json.dumps(result, ensure_ascii=False).encode("utf-8"), "application/json", {}, started
        )

    def _send(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str], started: float
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", "req_" + secrets.token_hex(16))
        self.send_header("openai-processing-ms", str(int((time.perf_counter() - started) * 1000)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _control(self, action: str, body: bytes) -> None:
        server = self.server
        if action == "faults" and self.command == "POST":
            for item in json.loads(body or b"[]"):
                server.add_fault(Fault(**item))
            result: Any = {"faults": len(server.faults)}
        elif action == "requests":
            with server.lock:
                result = [dict(asdict(r), body=base64.b64encode(r.body).decode()) for r in server.requests]
        elif action == "stats":
            result = {
                "connections": server.connections,
                "requests": len(server.requests),
                "stored": len(server.store),
                "faults": len(server.faults),
            }
        elif action == "seed" and self.command == "POST":
            options = json.loads(body or b"{}")
            ids = server.store.seed(
                int(options.get("count", 1)),
                prefix=options.get("prefix", "chatcmpl-seed-"),
                model=options.get("model", "gpt-4o-mini"),
                metadata=options.get("metadata"),
            )
            result = {"seeded": len(ids), "first_id": ids[0] if ids else None}
        elif action == "latency" and self.command == "POST":
            server.latency_ms = int(json.loads(body or b"{}").get("ms", 0))
            result = {"latency_ms": server.latency_ms}
        elif action == "reset" and self.command == "POST":
            server.reset()
            result = {"reset": True}
        else:
            self._send(
                404, b'{"error": "unknown control action"}', "application/json", {}, time.perf_counter()
            )
            return
        self._send(200, json.dumps(result).encode("utf-8"), "application/json", {}, time.perf_counter())

    # -- the API --------------------------------------------------------------------------------
    def _authorize(self) -> None:
        bearer = self.headers.get("Authorization", "")
        key = bearer[7:] if bearer.lower().startswith("bearer ") else self.headers.get("api-key")
        if not key:
            raise _ApiError(
                401,
                "You didn't provide an API key. You need to provide your API "
                "key in an Authorization header using Bearer auth (i.e. "
                "Authorization: Bearer YOUR_KEY).",
            )
        if self.server.api_key is not None and key != self.server.api_key:
            shown = key[:3] + "*" * max(len(key) - 7, 0) + key[-4:] if len(key) > 8 else "****"
            raise _ApiError(
                401,
                f"Incorrect API key provided: {shown}. You can find your API "
                "key at https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )

    def _route(self, path: str, query: str, body: bytes) -> tuple[int, Any]:
        for prefix in ("/openai/v1", "/v1"):
            if path.startswith(prefix + "/"):
                path = path[len(prefix) :]
                break
        segments = path.strip("/").split("/")
        if segments[:2] != ["chat", "completions"] or len(segments) > 4:
            raise _ApiError(404, f"Invalid URL ({self.command} {path})")
        self._authorize()
        params = parse_qsl(query, keep_blank_values=True)
        # Path segments are percent-decoded as a path (a "+" stays a "+").
        ident = unquote(segments[2]) if len(segments) >= 3 else None
        method = self.command
        if ident is None:
            if method == "POST":
                return 200, self._create(_json_body(body))
            if method == "GET":
                return 200, self._list(params)
        elif len(segments) == 3:
            if method == "GET":
                return 200, self._found(ident, self.server.store.get(ident))
            if method == "POST":
                metadata = _check_metadata(_json_body(body), required=True)
                return 200, self._found(ident, self.server.store.update_metadata(ident, metadata))
            if method == "DELETE":
                if not self.server.store.delete(ident):
                    raise _not_found(ident)
                return 200, {"object": "chat.completion.deleted", "id": ident, "deleted": True}
        elif segments[3] == "messages" and method == "GET":
            messages = self.server.store.messages(ident)
            if messages is None:
                raise _not_found(ident)
            after, limit, order = _paging(params)
            return 200, page(messages, after=after, limit=limit, order=order)
        raise _ApiError(405, f"Method {method} not allowed for {path}")

    def _found(self, ident: str, completion: dict[str, Any] | None) -> dict[str, Any]:
        if completion is None:
            raise _not_found(ident)
        return completion

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        model = body.get("model")
        messages = body.get("messages")
        if not isinstance(model, str) or not model:
            raise _ApiError(
                400, "you must provide a model parameter", param="model", code="missing_required_parameter"
            )
        if not isinstance(messages, list) or not messages:
            raise _ApiError(
                400,
                "Missing required parameter: 'messages'.",
                param="messages",
                code="missing_required_parameter",
            )
        metadata = _check_metadata(body, required=False)
        return self.server.store.create(
            model=model, messages=messages, metadata=metadata, store=body.get("store") is True
        )

    def _list(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        model = next((v for k, v in params if k == "model"), None)
        metadata = {k[9:-1]: v for k, v in params if k.startswith("metadata[") and k.endswith("]")}
        after, limit, order = _paging(params)
        items = self.server.store.list(model=model, metadata=metadata or None)
        return page(items, after=after, limit=limit, order=order)


def _not_found(ident: str) -> _ApiError:
    return _ApiError(404, f"No chat completion found with id '{ident}'.", param=None, code="not_found")


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        raise _ApiError(
            400,
            "We could not parse the JSON body of your request. (HINT: This "
            "likely means you aren't using your HTTP library correctly.)",
        ) from None
    if not isinstance(value, dict):
        raise _ApiError(400, "The body of your request must be a JSON object.")
    return value


def _check_metadata(body: dict[str, Any], *, required: bool) -> dict[str, str] | None:
    if "metadata" not in body:
        if required:
            raise _ApiError(
                400,
                "Missing required parameter: 'metadata'.",
                param="metadata",
                code="missing_required_parameter",
            )
        return None
    metadata = body["metadata"]
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise _ApiError(
            400,
            f"Invalid type for 'metadata': expected an object, but got {type(metadata).__name__} instead.",
            param="metadata",
            code="invalid_type",
        )
    if len(metadata) > _METADATA_MAX_PAIRS:
        raise _ApiError(
            400,
            "Invalid 'metadata': too many properties. Expected an object with "
            f"at most {_METADATA_MAX_PAIRS} properties, but got an object with "
            f"{len(metadata)} properties instead.",
            param="metadata",
            code="object_above_max_properties",
        )
    for key, value in metadata.items():
        if len(key) > _METADATA_MAX_KEY:
            raise _ApiError(
                400,
                f"Invalid 'metadata': key '{key}' is too long. Expected a "
                f"string with maximum length {_METADATA_MAX_KEY}, but got a "
                f"string with length {len(key)} instead.",
                param="metadata",
                code="string_above_max_length",
            )
        if not isinstance(value, str):
            raise _ApiError(
                400,
                f"Invalid type for 'metadata.{key}': expected a string, but got "
                f"{type(value).__name__} instead.",
                param=f"metadata.{key}",
                code="invalid_type",
            )
        if len(value) > _METADATA_MAX_VALUE:
            raise _ApiError(
                400,
                f"Invalid 'metadata.{key}': string too long. Expected a string "
                f"with maximum length {_METADATA_MAX_VALUE}, but got a string "
                f"with length {len(value)} instead.",
                param=f"metadata.{key}",
                code="string_above_max_length",
            )
    return metadata


def _paging(params: list[tuple[str, str]]) -> tuple[str | None, int, str]:
    values = dict(params)
    order = values.get("order", "asc")
    if order not in ("asc", "desc"):
        raise _ApiError(
            400,
            f"Invalid value for 'order': expected one of asc, desc, but got '{order}' instead.",
            param="order",
            code="invalid_value",
        )
    try:
        limit = int(values.get("limit", "20"))
    except ValueError:
        raise _ApiError(
            400, "Invalid type for 'limit': expected an integer.", param="limit", code="invalid_type"
        ) from None
    if not 1 <= limit <= 100:
        raise _ApiError(
            400,
            f"Invalid 'limit': integer out of range ({limit}); expected 1 to 100.",
            param="limit",
            code="integer_out_of_range",
        )
    return values.get("after"), limit, order
