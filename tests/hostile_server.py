"""A scriptable hostile HTTP server on 127.0.0.1, for tests of the package against a server that
misbehaves.

Each request is recorded (:class:`Seen`) and answered by a script, a function from the request
to a :class:`Reply`: any status, reason and headers, a body of any bytes or JSON value, dripped
byte by byte, cut short by a connection reset, or streamed huge.  Usage::

    with HostileServer() as server:
        server.script = lambda seen: Reply(301, headers={"Location": "http://elsewhere/"})
        ...  # call the package with api_base=server.base_url
        assert server.count() == 1

Delays are real but bounded: a drip stops as soon as the client goes away or the server closes.
"""

from __future__ import annotations

import http.server
import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["HostileServer", "Reply", "Seen", "completion", "events"]


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


_UNSET: Any = object()


@dataclass
class Reply:
    """One scripted answer.

    ``body``: bytes and str are sent as they are; any other value as JSON (``_UNSET``: ``{}``).
    ``drip``: seconds between single bytes of the body (the headers go at once).
    ``drip_head``: seconds between single bytes of the status line and headers.
    ``reset_after``: send this many bytes of the body (Content-Length says all of it), then
    reset the connection.  ``huge``: stream this many bytes of filler after the body.
    """

    status: int = 200
    body: Any = _UNSET
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    drip: float | None = None
    reset_after: int | None = None
    huge: int = 0
    content_length: bool = True
    drip_head: float | None = None

    def payload(self) -> bytes:
        if self.body is _UNSET:
            return b"{}"
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


def completion(ident: str, **extra: Any) -> dict[str, Any]:
    """A well-formed chat completion object."""
    return {
        "id": ident,
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o",
        "metadata": {},
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
        **extra,
    }


def events(*items: Any, done: bool = True, **reply: Any) -> Reply:
    """A 200 ``text/event-stream`` of server-sent events: each item is one event, a str or bytes
    sent as it is (fields, comments and blank line included) or any other value as one
    ``data:`` line of JSON; ``done`` ends it with ``data: [DONE]``.  ``reply``: more
    :class:`Reply` fields (``drip``, ``reset_after``, ``huge``)."""
    body = b""
    for item in items:
        if isinstance(item, str):
            item = item.encode("utf-8")
        body += item if isinstance(item, bytes) else b"data: " + json.dumps(item).encode("utf-8") + b"\n\n"
    if done:
        body += b"data: [DONE]\n\n"
    headers = {"Content-Type": "text/event-stream", **reply.pop("headers", {})}
    return Reply(200, body, headers=headers, **reply)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet: tests read the records
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        seen = Seen(
            self.command,
            parts.path,
            dict(parse_qsl(parts.query)),
            {k: v for k, v in self.headers.items()},
            body,
        )
        owner = self.server.owner
        with owner.lock:
            owner.seen.append(seen)
        try:
            reply = owner.script(seen)
        except Exception as exc:  # a broken script answers 599 so the test sees it
            reply = Reply(599, {"error": {"message": f"script failed: {exc!r}"}})
        self._answer(reply)

    do_GET = do_POST = do_DELETE = do_PUT = _handle

    def _answer(self, reply: Reply) -> None:
        payload = reply.payload()
        if reply.drip_head is not None:
            self._drip_head(reply, payload)
            return
        self.send_response(reply.status, reply.reason)
        has_type = any(k.lower() == "content-type" for k in reply.headers)
        if not has_type:
            self.send_header("Content-Type", "application/json")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.content_length:
            self.send_header("Content-Length", str(len(payload) + reply.huge))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        stop = self.server.owner.stopping
        try:
            if reply.reset_after is not None:
                self.wfile.write(payload[: reply.reset_after])
                self.wfile.flush()
                # SO_LINGER 0: close() sends a RST, the client sees a reset, not an end.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if reply.drip is not None:
                for index in range(len(payload)):
                    if stop.wait(reply.drip):
                        break
                    self.wfile.write(payload[index : index + 1])
                    self.wfile.flush()
                return
            self.wfile.write(payload)
            left = reply.huge
            filler = b" " * 65536
            while left > 0 and not stop.is_set():
                self.wfile.write(filler[: min(left, len(filler))])
                left -= len(filler)
        except OSError:  # the client went away: what hostile tests expect it to do
            self.close_connection = True

    def _drip_head(self, reply: Reply, payload: bytes) -> None:
        head = f"HTTP/1.1 {reply.status} {reply.reason or 'OK'}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        data = head.encode("latin-1") + payload
        self.close_connection = True
        try:
            for index in range(len(data)):
                if self.server.owner.stopping.wait(reply.drip_head):
                    return
                self.wfile.write(data[index : index + 1])
                self.wfile.flush()
        except OSError:
            pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    owner: HostileServer


class HostileServer:
    """The server, running in a thread from construction until :meth:`close`."""

    def __init__(self, script: Callable[[Seen], Reply] | None = None) -> None:
        self.script: Callable[[Seen], Reply] = script or (lambda seen: Reply())
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="hostile-server", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base to give the package: ``http://127.0.0.1:<port>/v1``."""
        return self.origin + "/v1"

    def always(self, reply: Reply) -> None:
        """Answer every request with ``reply``."""
        self.script = lambda seen: reply

    def by_path(self, replies: dict[str, Reply], default: Reply | None = None) -> None:
        """Answer by the last path segment (a completion id), else ``default`` (404)."""
        fallback = default or Reply(404, {"error": {"message": "not found"}})

        def script(seen: Seen) -> Reply:
            return replies.get(seen.path.rstrip("/").rsplit("/", 1)[-1], fallback)

        self.script = script

    def sequence(self, replies: list[Reply]) -> None:
        """Answer with each reply in turn; the last one repeats."""
        queue = list(replies)

        def script(seen: Seen) -> Reply:
            with self.lock:
                return queue.pop(0) if len(queue) > 1 else queue[0]

        self.script = script

    def count(self, path_contains: str = "") -> int:
        """How many requests arrived (whose path contains ``path_contains``)."""
        with self.lock:
            return sum(1 for s in self.seen if path_contains in s.path)

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()
        self.script = lambda seen: Reply()

    def close(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
