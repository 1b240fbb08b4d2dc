"""The stored-completion operations in the API's own shape, for the front-ends that speak the
API's other dialects (the openai CLI's and the Python SDK's).

Where the PowerShell commands shape their output (dates, Answer, History) and page the way
PSOpenAI does, these return API objects exactly as the service sent them and send only the
parameters the caller gave, as the official CLI and SDK do.  They run over the same
:class:`~psopenai_py.commands.common.Invocation` (settings resolution, validation, transport and
masking) as every other command, with the official SDKs' retry policy
(:data:`psopenai_py.retry.SDK`): the official CLI retries through its Go SDK as the Python SDK does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from .. import checks, retry
from ..errors import InvalidResponseException
from ..masking import mask_organization
from ..parameters import Command, settings_parameters
from ..scrub import scrub, scrub_data
from ..secret import Secret
from ..settings import SDK_BASE_NAME
from ..transport import ChunkStream, Exchange, RequestOptions, Transport, connect_limit, encode_path
from .common import Invocation, prepare_invocation
from .paging import json_kind as _json_kind

__all__ = [
    "SETTINGS_TABLE",
    "open_invocation",
    "with_extras",
    "exchange",
    "completion_path",
    "messages_path",
    "retrieve",
    "update",
    "delete",
    "create",
    "create_stream",
    "list_page",
    "messages_page",
    "DIALECT_BASE_URL",
    "DIALECT_ORGANIZATION",
    "check_text",
    "check_object",
    "KeyScrubber",
]

# The names the official CLI and SDK read; this package's own names (OPENAI_API_BASE,
# OPENAI_ORGANIZATION) still apply after them, in the usual resolution.
DIALECT_BASE_URL = SDK_BASE_NAME
DIALECT_ORGANIZATION = "OPENAI_ORG_ID"
API_KEY_NAME = "OPENAI_API_KEY"

# The settings parameters prepare_invocation reads.  The dialects check their own spellings of
# them first, with the same rules (psopenai_py.checks), so these names never show.
SETTINGS_TABLE = Command(
    name="chat.completions",
    python_name="chat.completions",
    synopsis="The stored-completion operations of the openai CLI and SDK dialects.",
    parameters=settings_parameters(),
)


def open_invocation(
    *,
    api_key: Any = None,
    base_url: str | None = None,
    organization: str | None = None,
    max_retries: int | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, Any] | None = None,
    transport: Transport | None = None,
    api_key_label: str = "api_key",
    timeout_sec: int | None = None,
    policy: retry.RetryPolicy = retry.SDK,
) -> Invocation:
    """Resolve the settings once: the caller's values, then the SDK's environment names
    (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_ORG_ID``), then the package's usual order
    (context, module globals, ``OPENAI_API_BASE``/``OPENAI_ORGANIZATION``, the OS keyring).

    Raises :class:`~psopenai_py.errors.MissingSettingError` when no key is found anywhere, and
    :class:`~psopenai_py.errors.ParameterBindingError` for a key that cannot be sent (see
    :func:`psopenai_py.checks.api_key`; ``api_key_label`` names where the caller's key came from,
    ``--api-key`` or ``api_key``) and for an ``OPENAI_BASE_URL`` or ``OPENAI_ORG_ID`` that fails
    its check (the official CLI refuses such a base URL too, rather than silently using another
    server).  The caller's base URL and organization are checked by the caller, in its words.

    The invocation retries by ``policy``: the official SDKs' rules unless the caller chooses
    otherwise.  ``timeout_sec`` is the settings' TimeoutSec (0: none), the limit of a request
    given no timeout of its own.
    """
    if isinstance(api_key, Secret):
        api_key = api_key.reveal() if api_key else None
    if isinstance(api_key, str) and api_key:
        api_key = checks.checked("api_key", checks.api_key, api_key, f"The API key given by {api_key_label}")
    if not api_key:
        # Read before the context and module globals, as the SDK reads it before anything else.
        from_env = os.environ.get(API_KEY_NAME) or None
        subject = f"The API key from the environment variable {API_KEY_NAME}"
        api_key = checks.checked(API_KEY_NAME, checks.api_key, from_env, subject) if from_env else None
    if base_url is None:
        env_base = os.environ.get(DIALECT_BASE_URL) or None
        if env_base is not None:
            subject = f'{DIALECT_BASE_URL} "{checks.shown_url(env_base.strip())}"'
            base_url = checks.checked(DIALECT_BASE_URL, checks.base_url, env_base, subject)
    if organization is None:
        env_org = os.environ.get(DIALECT_ORGANIZATION) or None
        if env_org is not None:
            shown = checks.printable(mask_organization(checks.trim(env_org)))
            subject = f"The organization id {shown} from the environment variable {DIALECT_ORGANIZATION}"
            organization = checks.checked(DIALECT_ORGANIZATION, checks.header_value, env_org, subject) or None
    invocation = prepare_invocation(
        SETTINGS_TABLE,
        api_key=api_key or None,
        api_base=base_url,
        organization=organization,
        max_retry_count=max_retries,
        timeout_sec=timeout_sec,
        additional_headers=dict(headers) if headers else None,
        additional_query=dict(query) if query else None,
        transport=transport,
    )
    return Invocation(invocation.settings, invocation.options, invocation.transport, policy)


def with_extras(
    invocation: Invocation,
    *,
    headers: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
    body: Mapping[str, Any] | None = None,
    replace_headers: bool = False,
) -> Invocation:
    """The invocation with per-call extras merged over its own (the SDK's ``extra_headers``,
    ``extra_query``, ``extra_body``); the same invocation when there are none.  With
    ``replace_headers``, ``headers`` are the request's extra headers whole (the caller merged
    them, removals included)."""
    if not (headers or query or body or replace_headers):
        return invocation
    old = invocation.options
    options = RequestOptions(
        additional_query={**(old.additional_query or {}), **(query or {})} or None,
        additional_headers=(
            dict(headers or {}) if replace_headers else {**(old.additional_headers or {}), **(headers or {})}
        )
        or None,
        additional_body={**(old.additional_body or {}), **(body or {})} or None,
        secrets=old.secrets,
    )
    return Invocation(invocation.settings, options, invocation.transport, invocation.policy)


def completion_path(completion_id: str) -> str:
    """``chat/completions/{id}``, the id checked and encoded as one path segment."""
    return encode_path("chat/completions/{}", check_text(completion_id, "completion_id"))


def messages_path(completion_id: str) -> str:
    """``chat/completions/{id}/messages``, as :func:`completion_path`."""
    return encode_path("chat/completions/{}/messages", check_text(completion_id, "completion_id"))


def exchange(
    invocation: Invocation,
    method: str,
    path: str,
    *,
    query: Sequence[tuple[str, Any]] = (),
    body: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    connect_timeout: float | None = None,
) -> Exchange:
    """One request of these dialects, with its HTTP answer: every text of the query and body
    checked before anything is sent; the answer is an object (the transport refuses any other).
    ``timeout`` limits each attempt (None: the settings' TimeoutSec), ``connect_timeout`` making
    a new connection within it."""
    for name, value in query:
        check_text(value, name)
    if body is not None:
        _check_texts(body, "body")
    with connect_limit(connect_timeout):
        return invocation.exchange(method, path, query=query, body=body, timeout_override=timeout)


def _by_id(
    invocation: Invocation,
    method: str,
    completion_id: str,
    expected: str,
    *,
    body: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> Any:
    """One request to ``chat/completions/{id}``, its answer checked to be an object."""
    path = completion_path(completion_id)
    answer = invocation.request(method, path, body=body, timeout_override=timeout)
    return check_object(answer, expected)


def retrieve(invocation: Invocation, completion_id: str, *, timeout: float | None = None) -> Any:
    """``GET /chat/completions/{id}``: the completion as sent."""
    return _by_id(invocation, "GET", completion_id, "a chat.completion", timeout=timeout)


def update(
    invocation: Invocation,
    completion_id: str,
    metadata: Mapping[str, str] | None,
    *,
    timeout: float | None = None,
) -> Any:
    """``POST /chat/completions/{id}`` with ``{"metadata": ...}`` (null clears it)."""
    body = {"metadata": metadata}
    return _by_id(invocation, "POST", completion_id, "a chat.completion", body=body, timeout=timeout)


def delete(invocation: Invocation, completion_id: str, *, timeout: float | None = None) -> Any:
    """``DELETE /chat/completions/{id}``: the ``chat.completion.deleted`` object."""
    return _by_id(invocation, "DELETE", completion_id, "a chat.completion.deleted", timeout=timeout)


def create(invocation: Invocation, body: Mapping[str, Any], *, timeout: float | None = None) -> Any:
    """``POST /chat/completions`` with the body as given (not streamed)."""
    _check_texts(body, "body")
    return check_object(
        invocation.request("POST", "chat/completions", body=body, timeout_override=timeout),
        "a chat.completion",
    )


def create_stream(
    invocation: Invocation,
    body: Mapping[str, Any],
    *,
    timeout: float | None = None,
    connect_timeout: float | None = None,
) -> ChunkStream:
    """``POST /chat/completions`` streamed: the body as given, with ``"stream": true`` (set in
    its place when the body has the key, added last when not), answered by server-sent events.

    Returns once the answer's head has come: a closable iterator of the chunk objects
    (``chat.completion.chunk``) as sent, scrubbed of every secret in play (see
    :class:`~psopenai_py.transport.ChunkStream`: closing it, a ``with`` block or the end of a
    ``for`` loop over it releases the connection).  Up to the head it is a request like
    :func:`create`: the same checks, settings, retries and exceptions.  ``timeout`` replaces
    TimeoutSec: it limits connecting and the head, then each wait for the next line of the stream;
    ``connect_timeout`` limits making a new connection within it.
    """
    _check_texts(body, "body")
    streamed = {**body, "stream": True}
    with connect_limit(connect_timeout):
        return invocation.transport.stream(
            invocation.settings,
            "POST",
            "chat/completions",
            body=streamed,
            options=invocation.options,
            timeout_override=timeout,
            policy=invocation.policy,
        )


def list_page(
    invocation: Invocation, query: Sequence[tuple[str, Any]], *, timeout: float | None = None
) -> Any:
    """One page of ``GET /chat/completions`` as sent (the page loop of
    :mod:`~psopenai_py.commands.paging` checks it); ``query`` holds only what the caller set."""
    return _page(invocation, "chat/completions", query, timeout)


def messages_page(
    invocation: Invocation,
    completion_id: str,
    query: Sequence[tuple[str, Any]],
    *,
    timeout: float | None = None,
) -> Any:
    """One page of ``GET /chat/completions/{id}/messages``, as :func:`list_page`."""
    return _page(invocation, messages_path(completion_id), query, timeout)


def _page(invocation: Invocation, path: str, query: Sequence[tuple[str, Any]], timeout: float | None) -> Any:
    for name, value in query:
        check_text(value, name)
    return invocation.request("GET", path, query=query, timeout_override=timeout)


# -- checks of what goes out and what comes back -------------------------------------------------


def check_text(value: Any, name: str) -> Any:
    """Text that can be sent as UTF-8 (see :func:`psopenai_py.checks.utf8_text`), checked
    before anything is sent; anything else passes as it is."""
    if isinstance(value, str):
        checks.checked(name, checks.utf8_text, value, f"The value of {name}")
    return value


def _check_texts(value: Any, name: str) -> None:
    """Every string inside a JSON-like value, as :func:`check_text`."""
    if isinstance(value, str):
        check_text(value, name)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_texts(key, name)
            _check_texts(item, name)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_texts(item, name)


def check_object(value: Any, expected: str) -> Any:
    """A response that must be a JSON object (a completion, a deleted marker)."""
    if not isinstance(value, Mapping):
        raise InvalidResponseException(
            f"The API returned {_json_kind(value)} where {expected} object was expected; nothing is shown."
        )
    return value


class KeyScrubber:
    """The package's one scrubber (:func:`psopenai_py.scrub.scrub`) with this invocation's key
    always in play, for every text the dialect writes: whole keys in any encoding, and any run of
    8 or more characters copied from the key (a hostile or broken server may echo it cut short).
    """

    def __init__(self, key: Secret | str | None) -> None:
        self._key = key

    def __call__(self, text: str) -> str:
        return scrub(text, (self._key,))

    def data(self, text: str) -> str:
        """Data (an API object on its way to the output): only the key it holds is taken out,
        nothing is rewritten for what it looks like (:func:`psopenai_py.scrub.scrub_data`)."""
        return scrub_data(text, (self._key,))

    def value(self, data: Any) -> Any:
        """A JSON-like value with every string (and key) scrubbed."""
        if isinstance(data, str):
            return self(data)
        if isinstance(data, Mapping):
            return {self(str(k)): self.value(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.value(v) for v in data]
        return data
