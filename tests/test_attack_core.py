"""Attacks on the core's boundaries that once got through: ApiBase forms that crashed deep in the
HTTP client, a key given to the wrong parameter, keyring backends and timeouts out of range, key
fragments and log records carrying exceptions.  Each case asserts the three invariants: a typed
error naming the parameter (no traceback), nothing sent, no 8-character piece of the key."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import psopenai_py
from psopenai_py import keyring_store, scrub
from psopenai_py.errors import ParameterBindingError, PSOpenAIError, SecretStoreError, TimeoutException
from psopenai_py.secret import Secret

from .hostile_server import HostileServer, Reply, completion

KEY = "sk-Zq9XvB7wK2mT4pLr8NcYd3Hf6Jg1Ws5Ae0UbQ"


def leaks(text: str, key: str = KEY) -> list[str]:
    """Every 8-character piece of ``key`` found in ``text`` (case-insensitively)."""
    low = text.lower()
    return sorted({key[i : i + 8] for i in range(len(key) - 7) if key[i : i + 8].lower() in low})


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        hostile.always(Reply(200, completion("chatcmpl-1")))
        yield hostile


# -- ApiBase forms: each works or is a binding error naming ApiBase, with nothing sent --------------

BAD_BASES = [
    "http://[::1]:x/v1",
    "http://127.0.0.1:99999/v1",
    "http://127.0.0.1:-1/v1",
    "http://127.0.0.1:0/v1",  # urllib3 would quietly take port 0 for 80
    "http://127.0.0.1:{port}\\v1",
    "http://127.0.0.1:{port}/v 1",
    "http://a b/v1",
    "http://\x00x/v1",
    "http://" + "a" * 300 + "/v1",  # a host label past 63 characters
    "http://127.0.0.1:{port}/v1\x07x",
]


@pytest.mark.parametrize("base", BAD_BASES)
def test_a_bad_api_base_is_a_binding_error_with_nothing_sent(
    server: HostileServer, transport: Any, base: str
) -> None:
    before = server.count()
    with pytest.raises(ParameterBindingError) as caught:
        psopenai_py.set_chat_completion(
            "chatcmpl-1", {"k": "v"}, api_key=KEY, api_base=base.format(port=server.port), timeout_sec=2
        )
    assert caught.value.parameter == "ApiBase"
    assert "'ApiBase'" in str(caught.value)
    assert server.count() == before


@pytest.mark.parametrize("base", [" {base} ", "{base}\n", "{base}?x=1#frag", "HTTP://127.0.0.1:{port}/v1"])
def test_api_base_forms_that_work(server: HostileServer, transport: Any, base: str) -> None:
    before = server.count()
    result = psopenai_py.set_chat_completion(
        "chatcmpl-1",
        {"k": "v"},
        api_key=KEY,
        api_base=base.format(base=server.base_url, port=server.port),
        timeout_sec=2,
    )
    assert result is not None
    assert server.seen[-1].path == "/v1/chat/completions/chatcmpl-1"  # no %20 of a trailing space
    assert server.count() == before + 1


def test_api_base_from_the_environment_is_trimmed_and_checked(
    server: HostileServer, transport: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_BASE", server.base_url + "\n")
    psopenai_py.set_chat_completion("chatcmpl-1", {"k": "v"}, api_key=KEY, timeout_sec=2)
    assert server.seen[-1].path == "/v1/chat/completions/chatcmpl-1"
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:99999/v1")
    with pytest.raises(ParameterBindingError) as caught:
        psopenai_py.set_chat_completion("chatcmpl-1", {"k": "v"}, api_key=KEY, timeout_sec=2)
    assert caught.value.parameter == "ApiBase"


# -- a key given to the wrong parameter ------------------------------------------------------------


@pytest.mark.parametrize("name", ["api_type", "auth_type", "api_base"])
def test_a_key_given_to_the_wrong_parameter_is_not_quoted(name: str) -> None:
    with pytest.raises(ParameterBindingError) as caught:
        options: dict[str, Any] = {name: KEY}
        psopenai_py.set_chat_completion("chatcmpl-1", {"k": "v"}, api_key=KEY, **options)
    assert leaks(str(caught.value) + repr(caught.value.args)) == []


# -- keyring ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1e10", "1e308", "9223372036854775807"])
def test_a_huge_keyring_timeout_is_capped_not_an_overflow(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    monkeypatch.setenv(keyring_store.TIMEOUT_ENV, value)
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        timeout = keyring_store.keyring_timeout()
    assert timeout <= threading.TIMEOUT_MAX
    assert keyring_store.call_with_timeout(lambda: 42, timeout) == 42
    assert keyring_store.TIMEOUT_ENV in caplog.text


class _Aborting:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def get_password(self, service: str, username: str) -> Any:
        raise self.error


@pytest.mark.parametrize("error", [KeyboardInterrupt(), SystemExit(3), GeneratorExit()])
def test_a_backend_raising_a_base_exception_is_a_secret_store_error(
    monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    backend = _Aborting(error)
    fake = type("FakeKeyring", (), {"get_keyring": staticmethod(lambda: backend)})
    monkeypatch.setattr(keyring_store, "_keyring", lambda: fake)
    with pytest.raises(SecretStoreError) as caught:
        keyring_store.fetch("OPENAI_API_KEY")
    assert type(error).__name__ in str(caught.value)
    assert keyring_store.read("OPENAI_API_KEY") is None  # best-effort read: "not found there"


# -- fragments of the key, and log records with an exception --------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        KEY[:20] + "...",
        "..." + KEY[-20:],
        "Incorrect API key provided: " + KEY[5:30] + "*****",
        KEY[:20] + "\n" + KEY[20:],  # wrapped by an HTML page or a terminal
        KEY[:26].upper(),
    ],
)
def test_a_fragment_of_a_key_in_play_is_scrubbed(text: str) -> None:
    secret = Secret(KEY)
    scrub.register(secret)
    assert leaks(scrub.scrub(text)) == []


def test_the_masked_form_and_ordinary_text_survive_the_fragment_scrubber() -> None:
    secret = Secret("sk-proj-CANARY0a1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ")
    scrub.register(secret)
    shown = "API key to be used is sk-proj-CAN***************yZ"
    assert scrub.scrub(shown) == shown
    ordinary = "chatcmpl-abc123 sk-proj-other task-assign"  # not shaped like a key (KEY_SHAPED)
    assert scrub.scrub(ordinary) == ordinary


def test_a_log_record_with_an_exception_is_scrubbed_whatever_formats_it() -> None:
    secret = Secret(KEY)
    scrub.register(secret)
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    logger = logging.getLogger("psopenai_py")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"boom {KEY}")
        except RuntimeError:
            logger.error("failed", exc_info=True, stack_info=True)
    finally:
        logger.removeHandler(handler)
    assert records and "RuntimeError" in records[0]
    assert leaks("\n".join(records)) == []


def test_no_package_exception_escapes_these_attacks() -> None:
    assert issubclass(SecretStoreError, PSOpenAIError)


def test_a_made_up_key_of_repeated_characters_does_not_eat_ordinary_numbers() -> None:
    secret = Secret("sk-env-0000000000000000000000")
    scrub.register(secret)
    body = '{"created": 1700000000, "id": "chatcmpl-1"}'
    assert scrub.scrub(body) == body


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


# -- credentials in AdditionalHeaders --------------------------------------------------------------

GATEWAY_SECRET = "gw-Pq7Rt2Wx9Zk4Mn6Bv1Cy3"


@pytest.mark.parametrize(
    "name", ["Ocp-Apim-Subscription-Key", "X-Api-Key", "Helicone-Auth", "Cookie", "X-Auth-Token"]
)
def test_a_credential_in_additional_headers_is_masked_in_debug_lines_and_errors(
    server: HostileServer, transport: Any, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    server.always(Reply(401, {"error": {"message": "no"}}))
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(PSOpenAIError) as caught:
            psopenai_py.set_chat_completion(
                "chatcmpl-1",
                {"k": "v"},
                api_key=KEY,
                api_base=server.base_url,
                additional_headers={name: GATEWAY_SECRET},
            )
    finally:
        server.always(Reply(200, completion("chatcmpl-1")))
    assert server.seen[-1].headers[name] == GATEWAY_SECRET  # sent as given
    response = getattr(caught.value, "response", None)
    shown = caplog.text + repr(caught.value)
    if response is not None and response.request is not None:
        shown += str(dict(response.request.headers))
    assert name in caplog.text
    assert leaks(shown, GATEWAY_SECRET) == []


def test_a_made_up_key_does_not_eat_ids_and_an_error_loses_a_piece_of_the_key(
    server: HostileServer, transport: Any
) -> None:
    secret = Secret("sk-bulk-0000000000000000000000000")
    scrub.register(secret)
    assert scrub.scrub("chatcmpl-bulk-000007 failed") == "chatcmpl-bulk-000007 failed"
    piece = KEY[4:24]
    server.always(Reply(400, {"error": {"message": f"bad key {piece}"}}))
    try:
        with pytest.raises(PSOpenAIError) as caught:
            psopenai_py.set_chat_completion("chatcmpl-1", {"k": "v"}, api_key=KEY, api_base=server.base_url)
        assert leaks(str(caught.value) + caught.value.response.text) == []  # type: ignore[attr-defined]
    finally:
        server.always(Reply(200, completion("chatcmpl-1")))


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


def test_repr_of_an_invocation_shows_no_credential(transport: Any) -> None:
    from psopenai_py.commands.common import prepare_invocation
    from psopenai_py.commands.set_completion import UNIT

    invocation = prepare_invocation(
        UNIT.table,
        api_key=KEY,
        api_base="http://127.0.0.1:9/v1",
        organization="org-Xy7Qw3Er9Ty1Ui5Op2",
        additional_headers={"Ocp-Apim-Subscription-Key": GATEWAY_SECRET, "X-Trace": "t-1"},
    )
    shown = repr(invocation)
    assert "X-Trace" in shown and "t-1" in shown
    assert leaks(shown) == [] and leaks(shown, GATEWAY_SECRET) == []
    assert leaks(shown, "org-Xy7Qw3Er9Ty1Ui5Op2") == []


def test_a_credential_header_echoed_by_the_server_is_scrubbed(server: HostileServer, transport: Any) -> None:
    server.always(Reply(400, {"error": {"message": f"subscription key {GATEWAY_SECRET} is not valid"}}))
    try:
        with pytest.raises(PSOpenAIError) as caught:
            psopenai_py.set_chat_completion(
                "chatcmpl-1",
                {"k": "v"},
                api_key=KEY,
                api_base=server.base_url,
                additional_headers={"Ocp-Apim-Subscription-Key": GATEWAY_SECRET},
            )
    finally:
        server.always(Reply(200, completion("chatcmpl-1")))
    assert "subscription key" in str(caught.value)
    assert leaks(str(caught.value) + caught.value.response.text, GATEWAY_SECRET) == []  # type: ignore[attr-defined]
