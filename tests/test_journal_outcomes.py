"""What a journaled change reports when the journal or the answer lets it down: a full disk
between ``pending`` and ``done`` (the change is applied, and said so, with a warning), and a
DELETE answered ``{"deleted": false}`` (not recorded as removed, and reported failed)."""

from __future__ import annotations

import errno
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from psopenai_py import journal as journal_module
from psopenai_py.compat import Remove_ChatCompletion
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.journal import read_records
from psopenai_py.powershell import cli

from .hostile_server import HostileServer, Reply, Seen, completion

KEY = "sk-outcome-00000000000000000000000000"


class _DiskFullAt:
    """The os module as the journal sees it, where writing a record in ``state`` fails with a
    full disk (once the first such write has failed, every later one does, as on a full disk)."""

    def __init__(self, state: str) -> None:
        self.marker = f'"state":"{state}"'.encode()
        self.full = False

    def write(self, fd: int, data: bytes) -> int:
        if self.full or self.marker in data:
            self.full = True
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.write(fd, data)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def _run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text and "unexpected error" not in text
    assert KEY[11:19] not in text  # no piece of the key
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    return emulator


def test_a_full_disk_before_done_reports_the_change_applied(
    env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = env.store.seed(3, prefix="chatcmpl-full-")
    journal = tmp_path / "j.jsonl"
    disk = _DiskFullAt("done")
    monkeypatch.setattr(journal_module, "os", disk)
    status, out, err = _run(
        ["Set-ChatCompletion", "-MetaData", "@{k='v'}", "-Journal", str(journal)], "\n".join(ids)
    )
    # The first change reached the API: it is an output, with a warning; the others fail with
    # nothing sent, each named once.
    assert [json.loads(line)["id"] for line in out.splitlines()] == ids[:1]
    assert env.store.get(ids[0])["metadata"] == {"k": "v"}  # type: ignore[index]
    assert all(env.store.get(i)["metadata"] == {} for i in ids[1:])  # type: ignore[index]
    warnings = [line for line in err.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1
    assert ids[0] in warnings[0] and "was changed" in warnings[0] and "-Resume" in warnings[0]
    assert "No space left on device" in warnings[0]
    named = [line for line in err.splitlines() if line.startswith("Set-ChatCompletion: [")]
    assert [line.split("]")[0].split("[")[1] for line in named] == ids[1:]
    assert status == 1
    assert [r["state"] for r in read_records(journal)] == ["pending"]
    # -Resume on a disk with room reconciles: the first is found applied, the others are made.
    monkeypatch.setattr(journal_module, "os", os)
    sent = len(env.requests)
    status, out, err = _run(
        ["Set-ChatCompletion", "-MetaData", "@{k='v'}", "-Journal", str(journal), "-Resume"], "\n".join(ids)
    )
    assert status == 0, err
    assert [json.loads(line)["id"] for line in out.splitlines()] == ids
    assert [r.method for r in env.requests[sent:]].count("POST") == 2  # not the first again
    last = {r["id"]: r["state"] for r in read_records(journal)}
    assert last == dict.fromkeys(ids, "done")


def test_a_full_disk_before_done_reports_the_removal_made(
    env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = env.store.seed(2, prefix="chatcmpl-gone-")
    journal = tmp_path / "j.jsonl"
    monkeypatch.setattr(journal_module, "os", _DiskFullAt("done"))
    _status, _out, err = _run(["Remove-ChatCompletion", "-Journal", str(journal)], "\n".join(ids))
    assert env.store.get(ids[0]) is None and env.store.get(ids[1]) is not None
    warnings = [line for line in err.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1 and ids[0] in warnings[0] and "was removed" in warnings[0]
    named = [line for line in err.splitlines() if line.startswith("Remove-ChatCompletion: [")]
    assert len(named) == 1 and ids[1] in named[0]  # the second: failed, not sent
    monkeypatch.setattr(journal_module, "os", os)
    status, _out, err = _run(["Remove-ChatCompletion", "-Journal", str(journal), "-Resume"], "\n".join(ids))
    assert status == 0, err
    assert env.store.get(ids[1]) is None
    assert {r["id"]: r["state"] for r in read_records(journal)} == dict.fromkeys(ids, "done")


def test_a_full_disk_at_the_failed_record_keeps_the_items_own_error(
    env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = env.store.seed(1, prefix="chatcmpl-fail-")
    env.inject(Fault(status=500, method="POST", times=9))
    journal = tmp_path / "j.jsonl"
    monkeypatch.setattr(journal_module, "os", _DiskFullAt("failed"))
    status, _out, err = _run(
        ["Set-ChatCompletion", "-MetaData", "@{k='v'}", "-Journal", str(journal), "-MaxRetryCount", "0"],
        ids[0],
    )
    named = [line for line in err.splitlines() if line.startswith("Set-ChatCompletion: [")]
    assert len(named) == 1 and "500" in named[0], err
    assert any("could not record it" in line for line in err.splitlines() if line.startswith("WARNING:"))
    assert status == 1


# -- {"deleted": false} ----------------------------------------------------------------------------


def _deleting(answer: Any) -> Any:
    def script(seen: Seen) -> Reply:
        ident = seen.path.split("/")[4] if seen.path.count("/") >= 4 else ""
        if seen.method == "DELETE":
            return Reply(200, answer(ident))
        if seen.path.endswith("/messages"):
            return Reply(200, {"object": "list", "data": [], "has_more": False})
        return Reply(200, completion(ident))

    return script


@pytest.fixture
def server(transport: object) -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


ANSWERS = {
    "deleted false": lambda ident: {"object": "chat.completion.deleted", "id": ident, "deleted": False},
    "no deleted": lambda ident: {"object": "chat.completion.deleted", "id": ident},
    "deleted as a string": lambda ident: {"id": ident, "deleted": "true"},
    "another id": lambda ident: {
        "object": "chat.completion.deleted",
        "id": ident + "-other",
        "deleted": True,
    },
}


@pytest.mark.parametrize("answer", list(ANSWERS), ids=list(ANSWERS))
def test_a_delete_not_confirmed_is_not_journaled_removed(
    server: HostileServer, tmp_path: Path, answer: str
) -> None:
    server.script = _deleting(ANSWERS[answer])
    journal = tmp_path / "j.jsonl"
    errors: list[BaseException] = []
    Remove_ChatCompletion(
        ["chatcmpl-a", "chatcmpl-b"],
        Journal=str(journal),
        ApiKey=KEY,
        ApiBase=server.base_url,
        ErrorVariable=errors,
        ErrorAction="SilentlyContinue",
    )
    assert [type(e).__name__ for e in errors] == ["APIRequestException"] * 2
    assert ["chatcmpl-a" in str(errors[0]), "chatcmpl-b" in str(errors[1])] == [True, True]
    last = {r["id"]: r["state"] for r in read_records(journal)}
    assert last == {"chatcmpl-a": "failed", "chatcmpl-b": "failed"}
    # -Resume does not skip them: it looks again and deletes again.
    deletes = sum(s.method == "DELETE" for s in server.seen)
    Remove_ChatCompletion(
        ["chatcmpl-a", "chatcmpl-b"],
        Journal=str(journal),
        Resume=True,
        ApiKey=KEY,
        ApiBase=server.base_url,
        ErrorAction="SilentlyContinue",
    )
    assert sum(s.method == "DELETE" for s in server.seen) == deletes + 2


def test_a_delete_not_confirmed_fails_without_a_journal_too(server: HostileServer) -> None:
    server.script = _deleting(ANSWERS["deleted false"])
    errors: list[BaseException] = []
    Remove_ChatCompletion(
        ["chatcmpl-a"],
        ApiKey=KEY,
        ApiBase=server.base_url,
        ErrorVariable=errors,
        ErrorAction="SilentlyContinue",
    )
    assert len(errors) == 1 and "did not confirm the deletion of 'chatcmpl-a'" in str(errors[0])


def test_a_confirmed_delete_is_journaled_removed(server: HostileServer, tmp_path: Path) -> None:
    server.script = _deleting(
        lambda ident: {"object": "chat.completion.deleted", "id": ident, "deleted": True}
    )
    journal = tmp_path / "j.jsonl"
    Remove_ChatCompletion(["chatcmpl-a"], Journal=str(journal), ApiKey=KEY, ApiBase=server.base_url)
    assert [r["state"] for r in read_records(journal)] == ["pending", "done"]
