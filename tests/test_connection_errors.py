"""Connection failures in a user's words: which host and port, and what went wrong (refused,
timed out, name not resolved, closed early, TLS), never the HTTP libraries' internals ("Max
retries exceeded", pool and connection class names) and never the key.  PSOpenAI's exception
classes stay.  End to end in subprocesses against a closed port and a hostile server on
127.0.0.1; the words for failures that need other networks from a table of the exceptions the
HTTP library raises."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from typing import Any

import pytest
import requests
import urllib3.exceptions as u3

from psopenai_py.errors import APIConnectionException
from psopenai_py.transport.session import connection_failure
from tests.hostile_server import HostileServer, Reply, completion

KEY = "sk-proj-CONNk3yAbCdEfGhIjKlMnOpQrStUvWxYz0123"
COMMAND = [sys.executable, "-m", "psopenai_py"]
INTERNALS = (
    "Max retries",
    "Watched",
    "Pool",
    "urllib3",
    "NewConnectionError",
    "Errno",
    "Caused by",
    "HTTPConnection",
)


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["OPENAI_API_KEY"] = KEY
    return subprocess.run(
        [*COMMAND, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, env=env
    )


def assert_user_worded(text: str) -> None:
    for internal in INTERNALS:
        assert internal not in text, text
    assert "k3yAbC" not in text


def test_a_refused_connection_names_host_and_port_in_the_powershell_syntax(closed_port):
    done = run("Get-ChatCompletion", "chatcmpl-x", "-ApiBase", f"http://127.0.0.1:{closed_port}/v1")
    assert done.returncode != 0
    assert f"cannot connect to 127.0.0.1:{closed_port} (connection refused)" in done.stderr
    assert_user_worded(done.stdout + done.stderr)


def test_a_refused_connection_names_host_and_port_in_the_dialect(closed_port):
    url = f"http://127.0.0.1:{closed_port}/v1"
    done = run("chat:completions", "retrieve", "chatcmpl-x", "--base-url", url, "--max-retries", "0")
    assert done.returncode == 1
    assert f"cannot connect to 127.0.0.1:{closed_port} (connection refused)" in done.stderr
    assert_user_worded(done.stdout + done.stderr)


def test_a_key_in_the_url_user_info_is_never_shown(closed_port):
    done = run("Get-ChatCompletion", "chatcmpl-x", "-ApiBase", f"http://u:{KEY}@127.0.0.1:{closed_port}/v1")
    assert done.returncode != 0
    assert_user_worded(done.stdout + done.stderr)


def test_a_connection_reset_mid_answer_is_worded_for_a_user():
    with HostileServer() as server:
        server.always(Reply(200, body=completion("chatcmpl-x"), reset_after=10))
        done = run("Get-ChatCompletion", "chatcmpl-x", "-ApiBase", server.base_url)
    assert done.returncode != 0
    assert f"127.0.0.1:{server.port}" in done.stderr and "closed" in done.stderr
    assert_user_worded(done.stdout + done.stderr)


URL = "https://api.openai.com/v1/chat/completions/chatcmpl-x"
NO_CONNECTION: Any = None  # the connection object urllib3 names in its text: not needed here
NO_POOL: Any = None


def _chain(outer: Exception) -> requests.ConnectionError:
    """The exception requests raises: urllib3's retry error around ``outer``."""
    return requests.ConnectionError(u3.MaxRetryError(NO_POOL, "/v1/chat/completions/x", outer))


def _cause(error: Exception, cause: BaseException) -> Exception:
    error.__cause__ = cause
    return error


TABLE = [
    (
        _chain(u3.NameResolutionError("api.openai.com", NO_CONNECTION, socket.gaierror(-2, "Name unknown"))),
        "cannot resolve the host name api.openai.com",
    ),
    (
        _chain(
            _cause(
                u3.NewConnectionError(NO_CONNECTION, "x"), ConnectionRefusedError(111, "Connection refused")
            )
        ),
        "cannot connect to api.openai.com:443 (connection refused)",
    ),
    (
        _chain(_cause(u3.NewConnectionError(NO_CONNECTION, "x"), OSError(101, "Network is unreachable"))),
        "cannot connect to api.openai.com:443 (network is unreachable)",
    ),
    (
        _chain(u3.ConnectTimeoutError(None, "timed out")),
        "cannot connect to api.openai.com:443 (timed out)",
    ),
    (
        _chain(
            u3.SSLError(ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate"))
        ),
        "the TLS handshake with api.openai.com:443 failed"
        " (certificate verify failed: self-signed certificate)",
    ),
    (
        _chain(u3.ProxyError("Unable to connect to proxy", OSError(111, "Connection refused"))),
        "cannot connect through the proxy to api.openai.com:443 (connection refused)",
    ),
    (
        u3.ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer")),
        "the connection to api.openai.com:443 was closed before the answer was complete"
        " (connection reset by peer)",
    ),
    (
        requests.ConnectionError(
            u3.ProtocolError("Connection aborted.", ConnectionError("Remote end closed"))
        ),
        "the connection to api.openai.com:443 was closed before the answer was complete",
    ),
    (requests.ConnectionError("something new"), "the connection to api.openai.com:443 failed"),
]


@pytest.mark.parametrize(("error", "words"), TABLE, ids=[w.split(" (")[0] for _, w in TABLE])
def test_the_words_for_each_failure(error, words):
    failure = connection_failure(error, URL)
    assert isinstance(failure, APIConnectionException)
    assert str(failure) == f"The request could not be completed: {words}."
    assert_user_worded(str(failure))


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("http://[::1]:8080/v1/x", "[::1]:8080"),
        ("http://example.test/v1", "example.test:80"),
        (f"https://user:{KEY}@example.test:8443/v1", "example.test:8443"),
    ],
)
def test_the_place_is_host_and_port_without_user_info(url, where):
    assert f"cannot connect to {where} (" in str(
        connection_failure(
            _chain(_cause(u3.NewConnectionError(NO_CONNECTION, "x"), ConnectionRefusedError(111, "r"))), url
        )
    )


def test_tls_spoken_to_a_plain_http_server_is_a_failed_handshake():
    with HostileServer() as server:
        server.always(Reply(200, body=completion("chatcmpl-x")))
        done = run("Get-ChatCompletion", "chatcmpl-x", "-ApiBase", f"https://127.0.0.1:{server.port}/v1")
    assert done.returncode != 0
    assert f"the TLS handshake with 127.0.0.1:{server.port} failed (" in done.stderr
    assert_user_worded(done.stdout + done.stderr)


def test_a_stream_cut_off_part_way_says_so_in_a_users_words():
    from tests.sse_server import SSEServer, Stream, chunk, event

    with SSEServer() as server:
        server.always(Stream([event(chunk("a")), event(chunk("b"))], then="reset"))
        done = run("Request-ChatCompletion", "hi", "-Model", "gpt-4o", "-Stream", "-ApiBase", server.base_url)
        port = server.base_url.split(":")[2].split("/")[0]
    assert done.returncode != 0
    assert "stream was cut off after 2 chunks: the connection to 127.0.0.1:" in done.stderr, done.stderr
    assert f"127.0.0.1:{port}" in done.stderr
    assert_user_worded(done.stdout + done.stderr)
