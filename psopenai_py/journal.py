"""The change journal: an append-only JSON-lines file that makes a bulk change resumable and
reversible.

Each line is one record, versioned::

    {"v":1,"op":"set","state":"pending","id":"chatcmpl-...","before":{...},"after":{...},...}

A ``pending`` record is written and flushed to disk (``fsync``) before a change is sent; a ``done``
or ``failed`` record follows the answer.  Records hold ids, metadata, and for ``remove`` the
completion and its messages as the API returned them: never a setting, a header or a key.

One writer per journal: a writer holds two OS locks (``fcntl.flock`` on POSIX, ``msvcrt.locking``
on Windows) for as long as the journal is open: one on ``<journal>.lock``, named after the file the
path leads to (it guards a journal not yet created), and one on the journal file itself, from
when it exists, so that two names of one file (hard links) cannot make two writers either.  The
operating system drops the locks when the process ends, however it ends (SIGKILL included), so a
crash leaves no stale lock; the ``.lock`` file itself stays, empty.  Inside the process, a thread
lock serialises append + fsync, so ThrottleLimit workers can share one journal.

A journal is a regular file, or a path where one will be created: a named pipe, a device or a
directory is refused before it is opened (opening a pipe would wait for a writer forever, and a
device such as ``/dev/zero`` would be read until memory runs out).  Every open is non-blocking
where the system has that (``O_NONBLOCK``) and checked again on the open file, so a path swapped
for a pipe in between cannot block either.

A crash can tear the last line.  Reading ignores a torn last line (with a warning); opening for
append cuts it off first, so the next record starts on a line of its own.  A bad line anywhere
else is an error: that journal has been edited or damaged, and guessing would be unsafe.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import JournalError

__all__ = [
    "VERSION",
    "Journal",
    "JournalEntry",
    "read_records",
    "latest_by_id",
]

log = logging.getLogger("psopenai_py")

VERSION = 1
"""The record format this code writes and reads (``"v"`` of each record)."""

STATES = ("pending", "done", "failed")


_HELD = {errno.EACCES, errno.EAGAIN, errno.EWOULDBLOCK, getattr(errno, "EDEADLOCK", errno.EDEADLK)}
"""The errors that say another process holds the lock (flock: EWOULDBLOCK; msvcrt: EACCES or
EDEADLOCK); any other (ENOLCK on a network share, EOPNOTSUPP) says the lock cannot be taken here."""


def _lock_fd(fd: int, offset: int = 0) -> OSError | None:
    """Take the OS lock on an open file without waiting; the error when it cannot be taken (its
    errno in :data:`_HELD` when another process holds it).  ``offset``: the byte Windows locks."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            os.lseek(fd, offset, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        except OSError as exc:
            return exc
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return exc
    return None


def _unlock_fd(fd: int, offset: int = 0) -> None:
    """Unlock before closing: POSIX drops a flock with the file; Windows releases a region left
    locked at close only "when resources allow", so a journal reopened at once (a restore right
    after its change) could find it still held."""
    try:
        import msvcrt
    except ImportError:
        return
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined,unused-ignore]
    except OSError:
        pass  # closing releases it in the end


_O_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)  # Windows has no FIFOs to block on
_IDENTITY_OFFSET = 0x7FFFFFF0
"""Where Windows locks the journal file itself: one byte far past any journal's end (a byte lock
there is mandatory but blocks no read or append of the records; POSIX's flock needs no offset)."""


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in a message's words."""
    for test, words in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return "not a regular file"


def _not_regular(path: str | os.PathLike[str], mode: int, parameter: str) -> JournalError:
    return JournalError(
        str(path),
        f"Cannot use -{parameter} '{path}': it is {_kind(mode)}, not a file. A journal is a regular "
        "file: give the path of one, or of a new one.",
    )


def check_regular(path: str | os.PathLike[str], parameter: str = "Journal") -> bool:
    """Refuse a path that leads to anything but a regular file (a named pipe, a device, a
    directory), before anything opens it; True when a file is there, False for a new path."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        raise JournalError(str(path), f"Cannot use -{parameter} '{path}': {exc.strerror or exc}.") from None
    except ValueError:  # a NUL in the path
        raise JournalError(str(path), f"Cannot use -{parameter}: the path holds a NUL character.") from None
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode, parameter)
    return True


def open_regular(
    path: str | os.PathLike[str], flags: int, parameter: str = "Journal", mode: int = 0o600
) -> int:
    """``os.open`` that never blocks on a special file: non-blocking where the system can, and
    the opened file checked to be a regular one (a path swapped after :func:`check_regular`)."""
    fd = os.open(path, flags | _O_NONBLOCK | _O_BINARY, mode)
    try:
        file_mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(file_mode):
        os.close(fd)
        raise _not_regular(path, file_mode, parameter)
    return fd


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every record of a journal, in order (an absent file has none).

    A torn last line (a crash in the middle of a write) is ignored with a warning; a bad line
    anywhere else, or a record of an unknown version, raises :class:`JournalError`.
    """
    return list(_iter_records(Path(path)))


_HEAVY = ("completion", "messages")
"""Fields of a remove record that only a person reading the journal needs (the copy)."""


def _iter_records(path: Path, *, light: bool = False) -> Iterator[dict[str, Any]]:
    """The records, read a line at a time (a journal of big copies never sits in memory whole);
    ``light`` drops the copies of removed completions once their line is checked."""
    try:
        handle = os.fdopen(open_regular(path, os.O_RDONLY), "rb")
    except FileNotFoundError:
        return
    except OSError as exc:
        if isinstance(exc, JournalError):
            raise
        raise JournalError(str(path), f"Cannot read the journal '{path}': {exc.strerror or exc}.") from None
    with handle:
        number = 0
        while True:
            try:
                line = handle.readline()
            except OSError as exc:  # a directory, an unreadable file
                raise JournalError(
                    str(path), f"Cannot read the journal '{path}': {exc.strerror or exc}."
                ) from None
            if not line:
                return
            number += 1
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not an object")
            except (ValueError, RecursionError):  # RecursionError: nesting deeper than json can read
                if not line.endswith(b"\n"):  # no newline after it: a write cut short by a crash
                    log.warning("The last line of the journal '%s' is incomplete and is ignored.", path)
                    return
                raise JournalError(
                    str(path), f"Line {number} of the journal '{path}' is not a JSON record."
                ) from None
            if record.get("v") != VERSION:
                raise JournalError(
                    str(path),
                    f"Line {number} of the journal '{path}' has version {record.get('v')!r}; "
                    f"this version of psopenai_py reads version {VERSION}.",
                )
            problem = _shape_problem(record)
            if problem:
                raise JournalError(
                    str(path), f"Line {number} of the journal '{path}' is not a valid record: {problem}."
                )
            if light:
                for name in _HEAVY:
                    record.pop(name, None)
            yield record


def _whole_record(line: bytes) -> bool:
    """Whether a last line without its newline is a complete record (as reading takes it)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return False
    return isinstance(record, dict) and record.get("v") == VERSION and _shape_problem(record) is None


def _is_metadata(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


_SURROGATE = re.compile("[\ud800-\udfff]")


def _not_text(value: Any) -> bool:
    """Whether a value holds a string that is not text: a lone surrogate (``\\ud800``), which
    JSON can spell but no request, file or terminal can carry."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, Mapping):
        return any(_not_text(k) or _not_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_not_text(v) for v in value)
    return False


def _shape_problem(record: Mapping[str, Any]) -> str | None:
    """What is wrong with a record's fields (None when nothing): a journal edited by hand must
    not make a resume skip the wrong id or a restore send metadata the API never had."""
    if "id" in record and (not isinstance(record["id"], str) or not record["id"]):
        return "its id is not a non-empty string"
    for name in ("id", "op", "before", "after", "change"):
        if _not_text(record.get(name)):
            return f"its {name} holds a lone surrogate, which is not text"
    if "op" in record and not isinstance(record["op"], str):
        return "its op is not a string"
    if "state" in record and record["state"] not in STATES:
        return f"its state is {record['state']!r}, not one of {', '.join(STATES)}"
    for name in ("before", "after"):
        if name in record and not _is_metadata(record[name]):
            return f"its {name} is not metadata (an object of strings)"
    if "completion" in record and not isinstance(record["completion"], dict):
        return "its completion is not an object"
    if "messages" in record and not isinstance(record["messages"], list):
        return "its messages are not a list"
    return None


def latest_by_id(records: list[dict[str, Any]], ops: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The last record of each id among records of the given operations."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.get("op") in ops and isinstance(record.get("id"), str):
            latest[record["id"]] = record
    return latest


@dataclass(frozen=True)
class JournalEntry:
    """What the journal says about one id when a run starts: its last record."""

    state: str
    record: Mapping[str, Any]


class Journal:
    """A journal open for appending by this process (the only writer while it is open)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        resume: bool,
        parameter: str = "Journal",
        redact: Callable[[str], str] | None = None,
    ) -> None:
        """Lock the journal, read it, cut a torn last line, and open it for appending.

        Without ``resume`` a journal that already has records is refused (``parameter`` is named
        in the error), so that a second run cannot be mistaken for the continuation of the first.
        ``redact`` cleans each line before it is written (the run's key, echoed by a server into
        a completion, must not reach the file).
        """
        self.path = Path(path)
        self._redact = redact
        self.write_error: JournalError | None = None
        self.skipped = 0
        """Input ids skipped in this run because the journal records them done (-Resume)."""
        """The error of the first failed write: later records are refused without trying."""
        self._lock = threading.Lock()
        self._parameter = parameter
        exists = check_regular(self.path, parameter)  # before anything is opened or created
        # The name lock is named after the file the path leads to: a symbolic link to a journal
        # shares the journal's lock, so two names cannot make two writers.
        lock_path = Path(f"{os.path.realpath(self.path)}.lock")
        self._held = _Held()
        self._finalizer = weakref.finalize(self, _release_all, self._held)
        try:
            try:
                self._held.name_fd = open_regular(lock_path, os.O_RDWR | os.O_CREAT, parameter)
            except JournalError:
                raise
            except OSError as exc:
                raise JournalError(
                    str(self.path),
                    f"Cannot use the journal '{self.path}': its lock '{lock_path}' cannot be created: "
                    f"{exc.strerror or exc}. The journal's directory must exist and be writable.",
                ) from None
            self._check_lock(_lock_fd(self._held.name_fd), f"its lock '{lock_path}'")
            if exists:
                self._lock_identity(open_regular(self.path, os.O_RDONLY, parameter))
            # Without the copies of removed completions: a resume needs ids and states only.
            self.records = list(_iter_records(self.path, light=True))
            if self.records and not resume:
                raise JournalError(
                    str(self.path),
                    f"Cannot use -{parameter} '{self.path}': it already records a run. Add -Resume "
                    "to continue that run, or give a new journal path.",
                )
            self._cut_torn_tail()
        except BaseException:
            self._finalizer()
            raise
        # The journal file itself is created by the first record (a WhatIf run writes none).
        self.latest: dict[str, dict[str, Any]] = {}
        for record in self.records:
            if isinstance(record.get("id"), str):
                self.latest[record["id"]] = record

    def _check_lock(self, failure: OSError | None, what: str) -> None:
        """Raise the error of a lock that could not be taken (``what`` names the file locked)."""
        if failure is None:
            return
        if failure.errno in _HELD:
            raise JournalError(
                str(self.path),
                f"The journal '{self.path}' is in use by another process ({what} is held). Wait for "
                "that run to end, or use another journal.",
            )
        raise JournalError(
            str(self.path),
            f"Cannot lock the journal '{self.path}' ({what}): {failure.strerror or failure}. Keep "
            "journals on a local disk.",
        )

    def _lock_identity(self, fd: int) -> None:
        """Lock the journal file itself (any name of it: a hard link locks the same file), and
        hold ``fd`` until the journal is closed."""
        self._held.identity_fd = fd
        self._check_lock(_lock_fd(fd, _IDENTITY_OFFSET), "the file itself")

    def _cut_torn_tail(self) -> None:
        """Remove a last line without its newline (left by a crash) before appending."""
        try:
            with os.fdopen(open_regular(self.path, os.O_RDWR, self._parameter), "r+b") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                if size == 0:
                    return
                handle.seek(size - 1)
                if handle.read(1) == b"\n":
                    return
                # Find the last newline; everything after it is the torn line.
                step = 4096
                position = size
                keep = 0
                while position > 0:
                    start = max(0, position - step)
                    handle.seek(start)
                    chunk = handle.read(position - start)
                    index = chunk.rfind(b"\n")
                    if index >= 0:
                        keep = start + index + 1
                        break
                    position = start
                handle.seek(keep)
                if _whole_record(handle.read(size - keep)):
                    # A whole record that only lacks its newline (an editor stripped it): keep it.
                    handle.seek(size)
                    handle.write(b"\n")
                else:
                    handle.truncate(keep)
                handle.flush()
                os.fsync(handle.fileno())
        except FileNotFoundError:
            return
        except JournalError:
            raise
        except OSError as exc:  # read-only file or directory, a full disk
            raise JournalError(
                str(self.path), f"Cannot open the journal '{self.path}' for writing: {exc.strerror or exc}."
            ) from None

    def skip(self) -> None:
        """Count an input id skipped because this journal records it done."""
        with self._lock:
            self.skipped += 1

    def entry(self, ident: str) -> JournalEntry | None:
        """The last record written for an id (when the run started or since), or None."""
        with self._lock:
            record = self.latest.get(ident)
        return JournalEntry(str(record.get("state")), record) if record is not None else None

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one record as a line and force it to disk before returning."""
        full = {"v": VERSION, **record, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        text = json.dumps(full, ensure_ascii=False, separators=(",", ":"))
        if self._redact is not None:
            text = self._redact(text)
        line = (text + "\n").encode("utf-8")
        with self._lock:
            self.check_writable()
            try:
                fd = self._held.append_fd
                if fd is None:
                    fd = self._open_for_append()
                # One write call on an O_APPEND descriptor: the line lands whole at the end.
                written = os.write(fd, line)
                while written < len(line):
                    written += os.write(fd, line[written:])
                os.fsync(fd)
            except JournalError as error:  # the file swapped for a pipe, or locked by another
                self.write_error = error
                raise
            except OSError as exc:
                self.write_error = JournalError(
                    str(self.path), f"Cannot write to the journal '{self.path}': {exc.strerror or exc}."
                )
                raise self.write_error from None
            if isinstance(full.get("id"), str):
                self.latest[full["id"]] = full

    def check_writable(self) -> None:
        """Raise the error of an earlier failed write: after a full disk, every later item of the
        run fails at once, with nothing read or sent for it."""
        if self.write_error is not None:
            raise JournalError(str(self.path), str(self.write_error))

    def _open_for_append(self) -> int:
        fd = open_regular(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, self._parameter)
        if self._held.identity_fd is None:
            # Created by this record: the file exists now, and is locked before anything else
            # can open it under another name.
            try:
                self._check_lock(_lock_fd(fd, _IDENTITY_OFFSET), "the file itself")
            except JournalError:
                os.close(fd)
                raise
            self._held.identity_fd = fd
        self._held.append_fd = fd
        return fd

    def close(self) -> None:
        """Close the file and release the lock (also done when the object is collected)."""
        self._finalizer()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_O_BINARY: int = getattr(os, "O_BINARY", 0)


@dataclass
class _Held:
    """What an open journal holds, released together (also when the journal is collected)."""

    name_fd: int | None = None
    identity_fd: int | None = None
    append_fd: int | None = None


def _release_all(held: _Held) -> None:
    """Unlock and close the journal file (both locks' files), whatever fails on the way."""
    identity, append, name = held.identity_fd, held.append_fd, held.name_fd
    held.identity_fd = held.append_fd = held.name_fd = None
    if identity is not None:
        _unlock_fd(identity, _IDENTITY_OFFSET)
    for fd in dict.fromkeys(f for f in (identity, append) if f is not None):
        with contextlib.suppress(OSError):
            os.close(fd)
    if name is not None:
        _unlock_fd(name)
        with contextlib.suppress(OSError):
            os.close(name)
