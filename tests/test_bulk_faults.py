"""The bulk commands when things go wrong: hand-edited and damaged journals, a resume with other
parameters, a full disk, a read-only journal, a server that echoes the key into what it returns,
an interrupted or killed run, list servers that repeat items, journal locks, and unfinished
changes before a restore."""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

import psopenai_py
from psopenai_py import journal as journal_module
from psopenai_py.compat import (
    Export_ChatCompletion,
    Remove_ChatCompletion,
    Restore_ChatCompletionMetadata,
    Set_ChatCompletion,
)
from psopenai_py.emulator import Emulator
from psopenai_py.errors import JournalError, ParameterBindingError
from psopenai_py.journal import Journal, read_records

from .conftest import CANARY_KEY
from .list_server import PagedLister, paged_lister

ROOT = Path(__file__).resolve().parents[1]
PATCH = {"reviewed": "yes", "draft": None}


@pytest.fixture(autouse=True)
def context(emulator: Emulator) -> None:
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=CANARY_KEY)


@pytest.fixture
def ids(emulator: Emulator) -> list[str]:
    return emulator.store.seed(4, prefix="chatcmpl-atk-", metadata={"team": "ops", "draft": "1"})


def _fragments(text: str) -> list[str]:
    """Every run of 8 characters of the canary's secret part found in text."""
    secret = CANARY_KEY[len("sk-proj-") :]
    return [secret[i : i + 8] for i in range(len(secret) - 7) if secret[i : i + 8] in text]


def _done(ident: str) -> str:
    return json.dumps(
        {"v": 1, "op": "set", "state": "done", "id": ident, "before": {"k": "v"}, "after": {"x": "1"}}
    )


# -- journals edited by hand or damaged ---------------------------------------------------------


def test_a_line_nested_deeper_than_json_reads_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(_done("a") + "\n" + '{"v":1,"x":' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(JournalError, match=r"Line 2 of the journal .* is not a JSON record"):
        read_records(path)


@pytest.mark.parametrize(
    "record, problem",
    [
        ({"op": "set", "state": 7, "id": "a"}, "its state is 7"),
        ({"op": "set", "state": "done", "id": 5, "before": {}, "after": {}}, "its id"),
        ({"op": "set", "state": "done", "id": "a", "before": {"k": 1}, "after": {}}, "its before"),
        ({"op": "set", "state": "done", "id": "a", "before": {}, "after": ["x"]}, "its after"),
        ({"op": "remove", "state": "pending", "id": "a", "completion": "x"}, "its completion"),
    ],
)
def test_a_record_of_the_wrong_shape_is_an_error_naming_its_line(
    tmp_path: Path, record: dict[str, Any], problem: str
) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(_done("z") + "\n" + json.dumps({"v": 1, **record}) + "\n")
    with pytest.raises(JournalError, match=f"Line 2 of the journal .* not a valid record: {problem}"):
        read_records(path)


def test_a_wrong_shape_stops_the_restore_before_anything_is_sent(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    path = tmp_path / "j.jsonl"
    bad = {"v": 1, "op": "set", "state": "done", "id": ids[0], "before": {"k": 1, "z": [1]}, "after": {}}
    path.write_text(json.dumps(bad) + "\n")
    with pytest.raises(JournalError, match="Line 1"):
        Restore_ChatCompletionMetadata(str(path))
    assert emulator.requests == []


def test_a_bom_and_crlf_line_ends_are_read(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(("\ufeff" + _done("a") + "\r\n" + _done("b") + "\r\n").encode("utf-8"))
    assert [r["id"] for r in read_records(path)] == ["a", "b"]


def _writes(flags: int) -> bool:
    return bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))


class _Refusing:
    """The os module as the journal sees it, where ``refused(path, flags)`` opens are not allowed."""

    def __init__(self, refused: Any) -> None:
        self._refused = refused

    def open(self, file: Any, flags: int, *args: Any) -> int:
        if self._refused(file, flags):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return os.open(file, flags, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def test_a_read_only_journal_is_a_journal_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(_done("a") + "\n")

    # (chmod does not stop root, who runs many CI containers: the refusal is simulated.)
    monkeypatch.setattr(
        journal_module, "os", _Refusing(lambda file, flags: str(file) == str(path) and _writes(flags))
    )
    with pytest.raises(
        JournalError, match=r"Cannot open the journal .*j\.jsonl' for writing: Permission denied"
    ):
        Journal(path, resume=True)


# -- resume -------------------------------------------------------------------------------------


def test_resume_with_another_change_is_refused_before_anything_is_sent(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:1], MetaData=PATCH, Merge=True, Journal=str(journal))
    sent = len(emulator.requests)
    with pytest.raises(ParameterBindingError, match="records a different change"):
        Set_ChatCompletion(ids, MetaData={"other": "x"}, Merge=True, Journal=str(journal), Resume=True)
    # Not one id got the other change: a mixed result could not be told apart afterwards.
    assert emulator.requests[sent:] == []
    assert all("other" not in emulator.store.get(i)["metadata"] for i in ids)  # type: ignore[index]


# -- a full disk --------------------------------------------------------------------------------


def test_a_full_disk_fails_every_item_with_nothing_sent(
    tmp_path: Path, emulator: Emulator, ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    class FullDisk:
        """The os module as the journal sees it, on a disk with no space left."""

        write = staticmethod(full)

        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

    monkeypatch.setattr(journal_module, "os", FullDisk())
    journal = tmp_path / "j.jsonl"
    errors: list[BaseException] = []
    outputs = Set_ChatCompletion(
        ids, MetaData=PATCH, Merge=True, Journal=str(journal), ThrottleLimit=4, ErrorVariable=errors
    )
    # Every item accounted for, each with the error naming the journal; not one change sent.
    assert outputs in (None, [])
    assert len(errors) == len(ids)
    assert all(re.search(r"Cannot write to the journal '.*j\.jsonl': No space left", str(e)) for e in errors)
    assert [r for r in emulator.requests if r.method == "POST"] == []


# -- a server that echoes the key ---------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    """Puts the Authorization header it receives into every completion, message and error."""

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _item(self, ident: str) -> dict[str, Any]:
        auth = self.headers.get("Authorization", "")
        return {
            "id": ident,
            "object": "chat.completion",
            "metadata": {"echo": auth[-30:]},  # a fragment, not the whole key
            "choices": [{"message": {"role": "assistant", "content": f"your key {auth}"}}],
        }

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization", "")
        if self.path.split("?")[0].endswith("/messages"):
            self._send(200, {"data": [{"id": "m", "content": auth.lower()}], "has_more": False})
        elif self.path.startswith("/v1/chat/completions/"):
            self._send(200, self._item(self.path.split("/")[4].split("?")[0]))
        else:
            self._send(
                200, {"object": "list", "data": [self._item("c1"), self._item("c2")], "has_more": False}
            )

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._send(400, {"error": {"message": "bad " + self.headers.get("Authorization", "")[-20:]}})

    def do_DELETE(self) -> None:
        self._send(
            200, {"id": self.path.rsplit("/", 1)[1], "deleted": True, "echo": self.headers["Authorization"]}
        )

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    psopenai_py.set_openai_context(api_base=url, api_key=CANARY_KEY)
    yield url
    server.shutdown()
    server.server_close()


def test_no_key_fragment_in_journals_or_exports_when_the_server_echoes_it(
    tmp_path: Path, echo: str, caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[BaseException] = []
    options: dict[str, Any] = {"ErrorVariable": errors, "ErrorAction": "SilentlyContinue"}
    Remove_ChatCompletion(["c1"], Journal=str(tmp_path / "r.jsonl"), **options)
    Set_ChatCompletion(
        ["c1", "c2"], MetaData={"a": "1"}, Merge=True, Journal=str(tmp_path / "s.jsonl"), **options
    )
    Export_ChatCompletion(str(tmp_path / "x.jsonl"), IncludeMessages=True)
    assert len(errors) == 2  # the two 400s of the Set
    files = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir() if p.stat().st_size}
    assert set(files) >= {"r.jsonl", "s.jsonl", "x.jsonl"}
    for name, text in files.items():
        assert _fragments(text) == [], name
    assert _fragments(caplog.text) == []
    # The rest of what the server sent is kept.
    assert "your key Bearer " in files["x.jsonl"] and '"id":"c2"' in files["x.jsonl"]


def test_an_error_message_echoing_part_of_the_key_is_masked(echo: str) -> None:
    errors: list[BaseException] = []
    Set_ChatCompletion(["c1"], MetaData={"a": "1"}, ErrorVariable=errors, ErrorAction="SilentlyContinue")
    assert len(errors) == 1 and _fragments(str(errors[0])) == []


# -- restore of an interrupted run --------------------------------------------------------------


def test_restore_warns_with_the_count_of_unfinished_changes(
    tmp_path: Path, emulator: Emulator, ids: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:2], MetaData=PATCH, Merge=True, Journal=str(journal))
    with journal.open("a", encoding="utf-8") as handle:  # as a run killed after its pending records
        for ident in ids[2:]:
            handle.write(
                json.dumps(
                    {"v": 1, "op": "set", "state": "pending", "id": ident, "before": {}, "after": {"x": "1"}}
                )
                + "\n"
            )
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        restored = Restore_ChatCompletionMetadata(str(journal))
    assert len(restored) == 2
    assert "records 2 changes that did not finish" in caplog.text and "Resume that run first" in caplog.text


# -- Ctrl-C in the middle of an export ----------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery to a child is POSIX")
def test_ctrl_c_in_an_export_is_one_line_exit_130_and_no_file(tmp_path: Path, emulator: Emulator) -> None:
    emulator.store.seed(150, prefix="chatcmpl-int-")
    emulator.latency_ms = 10
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": CANARY_KEY,
        "OPENAI_API_BASE": emulator.url,
    }
    target = tmp_path / "x.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", "Export-ChatCompletion", str(target), "-IncludeMessages"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while not any(p.name.endswith(".partial") for p in tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert list(tmp_path.iterdir()) == []  # no destination, no staging file
    assert b"Traceback" not in err and len(err.decode().strip().splitlines()) == 1
    assert process.returncode == 130


# -- SIGKILL at exact points of one change ------------------------------------------------------

_KILLER = """
import os, signal, sys
import psopenai_py
from psopenai_py import journal
from psopenai_py.compat import Remove_ChatCompletion, Set_ChatCompletion

op, state, nth, url, key, path, *ids = sys.argv[1:]
seen = []
original = journal.Journal.append

def append(self, record):
    if record.get("state") == state:
        seen.append(record["id"])
        if len(seen) == int(nth) and state == "done":
            os.kill(os.getpid(), signal.SIGKILL)  # the change was sent, its done record not written
    original(self, record)
    if record.get("state") == state and len(seen) == int(nth):
        os.kill(os.getpid(), signal.SIGKILL)  # the pending record is on disk, nothing sent yet

journal.Journal.append = append
psopenai_py.set_openai_context(api_base=url, api_key=key)
if op == "set":
    Set_ChatCompletion(ids, MetaData={"reviewed": "yes", "draft": None}, Merge=True, Journal=path)
else:
    Remove_ChatCompletion(ids, Journal=path)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
@pytest.mark.parametrize(
    "op, state",
    [
        ("set", "pending"),  # between the pending record and the POST
        ("set", "done"),  # right after the POST, before its done record
        ("remove", "pending"),  # after the completion's copy, before the DELETE
        ("remove", "done"),  # after the DELETE, before its done record
    ],
)
def test_killed_at_each_point_of_a_change_then_resumed_changes_each_id_once(
    tmp_path: Path, emulator: Emulator, ids: list[str], op: str, state: str
) -> None:
    journal = tmp_path / "j.jsonl"
    command = [sys.executable, "-c", _KILLER, op, state, "2", emulator.url, CANARY_KEY, str(journal), *ids]
    run = subprocess.run(
        command, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, timeout=60
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    if op == "set":
        Set_ChatCompletion(ids, MetaData=PATCH, Merge=True, Journal=str(journal), Resume=True)
        for ident in ids:
            assert emulator.store.get(ident)["metadata"] == {"team": "ops", "reviewed": "yes"}  # type: ignore[index]
        method = "POST"
    else:
        Remove_ChatCompletion(ids, Journal=str(journal), Resume=True)
        assert all(emulator.store.get(i) is None for i in ids)
        method = "DELETE"
    sent = [r.target.rsplit("/", 1)[1] for r in emulator.requests if r.method == method]
    assert sorted(sent) == sorted(ids)  # each id changed exactly once, the killed one included
    last = {r["id"]: r["state"] for r in read_records(journal)}
    assert last == dict.fromkeys(ids, "done")
    if op == "remove":  # every removed completion has its copy in the journal
        copies = {r["id"] for r in read_records(journal) if r["state"] == "pending" and "completion" in r}
        assert copies == set(ids)


# -- hostile list servers for Export ------------------------------------------------------------


@pytest.fixture
def lister() -> Iterator[type[PagedLister]]:
    with paged_lister(CANARY_KEY) as handler:
        yield handler


def _items(*names: str) -> list[dict[str, Any]]:
    return [{"id": name, "object": "chat.completion"} for name in names]


@pytest.mark.parametrize(
    "pages",
    [
        # The next page starts again with the last item of the one before (after= ignored once).
        [{"data": _items("a", "b"), "has_more": True}, {"data": _items("b", "c"), "has_more": False}],
        # One page lists an item twice.
        [{"data": _items("a", "b", "a"), "has_more": False}],
    ],
    ids=["overlapping pages", "twice in a page"],
)
def test_an_item_listed_twice_is_an_error_not_a_duplicate_line(
    tmp_path: Path, lister: type[PagedLister], pages: list[Any]
) -> None:
    lister.pages = pages
    with pytest.raises(psopenai_py.errors.InvalidResponseException, match=r"listed '[ab]' a second time"):
        psopenai_py.export_chat_completion(str(tmp_path / "x.jsonl"))
    assert list(tmp_path.iterdir()) == []


def test_a_redirect_is_an_error_not_a_crash(tmp_path: Path, lister: type[PagedLister]) -> None:
    lister.pages = ["http://127.0.0.1:9/v1/chat/completions"]
    with pytest.raises(psopenai_py.errors.PSOpenAIError):
        psopenai_py.export_chat_completion(str(tmp_path / "x.jsonl"), max_retry_count=0)
    assert list(tmp_path.iterdir()) == []


# -- locking: other file systems, Windows, other names for one journal ---------------------------


def test_a_file_system_without_locks_is_named_not_taken_for_another_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fcntl = pytest.importorskip("fcntl")

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(JournalError) as caught:
        Journal(tmp_path / "j.jsonl", resume=False)
    assert "No locks available" in str(caught.value) and "in use by another process" not in str(caught.value)


_FCNTL: Any = sys.modules.get("fcntl") or (__import__("fcntl") if os.name == "posix" else None)


class _FakeMsvcrt:
    """Windows' msvcrt.locking, with its semantics (non-blocking, EACCES when held), over flock."""

    LK_NBLCK = 2
    LK_UNLCK = 0
    calls: ClassVar[list[tuple[int, int]]] = []

    @staticmethod
    def locking(fd: int, mode: int, nbytes: int) -> None:
        fcntl = _FCNTL  # taken before the test hides the module
        _FakeMsvcrt.calls.append((mode, nbytes))
        if mode == _FakeMsvcrt.LK_UNLCK:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OSError(errno.EACCES, "Permission denied") from None


@pytest.mark.skipif(os.name != "posix", reason="the fake msvcrt is built on flock")
def test_the_windows_lock_keeps_a_second_writer_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fcntl", None)  # import fcntl fails, as on Windows
    monkeypatch.setitem(sys.modules, "msvcrt", _FakeMsvcrt)
    path = tmp_path / "dir with space é" / "j.jsonl"
    path.parent.mkdir()
    with Journal(path, resume=False) as first:
        first.append({"op": "set", "state": "done", "id": "a", "before": {}, "after": {}})
        with pytest.raises(JournalError, match="in use by another process"):
            Journal(path, resume=True)
    # Locked without waiting, and unlocked before the close (Windows frees a region left locked
    # at close only "when resources allow").
    assert _FakeMsvcrt.calls[:2] == [(_FakeMsvcrt.LK_NBLCK, 1)] * 2
    assert (_FakeMsvcrt.LK_UNLCK, 1) in _FakeMsvcrt.calls
    with Journal(path, resume=True) as again:  # released with the first
        assert again.entry("a") is not None


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need privileges on Windows")
def test_a_symlink_to_a_journal_shares_its_lock(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    link = tmp_path / "link.jsonl"
    link.symlink_to(path)
    with Journal(path, resume=False), pytest.raises(JournalError, match="in use by another process"):
        Journal(link, resume=True)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need privileges on Windows")
def test_the_restore_journal_cannot_be_the_journal_under_another_name(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:1], MetaData=PATCH, Merge=True, Journal=str(journal))
    link = tmp_path / "link.jsonl"
    link.symlink_to(journal)
    before = journal.read_bytes()
    with pytest.raises(ParameterBindingError, match="cannot be the journal it restores"):
        Restore_ChatCompletionMetadata(str(journal), RestoreJournal=str(link), Resume=True)
    assert journal.read_bytes() == before


# -- Export: the destination's file system ------------------------------------------------------


def test_an_export_into_a_directory_says_so(tmp_path: Path, emulator: Emulator) -> None:
    with pytest.raises(ParameterBindingError, match="is a directory"):
        psopenai_py.export_chat_completion(str(tmp_path))
    assert emulator.requests == []


def test_an_unwritable_directory_is_a_clear_error_naming_it(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:

    real_open = os.open

    def refuse(path: Any, flags: int, *args: Any) -> Any:
        if str(path).endswith(".partial"):
            raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))
        return real_open(path, flags, *args)

    # (chmod does not stop root: the refusal is simulated.)
    monkeypatch.setattr(os, "open", refuse)
    sent = len(emulator.requests)
    with pytest.raises(
        psopenai_py.errors.PSOpenAIError, match=r"Cannot export to '.*x\.jsonl'.*Permission denied"
    ):
        psopenai_py.export_chat_completion(str(tmp_path / "x.jsonl"))
    assert emulator.requests[sent:] == []


def test_a_full_disk_during_an_export_is_a_clear_error_and_leaves_nothing(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psopenai_py.commands import export_completion

    emulator.store.seed(3, prefix="chatcmpl-full-")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    class FullDisk:
        """The os module as the export sees it, on a disk with no space left."""

        fsync = staticmethod(full)

        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

    monkeypatch.setattr(export_completion, "os", FullDisk())
    with pytest.raises(
        psopenai_py.errors.PSOpenAIError, match=r"Cannot export to '.*x\.jsonl'.*No space left"
    ):
        psopenai_py.export_chat_completion(str(tmp_path / "x.jsonl"))
    assert list(tmp_path.iterdir()) == []


# -- accounting on resume -----------------------------------------------------------------------


def test_a_resumed_run_counts_the_ids_it_skipped_in_one_warning(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:3], MetaData=PATCH, Merge=True, Journal=str(journal))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": CANARY_KEY,
        "OPENAI_API_BASE": emulator.url,
    }
    command = [sys.executable, "-m", "psopenai_py", "Set-ChatCompletion", "-Merge", "-MetaData"]
    command += ["@{reviewed='yes'; draft=$null}", "-Journal", str(journal), "-Resume"]
    run = subprocess.run(command, input="\n".join(ids), env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    # Four ids in: one output line, three skipped, and the count says so.
    assert [json.loads(line)["id"] for line in run.stdout.splitlines()] == ids[3:]
    assert run.stderr.splitlines() == [
        f"WARNING: Skipped 3 completions that the journal '{journal}' records done in an earlier run "
        "(-Verbose names them)."
    ]


# -- one journal, one kind of change ------------------------------------------------------------


def test_a_journal_of_one_command_is_refused_by_another(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:2], MetaData=PATCH, Merge=True, Journal=str(journal))
    before = journal.read_bytes()
    sent = len(emulator.requests)
    with pytest.raises(ParameterBindingError, match=r"records set changes.*not remove"):
        Remove_ChatCompletion(ids, Journal=str(journal), Resume=True)
    Remove_ChatCompletion(ids[3:], Journal=str(tmp_path / "r.jsonl"))
    with pytest.raises(ParameterBindingError, match=r"records remove changes.*not set"):
        Set_ChatCompletion(ids, MetaData=PATCH, Merge=True, Journal=str(tmp_path / "r.jsonl"), Resume=True)
    assert journal.read_bytes() == before
    assert [r.method for r in emulator.requests[sent:] if r.method != "GET"] == ["DELETE"]  # the one new run
    assert all(emulator.store.get(i) is not None for i in ids[:3])


# -- the Python API with pathlib paths ----------------------------------------------------------


def test_the_python_functions_take_pathlib_paths(tmp_path: Path, emulator: Emulator, ids: list[str]) -> None:
    journal = tmp_path / "j.jsonl"
    psopenai_py.set_chat_completion(ids[0], {"reviewed": "yes"}, merge=True, journal=journal)
    assert [r["state"] for r in read_records(journal)] == ["pending", "done"]
    receipt = psopenai_py.export_chat_completion(tmp_path / "x.jsonl")
    assert receipt.count == len(ids) and (tmp_path / "x.jsonl").exists()
    restored = psopenai_py.restore_chat_completion_metadata(journal, restore_journal=tmp_path / "r.jsonl")
    assert [o.id for o in restored] == ids[:1]
    psopenai_py.remove_chat_completion(ids[1], journal=tmp_path / "rm.jsonl")
    assert emulator.store.get(ids[1]) is None


def test_a_complete_last_record_without_its_newline_is_kept(tmp_path: Path) -> None:
    # An editor that strips the final newline, or a copy through a tool that does: the last
    # record is whole and must survive the next append (only a torn line is cut).
    path = tmp_path / "j.jsonl"
    path.write_text(_done("a") + "\n" + _done("b"))
    with Journal(path, resume=True) as journal:
        assert journal.entry("b") is not None
        journal.append({"op": "set", "state": "done", "id": "c", "before": {}, "after": {}})
    assert [r["id"] for r in read_records(path)] == ["a", "b", "c"]


def test_resuming_a_big_remove_journal_holds_no_copies_in_memory(tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "j.jsonl"
    copy = {"id": "x", "choices": [{"message": {"content": "x" * 20_000}}]}
    with path.open("w", encoding="utf-8") as handle:
        for number in range(1_000):
            ident = f"chatcmpl-{number}"
            record = {
                "v": 1,
                "op": "remove",
                "state": "pending",
                "id": ident,
                "completion": copy,
                "messages": [],
            }
            handle.write(
                json.dumps(record)
                + "\n"
                + json.dumps({"v": 1, "op": "remove", "state": "done", "id": ident})
                + "\n"
            )
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with Journal(path, resume=True) as journal:
            peak = tracemalloc.get_traced_memory()[1]
            assert journal.entry("chatcmpl-999") is not None
            assert len(journal.records) == 2_000
    finally:
        tracemalloc.stop()
    # 20 MB of copies on disk; the open journal keeps the ids and states, not the copies.
    assert size > 20_000_000 and peak < size / 10, (size, peak)


def test_a_journal_in_a_read_only_directory_is_refused_naming_it_with_nothing_sent(
    tmp_path: Path, emulator: Emulator, ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # (chmod does not stop root, who runs many CI containers: the refusal is simulated.)
    monkeypatch.setattr(journal_module, "os", _Refusing(lambda file, flags: bool(flags & os.O_CREAT)))
    journal = tmp_path / "ro" / "j.jsonl"
    sent = len(emulator.requests)
    with pytest.raises(JournalError) as caught:
        Set_ChatCompletion(ids, MetaData=PATCH, Merge=True, Journal=str(journal))
    assert str(caught.value).startswith(f"Cannot use the journal '{journal}'")
    assert "Permission denied" in str(caught.value)
    assert emulator.requests[sent:] == []


def test_resume_after_another_writer_changed_items_meanwhile(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:1], MetaData=PATCH, Merge=True, Journal=str(journal))
    with journal.open("a", encoding="utf-8") as handle:  # killed after the pending record of ids[1]
        pending = {
            "v": 1,
            "op": "set",
            "state": "pending",
            "id": ids[1],
            "before": {"team": "ops", "draft": "1"},
        }
        pending |= {"after": {"team": "ops", "reviewed": "yes"}, "change": {"merge": True, "metadata": PATCH}}
        handle.write(json.dumps(pending) + "\n")
    # Another writer, meanwhile: on the done id and on the pending one.
    emulator.store.update_metadata(ids[0], {"owner": "alice"})
    emulator.store.update_metadata(ids[1], {"team": "dev", "draft": "1"})
    Set_ChatCompletion(ids[:2], MetaData=PATCH, Merge=True, Journal=str(journal), Resume=True)
    assert emulator.store.get(ids[0])["metadata"] == {"owner": "alice"}  # type: ignore[index]  # done: left alone
    assert emulator.store.get(ids[1])["metadata"] == {"team": "dev", "reviewed": "yes"}  # type: ignore[index]
    last = [r for r in read_records(journal) if r["id"] == ids[1]][-1]
    assert last["state"] == "done" and last["before"] == {"team": "dev", "draft": "1"}  # what was read
