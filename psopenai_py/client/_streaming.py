"""``create(stream=True)``: the SDK's ``Stream`` and ``AsyncStream`` over the package's streaming
core (:class:`psopenai_py.transport.ChunkStream`).

A stream yields :class:`~psopenai_py.client.types.ChatCompletionChunk` objects as the server
sends them (``for chunk in stream``; ``async for`` for the asynchronous client), ends at
``data: [DONE]``, and is closed by ``close()``, by leaving its ``with`` block, at its end, and
also when a ``for`` loop over it ends early (``break``): the connection is never left half-read.
``response`` is the answer's head.  An error the server sends inside the stream is raised as
:class:`~psopenai_py.errors.APIError` with the server's message; a connection cut mid-stream as
:class:`~psopenai_py.errors.APIConnectionError`, a stream that goes silent past the timeout as
:class:`~psopenai_py.errors.APITimeoutError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

from .. import cancel
from ..transport import ChunkStream, HTTPRequest
from ._models import BaseModel
from ._response import ResponseHead

__all__ = ["Stream", "AsyncStream", "StreamResponse", "AsyncStreamResponse"]

_T = TypeVar("_T", bound=BaseModel)


class StreamResponse(ResponseHead):
    """The head of a streamed answer (``stream.response``): status, headers, the request as
    sent (credentials masked), and ``close()``, which closes the stream (the HTTP response's
    body is the stream)."""

    def __init__(self, chunks: ChunkStream) -> None:
        super().__init__(chunks.http_response)
        self._chunks = chunks

    @property
    def request(self) -> HTTPRequest | None:
        """The request as sent, credentials masked."""
        return self._response.request

    @property
    def is_closed(self) -> bool:
        """Whether the stream (and its connection) was closed."""
        return self._chunks.closed

    def close(self) -> None:
        """Close the stream, releasing its connection."""
        self._chunks.close()


class AsyncStreamResponse(StreamResponse):
    """``stream.response`` of an :class:`AsyncStream`: ``await response.aclose()``."""

    async def aclose(self) -> None:
        """Close the stream, releasing its connection."""
        self._chunks.close()


class Stream(Generic[_T]):
    """The chunks of a streamed completion, typed, as they come (see the module docstring)."""

    def __init__(
        self,
        chunks: ChunkStream,
        cast_to: type[_T],
        guarded: Callable[[Callable[[], Any]], Any],
    ) -> None:
        self._chunks = chunks
        self._cast_to = cast_to
        self._guarded = guarded
        self.response = StreamResponse(chunks)
        self._iterator = self.__stream__()

    def __stream__(self) -> Iterator[_T]:
        try:
            while True:
                try:
                    chunk = self._guarded(lambda: next(self._chunks))
                except StopIteration:
                    return
                yield self._cast_to.construct(**chunk)
        finally:
            self.close()

    def __next__(self) -> _T:
        return next(self._iterator)

    def __iter__(self) -> Iterator[_T]:
        # A loop that ends early closes the stream: this generator is dropped, and so is ours.
        yield from self._iterator

    def __enter__(self) -> Stream[_T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the stream, releasing its connection (pooled again when it was read to its end)."""
        self._chunks.close()


class AsyncStream(Generic[_T]):
    """The asynchronous :class:`Stream`: ``async for``, ``await close()``, ``async with``.  Each
    chunk is read in a worker thread; a cancelled task stops the stream's connection."""

    def __init__(
        self,
        chunks: ChunkStream,
        cast_to: type[_T],
        guarded: Callable[[Callable[[], Any]], Any],
        in_thread: Callable[[Callable[[], Any], cancel.StopSignal], Awaitable[Any]],
        signal: cancel.StopSignal,
    ) -> None:
        self._chunks = chunks
        self._cast_to = cast_to
        self._guarded = guarded
        self._in_thread = in_thread
        self._signal = signal
        self.response = AsyncStreamResponse(chunks)

    def _next(self) -> Any:
        try:
            return self._guarded(lambda: next(self._chunks))
        except StopIteration:
            return _END

    async def __anext__(self) -> _T:
        chunk = await self._in_thread(self._next, self._signal)
        if chunk is _END:
            raise StopAsyncIteration
        return self._cast_to.construct(**chunk)

    async def __aiter__(self) -> AsyncIterator[_T]:
        try:
            while True:
                try:
                    yield await self.__anext__()
                except StopAsyncIteration:
                    return
        finally:
            self._chunks.close()

    async def __aenter__(self) -> AsyncStream[_T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the stream, releasing its connection."""
        self._chunks.close()

    aclose = close


_END = object()
