"""Changing many completions safely (the README's section of that name), against the emulator:
-Merge, -Journal, -Resume, Remove's copy, and Restore-ChatCompletionMetadata (round trip,
conflicts, -Force, restoring a restore)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import psopenai_py
from psopenai_py.compat import (
    Export_ChatCompletion,
    Remove_ChatCompletion,
    Restore_ChatCompletionMetadata,
    Set_ChatCompletion,
)
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.errors import JournalError, MetadataConflictError, ParameterBindingError
from psopenai_py.journal import Journal, read_records
from psopenai_py.powershell.host import Host

from .conftest import CANARY_KEY

PATCH = {"reviewed": "yes", "draft": None}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def context(emulator: Emulator) -> None:
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=CANARY_KEY)


@pytest.fixture
def ids(emulator: Emulator) -> list[str]:
    return emulator.store.seed(12, prefix="chatcmpl-safe-", metadata={"team": "ops", "draft": "1"})


def meta(emulator: Emulator, ident: str) -> Any:
    stored = emulator.store.get(ident)
    assert stored is not None
    return stored["metadata"]


def posts(emulator: Emulator) -> list[tuple[str, bytes]]:
    return [(r.target.rsplit("/", 1)[1], r.body) for r in emulator.requests if r.method == "POST"]


def test_merge_keeps_other_keys_and_removes_null_keys(emulator: Emulator, ids: list[str]) -> None:
    done = psopenai_py.set_chat_completion(ids[0], PATCH, merge=True)
    assert done.Metadata.to_dict() == {"team": "ops", "reviewed": "yes"}
    assert [r.method for r in emulator.requests] == ["GET", "POST"]
    assert emulator.requests[1].body == b'{"metadata":{"team":"ops","reviewed":"yes"}}'
    # Without -Merge the original's replace is unchanged: one request, the given metadata only.
    emulator.reset()
    ids = emulator.store.seed(1, prefix="chatcmpl-replace-", metadata={"team": "ops"})
    assert psopenai_py.set_chat_completion(ids[0], {"k": "v"}).Metadata.to_dict() == {"k": "v"}
    assert [r.method for r in emulator.requests] == ["POST"]


def test_merge_checks_the_limits_on_the_result_and_sends_nothing(emulator: Emulator) -> None:
    full = {f"k{i}": "v" for i in range(16)}
    ident = emulator.store.seed(1, metadata=full)[0]
    with pytest.raises(ParameterBindingError, match=f"Cannot merge into '{ident}'.*17 pairs"):
        psopenai_py.set_chat_completion(ident, {"one-more": "v"}, merge=True)
    assert [r.method for r in emulator.requests] == ["GET"]
    # Removing one in the same merge brings it back within the limit.
    done = psopenai_py.set_chat_completion(ident, {"one-more": "v", "k0": None}, merge=True)
    assert len(done.Metadata.to_dict()) == 16


def test_whatif_merge_reads_and_shows_the_result_and_writes_nothing(
    emulator: Emulator, ids: list[str]
) -> None:
    stream = io.StringIO()
    from psopenai_py.commands import find_unit
    from psopenai_py.compat import _run_python_call

    _run_python_call(
        find_unit("Set-ChatCompletion"),
        (ids[:2],),
        {"MetaData": PATCH, "Merge": True, "WhatIf": True},
        Host(stream),
    )
    lines = stream.getvalue().splitlines()
    assert lines == [
        f'What if: Performing the operation "Set-ChatCompletion" on target "{i} (merge: the metadata '
        "becomes @{'team'='ops'; 'reviewed'='yes'})\"."
        for i in ids[:2]
    ]
    assert {r.method for r in emulator.requests} == {"GET"}


def test_journal_records_before_and_after_and_no_secret(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    outputs = Set_ChatCompletion(ids, MetaData=PATCH, Merge=True, Journal=str(journal), ThrottleLimit=4)
    assert [o.id for o in outputs] == ids
    records = read_records(journal)
    assert Counter(r["state"] for r in records) == {"pending": 12, "done": 12}
    for record in records:
        assert record["v"] == 1 and record["op"] == "set"
        assert record["before"] == {"team": "ops", "draft": "1"}
        assert record["after"] == {"team": "ops", "reviewed": "yes"}
    # Each pending record is on disk before its POST: its line precedes its done line.
    order = [(r["id"], r["state"]) for r in records]
    assert all(order.index((i, "pending")) < order.index((i, "done")) for i in ids)
    text = journal.read_text(encoding="utf-8")
    assert CANARY_KEY not in text and CANARY_KEY[-8:] not in text
    assert "Authorization" not in text and emulator.url not in text


def test_resume_skips_done_and_checks_pending(tmp_path: Path, emulator: Emulator, ids: list[str]) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:4], MetaData=PATCH, Merge=True, Journal=str(journal))
    # A crash after the pending record of ids[4] (not sent) and of ids[5] (sent, no done record).
    with journal.open("a", encoding="utf-8") as handle:
        for ident in ids[4:6]:
            handle.write(
                json.dumps(
                    {
                        "v": 1,
                        "op": "set",
                        "state": "pending",
                        "id": ident,
                        "before": {"team": "ops", "draft": "1"},
                        "after": {"team": "ops", "reviewed": "yes"},
                        "change": {"merge": True, "metadata": PATCH},
                    }
                )
                + "\n"
            )
    emulator.store.update_metadata(ids[5], {"team": "ops", "reviewed": "yes"})
    with pytest.raises(JournalError, match="Add -Resume"):
        Set_ChatCompletion(ids, MetaData=PATCH, Merge=True, Journal=str(journal))
    emulator.server.requests.clear()
    stream = io.StringIO()
    from psopenai_py.commands import find_unit
    from psopenai_py.compat import _run_python_call

    outputs = list(
        _run_python_call(
            find_unit("Set-ChatCompletion"),
            (ids,),
            {"MetaData": PATCH, "Merge": True, "Journal": str(journal), "Resume": True, "Verbose": True},
            Host(stream),
        )
    )
    # Skipped items give no output object; every other item one.
    assert [o.id for o in outputs] == ids[4:]
    skipped = [line for line in stream.getvalue().splitlines() if "Skipped '" in line]
    assert len(skipped) == 4 and all(f"'{i}'" in s for i, s in zip(ids[:4], skipped, strict=True))
    assert "WARNING: Skipped 4 completions that the journal" in stream.getvalue()
    posted = [i for i, _ in posts(emulator)]
    assert sorted(posted) == sorted([*ids[6:], ids[4]])
    assert ids[5] not in posted  # already applied: recorded done, not sent again
    assert all(meta(emulator, i) == {"team": "ops", "reviewed": "yes"} for i in ids)


def test_resume_refuses_a_different_change(tmp_path: Path, ids: list[str]) -> None:
    journal = tmp_path / "j.jsonl"
    with journal.open("w", encoding="utf-8") as handle:
        handle.write(
            json.dumps(
                {
                    "v": 1,
                    "op": "set",
                    "state": "pending",
                    "id": ids[0],
                    "before": {},
                    "after": {},
                    "change": {"merge": True, "metadata": {"other": "x"}},
                }
            )
            + "\n"
        )
    # Refused as a whole, before any id is read or sent (not id by id, which would change the
    # ids the journal does not name yet).
    with pytest.raises(ParameterBindingError, match="records a different change"):
        Set_ChatCompletion([ids[0]], MetaData=PATCH, Merge=True, Journal=str(journal), Resume=True)


def test_resume_needs_a_journal() -> None:
    with pytest.raises(ParameterBindingError, match="-Resume continues a journaled run"):
        psopenai_py.set_chat_completion("chatcmpl-x", {"k": "v"}, resume=True)


def test_a_failed_write_is_journaled_failed_and_resumed(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    # The server echoes the key in its error: the failed record must not carry it.
    echo = {"error": {"message": f"upstream failed for key {CANARY_KEY}"}}
    emulator.inject(Fault(status=500, method="POST", path_contains=ids[1], body=echo))
    errors: list[BaseException] = []
    Set_ChatCompletion(
        ids[:3],
        MetaData=PATCH,
        Merge=True,
        Journal=str(journal),
        ErrorVariable=errors,
        ErrorAction="SilentlyContinue",
    )
    assert len(errors) == 1
    states = [(r["id"], r["state"]) for r in read_records(journal)]
    assert (ids[1], "failed") in states and (ids[1], "done") not in states
    text = journal.read_text(encoding="utf-8")
    assert "upstream failed for key" in text and CANARY_KEY not in text and CANARY_KEY[-6:] not in text
    out = Set_ChatCompletion(ids[:3], MetaData=PATCH, Merge=True, Journal=str(journal), Resume=True)
    assert out.id == ids[1]  # the only item not skipped
    assert meta(emulator, ids[1]) == {"team": "ops", "reviewed": "yes"}


def test_remove_journals_the_completion_and_messages_first(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "rm.jsonl"
    expected = {i: (emulator.store.get(i), emulator.store.messages(i)) for i in ids[:3]}
    Remove_ChatCompletion(ids[:3], Journal=str(journal), ThrottleLimit=2)
    records = read_records(journal)
    pending = {r["id"]: r for r in records if r["state"] == "pending"}
    assert set(pending) == set(ids[:3])
    for ident, (completion, messages) in expected.items():
        assert pending[ident]["completion"] == completion
        assert pending[ident]["messages"] == messages
        assert emulator.store.get(ident) is None
    # Resume after a crash between the delete and its done record: not sent again.
    journal2 = tmp_path / "rm2.jsonl"
    journal2.write_text(
        json.dumps({"v": 1, "op": "remove", "state": "pending", "id": ids[0]}) + "\n", encoding="utf-8"
    )
    emulator.server.requests.clear()
    Remove_ChatCompletion([ids[0], ids[3]], Journal=str(journal2), Resume=True)
    assert [r.method for r in emulator.requests if r.method == "DELETE"] == ["DELETE"]
    assert emulator.store.get(ids[3]) is None


def _export(path: Path) -> list[bytes]:
    Export_ChatCompletion(str(path), IncludeMessages=True, ThrottleLimit=4)
    return sorted(path.read_bytes().splitlines())


def test_round_trip_export_change_restore_export(tmp_path: Path, emulator: Emulator, ids: list[str]) -> None:
    emulator.store.update_metadata(ids[3], {"team": "ops"})  # one without the removed key
    before = _export(tmp_path / "before.jsonl")
    journal = tmp_path / "change.jsonl"
    Set_ChatCompletion(ids, MetaData=PATCH, Merge=True, Journal=str(journal), ThrottleLimit=8)
    changed = _export(tmp_path / "changed.jsonl")
    assert changed != before and len(changed) == len(before) == len(ids)
    restored = Restore_ChatCompletionMetadata(str(journal), ThrottleLimit=4)
    assert len(restored) == len(ids)
    after = _export(tmp_path / "after.jsonl")
    assert after == before


def test_restore_chain_and_restore_of_a_restore(tmp_path: Path, emulator: Emulator, ids: list[str]) -> None:
    start = {i: meta(emulator, i) for i in ids}
    first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    Set_ChatCompletion(ids, MetaData={"step": "1"}, Merge=True, Journal=str(first))
    Set_ChatCompletion(ids[:6], MetaData={"step": "2"}, Merge=True, Journal=str(second))
    changed = {i: meta(emulator, i) for i in ids}
    # Newest first: take back the second run, then the first.
    Restore_ChatCompletionMetadata(str(second))
    Restore_ChatCompletionMetadata(str(first))
    assert {i: meta(emulator, i) for i in ids} == start
    # The first restore's own journal takes the first restore back (and only that).
    Restore_ChatCompletionMetadata(str(first) + ".restore.jsonl")
    assert {i: meta(emulator, i) for i in ids} == {i: {**start[i], "step": "1"} for i in ids}
    assert changed[ids[0]] == {**start[ids[0]], "step": "2"}


def test_conflict_is_reported_and_left_alone_and_force_overrides(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:5], MetaData=PATCH, Merge=True, Journal=str(journal))
    other = {"team": "ops", "reviewed": "no", "owner": "someone else"}
    emulator.store.update_metadata(ids[2], other)  # another writer, between change and restore
    errors: list[BaseException] = []
    stream = io.StringIO()
    from psopenai_py.commands import find_unit
    from psopenai_py.compat import _run_python_call

    restored = list(
        _run_python_call(
            find_unit("Restore-ChatCompletionMetadata"),
            (str(journal),),
            {"ErrorVariable": errors, "ThrottleLimit": 3},
            Host(stream),
        )
    )
    assert sorted(r.id for r in restored) == sorted(ids[:2] + ids[3:5])
    assert len(errors) == 1 and isinstance(errors[0], MetadataConflictError)
    assert errors[0].completion_id == ids[2] and ids[2] in str(errors[0])
    assert f"Restore-ChatCompletionMetadata: [{ids[2]}] Conflict: '{ids[2]}'" in stream.getvalue()
    assert meta(emulator, ids[2]) == other  # left alone
    assert [i for i, _ in posts(emulator)].count(ids[2]) == 1  # only the original change
    # Python: every id tried, the conflict raised at the end.
    with pytest.raises(MetadataConflictError):
        psopenai_py.restore_chat_completion_metadata(str(journal), resume=True)
    # -Force: restored anyway (a new restore journal, since the default one records a run).
    forced = Restore_ChatCompletionMetadata(
        str(journal), Force=True, RestoreJournal=str(tmp_path / "f.jsonl")
    )
    assert meta(emulator, ids[2]) == {"team": "ops", "draft": "1"}
    assert forced.id == ids[2]  # the others are already back: nothing written for them


def test_restore_whatif_shows_targets_and_conflicts_and_writes_nothing(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:2], MetaData=PATCH, Merge=True, Journal=str(journal))
    emulator.store.update_metadata(ids[1], {"x": "y"})
    emulator.server.requests.clear()
    stream = io.StringIO()
    errors: list[BaseException] = []
    from psopenai_py.commands import find_unit
    from psopenai_py.compat import _run_python_call

    _run_python_call(
        find_unit("Restore-ChatCompletionMetadata"),
        (str(journal),),
        {"WhatIf": True, "ErrorVariable": errors},
        Host(stream),
    )
    assert (
        f'What if: Performing the operation "Restore-ChatCompletionMetadata" on target "{ids[0]} '
        "(restore the metadata to @{'team'='ops'; 'draft'='1'})\"." in stream.getvalue()
    )
    assert len(errors) == 1 and ids[1] in str(errors[0])
    assert {r.method for r in emulator.requests} == {"GET"}
    assert not Path(str(journal) + ".restore.jsonl").exists()


def _cli(*args: str, emulator: Emulator, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": CANARY_KEY,
        "OPENAI_API_BASE": emulator.url,
    }
    return subprocess.run(
        [sys.executable, "-m", "psopenai_py", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_cli_journal_errors_are_clear_and_send_nothing(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    args = ("Set-ChatCompletion", "-Merge", "-MetaData", "@{reviewed='yes'}", "-Journal", str(journal))
    first = _cli(*args, emulator=emulator, stdin="\n".join(ids[:3]))
    assert first.returncode == 0, first.stderr
    assert [json.loads(line)["metadata"]["reviewed"] for line in first.stdout.splitlines()] == ["yes"] * 3
    emulator.server.requests.clear()
    again = _cli(*args, emulator=emulator, stdin="\n".join(ids[:3]))
    assert again.returncode == 2  # stopped before the first item
    assert again.stderr == (
        f"Set-ChatCompletion: Cannot use -Journal '{journal}': it already records a run. Add -Resume "
        "to continue that run, or give a new journal path.\n"
    )
    assert emulator.requests == []
    resumed = _cli(*args, "-Resume", "-Verbose", emulator=emulator, stdin="\n".join(ids[:4]))
    assert resumed.returncode == 0 and len(resumed.stdout.splitlines()) == 1
    assert resumed.stderr.count("VERBOSE: Skipped") == 3
    missing = _cli("Restore-ChatCompletionMetadata", str(tmp_path / "none.jsonl"), emulator=emulator)
    assert missing.returncode == 2 and "the journal does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr + again.stderr + resumed.stderr


def test_restore_refuses_a_journal_still_being_written(tmp_path: Path, ids: list[str]) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:2], MetaData=PATCH, Merge=True, Journal=str(journal))
    with Journal(journal, resume=True), pytest.raises(JournalError, match="in use"):
        Restore_ChatCompletionMetadata(str(journal))
    with pytest.raises(ParameterBindingError, match="cannot be the journal it restores"):
        Restore_ChatCompletionMetadata(str(journal), RestoreJournal=str(journal))


def _done(ident: str, before: dict[str, str], after: dict[str, str], op: str = "set") -> dict[str, Any]:
    return {"v": 1, "op": op, "state": "done", "id": ident, "before": before, "after": after}


@pytest.mark.parametrize(
    "records, expected",
    [
        # One change.
        ([_done("a", {"k": "0"}, {"k": "1"})], [("a", {"k": "1"}, {"k": "0"})]),
        # Two chained changes of one id: back to the first before, in one write.
        (
            [_done("a", {"k": "0"}, {"k": "1"}), _done("a", {"k": "1"}, {"k": "2"})],
            [("a", {"k": "2"}, {"k": "0"})],
        ),
        # A break in the chain (someone else wrote in between): only the newest is taken back.
        (
            [_done("a", {"k": "0"}, {"k": "1"}), _done("a", {"k": "9"}, {"k": "2"})],
            [("a", {"k": "2"}, {"k": "9"})],
        ),
        # Newest first across ids; pending, failed and remove records are not restored.
        (
            [
                _done("a", {}, {"x": "1"}),
                {"v": 1, "op": "set", "state": "pending", "id": "b", "before": {}, "after": {"x": "1"}},
                {"v": 1, "op": "set", "state": "failed", "id": "c", "error": "boom"},
                {"v": 1, "op": "remove", "state": "done", "id": "d"},
                _done("e", {}, {"x": "1"}, op="restore"),
            ],
            [("e", {"x": "1"}, {}), ("a", {"x": "1"}, {})],
        ),
    ],
)
def test_restore_plan(records: list[dict[str, Any]], expected: list[tuple[str, Any, Any]]) -> None:
    from psopenai_py.commands.restore_metadata import plan

    assert plan(records) == expected


def test_an_interrupted_restore_resumes(tmp_path: Path, emulator: Emulator, ids: list[str]) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:4], MetaData=PATCH, Merge=True, Journal=str(journal))
    restore_journal = tmp_path / "r.jsonl"
    # The restore was killed after sending ids[3] (newest first) and before its done record.
    emulator.store.update_metadata(ids[3], {"team": "ops", "draft": "1"})
    restore_journal.write_text(
        json.dumps(
            {
                "v": 1,
                "op": "restore",
                "state": "pending",
                "id": ids[3],
                "before": {"team": "ops", "reviewed": "yes"},
                "after": {"team": "ops", "draft": "1"},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    emulator.server.requests.clear()
    with pytest.raises(JournalError, match="Add -Resume"):
        Restore_ChatCompletionMetadata(str(journal), RestoreJournal=str(restore_journal))
    restored = Restore_ChatCompletionMetadata(str(journal), RestoreJournal=str(restore_journal), Resume=True)
    assert sorted(r.id for r in restored) == sorted(ids[:4])
    assert [i for i, _ in posts(emulator)] == list(reversed(ids[:3]))  # ids[3] not sent again
    assert all(meta(emulator, i) == {"team": "ops", "draft": "1"} for i in ids[:4])


def test_resume_refuses_a_different_change_also_for_done_ids(tmp_path: Path, ids: list[str]) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:2], MetaData=PATCH, Merge=True, Journal=str(journal))
    with pytest.raises(ParameterBindingError, match="records a different change"):
        Set_ChatCompletion(
            ids[:2], MetaData={"other": "change"}, Merge=True, Journal=str(journal), Resume=True
        )


values = st.none() | st.sampled_from(["a", "b", "c"])
patches = st.dictionaries(st.sampled_from(["k1", "k2", "k3"]), values, max_size=3)


@hypothesis_settings(max_examples=15, deadline=None)
@given(
    start=st.dictionaries(st.sampled_from(["k1", "k2", "k3"]), st.sampled_from(["a", "b"]), max_size=3),
    runs=st.lists(patches, min_size=1, max_size=3),
)
def test_restoring_journals_newest_first_gives_back_the_start(
    emulator_server: Emulator, start: dict[str, str], runs: list[dict[str, str | None]]
) -> None:
    emulator_server.reset()
    ident = emulator_server.store.seed(1, prefix="chatcmpl-prop-", metadata=start)[0]
    psopenai_py.set_openai_context(api_base=emulator_server.url, api_key=CANARY_KEY)
    with tempfile.TemporaryDirectory() as folder:
        journals = [str(Path(folder) / f"run{n}.jsonl") for n in range(len(runs))]
        expected = dict(start)
        for patch, journal in zip(runs, journals, strict=True):
            psopenai_py.set_chat_completion(ident, patch, merge=True, journal=journal)
            expected = {
                **{k: v for k, v in expected.items() if k not in patch},
                **{k: v for k, v in patch.items() if v is not None},
            }
            assert meta(emulator_server, ident) == expected
        for journal in reversed(journals):
            psopenai_py.restore_chat_completion_metadata(journal)
        assert meta(emulator_server, ident) == start
