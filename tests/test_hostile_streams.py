"""Streamed answers from a hostile server: the key (raw or base64) in any field of any event,
events that are not JSON, non-UTF-8, streams cut short; through the SDK-shaped client (sync and
async) and the openai-CLI dialect.  No traceback, no run of 8 characters of the key in any form
reaches the user, and every failure is one clear error."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import psopenai_py

from .hostile_server import HostileServer, events

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-proj-HOSTILEkeyStreams7wX2mN9pL4vB8cR3tY6uI1o"
B64 = base64.b64encode(KEY.encode()).decode()
CHUNK = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": []}
MESSAGES = [{"role": "user", "content": "x"}]

STREAMS = {
    "the key in an error event": events({"error": {"message": f"bad key {KEY}"}}),
    "the key in base64 in an error event": events({"error": {"message": f"basic {B64}"}}),
    "the key as the event's name": events(f"event: {KEY}\ndata: {{}}\n\n"),
    "the key as the event's id": events(f"id: {KEY}\ndata: {{}}\n\n"),
    "the key in an event that is not JSON": events(f"data: {{{KEY}\n\n"),
    "base64 of the key in an event that is not JSON": events(f"data: {{{B64}\n\n"),
    "bytes that are not UTF-8": events(b'data: {"id": "\xff\xfe"}\n\n', CHUNK),
    "no end": events(CHUNK, done=False),
    "a reset": events(CHUNK, CHUNK, reset_after=40),
}


def leaks(text: str) -> list[str]:
    """8-character runs of the key (past what its masked form shows) or of its base64."""
    found = {KEY[i : i + 8] for i in range(11, len(KEY) - 7) if KEY[i : i + 8] in text}
    found |= {B64[i : i + 8] for i in range(12, len(B64) - 8) if B64[i : i + 8] in text}
    return sorted(found)


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


def shown(error: BaseException) -> str:
    return " ".join([str(error), repr(error), repr(getattr(error, "body", None))])


@pytest.mark.parametrize("case", list(STREAMS), ids=list(STREAMS))
def test_the_client_streams_without_leaking_or_crashing(server, case):
    server.reset()
    server.always(STREAMS[case])
    client = psopenai_py.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0, timeout=5)
    seen: list[str] = []
    try:
        for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            seen.append(repr(chunk))
    except psopenai_py.APIError as error:  # one of the SDK's errors, never anything else
        seen.append(shown(error))
    assert leaks(" ".join(seen)) == []


@pytest.mark.parametrize("case", list(STREAMS), ids=list(STREAMS))
def test_the_async_client_streams_without_leaking_or_crashing(server, case):
    server.reset()
    server.always(STREAMS[case])

    async def read() -> list[str]:
        client = psopenai_py.AsyncOpenAI(api_key=KEY, base_url=server.base_url, max_retries=0, timeout=5)
        seen: list[str] = []
        try:
            stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            async for chunk in stream:
                seen.append(repr(chunk))
        except psopenai_py.APIError as error:
            seen.append(shown(error))
        return seen

    assert leaks(" ".join(asyncio.run(read()))) == []


@pytest.mark.parametrize("case", list(STREAMS), ids=list(STREAMS))
def test_the_command_line_streams_without_leaking_or_crashing(server, case):
    server.reset()
    server.always(STREAMS[case])
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(
        OPENAI_API_KEY=KEY,
        OPENAI_BASE_URL=server.base_url,
        PYTHONPATH=str(ROOT),
        PYTHONIOENCODING="utf-8",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    line = ["chat:completions", "create", "--model", "m", "--message", "{role: user, content: x}"]
    result = subprocess.run(
        [sys.executable, "-m", "psopenai_py", *line, "--stream", "true", "--debug"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        cwd=ROOT,
    )
    assert "Traceback" not in result.stderr
    assert leaks(result.stdout + result.stderr) == []
    whole = ("bytes that are not UTF-8", "the key as the event's name", "the key as the event's id")
    assert result.returncode == (0 if case in whole else 1)
