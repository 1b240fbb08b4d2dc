"""One client connection: reading its requests under deadlines, refusing what is malformed or
too large, and answering each request through the control API or the API.

Every read waits at most the idle timeout and never past the current deadline
(:class:`_DeadlineReader`), so a client dripping one byte at a time cannot hold a thread for long;
every malformed request is answered with a JSON error in the API's shape and logged as one line.
An API request goes through :meth:`Handler._answer_api`: recorded (:class:`RecordedRequest`),
delayed by the latency, answered by the next matching fault if there is one, else by the rate
limit when its key is over budget, else by the routes; a streamed create is sent as server-sent
events as it is made (:meth:`Handler._send_stream`), where a fault may delay, cut off or spoil
it part-way.
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from . import control, routes, streaming
from .faults import Fault
from .origin import check_origin
from .protocol import CONTROL_PREFIX, ApiError, error_body, loggable, peer

if TYPE_CHECKING:
    from .server import EmulatorServer

__all__ = ["Answer", "StreamAnswer", "Handler", "RecordedRequest"]

log = logging.getLogger("psopenai_py.emulator")


@dataclass
class RecordedRequest:
    """One API request as it arrived: request line parts, headers in order, body bytes."""

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


class Answer(NamedTuple):
    """What the emulator sends back to one request: status, body, its type, extra headers."""

    status: int
    payload: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = {}

    @classmethod
    def json(cls, status: int, value: Any) -> Answer:
        """A JSON answer; non-ASCII text is sent as UTF-8, as the API sends it."""
        return cls(status, json.dumps(value, ensure_ascii=False).encode("utf-8"))


@dataclass(frozen=True)
class StreamAnswer:
    """A streamed answer: its chunks, sent as events as they are made, and the fault (if any)
    that spoils it part-way."""

    streamed: streaming.Streamed
    fault: Fault | None = None


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


class Handler(BaseHTTPRequestHandler):
    """Serves one TCP connection, however many keep-alive requests it carries."""

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
        self._rate_headers: dict[str, str] = {}  # the rate limiter's, for the current answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection_number = self.server.count_connection()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the records and the control API tell what happened; bad requests are logged
        as one line each by :meth:`send_error`."""

    # -- reading a request ----------------------------------------------------------------------
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
                    HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({loggable(self.command, 20)})."
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
            peer(self.client_address),
            code,
            loggable(text),
            loggable(self.requestline) or "(no request line)",
        )
        if self.request_version not in ("HTTP/1.0", "HTTP/1.1"):
            self.request_version = "HTTP/1.1"  # answer a malformed line with a real status line
        kind = "server_error" if code >= 500 else "invalid_request_error"
        payload = json.dumps(error_body(text, kind)).encode("utf-8")
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
            self.send_error(HTTPStatus.BAD_REQUEST, f"Invalid Content-Length header ({loggable(value, 40)}).")
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

    # -- answering ------------------------------------------------------------------------------
    def _handle(self) -> None:
        self._rate_headers = {}
        body = self._read_body()
        if body is None:
            return
        self.connection.settimeout(self.server.limits.idle_timeout)
        parts = urlsplit(self.path)
        started = time.perf_counter()
        answer: Answer | StreamAnswer | None
        try:
            check_origin(self.headers)  # no web page, no other host name (origin.py)
            if parts.path.startswith(CONTROL_PREFIX):
                action = parts.path[len(CONTROL_PREFIX) :]
                result = control.answer(self.server, self.command, action, self.headers, body)
                answer = Answer(200, json.dumps(result).encode("utf-8"))
            else:
                answer = self._answer_api(parts.path, parts.query, body)
        except ApiError as exc:
            log.info(
                "%s: %d %s: %s",
                peer(self.client_address),
                exc.status,
                loggable(str(exc)),
                loggable(self.requestline),
            )
            answer = Answer.json(exc.status, exc.body)
        except Exception as exc:  # the server stays up and says what went wrong, in one line
            log.warning(
                "%s: 500 %s: %s",
                peer(self.client_address),
                loggable(f"{type(exc).__name__}: {exc}"),
                loggable(self.requestline),
            )
            answer = Answer.json(500, error_body("The emulator failed on this request.", "server_error"))
        if isinstance(answer, StreamAnswer):
            self._send_stream(answer, started)
        elif answer is not None:
            self._send(answer, started)

    def _answer_api(self, path: str, query: str, body: bytes) -> Answer | StreamAnswer | None:
        """An API request, in order: recorded, delayed by the latency, answered by the next
        matching fault if there is one, else refused by the rate limit (:mod:`.ratelimit`) when
        its key is over budget, else by the routes.  None: a fault dropped the connection, and
        there is nobody to answer."""
        server = self.server
        if server.record:
            headers = list(self.headers.items())
            server.add_record(
                RecordedRequest(
                    self.command,
                    self.path,
                    self.request_version,
                    headers,
                    body,
                    self.connection_number,
                    time.monotonic(),
                )
            )
        fault = server.take_fault(self.command, path)
        refusal = None
        if server.rate_limiter.active and (fault is None or (fault.status is None and not fault.drop)):
            # Decided on arrival, as the API decides (a refused request takes nothing); its
            # headers go on whatever answer this request gets, errors included.
            verdict = server.rate_limiter.check(self.headers, self.command, path, body)
            self._rate_headers, refusal = verdict.headers, verdict.refusal
        if server.latency_ms:
            time.sleep(server.latency_ms / 1000.0)
        if fault is not None:
            if fault.delay_ms:
                time.sleep(fault.delay_ms / 1000.0)
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
            if fault.status is not None:
                payload, content_type = fault.payload()
                return Answer(fault.status, payload, content_type, fault.headers)
        if refusal is not None:
            return Answer.json(*refusal)  # counted by the limiter rather than logged: one per 429
        result = routes.answer(server, self.command, path, query, self.headers, body)
        if isinstance(result, streaming.Streamed):
            return StreamAnswer(result, fault)
        return Answer.json(200, result)

    def _send(self, answer: Answer, started: float) -> None:
        self._answered = True
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.payload)))
        self.send_header("x-request-id", "req_" + secrets.token_hex(16))
        self.send_header("openai-processing-ms", str(int((time.perf_counter() - started) * 1000)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        for name, value in self._rate_headers.items():
            self.send_header(name, value)
        if self.close_connection:
            # The client asked for it (Connection: close, or HTTP/1.0): say so, as HTTP/1.1
            # requires, or a pooled client reuses a connection this server is about to close.
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.payload)

    def _send_stream(self, answer: StreamAnswer, started: float) -> None:
        """A streamed answer: ``200 text/event-stream``, one event per chunk, each written (and
        so flushed) as it is made, then ``data: [DONE]``.  Chunked on HTTP/1.1, so the
        connection stays usable; an HTTP/1.0 client reads to the end of the connection."""
        self._answered = True
        fault = answer.fault
        delay = _count(fault.chunk_delay_ms if fault else None) or 0
        drop_after = _count(fault.drop_after_chunks if fault else None)
        error_after = _count(fault.error_after_chunks if fault else None)
        chunked = self.request_version == "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("x-request-id", "req_" + secrets.token_hex(16))
        self.send_header("openai-processing-ms", str(int((time.perf_counter() - started) * 1000)))
        for name, value in self._rate_headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        items = streaming.chunks(answer.streamed)
        # Spoilt after this many chunks (the first of the two faults, when both are given).
        cut = min((n for n in (drop_after, error_after) if n is not None), default=len(items))
        try:
            self.end_headers()
            for index, item in enumerate(items[:cut]):
                if index and delay:
                    time.sleep(delay / 1000.0)
                self._write_event(streaming.event(item), chunked)
            if cut == drop_after:
                self._drop()
                return
            if cut == error_after:
                message = "The emulator was told to fail this stream."
                self._write_event(streaming.error_event(message, code="injected"), chunked)
            else:
                self._write_event(streaming.DONE_EVENT, chunked)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True  # the client went away mid-stream: nobody to tell

    def _write_event(self, data: bytes, chunked: bool) -> None:
        """One event, written whole (in one chunk of the chunked encoding)."""
        if chunked:
            data = f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n"
        self.wfile.write(data)

    def _drop(self) -> None:
        """Cut the connection off mid-answer, without ending the body."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)


def _count(value: Any) -> int | None:
    """A fault's count or milliseconds: a whole number from 0, else not set."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None
