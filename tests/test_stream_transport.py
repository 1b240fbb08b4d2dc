"""Streamed answers over real HTTP: ``stored.create_stream`` against a scriptable event-stream
server (drips, silences, resets mid-stream, bodies that are no stream, error events, an echoed
key), with the three invariants checked on every case.

No traceback: every failure is one of the package's exceptions.  No key: no 8-character piece
of the key shows in any chunk, exception, header or log record (DEBUG on every logger).  Every
item once: the chunks come whole, in order, each once, and a failure says how many came first.
"""

from __future__ import annotations

import gc
import json
import logging
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from psopenai_py import cancel
from psopenai_py.commands import stored
from psopenai_py.commands.common import Invocation
from psopenai_py.errors import (
    APIConnectionException,
    APIRequestException,
    InvalidResponseException,
    NotFoundException,
    PSOpenAIError,
    RedirectException,
    RunStoppedError,
    TimeoutException,
)
from psopenai_py.transport import ChunkStream, Transport

from .sse_server import DONE_EVENT, Seen, SSEServer, Stream, chunk, event, reply_events

KEY = "sk-proj-Wq8Zt3Lk9Rv2Xn6Bc4Hy7Jm1Pd5Sg0Fa"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def leaks(text: str, key: str = KEY) -> list[str]:
    """Every 8-character piece of ``key`` in ``text`` (case-insensitively)."""
    low = text.lower()
    return sorted({key[i : i + 8] for i in range(len(key) - 7) if key[i : i + 8].lower() in low})


@pytest.fixture(scope="module")
def sse_server() -> Iterator[SSEServer]:
    with SSEServer() as server:
        yield server


@pytest.fixture
def server(sse_server: SSEServer) -> Iterator[SSEServer]:
    with sse_server.lock:
        sse_server.seen.clear()
    yield sse_server
    sse_server.script = lambda seen: Stream(reply_events(["hi"]))


def invocation_for(server: SSEServer, transport: Transport, **settings: Any) -> Invocation:
    return stored.open_invocation(api_key=KEY, base_url=server.base_url, transport=transport, **settings)


@dataclass
class Outcome:
    """A stream read to its end (or failure), with every text it produced."""

    chunks: list[dict[str, Any]] = field(default_factory=list)
    error: PSOpenAIError | None = None
    stream: ChunkStream | None = None
    text: str = ""


@pytest.fixture
def read(caplog: pytest.LogCaptureFixture) -> Callable[..., Outcome]:
    """Open a stream and read it all at DEBUG; check no foreign exception and no leaked key."""

    def call(invocation: Invocation, *, timeout: float | None = None, body: Any = None) -> Outcome:
        caplog.clear()
        outcome = Outcome()
        with caplog.at_level(logging.DEBUG):
            try:
                outcome.stream = stored.create_stream(invocation, body or BODY, timeout=timeout)
                for item in outcome.stream:
                    outcome.chunks.append(item)
            except PSOpenAIError as exc:  # anything else would be a traceback for a user
                outcome.error = exc
        parts = [caplog.text, *(r.getMessage() for r in caplog.records), json.dumps(outcome.chunks)]
        if outcome.stream is not None:
            parts.append(repr(dict(outcome.stream.headers)))
        if outcome.error is not None:
            error = outcome.error
            parts += ["".join(traceback.format_exception(error)), repr(error), repr(error.args)]
            parts.append(repr({k: v for k, v in vars(error).items()}))
        outcome.text = "\n".join(parts)
        assert leaks(outcome.text) == []
        return outcome

    return call


def texts(chunks: list[dict[str, Any]]) -> list[str]:
    return [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"]]


# -- the stream as sent ------------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["chunked", "length", "close"])
def test_chunks_come_in_order_each_once_and_the_end_marker_ends_them(server, transport, read, framing):
    server.always(Stream(reply_events(["Hel", "lo", " world"]), framing=framing))
    outcome = read(invocation_for(server, transport))
    assert outcome.error is None
    assert texts(outcome.chunks) == ["", "Hel", "lo", " world", None]
    assert outcome.chunks[0]["object"] == "chat.completion.chunk"
    assert outcome.stream is not None and outcome.stream.closed
    assert outcome.stream.chunks == 5


def test_the_request_is_the_create_request_with_stream_true(server, transport, read, emulator):
    server.always(Stream(reply_events(["x"])))
    invocation = invocation_for(server, transport, headers={"X-Extra": "1"})
    read(invocation, body={"model": "m", "stream": False, "messages": [{"role": "user", "content": "é"}]})
    (seen,) = server.seen
    assert seen.method == "POST" and seen.path == "/v1/chat/completions"
    # The body as given, "stream" set in its place.
    assert list(seen.json) == ["model", "stream", "messages"] and seen.json["stream"] is True
    # The same headers a non-streamed create sends (key, agent, extras), Content-Length aside.
    stored.create(stored.open_invocation(api_key=KEY, base_url=emulator.url, headers={"X-Extra": "1"}), BODY)
    plain = dict(emulator.requests[-1].headers)
    assert seen.headers["Authorization"] == f"Bearer {KEY}"
    for name in ("User-Agent", "Accept", "Accept-Encoding", "Content-Type", "X-Extra", "Authorization"):
        assert seen.headers[name] == plain[name], name


def test_a_completed_stream_leaves_its_connection_to_the_next_request(server, transport, read):
    server.always(Stream(reply_events(["a"])))
    invocation = invocation_for(server, transport)
    read(invocation)
    read(invocation)
    assert [s.connection for s in server.seen] == [server.seen[0].connection] * 2


def test_comments_and_empty_events_are_skipped(server, transport, read):
    parts = [b": keep-alive\n\n", event(chunk("a")), b"data:\n\n", b"data:   \n\n", event(chunk("b"))]
    parts.append(DONE_EVENT)
    server.always(Stream(parts))
    outcome = read(invocation_for(server, transport))
    assert texts(outcome.chunks) == ["a", "b"]


def test_text_cut_anywhere_by_the_network_comes_whole(server, transport, read):
    # Every byte its own HTTP chunk: a UTF-8 character and each CRLF cut between reads.
    body = event(chunk("grüße 😀"), end=b"\r\n") + event(chunk("日本"), end=b"\r") + DONE_EVENT
    server.always(Stream([body[i : i + 1] for i in range(len(body))]))
    outcome = read(invocation_for(server, transport))
    assert outcome.error is None and texts(outcome.chunks) == ["grüße 😀", "日本"]


def test_an_end_marker_without_its_blank_line_still_ends_the_stream(server, transport, read):
    server.always(Stream([event(chunk("a")), b"data: [DONE]\n"]))
    outcome = read(invocation_for(server, transport))
    assert outcome.error is None and texts(outcome.chunks) == ["a"]


# -- before the stream: the usual request -----------------------------------------------------------


def _json_error(status: int, message: str, **headers: str) -> Stream:
    body = json.dumps({"error": {"message": message, "type": "invalid_request_error", "code": None}})
    return Stream([body.encode()], status=status, headers={"Content-Type": "application/json", **headers})


def test_an_error_status_before_the_stream_is_the_usual_exception(server, transport, read):
    server.always(_json_error(404, "No such model"))
    outcome = read(invocation_for(server, transport))
    assert isinstance(outcome.error, NotFoundException)
    assert outcome.error.status_code == 404
    assert "OpenAI API returned an 404 (Not Found) Error: No such model" in str(outcome.error)


def test_an_error_status_is_retried_as_any_request_and_the_stream_follows(server, transport, read, clock):
    server.sequence([_json_error(500, "busy"), _json_error(429, "slow down"), Stream(reply_events(["ok"]))])
    outcome = read(invocation_for(server, transport, max_retries=2))
    assert outcome.error is None and texts(outcome.chunks) == ["", "ok", None]
    assert len(server.seen) == 3 and len(clock.sleeps) == 2


def test_a_redirect_is_not_followed(server, transport, read):
    server.always(Stream([], status=302, headers={"Location": "http://elsewhere.invalid/"}, framing="length"))
    outcome = read(invocation_for(server, transport, max_retries=3))
    assert isinstance(outcome.error, RedirectException) and len(server.seen) == 1


def test_nothing_is_retried_once_chunks_came(server, transport, read, clock):
    server.always(Stream([event(chunk("a")), event(chunk("b"))], then="reset"))
    outcome = read(invocation_for(server, transport, max_retries=5))
    assert isinstance(outcome.error, APIConnectionException)
    assert texts(outcome.chunks) == ["a", "b"]
    assert "cut off after 2 chunks" in str(outcome.error)
    assert len(server.seen) == 1 and clock.sleeps == []


# -- failures inside the stream ----------------------------------------------------------------------


def test_a_stream_that_ends_before_its_end_marker_is_incomplete(server, transport, read):
    server.always(Stream([event(chunk("a"))]))
    outcome = read(invocation_for(server, transport))
    assert isinstance(outcome.error, APIConnectionException)
    assert "ended after 1 chunks without its end (data: [DONE])" in str(outcome.error)
    assert texts(outcome.chunks) == ["a"]


@pytest.mark.parametrize(
    ("parts", "message", "code"),
    [
        (
            [event({"error": {"message": "The server had an error", "type": "server_error", "code": "x"}})],
            "The server had an error",
            "x",
        ),
        (
            [event({"message": "overloaded", "type": "server_error"}, name="error")],
            "overloaded",
            None,
        ),
        ([event("plain words", name="error")], "plain words", None),
        ([event({"error": {"message": ""}})], "An error occurred during streaming", None),
    ],
    ids=["data-error-member", "error-event", "error-event-text", "no-message"],
)
def test_an_error_inside_the_stream_is_an_api_exception(server, transport, read, parts, message, code):
    server.always(Stream([event(chunk("a")), *parts, DONE_EVENT]))
    outcome = read(invocation_for(server, transport, max_retries=3))
    error = outcome.error
    assert type(error) is APIRequestException
    assert str(error) == f"OpenAI API returned an error in the stream after 1 chunks: {json.dumps(message)}"
    assert error.status_code is None and error.code == code
    assert texts(outcome.chunks) == ["a"] and len(server.seen) == 1


@pytest.mark.parametrize(
    ("headers", "body", "shown"),
    [
        ({"Content-Type": "application/json"}, json.dumps({"id": "chatcmpl-1"}), "{"),
        ({"Content-Type": "text/html"}, "<html><body>Captive portal</body></html>", "Captive portal"),
        ({"Content-Type": "text/event-stream"}, "", "the body is empty"),
    ],
    ids=["json", "html", "empty"],
)
def test_a_body_that_is_no_event_stream_is_a_clear_error(server, transport, read, headers, body, shown):
    server.always(Stream([body.encode()] if body else [], headers=headers, framing="length"))
    outcome = read(invocation_for(server, transport))
    error = outcome.error
    assert isinstance(error, InvalidResponseException)
    assert "not a stream of server-sent events" in str(error)
    assert f"Content-Type {headers['Content-Type']}" in str(error) and shown in str(error)
    assert outcome.chunks == []


def test_a_json_error_answered_with_a_success_status_is_that_error(server, transport, read):
    body = json.dumps({"error": {"message": "Stream not supported here", "code": "unsupported"}})
    server.always(Stream([body.encode()], headers={"Content-Type": "application/json"}, framing="length"))
    outcome = read(invocation_for(server, transport))
    assert type(outcome.error) is APIRequestException and outcome.error.code == "unsupported"
    assert "Stream not supported here" in str(outcome.error)


@pytest.mark.parametrize(
    ("data", "words"),
    [("{not json", "not JSON"), ("[1, 2]", "a JSON array where a chunk object"), ('"text"', "a JSON string")],
)
def test_an_event_that_is_no_chunk_is_a_clear_error(server, transport, read, data, words):
    server.always(Stream([event(chunk("a")), event(data), DONE_EVENT]))
    outcome = read(invocation_for(server, transport))
    assert isinstance(outcome.error, InvalidResponseException)
    assert words in str(outcome.error) and "after 1 chunks" in str(outcome.error)


def test_an_event_past_the_size_limit_is_refused(server, transport, read):
    small = Transport()
    small.max_body_bytes = 1000
    try:
        server.always(Stream([event(chunk("a")), b"data: " + b"x" * 5000 + b"\n\n", DONE_EVENT]))
        outcome = read(invocation_for(server, small))
    finally:
        small.close()
    assert isinstance(outcome.error, InvalidResponseException)
    assert "larger than 1000 bytes" in str(outcome.error) or "longer than 1000 bytes" in str(outcome.error)


# -- deadlines: the head within the attempt's, then each line within the idle limit ---------------


def test_a_stream_longer_than_the_timeout_whose_lines_keep_coming_is_whole(server, transport, read):
    # Six gaps of 0.1 s: 0.6 s in all, twice the limit, but never 0.3 s without a line.
    server.always(Stream(reply_events(["a", "b", "c", "d"]), gap=0.1))
    outcome = read(invocation_for(server, transport), timeout=0.3)
    assert outcome.error is None and texts(outcome.chunks) == ["", "a", "b", "c", "d", None]


def test_a_silent_stream_times_out(server, transport, read):
    server.always(Stream([event(chunk("a"))], then="hold"))
    outcome = read(invocation_for(server, transport), timeout=0.3)
    assert isinstance(outcome.error, TimeoutException)
    assert texts(outcome.chunks) == ["a"]
    # The original's warning (Private/Invoke-OpenAIAPIRequestSSE.ps1, line 244).
    assert "Timeout while waiting for response. It seems that the server is not sending any data." in (
        outcome.text
    )


def test_a_line_dripped_a_byte_at_a_time_times_out(server, transport, read):
    # Each byte comes well within the limit, the line never does.
    server.always(Stream([event(chunk("a" * 40)), DONE_EVENT], drip=0.02))
    outcome = read(invocation_for(server, transport), timeout=0.3)
    assert isinstance(outcome.error, TimeoutException) and outcome.chunks == []


def test_a_head_that_never_comes_times_out_as_any_request(server, transport, read):
    server.always(Stream(head_hold=True, hold=5))
    outcome = read(invocation_for(server, transport), timeout=0.3)
    assert isinstance(outcome.error, TimeoutException) and outcome.stream is None


def test_no_timeout_waits_for_a_slow_stream(server, transport, read):
    server.always(Stream(reply_events(["a"]), gap=0.05))
    outcome = read(invocation_for(server, transport), timeout=None)
    assert outcome.error is None and texts(outcome.chunks) == ["", "a", None]


# -- the key ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [KEY, f"Your key is {KEY}.", KEY[5:20], KEY.upper(), json.dumps(KEY)[1:-1].replace("-", "\\u002d")],
    ids=["whole", "in-text", "fragment", "upper", "escaped"],
)
def test_a_key_echoed_inside_a_chunk_never_comes_back(server, transport, read, content):
    data = json.dumps(chunk(content)).replace(json.dumps(content), '"' + content + '"')
    server.always(Stream([event(chunk("a")), event(data), DONE_EVENT]))
    outcome = read(invocation_for(server, transport))  # the fixture asserts that no piece leaks
    assert outcome.error is None and len(outcome.chunks) == 2


def test_a_key_echoed_in_the_headers_never_comes_back(server, transport, read):
    server.always(Stream(reply_events(["a"]), headers={"Content-Type": "text/event-stream", "X-Echo": KEY}))
    outcome = read(invocation_for(server, transport))
    assert outcome.stream is not None and "X-Echo" in outcome.stream.headers


def test_a_key_echoed_in_an_error_event_never_comes_back(server, transport, read):
    server.always(Stream([event({"error": {"message": f"bad key {KEY}"}})]))
    outcome = read(invocation_for(server, transport))
    assert isinstance(outcome.error, APIRequestException)


# -- releasing the connection -------------------------------------------------------------------------


def _live_sockets() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, socket.socket) and o.fileno() != -1)


def _held(server: SSEServer) -> None:
    server.always(Stream([event(chunk("a")), event(chunk("b"))], then="hold"))


@pytest.mark.parametrize("how", ["break", "close", "with", "garbage", "next-then-close"])
def test_leaving_a_stream_early_releases_its_connection(server, transport, how):
    invocation = invocation_for(server, transport)
    gc.collect()
    server.wait_open(0)  # connections of earlier tests' pools gone
    server.always(Stream(reply_events(["warm"])))
    list(stored.create_stream(invocation, BODY))  # a pooled connection, as a program would have
    assert server.wait_open(1) == 1
    before = _live_sockets()
    _held(server)
    stream = stored.create_stream(invocation, BODY)  # on the pooled connection
    if how == "break":
        for _ in stream:
            break
    elif how == "close":
        next(stream)
        stream.close()
    elif how == "with":
        with stream:
            next(stream)
    elif how == "next-then-close":
        next(stream)
        next(stream)
        stream.close()
    else:
        next(stream)
        del stream
        gc.collect()
    # The half-read connection was shut, not pooled: the server sees it go ...
    assert server.wait_open(0) == 0
    # ... the next request on the same pool works, on a new connection ...
    server.always(Stream(reply_events(["next"])))
    assert texts(list(stored.create_stream(invocation, BODY))) == ["", "next", None]
    assert server.seen[-1].connection != server.seen[-2].connection == server.seen[-3].connection
    # ... and no socket is left behind: one pooled, as before.
    assert _live_sockets() <= before


def test_a_closed_stream_reads_nothing_more(server, transport):
    _held(server)
    stream = stored.create_stream(invocation_for(server, transport), BODY)
    assert next(stream)["choices"][0]["delta"]["content"] == "a"
    stream.close()
    stream.close()  # idempotent
    assert stream.closed and list(stream) == []
    with pytest.raises(StopIteration):
        next(stream)


def test_a_server_holding_on_after_the_end_marker_loses_the_connection(server, transport, monkeypatch):
    monkeypatch.setattr(ChunkStream, "drain_seconds", 0.1)
    server.always(Stream(reply_events(["a"]), then="hold"))
    invocation = invocation_for(server, transport)
    assert texts(list(stored.create_stream(invocation, BODY))) == ["", "a", None]
    assert server.wait_open(0) == 0  # not pooled half-read: shut
    server.always(Stream(reply_events(["b"])))
    assert texts(list(stored.create_stream(invocation, BODY))) == ["", "b", None]
    assert server.seen[0].connection != server.seen[1].connection


# -- stopping a run -----------------------------------------------------------------------------------


def test_a_stopped_run_ends_a_stream_waiting_for_its_next_chunk(server, transport):
    _held(server)
    stop = threading.Event()
    with cancel.scope(stop):
        stream = stored.create_stream(invocation_for(server, transport), BODY)
    got = [next(stream), next(stream)]
    timer = threading.Timer(0.1, stop.set)
    timer.start()
    try:
        with pytest.raises(RunStoppedError, match="after 2 chunks") as caught:
            next(stream)  # blocked reading: the server holds on for 10 s
    finally:
        timer.cancel()
    assert caught.value.sent is True and len(got) == 2
    assert stream.closed and server.wait_open(0) == 0


def test_a_stopped_run_ends_a_stream_before_its_next_chunk_is_read(server, transport):
    server.always(Stream(reply_events(["a", "b"])))
    stop = threading.Event()
    with cancel.scope(stop):
        stream = stored.create_stream(invocation_for(server, transport), BODY)
    next(stream)
    stop.set()
    with pytest.raises(RunStoppedError, match="after 1 chunks"):
        next(stream)


def test_a_stopped_run_ends_the_wait_for_the_head(server, transport):
    server.always(Stream(head_hold=True, hold=10))
    stop = threading.Event()
    timer = threading.Timer(0.1, stop.set)
    timer.start()
    try:
        with cancel.scope(stop), pytest.raises(RunStoppedError, match="awaited") as caught:
            stored.create_stream(invocation_for(server, transport), BODY)
    finally:
        timer.cancel()
    assert caught.value.sent is True
    assert server.wait_open(0) == 0


def test_the_stop_watcher_thread_ends_with_the_last_stream(server, transport):
    server.always(Stream(reply_events(["a"])))
    with cancel.scope(threading.Event()):
        assert len(list(stored.create_stream(invocation_for(server, transport), BODY))) == 3

    def watchers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "psopenai-stream-stops"]

    for thread in watchers():
        thread.join(2)
    assert watchers() == []


# -- every failure a typed one -------------------------------------------------------------------------

HOSTILE: list[tuple[str, Callable[[Seen], Stream]]] = [
    ("reset-at-once", lambda s: Stream([], then="reset")),
    ("reset-mid-event", lambda s: Stream([b'data: {"id":'], then="reset")),
    ("close-mid-event", lambda s: Stream([b'data: {"id":'], framing="close")),
    ("garbage-then-close", lambda s: Stream([b"zz\r\n"], framing="close")),
    (
        "length-short",
        lambda s: Stream([event(chunk("a"))], headers={"Content-Length": "999"}, framing="close"),
    ),
    ("binary", lambda s: Stream([bytes(range(256)) * 4])),
    ("nul-lines", lambda s: Stream([b"data: \x00\x00\n\n", DONE_EVENT])),
    ("nested", lambda s: Stream([b"data: " + b"[" * 100_000 + b"\n\n", DONE_EVENT])),
    ("status-1xx-like", lambda s: Stream([], status=299, framing="length")),
]


@pytest.mark.parametrize("script", [s for _, s in HOSTILE], ids=[n for n, _ in HOSTILE])
def test_a_hostile_stream_ends_in_a_typed_error_never_a_traceback(server, transport, read, script):
    server.script = script
    outcome = read(invocation_for(server, transport), timeout=2)
    assert outcome.error is not None  # read() fails the test on any exception that is not ours
