"""The change journal: record format, durability rules, one writer, torn lines; and the merge rule."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psopenai_py.commands.changes import check_merged, check_patch, merge_metadata
from psopenai_py.commands.set_completion import TABLE as SET_TABLE
from psopenai_py.errors import JournalError, ParameterBindingError
from psopenai_py.journal import VERSION, Journal, read_records

META = SET_TABLE.parameter("MetaData")


def test_records_are_versioned_lines_written_through(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path, resume=False) as journal:
        assert not path.exists()  # nothing written yet (a WhatIf run leaves no journal)
        journal.append({"op": "set", "state": "pending", "id": "a", "before": {}, "after": {"k": "v"}})
        # On disk before append returns: another reader sees it while the writer is open.
        assert [r["state"] for r in read_records(path)] == ["pending"]
        journal.append({"op": "set", "state": "done", "id": "a", "before": {}, "after": {"k": "v"}})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["v"] for line in lines] == [VERSION, VERSION]
    assert lines[0].startswith('{"v":1,"op":"set","state":"pending","id":"a"')


def test_a_journal_with_records_needs_resume(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path, resume=False) as journal:
        journal.append({"op": "set", "state": "done", "id": "a"})
    with pytest.raises(JournalError, match="Add -Resume"):
        Journal(path, resume=False)
    with Journal(path, resume=True) as journal:
        assert journal.entry("a") is not None and journal.entry("a").state == "done"  # type: ignore[union-attr]
        assert journal.entry("b") is None


def test_torn_last_line_is_ignored_with_a_warning_and_cut_before_appending(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"v":1,"op":"set","state":"done","id":"a"}\n{"v":1,"op":"set","sta')
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        assert [r["id"] for r in read_records(path)] == ["a"]
    assert "incomplete and is ignored" in caplog.text
    with Journal(path, resume=True) as journal:
        journal.append({"op": "set", "state": "done", "id": "b"})
    assert [r["id"] for r in read_records(path)] == ["a", "b"]
    assert path.read_bytes().count(b"\n") == 2


@pytest.mark.parametrize(
    "content, problem",
    [
        (b'{"v":1,"id":"a"}\nnot json\n{"v":1,"id":"b"}\n', "Line 2 .* is not a JSON record"),
        (b'{"v":2,"id":"a"}\n', "version 2"),
        (b"[1, 2]\n", "Line 1"),
    ],
)
def test_a_damaged_journal_is_an_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(content)
    with pytest.raises(JournalError, match=problem):
        read_records(path)


def test_one_writer_per_journal_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from psopenai_py.journal import Journal; j = Journal(sys.argv[1], resume=True); "
            "print('locked', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(JournalError, match="in use by another process"):
            Journal(path, resume=True)
    finally:
        holder.kill()  # SIGKILL on POSIX: the OS drops the lock with the process
        holder.wait(10)
    with Journal(path, resume=True):
        pass


def test_one_writer_inside_a_process_too(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path, resume=False), pytest.raises(JournalError, match="in use"):
        Journal(path, resume=False)
    Journal(path, resume=False).close()  # released by close


def test_workers_share_a_journal_without_tearing_lines(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path, resume=False) as journal:

        def work(worker: int) -> None:
            for n in range(50):
                journal.append(
                    {"op": "set", "state": "done", "id": f"{worker}-{n}", "after": {"x": "y" * 300}}
                )

        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    records = read_records(path)
    assert len(records) == 400
    assert len({r["id"] for r in records}) == 400


# -- the merge rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "current, patch, merged",
    [
        ({}, {"a": "1"}, {"a": "1"}),
        ({"a": "1", "b": "2"}, {"b": "3"}, {"a": "1", "b": "3"}),
        ({"a": "1", "b": "2"}, {"a": None}, {"b": "2"}),
        ({"a": "1"}, {"missing": None}, {"a": "1"}),
        ({"a": "1"}, {}, {"a": "1"}),
    ],
)
def test_merge_table(current: dict[str, str], patch: dict[str, str | None], merged: dict[str, str]) -> None:
    assert merge_metadata(current, patch) == merged


keys = st.text(min_size=1, max_size=5)


@given(st.dictionaries(keys, st.text(max_size=5)), st.dictionaries(keys, st.none() | st.text(max_size=5)))
def test_merge_properties(current: dict[str, str], patch: dict[str, str | None]) -> None:
    merged = merge_metadata(current, patch)
    for key, value in patch.items():
        assert merged.get(key) == value  # set, or gone for None
    for key in current.keys() - patch.keys():
        assert merged[key] == current[key]
    assert merge_metadata(merged, patch) == merged  # idempotent: a resend changes nothing


def test_patch_limits_and_the_merged_result_limits() -> None:
    assert check_patch(META, {"a": None, "b": "x"}) == {"a": None, "b": "x"}
    with pytest.raises(ParameterBindingError, match="limit is 64"):
        check_patch(META, {"k" * 65: None})
    with pytest.raises(ParameterBindingError, match="limit is 512"):
        check_patch(META, {"k": "v" * 513})
    # More than 16 entries is fine in a patch when removals bring the result within the limit.
    patch = {f"k{i}": None for i in range(20)}
    assert len(check_patch(META, patch)) == 20
    full = {f"k{i}": "v" for i in range(16)}
    with pytest.raises(ParameterBindingError, match=r"Cannot merge into 'chatcmpl-x'.*17 pairs.*limit is 16"):
        check_merged(META, "chatcmpl-x", merge_metadata(full, {"new": "v"}))
