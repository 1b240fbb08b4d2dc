"""The wire format: what a request looks like before anything is sent.

Pure functions of their arguments: the URL (PSOpenAI's paths, .NET's ``HttpUtility.UrlEncode``
and PowerShell's text for query values), the headers in PSOpenAI's precedence, the JSON body, and
the per-invocation extras (:class:`RequestOptions`).  Nothing here imports the HTTP stack, so the
rules can be read and tested as tables and properties on their own.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .._version import __version__
from ..lazy_pattern import LazyPattern
from ..records import Record
from ..scrub import TOKEN_MASK
from ..secret import Secret
from ..settings import Settings

__all__ = [
    "RequestOptions",
    "url_encode",
    "encode_path_segment",
    "encode_path",
    "ps_string",
    "build_url",
    "build_headers",
    "encode_body",
    "user_agent",
    "is_credential_header",
    "masked_headers",
    "ReceivedObject",
    "json_type",
]

_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalVM", "ironpython": "IronPython"}
"""platform.python_implementation()'s spelling of sys.implementation.name."""

# .NET HttpUtility.UrlEncode keeps letters, digits and these; everything else is %xx (lowercase).
_URL_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!*()")

_CREDENTIAL_HEADER = LazyPattern(r"(?i)auth|key|token|secret|cookie|passw|signature|session")


def user_agent(http_client: str) -> str:
    """The User-Agent header: this package's version, the HTTP client named by the caller
    (``python-requests/2.32.3``) and the Python that runs it."""
    # From sys rather than the platform module, which costs milliseconds to import on every start.
    python = _IMPLEMENTATIONS.get(sys.implementation.name, sys.implementation.name)
    return f"psopenai_py/{__version__} ({http_client}; {python}/{'.'.join(map(str, sys.version_info[:3]))})"


def url_encode(text: str) -> str:
    """Encode as .NET's ``HttpUtility.UrlEncode`` does: space is ``+``, other bytes ``%xx`` lowercase.

    Hand-written because no stdlib quoting matches it (``quote_plus`` keeps ``~`` and encodes
    ``!*()``, and uses uppercase hex).
    """
    out: list[str] = []
    for byte in text.encode("utf-8"):
        if byte in _URL_SAFE:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"%{byte:02x}")
    return "".join(out)


def encode_path_segment(text: str) -> str:
    """One path segment that no value can leave: ``/``, ``?``, ``#`` and ``%`` are encoded, and a
    segment of dots alone (``.`` or ``..``, which URL normalisers resolve) has its dots encoded."""
    encoded = url_encode(text)
    if encoded and set(encoded) == {"."}:
        encoded = "%2e" * len(encoded)
    return encoded


def encode_path(template: str, *values: str) -> str:
    """Fill ``{}`` slots of a path template with encoded segments: ``chat/completions/{}``."""
    return template.format(*(encode_path_segment(v) for v in values))


def ps_string(value: Any) -> str:
    """A value as PowerShell's string conversion writes it: ``True``/``False``, an array
    space-joined, a whole double without ``.0``, a dictionary as its .NET type name."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value).upper().replace("INF", "Infinity").replace("NAN", "NaN")
    if isinstance(value, (list, tuple)):
        return " ".join(ps_string(item) for item in value)
    if isinstance(value, Mapping):
        return "System.Collections.Hashtable"
    return str(value)


def _query_pairs(pairs: Iterable[tuple[str, Any]]) -> str:
    # A null value is left out, as the original's query collection leaves it out.
    return "&".join(f"{url_encode(str(k))}={url_encode(ps_string(v))}" for k, v in pairs if v is not None)


def build_url(
    settings: Settings,
    path: str,
    query: Sequence[tuple[str, Any]] = (),
    additional_query: Mapping[str, Any] | None = None,
) -> str:
    """The request URL: base (its query kept) + ``/`` + encoded path, then the query parts.

    OpenAI: ``{base}/chat/completions/{id}``; Azure: ``{base}/openai/v1/chat/completions/{id}``.
    """
    parts = urlsplit(settings.api_base)
    base_path = parts.path
    if settings.api_type == "Azure" and not base_path.rstrip("/").endswith("/openai/v1"):
        base_path = base_path.rstrip("/") + "/openai/v1"
    if not base_path.endswith("/"):
        base_path += "/"
    pieces = [parts.query] if parts.query else []
    if query:
        pieces.append(_query_pairs(query))
    if settings.api_type == "Azure" and settings.api_version:
        pieces.append(_query_pairs([("api-version", settings.api_version)]))
    if additional_query:
        pieces.append(_query_pairs(additional_query.items()))
    return urlunsplit((parts.scheme, parts.netloc, base_path + path, "&".join(pieces), ""))


def build_headers(
    settings: Settings,
    *,
    user_agent: str,
    has_body: bool,
    additional_headers: Mapping[str, Any] | None = None,
    debug: bool = False,
) -> dict[str, str]:
    """Request headers in PSOpenAI's precedence: defaults < AdditionalHeaders < OpenAI-Organization.

    A name is one header whatever its case: a later spelling replaces an earlier one in its
    place, as a case-insensitive dictionary keeps it.  (Kept by hand, by the lowercase name, so
    that this module needs no HTTP library: the caller wraps the result in its own.)
    """
    entries: dict[str, tuple[str, str]] = {}

    def put(name: str, value: str) -> None:
        entries[name.lower()] = (name, value)

    put("User-Agent", user_agent)
    put("Accept", "application/json")
    put("Accept-Encoding", "gzip, deflate")
    if settings.auth_type == "azure":
        put("api-key", settings.api_key.reveal())
    else:
        put("Authorization", "Bearer " + settings.api_key.reveal())
    if has_body:
        put("Content-Type", "application/json")
    if debug:
        put("OpenAI-Debug", "true")
    for name, value in (additional_headers or {}).items():
        put(name, str(value))
    if settings.auth_type == "openai" and settings.organization and settings.organization.strip():
        put("OpenAI-Organization", settings.organization.strip())
    return dict(entries.values())


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as is, keys in the caller's order."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def is_credential_header(name: str) -> bool:
    """True for a header whose value is a credential: Authorization and api-key, and the ones
    gateways use in AdditionalHeaders (Ocp-Apim-Subscription-Key, X-Api-Key, Helicone-Auth,
    Cookie, X-Auth-Token): masked in the DEBUG lines and in a request that travels on."""
    return bool(_CREDENTIAL_HEADER.search(name))


def masked_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """The headers with every credential's value masked, for showing them."""
    return {k: (TOKEN_MASK if is_credential_header(str(k)) else v) for k, v in headers.items()}


class RequestOptions(Record):
    """The per-invocation extras: AdditionalQuery, AdditionalHeaders, AdditionalBody."""

    additional_query: Mapping[str, Any] | None = None
    additional_headers: Mapping[str, Any] | None = None
    additional_body: Mapping[str, Any] | None = None
    secrets: tuple[Secret, ...] = ()
    """The values of credential headers among AdditionalHeaders, in play while these options
    live (the scrubber holds secrets weakly): a server echoing one does not get it through."""

    def __repr__(self) -> str:
        # A gateway's key in AdditionalHeaders (Ocp-Apim-Subscription-Key) is a credential too.
        headers = None if self.additional_headers is None else masked_headers(self.additional_headers)
        return (
            f"RequestOptions(additional_query={self.additional_query!r}, additional_headers={headers!r}, "
            f"additional_body={self.additional_body!r})"
        )

    def merge_body(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The body with AdditionalBody merged in; AdditionalBody's keys win."""
        merged = dict(body)
        merged.update(self.additional_body or {})
        return merged


class ReceivedObject(dict[str, Any]):
    """A JSON object answer: a dict in every way, and the body it was read from.

    ``body`` is the response's bytes with every secret already taken out, for a front-end that
    shows an answer as it was received (the openai CLI's dialect prints numbers and escapes as
    the server wrote them, which a parsed value has lost).
    """

    __slots__ = ("body",)

    def __init__(self, content: Mapping[str, Any], body: bytes) -> None:
        super().__init__(content)
        self.body = body


_JSON_TYPES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),  # before int: a bool is an int to isinstance
    ((int, float), "number"),
    (str, "string"),
    (list, "array"),
)


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (``string``, ``null``, ...; anything else is an
    ``object``), as the messages about an answer of the wrong shape name it."""
    return next((name for kinds, name in _JSON_TYPES if isinstance(value, kinds)), "object")
