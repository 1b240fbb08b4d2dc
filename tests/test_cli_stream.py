"""``psopenai chat:completions create --stream true``: each chunk printed as it comes, in the
chosen format, as the official CLI prints a streamed answer (each chunk a document), against
the emulator's event streams and a scripted one that holds the stream open."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from psopenai_py.emulator import Emulator
from psopenai_py.openai_cli import main

from .sse_server import SSEServer, Stream, chunk, event, reply_events

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-stream-000000000000000000000000000"
CREATE = ["chat:completions", "create", "--model", "gpt-4o-mini", "--message", "{role: user, content: hi}"]


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def base(emulator: Emulator, transport) -> list[str]:
    return ["--api-key", KEY, "--base-url", emulator.url]


def test_each_chunk_is_a_document(emulator, base):
    status, out, err = run(*CREATE, "--stream", "true", "--format", "jsonl", *base)
    assert (status, err) == (0, "")
    chunks = [json.loads(line) for line in out.splitlines()]
    assert len(chunks) > 2 and all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "This is a stored reply from the psopenai_py emulator."
    assert json.loads(emulator.requests[0].body)["stream"] is True


def test_raw_prints_each_chunk_as_sent_and_an_empty_line(emulator, base):
    status, out, _ = run(*CREATE, "--stream", "true", "--format", "raw", "--max-items", "2", *base)
    assert status == 0
    first, empty, second, empty_again, end = out.split("\n")
    assert json.loads(first)["choices"][0]["delta"]["role"] == "assistant"
    assert (empty, empty_again, end) == ("", "", "") and json.loads(second)[
        "object"
    ] == "chat.completion.chunk"


def test_transform_and_raw_output_print_the_pieces(emulator, base):
    status, out, _ = run(*CREATE, "--stream", "true", "--transform", "choices.0.delta.content", "-r", *base)
    assert status == 0
    lines = out.split("\n")
    # The role chunk's content is empty; the last chunk has none, and is printed whole.
    assert lines[0] == "" and lines[1:3] == ["This ", "is "]
    assert "".join(lines[1:-1]).startswith("This is a stored reply") and '"finish_reason": "stop"' in out


def test_stream_false_is_a_plain_create(emulator, base):
    status, out, _ = run(*CREATE, "--stream", "false", *base)
    assert status == 0 and json.loads(out)["object"] == "chat.completion"
    assert json.loads(emulator.requests[0].body)["stream"] is False


def test_max_items_stops_the_stream(emulator, base):
    status, out, _ = run(*CREATE, "--stream", "true", "--max-items", "1", "--format", "jsonl", *base)
    assert status == 0 and len(out.splitlines()) == 1


@pytest.fixture
def sse(transport):
    with SSEServer() as server:
        yield server


def test_an_error_in_the_stream_comes_after_the_chunks_printed(sse):
    sse.always(
        Stream(parts=[event(chunk("", role="assistant")), event({"error": {"message": "overloaded"}})])
    )
    status, out, err = run(
        *CREATE, "--stream", "true", "--format", "jsonl", "--api-key", KEY, "--base-url", sse.base_url
    )
    assert status == 1 and len(out.splitlines()) == 1
    assert "overloaded" in err and err.count("\n") == 1


def test_an_answer_that_is_no_stream_is_one_line(sse):
    sse.always(
        Stream(
            parts=[b'{"id": "c1", "object": "chat.completion"}'], headers={"Content-Type": "application/json"}
        )
    )
    status, out, err = run(*CREATE, "--stream", "true", "--api-key", KEY, "--base-url", sse.base_url)
    assert (status, out) == (1, "") and "not a stream of server-sent events" in err


@pytest.mark.skipif(sys.platform == "win32", reason="select on a pipe is POSIX")
def test_a_chunk_is_printed_before_the_stream_ends(sse):
    # The first chunk comes, then the server holds the stream open: the chunk must already be out.
    sse.always(Stream(parts=[event(chunk("first", role="assistant"))], then="hold", hold=20))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update({"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": sse.base_url, "PYTHONPATH": str(ROOT)})
    process = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", *CREATE, "--stream", "true", "--format", "jsonl"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], 15)
        line = process.stdout.readline() if ready else b""
        assert json.loads(line)["choices"][0]["delta"]["content"] == "first"
        assert process.poll() is None  # still streaming
    finally:
        process.kill()
        process.wait(timeout=30)
        process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()


def test_the_scripted_reply_pieces(sse):
    sse.always(Stream(parts=reply_events(["a", "b"])))
    status, out, _ = run(
        *CREATE,
        "--stream",
        "true",
        "-r",
        "--transform",
        "choices.0.delta.content",
        "--api-key",
        KEY,
        "--base-url",
        sse.base_url,
    )
    assert status == 0 and out.split("\n")[:3] == ["", "a", "b"]
