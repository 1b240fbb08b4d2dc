"""The emulator refuses what a web page, a typo or a loop would send it: requests from another
origin or addressed to another host name (a page in a browser, DNS rebinding), seeds whose id
prefix or model name would cost memory without bound, and faults of the wrong types (which
otherwise made every later request a 500)."""

from __future__ import annotations

import json
import logging

import pytest
import requests

from psopenai_py.emulator import Emulator, Fault

KEY = "sk-refusals-000000000000000000000000"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _error(answer: requests.Response) -> str:
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return str(body["error"]["message"])


# -- other origins, other host names ------------------------------------------------------------------


@pytest.fixture
def stored(emulator: Emulator) -> str:
    return str(
        emulator.store.create(model="m", messages=[{"role": "user", "content": "hi"}], metadata={"a": "1"})[
            "id"
        ]
    )


FOREIGN = [
    "http://evil.example",
    "https://evil.example:443",
    "null",
    "http://127.0.0.1:1",
    "http://localhost:3000",
]


@pytest.mark.parametrize("origin", FOREIGN)
@pytest.mark.parametrize(
    "action,body",
    [
        ("reset", ""),
        ("faults", '[{"status": 500, "times": 1000}]'),
        ("seed", '{"count": 5}'),
        ("latency", '{"ms": 9}'),
    ],
)
def test_a_web_pages_post_to_the_control_api_is_refused(
    emulator: Emulator, stored: str, origin: str, action: str, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="psopenai_py.emulator")
    answer = requests.post(
        f"http://127.0.0.1:{emulator.port}/__emulator/{action}",
        data=body,
        headers={"Content-Type": "text/plain", "Origin": origin},  # a form or fetch() sends no preflight
        timeout=5,
    )
    assert answer.status_code == 403 and "Cross-origin" in _error(answer)
    # Nothing happened: the store, the faults and the latency are as they were.
    assert emulator.store.get(stored) is not None and len(emulator.store) == 1
    assert list(emulator.server.faults) == [] and emulator.latency_ms == 0
    assert len([r for r in caplog.records if "403" in r.getMessage()]) == 1


@pytest.mark.parametrize("origin", FOREIGN[:3])
def test_a_web_pages_request_to_the_api_is_refused(emulator: Emulator, stored: str, origin: str) -> None:
    base = f"http://127.0.0.1:{emulator.port}/v1/chat/completions"
    headers = {"Origin": origin, "Content-Type": "text/plain", **AUTH}
    posted = requests.post(
        f"{base}/{stored}", data='{"metadata": {"a": "pwned"}}', headers=headers, timeout=5
    )
    deleted = requests.delete(f"{base}/{stored}", headers=headers, timeout=5)
    listed = requests.get(base, headers=headers, timeout=5)
    assert [posted.status_code, deleted.status_code, listed.status_code] == [403, 403, 403]
    assert emulator.store.get(stored)["metadata"] == {"a": "1"}  # type: ignore[index]
    assert emulator.requests == []  # refused before it is recorded or answered


@pytest.mark.parametrize(
    "path",
    ["/__emulator/requests", "/__emulator/stats", "/v1/chat/completions"],
    ids=["records", "stats", "list"],
)
@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}"])
def test_a_request_to_another_host_name_is_refused(
    emulator: Emulator, stored: str, path: str, host: str
) -> None:
    # DNS rebinding: the page's own name now points at 127.0.0.1, so its requests are same-origin.
    answer = requests.get(
        f"http://127.0.0.1:{emulator.port}{path}",
        headers={"Host": host.format(port=emulator.port), **AUTH},
        timeout=5,
    )
    assert answer.status_code == 403 and "127.0.0.1 or localhost" in _error(answer)


def test_two_host_headers_are_refused(emulator: Emulator) -> None:
    import socket

    raw = (
        f"GET /__emulator/stats HTTP/1.1\r\nHost: 127.0.0.1:{emulator.port}\r\nHost: evil.example\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as sock:
        sock.sendall(raw)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    assert response.startswith(b"HTTP/1.1 403 ")


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a command-line tool or a library: no Origin
        {"Host": "localhost:{port}"},
        {"Host": "LOCALHOST:{port}"},
        {"Host": "127.0.0.1:9999"},  # through a forwarded port
        {"Host": "127.0.0.1"},
        {"Origin": "http://127.0.0.1:{port}"},  # a page the emulator itself would serve
        {"Host": "localhost:{port}", "Origin": "http://localhost:{port}"},
    ],
)
def test_local_clients_are_served(emulator: Emulator, stored: str, headers: dict[str, str]) -> None:
    sent = {name: value.format(port=emulator.port) for name, value in headers.items()}
    answer = requests.get(
        f"http://127.0.0.1:{emulator.port}/v1/chat/completions/{stored}", headers={**sent, **AUTH}, timeout=5
    )
    assert answer.status_code == 200 and answer.json()["id"] == stored
    stats = requests.get(f"http://127.0.0.1:{emulator.port}/__emulator/stats", headers=sent, timeout=5)
    assert stats.status_code == 200


def test_the_origin_is_checked_before_the_key(emulator: Emulator) -> None:
    emulator.server.api_key = KEY
    answer = requests.post(
        f"http://127.0.0.1:{emulator.port}/__emulator/reset",
        headers={"Origin": "http://evil.example", **AUTH},
        timeout=5,
    )
    assert answer.status_code == 403


# -- seed bounds ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,needle",
    [
        ({"count": 100, "prefix": "x" * 500_000}, "Invalid 'prefix': expected 0 to 64 printable characters"),
        ({"count": 1, "prefix": "x" * 65}, "got 65 characters"),
        ({"count": 1, "prefix": "chatcmpl/"}, "without '/'"),
        ({"count": 1, "prefix": "chat\ncmpl-"}, "Invalid 'prefix'"),
        ({"count": 1, "model": "m" * 257}, "Invalid 'model': expected 1 to 256 printable characters"),
        ({"count": 1, "model": ""}, "Invalid 'model'"),
        ({"count": 1, "model": ["gpt"]}, "Invalid 'model': expected a string"),
    ],
    ids=["a 500 kB prefix", "65 characters", "a slash", "a line break", "a long model", "no model", "a list"],
)
def test_a_seed_beyond_its_bounds_is_a_400_and_stores_nothing(
    emulator: Emulator, body: object, needle: str
) -> None:
    answer = requests.post(f"http://127.0.0.1:{emulator.port}/__emulator/seed", json=body, timeout=10)
    assert answer.status_code == 400
    assert needle in _error(answer)
    assert len(emulator.store) == 0


def test_a_seed_at_its_bounds_is_served(emulator: Emulator) -> None:
    prefix, model = "p" * 64, "m" * 256
    answer = requests.post(
        f"http://127.0.0.1:{emulator.port}/__emulator/seed",
        json={"count": 2, "prefix": prefix, "model": model},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.json() == {"seeded": 2, "first_id": prefix + "000000"}
    assert emulator.store.get(prefix + "000001")["model"] == model  # type: ignore[index]


# -- faults of the wrong types -----------------------------------------------------------------------------

BAD_FAULTS = {
    "times a string": {"times": "x"},
    "times 0": {"times": 0},
    "times a float": {"times": 1.5},
    "status a string": {"status": "500"},
    "status out of range": {"status": 42},
    "status a boolean": {"status": True},
    "delay negative": {"delay_ms": -1},
    "delay an hour": {"delay_ms": 3_600_000},
    "drop a string": {"drop": "yes"},
    "headers a list": {"headers": ["a"]},
    "a header value a number": {"status": 500, "headers": {"a": 1}},
    "a header with a line break": {"status": 500, "headers": {"a": "b\r\nSet-Cookie: x"}},
    "method a number": {"method": 5},
    "path_contains a list": {"path_contains": []},
    "raw_body an object": {"status": 200, "raw_body": {}},
    "an unknown field": {"stauts": 500},
}


@pytest.mark.parametrize("fault", list(BAD_FAULTS.values()), ids=list(BAD_FAULTS))
def test_a_bad_fault_is_a_400_and_later_requests_are_served(
    emulator: Emulator, stored: str, fault: object
) -> None:
    root = f"http://127.0.0.1:{emulator.port}"
    answer = requests.post(f"{root}/__emulator/faults", json=[{"status": 503}, fault], timeout=5)
    assert answer.status_code == 400 and "Invalid fault" in _error(answer)
    assert list(emulator.server.faults) == []  # all or none: the good one before it is not queued either
    for _ in range(3):
        got = requests.get(f"{root}/v1/chat/completions/{stored}", headers=AUTH, timeout=5)
        assert got.status_code == 200 and got.json()["id"] == stored


def test_a_fault_is_checked_when_it_is_made_in_process_too() -> None:
    with pytest.raises(ValueError, match="'times' must be an integer"):
        Fault(times="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'body' must be a JSON value"):
        Fault(status=200, body=float("nan"))


def test_good_faults_still_work(emulator: Emulator, stored: str) -> None:
    root = f"http://127.0.0.1:{emulator.port}"
    faults = [
        {"status": 503, "times": 2, "headers": {"retry-after": "1"}, "method": "GET", "path_contains": stored}
    ]
    assert requests.post(f"{root}/__emulator/faults", data=json.dumps(faults), timeout=5).json() == {
        "faults": 1
    }
    codes = [
        requests.get(f"{root}/v1/chat/completions/{stored}", headers=AUTH, timeout=5).status_code
        for _ in range(3)
    ]
    assert codes == [503, 503, 200]
