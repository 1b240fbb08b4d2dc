"""The one page loop: its check of a page, its guard against a list that goes back, the two rules
it reads ``has_more`` by, and every view over it (Get-ChatCompletion -All,
Get-ChatCompletionMessage -All, Export-ChatCompletion, the openai CLI dialect's list, messages list
and export, the SDK client's cursor pages) answering a bad list the same way."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import psopenai_py
from psopenai_py.commands import paging
from psopenai_py.commands.paging import PSOPENAI, SDK, Pager, SeenIds, check_page
from psopenai_py.errors import InvalidResponseException
from psopenai_py.openai_cli import main as dialect_main
from psopenai_py.powershell import cli as powershell_cli

from .conftest import CANARY_KEY
from .hostile_server import HostileServer, Reply, Seen, completion

# -- the check of a page -------------------------------------------------------------------------

MALFORMED: dict[str, tuple[Any, str]] = {
    "a string": ("hello", "it is a string, not an object"),
    "an array": ([], "it is an array, not an object"),
    "null": (None, "it is null, not an object"),
    "no data": ({"object": "list"}, "it has no data"),
    "data null": ({"data": None, "has_more": False}, "it has no data"),
    "data a string": ({"data": "abc"}, "its data is a string, not a list"),
    "data an object": ({"data": {"id": "a"}}, "its data is an object, not a list"),
    "an item a number": ({"data": [{"id": "a"}, 2]}, "its item 2 is a number, not an object"),
    "an item without id": ({"data": [{"id": "a"}, {"x": 1}], "has_more": False}, "its item 2 has no id"),
    "an empty id": ({"data": [{"id": ""}]}, "its item 1 has no id"),
    "a numeric id": ({"data": [{"id": 7}]}, "its item 1 has no id"),
    "has_more a string": ({"data": [{"id": "a"}], "has_more": "yes"}, "its has_more is 'yes'"),
    "has_more a number": ({"data": [{"id": "a"}], "has_more": 1}, "its has_more is 1"),
}


@pytest.mark.parametrize("policy", [PSOPENAI, SDK], ids=lambda p: p.name)
@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_page_gets_one_verdict_under_both_rules(name: str, policy: paging.Policy) -> None:
    page, problem = MALFORMED[name]
    with pytest.raises(InvalidResponseException, match="list page that cannot be followed") as caught:
        check_page(page, policy)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("has_more", "psopenai", "sdk"),
    [(True, True, True), (False, False, False), (None, False, True), ("absent", False, True)],
)
def test_the_two_rules_differ_only_on_a_missing_has_more(has_more: Any, psopenai: bool, sdk: bool) -> None:
    page: dict[str, Any] = {"data": [{"id": "a"}]}
    if has_more != "absent":
        page["has_more"] = has_more
    assert check_page(page, PSOPENAI) == ([{"id": "a"}], psopenai)
    assert check_page(page, SDK) == ([{"id": "a"}], sdk)


# -- the guard -----------------------------------------------------------------------------------

ids = st.lists(st.text(min_size=1, max_size=12), max_size=300)


@given(ids, ids)
def test_seen_ids_answer_as_a_set_does(added: list[str], asked: list[str]) -> None:
    seen = SeenIds()
    for ident in added:
        seen.add(ident)
    assert seen.count == len(set(added))
    assert [i in seen for i in asked + added] == [i in set(added) for i in asked + added]


@given(ids, st.integers(min_value=0, max_value=300))
def test_going_back_keeps_exactly_the_earlier_ids(added: list[str], mark: int) -> None:
    seen = SeenIds(forkable=True)
    for ident in added:
        seen.add(ident)
    distinct = list(dict.fromkeys(added))
    earlier = seen.upto(mark)
    assert [i in earlier for i in distinct] == [n < mark for n in range(len(distinct))]
    assert seen.count == len(distinct)  # the original is untouched


def test_a_guard_that_keeps_no_order_cannot_go_back() -> None:
    with pytest.raises(RuntimeError):
        SeenIds().upto(0)


def _scripted(pages: dict[str | None, list[Any]]) -> tuple[Callable[[str | None], Any], list[str | None]]:
    asked: list[str | None] = []

    def fetch(after: str | None) -> Any:
        asked.append(after)
        ids, more = pages[after]
        return {"data": [{"id": i} for i in ids], "has_more": more}

    return fetch, asked


def test_a_page_going_back_is_refused_whole_and_leaves_the_run_as_it_was() -> None:
    fetch, asked = _scripted({None: [["a", "b"], True], "b": [["c", "a"], True]})
    pager = Pager(fetch, SDK, forkable=True)
    first = pager.first()
    with pytest.raises(InvalidResponseException, match="'a' a second time"):
        pager.next(first)
    assert "c" not in first.seen and first.seen.count == first.mark == 2
    assert asked == [None, "b"]


def test_the_starting_cursor_counts_as_read() -> None:
    fetch, asked = _scripted({"x": [["y", "x"], False]})
    with pytest.raises(InvalidResponseException, match="'x' a second time"):
        list(Pager(fetch, PSOPENAI, after="x").pages())
    assert asked == ["x"]


def test_a_run_that_must_reach_the_end_refuses_an_empty_page_that_says_more() -> None:
    fetch, asked = _scripted({None: [["a"], True], "a": [[], True]})
    assert [p.data for p in Pager(fetch, SDK).pages()] == [[{"id": "a"}], []]  # the SDK stops there
    with pytest.raises(InvalidResponseException, match="says there is more but holds no item"):
        list(Pager(fetch, SDK).pages(to_the_end=True))
    assert asked == [None, "a", None, "a"]


@given(st.lists(st.sampled_from("abcdefghijklmnopqrst"), max_size=40), st.integers(1, 7), st.booleans())
def test_the_loop_delivers_each_id_once_in_order_or_stops_before_the_page_that_repeats(
    listed: list[str], size: int, sdk_rule: bool
) -> None:
    chunks = [listed[i : i + size] for i in range(0, len(listed), size)] or [[]]
    asked: list[str | None] = []

    def fetch(after: str | None) -> Any:
        n = len(asked)
        assert after == (chunks[n - 1][-1] if n else None)  # after=<the last id read>
        asked.append(after)
        return {"data": [{"id": i} for i in chunks[n]], "has_more": n + 1 < len(chunks)}

    expected: list[str] = []  # the pages before the first one that holds an id a second time
    for chunk in chunks:
        if len(set(expected + chunk)) < len(expected) + len(chunk):
            break
        expected += chunk
    delivered: list[str] = []
    try:
        for page in Pager(fetch, SDK if sdk_rule else PSOPENAI).pages():
            delivered += [item["id"] for item in page.data]
    except InvalidResponseException as error:
        assert "a second time" in str(error) and expected != listed
    else:
        assert expected == listed
    assert delivered == expected


# -- every view, against a list that goes back two pages later -------------------------------------

GOES_BACK: dict[str | None, tuple[list[str], bool]] = {
    None: (["a", "b"], True),
    "b": (["c", "d"], True),
    "d": (["a", "e"], False),
}


def _goes_back(seen: Seen) -> Reply:
    ids, more = GOES_BACK[seen.query.get("after")]
    if seen.path.endswith("/messages"):
        items = [{"id": i, "role": "user", "content": "x"} for i in ids]
    else:
        items = [completion(i) for i in ids]
    return Reply(200, {"object": "list", "data": items, "has_more": more})


@pytest.fixture
def server(transport: Any) -> Iterator[HostileServer]:
    with HostileServer(_goes_back) as hostile:
        yield hostile


def _powershell(server: HostileServer, *args: str) -> tuple[list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    status = powershell_cli.main(
        [*args, "-ApiKey", CANARY_KEY, "-ApiBase", server.base_url],
        stdin=io.StringIO(""),
        stdout=out,
        stderr=err,
    )
    assert status != 0
    return [json.loads(line)["id"] for line in out.getvalue().splitlines()], err.getvalue()


def _dialect(server: HostileServer, *args: str) -> tuple[list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    status = dialect_main(
        [*args, "--api-key", CANARY_KEY, "--base-url", server.base_url, "--format", "jsonl"],
        stdout=out,
        stderr=err,
    )
    assert status == 1
    return [json.loads(line)["id"] for line in out.getvalue().splitlines()], err.getvalue()


def _sdk(call: Callable[[psopenai_py.OpenAI], Any]) -> Callable[[HostileServer], tuple[list[str], str]]:
    def view(server: HostileServer) -> tuple[list[str], str]:
        client = psopenai_py.OpenAI(api_key=CANARY_KEY, base_url=server.base_url, max_retries=0)
        delivered: list[str] = []
        with pytest.raises(InvalidResponseException) as caught:
            for item in call(client):
                delivered.append(item.id)
        return delivered, str(caught.value)

    return view


def _library(call: Callable[..., Any]) -> Callable[[HostileServer], tuple[list[str], str]]:
    def view(server: HostileServer) -> tuple[list[str], str]:
        with pytest.raises(InvalidResponseException) as caught:
            call(api_key=CANARY_KEY, api_base=server.base_url)
        return ["a", "b", "c", "d"], str(caught.value)  # a library call returns all or nothing

    return view


VIEWS: dict[str, Callable[[HostileServer], tuple[list[str], str]]] = {
    "Get-ChatCompletion -All": lambda s: _powershell(s, "Get-ChatCompletion", "-All", "-Primitive"),
    "Get-ChatCompletionMessage -All": lambda s: _powershell(s, "Get-ChatCompletionMessage", "c1", "-All"),
    "get_chat_completion(all_pages=True)": _library(
        lambda **k: psopenai_py.get_chat_completion(all_pages=True, no_history=True, **k)
    ),
    "dialect list": lambda s: _dialect(s, "chat:completions", "list"),
    "dialect messages list": lambda s: _dialect(s, "chat:completions:messages", "list", "c1"),
    "dialect export": lambda s: _dialect(s, "chat:completions", "export"),
    "SDK list": _sdk(lambda c: c.chat.completions.list()),
    "SDK messages list": _sdk(lambda c: c.chat.completions.messages.list("c1")),
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_view_stops_where_the_list_goes_back(server: HostileServer, view: str) -> None:
    delivered, error = VIEWS[view](server)
    assert "'a' a second time" in error and "Traceback" not in error
    assert delivered == ["a", "b", "c", "d"]  # the pages before it, each item once
    assert server.count() == 3  # stopped, not looping


def _key_twice(seen: Seen) -> Reply:
    # A server that puts the key in an id and lists it twice: the error names the id, masked.
    return Reply(200, {"object": "list", "data": [completion(CANARY_KEY)] * 2, "has_more": False})


@pytest.mark.parametrize("view", list(VIEWS))
def test_the_id_read_twice_is_named_without_the_key(transport: Any, view: str) -> None:
    with HostileServer(_key_twice) as server:
        _, error = VIEWS[view](server)
    assert "a second time" in error
    assert not any(CANARY_KEY[i : i + 8] in error for i in range(11, len(CANARY_KEY) - 7))


def test_an_export_to_a_file_that_goes_back_publishes_nothing(server: HostileServer, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "backup.jsonl"
    args = ["chat:completions", "export", "-o", str(target), "--api-key", CANARY_KEY]
    status = dialect_main([*args, "--base-url", server.base_url], stdout=out, stderr=err)
    assert status == 1 and "'a' a second time" in err.getvalue() and "Saved" not in err.getvalue()
    assert list(tmp_path.iterdir()) == []


# -- the views keep their own rule ---------------------------------------------------------------


def _no_has_more(seen: Seen) -> Reply:
    data = [] if seen.query.get("after") else [completion("a")]
    return Reply(200, {"object": "list", "data": data})


def test_a_missing_has_more_ends_a_powershell_list_and_pages_on_in_the_sdk(
    transport: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with HostileServer(_no_has_more) as server, caplog.at_level(logging.WARNING):
        listed = psopenai_py.get_chat_completion(
            all_pages=True, no_history=True, api_key=CANARY_KEY, api_base=server.base_url
        )
        assert [c.id for c in listed] == ["a"] and server.count() == 1
        client = psopenai_py.OpenAI(api_key=CANARY_KEY, base_url=server.base_url)
        assert [c.id for c in client.chat.completions.list()] == ["a"] and server.count() == 1 + 2
    assert paging.MORE_DATA_WARNING not in caplog.messages


def _empty_with_more(seen: Seen) -> Reply:
    data = [] if seen.query.get("after") else [completion("a")]
    return Reply(200, {"object": "list", "data": data, "has_more": True})


def test_an_empty_page_that_says_more_warns_a_list_and_fails_an_export(
    transport: Any, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    with HostileServer(_empty_with_more) as server, caplog.at_level(logging.WARNING):
        listed = psopenai_py.get_chat_completion(
            all_pages=True, no_history=True, api_key=CANARY_KEY, api_base=server.base_url
        )
        assert [c.id for c in listed] == ["a"] and caplog.messages == [paging.MORE_DATA_WARNING]
        with pytest.raises(InvalidResponseException, match="says there is more but holds no item"):
            psopenai_py.export_chat_completion(
                str(tmp_path / "backup.jsonl"), api_key=CANARY_KEY, api_base=server.base_url
            )
        err = io.StringIO()
        status = dialect_main(
            ["chat:completions", "export", "--api-key", CANARY_KEY, "--base-url", server.base_url],
            stdout=io.StringIO(),
            stderr=err,
        )
        assert status == 1 and "All pages fetched" not in err.getvalue()
    assert list(tmp_path.iterdir()) == []


# -- the SDK's pages -----------------------------------------------------------------------------


def _three_pages(seen: Seen) -> Reply:
    pages = {None: (["a", "b"], True), "b": (["c", "d"], True), "d": (["e"], False)}
    ids, more = pages[seen.query.get("after")]
    return Reply(200, {"object": "list", "data": [completion(i) for i in ids], "has_more": more})


def test_sdk_pages_can_be_followed_again_from_any_page(transport: Any) -> None:
    with HostileServer(_three_pages) as server:
        client = psopenai_py.OpenAI(api_key=CANARY_KEY, base_url=server.base_url)
        first = client.chat.completions.list()
        assert [c.id for c in first] == ["a", "b", "c", "d", "e"]
        assert [c.id for c in first] == ["a", "b", "c", "d", "e"]  # again: not a list going back
        second = first.get_next_page()
        assert [c.id for c in second.data] == [c.id for c in first.get_next_page().data] == ["c", "d"]
        assert [len(p.data) for p in second.iter_pages()] == [2, 1]
        assert server.count() == 1 + 2 + 2 + 2 + 1
