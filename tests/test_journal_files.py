"""Odd files as journals: a named pipe, a device or a directory is refused before it is opened
(one line, exit 2, nothing sent), and two names of one journal (hard links) share one lock."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from psopenai_py.compat import Set_ChatCompletion
from psopenai_py.emulator import Emulator
from psopenai_py.errors import JournalError
from psopenai_py.journal import Journal, open_regular

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-files-000000000000000000000000000"
PATCH = {"reviewed": "yes"}

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX file type")


def _cli(emulator: Emulator, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The command line in a process of its own: a blocked open() fails the test by its timeout
    instead of hanging the suite."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_API_KEY=KEY, OPENAI_API_BASE=emulator.url, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "psopenai_py", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        cwd=ROOT,
    )


@pytest.fixture
def ids(emulator: Emulator) -> list[str]:
    return emulator.store.seed(3, prefix="chatcmpl-files-")


def _fifo(tmp_path: Path, name: str = "pipe.jsonl") -> Path:
    path = tmp_path / name
    os.mkfifo(path)
    return path


def _refused(result: subprocess.CompletedProcess[str], path: Path, kind: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and kind in lines[0] and "Traceback" not in result.stderr
    assert KEY[12:20] not in result.stderr  # no piece of the key


@needs_fifo
@pytest.mark.parametrize(
    "argv",
    [
        ["Set-ChatCompletion", "-MetaData", "@{reviewed='yes'}", "-Journal", "{path}"],
        ["Remove-ChatCompletion", "-Journal", "{path}"],
        ["Remove-ChatCompletion", "-Journal", "{path}", "-WhatIf"],
        ["Restore-ChatCompletionMetadata", "{path}"],
        ["Restore-ChatCompletionMetadata", "{path}", "-WhatIf"],
    ],
    ids=["Set", "Remove", "Remove -WhatIf", "Restore", "Restore -WhatIf"],
)
def test_a_named_pipe_as_the_journal_is_refused_at_once(
    tmp_path: Path, emulator: Emulator, ids: list[str], argv: list[str]
) -> None:
    pipe = _fifo(tmp_path)
    # Set and Remove take the ids on stdin; Restore reads its items from the journal itself.
    piped = "" if argv[0].startswith("Restore") else "\n".join(ids) + "\n"
    result = _cli(emulator, *[a.replace("{path}", str(pipe)) for a in argv], stdin=piped)
    _refused(result, pipe, "a named pipe")
    assert emulator.requests == []
    assert not (tmp_path / "pipe.jsonl.lock").exists() or (tmp_path / "pipe.jsonl.lock").stat().st_size == 0


@needs_fifo
def test_a_named_pipe_as_the_restore_journal_is_refused(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids, MetaData=PATCH, Journal=str(journal), ApiKey=KEY, ApiBase=emulator.url)
    pipe = _fifo(tmp_path, "restore.jsonl")
    sent = len(emulator.requests)
    result = _cli(emulator, "Restore-ChatCompletionMetadata", str(journal), "-RestoreJournal", str(pipe))
    _refused(result, pipe, "a named pipe")
    assert emulator.requests[sent:] == []


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_as_the_journal_is_refused_not_read_until_memory_runs_out(emulator: Emulator) -> None:
    result = _cli(emulator, "Restore-ChatCompletionMetadata", "/dev/zero")
    _refused(result, Path("/dev/zero"), "a device")
    result = _cli(
        emulator, "Set-ChatCompletion", "chatcmpl-a", "-MetaData", "@{a='b'}", "-Journal", "/dev/null"
    )
    _refused(result, Path("/dev/null"), "a device")
    assert not os.path.exists("/dev/null.lock") and not os.path.exists("/dev/zero.lock")
    assert emulator.requests == []


def test_a_directory_as_the_journal_is_refused(tmp_path: Path, emulator: Emulator, ids: list[str]) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    result = _cli(
        emulator, "Set-ChatCompletion", "-MetaData", "@{a='b'}", "-Journal", str(folder), stdin=ids[0]
    )
    _refused(result, folder, "a directory")
    result = _cli(emulator, "Restore-ChatCompletionMetadata", str(folder))
    _refused(result, folder, "a directory")
    assert emulator.requests == []


@needs_fifo
def test_a_named_pipe_in_place_of_the_lock_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _fifo(tmp_path, "j.jsonl.lock")
    outcome = _in_a_thread(lambda: Journal(path, resume=False))
    assert isinstance(outcome, JournalError) and "a named pipe" in str(outcome)


@needs_fifo
def test_a_path_swapped_for_a_pipe_after_the_check_does_not_block(tmp_path: Path) -> None:
    pipe = _fifo(tmp_path)
    for flags in (os.O_RDONLY, os.O_RDWR, os.O_WRONLY | os.O_CREAT | os.O_APPEND):
        outcome = _in_a_thread(functools.partial(open_regular, pipe, flags))
        assert isinstance(outcome, (JournalError, OSError)) and not isinstance(outcome, TimeoutError), outcome


def _in_a_thread(call: Callable[[], object]) -> object:
    """What ``call`` returned or raised, or TimeoutError when it blocked (the thread is left
    behind: a daemon, it ends with the process)."""
    result: list[object] = [TimeoutError("blocked")]

    def run() -> None:
        try:
            result[0] = call()
        except BaseException as exc:
            result[0] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    return result[0]


# -- two names of one journal ------------------------------------------------------------------------

needs_links = pytest.mark.skipif(not hasattr(os, "link"), reason="no hard links here")


@needs_links
def test_a_hard_link_to_an_open_journal_is_in_use(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(
        json.dumps({"v": 1, "op": "set", "state": "done", "id": "a", "before": {}, "after": {}}) + "\n"
    )
    other = tmp_path / "elsewhere"
    other.mkdir()
    link = other / "link.jsonl"
    os.link(path, link)
    with Journal(path, resume=True), pytest.raises(JournalError, match="in use by another process"):
        Journal(link, resume=True)
    with Journal(link, resume=True):  # released with the first
        pass


@needs_links
def test_a_hard_link_made_after_the_first_record_is_in_use(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path, resume=False) as journal:
        journal.append({"op": "set", "state": "done", "id": "a", "before": {}, "after": {}})
        link = tmp_path / "link.jsonl"
        os.link(path, link)
        with pytest.raises(JournalError, match="in use by another process"):
            Journal(link, resume=True)


@needs_links
def test_two_writers_through_two_hard_links_cannot_both_run(
    tmp_path: Path, emulator: Emulator, ids: list[str]
) -> None:
    journal = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids[:1], MetaData=PATCH, Journal=str(journal), ApiKey=KEY, ApiBase=emulator.url)
    link = tmp_path / "link.jsonl"
    os.link(journal, link)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from psopenai_py.journal import Journal; j = Journal(sys.argv[1], resume=True); "
            "print('locked', flush=True); sys.stdin.read()",
            str(journal),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        sent = len(emulator.requests)
        result = _cli(
            emulator,
            "Set-ChatCompletion",
            "-MetaData",
            "@{reviewed='yes'}",
            "-Journal",
            str(link),
            "-Resume",
            stdin="\n".join(ids) + "\n",
        )
        assert result.returncode == 2 and "in use by another process" in result.stderr, result.stderr
        assert emulator.requests[sent:] == []  # not one change sent by the second writer
    finally:
        holder.kill()
        holder.wait(10)


@needs_links
def test_a_journal_locked_under_another_name_before_the_first_record_takes_none(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    record = {"op": "set", "state": "pending", "id": "a", "before": {}, "after": {}}
    with Journal(path, resume=False) as first:  # no file yet: only its name is locked
        path.touch()
        link = tmp_path / "link.jsonl"
        os.link(path, link)
        with Journal(link, resume=True) as second:  # the file itself, under another name
            with pytest.raises(JournalError, match="in use by another process"):
                first.append(record)
            with pytest.raises(JournalError, match="in use by another process"):
                first.append(record)  # and every later record, without trying
            second.append(record)
    assert len(path.read_text().splitlines()) == 1
