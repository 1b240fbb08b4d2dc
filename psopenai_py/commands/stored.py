"""The stored-completion operations in the API's own shape, for the front-ends that speak the
API's other dialects (the openai CLI's and the Python SDK's).

Where the PowerShell commands shape their output (dates, Answer, History) and page the way
PSOpenAI does, these return API objects exactly as the service sent them and send only the
parameters the caller gave, as the official CLI and SDK do.  They run over the same
:class:`~psopenai_py.commands.common.Invocation` (settings resolution, validation, transport with
retries and masking) as every other command.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ..errors import InvalidResponseException, ParameterBindingError
from ..parameters import Command, Parameter, settings_parameters
from ..transport import RequestOptions, Transport, encode_path
from ..validation import check_metadata, is_absolute_http_url
from .common import Invocation, prepare_invocation

__all__ = [
    "SETTINGS_TABLE",
    "open_invocation",
    "with_extras",
    "check_completion_id",
    "check_dialect_metadata",
    "retrieve",
    "update",
    "delete",
    "create",
    "list_page",
    "messages_page",
    "follow_pages",
    "DIALECT_BASE_URL",
    "DIALECT_ORGANIZATION",
]

# The names the official CLI and SDK read; this package's own names (OPENAI_API_BASE,
# OPENAI_ORGANIZATION) still apply after them, in the usual resolution.
DIALECT_BASE_URL = "OPENAI_BASE_URL"
DIALECT_ORGANIZATION = "OPENAI_ORG_ID"
API_KEY_NAME = "OPENAI_API_KEY"

# The settings parameters the checks of prepare_invocation read (the dialects check their own
# spellings of them first, so these names show only for a value nothing else caught).
SETTINGS_TABLE = Command(
    name="chat.completions",
    python_name="chat.completions",
    synopsis="The stored-completion operations of the openai CLI and SDK dialects.",
    parameters=settings_parameters(),
)

# Named as the SDK's keyword and the CLI's flag, so messages read right in both dialects.
_METADATA = Parameter("metadata", "metadata", "IDictionary", "metadata pairs")


def open_invocation(
    *,
    api_key: Any = None,
    base_url: str | None = None,
    organization: str | None = None,
    max_retries: int | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, Any] | None = None,
    transport: Transport | None = None,
) -> Invocation:
    """Resolve the settings once: the caller's values, then the SDK's environment names
    (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_ORG_ID``), then the package's usual order
    (context, module globals, ``OPENAI_API_BASE``/``OPENAI_ORGANIZATION``, the OS keyring).

    Raises :class:`~psopenai_py.errors.MissingSettingError` when no key is found anywhere, and
    :class:`~psopenai_py.errors.ParameterBindingError` for an ``OPENAI_BASE_URL`` that is not an
    http(s) URL (the official CLI refuses it too, rather than silently using another server).
    """
    if api_key is None or api_key == "":
        # Read before the context and module globals, as the SDK reads it before anything else.
        api_key = os.environ.get(API_KEY_NAME) or None
    if base_url is None:
        env_base = os.environ.get(DIALECT_BASE_URL) or None
        if env_base is not None and not is_absolute_http_url(env_base):
            raise ParameterBindingError(
                "base_url",
                f'{DIALECT_BASE_URL} "{env_base}" is missing a scheme or host '
                "(expected http:// or https:// and a host name).",
            )
        base_url = env_base
    if organization is None:
        organization = os.environ.get(DIALECT_ORGANIZATION) or None
    return prepare_invocation(
        SETTINGS_TABLE,
        api_key=api_key,
        api_base=base_url,
        organization=organization,
        max_retry_count=max_retries,
        additional_headers=dict(headers) if headers else None,
        additional_query=dict(query) if query else None,
        transport=transport,
    )


def with_extras(
    invocation: Invocation,
    *,
    headers: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
    body: Mapping[str, Any] | None = None,
) -> Invocation:
    """The invocation with per-call extras merged over its own (the SDK's ``extra_headers``,
    ``extra_query``, ``extra_body``); the same invocation when there are none."""
    if not (headers or query or body):
        return invocation
    old = invocation.options
    options = RequestOptions(
        additional_query={**(old.additional_query or {}), **(query or {})} or None,
        additional_headers={**(old.additional_headers or {}), **(headers or {})} or None,
        additional_body={**(old.additional_body or {}), **(body or {})} or None,
    )
    return dataclasses.replace(invocation, options=options)


def check_completion_id(value: Any, name: str = "completion_id") -> str:
    """A non-empty completion id; the SDK's message otherwise (a ValueError, nothing sent)."""
    if not isinstance(value, str):
        raise ParameterBindingError(
            name, f"Expected a string for `{name}` but received {type(value).__name__}"
        )
    if not value.strip():
        raise ParameterBindingError(name, f"Expected a non-empty value for `{name}` but received {value!r}")
    return value


def check_dialect_metadata(value: Any, *, nullable: bool) -> dict[str, str] | None:
    """The API's metadata limits (16 pairs, keys 64, string values 512), checked before sending;
    None passes through when ``nullable`` (an update with null clears the metadata)."""
    if value is None and nullable:
        return None
    return check_metadata(_METADATA, value)


def retrieve(invocation: Invocation, completion_id: str, *, timeout: float | None = None) -> Any:
    """``GET /chat/completions/{id}``: the completion as sent."""
    return invocation.request(
        "GET", encode_path("chat/completions/{}", completion_id), timeout_override=timeout
    )


def update(
    invocation: Invocation,
    completion_id: str,
    metadata: Mapping[str, str] | None,
    *,
    timeout: float | None = None,
) -> Any:
    """``POST /chat/completions/{id}`` with ``{"metadata": ...}`` (null clears it)."""
    return invocation.request(
        "POST",
        encode_path("chat/completions/{}", completion_id),
        body={"metadata": metadata},
        timeout_override=timeout,
    )


def delete(invocation: Invocation, completion_id: str, *, timeout: float | None = None) -> Any:
    """``DELETE /chat/completions/{id}``: the ``chat.completion.deleted`` object."""
    return invocation.request(
        "DELETE", encode_path("chat/completions/{}", completion_id), timeout_override=timeout
    )


def create(invocation: Invocation, body: Mapping[str, Any], *, timeout: float | None = None) -> Any:
    """``POST /chat/completions`` with the body as given (not streamed)."""
    return invocation.request("POST", "chat/completions", body=body, timeout_override=timeout)


def list_page(
    invocation: Invocation, query: Sequence[tuple[str, Any]], *, timeout: float | None = None
) -> Any:
    """One page of ``GET /chat/completions``; ``query`` holds only what the caller set."""
    return invocation.request("GET", "chat/completions", query=query, timeout_override=timeout)


def messages_page(
    invocation: Invocation,
    completion_id: str,
    query: Sequence[tuple[str, Any]],
    *,
    timeout: float | None = None,
) -> Any:
    """One page of ``GET /chat/completions/{id}/messages``."""
    return invocation.request(
        "GET",
        encode_path("chat/completions/{}/messages", completion_id),
        query=query,
        timeout_override=timeout,
    )


def next_cursor(page: Any) -> str | None:
    """The SDK's and the CLI's rule: no next page when ``data`` is empty or ``has_more`` is
    present and false; otherwise ``after`` is the last item's id."""
    if not isinstance(page, Mapping):
        return None
    data = page.get("data")
    if not isinstance(data, list) or not data:
        return None
    if page.get("has_more") is False:
        return None
    last = data[-1]
    ident = last.get("id") if isinstance(last, Mapping) else None
    return ident if isinstance(ident, str) and ident else None


def with_after(query: Sequence[tuple[str, Any]], after: str) -> list[tuple[str, Any]]:
    """The query with ``after`` replaced in place, or added at the end (as the SDK does)."""
    replaced = [(k, after if k == "after" else v) for k, v in query]
    if not any(k == "after" for k, _ in query):
        replaced.append(("after", after))
    return replaced


def follow_pages(
    fetch: Callable[[Sequence[tuple[str, Any]]], Any], query: Sequence[tuple[str, Any]], first: Any = None
) -> Iterator[Any]:
    """Every page, starting with ``first`` (fetched when None), following the cursor.

    A cursor seen before is a server fault: it raises
    :class:`~psopenai_py.errors.InvalidResponseException` instead of looping for ever.
    """
    page = fetch(query) if first is None else first
    seen = {v for k, v in query if k == "after"}
    while True:
        yield page
        cursor = next_cursor(page)
        if cursor is None:
            return
        if cursor in seen:
            raise InvalidResponseException(
                f"The API returned the cursor {cursor!r} a second time; stopped paging instead of looping."
            )
        seen.add(cursor)
        query = with_after(query, cursor)
        page = fetch(query)
