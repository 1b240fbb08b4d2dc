"""AsyncOpenAI runs the synchronous transport in worker threads: a cancelled task stops its request
at once (its connection is shut, nothing is retried) and leaves no thread behind, whether it was
waiting for an answer or for the next chunk of a stream."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import psopenai_py

KEY = "sk-cancel-0000000000000000000000"
STALL_SECONDS = 20.0
"""How long the server waits for the client to hang up (a bound, never reached when it works)."""

SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"%x\r\n%s\r\n"
    % (
        len(b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\n'),
        b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\n',
    )
)


class StallingServer:
    """Reads each request, sends ``head`` (nothing by default), then waits for the client to
    hang up, and records that it did."""

    def __init__(self, head: bytes = b"") -> None:
        self.head = head
        self.requests = 0
        self.request_seen = threading.Event()
        self.hung_up = threading.Event()
        self._done = threading.Event()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self._listener.settimeout(0.1)  # to look at _done between connections
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> StallingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(STALL_SECONDS)
        self._listener.close()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while not self._done.is_set():
                try:
                    connection, _ = self._listener.accept()
                except TimeoutError:
                    continue
                with connection:
                    connection.settimeout(STALL_SECONDS)
                    received = b""
                    while b"\r\n\r\n" not in received:
                        received += connection.recv(65536)
                    self.requests += 1
                    self.request_seen.set()
                    connection.sendall(self.head)
                    while connection.recv(65536):
                        pass  # whatever else comes; an empty read is the client hanging up
                    self.hung_up.set()


@pytest.fixture
def threads_before() -> Iterator[set[threading.Thread]]:
    yield set(threading.enumerate())


def _left_over(before: set[threading.Thread]) -> list[threading.Thread]:
    """Threads started since, still running, that are not the package's daemon helpers."""
    return [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]


async def _cancel_once_sent(server: StallingServer, task: asyncio.Task[Any]) -> None:
    seen = await asyncio.to_thread(server.request_seen.wait, STALL_SECONDS)
    assert seen
    await asyncio.sleep(0.05)  # the worker is now blocked reading the answer
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_cancelled_request_is_stopped_and_leaves_no_thread(threads_before):
    with StallingServer() as server:

        async def main() -> None:
            client = psopenai_py.AsyncOpenAI(api_key=KEY, base_url=server.url, timeout=STALL_SECONDS * 2)
            task = asyncio.create_task(client.chat.completions.retrieve("chatcmpl-stalled"))
            await _cancel_once_sent(server, task)
            await client.close()

        # asyncio.run ends by waiting for every worker thread of the loop: it returns only
        # once the worker gave up its request.
        asyncio.run(main())
        assert server.hung_up.wait(STALL_SECONDS) and server.requests == 1  # shut, and not retried
    assert _left_over(threads_before) == []


def test_a_cancelled_read_of_a_stream_stops_it(threads_before):
    with StallingServer(SSE_HEAD) as server:

        async def main() -> None:
            client = psopenai_py.AsyncOpenAI(api_key=KEY, base_url=server.url, timeout=STALL_SECONDS * 2)
            stream = await client.chat.completions.create(model="m", messages=[], stream=True)
            first = await stream.__anext__()
            assert first.object == "chat.completion.chunk"
            task = asyncio.create_task(stream.__anext__())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert stream.response.is_closed
            await client.close()

        asyncio.run(main())
        assert server.hung_up.wait(STALL_SECONDS) and server.requests == 1
    assert _left_over(threads_before) == []


def test_other_tasks_of_the_same_client_go_on(emulator, transport, stored):
    async def main() -> list[str]:
        async with psopenai_py.AsyncOpenAI(api_key=KEY, base_url=emulator.url) as client:
            calls = [client.chat.completions.retrieve(stored) for _ in range(6)]
            results = await asyncio.gather(*calls)
            return [r.id for r in results]

    assert asyncio.run(main()) == [stored] * 6
