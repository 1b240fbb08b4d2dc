"""Streamed answers: a request whose answer is a stream of server-sent events, read as it comes.

**Opening** (:func:`open_stream`, reached through :meth:`Transport.stream
<psopenai_py.transport.session.Transport.stream>`) is a request like any other up to the answer's
head: built by :mod:`.wire` (the same URL, headers, key and extras), paced, sent under the
attempt's whole deadline and retried by the same loop (:meth:`Transport.retrying
<psopenai_py.transport.session.Transport.retrying>`).  An error status (or a redirect) before
the stream is read in full and raised as the usual exception, retried as any; a successful head
returns a :class:`ChunkStream`, and from then on nothing is retried (chunks may have been handed
out already).

**Deadlines.** TimeoutSec (or the caller's timeout) limits two things:

- connecting, sending and the answer's head, as one attempt of any request (so a server that
  drips its status line a byte at a time is cut off as usual);
- then each *line* of the stream: a whole line (an event's line, a comment, a blank line) must
  arrive within TimeoutSec of the previous one, or of the head.

A stream lasts as long as the model writes, which no fixed deadline can know, so a whole-stream
limit would cut long answers part-way (PSOpenAI's does; see the Differences).  What a deadline is
for, a server that went silent or one that drips bytes without ever finishing a line, is caught
by the idle limit.  0 means no limit, as for any request.

**Stopping.** A run's stop signal (:mod:`psopenai_py.cancel`), current where the stream is
opened, ends it: waiting for the head or for the next chunk, the connection is shut down within
:data:`~psopenai_py.cancel.SLICE` seconds and :class:`~psopenai_py.errors.RunStoppedError` is
raised.

**What a stream becomes.** Each event's data is scrubbed of every secret in play, then parsed as
JSON: an object is a chunk; ``[DONE]`` ends the stream; an ``error`` event, or an object with an
``error`` member, is raised as an :class:`~psopenai_py.errors.APIRequestException`; anything else,
and a body that is no event stream at all, is an
:class:`~psopenai_py.errors.InvalidResponseException`; a connection cut mid-stream, or a body
that ends before ``[DONE]``, an :class:`~psopenai_py.errors.APIConnectionException`.  Every
message says how many chunks were handed out before.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import requests
import urllib3.exceptions

from .. import cancel
from ..cancel import CancelSignal
from ..errors import (
    APIConnectionException,
    APIRequestException,
    InvalidResponseException,
    RunStoppedError,
    TimeoutException,
)
from ..retry import PSOPENAI, RetryPolicy
from ..settings import Settings
from .deadlines import Watchdog, watched
from .logs import DEBUG_BODY_LIMIT, log, log_request, log_response
from .session import _discard, _scrub_credentials, _scrub_response, _settle, connection_words
from .sse import Event, SSEFormatError, SSEParser
from .wire import ReceivedObject, RequestOptions

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .session import Transport

__all__ = ["ChunkStream", "open_stream", "DONE"]

DONE = "[DONE]"
"""The data of the event that ends a stream (the API's "data-only server-sent events ...
terminated by a ``data: [DONE]`` message")."""

_READ = 65536
_SHOWN = 200
"""Characters of a body shown in the message when it is no event stream."""
_KEPT = 65536
"""Bytes of the body's start kept until the first event, to say what the body was if none comes."""
_IDLE_WARNING = "Timeout while waiting for response. It seems that the server is not sending any data."
"""The original's warning when a stream's read times out (Private/Invoke-OpenAIAPIRequestSSE.ps1)."""


class _Ticket:
    """One watched attempt or stream: its stop signal, its watchdog, and whether the stop came."""

    __slots__ = ("signal", "stopped", "watch")

    def __init__(self, signal: CancelSignal | None, watch: Watchdog) -> None:
        self.signal = signal
        self.watch = watch
        self.stopped = False


class _Stops:
    """One daemon thread that shuts the connection of every open stream whose run was stopped.

    A blocked socket read cannot look at a signal, so a stop is turned into a shut-down
    connection, as a deadline is (:class:`~.deadlines.Watchdog`).  The thread looks at the
    signals every :data:`~psopenai_py.cancel.SLICE` seconds while a stream is watched, and ends
    when none is left (a signal offers no way to be told, only to be asked or waited on).
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._tickets: set[_Ticket] = set()
        self._thread: threading.Thread | None = None

    def add(self, ticket: _Ticket) -> None:
        if ticket.signal is None:
            return
        with self._condition:
            self._tickets.add(ticket)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="psopenai-stream-stops", daemon=True)
                self._thread.start()

    def remove(self, ticket: _Ticket) -> None:
        with self._condition:
            self._tickets.discard(ticket)

    @contextlib.contextmanager
    def watching(self, signal: CancelSignal | None, watch: Watchdog) -> Iterator[_Ticket]:
        ticket = _Ticket(signal, watch)
        self.add(ticket)
        try:
            yield ticket
        finally:
            self.remove(ticket)

    def _run(self) -> None:
        while True:
            with self._condition:
                if not self._tickets:
                    self._thread = None
                    return
                tickets = list(self._tickets)
            for ticket in tickets:
                if ticket.signal is not None and ticket.signal.is_set():
                    ticket.stopped = True
                    ticket.watch.shut()  # again each round: a connection may come after the stop
            with self._condition:
                self._condition.wait(cancel.SLICE)


_stops = _Stops()


def open_stream(
    transport: Transport,
    settings: Settings,
    method: str,
    path: str,
    *,
    body: Mapping[str, Any] | None = None,
    options: RequestOptions | None = None,
    timeout: float | None = None,
    policy: RetryPolicy = PSOPENAI,
) -> ChunkStream:
    """Send the request and return the stream of its answer once a successful head has come.

    ``timeout`` replaces TimeoutSec (see the module's note on deadlines); ``policy`` decides the
    retries up to the head.  Raises as
    :meth:`Transport.request <psopenai_py.transport.session.Transport.request>` does for an
    answer that is not a stream (an error status, a redirect), after the same retries, and
    :class:`~psopenai_py.errors.RunStoppedError` when the run is stopped meanwhile.
    """
    prepared = transport.prepare(settings, method, path, body=body, options=options or RequestOptions())
    limit = timeout or settings.timeout_sec or None  # 0: no limit
    signal = cancel.current()

    def attempt() -> requests.Response:
        return _head(transport, settings, prepared, limit, signal)

    def finish(response: requests.Response) -> requests.Response:
        if 200 <= response.status_code < 300:
            return response
        transport._content(settings, response)  # raises the exception this answer calls for
        raise InvalidResponseException(
            f"{settings.service} API answered a streamed request with status {response.status_code} "
            f"({response.reason or ''}), not a stream.",
            status_code=response.status_code,
        )

    response = transport.retrying(settings, prepared, attempt, finish, policy=policy)
    # Nothing is sent again: the key leaves the request, which the response still refers to.
    _scrub_credentials(prepared)
    try:
        return ChunkStream(
            settings, response, idle=limit, signal=signal, max_event_bytes=transport.max_body_bytes
        )
    except BaseException:
        _discard(response)
        raise


def _head(
    transport: Transport,
    settings: Settings,
    prepared: requests.PreparedRequest,
    timeout: float | None,
    signal: CancelSignal | None,
) -> requests.Response:
    """One attempt up to the answer's head, within the attempt's deadline: a successful answer
    with its body unread, or any other read in full and settled (the retry loop judges it)."""
    log_request(settings, prepared, streaming=True)
    with watched(timeout) as watch, _stops.watching(signal, watch) as ticket:
        try:
            response = transport.send_head(prepared, watch)
            if not 200 <= response.status_code < 300:
                body = transport.receive_body(response, watch)
                _settle(response, _scrub_response(settings, response, body))
                log_response(settings, response)
                return response
        except APIRequestException:
            if ticket.stopped:
                raise _stopped(None) from None
            raise
        if not watch.finish():
            _discard(response)  # the deadline struck as the head came: the connection is shut
            raise TimeoutException()
    _scrub_response(settings, response, b"")  # its headers, reason and URL (the body is to come)
    log_response(settings, response, streamed=True)
    return response


def _stopped(chunks: int | None) -> RunStoppedError:
    if chunks is None:
        return RunStoppedError(
            "Stopped: the run was stopped while the streamed answer was awaited; the request was sent.",
            sent=True,
        )
    return RunStoppedError(
        f"Stopped: the run was stopped while the answer was streaming, after {chunks} chunks; "
        "the answer is incomplete.",
        sent=True,
    )


class ChunkStream:
    """The chunks of one streamed answer, each a ``dict`` (the API's JSON object, scrubbed of
    every secret in play), read from the connection as they come.

    Closable, and closed however it ends: :meth:`close`, a ``with`` block, or the end of a
    ``for`` loop over it, by exhaustion, ``break``, ``return`` or an exception (iterating gives
    a generator that closes the stream when it is dropped; :func:`next` reads without one).
    A stream dropped without being closed is closed when garbage-collected.  Closing releases
    the connection: back to the pool when the body was read to its end, else shut, so no
    connection is left half-read in the pool.

    ``status_code``, ``headers`` (scrubbed), ``request_id`` and ``url`` describe the answer, and
    ``http_response`` is its head (the request as sent, credentials masked, as its ``request``);
    ``chunks`` counts the chunks handed out so far.
    """

    drain_seconds = 0.5
    """After ``[DONE]``, how long the end of the body is waited for, so the connection can go
    back to the pool; a server that keeps sending or holding on past it loses the connection."""

    _closed = True  # until __init__ has finished: __del__ then has nothing to close

    def __init__(
        self,
        settings: Settings,
        response: requests.Response,
        *,
        idle: float | None,
        signal: CancelSignal | None,
        max_event_bytes: int,
    ) -> None:
        self.status_code: int = response.status_code
        self.headers: Mapping[str, str] = response.headers
        self.request_id: str | None = response.headers.get("x-request-id")
        self.url: str = response.url
        self.http_response: requests.Response = response
        self.chunks = 0
        self._settings = settings
        self._service = settings.service
        self._response = response
        self._raw: Any = response.raw
        self._connection: Any = getattr(self._raw, "connection", None)
        self._idle = idle
        self._watch = Watchdog(time.monotonic() + idle if idle else None)
        if self._connection is not None:
            self._watch.attach(self._connection)
        self._signal = signal
        self._ticket = _Ticket(signal, self._watch)
        _stops.add(self._ticket)
        self._parser = SSEParser(max_event_bytes=max_event_bytes)
        self._events: collections.deque[Event] = collections.deque()
        self._start = bytearray()
        self._start_whole = True
        """``_start`` holds the whole body read so far (until an event comes or it grows)."""
        self._dispatched = False
        self._ended = False
        """The body has been read to its end."""
        self._closed = False

    # -- iterating --------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._closing()

    def _closing(self) -> Iterator[dict[str, Any]]:
        try:
            while True:
                try:
                    chunk = next(self)
                except StopIteration:
                    return
                yield chunk
        finally:
            self.close()

    def __next__(self) -> dict[str, Any]:
        if self._closed:
            raise StopIteration
        try:
            return self._next_chunk()
        except BaseException:  # the end, an error, an interrupt: the connection goes either way
            self.close()
            raise

    def __enter__(self) -> ChunkStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether the stream is closed (its connection released)."""
        return self._closed

    def close(self) -> None:
        """Release the connection (idempotent): back to the pool when the body was read to its
        end, shut otherwise."""
        if self._closed:
            return
        self._closed = True
        _stops.remove(self._ticket)
        self._watch.finish()
        if self._ended:
            with contextlib.suppress(Exception):  # already back in the pool, as a rule
                self._raw.release_conn()
        else:
            _discard(self._response)
        # Nothing of the connection is kept: a pooled one belongs to the pool alone (closing the
        # pool then closes it), and the raw stream keeps the headers as received.
        self._response.raw = None
        self._raw = self._connection = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # -- reading ----------------------------------------------------------------------------------

    def _next_chunk(self) -> dict[str, Any]:
        while True:
            if self._signal is not None and self._signal.is_set():
                raise _stopped(self.chunks)
            self._fill()
            if not self._events:
                raise self._ended_early()
            event = self._events.popleft()
            self._dispatched = True
            if event.data.startswith(DONE):
                log.info("End of data received.")
                self._drain()
                raise StopIteration
            chunk = self._chunk(event)
            if chunk is not None:
                self.chunks += 1
                return chunk

    def _fill(self) -> None:
        """Read until an event is ready or the body has ended; each read is one idle wait."""
        while not self._events and not self._ended:
            data = self._read()
            if not data:
                self._ended = True
                self._events.extend(self._parser.close())
                return
            if not self._dispatched and self._start_whole:
                self._start += data
                if len(self._start) > _KEPT:
                    del self._start[_KEPT:]
                    self._start_whole = False
            lines = self._parser.lines
            try:
                events = self._parser.feed(data)
            except SSEFormatError as exc:
                raise InvalidResponseException(
                    f"{self._service} API sent a stream that cannot be read after {self.chunks} chunks: "
                    f"{exc}.",
                    status_code=self.status_code,
                ) from None
            if self._parser.lines != lines and self._idle:
                self._watch.postpone(self._idle)  # a whole line came: the idle limit starts again
            self._events.extend(events)

    def _read(self) -> bytes:
        """The next bytes of the body (empty at its end), within the idle limit; a failed read
        is raised as what ended it: a stop, the idle limit, or the connection."""
        try:
            left = self._watch.time_left()
            sock = getattr(self._connection, "sock", None)
            if sock is not None:
                sock.settimeout(left)
            data: bytes = self._raw.read1(_READ, decode_content=True)
        except (TimeoutError, urllib3.exceptions.ReadTimeoutError, TimeoutException):
            raise self._read_failed(None) from None
        except (urllib3.exceptions.HTTPError, OSError, ValueError, requests.RequestException) as exc:
            raise self._read_failed(exc) from None
        if not data and (self._ticket.stopped or self._watch.fired):
            raise self._read_failed(None)  # the end came from our own shut-down, not the server
        return data

    def _read_failed(self, exc: BaseException | None) -> BaseException:
        if self._ticket.stopped or (self._signal is not None and self._signal.is_set()):
            return _stopped(self.chunks)
        if exc is None or self._watch.fired:
            log.warning("%s", _IDLE_WARNING)
            return TimeoutException()
        return APIConnectionException(
            f"The {self._service} API's stream was cut off after {self.chunks} chunks: "
            f"{connection_words(exc, self.url)}."
        )

    def _drain(self) -> None:
        """After ``[DONE]``: read the rest of the body (briefly, boundedly) so that the connection
        can go back to the pool; whatever the server sends there is not looked at."""
        if self._ended or self._connection is None:
            return
        watch = Watchdog(time.monotonic() + self.drain_seconds)
        watch.attach(self._connection)
        try:
            left = 16 * _READ
            while left > 0:
                sock = getattr(self._connection, "sock", None)
                if sock is not None:
                    sock.settimeout(watch.time_left())
                data = self._raw.read1(_READ, decode_content=True)
                if not data:
                    self._ended = not (watch.fired or self._watch.fired)  # an end, not our shut-down
                    return
                left -= len(data)
        except Exception:  # any failure here only means that the connection is not kept
            return
        finally:
            watch.finish()

    # -- what an event is -------------------------------------------------------------------------

    def _chunk(self, event: Event) -> dict[str, Any] | None:
        """The chunk an event carries; None for one without data (a keep-alive)."""
        settings = self._settings
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s", settings.redact("API response body: " + _truncate(event.data)))
        if not event.data.strip():
            return None  # as the original, which skips empty data lines
        text = settings.redact(event.data)
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            if event.event == "error":
                raise self._error(text) from None
            raise InvalidResponseException(
                f"{self._service} API sent an event that is not JSON after {self.chunks} chunks: "
                f"{_shown(text)}",
                status_code=self.status_code,
            ) from None
        if event.event == "error" or (isinstance(value, dict) and value.get("error")):
            raise self._error(value)
        if not isinstance(value, dict):
            raise InvalidResponseException(
                f"{self._service} API sent {_kind(value)} where a chunk object was expected, after "
                f"{self.chunks} chunks: {_shown(text)}",
                status_code=self.status_code,
            )
        # The event's data travels with the chunk, for a front-end that prints it as received.
        return ReceivedObject(value, text.encode("utf-8"))

    def _error(self, value: Any) -> APIRequestException:
        """An error the server sent inside the stream (after its successful head)."""
        error = value.get("error") if isinstance(value, dict) and "error" in value else value
        if isinstance(error, dict):
            message = error.get("message")
            content: dict[str, Any] = {"error": error}
        else:
            message = error if isinstance(error, str) else None
            content = {"error": {"message": message}}
        if not isinstance(message, str) or not message.strip():
            message = "An error occurred during streaming"
        return APIRequestException(
            f"{self._service} API returned an error in the stream after {self.chunks} chunks: "
            f"{_shown(message, 2000)}",
            content=content,
        )

    def _ended_early(self) -> APIRequestException:
        """The body ended without ``[DONE]``: no event stream at all, or one cut short."""
        if self._dispatched:
            return APIConnectionException(
                f"The {self._service} API's stream ended after {self.chunks} chunks without its end "
                f"(data: {DONE}); the answer is incomplete."
            )
        text = self._settings.redact(bytes(self._start).decode("utf-8", "replace"))
        if self._start_whole and text.strip():
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                value = None
            if isinstance(value, dict) and value.get("error"):
                return self._error(value)  # an error answered as a 2xx JSON body
        content_type = self.headers.get("Content-Type") or "none"
        begins = f"it begins: {_shown(text)}" if text.strip() else "the body is empty"
        return InvalidResponseException(
            f"{self._service} API answered a streamed request with something that is not a stream of "
            f"server-sent events (status {self.status_code}, Content-Type {content_type}); {begins}",
            status_code=self.status_code,
        )


def _truncate(text: str) -> str:
    if len(text) > DEBUG_BODY_LIMIT:
        return text[:DEBUG_BODY_LIMIT] + " ...<truncated>"
    return text


def _shown(text: str, limit: int = _SHOWN) -> str:
    """A server's text for a message: quoted, cut at ``limit`` characters."""
    cut = text[:limit] + ("..." if len(text) > limit else "")
    return json.dumps(cut, ensure_ascii=False)


def _kind(value: Any) -> str:
    if value is None:
        return "JSON null"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, (int, float)):
        return "a JSON number"
    if isinstance(value, str):
        return "a JSON string"
    return "a JSON array"
