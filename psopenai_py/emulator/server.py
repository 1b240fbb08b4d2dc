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
``POST /__emulator/latency`` (``{"ms": N}``).  With an ``api_key`` set, the control API asks for
that key too.  Recorded credentials (``Authorization``, ``api-key``) leave the process masked:
``GET /__emulator/requests`` and the log show ``sk-****wxyz``; the in-process records
(:attr:`Emulator.requests`) keep what arrived, for tests that check what a client sent.

A safe local server: bounded bodies, connections, seeds, stored completions and records
(:class:`Limits`), idle and header timeouts, and every malformed request answered with a JSON
error in the API's shape and logged as one line on the ``psopenai_py.emulator`` logger.
"""

from __future__ import annotations

import base64
import hmac
import io
import json
import logging
import re
import secrets
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .store import CompletionStore, StoreFull, page

__all__ = [
    "Fault",
    "RecordedRequest",
    "EmulatorServer",
    "Limits",
    "mask_key",
    "quota_fault",
    "rate_limit_fault",
]

log = logging.getLogger("psopenai_py.emulator")

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


@dataclass(frozen=True)
class Limits:
    """What one emulator accepts, so that a local server cannot be run out of memory, threads or
    time by one client (or one mistyped loop).

    ``max_connections`` open connections are served at once, each by one thread; the next ones
    get a 503 and are closed.  A connection that sends nothing for ``idle_timeout`` seconds
    (before a request, between keep-alive requests, or inside a body) is closed; the request
    line and headers must arrive within ``header_timeout`` seconds of the server starting to wait
    for them, and the body within as long again, however slowly the bytes drip in.
    """

    max_body_bytes: int = 1024 * 1024
    max_connections: int = 128
    max_seed: int = 100_000
    max_stored: int = 200_000
    max_records: int = 100_000
    max_record_bytes: int = 256 * 1024 * 1024
    idle_timeout: float = 5.0
    header_timeout: float = 10.0


def mask_key(key: str) -> str:
    """A key for display: its first 3 and last 4 characters around ``****``; short keys hide all.

    The emulator keeps its own copy of this rule: it imports nothing from the client package.
    """
    return key[:3] + "****" + key[-4:] if len(key) >= 16 else "****"


_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key"})
_KEYLIKE = re.compile(r"(?i)(bearer\s+)?\b(sk-[A-Za-z0-9_\-]{8,})")


def _masked_header(name: str, value: str) -> str:
    """The value of a header as the control API shows it: credentials masked, scheme kept."""
    if name.lower() not in _SECRET_HEADERS:
        return value
    scheme, _, token = value.partition(" ")
    if token and scheme.lower() in ("bearer", "basic"):
        return f"{scheme} {mask_key(token.strip())}"
    return mask_key(value.strip())


def _loggable(text: str, limit: int = 160) -> str:
    """Untrusted text for one log line: key-like tokens masked, escaped, cut to ``limit``."""
    text = _KEYLIKE.sub(lambda m: (m.group(1) or "") + mask_key(m.group(2)), text)
    shown = text[:limit].encode("unicode_escape").decode("ascii")
    return shown + ("..." if len(text) > limit else "")


class EmulatorServer(ThreadingHTTPServer):
    """The server object: state, faults, records and counters shared by all handler threads."""

    daemon_threads = True
    # On Windows SO_REUSEADDR lets a second server take a port that is in use, so it is left off
    # there; elsewhere it only allows restarting on a port in TIME_WAIT.
    allow_reuse_address = sys.platform != "win32"
    request_queue_size = 1024  # a burst of connections waits in the kernel, not in SYN retries

    def __init__(
        self,
        port: int = 0,
        *,
        latency_ms: int = 0,
        api_key: str | None = None,
        seed: int | None = None,
        record: bool = True,
        limits: Limits | None = None,
    ) -> None:
        # Fail before binding, so that a bad setting never leaves a socket behind.
        self.limits = limits or Limits()
        super().__init__(("127.0.0.1", port), _Handler)
        self.store = CompletionStore(seed=seed, max_items=self.limits.max_stored)
        self.latency_ms = latency_ms
        self.api_key = api_key
        self.record = record
        self.lock = threading.Lock()
        self.faults: deque[Fault] = deque()
        self.requests: deque[RecordedRequest] = deque()
        self.record_bytes = 0
        self.records_dropped = 0
        self.connections = 0
        self.open_connections = 0
        self.refused = 0
        self._slots = threading.BoundedSemaphore(self.limits.max_connections)
        self._refusals_logged_at = 0.0

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    # -- connections: a bounded number of handler threads ---------------------------------------
    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        with self.lock:
            self.open_connections += 1
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release()

    def _release(self) -> None:
        with self.lock:
            self.open_connections -= 1
        self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        """Over the connection limit: a 503 in the API's shape, then close (in the accept thread,
        so no thread is spent on it; the write is small and bounded by a short timeout)."""
        limit = self.limits.max_connections
        payload = json.dumps(
            _error(
                f"The emulator is serving its limit of {limit} open connections; retry later.",
                "server_error",
                None,
                "too_many_connections",
            )
        ).encode("utf-8")
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        )
        try:
            request.settimeout(0.5)
            request.sendall(head.encode("ascii") + payload)
        except OSError:
            pass
        self.shutdown_request(request)
        now = time.monotonic()
        with self.lock:
            self.refused += 1
            refused, due = self.refused, now - self._refusals_logged_at >= 5.0
            if due:
                self._refusals_logged_at = now
        if due:  # one line per burst, not one per connection
            log.warning(
                "refused a connection over the limit of %d open connections (%d refused so far)",
                limit,
                refused,
            )

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line, never a traceback; a client that went away is normal and not logged."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        log.warning(
            "%s: connection failed: %s", _peer(client_address), _loggable(f"{type(error).__name__}: {error}")
        )

    # -- state ------------------------------------------------------------------------------------
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

    def add_record(self, record: RecordedRequest) -> None:
        """Keep a request, dropping the oldest beyond the record limits (counted in stats)."""
        limits = self.limits
        with self.lock:
            self.requests.append(record)
            self.record_bytes += len(record.body)
            while self.requests and (
                len(self.requests) > limits.max_records or self.record_bytes > limits.max_record_bytes
            ):
                self.record_bytes -= len(self.requests.popleft().body)
                self.records_dropped += 1

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.requests.clear()
            self.record_bytes = 0
            self.records_dropped = 0
            self.connections = 0
        self.store.clear()


def _peer(address: Any) -> str:
    try:
        return f"{address[0]}:{address[1]}"
    except (TypeError, IndexError):
        return str(address)


class _DeadlineReader(io.RawIOBase):
    """The connection's read side: each read waits at most the idle timeout, and never past the
    current deadline, so a client dripping one byte at a time cannot hold a thread for long."""

    def __init__(self, sock: socket.socket, idle_timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._idle = idle_timeout
        self.deadline: float | None = None
        self.received = 0

    def begin(self, seconds: float) -> None:
        """Start a new deadline ``seconds`` from now and a new byte count."""
        self.deadline = time.monotonic() + seconds
        self.received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        timeout = self._idle
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("deadline passed")
            timeout = min(timeout, left)
        self._sock.settimeout(timeout)
        count = self._sock.recv_into(buffer)
        self.received += count
        return count


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorServer
    server_version = "psopenai-emulator"
    rbufsize = 64 * 1024

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        limits = self.server.limits
        self.connection.settimeout(limits.idle_timeout)
        self._reader = _DeadlineReader(self.connection, limits.idle_timeout)
        self.rfile = io.BufferedReader(self._reader, self.rbufsize)
        self._answered = False
        # One handler instance serves one TCP connection, however many requests it carries.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.lock:
            self.server.connections += 1
            self.connection_number = self.server.connections

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the records and the control API tell what happened; bad requests are logged
        as one line each by :meth:`send_error`."""

    def handle_one_request(self) -> None:
        """One request, as the standard library reads it, with the head under a deadline and
        every malformed request answered with a JSON error (see :meth:`send_error`)."""
        self._reader.begin(self.server.limits.header_timeout)
        self._answered = False
        self.command = None  # type: ignore[assignment]  # set by parse_request
        self.raw_requestline = b""
        self.requestline = ""
        self.request_version = self.default_request_version
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True  # the client closed, or kept quiet: nothing to say
                return
            if len(self.raw_requestline) > 65536:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG, "Request line too long.")
                return
            if not self.parse_request():
                if not self._answered:
                    self.send_error(HTTPStatus.BAD_REQUEST, "Empty request line.")
                return
            if self.request_version == "HTTP/0.9":
                self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 requests are not supported.")
                return
            if self.command not in ("GET", "POST", "DELETE", "PUT", "PATCH"):
                self.send_error(
                    HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({_loggable(self.command, 20)})."
                )
                return
            self._handle()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True
            if (self.raw_requestline or self._reader.received) and not self._answered:
                # Part of a request came, then stalled (a slow or dripping client); a
                # connection that sent nothing is closed without a word, as servers do.
                self.send_error(
                    HTTPStatus.REQUEST_TIMEOUT,
                    f"The request did not arrive within {self.server.limits.header_timeout:g} s.",
                )
        except ConnectionError:
            self.close_connection = True

    def handle_expect_100(self) -> bool:
        """Refuse an oversized body before the client sends it."""
        if self._body_length() is None:
            return False
        return super().handle_expect_100()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Every protocol-level error as a JSON error in the API's shape, logged in one line;
        the connection is closed after it, as the stream position is no longer known."""
        status = HTTPStatus(code)
        text = message or status.phrase
        self._answered = True
        self.close_connection = True
        log.warning(
            "%s: %d %s: %s",
            _peer(self.client_address),
            code,
            _loggable(text),
            _loggable(self.requestline) or "(no request line)",
        )
        if self.request_version not in ("HTTP/1.0", "HTTP/1.1"):
            self.request_version = "HTTP/1.1"  # answer a malformed line with a real status line
        kind = "server_error" if code >= 500 else "invalid_request_error"
        payload = json.dumps(_error(text, kind, None, None)).encode("utf-8")
        try:
            self.connection.settimeout(self.server.limits.idle_timeout)
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            pass

    def _body_length(self) -> int | None:
        """The declared body length, or None after answering a bad or oversized one."""
        if self.headers.get("Transfer-Encoding") is not None:
            self.send_error(
                HTTPStatus.LENGTH_REQUIRED, "Transfer-Encoding is not supported; send a Content-Length."
            )
            return None
        values = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if not values:
            return 0
        value = values.pop()
        if values or not re.fullmatch(r"[0-9]{1,18}", value):
            self.send_error(
                HTTPStatus.BAD_REQUEST, f"Invalid Content-Length header ({_loggable(value, 40)})."
            )
            return None
        length = int(value)
        limit = self.server.limits.max_body_bytes
        if length > limit:
            self.send_error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"Request body too large: {length} bytes; the limit is {limit} bytes.",
            )
            self._discard(length)
            return None
        return length

    def _discard(self, length: int) -> None:
        """Read and drop what the client is still sending (bounded in time, constant in
        memory), so that it sees the error instead of a reset connection."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self._reader.begin(self.server.limits.header_timeout)
            while length > 0:
                chunk = self.rfile.read1(min(length, 64 * 1024))
                if not chunk:
                    break
                length -= len(chunk)
        except (OSError, ValueError):
            pass

    def _read_body(self) -> bytes | None:
        length = self._body_length()
        if length is None:
            return None
        if not length:
            return b""
        self._reader.begin(self.server.limits.header_timeout)
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True  # the client closed mid-body; nobody to answer
            return None
        return body

    # -- plumbing -------------------------------------------------------------------------------
    def _handle(self) -> None:
        body = self._read_body()
        if body is None:
            return
        self.connection.settimeout(self.server.limits.idle_timeout)
        parts = urlsplit(self.path)
        started = time.perf_counter()
        try:
            if parts.path.startswith(_CONTROL_PREFIX):
                self._authorize_control()
                status, result = self._control(parts.path[len(_CONTROL_PREFIX) :], body)
                self._send(status, json.dumps(result).encode("utf-8"), "application/json", {}, started)
                return
            if self._inject(parts.path, body, started):
                return
            status, result = self._route(parts.path, parts.query, body)
        except _ApiError as exc:
            status, result = exc.status, exc.body
            log.info(
                "%s: %d %s: %s",
                _peer(self.client_address),
                status,
                _loggable(str(exc)),
                _loggable(self.requestline),
            )
        except Exception as exc:  # the server stays up and says what went wrong, in one line
            log.warning(
                "%s: 500 %s: %s",
                _peer(self.client_address),
                _loggable(f"{type(exc).__name__}: {exc}"),
                _loggable(self.requestline),
            )
            status, result = 500, _error("The emulator failed on this request.", "server_error", None, None)
        self._send(
            status, json.dumps(result, ensure_ascii=False).encode("utf-8"), "application/json", {}, started
        )

    def _inject(self, path: str, body: bytes, started: float) -> bool:
        """Record the request, apply latency and the next matching fault; True when answered."""
        if self.server.record:
            self.server.add_record(
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
        fault = self.server.take_fault(self.command, path)
        if self.server.latency_ms:
            time.sleep(self.server.latency_ms / 1000.0)
        if fault is None:
            return False
        if fault.delay_ms:
            time.sleep(fault.delay_ms / 1000.0)
        if fault.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.status is None:
            return False
        payload = (
            fault.raw_body.encode("utf-8")
            if fault.raw_body is not None
            else json.dumps(fault.body).encode("utf-8")
        )
        content_type = "text/html" if fault.raw_body is not None else "application/json"
        self._send(fault.status, payload, content_type, fault.headers, started)
        return True

    def _send(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str], started: float
    ) -> None:
        self._answered = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", "req_" + secrets.token_hex(16))
        self.send_header("openai-processing-ms", str(int((time.perf_counter() - started) * 1000)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    # -- the control API ------------------------------------------------------------------------
    def _control(self, action: str, body: bytes) -> tuple[int, Any]:
        server = self.server
        limits = server.limits
        method = self.command
        if action == "faults" and method == "POST":
            items = _json_value(body, "[]")
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise _ApiError(400, "The faults body must be a JSON list of objects.")
            try:
                faults = [Fault(**item) for item in items]
            except TypeError as exc:
                raise _ApiError(400, f"Invalid fault: {_loggable(str(exc))}.") from None
            for fault in faults:
                server.add_fault(fault)
            return 200, {"faults": len(server.faults)}
        if action == "requests" and method == "GET":
            with server.lock:
                return 200, [
                    dict(
                        asdict(r),
                        headers=[[k, _masked_header(k, v)] for k, v in r.headers],
                        body=base64.b64encode(r.body).decode(),
                    )
                    for r in server.requests
                ]
        if action == "stats" and method == "GET":
            with server.lock:
                return 200, {
                    "connections": server.connections,
                    "requests": len(server.requests),
                    "stored": len(server.store),
                    "faults": len(server.faults),
                    "open_connections": server.open_connections,
                    "refused_connections": server.refused,
                    "records_dropped": server.records_dropped,
                    "threads": threading.active_count(),
                }
        if action == "seed" and method == "POST":
            options = _json_object(body)
            count = _bounded_int(options, "count", 1, 0, limits.max_seed)
            prefix, model = options.get("prefix", "chatcmpl-seed-"), options.get("model", "gpt-4o-mini")
            if not isinstance(prefix, str) or not isinstance(model, str):
                raise _ApiError(
                    400,
                    "Invalid 'prefix' or 'model': expected a string.",
                    param="prefix",
                    code="invalid_type",
                )
            metadata = _check_metadata(options, required=False)
            try:
                ids = server.store.seed(count, prefix=prefix, model=model, metadata=metadata)
            except StoreFull as exc:
                raise _store_full(exc) from None
            return 200, {"seeded": len(ids), "first_id": ids[0] if ids else None}
        if action == "latency" and method == "POST":
            server.latency_ms = _bounded_int(_json_object(body), "ms", 0, 0, 600_000)
            return 200, {"latency_ms": server.latency_ms}
        if action == "reset" and method == "POST":
            server.reset()
            return 200, {"reset": True}
        raise _ApiError(
            404,
            f"Unknown control action ({method} {_CONTROL_PREFIX}{_loggable(action, 40)}).",
            code="unknown_control_action",
        )

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
        if self.server.api_key is not None and not hmac.compare_digest(
            key.encode("utf-8", "surrogateescape"), self.server.api_key.encode("utf-8", "surrogateescape")
        ):
            raise _ApiError(
                401,
                f"Incorrect API key provided: {mask_key(key)}. You can find "
                "your API key at https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )

    def _authorize_control(self) -> None:
        """With ``--api-key``, the control API asks for the same key as the API."""
        if self.server.api_key is not None:
            self._authorize()

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
        try:
            return self.server.store.create(
                model=model, messages=messages, metadata=metadata, store=body.get("store") is True
            )
        except StoreFull as exc:
            raise _store_full(exc) from None

    def _list(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        model = next((v for k, v in params if k == "model"), None)
        metadata = {k[9:-1]: v for k, v in params if k.startswith("metadata[") and k.endswith("]")}
        after, limit, order = _paging(params)
        items = self.server.store.list(model=model, metadata=metadata or None)
        return page(items, after=after, limit=limit, order=order)


def _not_found(ident: str) -> _ApiError:
    return _ApiError(404, f"No chat completion found with id '{ident}'.", param=None, code="not_found")


def _store_full(exc: StoreFull) -> _ApiError:
    return _ApiError(
        400,
        f"{exc} Reset the emulator (POST {_CONTROL_PREFIX}reset) or start it with a higher --max-stored.",
        code="emulator_store_full",
    )


def _json_value(body: bytes, default: str | None = None) -> Any:
    """The parsed body (``default`` when empty); invalid JSON, invalid UTF-8 or nesting too deep
    for the parser is a 400, as the API answers it."""
    try:
        return json.loads(body if body or default is None else default)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise _ApiError(
            400,
            "We could not parse the JSON body of your request. (HINT: This "
            "likely means you aren't using your HTTP library correctly.)",
        ) from None


def _json_body(body: bytes) -> dict[str, Any]:
    value = _json_value(body)
    if not isinstance(value, dict):
        raise _ApiError(400, "The body of your request must be a JSON object.")
    return value


def _json_object(body: bytes) -> dict[str, Any]:
    """A control API body: a JSON object, empty meaning ``{}``."""
    value = _json_value(body, "{}")
    if not isinstance(value, dict):
        raise _ApiError(400, "The body of your request must be a JSON object.")
    return value


def _bounded_int(options: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _ApiError(
            400,
            f"Invalid '{name}': expected an integer from {low} to {high}, but "
            f"got {_loggable(json.dumps(value), 40)} instead.",
            param=name,
            code="integer_out_of_range" if isinstance(value, int) else "invalid_type",
        )
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
