"""The emulator speaks the stored-completions API: shapes from OpenAI's OpenAPI description,
statuses, paging and filters, over plain HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from psopenai_py.emulator import Emulator, Fault

from .openapi import validate

AUTH = {"Authorization": "Bearer sk-emulator-test"}


def api(emulator: Emulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("headers", AUTH)
    return requests.request(method, emulator.url + path, timeout=5, **kwargs)


def create(emulator: Emulator, **body: Any) -> dict[str, Any]:
    body.setdefault("model", "gpt-4o-mini")
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    body.setdefault("store", True)
    answer = api(emulator, "POST", "/chat/completions", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_create_get_update_delete_match_the_schema(emulator):
    created = create(emulator, metadata={"a": "1"})
    validate("CreateChatCompletionResponse", created)
    assert created["object"] == "chat.completion"
    got = api(emulator, "GET", f"/chat/completions/{created['id']}").json()
    validate("CreateChatCompletionResponse", got)
    assert got == created
    updated = api(
        emulator, "POST", f"/chat/completions/{created['id']}", json={"metadata": {"b": "2"}}
    ).json()
    validate("CreateChatCompletionResponse", updated)
    assert updated["metadata"] == {"b": "2"}
    deleted = api(emulator, "DELETE", f"/chat/completions/{created['id']}").json()
    validate("ChatCompletionDeleted", deleted)
    assert deleted == {"object": "chat.completion.deleted", "id": created["id"], "deleted": True}
    assert api(emulator, "GET", f"/chat/completions/{created['id']}").status_code == 404


def test_not_stored_without_store_true(emulator):
    create(emulator, store=False)
    assert len(emulator.store) == 0


def test_list_paging_and_filters(emulator):
    ids = [
        create(emulator, model="m1" if i % 2 else "m2", metadata={"batch": "x" if i < 5 else "y"})["id"]
        for i in range(7)
    ]
    first = api(emulator, "GET", "/chat/completions", params={"limit": 3}).json()
    validate("ChatCompletionList", first)
    assert [c["id"] for c in first["data"]] == ids[:3]
    assert (first["first_id"], first["last_id"], first["has_more"]) == (ids[0], ids[2], True)
    rest = api(emulator, "GET", "/chat/completions", params={"limit": 100, "after": first["last_id"]}).json()
    assert [c["id"] for c in rest["data"]] == ids[3:] and rest["has_more"] is False
    desc = api(emulator, "GET", "/chat/completions", params={"order": "desc", "limit": 2}).json()
    assert [c["id"] for c in desc["data"]] == [ids[6], ids[5]]
    by_model = api(emulator, "GET", "/chat/completions", params={"model": "m1"}).json()
    assert [c["id"] for c in by_model["data"]] == ids[1::2]
    by_meta = api(emulator, "GET", "/chat/completions?metadata%5Bbatch%5D=y").json()
    assert [c["id"] for c in by_meta["data"]] == ids[5:]
    empty = api(emulator, "GET", "/chat/completions", params={"model": "none"}).json()
    validate("ChatCompletionList", empty)
    assert empty["data"] == [] and empty["has_more"] is False


def test_messages_paged(emulator):
    created = create(
        emulator,
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "user", "content": "again"},
        ],
    )
    page = api(emulator, "GET", f"/chat/completions/{created['id']}/messages", params={"limit": 2}).json()
    assert [m["content"] for m in page["data"]] == ["be brief", "hi"]
    assert page["has_more"] is True
    assert all({"id", "role", "content", "refusal", "content_parts"} <= set(m) for m in page["data"])
    assert [m["role"] for m in page["data"]] == ["system", "user"]
    # The published schema allows only role "assistant" here, but the live API returns the
    # stored input messages with their own roles; everything else must match the schema.
    validate(
        "ChatCompletionMessageList", {**page, "data": [{**m, "role": "assistant"} for m in page["data"]]}
    )
    after = api(
        emulator, "GET", f"/chat/completions/{created['id']}/messages", params={"after": page["last_id"]}
    ).json()
    assert [m["content"] for m in after["data"]] == ["again"]


@pytest.mark.parametrize(
    "method,path,kwargs,status,code",
    [
        (
            "POST",
            "/chat/completions/{id}",
            {"json": {"metadata": {f"k{i}": "v" for i in range(17)}}},
            400,
            "object_above_max_properties",
        ),
        (
            "POST",
            "/chat/completions/{id}",
            {"json": {"metadata": {"k" * 65: "v"}}},
            400,
            "string_above_max_length",
        ),
        (
            "POST",
            "/chat/completions/{id}",
            {"json": {"metadata": {"k": "v" * 513}}},
            400,
            "string_above_max_length",
        ),
        ("POST", "/chat/completions/{id}", {"json": {"metadata": {"k": 1}}}, 400, "invalid_type"),
        ("POST", "/chat/completions/{id}", {"json": {}}, 400, "missing_required_parameter"),
        ("POST", "/chat/completions/{id}", {"data": b"{nope"}, 400, None),
        ("GET", "/chat/completions/chatcmpl-none", {}, 404, "not_found"),
        ("DELETE", "/chat/completions/chatcmpl-none", {}, 404, "not_found"),
        ("GET", "/chat/completions/chatcmpl-none/messages", {}, 404, "not_found"),
        ("GET", "/chat/completions", {"params": {"limit": 101}}, 400, "integer_out_of_range"),
        ("GET", "/chat/completions", {"params": {"order": "up"}}, 400, "invalid_value"),
        ("POST", "/chat/completions/{id}", {"headers": {}, "json": {"metadata": {}}}, 401, None),
    ],
)
def test_errors_in_openai_shape(emulator, method, path, kwargs, status, code):
    ident = create(emulator)["id"]
    answer = api(emulator, method, path.format(id=ident), **kwargs)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert answer.headers["x-request-id"].startswith("req_")
    assert int(answer.headers["openai-processing-ms"]) >= 0


def test_faults_apply_in_order_then_expire(emulator):
    ident = create(emulator)["id"]
    emulator.inject(
        Fault(status=503, times=2, headers={"retry-after": "1"}), Fault(status=200, raw_body="plain text")
    )
    answers = [api(emulator, "GET", f"/chat/completions/{ident}") for _ in range(4)]
    assert [a.status_code for a in answers] == [503, 503, 200, 200]
    assert answers[0].headers["retry-after"] == "1"
    assert answers[2].text == "plain text"
    assert answers[3].json()["id"] == ident


def test_fault_matching_by_method_and_path(emulator):
    ident = create(emulator)["id"]
    emulator.inject(Fault(status=500, method="DELETE"))
    assert api(emulator, "GET", f"/chat/completions/{ident}").status_code == 200
    assert api(emulator, "DELETE", f"/chat/completions/{ident}").status_code == 500


def test_records_and_counts_connections(emulator):
    with requests.Session() as session:
        for _ in range(3):
            session.get(emulator.url + "/chat/completions", headers=AUTH, timeout=5)
    requests.get(emulator.url + "/chat/completions", headers=AUTH, timeout=5)
    assert emulator.connections == 2
    assert [r.connection for r in emulator.requests] == [1, 1, 1, 2]
    assert emulator.requests[0].request_line == "GET /v1/chat/completions HTTP/1.1"


def test_latency_is_added(emulator):
    import time

    emulator.latency_ms = 150
    started = time.perf_counter()
    api(emulator, "GET", "/chat/completions")
    assert time.perf_counter() - started >= 0.15


def test_command_line_emulator_serves(tmp_path):
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py.emulator", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("psopenai emulator listening on http://127.0.0.1:")
        base = line.rsplit(" ", 1)[1].strip()
        answer = requests.get(base + "/chat/completions", headers=AUTH, timeout=5)
        assert answer.json()["object"] == "list"
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize(
    "method,action,body,expected",
    [
        ("POST", "faults", [], {"faults": 0}),
        ("GET", "requests", None, []),
        ("POST", "seed", {"count": 2}, {"seeded": 2}),
        ("POST", "latency", {"ms": 0}, {"latency_ms": 0}),
        ("POST", "reset", None, {"reset": True}),
    ],
)
def test_each_control_action_answers_its_own_method_alone(emulator, method, action, body, expected):
    control = f"http://127.0.0.1:{emulator.port}/__emulator/{action}"
    answer = requests.request(method, control, json=body, timeout=5)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got == expected if isinstance(got, list) else expected.items() <= got.items()
    other = "GET" if method == "POST" else "POST"
    wrong = requests.request(other, control, timeout=5)
    assert wrong.status_code == 404
    assert wrong.json()["error"]["code"] == "unknown_control_action"


def test_a_request_that_asks_to_close_gets_connection_close_and_the_pool_recovers(
    emulator, stored, transport
):
    # A client that sends Connection: close is told so in the answer (HTTP/1.1 requires it);
    # otherwise a pooled client reuses a connection the server is about to close, and its next
    # request fails with a reset.
    import psopenai_py

    with requests.Session() as session:
        answer = session.get(
            f"{emulator.url}/chat/completions/{stored}", headers={**AUTH, "Connection": "close"}
        )
        assert answer.status_code == 200
        assert answer.headers.get("Connection", "").lower() == "close"
    for _ in range(3):  # the default transport's one pool (the fixture's): a new connection each time
        done = psopenai_py.set_chat_completion(
            stored,
            {"k": "v"},
            api_base=emulator.url,
            api_key="sk-emulator-test",
            additional_headers={"Connection": "close"},
        )
        assert done.Metadata == {"k": "v"}
    assert len({r.connection for r in emulator.requests[-3:]}) == 3
