"""A list endpoint on 127.0.0.1 for paging tests: the n-th request gets the n-th page (the last
one again after them), a str page is a redirect to it, and the paths asked for are kept.
:func:`paged_lister` serves it and points the module's context at it with ``api_key``."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import psopenai_py


class PagedLister(BaseHTTPRequestHandler):
    """Answers the n-th GET with ``pages[n]``; a str page is a 302 to that location."""

    pages: ClassVar[list[Any]] = []
    served: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        served = type(self).served
        served.append(self.path)
        page = type(self).pages[min(len(served), len(type(self).pages)) - 1]
        if isinstance(page, str):
            self.send_response(302)
            self.send_header("Location", page)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = json.dumps(page).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def paged_lister(api_key: str) -> Iterator[type[PagedLister]]:
    """A :class:`PagedLister` of its own (set its ``pages``), serving while the block runs, with
    the module's context pointed at it."""
    handler = type("Handler", (PagedLister,), {"pages": [], "served": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    psopenai_py.set_openai_context(
        api_base=f"http://127.0.0.1:{server.server_address[1]}/v1", api_key=api_key
    )
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()
