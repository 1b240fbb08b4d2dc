"""``client.chat.completions`` (and ``.messages``): the SDK's methods, their checks and their
requests, written once for both clients; ``with_raw_response`` and ``with_streaming_response``
at every level wrap the same methods (:mod:`._response`)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from ..commands import stored
from ..errors import ParameterBindingError, ParameterTypeError
from ._checks import check_id, check_messages, check_metadata, check_model, check_str, query_pairs
from ._client import Call
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
    from ._client import AsyncOpenAI, OpenAI

__all__ = [
    "Chat",
    "Completions",
    "Messages",
    "AsyncChat",
    "AsyncCompletions",
    "AsyncMessages",
    "OpenAIWithRawResponse",
    "OpenAIWithStreamedResponse",
    "AsyncOpenAIWithRawResponse",
    "AsyncOpenAIWithStreamedResponse",
]

Headers = Mapping[str, str | Omit]
Query = Mapping[str, object]
Body = object
TimeoutArg = float | Timeout | None | NotGiven

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


# -- the synchronous resources ------------------------------------------------------------------


class Messages:
    """``client.chat.completions.messages``."""

    def __init__(self, client: OpenAI) -> None:
        self._client = client

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
        return cast(SyncCursorPage[ChatCompletionStoreMessage], self._client._run(call))

    @property
    def with_raw_response(self) -> MessagesWithRawResponse:
        """The same methods, returning the raw response."""
        return MessagesWithRawResponse(self)

    @property
    def with_streaming_response(self) -> MessagesWithStreamingResponse:
        """The same methods, as context managers of the streamed response."""
        return MessagesWithStreamingResponse(self)


class Completions:
    """``client.chat.completions``: create, retrieve, update, list, delete, and ``messages``."""

    def __init__(self, client: OpenAI) -> None:
        self._client = client
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
        return cast(SyncCursorPage[ChatCompletion], self._client._run(call))

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

    @property
    def with_raw_response(self) -> CompletionsWithRawResponse:
        """The same methods, returning the raw response."""
        return CompletionsWithRawResponse(self)

    @property
    def with_streaming_response(self) -> CompletionsWithStreamingResponse:
        """The same methods, as context managers of the streamed response."""
        return CompletionsWithStreamingResponse(self)


class Chat:
    """``client.chat``."""

    def __init__(self, client: OpenAI) -> None:
        self.completions = Completions(client)

    @property
    def with_raw_response(self) -> ChatWithRawResponse:
        """``client.chat.with_raw_response.completions...``."""
        return ChatWithRawResponse(self)

    @property
    def with_streaming_response(self) -> ChatWithStreamingResponse:
        """``client.chat.with_streaming_response.completions...``."""
        return ChatWithStreamingResponse(self)


# -- the asynchronous resources -----------------------------------------------------------------


class AsyncMessages:
    """``client.chat.completions.messages`` of the asynchronous client."""

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client

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
    ) -> AsyncPaginator[ChatCompletionStoreMessage]:
        """The stored messages of a completion: ``await`` it for one page, or ``async for``
        over it for all of them."""
        call = _messages_call(
            completion_id, after, limit, order, _options(extra_headers, extra_query, extra_body, timeout)
        )
        return AsyncPaginator(lambda: self._client._run(call))

    @property
    def with_raw_response(self) -> AsyncMessagesWithRawResponse:
        """The same methods, returning the raw response."""
        return AsyncMessagesWithRawResponse(self)

    @property
    def with_streaming_response(self) -> AsyncMessagesWithStreamingResponse:
        """The same methods, as async context managers of the streamed response."""
        return AsyncMessagesWithStreamingResponse(self)


class AsyncCompletions:
    """``client.chat.completions`` of the asynchronous client."""

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client
        self.messages = AsyncMessages(client)

    async def create(
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
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
        """As :meth:`Completions.create`, awaited (with ``stream=True``, an
        :class:`~psopenai_py.client.AsyncStream` to ``async for`` over)."""
        optional = dict(locals())
        for name in ("self", "messages", "model", "extra_headers", "extra_query", "extra_body", "timeout"):
            optional.pop(name)
        call = _create_call(
            messages, model, optional, _options(extra_headers, extra_query, extra_body, timeout)
        )
        result: ChatCompletion | AsyncStream[ChatCompletionChunk] = await self._client._run(call)
        return result

    async def retrieve(
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
        return cast(ChatCompletion, await self._client._run(call))

    async def update(
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
        return cast(ChatCompletion, await self._client._run(call))

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
    ) -> AsyncPaginator[ChatCompletion]:
        """Stored completions: ``await`` it for one page, or ``async for`` over it for all."""
        call = _list_call(
            after, limit, metadata, model, order, _options(extra_headers, extra_query, extra_body, timeout)
        )
        return AsyncPaginator(lambda: self._client._run(call))

    async def delete(
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
        return cast(ChatCompletionDeleted, await self._client._run(call))

    @property
    def with_raw_response(self) -> AsyncCompletionsWithRawResponse:
        """The same methods, returning the raw response."""
        return AsyncCompletionsWithRawResponse(self)

    @property
    def with_streaming_response(self) -> AsyncCompletionsWithStreamingResponse:
        """The same methods, as async context managers of the streamed response."""
        return AsyncCompletionsWithStreamingResponse(self)


class AsyncChat:
    """``client.chat`` of the asynchronous client."""

    def __init__(self, client: AsyncOpenAI) -> None:
        self.completions = AsyncCompletions(client)

    @property
    def with_raw_response(self) -> AsyncChatWithRawResponse:
        """``client.chat.with_raw_response.completions...``."""
        return AsyncChatWithRawResponse(self)

    @property
    def with_streaming_response(self) -> AsyncChatWithStreamingResponse:
        """``client.chat.with_streaming_response.completions...``."""
        return AsyncChatWithStreamingResponse(self)


# -- the wrapped views ------------------------------------------------------------------------------


class MessagesWithRawResponse:
    """``...messages.with_raw_response``."""

    def __init__(self, messages: Messages) -> None:
        self.list = to_raw_response_wrapper(messages.list)


class MessagesWithStreamingResponse:
    """``...messages.with_streaming_response``."""

    def __init__(self, messages: Messages) -> None:
        self.list = to_streamed_response_wrapper(messages.list)


class CompletionsWithRawResponse:
    """``client.chat.completions.with_raw_response``."""

    def __init__(self, completions: Completions) -> None:
        self.create = to_raw_response_wrapper(completions.create)
        self.retrieve = to_raw_response_wrapper(completions.retrieve)
        self.update = to_raw_response_wrapper(completions.update)
        self.list = to_raw_response_wrapper(completions.list)
        self.delete = to_raw_response_wrapper(completions.delete)
        self.messages = MessagesWithRawResponse(completions.messages)


class CompletionsWithStreamingResponse:
    """``client.chat.completions.with_streaming_response``."""

    def __init__(self, completions: Completions) -> None:
        self.create = to_streamed_response_wrapper(completions.create)
        self.retrieve = to_streamed_response_wrapper(completions.retrieve)
        self.update = to_streamed_response_wrapper(completions.update)
        self.list = to_streamed_response_wrapper(completions.list)
        self.delete = to_streamed_response_wrapper(completions.delete)
        self.messages = MessagesWithStreamingResponse(completions.messages)


class ChatWithRawResponse:
    """``client.chat.with_raw_response``."""

    def __init__(self, chat: Chat) -> None:
        self.completions = CompletionsWithRawResponse(chat.completions)


class ChatWithStreamingResponse:
    """``client.chat.with_streaming_response``."""

    def __init__(self, chat: Chat) -> None:
        self.completions = CompletionsWithStreamingResponse(chat.completions)


class OpenAIWithRawResponse:
    """``client.with_raw_response``."""

    def __init__(self, client: OpenAI) -> None:
        self._client = client

    @property
    def chat(self) -> ChatWithRawResponse:
        """``client.with_raw_response.chat.completions...``."""
        return ChatWithRawResponse(self._client.chat)


class OpenAIWithStreamedResponse:
    """``client.with_streaming_response``."""

    def __init__(self, client: OpenAI) -> None:
        self._client = client

    @property
    def chat(self) -> ChatWithStreamingResponse:
        """``client.with_streaming_response.chat.completions...``."""
        return ChatWithStreamingResponse(self._client.chat)


class AsyncMessagesWithRawResponse:
    """``...messages.with_raw_response`` of the asynchronous client."""

    def __init__(self, messages: AsyncMessages) -> None:
        self.list = async_to_raw_response_wrapper(messages.list)


class AsyncMessagesWithStreamingResponse:
    """``...messages.with_streaming_response`` of the asynchronous client."""

    def __init__(self, messages: AsyncMessages) -> None:
        self.list = async_to_streamed_response_wrapper(messages.list)


class AsyncCompletionsWithRawResponse:
    """``client.chat.completions.with_raw_response`` of the asynchronous client."""

    def __init__(self, completions: AsyncCompletions) -> None:
        self.create = async_to_raw_response_wrapper(completions.create)
        self.retrieve = async_to_raw_response_wrapper(completions.retrieve)
        self.update = async_to_raw_response_wrapper(completions.update)
        self.list = async_to_raw_response_wrapper(completions.list)
        self.delete = async_to_raw_response_wrapper(completions.delete)
        self.messages = AsyncMessagesWithRawResponse(completions.messages)


class AsyncCompletionsWithStreamingResponse:
    """``client.chat.completions.with_streaming_response`` of the asynchronous client."""

    def __init__(self, completions: AsyncCompletions) -> None:
        self.create = async_to_streamed_response_wrapper(completions.create)
        self.retrieve = async_to_streamed_response_wrapper(completions.retrieve)
        self.update = async_to_streamed_response_wrapper(completions.update)
        self.list = async_to_streamed_response_wrapper(completions.list)
        self.delete = async_to_streamed_response_wrapper(completions.delete)
        self.messages = AsyncMessagesWithStreamingResponse(completions.messages)


class AsyncChatWithRawResponse:
    """``client.chat.with_raw_response`` of the asynchronous client."""

    def __init__(self, chat: AsyncChat) -> None:
        self.completions = AsyncCompletionsWithRawResponse(chat.completions)


class AsyncChatWithStreamingResponse:
    """``client.chat.with_streaming_response`` of the asynchronous client."""

    def __init__(self, chat: AsyncChat) -> None:
        self.completions = AsyncCompletionsWithStreamingResponse(chat.completions)


class AsyncOpenAIWithRawResponse:
    """``client.with_raw_response`` of the asynchronous client."""

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client

    @property
    def chat(self) -> AsyncChatWithRawResponse:
        """``client.with_raw_response.chat.completions...``."""
        return AsyncChatWithRawResponse(self._client.chat)


class AsyncOpenAIWithStreamedResponse:
    """``client.with_streaming_response`` of the asynchronous client."""

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client

    @property
    def chat(self) -> AsyncChatWithStreamingResponse:
        """``client.with_streaming_response.chat.completions...``."""
        return AsyncChatWithStreamingResponse(self._client.chat)
