"""Raw and streamed responses: ``with_raw_response`` and ``with_streaming_response``.

``client.chat.completions.with_raw_response.retrieve(...)`` makes the same request as
``retrieve(...)`` and returns a :class:`LegacyAPIResponse`: the HTTP answer (status, headers, the
request as sent with its credentials masked, the body) and ``parse()``, which gives what the
plain call returns.  ``with_streaming_response.retrieve(...)`` returns a context manager that makes
the request on entering and gives an :class:`APIResponse` (``read()``, ``text()``, ``json()``,
``iter_bytes()``, ``parse()``), closed on leaving.

An answer that is one JSON object (every call here but ``create(stream=True)``) is read in full
within the attempt's deadline before either is returned, as every answer of this package's
transport is; a streamed response's ``is_closed`` says whether it was closed (on leaving its
``with`` block, or by ``close()``).  A streamed completion is read as it arrives.

The same method serves the three ways: the wrappers here run it with the way set in a context
variable, which the client reads when it has the answer, so a method is written once.
"""

from __future__ import annotations

import contextvars
import datetime
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, Literal, NoReturn, ParamSpec, TypeVar, cast

from ..scoped import scoped
from ..transport import Exchange, HTTPRequest, HTTPResponse
from ._models import BaseModel

__all__ = [
    "ResponseHead",
    "LegacyAPIResponse",
    "APIResponse",
    "AsyncAPIResponse",
    "APIResponseContextManager",
    "AsyncAPIResponseContextManager",
    "to_raw_response_wrapper",
    "async_to_raw_response_wrapper",
    "to_streamed_response_wrapper",
    "async_to_streamed_response_wrapper",
    "response_mode",
    "ResponseMode",
]

_R = TypeVar("_R")
_P = ParamSpec("_P")
_T = TypeVar("_T")

ResponseMode = Literal["parsed", "raw", "streaming"]
_mode: contextvars.ContextVar[ResponseMode] = contextvars.ContextVar(
    "psopenai_response_mode", default="parsed"
)


def response_mode() -> ResponseMode:
    """How the call being made returns: its result, a raw response, or a streamed response."""
    return _mode.get()


class ResponseHead:
    """What every response object shows of an answer's head: the HTTP response, its status, its
    headers and its URL."""

    def __init__(self, response: HTTPResponse) -> None:
        self._response = response

    @property
    def http_response(self) -> HTTPResponse:
        """The HTTP response (``requests.Response``)."""
        return self._response

    @property
    def headers(self) -> Any:
        """The answer's headers (a case-insensitive mapping)."""
        return self._response.headers

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return int(self._response.status_code)

    @property
    def url(self) -> str:
        """The URL the request went to."""
        return str(self._response.url)


class _Answer(ResponseHead, Generic[_R]):
    """What both response kinds show of an answer, and its parsing (cached per target type).
    ``streamed``: the answer is a stream (``create(stream=True)``), its body read by the stream
    ``parse()`` gives."""

    def __init__(self, exchange: Exchange, parse: Callable[[Exchange], _R], streamed: bool = False) -> None:
        super().__init__(exchange.response)
        self._exchange = exchange
        self._parse = parse
        self._parsed: dict[Any, Any] = {}
        self._streamed = streamed

    def _body_of_stream(self) -> NoReturn:
        raise TypeError("The body of a streamed answer is read through parse(), as its chunks.")

    @property
    def http_request(self) -> HTTPRequest:
        """The request as sent, its credentials masked."""
        request = self._exchange.response.request
        assert request is not None  # the transport sends prepared requests only
        return request

    @property
    def method(self) -> str:
        """The request's method."""
        return str(self.http_request.method)

    @property
    def http_version(self) -> str:
        """``HTTP/1.1``: the version this package's transport (urllib3) speaks."""
        return "HTTP/1.1"

    @property
    def elapsed(self) -> datetime.timedelta:
        """From sending the request to the answer's headers."""
        return self._exchange.response.elapsed

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` header."""
        value = self.headers.get("x-request-id")
        return None if value is None else str(value)

    @property
    def retries_taken(self) -> int:
        """How many times the request was retried before this answer."""
        return self._exchange.retries_taken

    def _parse_to(self, to: Any) -> Any:
        if self._streamed and to is not None:
            self._body_of_stream()
        key = to if to is not None else "__default__"
        if key not in self._parsed:
            self._parsed[key] = self._parse(self._exchange) if to is None else _parse_as(self._exchange, to)
        return self._parsed[key]

    def __repr__(self) -> str:
        reason = self._exchange.response.reason or ""
        return f"<{type(self).__name__} [{self.status_code} {reason}]>"


def _stream_closed(exchange: Exchange) -> bool:
    return bool(getattr(exchange.content, "closed", True))


def _parse_as(exchange: Exchange, to: Any) -> Any:
    """``parse(to=...)``: the body as another type (a model, ``dict``, ``str``, ``bytes``)."""
    response = exchange.response
    if to is str:
        return response.text
    if to is bytes:
        return response.content
    if to in (dict, object) or to is Any:
        return exchange.content
    if isinstance(to, type) and issubclass(to, BaseModel):
        parsed = to.construct(**exchange.content)
        parsed._request_id = response.headers.get("x-request-id")
        return parsed
    raise TypeError(f"parse(to=...) takes a model class, dict, str or bytes, not {to!r}.")


class LegacyAPIResponse(_Answer[_R]):
    """The raw response of ``with_raw_response``: the body is read; ``parse()`` gives the call's
    result (with ``_request_id``), ``content`` the bytes, ``text`` the text."""

    @property
    def is_closed(self) -> bool:
        """True: the body was read before the response was returned (for a stream: whether the
        stream was closed)."""
        return _stream_closed(self._exchange) if self._streamed else True

    @property
    def content(self) -> bytes:
        """The body."""
        if self._streamed:
            self._body_of_stream()
        return bytes(self._exchange.response.content)

    @property
    def text(self) -> str:
        """The body as text."""
        if self._streamed:
            self._body_of_stream()
        return str(self._exchange.response.text)

    def parse(self, *, to: Any = None) -> _R:
        """The call's result (``to``: the body as another type instead)."""
        return cast(_R, self._parse_to(to))

    def __repr__(self) -> str:
        return f"<APIResponse [{self.status_code} {self._exchange.response.reason or ''}]>"


class _Streamed(_Answer[_R]):
    def __init__(self, exchange: Exchange, parse: Callable[[Exchange], _R], streamed: bool = False) -> None:
        super().__init__(exchange, parse, streamed)
        self._closed = False

    @property
    def is_closed(self) -> bool:
        """Whether the response was closed (leaving its ``with`` block closes it)."""
        return self._closed

    def _close(self) -> None:
        self._closed = True
        if self._streamed:
            self._exchange.content.close()

    def _body(self) -> bytes:
        if self._streamed:
            self._body_of_stream()
        return bytes(self._exchange.response.content)

    def _chunks(self, chunk_size: int | None) -> Iterator[bytes]:
        body = self._body()
        size = chunk_size or len(body) or 1
        for start in range(0, len(body), size):
            yield body[start : start + size]

    def _lines(self) -> list[str]:
        return self._body().decode(self._exchange.response.encoding or "utf-8", "replace").splitlines()


class APIResponse(_Streamed[_R]):
    """The response of ``with_streaming_response``, inside its ``with`` block."""

    def parse(self, *, to: Any = None) -> _R:
        """The call's result (``to``: the body as another type instead)."""
        return cast(_R, self._parse_to(to))

    def read(self) -> bytes:
        """The body."""
        return self._body()

    def text(self) -> str:
        """The body as text."""
        return self._body().decode(self._exchange.response.encoding or "utf-8", "replace")

    def json(self) -> object:
        """The body, parsed."""
        return json.loads(self._body())

    def close(self) -> None:
        """Close the response (a stream's connection is released; any other's is already back
        in the pool)."""
        self._close()

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body in pieces of ``chunk_size`` bytes (one piece without it)."""
        yield from self._chunks(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        """The body as text, in pieces."""
        text = self.text()
        size = chunk_size or len(text) or 1
        for start in range(0, len(text), size):
            yield text[start : start + size]

    def iter_lines(self) -> Iterator[str]:
        """The body's lines."""
        yield from self._lines()


class AsyncAPIResponse(_Streamed[_R]):
    """The response of the asynchronous ``with_streaming_response``: its reads are awaited."""

    async def parse(self, *, to: Any = None) -> _R:
        """The call's result (``to``: the body as another type instead)."""
        return cast(_R, self._parse_to(to))

    async def read(self) -> bytes:
        """The body."""
        return self._body()

    async def text(self) -> str:
        """The body as text."""
        return self._body().decode(self._exchange.response.encoding or "utf-8", "replace")

    async def json(self) -> object:
        """The body, parsed."""
        return json.loads(self._body())

    async def close(self) -> None:
        """Close the response (a stream's connection is released; any other's is already back
        in the pool)."""
        self._close()

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body in pieces of ``chunk_size`` bytes (one piece without it)."""
        for chunk in self._chunks(chunk_size):
            yield chunk

    async def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """The body as text, in pieces."""
        text = self._body().decode(self._exchange.response.encoding or "utf-8", "replace")
        size = chunk_size or len(text) or 1
        for start in range(0, len(text), size):
            yield text[start : start + size]

    async def iter_lines(self) -> AsyncIterator[str]:
        """The body's lines."""
        for line in self._lines():
            yield line


class APIResponseContextManager(Generic[_T]):
    """``with ...with_streaming_response.retrieve(...) as response:``: the request is made on
    entering, and the response closed on leaving."""

    def __init__(self, make: Callable[[], _T]) -> None:
        self._make = make
        self._response: _T | None = None

    def __enter__(self) -> _T:
        self._response = self._make()
        return self._response

    def __exit__(self, *exc: object) -> None:
        close = getattr(self._response, "close", None)
        if callable(close):
            close()


class AsyncAPIResponseContextManager(Generic[_T]):
    """``async with ...with_streaming_response.retrieve(...) as response:``."""

    def __init__(self, make: Callable[[], Awaitable[_T]]) -> None:
        self._make = make
        self._response: _T | None = None

    async def __aenter__(self) -> _T:
        self._response = await self._make()
        return self._response

    async def __aexit__(self, *exc: object) -> None:
        close = getattr(self._response, "close", None)
        if callable(close):
            await close()


# -- the wrappers: the same method, another way of returning ---------------------------------------


def _in_mode(mode: ResponseMode, call: Callable[[], _T]) -> _T:
    with scoped(_mode, mode):
        return call()


def to_raw_response_wrapper(func: Callable[_P, _R]) -> Callable[_P, LegacyAPIResponse[_R]]:
    """``func`` returning its raw response."""

    @functools.wraps(func)
    def wrapped(*args: _P.args, **kwargs: _P.kwargs) -> LegacyAPIResponse[_R]:
        return cast(LegacyAPIResponse[_R], _in_mode("raw", lambda: func(*args, **kwargs)))

    return wrapped


def async_to_raw_response_wrapper(
    func: Callable[_P, Awaitable[_R]],
) -> Callable[_P, Awaitable[LegacyAPIResponse[_R]]]:
    """The asynchronous ``func`` returning its raw response (``list`` included: its paginator
    is awaited)."""

    @functools.wraps(func)
    async def wrapped(*args: _P.args, **kwargs: _P.kwargs) -> LegacyAPIResponse[_R]:
        with scoped(_mode, "raw"):
            return cast(LegacyAPIResponse[_R], await func(*args, **kwargs))

    return wrapped


def to_streamed_response_wrapper(
    func: Callable[_P, _R],
) -> Callable[_P, APIResponseContextManager[APIResponse[_R]]]:
    """``func`` as a context manager of its streamed response (nothing is sent before entering)."""

    @functools.wraps(func)
    def wrapped(*args: _P.args, **kwargs: _P.kwargs) -> APIResponseContextManager[APIResponse[_R]]:
        return APIResponseContextManager(
            lambda: cast(APIResponse[_R], _in_mode("streaming", lambda: func(*args, **kwargs)))
        )

    return wrapped


def async_to_streamed_response_wrapper(
    func: Callable[_P, Awaitable[_R]],
) -> Callable[_P, AsyncAPIResponseContextManager[AsyncAPIResponse[_R]]]:
    """The asynchronous ``func`` as an async context manager of its streamed response."""

    @functools.wraps(func)
    def wrapped(*args: _P.args, **kwargs: _P.kwargs) -> AsyncAPIResponseContextManager[AsyncAPIResponse[_R]]:
        async def make() -> AsyncAPIResponse[_R]:
            with scoped(_mode, "streaming"):
                return cast(AsyncAPIResponse[_R], await func(*args, **kwargs))

        return AsyncAPIResponseContextManager(make)

    return wrapped
