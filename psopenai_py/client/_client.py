"""``OpenAI`` and ``AsyncOpenAI``: the SDK's clients over this package's core.

Settings are resolved once, when a client is made: the arguments, then the SDK's environment
names (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_ORG_ID``), then the package's usual order
(Set-OpenAIContext, module globals, ``OPENAI_API_BASE``/``OPENAI_ORGANIZATION``, the OS keyring).
Requests go through the package's transport with the SDK's retry policy; each client has its own
connection pool, shared by its copies (``with_options``) and closed by ``close()``.

The asynchronous client runs the same synchronous transport in the event loop's worker threads.
A cancelled task stops its request: the worker's wait ends and its connection is shut at once
(:class:`psopenai_py.cancel.StopSignal`), and the cancellation finishes when the worker has.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar, cast

from .. import cancel, checks
from ..commands import stored
from ..commands.common import Invocation
from ..errors import (
    APIError,
    APIRequestException,
    APIResponseValidationError,
    InvalidResponseException,
    MissingSettingError,
    OpenAIError,
    ParameterBindingError,
    PSOpenAIError,
    sdk_exception,
)
from ..secret import Secret
from ..transport import Exchange, Transport, default_transport
from ._checks import (
    check_headers,
    check_mapping,
    check_max_retries,
    check_str,
    check_timeout,
    query_pairs,
    typed,
)
from ._models import BaseModel
from ._options import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, NotGiven, Timeout, is_given, not_given
from ._pages import AsyncCursorPage, PageWalk, SyncCursorPage
from ._resources import AsyncChat, Call, Chat, WrappedView
from ._response import APIResponse, AsyncAPIResponse, LegacyAPIResponse, response_mode
from ._streaming import AsyncStream, Stream

__all__ = ["OpenAI", "AsyncOpenAI"]

_T = TypeVar("_T")
_Client = TypeVar("_Client", bound="_ClientBase")

SDK_LANGUAGE_HEADER = ("X-Stainless-Lang", "python")
"""The one SDK header sent: the official SDK's tests read it from a raw response's request, and
it says only what is true of this client (it is Python).  The SDK's other X-Stainless-* headers
(its package version, operating system, runtime) are telemetry about the official package: not
sent, as this is not that package."""


class _Pool:
    """What a client and its copies share: the transport (its connection pool), and whether
    ``close()`` closed it."""

    def __init__(self) -> None:
        # A fresh pool for this client, timed like the package's default transport (whose
        # clock, sleep and random source can be set with set_default_transport).
        base = default_transport()
        self.transport = Transport(sleep=base.sleep, random=base.random, clock=base.clock)
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.transport.close()


class _ClientBase:
    """What both clients share: the options, the settings resolved once, and a call's way from
    its :class:`Call` to the answer (retries, errors in the SDK's classes, no key anywhere);
    each client makes its own kind of resources (``client.chat``) and views."""

    _page_class: type[SyncCursorPage[Any]] | type[AsyncCursorPage[Any]] = SyncCursorPage
    _resources: ClassVar[type[Chat] | type[AsyncChat]] = Chat
    _methods: ClassVar[tuple[str, ...]] = ()
    _children: ClassVar[tuple[str, ...]] = ("chat",)
    chat: Chat | AsyncChat

    def __init__(
        self,
        *,
        api_key: str | Secret | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: str | NotGiven | None = not_given,
        timeout: float | Timeout | NotGiven | None = not_given,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        _pool: _Pool | None = None,
    ) -> None:
        key = typed(api_key, "api_key", (str, Secret), "a str")
        key = Secret(key) if isinstance(key, str) else key  # held masked, checked when resolved
        url = None if not is_given(base_url) or base_url is None else str(base_url)  # or an httpx URL
        if url is not None:
            shown = checks.shown_url(url.strip())
            url = checks.checked("base_url", checks.base_url, url, f'`base_url` "{shown}"')
        self.timeout: float | Timeout | None = (
            DEFAULT_TIMEOUT if not is_given(timeout) else cast(Any, timeout)
        )
        check_timeout(self.timeout)
        self.max_retries: int = check_max_retries(max_retries)
        organization = check_str(organization, "organization")
        if organization is not None:
            subject = "The organization id given by `organization`"
            organization = checks.checked("organization", checks.header_value, organization, subject) or None
        self._arguments: dict[str, Any] = {
            "api_key": key,
            "organization": organization,
            "project": check_str(project, "project"),
            "base_url": url,
            "timeout": timeout,
            "max_retries": self.max_retries,
            "default_headers": check_headers(default_headers, "default_headers"),
            "default_query": check_mapping(default_query, "default_query"),
        }
        self._pool = _pool or _Pool()
        try:
            self._invocation = stored.open_invocation(
                api_key=key,
                base_url=url,
                organization=organization,
                max_retries=self.max_retries,
                headers=self._headers(),
                api_key_label="`api_key`",
                timeout_sec=0,  # no limit but each call's own (the SDK's `timeout=None` is none)
                transport=self._pool.transport,
            )
        except MissingSettingError as exc:
            if exc.setting != "ApiKey":
                raise
            raise _MissingCredentials(
                "api_key",
                "Missing credentials. Pass `api_key`, set OPENAI_API_KEY, or keep a key in the OS "
                "keyring (psopenai Set-OpenAISecret). Nothing was sent.",
            ) from None
        self._scrub = stored.KeyScrubber(self._invocation.settings.api_key)
        self.chat = self._resources(cast(Any, self))  # the client of its own kind
        raw, streamed = self.chat._wraps
        self.with_raw_response: Any = WrappedView(self, raw)
        """``client.with_raw_response.chat.completions...``: the raw response of each call."""
        self.with_streaming_response: Any = WrappedView(self, streamed)
        """``client.with_streaming_response.chat.completions...``: each call's streamed response."""

    # -- the options ----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        """The headers every request of this client carries: ``X-Stainless-Lang``, then
        ``OpenAI-Project`` from ``project`` or OPENAI_PROJECT_ID, then the default headers (a
        default header given ``omit`` removes the header)."""
        headers: dict[str, str] = {SDK_LANGUAGE_HEADER[0]: SDK_LANGUAGE_HEADER[1]}
        given = self._arguments["project"]
        project = given or os.environ.get("OPENAI_PROJECT_ID") or None
        if project:
            source = "given by `project`" if given else "from the environment variable OPENAI_PROJECT_ID"
            project = checks.checked("project", checks.header_value, project, f"The project id {source}")
            if project:
                headers["OpenAI-Project"] = project
        return _merged_headers(headers, self._arguments["default_headers"])

    @property
    def api_key(self) -> str:
        """The API key in use, as the SDK's attribute gives it (the only place it is shown)."""
        return self._invocation.settings.api_key.reveal()

    @property
    def base_url(self) -> str:
        """The resolved API base URL, ending in ``/`` as the SDK's."""
        base = self._invocation.settings.api_base
        return base if base.endswith("/") else base + "/"

    @property
    def organization(self) -> str | None:
        """The resolved organization id, if any."""
        return self._invocation.settings.organization

    @property
    def project(self) -> str | None:
        """The project id sent as ``OpenAI-Project``, if any."""
        return self._headers().get("OpenAI-Project")

    def is_closed(self) -> bool:
        """Whether ``close()`` closed this client (or a copy sharing its pool)."""
        return self._pool.closed

    def copy(
        self: _Client,
        *,
        api_key: str | Secret | NotGiven | None = not_given,
        organization: str | NotGiven | None = not_given,
        project: str | NotGiven | None = not_given,
        base_url: str | NotGiven | None = not_given,
        timeout: float | Timeout | NotGiven | None = not_given,
        max_retries: int | NotGiven = not_given,
        default_headers: Mapping[str, str] | NotGiven | None = not_given,
        set_default_headers: Mapping[str, str] | NotGiven | None = not_given,
        default_query: Mapping[str, object] | NotGiven | None = not_given,
        set_default_query: Mapping[str, object] | NotGiven | None = not_given,
    ) -> _Client:
        """A new client with these options changed and the rest inherited, sharing this one's
        connections: ``default_headers``/``default_query`` are merged over the current ones,
        ``set_default_headers``/``set_default_query`` replace them."""
        given = {
            "api_key": api_key,
            "organization": organization,
            "project": project,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
        }
        arguments = dict(self._arguments)
        for name, value in given.items():
            if is_given(value):
                arguments[name] = value
        defaults: tuple[tuple[str, Any, Any], ...] = (
            ("default_headers", default_headers, set_default_headers),
            ("default_query", default_query, set_default_query),
        )
        for name, merged, replaced in defaults:
            if is_given(merged) and merged is not None and is_given(replaced) and replaced is not None:
                raise ParameterBindingError(
                    name, f"The `{name}` and `set_{name}` arguments are mutually exclusive"
                )
            if is_given(replaced) and replaced is not None:
                arguments[name] = dict(replaced)
            elif is_given(merged) and merged is not None:
                arguments[name] = {**arguments[name], **merged}
        return type(self)(**arguments, _pool=self._pool)

    with_options = copy

    def __repr__(self) -> str:
        return f"<psopenai_py.{type(self).__name__} base_url={self.base_url!r}>"

    # -- one call -------------------------------------------------------------------------------

    def _exchange(self, call: Call, query: Any = None) -> Exchange:
        """Send ``call`` (with ``query`` instead of its own: a later page), retried by the SDK's
        rules; a failure raised in the SDK's classes, with no fragment of the key in it."""
        if self._pool.closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        invocation, attempt, connect, pairs = self._prepare(call, call.query if query is None else query)
        if call.stream:
            assert call.body is not None
            body = call.body
            chunks = self._guarded(
                lambda: stored.create_stream(invocation, body, timeout=attempt, connect_timeout=connect)
            )
            # The stream's head is the answer; its retries are not counted (the stream's own loop).
            return Exchange(chunks, chunks.http_response, 0)
        return self._guarded(
            lambda: stored.exchange(
                invocation,
                call.method,
                call.path,
                query=pairs,
                body=call.body,
                timeout=attempt,
                connect_timeout=connect,
            )
        )

    def _prepare(
        self, call: Call, query: Any
    ) -> tuple[Invocation, float | None, float | None, list[tuple[str, Any]]]:
        headers = _merged_headers(dict(self._invocation.options.additional_headers or {}), call.extra_headers)
        invocation = stored.with_extras(
            self._invocation,
            headers=headers,
            body=check_mapping(call.extra_body, "extra_body") or None,
            replace_headers=True,
        )
        # The client's timeout is read at each call, as the SDK reads it (it may be assigned).
        attempt, connect = check_timeout(self.timeout if not is_given(call.timeout) else call.timeout)
        # The method's parameters, then the client's default query, then the call's extra one: a
        # later value of a name replaces an earlier one in its place.
        merged: dict[str, list[tuple[str, Any]]] = {}
        for name, value in query:
            merged.setdefault(name, []).append((name, value))
        for extra in (self._arguments["default_query"], check_mapping(call.extra_query, "extra_query")):
            for name, value in extra.items():
                merged[name] = query_pairs(name, value)
        return invocation, attempt, connect, [pair for pairs in merged.values() for pair in pairs]

    def _guarded(self, send: Callable[[], _T]) -> _T:
        """Run one request of the core; every failure as the SDK's exception, scrubbed."""
        try:
            return send()
        except StopIteration:  # the end of a stream, not a failure
            raise
        except APIRequestException as exc:
            raise self._scrubbed(sdk_exception(exc)) from self._scrubbed(exc)
        except PSOpenAIError as exc:
            self._scrubbed(exc)
            raise
        except Exception as exc:
            failed = type(exc).__name__
        # Raised outside the handler, so the original (whose message may quote a header) is not
        # kept even as __context__.
        raise APIError(
            f"The request failed with {failed}; its message is not shown, as it could quote a header.",
            None,
            body=None,
        )

    def _scrubbed(self, exc: _E) -> _E:
        """``exc`` with every text the server could have put in it scrubbed of the key, whole,
        encoded or in part (the transport takes out the key as sent; a server may echo it cut
        short or JSON-escaped)."""
        scrub = self._scrub
        exc.args = tuple(scrub(a) if isinstance(a, str) else a for a in exc.args)
        if isinstance(exc, APIRequestException):
            exc.message = scrub(exc.message)
            exc.content = scrub.value(exc.content)
            exc.type, exc.code, exc.param = (scrub.value(v) for v in (exc.type, exc.code, exc.param))
            if isinstance(exc, APIError):
                exc.body = scrub.value(exc.body)
        return exc

    def _refuse_page(self, problem: InvalidResponseException, exchange: Exchange | None) -> BaseException:
        """The exception for a list page that cannot be followed."""
        response = exchange.response if exchange is not None else None
        body = exchange.content if exchange is not None else None
        return self._scrubbed(APIResponseValidationError(response, body, message=problem.message))

    def _deliver(
        self,
        call: Call,
        exchange: Exchange,
        runner: Any,
        *,
        is_async: bool,
        signal: cancel.StopSignal | None = None,
    ) -> Any:
        """The answer as the call's way of returning asks: its result, a raw response, or a
        streamed one."""

        def parse(answer: Exchange) -> Any:
            if call.stream:
                assert call.model is not None
                return self._stream(answer.content, call.model, signal)
            if call.page is not None:
                walk = PageWalk(call.query, lambda q: self._exchange(call, q), self._refuse_page)
                page, first = walk.first(answer)
                return cast(Any, self._page_class)[call.page]._made(page, first, walk, runner)
            assert call.model is not None
            result = call.model.construct(**answer.content)
            result._request_id = answer.response.headers.get("x-request-id")
            return result

        mode = response_mode()
        if mode == "raw":
            return LegacyAPIResponse(exchange, parse, streamed=call.stream)
        if mode == "streaming":
            streamed = call.stream
            return (
                AsyncAPIResponse(exchange, parse, streamed)
                if is_async
                else APIResponse(exchange, parse, streamed)
            )
        return parse(exchange)

    def _stream(self, chunks: Any, chunk_type: type[BaseModel], signal: cancel.StopSignal | None) -> Any:
        """The stream a streamed create returns (each client its own kind)."""
        raise NotImplementedError


_E = TypeVar("_E", bound=BaseException)


class _MissingCredentials(OpenAIError, MissingSettingError):
    """No API key anywhere: the SDK's ``OpenAIError`` and this package's ``MissingSettingError``."""


def _merged_headers(headers: dict[str, str], extra: Any) -> dict[str, str]:
    """``headers`` with ``extra`` over them, a name whatever its case; a header given ``omit``
    (or None) is removed."""
    merged = dict(headers)
    for name, value in check_headers(extra, "extra_headers").items():
        for known in [k for k in merged if k.lower() == name.lower()]:
            del merged[known]
        if value is not None:
            merged[name] = value
    return merged


class OpenAI(_ClientBase):
    """The SDK's client for stored chat completions (``client.chat.completions``), over this
    package's core.

    Keywords as the SDK's: ``api_key``, ``organization``, ``project`` (sent as ``OpenAI-Project``;
    default OPENAI_PROJECT_ID), ``base_url``, ``timeout`` (seconds, a :class:`Timeout`, or None
    for no limit; default 600 s, 5 s to connect), ``max_retries`` (default 2),
    ``default_headers``, ``default_query``.  A context manager; ``close()`` closes its
    connections.  Raises :class:`~psopenai_py.errors.OpenAIError` (a
    :class:`~psopenai_py.errors.MissingSettingError`) when no key is found.
    """

    chat: Chat

    def _run(self, call: Call) -> Any:
        """Make ``call`` and return what its way of returning asks for."""
        return self._deliver(call, self._exchange(call), _now, is_async=False)

    def _stream(
        self, chunks: Any, chunk_type: type[BaseModel], signal: cancel.StopSignal | None
    ) -> Stream[Any]:
        return Stream(chunks, chunk_type, self._guarded)

    def close(self) -> None:
        """Close the client's connections; it (and its copies) cannot send afterwards."""
        self._pool.close()

    def __enter__(self) -> OpenAI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _now(run: Callable[[], _T]) -> _T:
    """A synchronous page's way of fetching the next page: at once, in this thread."""
    return run()


class AsyncOpenAI(_ClientBase):
    """The SDK's asynchronous client: the same calls, awaited (``list()`` gives a paginator to
    ``await`` or ``async for`` over), ``async with``, ``await client.close()``.

    Each request runs the package's synchronous transport in the event loop's worker threads;
    cancelling the task that awaits it stops it (see the module docstring).
    """

    _page_class = AsyncCursorPage
    _resources = AsyncChat
    chat: AsyncChat

    async def _run(self, call: Call) -> Any:
        """Make ``call`` in a worker thread and return what its way of returning asks for."""
        # A stream keeps the signal of its opening: a task cancelled while reading it stops it.
        signal = cancel.StopSignal()
        exchange = await self._in_thread(lambda: self._exchange(call), signal)
        return self._deliver(call, exchange, self._in_thread, is_async=True, signal=signal)

    def _stream(
        self, chunks: Any, chunk_type: type[BaseModel], signal: cancel.StopSignal | None
    ) -> AsyncStream[Any]:
        assert signal is not None
        return AsyncStream(chunks, chunk_type, self._guarded, self._in_thread, signal)

    async def _in_thread(self, work: Callable[[], _T], signal: cancel.StopSignal | None = None) -> _T:
        """Run ``work`` (blocking) in a worker thread, under ``signal`` (a new one by default).
        If the awaiting task is cancelled, the worker is stopped (its waits end, its connection
        is shut) and waited for before the cancellation goes on, so no thread is left running a
        request nobody awaits."""
        signal = signal or cancel.StopSignal()

        def in_scope() -> _T:
            with cancel.scope(signal):
                return work()

        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, context.run, in_scope)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            signal.set()
            future.add_done_callback(_consume)
            await asyncio.wait([future])
            raise

    async def close(self) -> None:
        """Close the client's connections; it (and its copies) cannot send afterwards."""
        self._pool.close()

    async def __aenter__(self) -> AsyncOpenAI:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve a stopped worker's outcome (it is of no one's interest any more)."""
    if not future.cancelled():
        future.exception()
