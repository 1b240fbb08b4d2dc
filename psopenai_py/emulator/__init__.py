"""A local stored-completions server that behaves like the OpenAI API, for rehearsing scripts
offline, for the tests and for the benchmarks.

From Python::

    from psopenai_py.emulator import Emulator
    with Emulator() as emu:
        done = emu.store.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        psopenai_py.set_chat_completion(done["id"], {"k": "v"}, api_base=emu.url, api_key="sk-emulator-0000")

From a shell: ``psopenai emulator --port 8080`` or ``python -m psopenai_py.emulator --port 8080``
(base URL ``http://127.0.0.1:8080/v1``).  Its limits and timeouts are in :class:`Limits`; the API
it serves is listed in :mod:`.routes`, its control API (faults, records, seed, stats, rate limit,
reset) in :mod:`.control`.  ``Emulator(rate_limit=RateLimit(requests_per_minute=6000,
burst_seconds=2))`` (``psopenai emulator --requests-per-minute 6000 --burst-seconds 2``) limits
every key as the API does, with its ``x-ratelimit-*`` headers and 429s (:mod:`.ratelimit`).
"""

from __future__ import annotations

import threading
from types import TracebackType

from .connection import RecordedRequest
from .faults import Fault, quota_fault, rate_limit_fault
from .ratelimit import RateLimit
from .server import EmulatorServer, Limits
from .store import CANNED_REPLY, CompletionStore, StoreFull

__all__ = [
    "Emulator",
    "Fault",
    "Limits",
    "RateLimit",
    "RecordedRequest",
    "quota_fault",
    "rate_limit_fault",
    "CompletionStore",
    "StoreFull",
    "CANNED_REPLY",
]


class Emulator:
    """A running emulator in a background thread: a handle on its state, faults and records."""

    def __init__(
        self,
        port: int = 0,
        *,
        latency_ms: int = 0,
        api_key: str | None = None,
        seed: int | None = None,
        record: bool = True,
        limits: Limits | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.server = EmulatorServer(port, limits=limits, seed=seed, rate_limit=rate_limit)
        self.server.latency_ms = latency_ms
        self.server.api_key = api_key
        self.server.record = record
        self._thread: threading.Thread | None = None

    def start(self) -> "Emulator":
        """Serve in a daemon thread; returns self."""
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="psopenai-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        """The API base URL: ``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def store(self) -> CompletionStore:
        return self.server.store

    @property
    def requests(self) -> list[RecordedRequest]:
        """The API requests received so far (control requests are not recorded)."""
        with self.server.lock:
            return list(self.server.requests)

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        with self.server.lock:
            return self.server.connections

    @property
    def latency_ms(self) -> int:
        return self.server.latency_ms

    @latency_ms.setter
    def latency_ms(self, value: int) -> None:
        self.server.latency_ms = value

    @property
    def rate_limit(self) -> RateLimit:
        """The budget per API key (:class:`RateLimit`; unlimited by default).  Setting it starts
        every key again with a full bucket."""
        return self.server.rate_limiter.config

    @rate_limit.setter
    def rate_limit(self, value: RateLimit) -> None:
        self.server.rate_limiter.config = value

    @property
    def rate_limited(self) -> int:
        """The 429s the rate limit has answered since the start or the last reset."""
        return self.server.rate_limiter.counts()["limited"]

    def inject(self, *faults: Fault) -> None:
        """Queue faults for the next matching requests, in order."""
        for fault in faults:
            self.server.add_fault(fault)

    def reset(self) -> None:
        """Forget stored completions, faults, records and counters."""
        self.server.reset()
