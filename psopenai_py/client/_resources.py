"""``client.chat.completions`` (and ``.messages``): the SDK's methods, their checks and their
requests, written once for both clients.

Each method builds its :class:`~._client.Call` and hands it to the client, whose ``_run``
answers at once (``OpenAI``) or as an awaitable (``AsyncOpenAI``); the asynchronous resources
take the synchronous methods as they are, awaited (a list's pages come as a paginator).
``with_raw_response`` and ``with_streaming_response`` at every level, the client's included,
are one view of the resource's methods through one wrapper of :mod:`._response`."""

from __future__ import annotations

import builtins
import functools
import inspect
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, Literal, ParamSpec, TypeVar, cast

from ..commands import stored
from ..errors import ParameterBindingError, ParameterTypeError
from ._checks import check_id, check_messages, check_metadata, check_model, check_str, query_pairs
from ._models import BaseModel
from ._options import NotGiven, Omit, Timeout, is_given, not_given, omit
from ._pages import AsyncPaginator, SyncCursorPage
from ._response import (
    async_to_raw_response_wrapper,
    async_to_streamed_response_wrapper,
    to_raw_response_wrapper,
    to_streamed_response_wrapper,
)
from ._streaming import AsyncStream, Stream
from .types import ChatCompletion, ChatCompletionChunk, ChatCompletionDeleted, ChatCompletionStoreMessage

if TYPE_CHECKING:
    from ._client import OpenAI

__all__ = [
    "Chat",
    "Completions",
    "Messages",
    "AsyncChat",
    "AsyncCompletions",
    "AsyncMessages",
    "Call",
    "WrappedView",
]

Headers = Mapping[str, str | Omit]
Query = Mapping[str, object]
Body = object
TimeoutArg = float | Timeout | None | NotGiven


@dataclass(frozen=True)
class Call:
    """One call of a resource method, checked and ready to send: the request, the caller's
    per-call options, and what the answer becomes (``model``: a model class; ``page``: the item
    class of a list page)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: Mapping[str, Any] | None = None
    extra_headers: Any = None
    extra_query: Any = None
    extra_body: Any = None
    timeout: Any = not_given
    model: type[BaseModel] | None = None
    page: type[BaseModel] | None = None
    stream: bool = False
    """A streamed create: ``model`` is the chunk's type, the answer a stream of them."""


# The body parameters of create, in the SDK's order: these three first (after model), then the
# messages, then the rest by name.
_CREATE_FIRST = ("stream", "service_tier")


def _options(extra_headers: Any, extra_query: Any, extra_body: Any, timeout: Any) -> dict[str, Any]:
    return {
        "extra_headers": extra_headers,
        "extra_query": extra_query,
        "extra_body": extra_body,
        "timeout": timeout,
    }


def _list_query(
    after: Any, limit: Any, metadata: Any = omit, model: Any = omit, order: Any = omit
) -> tuple[tuple[str, str], ...]:
    """A list's query as the SDK sends it: the given parameters in its order, none checked
    against a bound the SDK does not check (``limit=0`` is the server's to judge)."""
    if is_given(after):
        check_str(after, "after")
    if is_given(limit) and limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise ParameterTypeError("limit", f"`limit` must be an int, not {type(limit).__name__}.")
    if is_given(model):
        check_str(model, "model")
    if is_given(order) and order is not None and order not in ("asc", "desc"):
        raise ParameterBindingError("order", f"`order` must be 'asc' or 'desc'; got {order!r}.")
    filters = check_metadata(metadata) if is_given(metadata) else None
    pairs = [
        *query_pairs("after", after),
        *query_pairs("limit", limit),
        *query_pairs("metadata", filters),
        *query_pairs("model", model),
        *query_pairs("order", order),
    ]
    return tuple(pairs)


def _create_call(messages: Any, model: Any, optional: dict[str, Any], options: dict[str, Any]) -> Call:
    checked_messages = check_messages(messages)
    checked_model = check_model(model)
    given = {name: value for name, value in optional.items() if is_given(value)}
    if "metadata" in given:
        given["metadata"] = check_metadata(given["metadata"])
    body: dict[str, Any] = {"model": checked_model}
    body.update((name, given.pop(name)) for name in _CREATE_FIRST if name in given)
    body["messages"] = checked_messages
    body.update((name, given[name]) for name in sorted(given))
    if body.get("stream") is True:
        return Call("POST", "chat/completions", body=body, model=ChatCompletionChunk, stream=True, **options)
    return Call("POST", "chat/completions", body=body, model=ChatCompletion, **options)


def _by_id_call(
    method: str, completion_id: Any, result: Any, options: dict[str, Any], body: Any = None
) -> Call:
    return Call(method, stored.completion_path(check_id(completion_id)), body=body, model=result, **options)


def _update_call(completion_id: Any, metadata: Any, options: dict[str, Any]) -> Call:
    ident = check_id(completion_id)
    checked = check_metadata(metadata)
    return Call(
        "POST", stored.completion_path(ident), body={"metadata": checked}, model=ChatCompletion, **options
    )


def _list_call(
    after: Any, limit: Any, metadata: Any, model: Any, order: Any, options: dict[str, Any]
) -> Call:
    query = _list_query(after, limit, metadata, model, order)
    return Call("GET", "chat/completions", query=query, page=ChatCompletion, **options)


def _messages_call(completion_id: Any, after: Any, limit: Any, order: Any, options: dict[str, Any]) -> Call:
    ident = check_id(completion_id)
    query = _list_query(after, limit, order=order)
    return Call("GET", stored.messages_path(ident), query=query, page=ChatCompletionStoreMessage, **options)


# -- the raw and streamed views -----------------------------------------------------------------

Wrap = Callable[[Callable[..., Any]], Any]
_SYNC_WRAPS: tuple[Wrap, Wrap] = (to_raw_response_wrapper, to_streamed_response_wrapper)
"""How the synchronous client's methods return a raw response, and a streamed one."""
_ASYNC_WRAPS: tuple[Wrap, Wrap] = (async_to_raw_response_wrapper, async_to_streamed_response_wrapper)
"""The same for the asynchronous client (awaited; async context managers)."""


class WrappedView:
    """``with_raw_response`` or ``with_streaming_response`` of a resource or a client: each of its
    methods through the one wrapper, and the same view of each resource below it
    (``client.with_raw_response.chat.completions.retrieve(...)``)."""

    def __init__(self, owner: Any, wrap: Wrap) -> None:
        for name in owner._methods:
            setattr(self, name, wrap(getattr(owner, name)))
        for name in owner._children:
            setattr(self, name, WrappedView(getattr(owner, name), wrap))

    def __getattr__(self, name: str) -> Any:
        # Only reached for a name the view does not have (its methods and resources are set
        # above); declared so that type checkers take those as the view's attributes.
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class _Resource:
    """What every resource shares: its client, its methods and resources by name (for the
    views), and its raw and streamed views."""

    _methods: ClassVar[tuple[str, ...]] = ()
    _children: ClassVar[tuple[str, ...]] = ()
    _wraps: ClassVar[tuple[Wrap, Wrap]] = _SYNC_WRAPS

    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def with_raw_response(self) -> Any:
        """The same methods, returning the raw response."""
        return WrappedView(self, self._wraps[0])

    @property
    def with_streaming_response(self) -> Any:
        """The same methods, as context managers of the streamed response (async ones for the
        asynchronous client)."""
        return WrappedView(self, self._wraps[1])

    def _page(self, call: Call) -> Any:
        """A list's answer: its first page, which iterates over every page."""
        return self._client._run(call)


class _AsyncResource(_Resource):
    _wraps = _ASYNC_WRAPS

    def _page(self, call: Call) -> Any:
        """A list's answer: a paginator, awaited for one page or iterated for all."""
        return AsyncPaginator(lambda: self._client._run(call))


_P = ParamSpec("_P")
_R = TypeVar("_R")
_T = TypeVar("_T")


def _signed_as(
    wrapper: Callable[..., Any], method: Callable[..., Any], doc: str | None, returns: str | None
) -> None:
    """``wrapper`` named and signed as ``method`` (what help() shows), with its own docstring
    and return type where they differ."""
    functools.update_wrapper(wrapper, method)
    wrapper.__doc__ = doc or method.__doc__
    if returns is not None:
        wrapper.__dict__["__signature__"] = inspect.signature(method).replace(return_annotation=returns)


def _awaited(
    method: Callable[Concatenate[Any, _P], _R], doc: str | None = None, returns: str | None = None
) -> Callable[Concatenate[Any, _P], Coroutine[Any, Any, _R]]:
    """A synchronous resource's method as the asynchronous resource's: the same checks and
    request, its client's answer awaited."""

    async def awaited(self: Any, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        answer: Any = method(self, *args, **kwargs)
        return cast(_R, await answer)

    _signed_as(awaited, method, doc, returns)
    return awaited


def _awaited_create(
    method: Callable[Concatenate[Any, _P], ChatCompletion | Stream[ChatCompletionChunk]], doc: str
) -> Callable[Concatenate[Any, _P], Coroutine[Any, Any, ChatCompletion | AsyncStream[ChatCompletionChunk]]]:
    """``create`` as the asynchronous resource's: awaited, a streamed answer an
    :class:`AsyncStream` (the asynchronous client makes one)."""
    awaited: Any = _awaited(method, doc, "ChatCompletion | AsyncStream[ChatCompletionChunk]")
    return cast(
        Callable[
            Concatenate[Any, _P], Coroutine[Any, Any, ChatCompletion | AsyncStream[ChatCompletionChunk]]
        ],
        awaited,
    )


def _paged(
    method: Callable[Concatenate[Any, _P], SyncCursorPage[_T]], doc: str, returns: str
) -> Callable[Concatenate[Any, _P], AsyncPaginator[_T]]:
    """A synchronous resource's list method as the asynchronous resource's: checked at once, its
    pages handed out as a paginator (:meth:`_AsyncResource._page`)."""

    def paged(self: Any, /, *args: _P.args, **kwargs: _P.kwargs) -> AsyncPaginator[_T]:
        return cast(AsyncPaginator[_T], method(self, *args, **kwargs))

    _signed_as(paged, method, doc, returns)
    return paged


# -- the resources --------------------------------------------------------------------------------


class Messages(_Resource):
    """``client.chat.completions.messages``."""

    _methods = ("list",)

    def list(
        self,
        completion_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        order: Literal["asc", "desc"] | Omit = omit,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = not_given,
    ) -> SyncCursorPage[ChatCompletionStoreMessage]:
        """The stored messages of a completion, one page (iterate it for all of them)."""
        call = _messages_call(
            completion_id, after, limit, order, _options(extra_headers, extra_query, extra_body, timeout)
        )
        return cast(SyncCursorPage[ChatCompletionStoreMessage], self._page(call))


class Completions(_Resource):
    """``client.chat.completions``: create, retrieve, update, list, delete, and ``messages``."""

    _methods = ("create", "retrieve", "update", "list", "delete")
    _children = ("messages",)

    def __init__(self, client: OpenAI) -> None:
        super().__init__(client)
        self.messages = Messages(client)

    def create(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        audio: Mapping[str, Any] | Omit | None = omit,
        frequency_penalty: float | Omit | None = omit,
        function_call: str | Mapping[str, Any] | Omit = omit,
        functions: Iterable[Mapping[str, Any]] | Omit = omit,
        logit_bias: Mapping[str, int] | Omit | None = omit,
        logprobs: bool | Omit | None = omit,
        max_completion_tokens: int | Omit | None = omit,
        max_tokens: int | Omit | None = omit,
        metadata: Mapping[str, str] | Omit | None = omit,
        modalities: builtins.list[Literal["text", "audio"]] | Omit | None = omit,
        moderation: Mapping[str, Any] | Omit | None = omit,
        n: int | Omit | None = omit,
        parallel_tool_calls: bool | Omit = omit,
        prediction: Mapping[str, Any] | Omit | None = omit,
        presence_penalty: float | Omit | None = omit,
        prompt_cache_key: str | Omit | None = omit,
        prompt_cache_options: Mapping[str, Any] | Omit = omit,
        prompt_cache_retention: Literal["in_memory", "24h"] | Omit | None = omit,
        reasoning_effort: str | Omit | None = omit,
        response_format: Mapping[str, Any] | Omit = omit,
        safety_identifier: str | Omit | None = omit,
        seed: int | Omit | None = omit,
        service_tier: Literal["auto", "default", "flex", "scale", "priority", "fast"] | Omit | None = omit,
        stop: str | builtins.list[str] | Omit | None = omit,
        store: bool | Omit | None = omit,
        stream: bool | Omit | None = omit,
        stream_options: Mapping[str, Any] | Omit | None = omit,
        temperature: float | Omit | None = omit,
        tool_choice: str | Mapping[str, Any] | Omit = omit,
        tools: Iterable[Mapping[str, Any]] | Omit = omit,
        top_logprobs: int | Omit | None = omit,
        top_p: float | Omit | None = omit,
        user: str | Omit = omit,
        verbosity: Literal["low", "medium", "high"] | Omit | None = omit,
        web_search_options: Mapping[str, Any] | Omit = omit,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = not_given,
    ) -> ChatCompletion | Stream[ChatCompletionChunk]:
        """Create a chat completion (``store=True`` keeps it); with ``stream=True``, a
        :class:`~psopenai_py.client.Stream` of its chunks as they come.  Keywords as the SDK's; a
        keyword left out is not sent, one given None is sent as null, and the ones this package
        does not check itself (``tools``, ``response_format``, ...) go as given, for the API to
        judge."""
        optional = dict(locals())
        for name in ("self", "messages", "model", "extra_headers", "extra_query", "extra_body", "timeout"):
            optional.pop(name)
        call = _create_call(
            messages, model, optional, _options(extra_headers, extra_query, extra_body, timeout)
        )
        result: ChatCompletion | Stream[ChatCompletionChunk] = self._client._run(call)
        return result

    def retrieve(
        self,
        completion_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = not_given,
    ) -> ChatCompletion:
        """A stored completion by id."""
        call = _by_id_call(
            "GET", completion_id, ChatCompletion, _options(extra_headers, extra_query, extra_body, timeout)
        )
        return cast(ChatCompletion, self._client._run(call))

    def update(
        self,
        completion_id: str,
        *,
        metadata: Mapping[str, str] | None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = not_given,
    ) -> ChatCompletion:
        """Replace a stored completion's metadata (None clears it); the updated completion."""
        call = _update_call(
            completion_id, metadata, _options(extra_headers, extra_query, extra_body, timeout)
        )
        return cast(ChatCompletion, self._client._run(call))

    def list(
        self,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        metadata: Mapping[str, str] | Omit | None = omit,
        model: str | Omit = omit,
        order: Literal["asc", "desc"] | Omit = omit,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = not_given,
    ) -> SyncCursorPage[ChatCompletion]:
        """Stored completions, one page: ``.data`` is this page, iterating it yields every
        completion across all pages."""
        call = _list_call(
            after, limit, metadata, model, order, _options(extra_headers, extra_query, extra_body, timeout)
        )
        return cast(SyncCursorPage[ChatCompletion], self._page(call))

    def delete(
        self,
        completion_id: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = not_given,
    ) -> ChatCompletionDeleted:
        """Delete a stored completion; the ``chat.completion.deleted`` object."""
        call = _by_id_call(
            "DELETE",
            completion_id,
            ChatCompletionDeleted,
            _options(extra_headers, extra_query, extra_body, timeout),
        )
        return cast(ChatCompletionDeleted, self._client._run(call))


class Chat(_Resource):
    """``client.chat``."""

    _children = ("completions",)

    def __init__(self, client: OpenAI) -> None:
        super().__init__(client)
        self.completions = Completions(client)


# -- the asynchronous resources: the same methods, awaited ------------------------------------------


class AsyncMessages(_AsyncResource):
    """``client.chat.completions.messages`` of the asynchronous client."""

    _methods = Messages._methods
    list = _paged(
        Messages.list,
        """The stored messages of a completion: ``await`` it for one page, or ``async for``
        over it for all of them.""",
        "AsyncPaginator[ChatCompletionStoreMessage]",
    )


class AsyncCompletions(_AsyncResource):
    """``client.chat.completions`` of the asynchronous client."""

    _methods, _children = Completions._methods, Completions._children
    create = _awaited_create(
        Completions.create,
        """As :meth:`Completions.create`, awaited (with ``stream=True``, an
        :class:`~psopenai_py.client.AsyncStream` to ``async for`` over).""",
    )
    retrieve = _awaited(Completions.retrieve)
    update = _awaited(Completions.update)
    list = _paged(
        Completions.list,
        "Stored completions: ``await`` it for one page, or ``async for`` over it for all.",
        "AsyncPaginator[ChatCompletion]",
    )
    delete = _awaited(Completions.delete)

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.messages = AsyncMessages(client)


class AsyncChat(_AsyncResource):
    """``client.chat`` of the asynchronous client."""

    _children = Chat._children

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.completions = AsyncCompletions(client)
