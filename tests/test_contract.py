"""Contract tests: Stoplight Prism in proxy mode with --errors sits between the client and the
emulator and checks every request we send and every response the emulator gives against
OpenAI's OpenAPI description (contract/openapi.chat-completions.yaml, cut from upstream by
contract/cut_openapi.py).  A violation comes back as Prism's own 422 (request) or 500
(response) problem document, which fails the test with Prism's message.

Prism (npm @stoplight/prism-cli, pinned in contract/package-lock.json) is installed by the README's
test command (``python contract/install_prism.py``, which runs ``npm ci --prefix contract``);
where it is missing these tests are skipped with that instruction (and fail under CI).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import psopenai_py
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.errors import APIRequestException
from psopenai_py.transport import RequestOptions, Transport

from .openapi import SPEC_PATH

ROOT = Path(__file__).resolve().parents[1]
PRISM = Path(
    os.environ.get(
        "PSOPENAI_PRISM", ROOT / "contract/node_modules/.bin" / ("prism.cmd" if os.name == "nt" else "prism")
    )
)
KEY = "sk-contract-0000000000000000000000"
START_TIMEOUT = 120.0
# The published schema allows only role "assistant" in a stored-messages page, while the live API
# returns the stored input messages with their own roles (user, system, developer).
KNOWN_SCHEMA_GAP = {"location": "role", "code": "enum"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def upstream() -> Iterator[Emulator]:
    with Emulator(seed=11) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def prism(upstream: Emulator) -> Iterator[str]:
    """Prism's base URL (paths without /v1, as the spec has them), started once per run."""
    if not PRISM.exists() or shutil.which("node") is None:
        message = f"Prism not installed at {PRISM} (run: python contract/install_prism.py)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    log = open(os.devnull, "w")  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        [
            str(PRISM),
            "proxy",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            str(SPEC_PATH),
            f"http://127.0.0.1:{upstream.port}",
            "--errors",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"Prism exited with status {process.returncode} while starting")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail(f"Prism did not start within {START_TIMEOUT:.0f} s")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def through_prism(prism: str, upstream: Emulator, transport) -> Emulator:
    upstream.reset()
    psopenai_py.set_openai_context(api_base=prism, api_key=KEY)
    return upstream


def violations(exc: APIRequestException) -> list[dict[str, Any]]:
    content = exc.content if isinstance(exc.content, dict) else {}
    return list(content.get("validation") or [])


def prism_message(exc: APIRequestException) -> str:
    return json.dumps(exc.content, indent=1) if exc.content else str(exc)


def checked(call: Any) -> Any:
    """Run a client call through Prism; a violation fails the test with Prism's words."""
    try:
        return call()
    except APIRequestException as exc:
        if exc.status_code in (422, 500) and violations(exc):
            pytest.fail(f"Prism reports a contract violation:\n{prism_message(exc)}")
        raise


def test_create_with_store_and_metadata(through_prism):
    reply = checked(
        lambda: psopenai_py.request_chat_completion(
            "Summarise ticket 4711",
            system_message="be brief",
            store=True,
            metadata={"team": "support"},
            temperature=0.2,
            max_completion_tokens=50,
        )
    )
    assert through_prism.store.get(reply.id)["metadata"] == {"team": "support"}


def test_update(through_prism, stored_upstream):
    updated = checked(lambda: psopenai_py.set_chat_completion(stored_upstream, {"k": "v"}))
    assert updated.metadata.to_dict() == {"k": "v"}
    cleared = checked(lambda: psopenai_py.set_chat_completion(stored_upstream, {}))
    assert cleared.metadata.to_dict() == {}


def test_get(through_prism, stored_upstream):
    got = checked(lambda: psopenai_py.get_chat_completion(stored_upstream, no_history=True))
    assert got.id == stored_upstream


def test_list_with_filters_and_paging(through_prism):
    through_prism.store.seed(120, prefix="chatcmpl-c-", model="m1", metadata={"team": "ops"})
    through_prism.store.seed(3, prefix="chatcmpl-d-", model="m2", metadata={"team": "dev"})
    everything = checked(
        lambda: psopenai_py.get_chat_completion(
            all_pages=True, metadata={"team": "ops"}, model="m1", no_history=True
        )
    )
    assert len(everything) == 120 and len(through_prism.requests) == 2
    page = checked(
        lambda: psopenai_py.get_chat_completion(
            limit=5, order="desc", after="chatcmpl-c-000100", no_history=True
        )
    )
    assert [c.id for c in page] == [f"chatcmpl-c-0000{n}" for n in range(99, 94, -1)]


def test_delete(through_prism, stored_upstream):
    checked(lambda: psopenai_py.remove_chat_completion(stored_upstream))
    assert through_prism.store.get(stored_upstream) is None


def test_messages_match_but_for_the_known_role_gap(through_prism):
    created = through_prism.store.create(model="m", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(APIRequestException) as caught:
        psopenai_py.get_chat_completion_message(created["id"], all_pages=True)
    found = violations(caught.value)
    assert found, prism_message(caught.value)
    for violation in found:
        assert violation["location"][-1] == KNOWN_SCHEMA_GAP["location"], prism_message(caught.value)
        assert violation["code"] == KNOWN_SCHEMA_GAP["code"], prism_message(caught.value)
    # A completion whose stored messages are all assistant turns passes unchanged.
    assistant_only = through_prism.store.create(
        model="m", messages=[{"role": "assistant", "content": "earlier reply"}]
    )
    messages = checked(lambda: psopenai_py.get_chat_completion_message(assistant_only["id"]))
    assert [m.content for m in messages] == ["earlier reply"]


def test_a_request_without_metadata_is_caught(through_prism, stored_upstream, prism):
    # Bypass the client's own checks: send the update with an empty body.
    settings = psopenai_py.settings.resolve_settings(psopenai_py.settings.SettingsRequest())
    with pytest.raises(APIRequestException) as caught:
        Transport().request(
            settings, "POST", f"chat/completions/{stored_upstream}", body={}, options=RequestOptions()
        )
    assert caught.value.status_code == 422
    assert any("must have required property 'metadata'" in v["message"] for v in violations(caught.value)), (
        prism_message(caught.value)
    )
    assert through_prism.requests == []  # Prism stopped it before the emulator


def test_a_wrong_response_is_caught(through_prism, stored_upstream):
    through_prism.inject(Fault(status=200, body={"id": stored_upstream, "object": "chat.completion"}))
    with pytest.raises(APIRequestException) as caught:
        psopenai_py.get_chat_completion(stored_upstream, no_history=True)
    assert caught.value.status_code == 500
    assert any("choices" in v["message"] for v in violations(caught.value)), prism_message(caught.value)


@pytest.fixture
def stored_upstream(through_prism: Emulator) -> str:
    created = through_prism.store.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}], metadata={"team": "ops"}
    )
    return str(created["id"])


# -- the openai CLI dialect and the SDK-shaped client send the same contract-valid requests -------


def dialect(prism: str, *argv: str) -> str:
    """Run one dialect command line through Prism; any failure shows Prism's answer."""
    import io

    from psopenai_py.openai_cli import main as dialect_main

    out, err = io.StringIO(), io.StringIO()
    # The defaults first: a flag repeated later on the line wins.
    status = dialect_main(
        [
            "--base-url",
            prism,
            "--api-key",
            KEY,
            "--format",
            "json",
            "--format-error",
            "json",
            "--max-retries",
            "0",
            *argv,
        ],
        stdout=out,
        stderr=err,
    )
    assert status == 0, f"Prism or the emulator refused it:\n{err.getvalue()}{out.getvalue()}"
    return out.getvalue()


def test_dialect_update_retrieve_delete(through_prism, stored_upstream, prism):
    updated = json.loads(
        dialect(
            prism,
            "chat:completions",
            "update",
            "--completion-id",
            stored_upstream,
            "--metadata",
            "{foo: string}",
        )
    )
    assert updated["metadata"] == {"foo": "string"}
    cleared = json.loads(dialect(prism, "chat", "completions", "update", stored_upstream, "--metadata", "{}"))
    assert cleared["metadata"] == {}
    got = json.loads(dialect(prism, "chat:completions", "retrieve", stored_upstream))
    assert got["id"] == stored_upstream
    deleted = json.loads(dialect(prism, "chat:completions", "delete", stored_upstream))
    assert deleted == {"object": "chat.completion.deleted", "id": stored_upstream, "deleted": True}
    assert [r.method for r in through_prism.requests] == ["POST", "POST", "GET", "DELETE"]


def test_dialect_list_with_filters_and_paging(through_prism, prism):
    through_prism.store.seed(5, prefix="chatcmpl-q-", model="m1", metadata={"team": "ops"})
    through_prism.store.seed(2, prefix="chatcmpl-r-", model="m2", metadata={"team": "dev"})
    text = dialect(
        prism,
        "chat:completions",
        "list",
        "--metadata",
        "{team: ops}",
        "--model",
        "m1",
        "--limit",
        "2",
        "--order",
        "desc",
        "--format",
        "jsonl",
    )
    assert [json.loads(line)["id"] for line in text.splitlines()] == [
        f"chatcmpl-q-00000{n}" for n in range(4, -1, -1)
    ]
    assert len(through_prism.requests) == 3


def test_sdk_shaped_client_calls(through_prism, stored_upstream, prism):
    client = psopenai_py.OpenAI(api_key=KEY, base_url=prism, max_retries=0)
    completions = client.chat.completions
    assert checked(lambda: completions.update(stored_upstream, metadata={"k": "v"})).metadata == {"k": "v"}
    assert checked(lambda: completions.retrieve(stored_upstream)).id == stored_upstream
    assert [c.id for c in checked(lambda: list(completions.list(limit=1, metadata={"k": "v"})))] == [
        stored_upstream
    ]
    created = checked(
        lambda: completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            store=True,
            metadata={"team": "support"},
        )
    )
    assert checked(lambda: completions.delete(created.id)).deleted is True


def test_merge_journal_restore_and_export(through_prism, stored_upstream, tmp_path):
    journal = tmp_path / "j.jsonl"
    merged = checked(
        lambda: psopenai_py.set_chat_completion(stored_upstream, {"k": "v"}, merge=True, journal=str(journal))
    )
    assert merged.metadata.to_dict() == {"team": "ops", "k": "v"}
    restored = checked(lambda: psopenai_py.restore_chat_completion_metadata(str(journal)))
    assert [r.metadata.to_dict() for r in restored] == [{"team": "ops"}]
    through_prism.store.seed(150, prefix="chatcmpl-e-")
    receipt = checked(lambda: psopenai_py.export_chat_completion(str(tmp_path / "e.jsonl"), order="desc"))
    assert receipt.count == 151
