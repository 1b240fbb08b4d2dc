"""Building, sending and retrying requests over one pooled HTTP session.

This is the only module that imports ``requests`` (the package's import stays light), the only
place the API key leaves its :class:`~psopenai_py.secret.Secret`, and the only place a response
becomes an exception (through :func:`psopenai_py.errors.exception_from_response`).
"""

from __future__ import annotations

import functools
import http.cookiejar
import json
import logging
import os
import platform
import random as _random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.adapters
from requests.structures import CaseInsensitiveDict

from . import __version__
from .errors import (
    APIConnectionException,
    APIRequestException,
    InvalidResponseException,
    TimeoutException,
    exception_from_response,
)
from .masking import TOKEN_MASK
from .retry import retry_delay_ms, should_retry
from .settings import Settings

__all__ = [
    "Transport",
    "RequestOptions",
    "default_transport",
    "set_default_transport",
    "url_encode",
    "ps_string",
    "encode_path",
    "build_url",
    "build_headers",
    "encode_body",
    "USER_AGENT",
]

log = logging.getLogger("psopenai_py")

USER_AGENT = (
    f"psopenai_py/{__version__} (python-requests/{requests.__version__}; "
    f"{platform.python_implementation()}/{platform.python_version()})"
)
DEBUG_BODY_LIMIT = 32768
_POOL_SIZE = 64  # the highest ThrottleLimit
# .NET HttpUtility.UrlEncode keeps letters, digits and these; everything else is %xx (lowercase).
_URL_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!*()")


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


def _query_pairs(pairs: Iterable[tuple[str, Any]]) -> str:
    # A null value is left out, as the original's query collection leaves it out.
    return "&".join(f"{url_encode(str(k))}={url_encode(ps_string(v))}" for k, v in pairs if v is not None)


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
    has_body: bool,
    additional_headers: Mapping[str, Any] | None = None,
    debug: bool = False,
) -> CaseInsensitiveDict[str]:
    """Request headers in PSOpenAI's precedence: defaults < AdditionalHeaders < OpenAI-Organization."""
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    headers["User-Agent"] = USER_AGENT
    headers["Accept"] = "application/json"
    headers["Accept-Encoding"] = "gzip, deflate"
    if settings.auth_type == "azure":
        headers["api-key"] = settings.api_key.reveal()
    else:
        headers["Authorization"] = "Bearer " + settings.api_key.reveal()
    if has_body:
        headers["Content-Type"] = "application/json"
    if debug:
        headers["OpenAI-Debug"] = "true"
    for name, value in (additional_headers or {}).items():
        headers[name] = str(value)
    if settings.auth_type == "openai" and settings.organization and settings.organization.strip():
        headers["OpenAI-Organization"] = settings.organization.strip()
    return headers


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as is, keys in the caller's order."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class RequestOptions:
    """The per-invocation extras: AdditionalQuery, AdditionalHeaders, AdditionalBody."""

    additional_query: Mapping[str, Any] | None = None
    additional_headers: Mapping[str, Any] | None = None
    additional_body: Mapping[str, Any] | None = None

    def merge_body(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The body with AdditionalBody merged in; AdditionalBody's keys win."""
        merged = dict(body)
        merged.update(self.additional_body or {})
        return merged


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """The API sets no cookies we need; a shared jar would leak state between threads and keys."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


@functools.lru_cache(maxsize=64)
def _environment_for(scheme: str, netloc: str) -> tuple[tuple[tuple[str, str], ...], Any]:
    """Proxies and CA bundle from the environment for one origin, looked up once.

    The session runs with ``trust_env`` off, because requests would otherwise let a ``.netrc``
    entry replace our Authorization header and would scan the environment on every call.
    """
    proxies = requests.utils.get_environ_proxies(f"{scheme}://{netloc}/")
    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return tuple(sorted(proxies.items())), verify


class Transport:
    """One pooled, thread-safe ``requests.Session`` and the retry loop around it.

    ``sleep``, ``random`` and ``clock`` are injectable so retry delays can be checked exactly.
    """

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] = time.time,
        pool_size: int = _POOL_SIZE,
    ) -> None:
        self.sleep = sleep
        self.random = random
        self.clock = clock
        self._pool_size = pool_size
        self._session: requests.Session | None = None
        self._lock = threading.Lock()
        # One shared backoff: a 429 seen by one thread holds every thread until this moment
        # (time.monotonic), so N workers do not hammer a rate-limited server N times over.
        self._paused_until = 0.0

    @property
    def session(self) -> requests.Session:
        """The shared session, created on first use."""
        session = self._session
        if session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._new_session()
                session = self._session
        return session

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        session.cookies.set_policy(_NoCookies())
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=4, pool_maxsize=self._pool_size, max_retries=0
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def close(self) -> None:
        """Close pooled connections; the next call opens new ones."""
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def request(
        self,
        settings: Settings,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, Any]] = (),
        body: Mapping[str, Any] | None = None,
        options: RequestOptions = RequestOptions(),
        timeout_override: float | None = None,
    ) -> Any:
        """Send one API request with retries; return the parsed JSON body or raise.

        ``timeout_override`` replaces TimeoutSec for this request (a paging loop's time left).
        """
        url = build_url(settings, path, query, options.additional_query)
        debug = log.isEnabledFor(logging.DEBUG)
        data = encode_body(options.merge_body(body)) if body is not None else None
        prepared = requests.PreparedRequest()
        # Filled in by hand rather than by prepare(): requests would re-quote the URL (turning
        # %2e%2e back into ..) and re-merge session state we do not want on every call.
        prepared.method = method.upper()
        prepared.url = url
        prepared.headers = build_headers(
            settings,
            has_body=data is not None,
            additional_headers=options.additional_headers,
            debug=debug,
        )
        prepared.body = data
        if data is not None:
            prepared.headers["Content-Length"] = str(len(data))
        prepared.hooks = {"response": []}
        proxies, verify = _environment_for(*urlsplit(url)[:2])
        timeout = timeout_override or settings.timeout_sec or None  # 0: forever, per attempt
        retries = 0
        waited = False
        try:
            while True:
                if not waited:
                    self._wait_for_shared_pause()
                waited = False
                self._log_request(settings, prepared, debug)
                response = self._send(settings, prepared, timeout, dict(proxies), verify)
                if response.status_code < 400:
                    return self._parse_success(settings, response, debug)
                error = self._error_from(settings, response)
                if not should_retry(
                    retries_made=retries,
                    max_retry_count=settings.max_retry_count,
                    status_code=response.status_code,
                    headers=response.headers,
                    error_message=error.message,
                ):
                    raise error
                delay = retry_delay_ms(retries, response.headers, now=self.clock(), random=self.random)
                log.warning("%s", error.message)
                log.warning("Retry the request after waiting %d ms (retry count: %d)", delay, retries)
                if response.status_code == 429:
                    self._pause_everyone(delay / 1000.0)
                self.sleep(delay / 1000.0)
                waited = True  # this thread has just waited its own delay
                retries += 1
        except BaseException:
            # The prepared request travels on with the exception (requests' errors and our
            # APIRequestException.response.request refer to it): take the key out first.
            _scrub_credentials(prepared)
            raise

    def _pause_everyone(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        with self._lock:
            self._paused_until = max(self._paused_until, until)

    def _wait_for_shared_pause(self) -> None:
        remaining = self._paused_until - time.monotonic()
        if remaining > 0:
            log.debug(
                "Waiting %d ms: another request of this process was rate limited.", round(remaining * 1000)
            )
            self.sleep(remaining)

    def _send(
        self,
        settings: Settings,
        prepared: requests.PreparedRequest,
        timeout: float | None,
        proxies: dict[str, str],
        verify: Any,
    ) -> requests.Response:
        try:
            return self.session.send(
                prepared,
                timeout=timeout,
                proxies=proxies,
                verify=verify,
                stream=False,
            )
        except requests.Timeout:
            raise TimeoutException() from None
        except requests.RequestException as exc:
            text = f"The request could not be completed: {type(exc).__name__}: {exc}"
            cleaned = settings.redact(text)
            error = APIConnectionException(cleaned)
            # requests' message quotes the URL, which may carry extras the caller put there: keep
            # the original as the cause only when it holds no secret.
            raise error from (exc if cleaned == text else None)

    def _error_from(self, settings: Settings, response: requests.Response) -> APIRequestException:
        _scrub_body(settings, response)
        content = _parse_json(response.content)
        error = exception_from_response(
            settings.service, response.status_code, response.reason or "", content, response
        )
        self._log_response(settings, response, log.isEnabledFor(logging.DEBUG))
        return error

    def _parse_success(self, settings: Settings, response: requests.Response, debug: bool) -> Any:
        self._log_response(settings, response, debug)
        content = _parse_json(response.content)
        if content is None and response.content.strip() != b"null":
            _scrub_body(settings, response)
            raise InvalidResponseException(
                f"{settings.service} API returned a response that is not JSON "
                f"(status {response.status_code}, Content-Type "
                f"{response.headers.get('Content-Type', 'none')}).",
                status_code=response.status_code,
                response=response,
            )
        return content

    def _log_request(self, settings: Settings, prepared: requests.PreparedRequest, debug: bool) -> None:
        if not (debug or log.isEnabledFor(logging.INFO)):  # -Debug alone shows the debug lines
            return
        log.info("Request to %s API", settings.service)
        log.info(
            "%s", settings.redact(f"Method = {str(prepared.method).capitalize()}, Path = {prepared.url}")
        )
        if debug:
            shown = {
                k: (TOKEN_MASK if k.lower() in ("authorization", "api-key") else v)
                for k, v in prepared.headers.items()
            }
            log.debug(
                "%s",
                settings.redact(
                    f"Request parameters: Method = {prepared.method}, Uri = {prepared.url}, Headers = {shown}"
                ),
            )
            if prepared.body is not None:
                body = (
                    prepared.body.decode("utf-8") if isinstance(prepared.body, bytes) else str(prepared.body)
                )
                log.debug("%s", settings.redact("Post body: " + _truncate(body)))

    def _log_response(self, settings: Settings, response: requests.Response, debug: bool) -> None:
        if not (debug or log.isEnabledFor(logging.INFO)):
            return
        log.info(
            "%s API response: StatusCode = %d, processing_ms = %s, request_id = %s",
            settings.service,
            response.status_code,
            response.headers.get("openai-processing-ms"),
            response.headers.get("x-request-id"),
        )
        if debug:
            log.debug("%s", settings.redact(f"API response header: {dict(response.headers)}"))
            text = response.content.decode("utf-8", "replace")
            log.debug("%s", settings.redact("API response body: " + _truncate(text)))


def _truncate(text: str) -> str:
    if len(text) > DEBUG_BODY_LIMIT:
        return text[:DEBUG_BODY_LIMIT] + " ...<truncated>"
    return text


def _parse_json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _scrub_body(settings: Settings, response: requests.Response) -> None:
    """Take the key out of a body that travels on in an exception (a server may echo it)."""
    text = response.content.decode("utf-8", "replace")
    cleaned = settings.redact(text)
    if cleaned != text:
        response._content = cleaned.encode("utf-8")
        response.encoding = "utf-8"


def _scrub_credentials(prepared: requests.PreparedRequest) -> None:
    for name in ("Authorization", "api-key", "OpenAI-Organization"):
        if name in prepared.headers:
            prepared.headers[name] = TOKEN_MASK


_default: Transport | None = None
_default_lock = threading.Lock()


def default_transport() -> Transport:
    """The process-wide transport every command uses unless told otherwise."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Transport()
    return _default


def set_default_transport(transport: Transport | None) -> Transport | None:
    """Replace the process-wide transport (None: a fresh default on next use); returns the old one."""
    global _default
    with _default_lock:
        old, _default = _default, transport
    return old
