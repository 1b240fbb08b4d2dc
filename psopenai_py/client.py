"""An SDK-shaped client: the official Python SDK's calls over this package's core.

Code written for ``openai.OpenAI`` keeps working for the stored chat completions::

    from psopenai_py import OpenAI
    client = OpenAI()                      # key: argument, OPENAI_API_KEY, ..., the OS keyring
    done = client.chat.completions.update("chatcmpl-abc123", metadata={"reviewed": "yes"})
    done.metadata.reviewed                 # 'yes'
    for c in client.chat.completions.list(metadata={"team": "ops"}):   # every page
        print(c.id, c.choices[0].message.content)

Underneath are this package's settings resolution, validation, retries and masking (the same
:class:`~psopenai_py.commands.common.Invocation` and transport as the other commands).  Results
are :class:`~psopenai_py.psobject.PSObject` objects: attribute access at any depth, ``to_dict()``,
``to_json()``, ``model_dump()``.  Errors are this package's exceptions; the SDK's names are
aliases of them here (``NotFoundError`` is :class:`~psopenai_py.errors.NotFoundException`).

Settings are resolved once, when the client is made: the arguments, then the SDK's environment
names (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_ORG_ID``), then the package's usual
order (Set-OpenAIContext, module globals, ``OPENAI_API_BASE``/``OPENAI_ORGANIZATION``, the OS
keyring).  ``timeout`` and ``max_retries`` left as None take the SDK's defaults (600 s, 2).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from . import checks
from .commands import paging, stored
from .commands.common import Invocation
from .errors import (
    APIConnectionException,
    APIRequestException,
    BadRequestException,
    ConflictException,
    MissingSettingError,
    NotFoundException,
    ParameterBindingError,
    ParameterTypeError,
    PermissionDeniedException,
    PSOpenAIError,
    RateLimitExceededException,
    TimeoutException,
    UnauthorizedException,
    UnprocessableEntityException,
)
from .psobject import PSObject
from .secret import Secret

__all__ = [
    "OpenAI",
    "CursorPage",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "OpenAIError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "APIConnectionError",
    "APITimeoutError",
]

DEFAULT_TIMEOUT = 600.0
"""The SDK's default timeout, in seconds, for one attempt."""
DEFAULT_MAX_RETRIES = 2
"""The SDK's default number of retries."""

# The SDK's exception names, as aliases of this package's classes (the same objects, so an
# ``except NotFoundError`` written for the SDK catches what these calls raise).
OpenAIError = PSOpenAIError
APIError = APIRequestException
APIStatusError = APIRequestException
BadRequestError = BadRequestException
AuthenticationError = UnauthorizedException
PermissionDeniedError = PermissionDeniedException
NotFoundError = NotFoundException
ConflictError = ConflictException
UnprocessableEntityError = UnprocessableEntityException
RateLimitError = RateLimitExceededException
APIConnectionError = APIConnectionException
APITimeoutError = TimeoutException

_UNSET: Any = object()
_T = TypeVar("_T")


def _guarded(call: Callable[[], Any], scrub: stored.KeyScrubber) -> Any:
    """Run one request of the core; every failure as this package's exception, with no fragment
    of the key in it.

    The transport redacts the key as sent, but a server may echo it JSON-escaped (parsed back
    into plain text) or in part; and an error from below the transport (an HTTP library's) is
    not this package's class and its message may quote a header, so only its class name is kept.
    """
    try:
        return call()
    except PSOpenAIError as exc:
        exc.args = tuple(scrub(a) if isinstance(a, str) else a for a in exc.args)
        if isinstance(exc, APIRequestException):
            exc.message = scrub(exc.message)
            exc.content = scrub.value(exc.content)
            exc.type, exc.code, exc.param = (scrub.value(v) for v in (exc.type, exc.code, exc.param))
            # The SDK's names for what code written for it reads: body (the error member, or the
            # whole body) and request_id (the x-request-id header).
            content = exc.content
            body = content.get("error", content) if isinstance(content, Mapping) else content
            headers = getattr(exc.response, "headers", None)
            setattr(exc, "body", body)  # noqa: B010 (an attribute the class does not declare)
            setattr(exc, "request_id", headers.get("x-request-id") if headers is not None else None)  # noqa: B010
        raise
    except Exception as exc:
        failed = type(exc).__name__
    # Raised outside the handler, so the original is not kept even as __context__.
    raise APIRequestException(
        f"The request failed with {failed}; its message is not shown, as it could quote a header."
    )


# -- the SDK's checks: psopenai_py.checks' rules, worded with the SDK's keywords ---------------------


def _typed(value: Any, name: str, kinds: type | tuple[type, ...], what: str) -> Any:
    """``value`` (None passes) when it is one of ``kinds`` and no bool; a type error otherwise."""
    if value is None or (isinstance(value, kinds) and not isinstance(value, bool)):
        return value
    raise ParameterTypeError(name, f"`{name}` must be {what}, not {type(value).__name__}.")


def _check_timeout(value: Any) -> float | None:
    seconds = _typed(value, "timeout", (int, float), "a number of seconds")
    return (
        None if seconds is None else checks.checked("timeout", checks.timeout_seconds, seconds, "`timeout`")
    )


def _check_str(value: Any, name: str) -> str | None:
    return _typed(value, name, str, "a str")  # type: ignore[no-any-return]


def _check_mapping(value: Any, name: str) -> Mapping[str, Any] | None:
    """A mapping with str keys (headers, query and body members are named by text), or None."""
    mapping: Mapping[Any, Any] | None = _typed(value, name, Mapping, "a mapping")
    for key in mapping or ():
        if not isinstance(key, str):
            raise ParameterTypeError(
                name, f"The keys of `{name}` must be str; {key!r} is a {type(key).__name__}."
            )
    return mapping


def _check_headers(value: Any, name: str) -> dict[str, str]:
    """Headers as the SDK takes them (``default_headers``, ``extra_headers``): each name and value
    checked (:func:`psopenai_py.checks.header_name`, :func:`~psopenai_py.checks.header_value`)."""
    checked: dict[str, str] = {}
    for header, item in (_check_mapping(value, name) or {}).items():
        checks.checked(name, checks.header_name, header, f"The header name {header!r} in `{name}`")
        checked[header] = checks.checked(
            name, checks.header_value, str(item), f"The value of header {header!r} in `{name}`"
        )
    return checked


def _check_id(value: Any) -> str:
    """The SDK's check of a path id (a str, not empty), then the id's rules."""
    if not isinstance(value, str):
        raise ParameterBindingError(
            "completion_id", f"Expected a string for `completion_id` but received {type(value).__name__}"
        )
    if not value.strip():
        raise ParameterBindingError(
            "completion_id", f"Expected a non-empty value for `completion_id` but received {value!r}"
        )
    return checks.checked("completion_id", checks.completion_id, value, "`completion_id`")


def _check_metadata(value: Any) -> dict[str, str] | None:
    """The API's metadata limits; None passes (an update with null clears the metadata)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ParameterTypeError("metadata", f"`metadata` must be a mapping, not {type(value).__name__}.")
    try:
        return checks.metadata(value)
    except checks.Invalid as exc:
        raise ParameterBindingError(
            "metadata", f"Invalid `metadata`. {exc.problem} Nothing was sent."
        ) from None


def _check_order(value: Any) -> str | None:
    if value is None:
        return None
    if value not in ("asc", "desc"):
        raise ParameterBindingError("order", f"`order` must be 'asc' or 'desc'; got {value!r}.")
    return str(value)


def _check_limit(value: Any) -> int | None:
    """An int, sent as given: the SDK checks no bound, the server does (1 to 100 today)."""
    return _typed(value, "limit", int, "an int")  # type: ignore[no-any-return]


def _api_object(data: Any, type_name: str) -> Any:
    return PSObject(data, type_names=(type_name,)) if isinstance(data, Mapping) else data


class CursorPage(Iterable[Any]):
    """One page of a list, like the SDK's ``SyncCursorPage``: ``.data`` and ``.has_more`` are this
    page's; iterating yields the items of this page and every later one, fetched as needed.

    The pages are a view over the package's one page loop
    (:class:`~psopenai_py.commands.paging.Pager`, the SDK's rule): a malformed page, or one that
    lists an id already read on the way to it (a repeated cursor, a list that goes back), raises
    :class:`~psopenai_py.errors.InvalidResponseException` before any of its items is shown,
    rather than looping.  Any page can be followed again: the run goes on from that page.
    """

    def __init__(self, page: paging.Page, step: Callable[[paging.Page], paging.Page], type_name: str) -> None:
        self._page = page
        self._step = step
        self._type_name = type_name
        raw = page.raw
        self.data: list[Any] = [_api_object(item, type_name) for item in page.data]
        self.has_more: bool | None = raw.get("has_more")
        self.object: Any = raw.get("object")
        self.first_id: Any = raw.get("first_id")
        self.last_id: Any = raw.get("last_id")

    def has_next_page(self) -> bool:
        """False when this page is empty or says ``has_more`` false."""
        return self._page.cursor is not None

    def get_next_page(self) -> CursorPage:
        """The next page (the same request with ``after`` = this page's last id)."""
        if self._page.cursor is None:
            raise RuntimeError(
                "No next page expected; please check `.has_next_page()` before calling `.get_next_page()`."
            )
        return CursorPage(self._step(self._page), self._step, self._type_name)

    def iter_pages(self) -> Iterator[CursorPage]:
        """This page, then each later one."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = page.get_next_page()

    def __iter__(self) -> Iterator[Any]:
        for page in self.iter_pages():
            yield from page.data

    def to_dict(self) -> dict[str, Any]:
        """This page as the API sent it."""
        return PSObject(self._page.raw).to_dict()

    def __repr__(self) -> str:
        return f"<CursorPage {len(self.data)} items, has_more={self.has_more!r}>"


class _Resource:
    def __init__(self, client: OpenAI) -> None:
        self._client = client

    def _call(
        self, extra_headers: Any, extra_query: Any, extra_body: Any, timeout: Any
    ) -> tuple[Invocation, float | None]:
        invocation = stored.with_extras(
            self._client._invocation,
            headers=_check_headers(extra_headers, "extra_headers"),
            query=_check_mapping(extra_query, "extra_query"),
            body=_check_mapping(extra_body, "extra_body"),
        )
        seconds = self._client.timeout if timeout is _UNSET else _check_timeout(timeout)
        return invocation, seconds

    def _send(self, call: Callable[[], Any]) -> Any:
        """Run one request of the core under :func:`_guarded`."""
        return _guarded(call, self._client._scrub)

    def _pages(
        self, fetch: Callable[[Sequence[tuple[str, Any]]], Any], query: Any, type_name: str
    ) -> CursorPage:
        """A list's first page (one request now); ``fetch`` sends one page's request, and each
        later page is fetched when it is asked for, each step under :func:`_guarded`."""
        pager = paging.cursor_pager(fetch, query, forkable=True)

        def step(page: paging.Page) -> paging.Page:
            following: paging.Page = self._send(lambda: pager.next(page))
            return following

        return CursorPage(self._send(pager.first), step, type_name)


def _by_id(operation: Callable[..., Any], name: str, type_name: str, doc: str) -> Callable[..., Any]:
    """A method of ``client.chat.completions`` that takes an id and the per-call options only:
    retrieve and delete, which have this one shape."""

    def method(
        self: _Resource,
        completion_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Any = _UNSET,
    ) -> Any:
        ident = _check_id(completion_id)
        invocation, seconds = self._call(extra_headers, extra_query, extra_body, timeout)
        return _api_object(self._send(lambda: operation(invocation, ident, timeout=seconds)), type_name)

    method.__name__, method.__qualname__, method.__doc__ = name, f"Completions.{name}", doc
    return method


class Messages(_Resource):
    """``client.chat.completions.messages``."""

    def list(
        self,
        completion_id: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        order: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Any = _UNSET,
    ) -> CursorPage:
        """The stored messages of a completion, as a cursor page (iterate for all of them)."""
        ident = _check_id(completion_id)
        query = _query(after=_check_str(after, "after"), limit=_check_limit(limit), order=_check_order(order))
        invocation, seconds = self._call(extra_headers, extra_query, extra_body, timeout)

        return self._pages(
            lambda q: stored.messages_page(invocation, ident, q, timeout=seconds),
            query,
            "ChatCompletionStoreMessage",
        )


class Completions(_Resource):
    """``client.chat.completions``: create, retrieve, update, list, delete, messages."""

    def __init__(self, client: OpenAI) -> None:
        super().__init__(client)
        self.messages = Messages(client)

    def create(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        audio: Any = None,
        frequency_penalty: float | None = None,
        function_call: Any = None,
        functions: Any = None,
        logit_bias: Any = None,
        logprobs: bool | None = None,
        max_completion_tokens: int | None = None,
        max_tokens: int | None = None,
        metadata: Mapping[str, str] | None = None,
        modalities: Any = None,
        moderation: Any = None,
        n: int | None = None,
        parallel_tool_calls: bool | None = None,
        prediction: Any = None,
        presence_penalty: float | None = None,
        prompt_cache_key: str | None = None,
        prompt_cache_options: Any = None,
        prompt_cache_retention: Any = None,
        reasoning_effort: Any = None,
        response_format: Any = None,
        safety_identifier: str | None = None,
        seed: int | None = None,
        service_tier: Any = None,
        stop: Any = None,
        store: bool | None = None,
        stream: bool | None = None,
        stream_options: Any = None,
        temperature: float | None = None,
        tool_choice: Any = None,
        tools: Any = None,
        top_logprobs: int | None = None,
        top_p: float | None = None,
        user: str | None = None,
        verbosity: Any = None,
        web_search_options: Any = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Any = _UNSET,
    ) -> Any:
        """Create a chat completion (``store=True`` keeps it); streaming is not offered.

        Keywords as the SDK's; the ones this package does not check itself (``tools``,
        ``response_format``, ...) are sent as given.
        """
        if stream:
            raise ParameterBindingError(
                "stream", "`stream=True` is not supported by this client; call create() without it."
            )
        given: Any = messages  # checked at run time: callers are not type-checked
        if isinstance(given, (str, bytes)) or not isinstance(given, Iterable):
            raise ParameterTypeError("messages", "`messages` must be a list of message objects.")
        message_list = [dict(m) if isinstance(m, Mapping) else m for m in given]
        if not all(isinstance(m, dict) for m in message_list):
            raise ParameterTypeError("messages", "`messages` must be a list of message objects.")
        if not isinstance(model, str) or not model:
            raise ParameterBindingError("model", "`model` must be a non-empty str.")
        optional: dict[str, Any] = {
            "max_completion_tokens": max_completion_tokens,
            "max_tokens": max_tokens,
            "metadata": _check_metadata(metadata),
            "n": n,
            "seed": seed,
            "store": store,
            "stream": stream,
            "temperature": temperature,
            "top_p": top_p,
            "user": user,
            "audio": audio,
            "frequency_penalty": frequency_penalty,
            "function_call": function_call,
            "functions": functions,
            "logit_bias": logit_bias,
            "logprobs": logprobs,
            "modalities": modalities,
            "moderation": moderation,
            "parallel_tool_calls": parallel_tool_calls,
            "prediction": prediction,
            "presence_penalty": presence_penalty,
            "prompt_cache_key": prompt_cache_key,
            "prompt_cache_options": prompt_cache_options,
            "prompt_cache_retention": prompt_cache_retention,
            "reasoning_effort": reasoning_effort,
            "response_format": response_format,
            "safety_identifier": safety_identifier,
            "service_tier": service_tier,
            "stop": stop,
            "stream_options": stream_options,
            "tool_choice": tool_choice,
            "tools": tools,
            "top_logprobs": top_logprobs,
            "verbosity": verbosity,
            "web_search_options": web_search_options,
        }
        # The SDK's order: messages, model, then the rest by name; omitted ones are not sent.
        # The other body parameters go as given: the API checks them, as it does for the SDK.
        body = {
            "messages": message_list,
            "model": model,
            **{k: optional[k] for k in sorted(optional) if optional[k] is not None},
        }
        invocation, seconds = self._call(extra_headers, extra_query, extra_body, timeout)
        return _api_object(
            self._send(lambda: stored.create(invocation, body, timeout=seconds)), "ChatCompletion"
        )

    def update(
        self,
        completion_id: str,
        *,
        metadata: Mapping[str, str] | None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Any = _UNSET,
    ) -> Any:
        """Replace a stored completion's metadata (None clears it); the updated completion."""
        ident = _check_id(completion_id)
        checked = _check_metadata(metadata)
        invocation, seconds = self._call(extra_headers, extra_query, extra_body, timeout)
        return _api_object(
            self._send(lambda: stored.update(invocation, ident, checked, timeout=seconds)), "ChatCompletion"
        )

    def list(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        metadata: Mapping[str, str] | None = None,
        model: str | None = None,
        order: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Any = _UNSET,
    ) -> CursorPage:
        """Stored completions, as a cursor page: ``.data`` is the first page, iterating the
        page yields every completion across all pages."""
        filters = _check_metadata(metadata) or {}
        query = _query(after=_check_str(after, "after"), limit=_check_limit(limit))
        query += [(f"metadata[{k}]", v) for k, v in filters.items()]
        query += _query(model=_check_str(model, "model"), order=_check_order(order))
        invocation, seconds = self._call(extra_headers, extra_query, extra_body, timeout)

        return self._pages(
            lambda q: stored.list_page(invocation, q, timeout=seconds), query, "ChatCompletion"
        )

    retrieve = _by_id(stored.retrieve, "retrieve", "ChatCompletion", "A stored completion by id.")
    delete = _by_id(
        stored.delete,
        "delete",
        "ChatCompletionDeleted",
        "Delete a stored completion; the ``chat.completion.deleted`` object.",
    )


def _query(**values: Any) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in values.items() if v is not None]


class Chat:
    """``client.chat``."""

    def __init__(self, client: OpenAI) -> None:
        self.completions = Completions(client)


class OpenAI:
    """The SDK's client for stored chat completions, over this package's core.

    Keywords as the SDK's: ``api_key``, ``organization``, ``project`` (sent as ``OpenAI-Project``;
    default OPENAI_PROJECT_ID), ``base_url``, ``timeout`` (seconds per attempt; None: 600),
    ``max_retries`` (None: 2), ``default_headers``, ``default_query``.
    Raises :class:`~psopenai_py.errors.MissingSettingError` when no key is found.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, Any] | None = None,
    ) -> None:
        key = _typed(api_key, "api_key", (str, Secret), "a str")
        key = Secret(key) if isinstance(key, str) else key  # held masked, checked when resolved
        if base_url is not None:
            base_url = str(base_url)  # the SDK takes an httpx.URL too
            shown = checks.shown_url(base_url.strip())
            base_url = checks.checked("base_url", checks.base_url, base_url, f'`base_url` "{shown}"')
        self.timeout = _check_timeout(timeout) or DEFAULT_TIMEOUT
        retries = _typed(
            DEFAULT_MAX_RETRIES if max_retries is None else max_retries, "max_retries", int, "an int"
        )
        self.max_retries: int = checks.checked("max_retries", checks.retries, retries, "`max_retries`")
        organization = _check_str(organization, "organization")
        if organization is not None:
            subject = "The organization id given by `organization`"
            organization = checks.checked("organization", checks.header_value, organization, subject) or None
        self._arguments: dict[str, Any] = {
            "api_key": key,
            "organization": organization,
            "project": _check_str(project, "project"),
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "default_headers": _check_headers(default_headers, "default_headers"),
            "default_query": dict(_check_mapping(default_query, "default_query") or {}),
        }
        try:
            self._invocation = stored.open_invocation(
                api_key=key,
                base_url=base_url,
                organization=organization,
                max_retries=self.max_retries,
                headers=self._headers(),
                query=self._arguments["default_query"],
                api_key_label="`api_key`",
            )
        except MissingSettingError as exc:
            if exc.setting != "ApiKey":
                raise
            raise MissingSettingError(
                "api_key",
                "No API key: pass `api_key`, set OPENAI_API_KEY, or keep one in the OS keyring "
                "(psopenai Set-OpenAISecret). Nothing was sent.",
            ) from None
        self._scrub = stored.KeyScrubber(self._invocation.settings.api_key)
        self.chat = Chat(self)

    def _headers(self) -> dict[str, str]:
        """The default headers, with ``OpenAI-Project`` from ``project`` or OPENAI_PROJECT_ID
        (as the SDK sends it) unless the default headers name one themselves."""
        headers = dict(self._arguments["default_headers"])
        given = self._arguments["project"]
        project = given or os.environ.get("OPENAI_PROJECT_ID") or None
        if project and not any(k.lower() == "openai-project" for k in headers):
            source = "given by `project`" if given else "from the environment variable OPENAI_PROJECT_ID"
            project = checks.checked("project", checks.header_value, project, f"The project id {source}")
            if project:
                headers["OpenAI-Project"] = project
        return headers

    @property
    def project(self) -> str | None:
        """The project id sent as ``OpenAI-Project``, if any."""
        return self._headers().get("OpenAI-Project")

    @property
    def base_url(self) -> str:
        """The resolved API base URL."""
        return self._invocation.settings.api_base

    @property
    def organization(self) -> str | None:
        """The resolved organization id, if any."""
        return self._invocation.settings.organization

    def with_options(
        self,
        *,
        api_key: Any = _UNSET,
        organization: Any = _UNSET,
        project: Any = _UNSET,
        base_url: Any = _UNSET,
        timeout: Any = _UNSET,
        max_retries: Any = _UNSET,
        default_headers: Any = _UNSET,
        set_default_headers: Any = _UNSET,
        default_query: Any = _UNSET,
        set_default_query: Any = _UNSET,
    ) -> OpenAI:
        """A new client with these options changed and the rest inherited (the SDK's ``copy``):
        ``default_headers``/``default_query`` are merged over the current ones,
        ``set_default_headers``/``set_default_query`` replace them."""
        given = dict(self._arguments)
        for name, value in (
            ("api_key", api_key),
            ("organization", organization),
            ("project", project),
            ("base_url", base_url),
            ("timeout", timeout),
            ("max_retries", max_retries),
        ):
            if value is not _UNSET:
                given[name] = value
        for name, merged, replaced in (
            ("default_headers", default_headers, set_default_headers),
            ("default_query", default_query, set_default_query),
        ):
            if merged is not _UNSET and replaced is not _UNSET:
                raise ParameterBindingError(name, f"`{name}` and `set_{name}` cannot both be given.")
            if replaced is not _UNSET:
                given[name] = dict(replaced or {})
            elif merged is not _UNSET:
                given[name] = {**given[name], **(merged or {})}
        return OpenAI(**given)

    copy = with_options

    def __repr__(self) -> str:
        return f"<psopenai_py.OpenAI base_url={self.base_url!r}>"
