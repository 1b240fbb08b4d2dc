"""The session: one pooled HTTP client, the retry loop around it, and what an answer becomes.

A call is built from the wire format (:mod:`.wire`), paced (:mod:`.pacing`), sent one attempt at
a time under a whole-attempt deadline (:mod:`.deadlines`) and retried by the caller's retry policy
(:mod:`psopenai_py.retry`: PSOpenAI's by default, the SDK's for the API-shaped dialects); a
streamed answer is read by :mod:`.stream`, over the same loop.  This is the only place the API
key leaves its :class:`~psopenai_py.secret.Secret`, and the only place a response becomes an
exception (through :func:`psopenai_py.errors.exception_from_response`; an error sent inside a
stream, after a successful head, becomes one in :mod:`.stream`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import os
import random as _random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from ..cancel import pause
from ..errors import (
    APIConnectionException,
    APIRequestException,
    InvalidResponseException,
    RedirectException,
    TimeoutException,
    exception_from_response,
)
from ..records import Record
from ..retry import PSOPENAI, Failure, RetryPolicy
from ..scrub import TOKEN_MASK, install_log_filter, scrub_data
from ..settings import Settings
from .deadlines import Watchdog, WatchedAdapter, watched
from .logs import log, log_request, log_response
from .pacing import Pacer, Pacing, SleptClock, pacing_key
from .wire import (
    ReceivedObject,
    RequestOptions,
    build_headers,
    build_url,
    encode_body,
    is_credential_header,
    json_type,
    user_agent,
)

if TYPE_CHECKING:
    from typing import TypedDict

    from typing_extensions import Unpack  # typing.Unpack is Python 3.11+

    from .stream import ChunkStream

    # The keywords handed on from method to method, for the type checker alone (nothing is made
    # at run time).
    class PrepareKwargs(TypedDict, total=False):
        """The keywords of :meth:`Transport.prepare`, which :meth:`Transport.exchange` hands on."""

        query: Sequence[tuple[str, Any]]
        body: Mapping[str, Any] | None
        options: RequestOptions

    class ExchangeKwargs(PrepareKwargs, total=False):
        """The keywords of :meth:`Transport.exchange`, which :meth:`Transport.request` takes too."""

        timeout_override: float | None
        policy: RetryPolicy


__all__ = ["Transport", "Exchange", "USER_AGENT", "default_transport", "set_default_transport"]

install_log_filter()  # records of this package, requests and urllib3 are scrubbed at every level

USER_AGENT = user_agent(f"python-requests/{requests.__version__}")
_POOL_SIZE = 64  # the highest ThrottleLimit
_NO_OPTIONS = RequestOptions()
_T = TypeVar("_T")


class Exchange(Record):
    """A request's outcome with the HTTP answer it came in (what the SDK-shaped client shows of
    a raw response): the parsed JSON object, the response (its body read, its request's
    credentials masked) and how many retries it took."""

    content: Any
    response: requests.Response
    retries_taken: int


@functools.lru_cache(maxsize=64)
def _environment_for(scheme: str, netloc: str) -> tuple[tuple[tuple[str, str], ...], Any]:
    """Proxies and CA bundle from the environment for one origin, looked up once.

    Looked up here rather than by requests (the session's ``trust_env`` is off, and requests go
    through its adapter): requests would otherwise let a ``.netrc`` entry replace our
    Authorization header and would scan the environment on every call.
    """
    proxies = requests.utils.get_environ_proxies(f"{scheme}://{netloc}/")
    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return tuple(sorted(proxies.items())), verify


class Transport:
    """One pooled, thread-safe ``requests.Session`` and the retry loop around it.

    A call is built (:meth:`prepare`), sent one attempt at a time (:meth:`send_once`, each under
    its own TimeoutSec deadline) and retried (:meth:`request`, :meth:`retrying`); a streamed
    answer is opened by :meth:`stream`.  ``sleep``, ``random`` and
    ``clock`` are injectable so retry delays can be checked exactly; ``pacing`` decides when an
    attempt may start (by default a :class:`~psopenai_py.transport.pacing.Pacer` waiting with the
    same ``sleep``).
    """

    max_body_bytes = 64 * 1024 * 1024
    """The largest response body read, and the largest event of a stream; a longer one is an
    InvalidResponseException (no API answer comes near it, and a hostile server could otherwise
    fill the memory)."""

    _CHUNK = 65536

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] = time.time,
        pool_size: int = _POOL_SIZE,
        pacing: Pacing | None = None,
    ) -> None:
        if pacing is None and sleep is not time.sleep:
            # An injected sleep passes no real time: the pacer's clock moves by what is slept.
            slept = SleptClock(sleep)
            sleep, pacing = slept.sleep, Pacer(slept.sleep, slept.monotonic)
        self.sleep = sleep
        self.random = random
        self.clock = clock
        self.pacing: Pacing = pacing if pacing is not None else Pacer(sleep)
        self._pool_size = pool_size
        self._session: requests.Session | None = None
        self._lock = threading.Lock()

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
        adapter = WatchedAdapter(pool_connections=4, pool_maxsize=self._pool_size, max_retries=0)
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
        options: RequestOptions = _NO_OPTIONS,
    ) -> requests.PreparedRequest:
        """The request as it goes on the wire: URL, headers (the key among them) and body."""
        url = build_url(settings, path, query, options.additional_query)
        data = encode_body(options.merge_body(body)) if body is not None else None
        prepared = requests.PreparedRequest()
        # Filled in by hand rather than by prepare(): requests would re-quote the URL (turning
        # %2e%2e back into ..) and re-merge session state we do not want on every call.
        prepared.method = method.upper()
        prepared.url = url
        prepared.headers = CaseInsensitiveDict(
            build_headers(
                settings,
                user_agent=USER_AGENT,
                has_body=data is not None,
                additional_headers=options.additional_headers,
                debug=log.isEnabledFor(logging.DEBUG),
            )
        )
        prepared.body = data
        if data is not None:
            prepared.headers["Content-Length"] = str(len(data))
        return prepared

    # -- retrying ------------------------------------------------------------------------------

    def request(self, settings: Settings, method: str, path: str, **kwargs: Unpack[ExchangeKwargs]) -> Any:
        """Send one API request with retries; return the parsed JSON object or raise (the
        keywords as :meth:`exchange`'s)."""
        return self.exchange(settings, method, path, **kwargs).content

    def exchange(
        self,
        settings: Settings,
        method: str,
        path: str,
        *,
        timeout_override: float | None = None,
        policy: RetryPolicy = PSOPENAI,
        **parts: Unpack[PrepareKwargs],
    ) -> Exchange:
        """Send one API request with retries; return the answer's :class:`Exchange` or raise.

        ``parts`` (query, body, options) build the request as :meth:`prepare`'s keywords;
        ``timeout_override`` replaces TimeoutSec for this request (a paging loop's time left);
        ``policy`` decides which failures are retried and after how long.
        """
        prepared = self.prepare(settings, method, path, **parts)
        timeout = timeout_override or settings.timeout_sec or None  # 0: forever, per attempt
        attempts = 0

        def attempt() -> requests.Response:
            nonlocal attempts
            attempts += 1
            return self._answer(settings, prepared, timeout)

        return self.retrying(
            settings,
            prepared,
            attempt,
            lambda response: Exchange(self._content(settings, response), response, attempts - 1),
            policy=policy,
        )

    def stream(
        self,
        settings: Settings,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        options: RequestOptions = _NO_OPTIONS,
        timeout_override: float | None = None,
        policy: RetryPolicy = PSOPENAI,
    ) -> ChunkStream:
        """Send one API request whose answer is a stream of server-sent events; return the
        closable iterator of its chunks (see :mod:`.stream`) once the answer's head has come.

        Built, paced and retried as :meth:`request` (an error status before the stream is the
        usual exception); ``timeout_override`` replaces TimeoutSec for this request.
        """
        from .stream import open_stream  # here: that module builds on this one

        return open_stream(
            self, settings, method, path, body=body, options=options, timeout=timeout_override, policy=policy
        )

    def retrying(
        self,
        settings: Settings,
        prepared: requests.PreparedRequest,
        attempt: Callable[[], requests.Response],
        finish: Callable[[requests.Response], _T],
        *,
        policy: RetryPolicy = PSOPENAI,
    ) -> _T:
        """The retry loop: each ``attempt`` paced, its answer told to the pacing, then handed to
        ``finish``; an :class:`~psopenai_py.errors.APIRequestException` from either is retried
        as ``policy`` and the settings allow, after a wait a stopped run cuts short.  Whatever
        ends the loop, the key is taken out of ``prepared`` first (the request travels on with
        the response or the exception; nothing is sent again)."""
        key = pacing_key(settings, str(prepared.url))
        retries = 0
        try:
            while True:
                self.pacing.wait_turn(key, retry=retries > 0)
                try:
                    try:
                        response = attempt()
                    except BaseException:
                        self.pacing.unanswered(key)
                        raise
                    self.pacing.answered(key, response.status_code, response.headers)
                    return finish(response)
                except APIRequestException as error:
                    delay = self._retry_delay(settings, error, retries, policy)
                    if delay is None:
                        raise
                    log.log(policy.notice_level, "%s", error.message)
                    log.log(
                        policy.notice_level,
                        "Retry the request after waiting %d ms (retry count: %d)",
                        delay,
                        retries,
                    )
                    if error.status_code == 429:
                        self.pacing.rate_limited(key, delay / 1000.0)
                # Cancellable: a stopped run ends this wait at once (cancel.scope).
                pause(delay / 1000.0, sent=True, sleep=self.sleep)
                retries += 1
        except APIRequestException as error:
            if error.request is None:
                error.request = prepared  # its credentials masked on the way out, below
            raise
        finally:
            # The prepared request travels on with the response or the exception (requests'
            # errors and our APIRequestException.response.request refer to it): key out first.
            _scrub_credentials(prepared)

    def _retry_delay(
        self, settings: Settings, error: APIRequestException, retries: int, policy: RetryPolicy
    ) -> float | None:
        """Milliseconds to wait before retrying after ``error``, or None: not retried.

        An answer that is no error status (a redirect, a body that is not an API object) is never
        retried; an error status or no answer at all (``status_code`` None: the connection failed
        or the attempt timed out) is the policy's to judge.
        """
        response = error.response
        if isinstance(error, InvalidResponseException) or (
            error.status_code is not None and (error.status_code < 400 or response is None)
        ):
            return None
        failure = Failure(error.status_code, response.headers if response is not None else {}, error.message)
        return policy.delay_ms(
            failure,
            retries_made=retries,
            max_retries=settings.max_retry_count,
            now=self.clock(),
            random=self.random,
        )

    # -- sending one attempt -------------------------------------------------------------------

    def send_once(self, settings: Settings, prepared: requests.PreparedRequest, timeout: float | None) -> Any:
        """One attempt: send, read the whole answer within ``timeout`` seconds (None: no limit),
        and return the parsed JSON object, or raise the exception the answer calls for."""
        return self._content(settings, self._answer(settings, prepared, timeout))

    def _answer(
        self, settings: Settings, prepared: requests.PreparedRequest, timeout: float | None
    ) -> requests.Response:
        """One attempt's answer, read in full and scrubbed; transport failures raised typed."""
        log_request(settings, prepared)
        response, body = self._exchange(prepared, timeout)
        _settle(response, _scrub_response(settings, response, body))
        log_response(settings, response)
        return response

    def _content(self, settings: Settings, response: requests.Response) -> Any:
        """The parsed JSON object of a successful answer, or the exception the answer calls for."""
        status = response.status_code
        if 300 <= status < 400:
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
        content = _parse_json(response.content)
        if status >= 400:
            raise exception_from_response(settings.service, status, response.reason or "", content, response)
        if not isinstance(content, dict):
            what = (
                "is not JSON"
                if content is None and response.content.strip() != b"null"
                else (f"is a JSON {json_type(content)}, not an object")
            )
            raise InvalidResponseException(
                f"{settings.service} API returned a response that {what} (status {status}, "
                f"Content-Type {response.headers.get('Content-Type', 'none')}).",
                status_code=status,
                response=response,
            )
        return ReceivedObject(content, response.content)

    def _exchange(
        self, prepared: requests.PreparedRequest, timeout: float | None
    ) -> tuple[requests.Response, bytes]:
        """Send and read the body in full before the deadline; transport failures typed.

        Connect and each socket read get the time left as their timeout; a watchdog shuts the
        connection down at the deadline, so a server that drips its status line or headers a byte
        at a time (each read in time, the whole never) is cut off too.  The response comes back
        with its connection released and its body not yet settled (see :func:`_settle`).
        """
        with watched(timeout) as watch:
            response = self.send_head(prepared, watch)
            body = self.receive_body(response, watch)
        return response, body

    def send_head(self, prepared: requests.PreparedRequest, watch: Watchdog) -> requests.Response:
        """Send ``prepared`` and wait for the answer's status line and headers, within ``watch``'s
        deadline; the body is left unread.  Transport failures are raised typed."""
        url = str(prepared.url)
        proxies, verify = _environment_for(*urlsplit(url)[:2])
        try:
            # Through the adapter rather than Session.send: no redirect is worked out (its
            # next request would be a copy of ours, key included) and no cookie jar is read.
            adapter = self.session.get_adapter(url)
            return adapter.send(
                prepared, stream=True, timeout=watch.time_left(), verify=verify, proxies=dict(proxies)
            )
        except requests.Timeout:
            raise TimeoutException() from None
        except requests.RequestException as exc:
            if watch.fired:
                raise TimeoutException() from None
            raise connection_failure(exc, url) from None

    def receive_body(self, response: requests.Response, watch: Watchdog) -> bytes:
        """The whole body of a response :meth:`send_head` returned, read within ``watch``'s
        deadline; the connection is then back in the pool (or dropped, on a failure)."""
        try:
            body = self._read_body(response, watch)
        except APIConnectionException:
            _discard(response)
            if watch.fired:
                raise TimeoutException() from None
            raise
        except BaseException:
            _discard(response)
            raise
        if not watch.finish():
            # The deadline struck after the last byte: the connection is shut, not reusable.
            _discard(response)
            raise TimeoutException()
        response.raw.release_conn()
        # The raw stream keeps the headers as received (a server may echo a key there).
        response.raw = None
        return body

    def _read_body(self, response: requests.Response, watch: Watchdog) -> bytes:
        """The whole (decoded) body, each socket read limited to the time left."""
        raw = response.raw
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                left = watch.time_left()
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
            raise connection_failure(exc, str(response.url or "")) from None
        return b"".join(chunks)


def _settle(response: requests.Response, body: bytes) -> None:
    """Make ``body`` (read by hand within the deadline) the response's content.

    Through requests' public way in: ``content`` reads a file-like ``raw`` once and keeps what it
    read.  The raw stream is dropped afterwards, as it is for any settled response.
    """
    response.raw = io.BytesIO(body)
    _ = response.content
    response.raw = None


def _discard(response: requests.Response) -> None:
    """Drop a half-read response's connection (it cannot be reused) without raising."""
    with contextlib.suppress(Exception):  # the connection is gone either way
        response.close()
    response.raw = None


def connection_failure(exc: BaseException, url: str) -> APIConnectionException:
    """A transport failure in a user's words: which host and port, and what went wrong (refused,
    timed out, name not resolved, closed before the answer was complete, TLS, the proxy).

    Worded here rather than passed on: requests' and urllib3's messages speak of pools, retries
    ("Max retries exceeded" where nothing was retried) and private classes, and quote the URL.
    Only the host and port of ``url`` are shown, never its user-info, and the original exception
    is not kept as the cause (its text would keep all of that whole)."""
    return APIConnectionException(f"The request could not be completed: {connection_words(exc, url)}.")


def connection_words(exc: BaseException, url: str) -> str:
    """What :func:`connection_failure` says went wrong, without its sentence around it (a stream
    cut off part-way says it after its own words)."""
    chain = _causes(exc)
    place = _place(url)
    reason = _reason(chain)
    both = f" ({reason})" if reason else ""
    if any(isinstance(e, urllib3.exceptions.ProxyError) for e in chain):
        words = f"cannot connect through the proxy to {place}{both}"
    elif any(isinstance(e, (urllib3.exceptions.NameResolutionError, socket.gaierror)) for e in chain):
        words = f"cannot resolve the host name {urlsplit(url).hostname or place}"
    elif any(isinstance(e, (ssl.SSLError, urllib3.exceptions.SSLError)) for e in chain):
        words = f"the TLS handshake with {place} failed{both}"
    elif any(isinstance(e, _CONNECTING) for e in chain):
        words = f"cannot connect to {place}{both}"
    elif any(isinstance(e, _CLOSED) for e in chain):
        words = f"the connection to {place} was closed before the answer was complete{both}"
    else:
        words = f"the connection to {place} failed{both}"
    return words


_CONNECTING = (
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ConnectTimeoutError,
    ConnectionRefusedError,
)
_CLOSED = (
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.IncompleteRead,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
)
_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, "connection refused"),
    (ConnectionResetError, "connection reset by peer"),
    (ConnectionAbortedError, "connection aborted"),
)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and every exception it holds (urllib3 nests them in ``reason``, in its
    arguments and as causes), outermost first, bounded."""
    found: list[BaseException] = []
    todo = [exc]
    while todo and len(found) < 32:
        error = todo.pop(0)
        if any(error is seen for seen in found):
            continue
        found.append(error)
        held = (getattr(error, "reason", None), error.__cause__, error.__context__, *error.args)
        todo += [e for e in held if isinstance(e, BaseException)]
    return found


def _reason(chain: list[BaseException]) -> str:
    """What went wrong, in a few words, from the innermost exception that says it."""
    for error in reversed(chain):
        if isinstance(error, (urllib3.exceptions.ConnectTimeoutError, socket.timeout)):
            return "timed out"
        if isinstance(error, ssl.SSLError):
            verified = getattr(error, "verify_message", None)
            if verified:
                return f"certificate verify failed: {verified}"
            text = str(error.strerror or error.reason or "")
            return re.sub(r"^\[SSL: [A-Z_]+\] | \(_ssl\.c:\d+\)$", "", text)
        if isinstance(error, OSError) and error.errno is not None:
            for kind, words in _REASONS:
                if isinstance(error, kind):
                    return words
            text = str(error.strerror or os.strerror(error.errno))
            return text[:1].lower() + text[1:]
    return ""


def _place(url: str) -> str:
    """``host:port`` of a URL (the scheme's port when none is given), never its user-info."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "the server"
    if not host:
        return "the server"
    port = port or (443 if parts.scheme == "https" else 80)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _parse_json(content: bytes) -> Any:
    try:
        # NaN and Infinity are Python's, not JSON's: an answer holding one is not JSON, and would
        # make every output that carries it (JSON lines, an export) not JSON either.
        return json.loads(content, parse_constant=_not_json)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser's depth
        return None


def _not_json(word: str) -> Any:
    raise ValueError(f"{word} is not JSON")


def _scrub_response(settings: Settings, response: requests.Response, body: bytes) -> bytes:
    """Take every secret out of a response that may travel on in an exception: its headers, its
    reason and URL, its cookies (a server may echo the key in any of them); returns its body,
    scrubbed too: a success's as data (only a key it holds is taken out), an error's as the
    diagnostic it becomes (see :mod:`psopenai_py.scrub`)."""
    response.cookies.clear()
    text = body.decode("utf-8", "replace")
    data = response.status_code < 300
    cleaned = scrub_data(text, (settings.api_key,)) if data else settings.redact(text)
    if cleaned != text:
        body = cleaned.encode("utf-8")
        response.encoding = "utf-8"
    # One pass over the rest first: almost every response holds no secret there, and scrubbing
    # each header on its own would cost a scrub per header on every call.
    rest = "\n".join(
        [response.reason or "", response.url or "", *(f"{k}: {v}" for k, v in response.headers.items())]
    )
    if settings.redact(rest) == rest:
        return body
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for name, value in response.headers.items():
        headers[settings.redact(name)] = settings.redact(value)
    response.headers = headers
    if response.reason:
        response.reason = settings.redact(response.reason)
    if response.url:
        response.url = settings.redact(response.url)
    return body


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
