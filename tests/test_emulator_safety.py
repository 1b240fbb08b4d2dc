"""The emulator as a safe local server, over real sockets: credentials masked in what leaves it,
the control API behind --api-key, bounded bodies, seeds, stores and records, idle and header
timeouts, a JSON error and one log line (never a traceback) for every malformed request, and a
bounded thread count under 1,000 idle connections."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from psopenai_py.emulator import Emulator, Limits
from psopenai_py.emulator.protocol import mask_key

from .conftest import CANARY_KEY

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = Limits(idle_timeout=0.5, header_timeout=1.0)
COMPLETIONS = "/v1/chat/completions"


def _canary_fragments(text: str) -> list[str]:
    """Every 8-character piece of the canary key found in ``text``."""
    return [CANARY_KEY[i : i + 8] for i in range(len(CANARY_KEY) - 7) if CANARY_KEY[i : i + 8] in text]


@pytest.fixture
def fast() -> Iterator[Emulator]:
    """A fresh emulator with short timeouts, so timeout tests take about a second."""
    with Emulator(seed=3, limits=FAST) as emulator:
        yield emulator


def exchange(port: int, raw: bytes, *, timeout: float = 5.0) -> bytes:
    """Send raw bytes, then read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def parse(response: bytes) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body of one HTTP response."""
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return status, headers, json.loads(body)


def body_complete(response: bytes) -> bool:
    """Whether a response holds its whole body, by its Content-Length."""
    head, _, body = response.partition(b"\r\n\r\n")
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return len(body) >= int(value)
    return True


def assert_api_error(payload: Any) -> str:
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"message", "type", "param", "code"}
    return str(payload["error"]["message"])


# -- credentials ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [CANARY_KEY, "sk-short", "x" * 40])
def test_mask_key_shows_at_most_seven_characters(key):
    masked = mask_key(key)
    assert "****" in masked and sum(c != "*" for c in masked) <= 7
    assert key not in masked


def test_the_control_api_never_returns_a_recorded_key(emulator):
    root = f"http://127.0.0.1:{emulator.port}"
    requests.get(
        emulator.url + "/chat/completions", timeout=5, headers={"Authorization": f"Bearer {CANARY_KEY}"}
    )
    requests.get(emulator.url + "/chat/completions", timeout=5, headers={"api-key": CANARY_KEY})
    answer = requests.get(f"{root}/__emulator/requests", timeout=5)
    assert answer.status_code == 200
    assert _canary_fragments(answer.text) == []
    headers = [dict(record["headers"]) for record in answer.json()]
    assert headers[0]["Authorization"] == "Bearer " + mask_key(CANARY_KEY) == "Bearer sk-****wXyZ"
    assert headers[1]["api-key"] == mask_key(CANARY_KEY)
    # The in-process records keep what arrived, for tests of what a client sent.
    assert emulator.requests[0].header("Authorization") == f"Bearer {CANARY_KEY}"


def test_with_an_api_key_the_control_api_requires_it(emulator):
    emulator.server.api_key = CANARY_KEY
    root = f"http://127.0.0.1:{emulator.port}/__emulator"
    for headers in ({}, {"Authorization": "Bearer sk-wrong-0000000000000000"}):
        for method, action in (("GET", "requests"), ("GET", "stats"), ("POST", "reset"), ("POST", "seed")):
            answer = requests.request(method, f"{root}/{action}", headers=headers, timeout=5)
            assert answer.status_code == 401, (action, headers)
            assert_api_error(answer.json())
            assert "sk-wrong-0000" not in answer.text
    assert len(emulator.store) == 0  # the refused seed stored nothing
    good = {"Authorization": f"Bearer {CANARY_KEY}"}
    assert requests.post(f"{root}/seed", json={"count": 2}, headers=good, timeout=5).json()["seeded"] == 2
    stats = requests.get(f"{root}/stats", headers={"api-key": CANARY_KEY}, timeout=5)
    assert stats.status_code == 200 and stats.json()["stored"] == 2


# -- limits ---------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_without_being_read(fast):
    # Only the headers are sent: the answer comes at once, before any body byte.
    started = time.monotonic()
    raw = (
        f"POST {COMPLETIONS} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-x\r\n"
        f"Content-Type: application/json\r\nContent-Length: {2 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", fast.port), timeout=5) as sock:
        sock.sendall(raw.encode())
        response = b""
        while b"}}" not in response:  # the whole JSON error, while the body is still owed
            chunk = sock.recv(65536)
            assert chunk, response
            response += chunk
        elapsed = time.monotonic() - started
    status, headers, payload = parse(response)
    assert status == 413 and elapsed < 0.5
    assert "2097152 bytes; the limit is 1048576 bytes" in assert_api_error(payload)
    assert headers["connection"] == "close"
    assert fast.requests == []


def test_a_client_sending_a_big_body_sees_the_413(fast):
    answer = requests.post(
        fast.url + "/chat/completions",
        data=b"x" * (3 * 1024 * 1024),
        headers={"Authorization": "Bearer sk-x"},
        timeout=10,
    )
    assert answer.status_code == 413
    assert "the limit is 1048576 bytes" in assert_api_error(answer.json())
    # A body at the limit is read and answered as usual.
    answer = requests.post(
        fast.url + "/chat/completions",
        data=b" " * (1024 * 1024),
        headers={"Authorization": "Bearer sk-x"},
        timeout=10,
    )
    assert answer.status_code == 400 and "parse the JSON" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    "body,needle",
    [
        ({"count": 100_001}, "Invalid 'count': expected an integer from 0 to 100000, but got 100001"),
        ({"count": "10"}, "Invalid 'count': expected an integer from 0 to 100000"),
        ({"count": -1}, "but got -1 instead"),
        ({"count": True}, "but got true instead"),
        ({"count": 1, "prefix": 7}, "Invalid 'prefix': expected a string"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_seed_count_is_bounded(emulator, body, needle):
    answer = requests.post(f"http://127.0.0.1:{emulator.port}/__emulator/seed", json=body, timeout=5)
    assert answer.status_code == 400
    assert needle in assert_api_error(answer.json())
    assert len(emulator.store) == 0


def test_the_store_is_bounded():
    with Emulator(limits=Limits(max_stored=5)) as small:
        control = f"http://127.0.0.1:{small.port}/__emulator/seed"
        assert requests.post(control, json={"count": 4}, timeout=5).json()["seeded"] == 4
        refused = requests.post(control, json={"count": 2, "prefix": "p-"}, timeout=5)
        assert refused.status_code == 400
        assert len(small.store) == 4  # all or nothing
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "store": True}
        auth = {"Authorization": "Bearer sk-x"}
        url = small.url + "/chat/completions"
        assert requests.post(url, json=body, headers=auth, timeout=5).status_code == 200
        full = requests.post(url, json=body, headers=auth, timeout=5)
        assert full.status_code == 400 and full.json()["error"]["code"] == "emulator_store_full"
        assert "at most 5 completions" in full.json()["error"]["message"]
        # Not storing still works when the store is full.
        assert requests.post(url, json={**body, "store": False}, headers=auth, timeout=5).status_code == 200
        assert len(small.store) == 5


def test_records_are_bounded_oldest_dropped():
    with Emulator(limits=Limits(max_records=3)) as small:
        for n in range(5):
            requests.get(
                small.url + f"/chat/completions?limit={n + 1}",
                timeout=5,
                headers={"Authorization": "Bearer sk-x"},
            )
        assert [r.target.rsplit("=", 1)[1] for r in small.requests] == ["3", "4", "5"]
        stats = requests.get(f"http://127.0.0.1:{small.port}/__emulator/stats", timeout=5).json()
        assert stats["requests"] == 3 and stats["records_dropped"] == 2


# -- timeouts -------------------------------------------------------------------------------------


def test_a_silent_connection_is_closed_after_the_idle_timeout(fast):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", fast.port), timeout=5) as sock:
        assert sock.recv(1024) == b""  # closed, with nothing said
    assert 0.4 <= time.monotonic() - started < 2.0


def test_dripped_headers_get_408_at_the_header_timeout(fast):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", fast.port), timeout=5) as sock:
        sock.sendall(f"GET {COMPLETIONS} HTTP/1.1\r\n".encode())
        response = b""
        # One byte every 0.2 s: each read is within the idle timeout, the head never ends.
        for _ in range(50):
            try:
                sock.sendall(b"X")
            except OSError:
                break
            sock.settimeout(0.2)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
            response += chunk
            if not chunk or b"\r\n\r\n" in response:
                break
        elapsed = time.monotonic() - started
        # The body may come in a later packet than the head: read it to its Content-Length.
        sock.settimeout(2)
        while b"\r\n\r\n" in response and not body_complete(response):
            chunk = sock.recv(65536)
            if not chunk:
                break
            response += chunk
    assert 0.9 <= elapsed < 2.0
    status, _, payload = parse(response)
    assert status == 408 and "within 1 s" in assert_api_error(payload)


def test_a_stalled_body_gets_408(fast):
    raw = (
        f"POST {COMPLETIONS} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-x\r\n"
        "Content-Length: 100\r\n\r\n{"
    ).encode()
    started = time.monotonic()
    status, _, payload = parse(exchange(fast.port, raw))
    assert status == 408 and time.monotonic() - started < 2.0
    assert_api_error(payload)
    assert fast.requests == []


# -- malformed requests ---------------------------------------------------------------------------

MALFORMED = [
    (b"GARBAGE\r\n\r\n", 400, "Bad request syntax"),
    (b"\r\n", 400, "Empty request line"),
    (b"GET /v1/chat/completions\r\n\r\n", 400, "HTTP/0.9"),
    (b"GET /v1/chat/completions HTTP/9.9\r\n\r\n", 505, "Invalid HTTP version"),
    (b"GET /v1/chat/completions HTTP/x\r\n\r\n", 400, "Bad request version"),
    (b"BREW /v1/chat/completions HTTP/1.1\r\n\r\n", 501, "Unsupported method"),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414, "Request line too long"),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431, "Line too long"),
    (
        b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        400,
        "Invalid Content-Length header (abc)",
    ),
    (b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Invalid Content-Length"),
    (
        b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
        400,
        "Invalid Content-Length",
    ),
    (
        b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        411,
        "Transfer-Encoding is not supported",
    ),
]
API_ERRORS = [
    (b"{nope", 400, "could not parse the JSON body"),
    (b"\xff\xfe\xfa{}", 400, "could not parse the JSON body"),
    (b'"just a string"', 400, "must be a JSON object"),
    (b"[" * 600_000 + b"]" * 600_000, 413, "Request body too large"),
    (b"[" * 50_000 + b"]" * 50_000, 400, "could not parse the JSON body"),
]


def _request(method: str, path: str, body: bytes = b"", auth: str = "Bearer sk-x") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


@pytest.mark.parametrize("raw,status,needle", MALFORMED, ids=[m[2] for m in MALFORMED])
def test_malformed_requests_get_a_json_error_and_one_log_line(fast, caplog, raw, status, needle):
    caplog.set_level(logging.INFO, logger="psopenai_py.emulator")
    got, headers, payload = parse(exchange(fast.port, raw))
    assert got == status
    assert needle in assert_api_error(payload)
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    lines = [r for r in caplog.records if r.name == "psopenai_py.emulator"]
    assert len(lines) == 1 and "\n" not in lines[0].getMessage()
    assert str(status) in lines[0].getMessage()


@pytest.mark.parametrize(
    "body,status,needle",
    API_ERRORS,
    ids=["invalid-json", "invalid-utf8", "string", "too-deep-and-large", "too-deep"],
)
def test_bad_bodies_get_a_json_error_and_one_log_line(fast, caplog, body, status, needle):
    caplog.set_level(logging.INFO, logger="psopenai_py.emulator")
    got, _, payload = parse(exchange(fast.port, _request("POST", COMPLETIONS, body)))
    assert (got, needle in assert_api_error(payload)) == (status, True)
    assert len([r for r in caplog.records if r.name == "psopenai_py.emulator"]) == 1


def test_control_api_bodies_are_checked_too(fast):
    for action, body in (
        ("faults", b"{nope"),
        ("faults", b'[{"nope": 1}]'),
        ("faults", b"{}"),
        ("seed", b"\xff"),
        ("latency", b'{"ms": "slow"}'),
        ("latency", b'{"ms": 10000000}'),
    ):
        got, _, payload = parse(exchange(fast.port, _request("POST", f"/__emulator/{action}", body)))
        assert got == 400, (action, body)
        assert_api_error(payload)
    got, _, payload = parse(exchange(fast.port, _request("GET", "/__emulator/nothing")))
    assert got == 404 and "Unknown control action" in assert_api_error(payload)


def test_the_command_line_emulator_logs_one_line_per_bad_request_and_no_traceback():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "psopenai_py",
            "emulator",
            "--port",
            "0",
            "--idle-timeout",
            "0.5",
            "--header-timeout",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().rsplit(":", 1)[1].split("/")[0])
        for raw, status, _ in MALFORMED:
            assert parse(exchange(port, raw))[0] == status
        for body, status, _ in API_ERRORS:
            assert parse(exchange(port, _request("POST", COMPLETIONS, body)))[0] == status
        unknown = [
            _request("GET", "/v2/else"),
            _request("PUT", COMPLETIONS),
            _request("GET", COMPLETIONS + "/a/b/c/d"),
        ]
        for raw in unknown:
            assert parse(exchange(port, raw))[0] in (400, 404, 405)
        assert parse(exchange(port, _request("GET", COMPLETIONS)))[0] == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    lines = stderr.splitlines()
    assert "Traceback" not in stderr
    assert len(lines) == len(MALFORMED) + len(API_ERRORS) + len(unknown), stderr
    assert all(line.startswith("psopenai emulator: 127.0.0.1:") for line in lines)
    assert _canary_fragments(stderr) == []


# -- the command line -----------------------------------------------------------------------------


def test_psopenai_emulator_help_names_itself():
    result = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: psopenai emulator ")
    assert "--idle-timeout" in result.stdout and "--max-body-bytes" in result.stdout


def test_a_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "psopenai_py", "emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PYTHONPATH": ROOT},
        )
    assert result.returncode == 2
    assert result.stderr == (f"psopenai emulator: cannot listen on 127.0.0.1:{port}: the port is in use\n")
    assert result.stdout == ""


def test_bad_limits_are_usage_errors():
    result = subprocess.run(
        [sys.executable, "-m", "psopenai_py.emulator", "--idle-timeout", "nan"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "usage: python -m psopenai_py.emulator" in result.stderr
    assert "--idle-timeout: expected a number above 0, got 'nan'" in result.stderr


# -- load -----------------------------------------------------------------------------------------

IDLE_CONNECTIONS = 1000
THREAD_BOUND = Limits().max_connections  # handler threads at once, whatever the load
MEMORY_BOUND_MB = 50


def _rss_mb() -> float | None:
    """Resident memory of this process, where the platform tells it."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        return None


def test_a_thousand_idle_connections_stay_within_the_thread_and_memory_bound():
    """1,000 connections opened and left idle: at most max_connections (128) handler threads
    exist at any moment, the rest are refused with a 503, the idle ones are closed after the
    idle timeout (0.5 s here), the threads go away, memory grows by under 50 MB, and the
    emulator still answers."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4096 and (hard == resource.RLIM_INFINITY or hard > soft):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard) if hard > 0 else 4096, hard))
    except (ImportError, ValueError, OSError):
        pass
    with Emulator(limits=FAST) as emulator:
        baseline = threading.active_count()
        rss_before = _rss_mb()
        peak = baseline
        sockets: list[socket.socket] = []
        try:
            for n in range(IDLE_CONNECTIONS):
                sockets.append(socket.create_connection(("127.0.0.1", emulator.port), timeout=5))
                if n % 25 == 0:
                    peak = max(peak, threading.active_count())
            peak = max(peak, threading.active_count())
            rss_after = _rss_mb()
            refused = closed = 0
            deadline = time.monotonic() + 10
            for sock in sockets:
                data = b""
                while time.monotonic() < deadline:
                    sock.settimeout(max(0.05, deadline - time.monotonic()))
                    try:
                        chunk = sock.recv(65536)
                    except ConnectionResetError:
                        chunk = b""
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"HTTP/1.1 503"):
                    refused += 1
                elif data == b"":
                    closed += 1
        finally:
            for sock in sockets:
                sock.close()
        assert refused + closed == IDLE_CONNECTIONS  # every one answered or closed in time
        assert peak - baseline <= THREAD_BOUND, (peak, baseline)
        for _ in range(100):
            if threading.active_count() <= baseline:
                break
            time.sleep(0.05)
        assert threading.active_count() <= baseline
        if rss_before is not None and rss_after is not None:
            assert rss_after - rss_before < MEMORY_BOUND_MB
        answer = requests.get(
            emulator.url + "/chat/completions", timeout=5, headers={"Authorization": "Bearer sk-x"}
        )
        assert answer.status_code == 200
        for _ in range(40):  # the last client's close reaches the server soon after
            stats = requests.get(f"http://127.0.0.1:{emulator.port}/__emulator/stats", timeout=5).json()
            if stats["open_connections"] == 1:
                break
            time.sleep(0.05)
        assert stats["refused_connections"] == refused
        assert stats["open_connections"] == 1  # the stats request itself
