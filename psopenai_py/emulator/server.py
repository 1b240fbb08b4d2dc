"""The emulator's HTTP server: an HTTP/1.1 keep-alive server on 127.0.0.1 speaking the OpenAI
stored-completions API, with fault injection, request recording and connection counting.

The parts: :mod:`.connection` reads and answers one client connection, :mod:`.routes` is the API,
:mod:`.control` the control API under ``/__emulator/``, :mod:`.faults` what a test injects,
:mod:`.store` the stored completions.  This module holds the server itself: the connection slots
and the refusal beyond them, and the state every connection shares (faults, records, counters).

A safe local server: bounded bodies, connections, seeds, stored completions and records
(:class:`Limits`), idle and header timeouts, and every malformed request answered with a JSON
error in the API's shape and logged as one line on the ``psopenai_py.emulator`` logger.
Recorded credentials (``Authorization``, ``api-key``) leave the process masked:
``GET /__emulator/requests`` and the log show ``sk-****wxyz``; the in-process records
(:attr:`Emulator.requests`) keep what arrived, for tests that check what a client sent.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any

from .connection import Handler, RecordedRequest
from .faults import Fault
from .protocol import error_body, loggable, peer
from .ratelimit import RateLimit, RateLimiter
from .store import CompletionStore

__all__ = ["EmulatorServer", "Limits"]

log = logging.getLogger("psopenai_py.emulator")


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
        limits: Limits | None = None,
        seed: int | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        # Fail before binding, so that a bad setting never leaves a socket behind.
        self.limits = limits or Limits()
        super().__init__(("127.0.0.1", port), Handler)
        self.store = CompletionStore(seed=seed, max_items=self.limits.max_stored)
        # How it serves, changed at will while it runs (the control API sets the latency): the
        # milliseconds added before every API answer, the one key the API (and the control API)
        # accepts (None: any non-empty key), and whether API requests are kept in `requests`.
        self.latency_ms = 0
        self.api_key: str | None = None
        self.record = True
        self.lock = threading.Lock()
        self.faults: deque[Fault] = deque()
        self.requests: deque[RecordedRequest] = deque()
        self.record_bytes = 0
        self.records_dropped = 0
        self.connections = 0
        self.open_connections = 0
        self.refused = 0
        self.rate_limiter = RateLimiter(rate_limit)
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
            error_body(
                f"The emulator is serving its limit of {limit} open connections; retry later.",
                "server_error",
                code="too_many_connections",
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
            "%s: connection failed: %s", peer(client_address), loggable(f"{type(error).__name__}: {error}")
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

    def count_connection(self) -> int:
        """Count one more accepted connection; its number (from 1, again after a reset)."""
        with self.lock:
            self.connections += 1
            return self.connections

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
        self.rate_limiter.reset()
