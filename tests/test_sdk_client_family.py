"""psopenai_py.OpenAI and AsyncOpenAI driven as the official SDK's tests drive the official client
for the stored-completions family: every method with its required and with all of its
parameters, raw and streamed responses, empty path parameters, pages, and streams, sync and
async, against the emulator.  Each result's data is checked against the official package's
types, and each request against the one the official client sends for the same call."""

from __future__ import annotations

import asyncio
import json
import typing
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import psopenai_py
from psopenai_py.emulator import Emulator

openai = pytest.importorskip("openai")
pydantic = pytest.importorskip("pydantic")
from openai.types.chat import (  # noqa: E402
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionDeleted,
    ChatCompletionStoreMessage,
)

KEY = "sk-family-00000000000000000000"
ID = "chatcmpl-family-0001"
MESSAGES = [{"content": "string", "role": "developer"}]

# Every optional parameter of create, as the SDK's tests give them.  stream_options goes only
# with stream=True: the API refuses it on a completion that is not streamed.
CREATE_ALL: dict[str, Any] = {
    "messages": [{"content": "string", "role": "developer", "name": "name"}],
    "model": "gpt-5.4",
    "audio": {"format": "wav", "voice": "alloy"},
    "frequency_penalty": -2,
    "function_call": "none",
    "functions": [{"name": "name", "description": "description", "parameters": {"foo": "bar"}}],
    "logit_bias": {"foo": 0},
    "logprobs": True,
    "max_completion_tokens": 0,
    "max_tokens": 0,
    "metadata": {"foo": "string"},
    "modalities": ["text"],
    "moderation": {"model": "model", "policy": {"input": {"mode": "score"}, "output": {"mode": "score"}}},
    "n": 1,
    "parallel_tool_calls": True,
    "prediction": {"content": "string", "type": "content"},
    "presence_penalty": -2,
    "prompt_cache_key": "prompt-cache-key-1234",
    "prompt_cache_options": {"mode": "implicit", "ttl": "30m"},
    "prompt_cache_retention": "in_memory",
    "reasoning_effort": "none",
    "response_format": {"type": "text"},
    "safety_identifier": "safety-identifier-1234",
    "seed": -9007199254740991,
    "service_tier": "auto",
    "stop": "\n",
    "store": True,
    "stream": False,
    "temperature": 1,
    "tool_choice": "none",
    "tools": [
        {"function": {"name": "name", "parameters": {"foo": "bar"}, "strict": True}, "type": "function"}
    ],
    "top_logprobs": 0,
    "top_p": 1,
    "user": "user-1234",
    "verbosity": "low",
    "web_search_options": {"search_context_size": "low"},
}
STREAM_ALL = {
    **CREATE_ALL,
    "stream": True,
    "stream_options": {"include_obfuscation": True, "include_usage": True},
}

# (name, the method's path under the client, its arguments, the official type of its result)
CALLS: list[tuple[str, str, dict[str, Any], Any]] = [
    ("create", "chat.completions.create", {"messages": MESSAGES, "model": "gpt-5.4"}, ChatCompletion),
    ("create all", "chat.completions.create", CREATE_ALL, ChatCompletion),
    ("retrieve", "chat.completions.retrieve", {"completion_id": ID}, ChatCompletion),
    (
        "update",
        "chat.completions.update",
        {"completion_id": ID, "metadata": {"foo": "string"}},
        ChatCompletion,
    ),
    ("update null", "chat.completions.update", {"completion_id": ID, "metadata": None}, ChatCompletion),
    ("list", "chat.completions.list", {}, "page:ChatCompletion"),
    (
        "list all",
        "chat.completions.list",
        {
            "after": "chatcmpl-before",
            "limit": 5,
            "metadata": {"foo": "string"},
            "model": "gpt-5.4",
            "order": "asc",
        },
        "page:ChatCompletion",
    ),
    ("delete", "chat.completions.delete", {"completion_id": ID}, ChatCompletionDeleted),
    (
        "messages.list",
        "chat.completions.messages.list",
        {"completion_id": ID},
        "page:ChatCompletionStoreMessage",
    ),
    (
        "messages.list all",
        "chat.completions.messages.list",
        {"completion_id": ID, "after": "x", "limit": 3, "order": "desc"},
        "page:ChatCompletionStoreMessage",
    ),
]
BY_ID = [(name, path, args) for name, path, args, _ in CALLS if "completion_id" in args]
STREAMS: list[tuple[str, dict[str, Any]]] = [
    ("stream", {"messages": MESSAGES, "model": "gpt-5.4", "stream": True}),
    ("stream all", STREAM_ALL),
]


def store_the_completion(server: Emulator) -> None:
    """The stored completion the calls name (its one message a developer's, as the SDK's tests)."""
    server.store.create(
        model="gpt-5.4",
        messages=[{"role": "developer", "content": "string"}],
        metadata={"foo": "string"},
        completion_id=ID,
    )


@pytest.fixture
def server(emulator: Emulator) -> Emulator:
    store_the_completion(emulator)
    return emulator


def _method(client: Any, path: str, way: str | None = None) -> Any:
    """``client.chat.completions.retrieve`` (or its ``with_raw_response`` twin, ...) by path."""
    target = client
    parts = path.split(".")
    for part in parts[:-1]:
        target = getattr(target, part)
    if way is not None:
        target = getattr(target, way)
    return getattr(target, parts[-1])


# -- the data, held to the official types ---------------------------------------------------------


def _official(expected: Any) -> Any:
    if isinstance(expected, str) and expected.startswith("page:"):
        item = {"ChatCompletion": ChatCompletion, "ChatCompletionStoreMessage": ChatCompletionStoreMessage}
        return openai.pagination.SyncCursorPage[item[expected[5:]]]
    return expected


def check_matches(expected: Any, result: Any) -> None:
    """``result`` holds data of the official type: it validates (pydantic, the official model),
    every declared field reads as an attribute (None when absent), and the official model built
    from the same data dumps exactly as ``result`` does."""
    official = _official(expected)
    data = result.to_dict()
    if official is not ChatCompletionDeleted and "ChatCompletionStoreMessage" in repr(official):
        # The SDK types a stored message's role as "assistant"; stored request messages come with
        # their own (the official client's strict mode refuses them for that).
        data = {**data, "data": [{**m, "role": "assistant"} for m in data["data"]]}
    official.model_validate(data)
    built = official.construct(**result.to_dict())
    assert result.model_dump(mode="json") == built.model_dump(mode="json")
    assert result.to_json() == built.to_json()
    _read_every_field(official, result)


def _read_every_field(official: Any, value: Any) -> None:
    for name, field in official.model_fields.items():
        child = getattr(value, name)  # never an AttributeError for a declared field
        for inner in _models_in(field.annotation):
            for item in child if isinstance(child, list) else [child]:
                if item is not None and not isinstance(item, (dict, str)):
                    _read_every_field(inner, item)
                    break


def _models_in(annotation: Any) -> list[Any]:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


# -- the requests, held to the official client's -------------------------------------------------


def wire(server: Emulator) -> list[tuple[str, str, list[tuple[str, str]], Any, str | None]]:
    seen = []
    for r in server.requests:
        parts = urlsplit(r.target)
        body = json.loads(r.body) if r.body else None
        seen.append((r.method, parts.path, parse_qsl(parts.query), body, r.header("X-Stainless-Lang")))
    return seen


@pytest.fixture
def official_wire() -> Callable[[Callable[[Any], Any]], Any]:
    """What the official client sends for a call, on a fresh emulator of its own."""

    def run(call: Callable[[Any], Any]) -> Any:
        with Emulator(seed=7) as twin:
            store_the_completion(twin)
            with openai.OpenAI(api_key=KEY, base_url=twin.url, max_retries=0) as theirs:
                call(theirs)
            return wire(twin)

    return run


# -- sync ------------------------------------------------------------------------------------------


@pytest.fixture
def client(server: Emulator, transport: Any) -> Any:
    with psopenai_py.OpenAI(api_key=KEY, base_url=server.url) as made:
        yield made


@pytest.mark.parametrize(("name", "path", "args", "expected"), CALLS, ids=[c[0] for c in CALLS])
def test_each_method_returns_the_official_types_data(
    client, server, official_wire, name, path, args, expected
):
    result = _method(client, path)(**args)
    check_matches(expected, result)
    assert result._request_id.startswith("req_")
    assert wire(server) == official_wire(lambda c: _method(c, path)(**args))


@pytest.mark.parametrize(("name", "path", "args", "expected"), CALLS, ids=[c[0] for c in CALLS])
def test_each_method_with_raw_response(client, server, name, path, args, expected):
    response = _method(client, path, "with_raw_response")(**args)
    assert response.is_closed is True and response.status_code == 200
    assert response.http_request.headers.get("X-Stainless-Lang") == "python"
    assert response.headers["x-request-id"] == response.request_id
    parsed = response.parse()
    check_matches(expected, parsed)
    assert parsed._request_id == response.request_id and response.parse() is parsed
    assert json.loads(response.text) == parsed.to_dict() or expected != ChatCompletion


@pytest.mark.parametrize(("name", "path", "args", "expected"), CALLS, ids=[c[0] for c in CALLS])
def test_each_method_with_streaming_response(client, server, name, path, args, expected):
    with _method(client, path, "with_streaming_response")(**args) as response:
        assert not response.is_closed
        assert response.http_request.headers.get("X-Stainless-Lang") == "python"
        check_matches(expected, response.parse())
        assert json.loads(response.read()) == response.json()
    assert response.is_closed is True


@pytest.mark.parametrize(("name", "path", "args"), BY_ID, ids=[c[0] for c in BY_ID])
@pytest.mark.parametrize("way", [None, "with_raw_response", "with_streaming_response"])
def test_an_empty_id_is_the_sdks_value_error_and_nothing_is_sent(client, server, name, path, args, way):
    with pytest.raises(ValueError, match=r"Expected a non-empty value for `completion_id` but received ''"):
        called = _method(client, path, way)(**{**args, "completion_id": ""})
        called.__enter__()
    assert server.requests == []


def test_the_client_level_views_reach_the_same_methods(client, server):
    raw = client.with_raw_response.chat.completions.retrieve(ID)
    assert raw.parse().id == ID
    with client.with_streaming_response.chat.completions.messages.list(ID) as response:
        assert [m.id for m in response.parse()] == [f"{ID}-0"]


@pytest.mark.parametrize(("name", "args"), STREAMS, ids=[s[0] for s in STREAMS])
def test_a_streamed_create_yields_the_official_chunks_data(client, server, name, args):
    with client.chat.completions.create(**args) as stream:
        chunks = list(stream)
    assert stream.response.is_closed and stream.response.status_code == 200
    for chunk in chunks:
        check_matches(ChatCompletionChunk, chunk)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "This is a stored reply from the psopenai_py emulator."
    sent = json.loads(server.requests[0].body)
    assert sent["stream"] is True and list(sent)[:2] == ["model", "stream"]


@pytest.mark.parametrize(("name", "args"), STREAMS, ids=[s[0] for s in STREAMS])
def test_a_streamed_create_with_raw_and_streaming_response(client, server, name, args):
    response = client.chat.completions.with_raw_response.create(**args)
    assert response.http_request.headers.get("X-Stainless-Lang") == "python" and not response.is_closed
    stream = response.parse()
    stream.close()
    assert response.is_closed
    with client.chat.completions.with_streaming_response.create(**args) as streamed:
        assert not streamed.is_closed
        first = next(iter(streamed.parse()))
        assert first.object == "chat.completion.chunk"
    assert streamed.is_closed


def test_a_stream_left_early_releases_its_connection(client, server):
    stream = client.chat.completions.create(messages=MESSAGES, model="gpt-5.4", stream=True)
    for _ in stream:
        break
    assert stream.response.is_closed


def test_pages_one_at_a_time_and_all_of_them(client, server):
    server.store.seed(5, prefix="chatcmpl-p-")
    page = client.chat.completions.list(limit=2, order="asc")
    everything = [c.id for c in page]
    assert len(everything) == 6 and everything[:2] == [c.id for c in page.data]
    assert page.has_next_page() and page.next_page_info().params == {"after": page.data[-1].id}
    second = page.get_next_page()
    assert [c.id for c in second.data] == everything[2:4] and second._request_id.startswith("req_")
    assert [len(p.data) for p in page.iter_pages()] == [2, 2, 2]
    last = list(page.iter_pages())[-1]
    assert not last.has_next_page()
    with pytest.raises(RuntimeError, match="No next page expected"):
        last.get_next_page()


# -- async ------------------------------------------------------------------------------------------


def run_async(body: Callable[[Any], Any], server: Emulator) -> Any:
    async def main() -> Any:
        async with psopenai_py.AsyncOpenAI(api_key=KEY, base_url=server.url) as made:
            return await body(made)

    return asyncio.run(main())


async def _awaited(called: Any) -> Any:
    return await called


@pytest.mark.parametrize(("name", "path", "args", "expected"), CALLS, ids=[c[0] for c in CALLS])
def test_async_each_method_returns_the_official_types_data(server, transport, name, path, args, expected):
    result = run_async(lambda c: _awaited(_method(c, path)(**args)), server)
    check_matches(expected, result)


@pytest.mark.parametrize(("name", "path", "args", "expected"), CALLS, ids=[c[0] for c in CALLS])
def test_async_each_method_with_raw_and_streaming_response(server, transport, name, path, args, expected):
    async def body(c: Any) -> Any:
        raw = await _method(c, path, "with_raw_response")(**args)
        assert raw.is_closed is True and raw.http_request.headers.get("X-Stainless-Lang") == "python"
        check_matches(expected, raw.parse())  # synchronous, as the SDK's raw response
        if name == "delete":
            store_the_completion(server)
        async with _method(c, path, "with_streaming_response")(**args) as response:
            assert not response.is_closed
            check_matches(expected, await response.parse())
            assert json.loads(await response.read()) == await response.json()
        assert response.is_closed is True

    run_async(body, server)


@pytest.mark.parametrize(("name", "path", "args"), BY_ID, ids=[c[0] for c in BY_ID])
def test_async_an_empty_id_is_the_sdks_value_error(server, transport, name, path, args):
    async def body(c: Any) -> None:
        with pytest.raises(ValueError, match=r"Expected a non-empty value for `completion_id`"):
            await _method(c, path, "with_raw_response")(**{**args, "completion_id": ""})

    run_async(body, server)
    assert server.requests == []


def test_async_pages_and_streams(server, transport):
    server.store.seed(3, prefix="chatcmpl-q-")

    async def body(c: Any) -> Any:
        every = [x.id async for x in c.chat.completions.list(limit=2)]
        page = await c.chat.completions.list(limit=2)
        second = await page.get_next_page()
        pages = [len(p.data) async for p in page.iter_pages()]
        stream = await c.chat.completions.create(messages=MESSAGES, model="gpt-5.4", stream=True)
        async with stream:
            chunks = [chunk async for chunk in stream]
        opened = await c.chat.completions.create(messages=MESSAGES, model="gpt-5.4", stream=True)
        await opened.response.aclose()
        return every, [x.id for x in second.data], pages, chunks, opened.response.is_closed

    every, second, pages, chunks, closed = run_async(body, server)
    assert len(every) == 4 and second == every[2:4] and pages == [2, 2]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith(
        "This is a stored"
    )
    assert closed
