"""Export-ChatCompletion: API objects line by line, messages attached, published only when
complete, never over a file, cursor loops and malformed pages refused, memory about one page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import psopenai_py
from psopenai_py.commands import export_completion
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.emulator.store import CompletionStore
from psopenai_py.errors import APIRequestException, InvalidResponseException, ParameterBindingError

from .conftest import CANARY_KEY
from .hostile_server import HostileServer, Reply, Seen, completion
from .list_server import PagedLister, paged_lister

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def context(emulator: Emulator) -> None:
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=CANARY_KEY)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_one_api_object_per_line_with_filters_and_messages(tmp_path: Path, emulator: Emulator) -> None:
    ops = emulator.store.seed(130, prefix="chatcmpl-ops-", metadata={"team": "ops"})
    emulator.store.seed(20, prefix="chatcmpl-dev-", metadata={"team": "dev"})
    target = tmp_path / "ops.jsonl"
    receipt = psopenai_py.export_chat_completion(
        str(target), metadata={"team": "ops"}, order="desc", include_messages=True, throttle_limit=4
    )
    assert receipt == export_completion.ExportReceipt(str(target), 130)
    exported = lines(target)
    assert [c["id"] for c in exported] == list(reversed(ops))
    for item in exported[:3]:
        stored = emulator.store.get(item["id"])
        messages = emulator.store.messages(item["id"])
        assert {k: v for k, v in item.items() if k != "messages"} == stored  # the API's JSON, as is
        assert item["messages"] == messages
    # Only list requests and message requests; every list request asked for the filter.
    list_requests = [r for r in emulator.requests if r.target.split("?")[0].endswith("/chat/completions")]
    assert len(list_requests) == 2 and all("metadata%5Bteam%5D=ops" in r.target for r in list_requests)
    assert [p.name for p in tmp_path.iterdir()] == ["ops.jsonl"]  # no staging file left


def test_existing_destination_is_untouched_and_nothing_is_sent(tmp_path: Path, emulator: Emulator) -> None:
    emulator.store.seed(3)
    target = tmp_path / "backup.jsonl"
    target.write_text("precious\n", encoding="utf-8")
    with pytest.raises(ParameterBindingError, match=f"Cannot export to '{target}': the file already exists"):
        psopenai_py.export_chat_completion(str(target))
    assert target.read_text(encoding="utf-8") == "precious\n"
    assert emulator.requests == []


def test_publish_never_replaces_a_file_that_appeared_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for hard_links in (True, False):
        staging = tmp_path / f"staging-{hard_links}"
        staging.write_text("new\n", encoding="utf-8")
        target = tmp_path / f"target-{hard_links}"
        if not hard_links:

            def no_link(src: Any, dst: Any) -> None:
                raise OSError("hard links not supported")

            monkeypatch.setattr(os, "link", no_link)
        export_completion._publish(str(staging), target)  # free name: published
        assert target.read_text(encoding="utf-8") == "new\n" and not staging.exists()
        staging.write_text("newer\n", encoding="utf-8")
        with pytest.raises(ParameterBindingError, match="already exists"):
            export_completion._publish(str(staging), target)
        assert target.read_text(encoding="utf-8") == "new\n"


def test_an_interrupted_export_leaves_no_destination(tmp_path: Path, emulator: Emulator) -> None:
    emulator.store.seed(350)
    # Two list pages answer, the third fails: nothing is published, the staging file is removed.
    emulator.inject(Fault(delay_ms=1, times=2, method="GET"), Fault(status=500, method="GET"))
    target = tmp_path / "all.jsonl"
    with pytest.raises(APIRequestException, match="500"):
        psopenai_py.export_chat_completion(str(target))
    assert list(tmp_path.iterdir()) == []


def test_a_killed_export_leaves_no_destination(tmp_path: Path, emulator: Emulator) -> None:
    emulator.store.seed(2000)
    emulator.latency_ms = 40  # 20 pages: about a second
    target = tmp_path / "all.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": CANARY_KEY,
        "OPENAI_API_BASE": emulator.url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", "Export-ChatCompletion", str(target)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Kill it once it has written part of the staging file.
        deadline = 200
        while deadline and not any(
            p.name.endswith(".partial") and p.stat().st_size for p in tmp_path.iterdir()
        ):
            threading.Event().wait(0.02)
            deadline -= 1
        assert deadline, "the export never started writing"
        process.kill()
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    assert not target.exists()
    assert all(p.name.startswith(".all.jsonl.") for p in tmp_path.iterdir())


def test_stdout_and_the_receipt(tmp_path: Path, emulator: Emulator) -> None:
    ids = emulator.store.seed(105)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": CANARY_KEY,
        "OPENAI_API_BASE": emulator.url,
    }
    result = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Export-ChatCompletion", "-Path", "-"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ids
    assert result.stderr == "Stored completions: 105\nAll pages fetched.\n"
    target = tmp_path / "x.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Export-ChatCompletion", str(target)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout == ""
    assert result.stderr == f"Saved {target}\nStored completions: 105\nAll pages fetched.\n"
    again = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Export-ChatCompletion", str(target)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and f"'{target}'" in again.stderr and "Traceback" not in again.stderr


# -- a hostile list server ----------------------------------------------------------------------


@pytest.fixture
def hostile() -> Iterator[type[PagedLister]]:
    with paged_lister(CANARY_KEY) as handler:
        yield handler


def _item(ident: str) -> dict[str, Any]:
    return {"id": ident, "object": "chat.completion", "metadata": {}}


@pytest.mark.parametrize(
    "pages, problem",
    [
        # The server ignores `after` and says there is more, for ever.
        ([{"data": [_item("a"), _item("b")], "has_more": True}], "'a' a second time"),
        # A->B->A
        (
            [
                {"data": [_item("a")], "has_more": True},
                {"data": [_item("b")], "has_more": True},
                {"data": [_item("a")], "has_more": True},
            ],
            "'a' a second time",
        ),
        ([{"data": [], "has_more": True}], "says there is more but holds no item to continue after"),
        ([{"object": "list"}], "it has no data"),
        ([{"data": [{"object": "chat.completion"}], "has_more": False}], "its item 1 has no id"),
        ([{"data": [_item("a")], "has_more": "yes"}], "its has_more is 'yes', not true or false"),
    ],
)
def test_a_cursor_loop_or_a_malformed_page_is_an_error(
    tmp_path: Path, hostile: type[PagedLister], pages: list[Any], problem: str
) -> None:
    hostile.pages = pages
    target = tmp_path / "x.jsonl"
    with pytest.raises(InvalidResponseException, match=problem):
        psopenai_py.export_chat_completion(str(target))
    assert len(hostile.served) <= 4  # stopped, not looping
    assert list(tmp_path.iterdir()) == []


# -- memory -------------------------------------------------------------------------------------


class _ListedOnce(CompletionStore):
    """The emulator's store, listing from one sorted snapshot: its own list copies every stored
    completion per page, which would make 200 pages of 20,000 take minutes."""

    snapshot: list[dict[str, Any]] | None = None

    def list(
        self, *, model: str | None = None, metadata: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        if self.snapshot is None:
            self.snapshot = super().list()
        return self.snapshot


_MEASURE = """
import sys, tracemalloc, psopenai_py
# Warm up (imports, connection pool, settings) with an empty export: the measure is the paging.
keys = {"api_base": sys.argv[2], "api_key": sys.argv[3]}
psopenai_py.export_chat_completion(sys.argv[1] + ".warm", after="none", **keys)
tracemalloc.start()
receipt = psopenai_py.export_chat_completion(sys.argv[1], **keys)
print(receipt.count, tracemalloc.get_traced_memory()[1])
"""


def _peak(tmp_path: Path, url: str, name: str) -> tuple[int, int]:
    # A fresh process: the measure is the export's alone (not the emulator's, not the tests').
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(tmp_path / name), url, CANARY_KEY],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    count, peak = result.stdout.split()
    return int(count), int(peak)


def test_memory_of_an_export_is_about_one_page(tmp_path: Path) -> None:
    with Emulator() as small, Emulator() as large:
        small.server.store = _ListedOnce()
        large.server.store = _ListedOnce()
        small.store.seed(200)  # two pages
        large.store.seed(20_000)  # two hundred pages, about 8.7 MB of lines
        count_small, peak_small = _peak(tmp_path, small.url, "small.jsonl")
        count_large, peak_large = _peak(tmp_path, large.url, "large.jsonl")
    assert (count_small, count_large) == (200, 20_000)
    size = (tmp_path / "large.jsonl").stat().st_size
    assert size > 8_000_000
    # The bound: the export of 20,000 peaks within 1 MB of the export of two pages (one page of
    # 100 completions is about 70 kB of JSON, a few hundred kB as Python objects, and a page being
    # parsed overlaps the one being written), far below what holding the list would take (the
    # 8.7 MB of lines are several times that as Python objects).
    assert peak_large < peak_small + 1_000_000, (peak_small, peak_large)
    assert peak_large < size / 4, (peak_large, size)
    print(f"export peak: {peak_small} B for 200, {peak_large} B for 20,000 ({size} B written)")


# -- a list that goes back ----------------------------------------------------------------------


def test_an_id_listed_again_two_pages_later_publishes_no_backup(tmp_path: Path) -> None:
    # Pages a,b -> c,d -> a,e: the third page goes back to the first page's 'a'.  A backup with
    # 'a' twice would disagree with what is stored (and restore it twice).
    listed = {None: (["a", "b"], True), "b": (["c", "d"], True), "d": (["a", "e"], False)}

    def script(seen: Seen) -> Reply:
        ids, more = listed[seen.query.get("after")]
        return Reply(200, {"object": "list", "data": [completion(i) for i in ids], "has_more": more})

    target = tmp_path / "backup.jsonl"
    with HostileServer(script) as server:
        with pytest.raises(InvalidResponseException, match="'a' a second time"):
            psopenai_py.export_chat_completion(str(target), api_base=server.base_url, api_key=CANARY_KEY)
        assert server.count() == 3
    assert list(tmp_path.iterdir()) == []
