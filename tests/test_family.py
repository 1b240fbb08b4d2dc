"""Get-, Remove-, Request-ChatCompletion and Get-ChatCompletionMessage over the emulator, their
pipes, paging, filters, WhatIf and bad input."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlsplit

import pytest

import psopenai_py
from psopenai_py.compat import (
    Get_ChatCompletion,
    Get_ChatCompletionMessage,
    Remove_ChatCompletion,
    Request_ChatCompletion,
    Set_ChatCompletion,
    invoke,
)
from psopenai_py.emulator import Emulator
from psopenai_py.errors import NotFoundException, ParameterBindingError, TimeoutException

KEY = "sk-family-000000000000000000000"


@pytest.fixture(autouse=True)
def context(emulator: Emulator, transport) -> None:
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=KEY)


def query_of(request) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(request.target).query)


def test_get_by_id_with_history(emulator):
    created = emulator.store.create(
        model="m", messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    )
    result = psopenai_py.get_chat_completion(created["id"])
    assert result.id == created["id"] and result.pstypenames == ["PSOpenAI.Chat.Completion"]
    assert [(h.role, h.content) for h in result.History] == [
        ("system", "be brief"),
        ("user", "hi"),
        ("assistant", created["choices"][0]["message"]["content"]),
    ]
    assert [r.request_line.split(" ")[1].split("?")[0] for r in emulator.requests] == [
        f"/v1/chat/completions/{created['id']}",
        f"/v1/chat/completions/{created['id']}/messages",
    ]
    assert all(r.header("Content-Type") is None for r in emulator.requests)  # GET has no body


def test_no_history_skips_the_messages_request(emulator, stored):
    result = psopenai_py.get_chat_completion(stored, no_history=True)
    # History holds the reply alone, as the original's -Primitive leaves it.
    assert [h.role for h in result.History] == ["assistant"] and len(emulator.requests) == 1
    assert result.Message is None


def test_list_default_page_and_the_more_data_warning(emulator, caplog):
    ids = emulator.store.seed(25, prefix="chatcmpl-list-")
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        listed = psopenai_py.get_chat_completion()
    assert [c.id for c in listed] == ids[:20]
    assert query_of(emulator.requests[0]) == [("limit", "20"), ("order", "asc")]
    assert caplog.messages == ["There is more data that has not been retrieved."]


def test_list_all_follows_the_pages(emulator, caplog):
    ids = emulator.store.seed(250, prefix="chatcmpl-all-")
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        listed = psopenai_py.get_chat_completion(all_pages=True, no_history=True)
    assert [c.id for c in listed] == ids
    assert [query_of(r) for r in emulator.requests] == [
        [("limit", "100"), ("order", "asc")],
        [("limit", "100"), ("order", "asc"), ("after", ids[99])],
        [("limit", "100"), ("order", "asc"), ("after", ids[199])],
    ]
    assert caplog.messages == []


def test_list_limit_order_after_and_filters_on_the_wire(emulator):
    emulator.store.seed(5, prefix="chatcmpl-a-", model="m1", metadata={"team": "ops"})
    emulator.store.seed(5, prefix="chatcmpl-b-", model="m2", metadata={"team": "ops"})
    emulator.store.seed(5, prefix="chatcmpl-c-", model="m1", metadata={"team": "dev"})
    listed = psopenai_py.get_chat_completion(
        limit=3, order="desc", after="chatcmpl-a-000004", metadata={"team": "ops"}, model="m1"
    )
    assert [c.id for c in listed] == ["chatcmpl-a-000003", "chatcmpl-a-000002", "chatcmpl-a-000001"]
    assert emulator.requests[0].target == (
        "/v1/chat/completions?limit=3&order=desc&after=chatcmpl-a-000004&metadata%5Bteam%5D=ops&model=m1"
    )


def test_paging_loop_has_one_deadline(emulator):
    emulator.store.seed(450, prefix="chatcmpl-slow-")
    emulator.latency_ms = 400
    with pytest.raises(TimeoutException, match=r"The operation was canceled due to timeout\."):
        psopenai_py.get_chat_completion(all_pages=True, timeout_sec=1, no_history=True)
    assert 2 <= len(emulator.requests) <= 3


def test_messages_paged(emulator):
    created = emulator.store.create(
        model="m",
        messages=[
            {"role": "user", "content": f"m{i}", **({"name": "ann"} if i == 0 else {})} for i in range(5)
        ],
    )
    messages = psopenai_py.get_chat_completion_message(created["id"], limit=2, all_pages=True)
    assert [m.content for m in messages] == ["m0", "m1", "m2", "m3", "m4"]
    assert messages[0].name == "ann" and "name" not in messages[1]
    assert messages[0].pstypenames == ["PSOpenAI.Chat.Completion.Message"]
    assert set(messages[1].to_dict()) == {"id", "role", "content"}
    first_two = Get_ChatCompletionMessage(created["id"], Limit=2)
    assert [m.content for m in first_two] == ["m0", "m1"]


def test_remove_outputs_nothing_and_says_so_verbosely(emulator, stored, caplog):
    with caplog.at_level(logging.INFO, logger="psopenai_py"):
        psopenai_py.remove_chat_completion(stored)
    assert f'The chat with id "{stored}" has been deleted.' in caplog.messages
    assert emulator.store.get(stored) is None
    with pytest.raises(NotFoundException):
        psopenai_py.remove_chat_completion(stored)


def test_request_body_and_store_only_when_given(emulator):
    reply = psopenai_py.request_chat_completion(
        "hello", system_message="be brief", temperature=0.5, max_completion_tokens=64
    )
    assert emulator.requests[0].body == (
        b'{"model":"gpt-5.4-mini","messages":[{"role":"system","content":"be brief"},'
        b'{"role":"user","content":"hello"}],"temperature":0.5,"max_completion_tokens":64}'
    )
    assert len(emulator.store) == 0
    assert reply.Message == "hello" and reply.Answer == [reply.choices[0].message.content]
    assert [h.role for h in reply.History] == ["system", "user", "assistant"]
    stored = psopenai_py.request_chat_completion("keep", store=True, metadata={"t": "1"}, model="gpt-x")
    assert emulator.requests[1].json() == {
        "model": "gpt-x",
        "messages": [{"role": "user", "content": "keep"}],
        "store": True,
        "metadata": {"t": "1"},
    }
    assert emulator.store.get(stored.id)["metadata"] == {"t": "1"}


def test_request_set_remove_pipe(emulator):
    assert (
        invoke(
            "Request-ChatCompletion 'x' -Store | Set-ChatCompletion -MetaData @{a='1'} | "
            "Remove-ChatCompletion"
        )
        is None
    )
    assert [r.method for r in emulator.requests] == ["POST", "POST", "DELETE"]
    assert len(emulator.store) == 0


def test_get_all_filtered_into_set(emulator):
    emulator.store.seed(130, prefix="chatcmpl-ops-", metadata={"team": "ops"})
    emulator.store.seed(10, prefix="chatcmpl-dev-", metadata={"team": "dev"})
    updated = Set_ChatCompletion(
        Get_ChatCompletion(All=True, MetaData={"team": "ops"}, NoHistory=True, ErrorAction="Stop"),
        MetaData={"team": "ops", "reviewed": "yes"},
    )
    assert len(updated) == 130
    assert {c["metadata"].get("reviewed") for c in emulator.store.list()} == {"yes", None}
    assert sum(1 for c in emulator.store.list() if c["metadata"].get("reviewed")) == 130


@pytest.mark.parametrize(
    "command",
    [
        "Set-ChatCompletion {id} -MetaData @{{k='v'}} -WhatIf",
        "Remove-ChatCompletion {id} -WhatIf",
        "'{id}', '{id}' | Remove-ChatCompletion -wi",
    ],
)
def test_what_if_sends_nothing(emulator, stored, capsys, command):
    assert invoke(command.format(id=stored)) is None
    assert emulator.requests == []
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith('What if: Performing the operation "') for line in lines)
    assert stored in lines[0]


def test_what_if_describes_the_change(emulator, stored, capsys):
    Set_ChatCompletion(stored, MetaData={"k": "v"}, WhatIf=True)
    assert capsys.readouterr().err == (
        f'What if: Performing the operation "Set-ChatCompletion" on target "{stored} (replace '
        "the metadata with @{'k'='v'})\".\n"
    )


def test_confirm_without_a_terminal_is_a_clear_error(emulator, stored, capsys, monkeypatch):
    import builtins

    real_open = builtins.open

    def no_tty(path, *args, **kwargs):
        if path == "/dev/tty":
            raise OSError("no terminal")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_tty)
    with pytest.raises(ParameterBindingError, match="no terminal to ask on"):
        Remove_ChatCompletion(stored, Confirm=True)
    assert emulator.requests == []


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: psopenai_py.get_chat_completion(limit=101), "maximum allowed range of 100"),
        (lambda: psopenai_py.get_chat_completion(limit=0), "minimum allowed range of 1"),
        (lambda: psopenai_py.get_chat_completion(order="up"), '"asc,desc"'),
        (
            lambda: psopenai_py.get_chat_completion(metadata={"k": 1}),  # type: ignore[dict-item]
            "values must be strings",
        ),
        (lambda: psopenai_py.request_chat_completion("x", temperature=3), "maximum allowed range of 2"),
        (lambda: psopenai_py.request_chat_completion(""), "null or empty"),
        (
            lambda: psopenai_py.request_chat_completion("x", metadata={f"k{i}": "v" for i in range(17)}),
            "the limit is 16",
        ),
        (lambda: psopenai_py.remove_chat_completion(" "), "empty or blank"),
        (lambda: Set_ChatCompletion(["a"], MetaData={}, ThrottleLimit=65), "maximum allowed range of 64"),
        (lambda: Request_ChatCompletion("x", Temperature="hot"), "System.Double"),
    ],
)
def test_bad_input_sends_nothing(emulator, call, message):
    with pytest.raises((ParameterBindingError, psopenai_py.ParameterTypeError), match=message):
        call()
    assert emulator.requests == []
