"""The official client and psopenai_py.OpenAI side by side, rule by rule, each against its own
emulator with the same faults injected: retries per status, Retry-After, timeouts, resets,
exceptions and their attributes, None for absent fields, the context manager, raw and streamed
responses, streams, pages.  Every rule's observations must match, except the rules marked
deliberate: those must differ, and each is listed, with its reason, in Docs/about_Migrating.md."""

from __future__ import annotations

import concurrent.futures
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import psopenai_py
from psopenai_py.emulator import Emulator, Fault

openai = pytest.importorskip("openai")

KEY = "sk-compare-000000000000000000000"
ID = "chatcmpl-compare-0001"
MESSAGES = [{"role": "user", "content": "hi"}]
FAST = {"retry-after-ms": "1"}  # retries within a millisecond, for both clients alike
DOCS = Path(__file__).resolve().parents[1] / "Docs" / "about_Migrating.md"


@dataclass
class Side:
    """One client's side: its package (``openai`` or ``psopenai_py``) and its own emulator."""

    package: Any
    server: Emulator

    def client(self, **options: Any) -> Any:
        return self.package.OpenAI(api_key=KEY, base_url=self.server.url, **options)

    def inject(self, *faults: Fault) -> None:
        self.server.inject(*faults)

    @property
    def attempts(self) -> int:
        return len(self.server.requests)


def outcome(call: Callable[[], Any], side: Side) -> Any:
    """What a call came to: its value, or the exception as the SDK's users read one."""
    try:
        return ["value", call()]
    except Exception as exc:
        if not isinstance(exc, side.package.APIError):
            # Bad input: the SDK's ValueError or TypeError (this package's are subclasses).
            kinds = [k.__name__ for k in (ValueError, TypeError, RuntimeError) if isinstance(exc, k)]
            return ["raised", {"kinds": kinds, "str": str(exc)}]
        seen: dict[str, Any] = {"class": type(exc).__name__, "str": str(exc)}
        for name in ("body", "code", "type", "param"):
            seen[name] = getattr(exc, name)
        if isinstance(exc, side.package.APIStatusError):  # an attribute only status errors have
            seen["status_code"] = exc.status_code
            seen["request_id"] = str(exc.request_id)[:4]
        for name in ("APIStatusError", "APIConnectionError", "APITimeoutError"):
            seen[f"is {name}"] = isinstance(exc, getattr(side.package, name))
        return ["raised", seen]


def stable(value: Any) -> Any:
    """Data without ``created`` (each emulator stamps its own clock)."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k != "created"}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def error_body(message: str = "x") -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "c1"}}


def completion_body(**extra: Any) -> dict[str, Any]:
    body = {
        "id": ID,
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hi"},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
    }
    return {**body, **extra}


# -- the rules ---------------------------------------------------------------------------------------


def retries_per_status(status: int) -> Callable[[Side], Any]:
    def rule(side: Side) -> Any:
        side.inject(Fault(status=status, body=error_body(), headers=FAST, times=3))
        result = outcome(lambda: side.client(max_retries=2).chat.completions.retrieve(ID).id, side)
        return [side.attempts, result]

    return rule


def should_retry_header(status: int, flag: str) -> Callable[[Side], Any]:
    def rule(side: Side) -> Any:
        side.inject(
            Fault(status=status, body=error_body(), headers={**FAST, "x-should-retry": flag}, times=3)
        )
        outcome(lambda: side.client().chat.completions.retrieve(ID), side)
        return side.attempts

    return rule


def retry_after(headers: dict[str, str]) -> Callable[[Side], Any]:
    def rule(side: Side) -> Any:
        side.inject(Fault(status=429, body=error_body(), headers=headers, times=3))
        result = outcome(lambda: side.client(max_retries=2).chat.completions.retrieve(ID).id, side)
        return [side.attempts, result[0]]

    return rule


def timeout(as_object: bool) -> Callable[[Side], Any]:
    def rule(side: Side) -> Any:
        side.inject(Fault(delay_ms=1500, times=2))
        limit = side.package.Timeout(0.3, connect=5.0) if as_object else 0.3
        result = outcome(
            lambda: side.client(max_retries=1, timeout=limit).chat.completions.retrieve(ID), side
        )
        return [side.attempts, result]

    return rule


def reset(side: Side) -> Any:
    side.inject(Fault(drop=True, times=2))
    result = outcome(lambda: side.client(max_retries=1).chat.completions.retrieve(ID), side)
    return [side.attempts, result]


def not_found_attributes(side: Side) -> Any:
    client = side.client()
    seen = outcome(lambda: client.chat.completions.retrieve("chatcmpl-missing"), side)
    try:
        client.chat.completions.retrieve("chatcmpl-missing")
    except side.package.NotFoundError as caught:
        exc = caught
    return [
        seen,
        exc.response.status_code,
        exc.response.headers["x-request-id"] == exc.request_id,
        exc.request.method,
        repr(exc),
    ]


def status_classes(side: Side) -> Any:
    seen = {}
    for status in (400, 401, 403, 404, 409, 418, 422, 429, 500, 503):
        side.inject(Fault(status=status, body=error_body(f"s{status}"), headers={"x-should-retry": "false"}))
        seen[status] = outcome(lambda: side.client().chat.completions.retrieve(ID), side)
    return seen


def absent_fields(side: Side) -> Any:
    side.inject(Fault(status=200, body=completion_body(x_extra={"a": 1}), method="GET"))
    got = side.client().chat.completions.retrieve(ID)
    message = got.choices[0].message
    return [
        [message.tool_calls, message.audio, message.function_call, message.annotations, got.moderation],
        [got.usage, got.service_tier, got.metadata, got.choices[0].logprobs],
        got.x_extra,
    ]


def serialisations(side: Side) -> Any:
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "prompt_tokens_details": None}
    side.inject(
        Fault(status=200, body=completion_body(usage=usage, x=[1.5, None, {"k": 1e-7}]), method="GET")
    )
    got = side.client().chat.completions.retrieve(ID)
    return [
        got.model_dump(),
        got.model_dump(exclude_unset=True),
        got.model_dump(exclude_none=True),
        got.model_dump(mode="json"),
        got.model_dump_json(),
        got.model_dump_json(indent=2),
        got.to_dict(),
        got.to_json(),
        got.to_json(indent=None),
        repr(got),
        str(got),
        got == got.model_copy(),
        [name for name, _ in got],
    ]


def request_id(side: Side) -> Any:
    got = side.client().chat.completions.retrieve(ID)
    return [got._request_id.startswith("req_"), outcome(lambda: got.choices[0]._request_id, side)[0]]


def context_manager(side: Side) -> Any:
    with side.client() as client:
        inside = client.chat.completions.retrieve(ID).id
    after = outcome(lambda: client.chat.completions.retrieve(ID), side)
    return [inside, client.is_closed(), after]


def close(side: Side) -> Any:
    client = side.client()
    client.close()
    return [client.is_closed(), outcome(lambda: client.chat.completions.retrieve(ID), side)]


def attributes(side: Side) -> Any:
    client = side.client(organization="org-1", project="proj-1")
    copy = client.with_options(max_retries=0, timeout=5.0)
    return [
        client.api_key,
        str(client.base_url) == side.server.url + "/",
        client.organization,
        client.project,
        client.max_retries,
        repr(client.timeout),
        [copy.max_retries, copy.timeout, client.max_retries, copy is client],
    ]


def sentinels(side: Side) -> Any:
    side.client().chat.completions.list(limit=openai.NOT_GIVEN, order=openai.omit, after=openai.not_given)
    return side.server.requests[-1].target


def raw_response(side: Side) -> Any:
    raw = side.client().chat.completions.with_raw_response.retrieve(ID)
    return [
        raw.status_code,
        raw.is_closed,
        raw.request_id == raw.headers["x-request-id"],
        raw.http_request.method,
        raw.http_request.headers.get("X-Stainless-Lang"),
        stable(raw.parse().to_dict()),
        raw.retries_taken,
    ]


def streaming_response(side: Side) -> Any:
    with side.client().chat.completions.with_streaming_response.retrieve(ID) as response:
        before = response.is_closed
        parsed = stable(response.parse().model_dump())
        body = stable(response.json())
    return [before, response.is_closed, parsed, body]


def stream(side: Side) -> Any:
    streamed = side.client().chat.completions.create(model="m", messages=MESSAGES, stream=True)
    chunks = list(streamed)
    return [
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices),
        [c.object for c in chunks],
        [c.choices[0].finish_reason for c in chunks if c.choices],
        streamed.response.is_closed,
        sorted(chunks[0].model_dump()),
    ]


def stream_error(side: Side) -> Any:
    side.inject(Fault(error_after_chunks=2, method="POST"))
    streamed = side.client().chat.completions.create(model="m", messages=MESSAGES, stream=True)
    return outcome(lambda: len(list(streamed)), side)


def stream_cut(side: Side) -> Any:
    side.inject(Fault(drop_after_chunks=2, method="POST"))
    streamed = side.client().chat.completions.create(model="m", messages=MESSAGES, stream=True)
    return outcome(lambda: len(list(streamed)), side)


def stream_error_status(side: Side) -> Any:
    side.inject(Fault(status=400, body=error_body("bad stream"), method="POST"))
    return outcome(
        lambda: side.client().chat.completions.create(model="m", messages=MESSAGES, stream=True), side
    )


def pages(side: Side) -> Any:
    side.server.store.seed(4, prefix="chatcmpl-page-")
    page = side.client().chat.completions.list(limit=2, order="asc")
    return [
        [c.id for c in page],
        page.has_next_page(),
        [c.id for c in page.get_next_page().data],
        [len(p.data) for p in page.iter_pages()],
        page.object,
        type(page.next_page_info()).__name__,
        page.next_page_info().params,
    ]


def limit_zero(side: Side) -> Any:
    return [outcome(lambda: side.client().chat.completions.list(limit=0), side), side.attempts]


def empty_id(side: Side) -> Any:
    return [outcome(lambda: side.client().chat.completions.with_raw_response.delete(""), side), side.attempts]


def wire(side: Side) -> Any:
    client = side.client()
    client.chat.completions.create(
        model="m", messages=MESSAGES, store=True, metadata={"a": "b"}, temperature=None
    )
    client.chat.completions.list(metadata={"team": "ops"}, limit=3, model="m")
    client.chat.completions.update(ID, metadata=None)
    return [
        [r.method, r.target, json.loads(r.body) if r.body else None, r.header("x-stainless-lang")]
        for r in side.server.requests
    ]


# -- deliberate differences -----------------------------------------------------------------------


def repeated_cursor(side: Side) -> Any:
    loop = {"object": "list", "data": [{"id": "a", "object": "chat.completion"}], "has_more": True}
    side.inject(Fault(status=200, body=loop, method="GET", times=10))
    page = side.client().chat.completions.list()
    return outcome(lambda: [c.id for c in itertools.islice(page, 4)], side)


def not_json(side: Side) -> Any:
    side.inject(Fault(status=200, raw_body="<html>maintenance</html>", method="GET"))
    return outcome(lambda: side.client().chat.completions.retrieve(ID), side)


def stream_left_early(side: Side) -> Any:
    streamed = side.client().chat.completions.create(model="m", messages=MESSAGES, stream=True)
    for _ in streamed:
        break
    closed = streamed.response.is_closed
    streamed.close()
    return closed


def retries_over_100(side: Side) -> Any:
    return outcome(lambda: side.client(max_retries=101).max_retries, side)[0]


def metadata_over_the_limit(side: Side) -> Any:
    metadata = {str(n): "v" for n in range(17)}
    result = outcome(lambda: side.client().chat.completions.update(ID, metadata=metadata), side)
    return [result[1].get("kinds") if result[0] == "raised" else None, side.attempts]


def redirect(side: Side) -> Any:
    side.inject(
        Fault(status=302, headers={"Location": f"{side.server.url}/chat/completions/{ID}"}, method="GET")
    )
    return outcome(lambda: side.client().chat.completions.retrieve("chatcmpl-moved").id, side)[0]


def identity_headers(side: Side) -> Any:
    side.client().chat.completions.retrieve(ID)
    request = side.server.requests[-1]
    return sorted(name.lower() for name, _ in request.headers if name.lower().startswith("x-stainless"))


@dataclass(frozen=True)
class Rule:
    name: str
    run: Callable[[Side], Any]
    deliberate: str | None = None
    """Why the clients differ here, as Docs/about_Migrating.md gives it; None: they must match."""


RULES = [
    *(
        Rule(f"retries: status {s}", retries_per_status(s))
        for s in (400, 401, 403, 404, 408, 409, 422, 429, 500, 502)
    ),
    Rule("x-should-retry false on a 500", should_retry_header(500, "false")),
    Rule("x-should-retry true on a 400", should_retry_header(400, "true")),
    Rule("Retry-After over 120 s", retry_after({"retry-after": "121"})),
    Rule("retry-after-ms", retry_after({"retry-after-ms": "20"})),
    Rule("Retry-After that overflows", retry_after({"retry-after": "1e999"})),
    Rule("timeout in seconds", timeout(as_object=False)),
    Rule("timeout as a Timeout", timeout(as_object=True)),
    Rule("connection reset", reset),
    Rule("404 and its attributes", not_found_attributes),
    Rule("status classes", status_classes),
    Rule("None for absent fields", absent_fields),
    Rule("serialisations", serialisations),
    Rule("_request_id", request_id),
    Rule("context manager", context_manager),
    Rule("close()", close),
    Rule("attributes and with_options", attributes),
    Rule("NOT_GIVEN and omit", sentinels),
    Rule("raw response", raw_response),
    Rule("streaming response", streaming_response),
    Rule("stream", stream),
    Rule("error inside a stream", stream_error),
    Rule("stream cut off", stream_cut),
    Rule("error status of a stream", stream_error_status),
    Rule("pages", pages),
    Rule("limit=0", limit_zero),
    Rule("empty id", empty_id),
    Rule("requests on the wire", wire),
    Rule("a list that repeats itself", repeated_cursor, "refused rather than followed round"),
    Rule("a 200 answer that is not JSON", not_json, "an error, never text handed on as a result"),
    Rule("a stream left early", stream_left_early, "its connection is released at once"),
    Rule("max_retries over 100", retries_over_100, "this package's bound of retries"),
    Rule("metadata over the API's limits", metadata_over_the_limit, "refused before anything is sent"),
    Rule("a redirect", redirect, "API calls are never redirected"),
    Rule("X-Stainless headers", identity_headers, "only X-Stainless-Lang is sent"),
]


def observe(rule: Rule, package: Any) -> Any:
    with Emulator(seed=5) as server:
        server.store.create(model="m", messages=MESSAGES, metadata={"team": "ops"}, completion_id=ID)
        return rule.run(Side(package, server))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_by_rule_the_clients_match_but_where_the_docs_say(rule):
    # The two sides are independent (an emulator each): observed at the same time.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        theirs, ours = pool.map(lambda package: observe(rule, package), (openai, psopenai_py))
    if rule.deliberate is None:
        assert ours == theirs
    else:
        assert ours != theirs, "listed as a difference, but the clients agree"
        docs = DOCS.read_text(encoding="utf-8")
        assert f"| {rule.name} |" in docs and rule.deliberate in docs
