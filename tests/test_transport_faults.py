"""The transport under the library functions, against a hostile server: redirects, drips, bodies
of every JSON type, echoed and escaped keys, cursor loops, resets, invalid and huge bodies,
per-origin backoff, bulk runs.

Every case asserts the three invariants: only the package's own exceptions come out (no
traceback reaches a user), no 8-character piece of the key shows anywhere (exception text,
args, repr, response, logs at DEBUG from every logger including urllib3, stderr, ErrorVariable),
and every input is accounted for exactly once, in order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest

import psopenai_py
from psopenai_py import compat
from psopenai_py.errors import (
    APIConnectionException,
    InvalidResponseException,
    PSOpenAIError,
    RedirectException,
    TimeoutException,
    UnauthorizedException,
)
from psopenai_py.secret import Secret
from psopenai_py.settings import SettingsRequest, resolve_settings
from psopenai_py.transport import Transport

from .hostile_server import HostileServer, Reply, Seen, completion
from .key_leaks import KEY, leaks


def everything_about(exc: BaseException) -> str:
    """All the text an exception can show: traceback, str, repr, args, attributes, response."""
    parts = ["".join(traceback.format_exception(exc)), repr(exc), str(exc), repr(exc.args)]
    parts.append(repr({k: v for k, v in vars(exc).items() if k != "response"}))
    response = getattr(exc, "response", None)
    if response is not None:
        parts += [repr(response), response.text, repr(dict(response.headers)), str(response.reason)]
        parts += [str(response.url), repr(response.cookies.get_dict())]
        if response.request is not None:
            parts += [repr(response.request), str(dict(response.request.headers)), str(response.request.url)]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def server(hostile_server: HostileServer) -> Iterator[HostileServer]:
    hostile_server.reset()
    yield hostile_server
    hostile_server.reset()


class Outcome:
    """What one library call did: its result or its exception, and all text it produced."""

    def __init__(self, result: Any, error: PSOpenAIError | None, text: str, seconds: float) -> None:
        self.result = result
        self.error = error
        self.text = text
        self.seconds = seconds


@pytest.fixture
def run(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """Call the library at DEBUG on every logger; check no foreign exception and no leak."""

    def call(function: Callable[[], Any]) -> Outcome:
        caplog.clear()
        started = time.monotonic()
        result: Any = None
        error: PSOpenAIError | None = None
        with caplog.at_level(logging.DEBUG):
            try:
                result = function()
            except PSOpenAIError as exc:  # anything else is a traceback for a user: the test fails
                error = exc
        seconds = time.monotonic() - started
        captured = capsys.readouterr()
        text = "\n".join(
            [caplog.text, *(r.getMessage() for r in caplog.records), captured.out, captured.err, repr(result)]
        )
        if error is not None:
            text += everything_about(error)
        assert caplog.records, "DEBUG logging produced nothing to check"
        assert leaks(text) == []
        return Outcome(result, error, text, seconds)

    return call


def set_one(server: HostileServer, ident: str = "chatcmpl-1", **extra: Any) -> Callable[[], Any]:
    options: dict[str, Any] = {"api_key": KEY, "api_base": server.base_url, "timeout_sec": 5, **extra}
    return lambda: psopenai_py.set_chat_completion(ident, {"k": "v"}, **options)


# -- redirects -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_typed_error_and_is_not_followed(server, transport, run, status):
    target = f"{server.origin}/stolen?user=x"
    server.script = lambda seen: (
        Reply(200, completion("stolen")) if "stolen" in seen.path else Reply(status, {}, {"Location": target})
    )
    outcome = run(set_one(server))
    assert isinstance(outcome.error, RedirectException)
    assert isinstance(outcome.error, InvalidResponseException)
    assert outcome.error.status_code == status
    assert outcome.error.location == target
    assert target in str(outcome.error)
    assert server.count() == 1 and server.count("stolen") == 0


def test_a_redirect_with_credentials_in_its_location_shows_none(server, transport, run):
    server.always(Reply(302, {}, {"Location": f"http://admin:{KEY}@127.0.0.1:1/x"}))
    outcome = run(set_one(server))
    assert isinstance(outcome.error, RedirectException)
    assert "http://********@127.0.0.1:1/x" in str(outcome.error)


# -- response shapes -------------------------------------------------------------------------------

NOT_AN_OBJECT = {
    "string": b'"hello"',
    "number": b"42",
    "float": b"1.5e3",
    "null": b"null",
    "array": b"[]",
    "array-of-objects": b'[{"id": "x"}]',
    "true": b"true",
    "false": b"false",
    "empty": b"",
    "html": b"<html>captive portal</html>",
    "invalid-utf8": b'{"id": "\xff\xfe\xfa"}',
    "deeply-nested": b"[" * 100_000 + b"]" * 100_000,
    "truncated": b'{"id": "chatcmpl-1", "choices": [',
}


@pytest.mark.parametrize("body", list(NOT_AN_OBJECT.values()), ids=list(NOT_AN_OBJECT))
def test_a_success_that_is_not_a_json_object_is_invalid_response(server, transport, run, body):
    server.always(Reply(200, body))
    outcome = run(set_one(server))
    assert type(outcome.error) is InvalidResponseException
    assert outcome.error.status_code == 200
    assert "API returned a response that" in str(outcome.error)


@pytest.mark.parametrize(
    "created", [10**20, -(10**20), 2**63, 1e300, "yesterday", None, True, [1], {"a": 1}, 0]
)
def test_created_of_any_value_never_crashes(server, transport, run, created):
    server.always(Reply(200, completion("chatcmpl-1", created=created)))
    outcome = run(set_one(server))
    assert outcome.error is None
    assert outcome.result["created"] == created  # kept as received when it is no date


@pytest.mark.parametrize("choices", ["text", 5, None, {"0": 1}, [1, "x", None]])
def test_odd_choices_never_crash(server, transport, run, choices):
    server.always(Reply(200, completion("chatcmpl-1", choices=choices)))
    outcome = run(set_one(server))
    assert outcome.error is None
    assert isinstance(outcome.result.Answer, list)


# -- deadlines ------------------------------------------------------------------------------------


def test_a_dripping_body_times_out_at_the_deadline(server, transport, run):
    server.always(Reply(200, completion("chatcmpl-1"), drip=0.25))
    outcome = run(set_one(server, timeout_sec=1))
    assert isinstance(outcome.error, TimeoutException)
    assert 0.9 <= outcome.seconds < 2.0, outcome.seconds


def test_a_dripping_status_line_and_headers_time_out_at_the_deadline(server, transport, run):
    server.always(Reply(200, completion("chatcmpl-1"), drip_head=0.1))
    outcome = run(set_one(server, timeout_sec=1))
    assert isinstance(outcome.error, TimeoutException)
    assert 0.9 <= outcome.seconds < 2.0, outcome.seconds


def test_after_a_deadline_the_pool_still_serves_the_next_call(server, transport, run):
    server.always(Reply(200, completion("chatcmpl-1"), drip=0.3))
    assert isinstance(run(set_one(server, timeout_sec=1)).error, TimeoutException)
    server.always(Reply(200, completion("chatcmpl-1")))
    for _ in range(3):
        assert run(set_one(server, timeout_sec=1)).error is None


def test_a_slow_but_whole_answer_within_the_deadline_succeeds(server, transport, run):
    server.always(Reply(200, b'{"id":"x"}', drip=0.02))
    outcome = run(set_one(server, timeout_sec=3))
    assert outcome.error is None and outcome.result["id"] == "x"


def test_timeout_zero_still_waits_forever_for_a_drip(server, transport, run):
    server.always(Reply(200, b'{"id":"x"}', drip=0.12))  # 1.2 s in all, longer than 1 s
    outcome = run(set_one(server, timeout_sec=0))
    assert outcome.error is None and outcome.result["id"] == "x"


def test_a_reset_mid_body_is_a_connection_error(server, transport, run):
    server.always(Reply(200, completion("chatcmpl-1"), reset_after=10))
    outcome = run(set_one(server))
    assert isinstance(outcome.error, APIConnectionException)


def test_a_body_past_the_limit_is_refused_unread(server, transport, run, monkeypatch):
    monkeypatch.setattr(Transport, "max_body_bytes", 1_000_000)
    server.always(Reply(200, b'{"id": "x", "pad": "', huge=5_000_000))
    outcome = run(set_one(server))
    assert isinstance(outcome.error, InvalidResponseException)
    assert "larger than 1000000 bytes" in str(outcome.error)


def test_a_large_body_within_the_limit_is_read(server, transport, run):
    server.always(Reply(200, completion("chatcmpl-1", pad="x" * 3_000_000)))
    outcome = run(set_one(server))
    assert outcome.error is None and len(outcome.result["pad"]) == 3_000_000


# -- echoed keys ----------------------------------------------------------------------------------


def _json_escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


ECHOES: dict[str, Reply] = {
    "raw-401": Reply(401, {"error": {"message": f"Incorrect API key provided: {KEY}"}}),
    "json-escaped-401": Reply(401, (f'{{"error": {{"message": "bad key {_json_escaped(KEY)}"}}}}').encode()),
    "dash-escaped-500": Reply(
        500, ('{{"error": {{"message": "{}"}}}}'.format(KEY.replace("-", "\\u002d"))).encode()
    ),
    "percent-encoded-400": Reply(
        400, {"error": {"message": "see https://x/?k=" + quote(KEY, safe="").replace("-", "%2D")}}
    ),
    "bearer-in-body-500": Reply(500, {"error": {"message": f"got Authorization: Bearer {KEY}"}}),
    "in-a-header-404": Reply(404, {"error": {"message": "nope"}}, {"X-Echo": KEY, "Set-Cookie": f"k={KEY}"}),
    "in-the-reason-401": Reply(401, {"error": {"message": "nope"}}, reason=f"Bad {KEY}"),
    "raw-200-success": Reply(200, completion("chatcmpl-1", echo=KEY)),
    "escaped-200-success": Reply(200, (f'{{"id": "chatcmpl-1", "echo": "{_json_escaped(KEY)}"}}').encode()),
    "header-200-success": Reply(200, completion("chatcmpl-1"), {"X-Key": f"Bearer {KEY}"}),
    "not-json-200": Reply(200, f"<html>{KEY}</html>"),
    "redirect-to-key": Reply(307, {}, {"Location": f"http://127.0.0.1:1/?key={KEY}"}),
}


@pytest.mark.parametrize("reply", list(ECHOES.values()), ids=list(ECHOES))
@pytest.mark.parametrize("api_type", ["OpenAI", "Azure"])
def test_an_echoed_key_never_comes_back(server, transport, run, reply, api_type):
    server.always(reply)
    base = server.base_url if api_type == "OpenAI" else server.origin
    outcome = run(set_one(server, api_type=api_type, api_base=base))
    seen = server.seen[-1]
    sent = seen.headers.get("Authorization", "") + seen.headers.get("api-key", "")
    assert KEY in sent  # the key did go to the server: what came back was an echo
    if reply.status >= 300:
        assert outcome.error is not None


def test_urllib3_debug_records_are_scrubbed_on_any_handler(server, transport):
    """A handler on urllib3's own logger (not root) sees the records before root's would."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    pool_logger = logging.getLogger("urllib3.connectionpool")
    handler = Keep(logging.DEBUG)
    pool_logger.addHandler(handler)
    old_level = pool_logger.level
    pool_logger.setLevel(logging.DEBUG)
    try:
        server.always(Reply(200, completion("chatcmpl-1")))
        psopenai_py.set_chat_completion(
            "chatcmpl-1", {}, api_key=KEY, api_base=server.base_url, additional_query={"echo": KEY}
        )
        # A record made while the key is in play (settings resolved and held), by hand.
        in_play = resolve_settings(SettingsRequest(api_key=Secret(KEY)))
        pool_logger.debug("manual %s and %r", KEY, {"h": f"Bearer {KEY}"})
        del in_play
    finally:
        pool_logger.removeHandler(handler)
        pool_logger.setLevel(old_level)
    assert records, "urllib3 logged nothing at DEBUG"
    assert all(leaks(r.getMessage()) == [] for r in records)
    assert any("manual <OpenAI API Key>" in r.getMessage() for r in records)


# -- paging ---------------------------------------------------------------------------------------


def _page(ids: list[Any], has_more: Any = True) -> Reply:
    return Reply(200, {"object": "list", "data": ids, "has_more": has_more})


def _objects(*ids: str) -> list[dict[str, Any]]:
    return [completion(i) for i in ids]


PAGE_LOOPS: dict[str, Callable[[Seen], Reply]] = {
    "same-page-forever": lambda seen: _page(_objects("a", "b")),
    "cursor-back-to-start": lambda seen: _page(
        _objects("a", "b") if seen.query.get("after") != "b" else _objects("c", "a")
    ),
    "last-id-is-the-cursor": lambda seen: _page(
        _objects("a", "b") if "after" not in seen.query else _objects("b")
    ),
    "data-not-a-list": lambda seen: _page({"id": "a"}),  # type: ignore[arg-type]
    "item-not-an-object": lambda seen: _page(["a", "b"]),
    "has-more-a-string": lambda seen: _page(_objects("a"), has_more="yes"),
    "last-item-without-id": lambda seen: _page([{"object": "chat.completion"}]),
    "page-is-an-array": lambda seen: Reply(200, b"[]"),
}


@pytest.mark.parametrize("script", list(PAGE_LOOPS.values()), ids=list(PAGE_LOOPS))
def test_a_bad_or_looping_page_stops_with_an_error(server, transport, run, script):
    server.script = script
    outcome = run(
        lambda: psopenai_py.get_chat_completion(all_pages=True, api_key=KEY, api_base=server.base_url)
    )
    assert isinstance(outcome.error, InvalidResponseException)
    assert server.count() <= 3


def test_history_paging_loop_stops_too(server, transport, run):
    def script(seen: Seen) -> Reply:
        if seen.path.endswith("/messages"):
            return _page([{"id": "m1", "role": "user", "content": "x"}])
        return Reply(200, completion("chatcmpl-1"))

    server.script = script
    outcome = run(
        lambda: psopenai_py.get_chat_completion("chatcmpl-1", api_key=KEY, api_base=server.base_url)
    )
    assert isinstance(outcome.error, InvalidResponseException)
    assert server.count("/messages") == 2


def test_a_good_multi_page_list_still_works(server, transport, run):
    pages = {None: (_objects("a", "b"), True), "b": (_objects("c"), False)}
    server.script = lambda seen: _page(*pages[seen.query.get("after")])
    outcome = run(
        lambda: psopenai_py.get_chat_completion(all_pages=True, api_key=KEY, api_base=server.base_url)
    )
    assert outcome.error is None
    assert [c["id"] for c in outcome.result] == ["a", "b", "c"]


# -- backoff per origin and key -------------------------------------------------------------------


def test_a_429_pauses_only_its_own_origin_and_key(server, transport, clock, run):
    other = HostileServer(lambda seen: Reply(200, completion("chatcmpl-1")))
    try:
        server.sequence(
            [
                Reply(429, {"error": {"message": "slow down"}}, {"retry-after-ms": "30000"}),
                Reply(200, completion("x")),
            ]
        )
        assert run(set_one(server, max_retry_count=1)).error is None
        assert clock.sleeps == [30.0]  # its own wait, injected (nothing really slept)
        assert run(set_one(other)).error is None  # another server: no wait
        other_key = KEY[:-4] + "ZZZZ"
        assert run(set_one(server, api_key=other_key)).error is None  # another key: no wait
        assert clock.sleeps == [30.0]
        assert run(set_one(server)).error is None  # the same server and key: the pace it taught
        assert len(clock.sleeps) == 2 and clock.sleeps[1] > 29.0
    finally:
        other.close()


# -- bulk through the PowerShell shim -------------------------------------------------------------

BULK: dict[str, tuple[Reply, type[Exception] | None]] = {
    "ok-1": (Reply(200, completion("ok-1")), None),
    "moved-2": (Reply(301, {}, {"Location": "http://127.0.0.1:1/moved-2"}), RedirectException),
    "string-3": (Reply(200, b'"just a string"'), InvalidResponseException),
    "ok-4": (Reply(200, completion("ok-4")), None),
    "echo-5": (
        Reply(401, {"error": {"message": f"bad key {_json_escaped(KEY)} {KEY}"}}),
        UnauthorizedException,
    ),
    "null-6": (Reply(200, b"null"), InvalidResponseException),
    "reset-7": (Reply(200, completion("reset-7"), reset_after=5), APIConnectionException),
    "temp-8": (Reply(307, {}, {"Location": f"http://u:{KEY}@127.0.0.1:1/"}), RedirectException),
    "ok-9": (Reply(200, completion("ok-9", created=10**30)), None),
    "html-10": (Reply(200, f"<p>{KEY}</p>"), InvalidResponseException),
    "list-11": (Reply(200, b"[1,2]"), InvalidResponseException),
    "ok-12": (Reply(200, completion("ok-12")), None),
}


@pytest.mark.parametrize("throttle", [1, 4])
@pytest.mark.parametrize("action", ["SilentlyContinue", "Continue"])
def test_bulk_accounts_for_every_item_once_in_order(server, transport, run, throttle, action):
    server.by_path({ident: reply for ident, (reply, _) in BULK.items()})
    errors: list[BaseException] = []
    ids = list(BULK)
    outcome = run(
        lambda: compat.Set_ChatCompletion(
            ids,
            MetaData={"k": "v"},
            ApiKey=KEY,
            ApiBase=server.base_url,
            TimeoutSec=5,
            ThrottleLimit=throttle,
            ErrorVariable=errors,
            ErrorAction=action,
        )
    )
    assert outcome.error is None
    outputs = outcome.result if isinstance(outcome.result, list) else [outcome.result]
    assert [o["id"] for o in outputs] == [i for i in ids if BULK[i][1] is None]
    expected = [BULK[i][1] for i in ids if BULK[i][1] is not None]
    assert [type(e) for e in errors] == expected
    assert leaks("\n".join(everything_about(e) for e in errors)) == []
    assert sorted(s.path.rsplit("/", 1)[-1] for s in server.seen) == sorted(ids)  # each sent once
    if action == "Continue":
        assert outcome.text.count("Set-ChatCompletion: ") >= len(expected)


def test_json_dump_of_an_error_content_holds_no_key(server, transport, run):
    server.always(Reply(400, {"error": {"message": "x", "param": KEY, "code": [KEY]}}))
    outcome = run(set_one(server))
    assert outcome.error is not None
    assert leaks(json.dumps(outcome.error.content)) == []


# -- backoff per (origin, key) ---------------------------------------------------------------------


def test_one_origin_written_three_ways_shares_one_backoff() -> None:
    from psopenai_py.settings import SettingsRequest, resolve_settings
    from psopenai_py.transport.pacing import pacing_key

    settings = resolve_settings(SettingsRequest(api_key=Secret(KEY)))
    forms = ["http://Host.example/v1/x", "HTTP://host.example:80/v1/x", "http://host.example:80/other/"]
    assert len({pacing_key(settings, url) for url in forms}) == 1
    assert pacing_key(settings, "https://host.example/v1") == pacing_key(
        settings, "https://host.example:443/"
    )
    assert pacing_key(settings, "https://host.example/v1") != pacing_key(settings, "http://host.example/v1")


# -- the deadline through a proxy ------------------------------------------------------------------


def test_the_deadline_holds_through_a_proxy_that_drips(
    server: HostileServer, transport: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psopenai_py.transport.session import _environment_for

    monkeypatch.setenv("HTTP_PROXY", server.origin)
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    _environment_for.cache_clear()
    server.always(Reply(200, completion("chatcmpl-1"), drip_head=0.2))
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutException):
            psopenai_py.get_chat_completion(
                "chatcmpl-1",
                api_key=KEY,
                api_base="http://api.example.test/v1",
                timeout_sec=1,
                no_history=True,
            )
    finally:
        server.always(Reply(200, completion("chatcmpl-1")))
        _environment_for.cache_clear()
    assert server.seen[-1].headers.get("Host") == "api.example.test"  # it did go through the proxy
    assert time.monotonic() - started < 2.5


def test_the_deadline_holds_when_a_proxy_drips_its_answer_to_connect(
    transport: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from psopenai_py.transport.session import _environment_for

    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def drip(connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            connection.recv(65536)  # the CONNECT request
            answer = b"HTTP/1.1 200 Connection established\r\nX-Pad: " + b"a" * 100 + b"\r\n\r\n"
            for index in range(len(answer)):
                if stop.wait(0.1):
                    return
                connection.sendall(answer[index : index + 1])

    def accept() -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set():
                connection, _ = listener.accept()
                threading.Thread(target=drip, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{listener.getsockname()[1]}")
    for name in ("NO_PROXY", "no_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    _environment_for.cache_clear()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutException):
            psopenai_py.get_chat_completion(
                "chatcmpl-1",
                api_key=KEY,
                api_base="https://api.example.test/v1",
                timeout_sec=1,
                no_history=True,
            )
    finally:
        stop.set()
        listener.close()
        _environment_for.cache_clear()
    assert time.monotonic() - started < 2.5
