"""Building, sending and retrying requests over one pooled HTTP session.

This is the only module that imports ``requests`` (the package's import stays light), the only
place the API key leaves its :class:`~psopenai_py.secret.Secret`, and the only place a response
becomes an exception (through :func:`psopenai_py.errors.exception_from_response`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import http.cookiejar
import json
import logging
import os
import random as _random
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from ._version import __version__
from .cancel import pause
from .errors import (
    APIConnectionException,
    APIRequestException,
    InvalidResponseException,
    RedirectException,
    TimeoutException,
    exception_from_response,
)
from .retry import retry_delay_ms, should_retry
from .scrub import TOKEN_MASK, install_log_filter
from .secret import Secret
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
    "is_credential_header",
]

log = logging.getLogger("psopenai_py")
install_log_filter()  # records of this package, requests and urllib3 are scrubbed at every level

_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalVM", "ironpython": "IronPython"}
"""platform.python_implementation()'s spelling of sys.implementation.name."""

USER_AGENT = (
    f"psopenai_py/{__version__} (python-requests/{requests.__version__}; "
    # From sys rather than the platform module, which costs milliseconds to import on every start.
    f"{_IMPLEMENTATIONS.get(sys.implementation.name, sys.implementation.name)}/"
    f"{'.'.join(map(str, sys.version_info[:3]))})"
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
    secrets: tuple[Secret, ...] = field(default=(), compare=False)
    """The values of credential headers among AdditionalHeaders, in play while these options
    live (the scrubber holds secrets weakly): a server echoing one does not get it through."""

    def __repr__(self) -> str:
        # A gateway's key in AdditionalHeaders (Ocp-Apim-Subscription-Key) is a credential too.
        headers = (
            {
                k: (TOKEN_MASK if is_credential_header(str(k)) else v)
                for k, v in self.additional_headers.items()
            }
            if self.additional_headers is not None
            else None
        )
        return (
            f"RequestOptions(additional_query={self.additional_query!r}, additional_headers={headers!r}, "
            f"additional_body={self.additional_body!r})"
        )

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


class _AttemptWatch(threading.local):
    current: "_Watchdog | None" = None


_attempt_watch = _AttemptWatch()

"""The watchdog of the attempt this thread is making, for the connection to report to."""


class _Deadlines:
    """One daemon thread that fires every attempt's watchdog at its deadline.

    Hand-written instead of a ``threading.Timer`` per attempt: starting a thread for each
    attempt cost about 0.2 ms per call, as much as the rest of the client's own work.  Watchdogs
    wait in a heap by deadline; a finished one is dropped when it comes up (or when the heap is
    tidied), so ``finish`` never has to search the heap.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, _Watchdog]] = []
        self._count = 0
        self._thread: threading.Thread | None = None

    def watch(self, deadline: float, watchdog: _Watchdog) -> None:
        with self._condition:
            self._count += 1
            heapq.heappush(self._heap, (deadline, self._count, watchdog))
            if len(self._heap) > 1024:  # many finished watchdogs with far deadlines: tidy up
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="psopenai-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is watchdog:
                self._condition.notify()  # an earlier deadline than the thread is waiting for

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap:
                    self._condition.wait()
                deadline, _, watchdog = self._heap[0]
                left = deadline - time.monotonic()
                if watchdog.done:
                    heapq.heappop(self._heap)
                    continue
                if left > 0:
                    self._condition.wait(left)
                    continue
                heapq.heappop(self._heap)
            watchdog.fire()


_deadlines = _Deadlines()


class _Watchdog:
    """Shuts down the connection of one attempt when its deadline passes.

    Only attempts with a TimeoutSec (0 means none) have one; all of them share one timer thread
    (:class:`_Deadlines`).  ``finish`` and the firing are exclusive under a lock, so a connection
    already handed back to the pool is never shut down.
    """

    def __init__(self, deadline: float) -> None:
        self._lock = threading.Lock()
        self._connection: Any = None
        self._done = False
        self.fired = False
        _deadlines.watch(deadline, self)

    def attach(self, connection: Any) -> None:
        with self._lock:
            self._connection = connection
            fired = self.fired
        if fired:
            self._shut(connection)

    def fire(self) -> None:
        """The deadline has passed: shut the attempt's connection down, unless it finished."""
        with self._lock:
            if self._done:
                return
            self.fired = True
            connection = self._connection
        if connection is not None:
            self._shut(connection)

    @staticmethod
    def _shut(connection: Any) -> None:
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def finish(self) -> bool:
        """Stop watching; False when the deadline had already struck."""
        with self._lock:
            self._done = True
        return not self.fired

    @property
    def done(self) -> bool:
        """Whether the attempt has finished watching (the timer thread then forgets it)."""
        return self._done


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def connect(self) -> None:
        # Watched from the first byte: a proxy dripping its answer to CONNECT is cut off too
        # (self.sock is the plain socket until TLS wraps it).
        watch = _attempt_watch.current
        if watch is not None:
            watch.attach(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        watch = _attempt_watch.current
        if watch is not None:
            watch.attach(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def connect(self) -> None:
        # Watched from the first byte: a proxy dripping its answer to CONNECT is cut off too
        # (self.sock is the plain socket until TLS wraps it).
        watch = _attempt_watch.current
        if watch is not None:
            watch.attach(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        watch = _attempt_watch.current
        if watch is not None:
            watch.attach(self)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """The adapter whose connections report to the attempt's watchdog, direct or through an
    HTTP(S) proxy (a proxy that drips is cut off at the deadline too; a SOCKS proxy keeps its
    own connections, bounded by the per-read timeouts)."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
        return manager


class _Attempt:
    """One attempt's raw outcome: the response, its body read in full, within the deadline."""

    __slots__ = ("body", "response")

    def __init__(self, response: requests.Response, body: bytes) -> None:
        self.response = response
        self.body = body


class Transport:
    """One pooled, thread-safe ``requests.Session`` and the retry loop around it.

    A call is built (:meth:`prepare`), sent one attempt at a time (:meth:`send_once`, each under
    its own TimeoutSec deadline) and retried (:meth:`request`).  ``sleep``, ``random`` and
    ``clock`` are injectable so retry delays can be checked exactly.
    """

    max_body_bytes = 64 * 1024 * 1024
    """The largest response body read; a longer one is an InvalidResponseException (no API
    answer comes near it, and a hostile server could otherwise fill the memory)."""

    _CHUNK = 65536

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
        # Backoff shared per (origin, key): a 429 seen by one thread holds the threads calling
        # the same server with the same key until this moment (time.monotonic), so N workers do
        # not hammer a rate-limited server N times over, and nobody else waits for it.
        self._paused_until: dict[tuple[str, str], float] = {}

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
        adapter = _WatchedAdapter(pool_connections=4, pool_maxsize=self._pool_size, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        install_log_filter()  # loggers urllib3 made since import are covered too
        return session

    def close(self) -> None:
        """Close pooled connections; the next call opens new ones."""
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    # -- building ------------------------------------------------------------------------------

    def prepare(
        self,
        settings: Settings,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, Any]] = (),
        body: Mapping[str, Any] | None = None,
        options: RequestOptions = RequestOptions(),
    ) -> requests.PreparedRequest:
        """The request as it goes on the wire: URL, headers (the key among them) and body."""
        url = build_url(settings, path, query, options.additional_query)
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
            debug=log.isEnabledFor(logging.DEBUG),
        )
        prepared.body = data
        if data is not None:
            prepared.headers["Content-Length"] = str(len(data))
        prepared.hooks = {"response": []}
        # requests works out a redirect's next request even when it follows none, and reads
        # the request's cookie jar for it: an empty jar that accepts nothing.
        jar = requests.cookies.RequestsCookieJar()
        jar.set_policy(_NoCookies())
        prepared._cookies = jar  # type: ignore[attr-defined]
        return prepared

    # -- retrying ------------------------------------------------------------------------------

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
        """Send one API request with retries; return the parsed JSON object or raise.

        ``timeout_override`` replaces TimeoutSec for this request (a paging loop's time left).
        """
        prepared = self.prepare(settings, method, path, query=query, body=body, options=options)
        timeout = timeout_override or settings.timeout_sec or None  # 0: forever, per attempt
        pause_key = _pause_key(settings, str(prepared.url))
        retries = 0
        waited = False
        try:
            while True:
                if not waited:
                    self._wait_for_shared_pause(pause_key)
                waited = False
                try:
                    return self.send_once(settings, prepared, timeout)
                except APIRequestException as error:
                    response = error.response
                    if (
                        error.status_code is None
                        or error.status_code < 400
                        or response is None
                        or not should_retry(
                            retries_made=retries,
                            max_retry_count=settings.max_retry_count,
                            status_code=error.status_code,
                            headers=response.headers,
                            error_message=error.message,
                        )
                    ):
                        raise
                    delay = retry_delay_ms(retries, response.headers, now=self.clock(), random=self.random)
                    log.warning("%s", error.message)
                    log.warning("Retry the request after waiting %d ms (retry count: %d)", delay, retries)
                    if error.status_code == 429:
                        self._pause_others(pause_key, delay / 1000.0)
                # Cancellable: a stopped run ends this wait at once (cancel.scope).
                pause(delay / 1000.0, sent=True, sleep=self.sleep)
                waited = True  # this thread has just waited its own delay
                retries += 1
        except BaseException:
            # The prepared request travels on with the exception (requests' errors and our
            # APIRequestException.response.request refer to it): take the key out first.
            _scrub_credentials(prepared)
            raise

    def _pause_others(self, key: tuple[str, str], seconds: float) -> None:
        until = time.monotonic() + seconds
        with self._lock:
            now = time.monotonic()
            # Forget pauses that are over, so the table stays as small as the live origins.
            for stale in [k for k, v in self._paused_until.items() if v <= now]:
                del self._paused_until[stale]
            self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)

    def _wait_for_shared_pause(self, key: tuple[str, str]) -> None:
        remaining = self._paused_until.get(key, 0.0) - time.monotonic()
        if remaining > 0:
            log.debug(
                "Waiting %d ms: another request of this process to this server with this key was "
                "rate limited.",
                round(remaining * 1000),
            )
            # Before this request's first attempt: a stop here means it was never sent.
            pause(remaining, sent=False, sleep=self.sleep)

    # -- sending one attempt -------------------------------------------------------------------

    def send_once(self, settings: Settings, prepared: requests.PreparedRequest, timeout: float | None) -> Any:
        """One attempt: send, read the whole answer within ``timeout`` seconds (None: no limit),
        and return the parsed JSON object, or raise the exception the answer calls for."""
        debug = log.isEnabledFor(logging.DEBUG)
        self._log_request(settings, prepared, debug)
        attempt = self._exchange(prepared, timeout)
        response = attempt.response
        _scrub_response(settings, response)
        status = response.status_code
        if 300 <= status < 400:
            self._log_response(settings, response, debug)
            location = response.headers.get("Location")
            raise RedirectException(
                f"{settings.service} API answered {status} ({response.reason or ''}) pointing to "
                f"{location or '(no Location)'}. API calls are not redirected (the API never "
                "redirects: check ApiBase, or a proxy or captive portal in the way); nothing, and "
                "no key, was sent there.",
                location=location,
                status_code=status,
                response=response,
            )
        if status >= 400:
            content = _parse_json(response.content)
            error = exception_from_response(
                settings.service, status, response.reason or "", content, response
            )
            self._log_response(settings, response, debug)
            raise error
        self._log_response(settings, response, debug)
        content = _parse_json(response.content)
        if not isinstance(content, dict):
            what = (
                "is not JSON"
                if content is None and response.content.strip() != b"null"
                else (f"is a JSON {_json_type(content)}, not an object")
            )
            raise InvalidResponseException(
                f"{settings.service} API returned a response that {what} (status {status}, "
                f"Content-Type {response.headers.get('Content-Type', 'none')}).",
                status_code=status,
                response=response,
            )
        return content

    def _exchange(self, prepared: requests.PreparedRequest, timeout: float | None) -> _Attempt:
        """Send and read the body in full before the deadline; transport failures typed.

        Connect and each socket read get the time left as their timeout; a watchdog shuts the
        connection down at the deadline, so a server that drips its status line or headers a byte
        at a time (each read in time, the whole never) is cut off too.
        """
        deadline = time.monotonic() + timeout if timeout else None
        proxies, verify = _environment_for(*urlsplit(str(prepared.url))[:2])
        watch = _Watchdog(deadline) if deadline is not None else None
        _attempt_watch.current = watch
        try:
            try:
                response = self.session.send(
                    prepared,
                    timeout=_time_left(deadline),
                    proxies=dict(proxies),
                    verify=verify,
                    stream=True,
                    allow_redirects=False,
                )
            except requests.Timeout:
                raise TimeoutException() from None
            except requests.RequestException as exc:
                if watch is not None and watch.fired:
                    raise TimeoutException() from None
                raise _connection_error(exc) from None
            try:
                body = self._read_body(response, deadline)
            except APIConnectionException:
                _discard(response)
                if watch is not None and watch.fired:
                    raise TimeoutException() from None
                raise
            except BaseException:
                _discard(response)
                raise
            if watch is not None and not watch.finish():
                # The deadline struck after the last byte: the connection is shut, not reusable.
                _discard(response)
                raise TimeoutException()
        finally:
            _attempt_watch.current = None
            if watch is not None:
                watch.finish()
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        raw = response.raw
        release = getattr(raw, "release_conn", None)
        if release is not None:
            release()
        # The raw stream keeps the headers as received (a server may echo a key there), and the
        # next request requests built for a redirect is a copy of ours, key included.
        response.raw = None
        response._next = None  # type: ignore[attr-defined]
        return _Attempt(response, body)

    def _read_body(self, response: requests.Response, deadline: float | None) -> bytes:
        """The whole (decoded) body, each socket read limited to the time left."""
        raw = response.raw
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                left = _time_left(deadline)
                if left is not None and sock is not None:
                    sock.settimeout(left)
                chunk = raw.read1(self._CHUNK, decode_content=True)
                if not chunk:
                    if raw.closed or getattr(raw, "length_remaining", 0) in (0, None):
                        break
                    continue
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise InvalidResponseException(
                        f"The response body is larger than {self.max_body_bytes} bytes; it was not read.",
                        status_code=response.status_code,
                    )
                chunks.append(chunk)
        except (TimeoutError, urllib3.exceptions.ReadTimeoutError, TimeoutException):
            raise TimeoutException() from None
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            raise _connection_error(exc) from None
        return b"".join(chunks)

    # -- logging -------------------------------------------------------------------------------

    def _log_request(self, settings: Settings, prepared: requests.PreparedRequest, debug: bool) -> None:
        if not (debug or log.isEnabledFor(logging.INFO)):  # -Debug alone shows the debug lines
            return
        log.info("Request to %s API", settings.service)
        log.info(
            "%s", settings.redact(f"Method = {str(prepared.method).capitalize()}, Path = {prepared.url}")
        )
        if debug:
            shown = {k: (TOKEN_MASK if is_credential_header(k) else v) for k, v in prepared.headers.items()}
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
            text = response.content[: DEBUG_BODY_LIMIT * 4].decode("utf-8", "replace")
            log.debug("%s", settings.redact("API response body: " + _truncate(text)))


def _time_left(deadline: float | None) -> float | None:
    """Seconds until ``deadline`` (None: no deadline); TimeoutException once it has passed."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutException()
    return left


def _discard(response: requests.Response) -> None:
    """Drop a half-read response's connection (it cannot be reused) without raising."""
    with contextlib.suppress(Exception):  # the connection is gone either way
        response.close()
    response.raw = None


def _connection_error(exc: BaseException) -> APIConnectionException:
    # requests' and urllib3's messages quote the URL and sometimes headers: scrubbed by the
    # exception itself, and the original is not kept as the cause (it would keep them whole).
    return APIConnectionException(f"The request could not be completed: {type(exc).__name__}: {exc}")


def _pause_key(settings: Settings, url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    # One origin however it is written: the default port spelt out or not, any case.
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    origin = f"{scheme}://{(parts.hostname or '').lower()}:{port}"
    # A digest, not the key: the table may outlive the key's Secret.
    digest = hashlib.blake2b(settings.api_key.reveal().encode("utf-8"), digest_size=16).hexdigest()
    return origin, digest


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _truncate(text: str) -> str:
    if len(text) > DEBUG_BODY_LIMIT:
        return text[:DEBUG_BODY_LIMIT] + " ...<truncated>"
    return text


def _parse_json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser's depth
        return None


def _scrub_response(settings: Settings, response: requests.Response) -> None:
    """Take every secret out of a response that may travel on in an exception: its body, its
    headers, its reason and URL, its cookies (a server may echo the key in any of them)."""
    response.cookies.clear()
    text = response.content.decode("utf-8", "replace")
    # One pass over everything first: almost every response holds no secret, and scrubbing each
    # header on its own would cost a scrub per header on every call.
    everything = "\n".join(
        [text, response.reason or "", response.url or "", *(f"{k}: {v}" for k, v in response.headers.items())]
    )
    if settings.redact(everything) == everything:
        return
    cleaned = settings.redact(text)
    if cleaned != text:
        response._content = cleaned.encode("utf-8")
        response.encoding = "utf-8"
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for name, value in response.headers.items():
        headers[settings.redact(name)] = settings.redact(value)
    response.headers = headers
    if response.reason:
        response.reason = settings.redact(response.reason)
    if response.url:
        response.url = settings.redact(response.url)
    response.cookies.clear()


_CREDENTIAL_HEADER = re.compile(r"(?i)auth|key|token|secret|cookie|passw|signature|session")


def is_credential_header(name: str) -> bool:
    """True for a header whose value is a credential: Authorization and api-key, and the ones
    gateways use in AdditionalHeaders (Ocp-Apim-Subscription-Key, X-Api-Key, Helicone-Auth,
    Cookie, X-Auth-Token): masked in the DEBUG lines and in a request that travels on."""
    return bool(_CREDENTIAL_HEADER.search(name))


def _scrub_credentials(prepared: requests.PreparedRequest) -> None:
    for name in list(prepared.headers):
        if is_credential_header(name) or name.lower() == "openai-organization":
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
