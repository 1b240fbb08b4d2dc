"""psopenai_py.OpenAI, the SDK-shaped client: against the emulator over real HTTP, and side by
side with the official ``openai`` package (each against its own fresh emulator)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import psopenai_py
from psopenai_py import client as client_module
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.errors import (
    InvalidResponseException,
    MissingSettingError,
    NotFoundException,
    ParameterBindingError,
    ParameterTypeError,
)

from .conftest import CANARY_KEY

openai = pytest.importorskip("openai")

KEY = "sk-client-000000000000000000000000"
SEED = 23


def normalised(value: Any) -> Any:
    """Drop what the emulator takes from the wall clock (``created``)."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items() if k != "created"}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


def wire(emulator: Emulator) -> list[tuple[str, str, list[tuple[str, str]], Any]]:
    """Method, path, decoded query pairs in order, parsed body, of every recorded request."""
    result = []
    for r in emulator.requests:
        parts = urlsplit(r.target)
        result.append(
            (
                r.method,
                parts.path,
                parse_qsl(parts.query, keep_blank_values=True),
                json.loads(r.body) if r.body else None,
            )
        )
    return result


def scenario(client: Any, as_dict: Callable[[Any], Any]) -> list[Any]:
    """The same calls in the SDK's words; the results as plain JSON."""
    out: list[Any] = []
    completions = client.chat.completions
    created = [
        completions.create(
            model="gpt-4o-mini",
            store=True,
            messages=[{"role": "user", "content": f"ticket {n}"}],
            metadata={"team": "ops" if n != 2 else "dev"},
        )
        for n in range(5)
    ]
    out.append([as_dict(c) for c in created])
    first = created[0].id
    got = completions.retrieve(first)
    out.append(as_dict(got))
    out.append(got.choices[0].message.content)
    updated = completions.update(first, metadata={"team": "ops", "reviewed": "yes"})
    out.append(as_dict(updated))
    out.append(dict(updated.metadata) if updated.metadata is not None else None)
    page = completions.list(metadata={"team": "ops"}, limit=2)
    out.append([as_dict(c) for c in page.data])
    out.append(page.has_more)
    out.append([c.id for c in page])  # every page
    desc = completions.list(limit=3, order="desc", model="gpt-4o-mini")
    out.append(([c.id for c in desc.data], desc.has_more))
    messages = completions.messages.list(first, limit=1)
    out.append([as_dict(m) for m in messages])
    cleared = completions.update(created[1].id, metadata=None)
    out.append(as_dict(cleared))
    deleted = completions.delete(first)
    out.append(as_dict(deleted))
    try:
        completions.retrieve(first)
    except Exception as exc:  # both raise their NotFound class
        out.append(("error", exc.status_code, type(exc).__name__.startswith("NotFound")))  # type: ignore[attr-defined]
    return out


def sdk_dict(obj: Any) -> Any:
    return obj.to_dict()


def our_dict(obj: Any) -> Any:
    return obj.to_dict()


def test_same_results_and_same_requests_as_the_official_sdk():
    with Emulator(seed=SEED) as theirs_server, Emulator(seed=SEED) as ours_server:
        theirs = openai.OpenAI(api_key=KEY, base_url=theirs_server.url, max_retries=0)
        ours = psopenai_py.OpenAI(api_key=KEY, base_url=ours_server.url, max_retries=0)
        expected = scenario(theirs, sdk_dict)
        actual = scenario(ours, our_dict)
        theirs.close()
        assert normalised(actual) == normalised(expected)
        assert wire(ours_server) == wire(theirs_server)
        # The scenario did page: the filtered list took more than one request.
        paged = [w for w in wire(ours_server) if w[0] == "GET" and ("limit", "2") in w[2]]
        assert len(paged) == 2 and ("after", actual[0][1]["id"]) not in paged[0][2]


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        *(
            (getattr(client_module.Completions, name), getattr(openai.resources.chat.Completions, name))
            for name in ("create", "retrieve", "update", "list", "delete")
        ),
        (client_module.Messages.list, openai.resources.chat.completions.Messages.list),
    ],
    ids=["create", "retrieve", "update", "list", "delete", "messages.list"],
)
def test_each_method_takes_the_sdks_keywords_in_the_sdks_order(ours, theirs):
    # help() shows the same signature as the SDK's, so code and habits carry over.
    assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters)
    assert ours.__doc__ and ours.__qualname__.endswith(theirs.__name__)


@pytest.fixture
def client(emulator: Emulator, transport) -> psopenai_py.OpenAI:
    return psopenai_py.OpenAI(api_key=KEY, base_url=emulator.url)


def test_attribute_access_into_nested_lists(client, stored):
    got = client.chat.completions.retrieve(stored)
    assert got.choices[0].message.content.startswith("This is a stored reply")
    assert got.metadata == {"team": "ops"}  # a Dict[str, str], as the SDK types it
    # to_dict() is what the server sent; model_dump() every declared field, as the SDK's.
    assert got.to_dict() == json.loads(got.to_json()) == got.model_dump(exclude_unset=True)
    assert json.loads(got.model_dump_json()) == got.model_dump()
    assert got.model_dump()["moderation"] is None and "moderation" not in got.to_dict()
    assert got.to_json(indent=2).startswith('{\n  "id"')
    assert isinstance(got.created, int)  # the API object as sent, no PowerShell shaping


def test_a_page_and_all_pages(client, emulator):
    emulator.store.seed(7, prefix="chatcmpl-p-")
    page = client.chat.completions.list(limit=3)
    assert [c.id for c in page.data] == [f"chatcmpl-p-00000{n}" for n in range(3)]
    assert page.has_more is True and page.has_next_page()
    assert len(emulator.requests) == 1  # the first page only, until iterated
    assert [c.id for c in page] == [f"chatcmpl-p-00000{n}" for n in range(7)]
    assert len(emulator.requests) == 3
    assert [len(p.data) for p in page.iter_pages()] == [3, 3, 1]


def test_a_repeated_cursor_is_an_error_not_a_loop(client, emulator):
    emulator.store.seed(2, prefix="chatcmpl-r-")
    loop = {
        "object": "list",
        "data": [{"id": "chatcmpl-r-000000", "object": "chat.completion"}],
        "first_id": "chatcmpl-r-000000",
        "last_id": "chatcmpl-r-000000",
        "has_more": True,
    }
    emulator.inject(Fault(status=200, body=loop, times=3))
    page = client.chat.completions.list()
    with pytest.raises(InvalidResponseException, match="a second time"):
        list(page)
    assert len(emulator.requests) == 2


def test_missing_has_more_pages_on_until_an_empty_page(client, emulator):
    emulator.inject(
        Fault(status=200, body={"object": "list", "data": [{"id": "a"}]}),
        Fault(status=200, body={"object": "list", "data": []}),
    )
    assert [c.id for c in client.chat.completions.list()] == ["a"]
    assert [r.target for r in emulator.requests] == ["/v1/chat/completions", "/v1/chat/completions?after=a"]


def test_errors_are_the_package_exceptions_with_sdk_aliases(client, emulator):
    with pytest.raises(client_module.NotFoundError) as caught:
        client.chat.completions.retrieve("chatcmpl-nope")
    assert isinstance(caught.value, NotFoundException)
    assert caught.value.status_code == 404


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda c: c.chat.completions.retrieve(""), ParameterBindingError, "non-empty value"),
        (
            lambda c: c.chat.completions.update("x", metadata={"k": 1}),
            ParameterBindingError,
            "values must be strings",
        ),
        (
            lambda c: c.chat.completions.update("x", metadata={str(n): "v" for n in range(17)}),
            ParameterBindingError,
            "the limit is 16",
        ),
        (lambda c: c.chat.completions.list(order="up"), ParameterBindingError, "'asc' or 'desc'"),
        (lambda c: c.chat.completions.messages.list("x", limit="5"), ParameterTypeError, "int"),
        (lambda c: c.chat.completions.retrieve("x", timeout=-1), ParameterBindingError, "timeout"),
        (
            lambda c: c.chat.completions.retrieve("x", timeout=float("inf")),
            ParameterBindingError,
            "`timeout` is inf seconds, over the limit",
        ),
        (lambda c: c.chat.completions.retrieve("x", extra_query={1: "v"}), ParameterTypeError, "must be str"),
        (
            lambda c: c.with_options(organization="org-a\nb"),
            ParameterBindingError,
            "organization id given by `organization` has a line break",
        ),
        (
            lambda c: c.with_options(max_retries=101),
            ParameterBindingError,
            "`max_retries` must be from 0 to 100",
        ),
        (
            lambda c: c.with_options(base_url="http://h:0/v1"),
            ParameterBindingError,
            r'`base_url` "http://h:0/v1" has an invalid port',
        ),
    ],
)
def test_bad_input_sends_nothing(client, emulator, call, error, words):
    with pytest.raises(error, match=words):
        call(client)
    assert emulator.requests == []


def test_empty_id_is_a_value_error_as_in_the_sdk(client):
    with pytest.raises(ValueError, match="Expected a non-empty value for `completion_id`"):
        client.chat.completions.delete("")


def test_settings_order_arguments_then_sdk_names_then_the_usual(emulator, monkeypatch, transport):
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-from-sdk-name")
    monkeypatch.setenv("OPENAI_ORGANIZATION", "org-from-package-name")
    psopenai_py.set_openai_context(api_key="sk-context-0000000000000000000000")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-000000000000000000000000")
    c = psopenai_py.OpenAI()
    assert c.base_url == emulator.url + "/" and c.organization == "org-from-sdk-name"
    c.chat.completions.list()
    assert emulator.requests[-1].header("Authorization") == "Bearer sk-env-000000000000000000000000"
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_ORG_ID")
    c = psopenai_py.OpenAI(organization=None)
    c.chat.completions.list()
    assert emulator.requests[-1].header("Authorization") == ("Bearer sk-context-0000000000000000000000")
    assert emulator.requests[-1].header("OpenAI-Organization") == "org-from-package-name"
    c = c.with_options(api_key=KEY, organization="org-arg")
    c.chat.completions.list()
    assert emulator.requests[-1].header("Authorization") == f"Bearer {KEY}"
    assert emulator.requests[-1].header("OpenAI-Organization") == "org-arg"


def test_a_bad_sdk_base_url_name_is_refused(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:8080")
    with pytest.raises(ParameterBindingError, match="OPENAI_BASE_URL"):
        psopenai_py.OpenAI(api_key=KEY)


def test_no_key_anywhere(monkeypatch):
    with pytest.raises(MissingSettingError):
        psopenai_py.OpenAI()


def test_with_options_headers_and_extras(client, emulator, stored):
    tagged = client.with_options(default_headers={"X-Team": "ops"}, max_retries=0)
    tagged.chat.completions.retrieve(stored, extra_headers={"X-Call": "1"}, extra_query={"trace": "t"})
    request = emulator.requests[-1]
    assert request.header("X-Team") == "ops" and request.header("X-Call") == "1"
    assert request.target.endswith("?trace=t")
    assert tagged.max_retries == 0 and client.max_retries == 2


def test_retries_follow_max_retries(client, emulator, stored, clock):
    emulator.inject(Fault(status=500, body={"error": {"message": "boom"}}, times=2))
    assert client.chat.completions.retrieve(stored).id == stored
    assert len(emulator.requests) == 3 and len(clock.sleeps) == 2


def test_the_canary_key_never_shows(emulator, transport, stored, capsys):
    c = psopenai_py.OpenAI(api_key=CANARY_KEY, base_url=emulator.url)
    texts = [repr(c), repr(c.chat.completions.retrieve(stored)), repr(vars(c))]
    try:
        c.chat.completions.retrieve("chatcmpl-none")
    except NotFoundException as exc:
        texts += [str(exc), repr(exc), repr(vars(exc))]
    captured = capsys.readouterr()
    texts += [captured.out, captured.err]
    assert not any(CANARY_KEY in t or CANARY_KEY[8:20] in t for t in texts)


def test_importing_the_package_stays_cheap():
    code = (
        "import sys, psopenai_py; assert 'requests' not in sys.modules; "
        "psopenai_py.OpenAI; assert 'requests' in sys.modules"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


@pytest.fixture(autouse=True)
def _no_sdk_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("OPENAI_BASE_URL", "OPENAI_ORG_ID"):
        monkeypatch.delenv(name, raising=False)
    yield
