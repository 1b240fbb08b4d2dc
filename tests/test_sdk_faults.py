"""The SDK-shaped client under misuse and faults: a server that misbehaves (redirects, bodies of
every JSON type, echoed keys, resets, cursor cycles), bad text and headers refused before
sending, broken keys, with_options, threads, and its signatures against the official SDK's."""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import psopenai_py
from psopenai_py.emulator import Emulator
from psopenai_py.errors import InvalidResponseException, ParameterBindingError, PSOpenAIError

from .conftest import CANARY_KEY
from .dialect_answers import ECHOES, KEY, WRONG_PAGES, leaked
from .scripted_server import Answer, HostileServer, json_answer

try:  # the official SDK, a test dependency, for the parity checks
    import openai
except ImportError:  # pragma: no cover
    openai = None  # type: ignore[assignment]

needs_openai = pytest.mark.skipif(openai is None, reason="the official openai package is not installed")


# -- the SDK-shaped client against a server that misbehaves -------------------------------------


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def hostile(hostile_server: HostileServer, transport) -> HostileServer:
    hostile_server.script(Answer())
    return hostile_server


def sdk(server: HostileServer, **options: Any) -> psopenai_py.OpenAI:
    return psopenai_py.OpenAI(api_key=CANARY_KEY, base_url=server.url, max_retries=0, **options)


def exception_text(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), repr(exc.args), repr(exc.__cause__), repr(exc.__context__)]
    parts += [repr(getattr(exc, name, None)) for name in ("message", "content", "code", "param", "type")]
    return " ".join(parts)


HOSTILE_ANSWERS = {
    "redirect": [Answer(302, b"", {"Location": "{url}/x"})],
    "too-deep": [Answer(200, b"[" * 50000 + b"]" * 50000)],
    "not-json": [Answer(200, b"<html>" + CANARY_KEY.encode() + b"</html>")],
    "reset": [Answer(200, b'{"id": "c1", "object": "chat.completion"}', cut_after=5)],
    "string": [Answer(200, b'"s"')],
    **{k: [v] for k, v in ECHOES.items() if "success" not in k},
}


@pytest.mark.parametrize("answer", list(HOSTILE_ANSWERS), ids=str)
def test_sdk_failures_are_the_package_exceptions_without_the_key(hostile, answer):
    hostile.script(*HOSTILE_ANSWERS[answer])
    client = sdk(hostile)
    for call in (
        lambda: client.chat.completions.retrieve("c1"),
        lambda: client.chat.completions.update("c1", metadata={"a": "b"}),
        lambda: client.chat.completions.list(),
    ):
        with pytest.raises(PSOpenAIError) as caught:
            call()
        assert leaked(exception_text(caught.value)) == []


@needs_openai
def test_sdk_errors_carry_the_sdk_body_and_request_id():
    with Emulator(seed=3) as theirs_server, Emulator(seed=3) as ours_server:
        theirs = openai.OpenAI(api_key=KEY, base_url=theirs_server.url, max_retries=0)
        ours = psopenai_py.OpenAI(api_key=KEY, base_url=ours_server.url, max_retries=0)
        caught = []
        for client in (theirs, ours):
            try:
                client.chat.completions.retrieve("chatcmpl-none")
            except Exception as exc:  # each package's NotFound class
                caught.append(exc)
        theirs.close()
    expected, actual = caught
    assert actual.body == expected.body and isinstance(actual.body, dict)  # type: ignore[attr-defined]
    assert actual.request_id.startswith("req_") and expected.request_id.startswith("req_")  # type: ignore[attr-defined]
    assert actual.status_code == expected.status_code == 404  # type: ignore[attr-defined]


def test_sdk_list_pages_of_the_wrong_shape_raise(hostile):
    client = sdk(hostile)
    for body in WRONG_PAGES.values():
        hostile.script(Answer(200, body))
        with pytest.raises(InvalidResponseException):
            list(client.chat.completions.list())


def test_sdk_a_cursor_cycle_raises_instead_of_looping(hostile):
    hostile.script(
        json_answer({"data": [{"id": "a"}], "has_more": True}),
        json_answer({"data": [{"id": "b"}], "has_more": True}),
        json_answer({"data": [{"id": "a"}], "has_more": True}),
    )
    seen: list[str] = []
    with pytest.raises(InvalidResponseException, match="'a' a second time"):
        for item in sdk(hostile).chat.completions.messages.list("c1"):
            seen.append(item.id)
    assert seen == ["a", "b"] and len(hostile.requests) == 3


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda c: c.chat.completions.retrieve("\udcff"), "completion_id"),
        (lambda c: c.chat.completions.update("c1", metadata={"a": "\udcff"}), "metadata"),
        (lambda c: c.chat.completions.list(metadata={"\udcff": "x"}), "metadata"),
        (lambda c: c.chat.completions.list(model="m\udcff"), "model"),
        (lambda c: c.chat.completions.list(extra_headers={"X-A": "b\r\nc"}), "extra_headers"),
        (
            lambda c: c.chat.completions.list(
                extra_headers={"X-A": CANARY_KEY[:20] + "\n" + CANARY_KEY[20:]}
            ),
            "extra_headers",
        ),
        (lambda c: c.chat.completions.list(extra_headers={"X A": "b"}), "extra_headers"),
        (lambda c: c.chat.completions.list(extra_headers={"X-A": "\u65e5"}), "extra_headers"),
        (lambda c: c.chat.completions.list(extra_headers={"Content-Length": "1"}), "extra_headers"),
        (lambda c: c.with_options(default_headers={"X-A": "a\nb"}), "default_headers"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_sdk_bad_text_and_headers_are_refused_before_sending(hostile, call, name):
    client = sdk(hostile)
    with pytest.raises(ParameterBindingError) as caught:
        call(client)
    assert caught.value.parameter == name and name in str(caught.value)
    assert leaked(exception_text(caught.value)) == []
    assert hostile.requests == []


def test_sdk_a_key_from_a_file_is_trimmed_and_a_broken_one_refused(emulator, stored, transport, monkeypatch):
    client = psopenai_py.OpenAI(api_key=KEY + "\r\n", base_url=emulator.url)
    assert client.chat.completions.retrieve(stored).id == stored
    assert emulator.requests[-1].header("Authorization") == f"Bearer {KEY}"
    monkeypatch.setenv("OPENAI_API_KEY", "\ufeff" + KEY + "\n")
    assert psopenai_py.OpenAI(base_url=emulator.url).chat.completions.retrieve(stored).id == stored
    with pytest.raises(ParameterBindingError, match=r"line (break|feed).* at position 2[01]") as caught:
        psopenai_py.OpenAI(api_key=CANARY_KEY[:20] + "\n" + CANARY_KEY[20:], base_url=emulator.url)
    assert leaked(exception_text(caught.value)) == [] and CANARY_KEY[:20] not in str(caught.value)


def test_a_broken_key_from_the_module_global_is_a_clear_error_everywhere(emulator, transport, monkeypatch):
    monkeypatch.setattr(psopenai_py, "OPENAI_API_KEY", CANARY_KEY[:20] + "\n" + CANARY_KEY[20:])
    with pytest.raises(PSOpenAIError) as caught:
        psopenai_py.get_chat_completion("chatcmpl-x", api_base=emulator.url)
    assert "key" in str(caught.value).lower() and leaked(exception_text(caught.value)) == []


def test_sdk_a_broken_key_from_the_module_global_never_shows(emulator, transport, monkeypatch):
    monkeypatch.setattr(psopenai_py, "OPENAI_API_KEY", CANARY_KEY[:20] + "\n" + CANARY_KEY[20:])
    with pytest.raises(PSOpenAIError) as caught:  # when it is resolved, or at the latest when sent
        psopenai_py.OpenAI(base_url=emulator.url).chat.completions.list()
    assert leaked(exception_text(caught.value)) == [] and CANARY_KEY[:20] not in str(caught.value)
    assert emulator.requests == []


def test_with_options_leaves_the_original_alone(emulator, stored, transport):
    headers = {"X-One": "1"}
    original = psopenai_py.OpenAI(api_key=KEY, base_url=emulator.url, timeout=30, default_headers=headers)
    copy = original.with_options(timeout=5, max_retries=0, default_headers={"X-Two": "2"}, project="proj_c")
    headers["X-One"] = "changed"  # the caller's dict, changed after the fact
    assert (original.timeout, original.max_retries, original.project) == (30.0, 2, None)
    assert (copy.timeout, copy.max_retries, copy.project) == (5.0, 0, "proj_c")
    original.chat.completions.retrieve(stored)
    copy.chat.completions.retrieve(stored)
    first, second = emulator.requests
    assert first.header("X-One") == "1" and first.header("X-Two") is None
    assert first.header("OpenAI-Project") is None
    assert second.header("X-One") == "1" and second.header("X-Two") == "2"
    assert second.header("OpenAI-Project") == "proj_c"


def test_the_client_is_safe_to_share_between_threads(emulator, transport):
    created = [
        emulator.store.create(model="m", messages=[{"role": "user", "content": str(n)}]) for n in range(8)
    ]
    client = psopenai_py.OpenAI(api_key=KEY, base_url=emulator.url)
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for round_ in range(5):
                ident = created[n]["id"]
                done = client.chat.completions.update(
                    ident,
                    metadata={"worker": str(n), "round": str(round_)},
                    extra_headers={"X-Worker": str(n)},
                )
                assert done.metadata["worker"] == str(n)
            results[n] = client.chat.completions.retrieve(created[n]["id"]).metadata
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert results == {n: {"worker": str(n), "round": "4"} for n in range(8)}
    for request in emulator.requests:
        if request.method == "POST":
            ident = request.target.rsplit("/", 1)[-1]
            worker = next(n for n in range(8) if created[n]["id"] == ident)
            assert request.header("X-Worker") == str(worker)
            assert json.loads(request.body)["metadata"]["worker"] == str(worker)


# -- parity of the client's signatures with the official SDK --------------------------------------


def _parameters(function: Any) -> dict[str, tuple[str, bool]]:
    return {
        name: (p.kind.name, p.default is inspect.Parameter.empty)
        for name, p in inspect.signature(function).parameters.items()
    }


@needs_openai
@pytest.mark.parametrize("path", ["create", "retrieve", "update", "list", "delete", "messages.list"])
def test_every_method_takes_the_sdk_keywords_with_the_same_kinds(path):
    theirs_client = openai.OpenAI(api_key=KEY)
    ours_client = psopenai_py.OpenAI(api_key=KEY)
    theirs, ours = theirs_client.chat.completions, ours_client.chat.completions
    for part in path.split("."):
        theirs, ours = getattr(theirs, part), getattr(ours, part)
    expected, actual = _parameters(theirs), _parameters(ours)
    assert set(expected) - set(actual) == set(), "keywords of the SDK missing here"
    assert set(actual) - set(expected) == set(), "keywords the SDK does not have"
    assert {k: v for k, v in actual.items()} == {k: expected[k] for k in actual}
    theirs_client.close()


@needs_openai
def test_the_constructor_takes_the_sdk_keywords_this_package_can_honour():
    expected = _parameters(openai.OpenAI.__init__)
    actual = _parameters(psopenai_py.OpenAI.__init__)
    for name in ("api_key", "organization", "project", "base_url", "timeout", "max_retries"):
        assert actual[name] == expected[name], name
    for name in ("default_headers", "default_query"):
        assert actual[name] == expected[name], name


def test_create_sends_the_sdk_body_keywords_as_given(emulator, transport):
    client = psopenai_py.OpenAI(api_key=KEY, base_url=emulator.url)
    client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "x"}],
        store=True,
        response_format={"type": "text"},
        stop=["\n"],
        presence_penalty=0.5,
    )
    body = json.loads(emulator.requests[0].body)
    # The SDK's order: model (then stream and service_tier when given), messages, the rest by name.
    assert list(body) == ["model", "messages", "presence_penalty", "response_format", "stop", "store"]
    assert body["response_format"] == {"type": "text"} and body["stop"] == ["\n"]
