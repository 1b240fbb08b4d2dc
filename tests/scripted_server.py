"""A small scripted server on 127.0.0.1 for the dialect tests: every answer is scripted, in order.

    with HostileServer() as server:
        server.script(Answer(200, body=b'"a string"'), Answer(302, headers={"Location": "..."}))
        ... requests to server.url ...
        server.requests   # what arrived: method, target, headers, body

Each request takes the next scripted answer (the last one repeats).  An answer may drip its body
slowly, stop half-way and close the connection, or send any bytes at all.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Answer", "HostileServer", "Seen", "json_answer"]


@dataclass
class Answer:
    """One scripted answer: status, headers, body bytes; ``drip`` seconds between body bytes;
    ``cut_after`` bytes of the body sent before the connection is reset."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    drip: float = 0.0
    cut_after: int | None = None


def json_answer(value: Any, status: int = 200, **headers: str) -> Answer:
    """An answer whose body is ``value`` as JSON."""
    return Answer(
        status, json.dumps(value).encode("utf-8"), {k.replace("_", "-"): v for k, v in headers.items()}
    )


@dataclass
class Seen:
    """One request as it arrived."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            answer = owner.answers[0] if len(owner.answers) == 1 else owner.answers.pop(0)
        self.send_response(answer.status)
        headers = {"Content-Type": "application/json", **answer.headers}
        for name, value in headers.items():
            self.send_header(name, value.replace("{url}", owner.url))
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if answer.cut_after is not None:
            self.wfile.write(answer.body[: answer.cut_after])
            self.wfile.flush()
            # A reset, not a polite close: RST instead of FIN.
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            self.close_connection = True
            return
        if answer.drip:
            for index in range(len(answer.body)):
                self.wfile.write(answer.body[index : index + 1])
                self.wfile.flush()
                time.sleep(answer.drip)
        else:
            self.wfile.write(answer.body)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HostileServer


class HostileServer:
    """A scripted server on 127.0.0.1 (a fresh port); ``url`` ends with ``/v1``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: list[Answer] = [Answer()]
        self.requests: list[Seen] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *answers: Answer) -> None:
        """The answers of the next requests, in order (the last one repeats)."""
        with self.lock:
            self.answers = list(answers)
            self.requests = []

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
