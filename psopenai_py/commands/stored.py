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
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidResponseException, ParameterBindingError
from ..parameters import Command, Parameter, settings_parameters
from ..scrub import scrub
from ..secret import Secret
from ..transport import RequestOptions, Transport, encode_path
from ..validation import check_metadata, is_absolute_http_url
from .common import Invocation, prepare_invocation
from .paging import json_kind as _json_kind

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
    "DIALECT_BASE_URL",
    "DIALECT_ORGANIZATION",
    "check_text",
    "check_object",
    "clean_api_key",
    "check_headers",
    "KeyScrubber",
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
    api_key_label: str = "api_key",
) -> Invocation:
    """Resolve the settings once: the caller's values, then the SDK's environment names
    (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_ORG_ID``), then the package's usual order
    (context, module globals, ``OPENAI_API_BASE``/``OPENAI_ORGANIZATION``, the OS keyring).

    Raises :class:`~psopenai_py.errors.MissingSettingError` when no key is found anywhere, and
    :class:`~psopenai_py.errors.ParameterBindingError` for an ``OPENAI_BASE_URL`` that is not an
    http(s) URL (the official CLI refuses it too, rather than silently using another server), and
    for a key that cannot go into a header (see :func:`clean_api_key`; ``api_key_label`` names
    where the caller's key came from, ``--api-key`` or ``api_key``).
    """
    if isinstance(api_key, Secret):
        api_key = api_key.reveal() if api_key else None
    if isinstance(api_key, str):
        api_key = clean_api_key(api_key, api_key_label)
    if api_key is None or api_key == "":
        # Read before the context and module globals, as the SDK reads it before anything else.
        from_env = os.environ.get(API_KEY_NAME) or None
        api_key = clean_api_key(from_env, API_KEY_NAME) if from_env is not None else None
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
    return str(check_text(value, name))


def check_dialect_metadata(value: Any, *, nullable: bool) -> dict[str, str] | None:
    """The API's metadata limits (16 pairs, keys 64, string values 512), checked before sending;
    None passes through when ``nullable`` (an update with null clears the metadata)."""
    if value is None and nullable:
        return None
    _check_texts(value, "metadata")
    return check_metadata(_METADATA, value)


def retrieve(invocation: Invocation, completion_id: str, *, timeout: float | None = None) -> Any:
    """``GET /chat/completions/{id}``: the completion as sent."""
    return check_object(
        invocation.request(
            "GET",
            encode_path("chat/completions/{}", check_text(completion_id, "completion_id")),
            timeout_override=timeout,
        ),
        "a chat.completion",
    )


def update(
    invocation: Invocation,
    completion_id: str,
    metadata: Mapping[str, str] | None,
    *,
    timeout: float | None = None,
) -> Any:
    """``POST /chat/completions/{id}`` with ``{"metadata": ...}`` (null clears it)."""
    return check_object(
        invocation.request(
            "POST",
            encode_path("chat/completions/{}", check_text(completion_id, "completion_id")),
            body={"metadata": metadata},
            timeout_override=timeout,
        ),
        "a chat.completion",
    )


def delete(invocation: Invocation, completion_id: str, *, timeout: float | None = None) -> Any:
    """``DELETE /chat/completions/{id}``: the ``chat.completion.deleted`` object."""
    return check_object(
        invocation.request(
            "DELETE",
            encode_path("chat/completions/{}", check_text(completion_id, "completion_id")),
            timeout_override=timeout,
        ),
        "a chat.completion.deleted",
    )


def create(invocation: Invocation, body: Mapping[str, Any], *, timeout: float | None = None) -> Any:
    """``POST /chat/completions`` with the body as given (not streamed)."""
    _check_texts(body, "body")
    return check_object(
        invocation.request("POST", "chat/completions", body=body, timeout_override=timeout),
        "a chat.completion",
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
    path = encode_path("chat/completions/{}/messages", check_text(completion_id, "completion_id"))
    return _page(invocation, path, query, timeout)


def _page(invocation: Invocation, path: str, query: Sequence[tuple[str, Any]], timeout: float | None) -> Any:
    for name, value in query:
        check_text(value, name)
    return invocation.request("GET", path, query=query, timeout_override=timeout)


# -- checks of what goes out and what comes back -------------------------------------------------

_KEY_EDGES = " \t\r\n\ufeff"  # a key file's line ending, a BOM from a Windows editor


def clean_api_key(value: str | None, label: str) -> str | None:
    """A key as it can go into a header: surrounding white space and a byte-order mark removed
    (a key read from a file keeps its line ending); a key with a line break, a control or a
    non-ASCII character inside is refused, naming ``label`` and never quoting the key."""
    if value is None:
        return None
    key = value.strip(_KEY_EDGES)
    for position, char in enumerate(key, start=1):
        if not " " <= char < "\x7f":
            if char in "\r\n":
                what = "a line break"
            elif char < " " or char == "\x7f":
                what = "a control character"
            else:
                what = "a non-ASCII character"
            raise ParameterBindingError(
                "api_key",
                f"The API key given by {label} has {what} at position {position}; an API key is "
                "printable ASCII. Nothing was sent.",
            )
    return key or None


_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_FRAMING_HEADERS = frozenset(
    ("content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer")
)


def check_headers(value: Mapping[str, Any] | None, name: str) -> dict[str, str] | None:
    """Extra headers that HTTP can carry: token names, Latin-1 values without line breaks or
    control characters, none of the message-framing ones.  The error names the header, never
    its value (a header may carry a credential)."""
    if value is None:
        return None
    checked: dict[str, str] = {}
    for header, item in value.items():
        text = str(item)
        problem = None
        if not isinstance(header, str) or not header or not set(header) <= _TOKEN_CHARS:
            problem = "is not a valid header name"
        elif any(c in text for c in "\r\n"):
            problem = "has a line break in its value"
        elif any((c < " " and c != "\t") or c == "\x7f" for c in text):
            problem = "has a control character in its value"
        elif any(ord(c) > 0xFF for c in text):
            problem = "has a character outside Latin-1 in its value, which HTTP headers cannot carry"
        elif header.lower() in _FRAMING_HEADERS:
            problem = "is set by the HTTP client and cannot be replaced"
        if problem:
            raise ParameterBindingError(
                name, f"The header {header!r} in `{name}` {problem}. Nothing was sent."
            )
        checked[header] = text
    return checked


def check_text(value: Any, name: str) -> Any:
    """Text that can be sent as UTF-8: a str with a lone surrogate (bytes that were not UTF-8 on
    a command line) is refused, naming the parameter, before anything is sent."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ParameterBindingError(
                name,
                f"The value of {name} is not valid text: character {exc.start + 1} is an undecodable "
                f"byte ({value[exc.start]!a}); pass UTF-8 text. Nothing was sent.",
            ) from None
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

    def value(self, data: Any) -> Any:
        """A JSON-like value with every string (and key) scrubbed."""
        if isinstance(data, str):
            return self(data)
        if isinstance(data, Mapping):
            return {self(str(k)): self.value(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.value(v) for v in data]
        return data
