"""A scriptable server of event streams on 127.0.0.1, for tests of streamed answers.

Each request is recorded and answered by a :class:`Stream`: a status and headers, then parts of
the body written one by one (each flushed, with a gap between them), framed as chunked,
Content-Length or close-delimited, and then ended, reset, or held open.  It counts the TCP
connections it accepted and the ones still open, so a test can tell whether a client reused,
closed or leaked a connection.  Every wait is bounded (``hold`` ends after :attr:`Stream.hold`
seconds at most, and at once when the server closes or the client goes away).
"""

from __future__ import annotations

import http.server
import json
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SSEServer", "Stream", "event", "chunk", "DONE_EVENT"]

DONE_EVENT = b"data: [DONE]\n\n"


def event(data: Any, *, name: str | None = None, end: bytes = b"\n") -> bytes:
    """One event: its data (a JSON value, or text as is), with each line ended by ``end``."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    lines = [f"event: {name}"] if name else []
    lines += [f"data: {line}" for line in text.split("\n")]
    return b"".join(line.encode("utf-8") + end for line in lines) + end


def chunk(
    content: str | None = None, *, role: str | None = None, finish: str | None = None
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` with one choice whose delta holds what is given."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-stream",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def reply_events(pieces: Iterable[str]) -> list[bytes]:
    """The events of a reply made of ``pieces``: the role first, one chunk per piece, the finish,
    then ``[DONE]``."""
    parts = [event(chunk("", role="assistant"))]
    parts += [event(chunk(piece)) for piece in pieces]
    parts += [event(chunk(finish="stop")), DONE_EVENT]
    return parts


@dataclass
class Stream:
    """One scripted answer.

    ``parts`` are written in order, ``gap`` seconds apart (``gaps`` gives one per part instead);
    ``framing`` is ``chunked``, ``length`` (a Content-Length for all parts) or ``close`` (the
    end of the body is the end of the connection).  ``then``: ``end`` finishes the body,
    ``reset`` resets the connection (RST) after the parts, ``hold`` keeps it open without
    finishing the body, for at most ``hold`` seconds.  ``head_delay`` waits before the status
    line (``head_hold`` holds the head back as ``hold`` does); ``drip`` writes every part a
    byte at a time, ``drip`` seconds apart.
    """

    parts: list[bytes] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/event-stream"})
    gap: float = 0.0
    gaps: list[float] | None = None
    framing: str = "chunked"
    then: str = "end"
    hold: float = 10.0
    head_delay: float = 0.0
    head_hold: bool = False
    drip: float | None = None


@dataclass(frozen=True)
class Seen:
    """One request as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, fmt: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        owner = self.server.owner
        with owner.lock:
            owner.connections += 1
            owner.open_connections += 1
            self.number = owner.connections

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            owner = self.server.owner
            with owner.lock:
                owner.open_connections -= 1

    def _handle(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, self.path, dict(self.headers.items()), body, self.number)
        with owner.lock:
            owner.seen.append(seen)
        try:
            script = owner.script(seen)
        except Exception as exc:  # a broken script answers 599, so the test sees it
            script = Stream([json.dumps({"error": {"message": repr(exc)}}).encode()], status=599)
        try:
            self._answer(script)
        except OSError:
            self.close_connection = True  # the client went away: what some tests do

    do_GET = do_POST = _handle

    def _wait(self, seconds: float) -> bool:
        """Wait, unless the server closes first (then False)."""
        return not self.server.owner.stopping.wait(seconds)

    def _hold(self, seconds: float) -> None:
        """Keep the connection open until the client closes it, the server closes, or ``seconds``."""
        deadline = time.monotonic() + seconds
        sock = self.connection
        while time.monotonic() < deadline and not self.server.owner.stopping.is_set():
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                try:
                    if not sock.recv(65536):
                        return  # the client closed
                except OSError:
                    return

    def _answer(self, script: Stream) -> None:
        if script.head_delay and not self._wait(script.head_delay):
            return
        if script.head_hold:
            self._hold(script.hold)
            self.close_connection = True
            return
        payload_length = sum(len(p) for p in script.parts)
        self.send_response(script.status)
        for name, value in script.headers.items():
            self.send_header(name, value)
        if script.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        elif script.framing == "length":
            self.send_header("Content-Length", str(payload_length))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()
        gaps = script.gaps or [script.gap] * len(script.parts)
        for index, part in enumerate(script.parts):
            if index and gaps[index] and not self._wait(gaps[index]):
                return
            self._write(part, script)
        if script.then == "reset":
            # SO_LINGER 0: close() sends a RST, the client sees a reset, not an end.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if script.then == "hold":
            self._hold(script.hold)
            self.close_connection = True
            return
        if script.framing == "chunked":
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _write(self, part: bytes, script: Stream) -> None:
        pieces = [part[i : i + 1] for i in range(len(part))] if script.drip is not None else [part]
        for index, piece in enumerate(pieces):
            if index and script.drip and not self._wait(script.drip):
                return
            if script.framing == "chunked":
                piece = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
            self.wfile.write(piece)
            self.wfile.flush()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    owner: SSEServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that goes away mid-stream is what many tests do


class SSEServer:
    """The server, running in a thread from construction until :meth:`close`."""

    def __init__(self, script: Callable[[Seen], Stream] | None = None) -> None:
        self.script: Callable[[Seen], Stream] = script or (lambda seen: Stream(reply_events(["hi"])))
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.connections = 0
        self.open_connections = 0
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="sse-server", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def always(self, stream: Stream) -> None:
        self.script = lambda seen: stream

    def sequence(self, streams: list[Stream]) -> None:
        """Answer with each in turn; the last one repeats."""
        queue = list(streams)

        def script(seen: Seen) -> Stream:
            with self.lock:
                return queue.pop(0) if len(queue) > 1 else queue[0]

        self.script = script

    def wait_open(self, count: int, within: float = 5.0) -> int:
        """Wait (bounded) until at most ``count`` connections are open; the number open then."""
        deadline = time.monotonic() + within
        while True:
            with self.lock:
                open_now = self.open_connections
            if open_now <= count or time.monotonic() > deadline:
                return open_now
            time.sleep(0.01)

    def close(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> SSEServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
