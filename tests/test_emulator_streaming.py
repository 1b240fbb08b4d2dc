"""The emulator streams a created completion when asked (``stream: true``), as the API does: the
official SDK reads it chunk by chunk, and so does the package's own streaming core; faults spoil
a stream part-way (a drop, a delay, an error event) so that clients meet mid-stream failures."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from psopenai_py.commands import stored
from psopenai_py.emulator import CANNED_REPLY, Emulator, Fault
from psopenai_py.emulator.streaming import pieces
from psopenai_py.errors import (
    APIConnectionException,
    APIRequestException,
    BadRequestException,
    RateLimitExceededException,
    TimeoutException,
)

KEY = "sk-emulator-streaming-test-key"
MESSAGES = [{"role": "user", "content": "Tell me something"}]


def sdk(emulator: Emulator, **options: Any) -> Any:  # the SDK's own types are not the subject here
    return openai.OpenAI(base_url=emulator.url, api_key=KEY, max_retries=0, **options)


def ours(emulator: Emulator, transport: Any, **settings: Any) -> Any:
    return stored.open_invocation(api_key=KEY, base_url=emulator.url, transport=transport, **settings)


def raw_post(emulator: Emulator, body: dict[str, Any], version: str = "HTTP/1.1") -> tuple[bytes, bytes]:
    """The answer's head and body bytes as sent, over a plain socket."""
    payload = json.dumps(body).encode()
    head = (
        f"POST /v1/chat/completions {version}\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as sock:
        sock.sendall(head.encode() + payload)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    answer_head, _, answer_body = data.partition(b"\r\n\r\n")
    return answer_head, answer_body


# -- the official SDK reads the emulator's stream ------------------------------------------------------


def test_the_official_sdk_reads_chunks_that_validate_as_its_own(emulator):
    stream = sdk(emulator).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    received = list(stream)
    assert stream.response.is_closed
    for item in received:
        assert isinstance(item, ChatCompletionChunk)
        ChatCompletionChunk.model_validate(item.to_dict(), strict=True)
    first, *middle, last = received
    assert first.choices[0].delta.role == "assistant" and first.choices[0].delta.content == ""
    assert all(c.choices[0].finish_reason is None for c in [first, *middle])
    assert last.choices[0].finish_reason == "stop" and last.choices[0].delta.content is None
    assert "".join(c.choices[0].delta.content or "" for c in received) == CANNED_REPLY
    assert [c.choices[0].delta.content for c in middle] == pieces(CANNED_REPLY)
    assert len({(c.id, c.created, c.model) for c in received}) == 1  # "each chunk has the same ID"
    assert all(c.usage is None for c in received)
    assert all("usage" not in c.to_dict() for c in received)  # not even null without include_usage


def test_include_usage_adds_the_usage_chunk_before_the_end(emulator):
    stream = sdk(emulator).chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
        store=True,
    )
    received = list(stream)
    *with_choices, usage_chunk = received
    assert usage_chunk.choices == [] and usage_chunk.usage is not None
    stored_usage = emulator.store.get(usage_chunk.id)["usage"]
    assert usage_chunk.usage.total_tokens == stored_usage["total_tokens"] > 0
    assert usage_chunk.usage.prompt_tokens == stored_usage["prompt_tokens"]
    for item in with_choices:
        assert item.choices and "usage" in item.to_dict() and item.usage is None  # "usage": null


def test_obfuscation_is_sent_unless_turned_off(emulator):
    client = sdk(emulator)
    padded = list(client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert all(isinstance(c.obfuscation, str) for c in padded)
    plain = list(
        client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_obfuscation": False}
        )
    )
    assert all("obfuscation" not in c.to_dict() for c in plain)


def test_a_streamed_completion_is_stored_as_a_created_one(emulator):
    client = sdk(emulator)
    received = list(
        client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, store=True, metadata={"team": "ops"}
        )
    )
    ident = received[0].id
    completion = client.chat.completions.retrieve(ident)
    assert completion.choices[0].message.content == "".join(
        c.choices[0].delta.content or "" for c in received if c.choices
    )
    assert completion.choices[0].finish_reason == received[-1].choices[0].finish_reason
    assert completion.metadata == {"team": "ops"}
    assert [m.content for m in client.chat.completions.messages.list(ident).data] == ["Tell me something"]


def test_a_stream_without_store_stores_nothing(emulator):
    list(sdk(emulator).chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert len(emulator.store) == 0


def test_the_wire_shows_data_only_events_chunked_and_flushed_one_by_one(emulator):
    head, body = raw_post(emulator, {"model": "m", "messages": MESSAGES, "stream": True})
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:])}
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    # One HTTP chunk per event: each event leaves the server whole, as soon as it is made.
    frames: list[bytes] = []
    rest = body
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        frames.append(rest[:size])
        rest = rest[size + 2 :]
    assert frames[-1] == b"data: [DONE]\n\n"
    for frame in frames[:-1]:
        assert frame.startswith(b"data: {") and frame.endswith(b"}\n\n") and frame.count(b"\n") == 2
        assert json.loads(frame[6:])["object"] == "chat.completion.chunk"


def test_an_http_1_0_client_reads_to_the_end_of_the_connection(emulator):
    head, body = raw_post(emulator, {"model": "m", "messages": MESSAGES, "stream": True}, "HTTP/1.0")
    assert b"Transfer-Encoding" not in head and b"Content-Length" not in head
    assert b"Connection: close" in head
    assert body.endswith(b"data: [DONE]\n\n") and body.startswith(b"data: {")


@pytest.mark.parametrize(
    ("extra", "param", "code"),
    [
        ({"stream": "yes"}, "stream", "invalid_type"),
        ({"stream_options": {"include_usage": True}}, "stream_options", "invalid_value"),
        ({"stream": False, "stream_options": {"include_usage": True}}, "stream_options", "invalid_value"),
        ({"stream": True, "stream_options": [1]}, "stream_options", "invalid_type"),
        (
            {"stream": True, "stream_options": {"include_usage": 1}},
            "stream_options.include_usage",
            "invalid_type",
        ),
    ],
)
def test_stream_parameters_are_checked_before_anything_is_stored(emulator, extra, param, code):
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    body = {"model": "m", "messages": MESSAGES, "store": True, **extra}
    connection.request("POST", "/v1/chat/completions", json.dumps(body), {"Authorization": f"Bearer {KEY}"})
    answer = connection.getresponse()
    error = json.loads(answer.read())["error"]
    connection.close()
    assert answer.status == 400 and error["param"] == param and error["code"] == code
    assert len(emulator.store) == 0


def test_an_error_before_the_stream_is_the_sdks_status_error_at_the_call(emulator):
    with pytest.raises(openai.BadRequestError):
        sdk(emulator).chat.completions.create(model="", messages=MESSAGES, stream=True)


# -- faults part-way ----------------------------------------------------------------------------------


def test_a_drop_after_n_chunks_reaches_both_clients_mid_stream(emulator, transport):
    emulator.inject(Fault(drop_after_chunks=3), Fault(drop_after_chunks=3))
    received = []
    with pytest.raises(openai.APIConnectionError):
        for item in sdk(emulator).chat.completions.create(model="m", messages=MESSAGES, stream=True):
            received.append(item)
    assert len(received) == 3
    stream = stored.create_stream(ours(emulator, transport), {"model": "m", "messages": MESSAGES})
    ours_received = []
    with pytest.raises(APIConnectionException, match="after 3 chunks"):
        for item in stream:
            ours_received.append(item)
    assert len(ours_received) == 3 and stream.closed


def test_an_error_event_after_n_chunks_reaches_both_clients(emulator, transport):
    emulator.inject(Fault(error_after_chunks=2), Fault(error_after_chunks=2))
    with pytest.raises(openai.APIError, match="told to fail this stream") as theirs:
        list(sdk(emulator).chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert not isinstance(theirs.value, openai.APIStatusError)
    with pytest.raises(APIRequestException, match=r"after 2 chunks: .*told to fail this stream") as caught:
        list(stored.create_stream(ours(emulator, transport), {"model": "m", "messages": MESSAGES}))
    assert caught.value.code == "injected" and caught.value.status_code is None


def test_a_delay_between_chunks_meets_the_idle_limit(emulator, transport):
    emulator.inject(Fault(chunk_delay_ms=1000))
    stream = stored.create_stream(
        ours(emulator, transport), {"model": "m", "messages": MESSAGES}, timeout=0.3
    )
    first = next(stream)
    assert first["choices"][0]["delta"]["role"] == "assistant"
    with pytest.raises(TimeoutException):
        next(stream)
    assert stream.closed


def test_a_short_delay_between_chunks_only_slows_the_stream(emulator, transport):
    emulator.inject(Fault(chunk_delay_ms=20))
    received = list(stored.create_stream(ours(emulator, transport), {"model": "m", "messages": MESSAGES}))
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in received) == CANNED_REPLY


def test_a_status_fault_is_an_error_before_the_stream_and_is_retried(emulator, transport, clock):
    emulator.inject(Fault(status=429, body={"error": {"message": "slow down", "code": "rate_limit"}}))
    received = list(
        stored.create_stream(ours(emulator, transport, max_retries=1), {"model": "m", "messages": MESSAGES})
    )
    assert len(received) == len(pieces(CANNED_REPLY)) + 2 and len(clock.sleeps) == 1
    emulator.inject(Fault(status=429, body={"error": {"message": "slow down", "code": "rate_limit"}}))
    with pytest.raises(RateLimitExceededException):
        stored.create_stream(ours(emulator, transport), {"model": "m", "messages": MESSAGES})


def test_a_bad_request_is_refused_before_any_chunk(emulator, transport):
    with pytest.raises(BadRequestException, match="you must provide a model parameter"):
        stored.create_stream(ours(emulator, transport), {"model": "", "messages": MESSAGES})


# -- the package's own client over the emulator ------------------------------------------------------


def test_our_stream_matches_the_sdks_chunk_for_chunk(emulator, transport):
    body = {"model": "m", "messages": MESSAGES, "stream_options": {"include_usage": True}}
    mine = list(stored.create_stream(ours(emulator, transport), body))
    theirs = list(sdk(emulator).chat.completions.create(stream=True, **body))
    assert len(mine) == len(theirs)

    def same(chunk: dict[str, Any]) -> dict[str, Any]:  # what differs from one stream to the next
        return {k: v for k, v in chunk.items() if k not in ("id", "created", "obfuscation")}

    for a, b in zip(mine, theirs, strict=True):
        ChatCompletionChunk.model_validate(a, strict=True)
        assert same(a) == same(b.to_dict())


def test_a_finished_stream_gives_its_connection_to_the_next_request(emulator, transport):
    invocation = ours(emulator, transport)
    list(stored.create_stream(invocation, {"model": "m", "messages": MESSAGES}))
    stored.create(invocation, {"model": "m", "messages": MESSAGES})
    first, second = emulator.requests
    assert first.connection == second.connection
