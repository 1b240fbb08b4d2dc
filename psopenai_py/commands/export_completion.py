"""Export-ChatCompletion: every stored chat completion (or those the filters select) to a JSON-lines
file, the backup to take before a bulk change.

Each line is one completion as the API returned it (its JSON, not the PowerShell-shaped object);
with -IncludeMessages it carries one more property, ``"messages"``: the completion's stored
messages as the API returned them, in order.  Pages are streamed: memory holds one page (and its
messages), never the whole list.  The lines go to a staging file in the destination's directory,
published under the destination's name only when complete, and never over an existing file.

The staging file (:class:`StagedFile`, which the openai-CLI dialect's export shares) is held locked
while its export runs; one left by an export that was killed (named ``.<name>.<random>.partial``,
mode 0600, holding completions and messages) is removed by the next export to the same
destination, once no process holds it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import logging
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO

from .. import meter
from ..errors import ExportFileError, ParameterBindingError, PSOpenAIError
from ..parameters import ORDER, Command, Parameter, after_parameter, settings_parameters
from ..validation import check_choice, check_int, check_optional_str, check_switch
from .changes import as_path_text, scrubber
from .common import (
    FilterKwargs,
    Filters,
    Invocation,
    SettingsKwargs,
    arguments,
    list_filters,
    prepare_invocation,
    settings_kwargs,
)
from .paging import SDK, Pager, all_messages
from .unit import CommandUnit

log = logging.getLogger("psopenai_py")

PAGE_SIZE = 100
"""Completions per list request (the API's most)."""


TABLE = Command(
    name="Export-ChatCompletion",
    python_name="export_chat_completion",
    synopsis="Saves stored chat completions to a JSON-lines file, one API object per line.",
    parameters=(
        Parameter(
            "Path",
            "path",
            "String",
            "The file to create; - writes the lines to standard output. An existing file is never "
            "overwritten. The file appears only when the export is complete.",
            position=0,
            mandatory=True,
        ),
        Parameter(
            "MetaData",
            "metadata",
            "IDictionary",
            "Export only completions whose metadata has all these pairs.",
        ),
        Parameter("Model", "model", "String", "Export only completions made with this model."),
        ORDER,
        after_parameter("completions"),
        Parameter(
            "IncludeMessages",
            "include_messages",
            "SwitchParameter",
            'Add each completion\'s stored messages to its line, as "messages": [...] (one '
            "request or more per completion).",
            default=False,
        ),
        Parameter(
            "ThrottleLimit",
            "throttle_limit",
            "Int32",
            "How many completions' messages are fetched at once with -IncludeMessages (1 to 64).",
            default=1,
            minimum=1,
            maximum=64,
        ),
        *settings_parameters(),
    ),
)


@dataclass(frozen=True)
class ExportReceipt:
    """What an export wrote: the file (``-`` for standard output) and how many completions."""

    path: str
    count: int


@dataclass(frozen=True)
class _Export:
    """An export as its parameters were checked: where it goes, what it lists, how."""

    invocation: Invocation
    path: str
    filters: Filters
    order: str
    after: str | None
    include_messages: bool
    throttle: int
    scrub: Callable[[str], str]


class ExportKwargs(FilterKwargs, SettingsKwargs, total=False):
    """The arguments of :func:`psopenai_py.export_chat_completion` by its table's Python
    names, as its call and the binder hand them to the begin step."""

    path: str | os.PathLike[str]
    order: str | None
    after: str | None
    include_messages: bool | None
    throttle_limit: int | None


def _check(kwargs: ExportKwargs) -> _Export:
    p = TABLE.parameter
    path = check_optional_str(p("Path"), as_path_text(kwargs.get("path")))
    if path is None or not path.strip():
        raise ParameterBindingError(
            "Path", "Cannot validate argument on parameter 'Path'. Give a file path or -."
        )
    filters = list_filters(TABLE, kwargs)
    order = check_choice(p("Order"), kwargs.get("order")) or "asc"
    after = check_optional_str(p("After"), kwargs.get("after"))
    include = check_switch(p("IncludeMessages"), kwargs.get("include_messages"))
    throttle = check_int(p("ThrottleLimit"), kwargs.get("throttle_limit")) or 1
    if path != "-":
        _refuse_existing(Path(path))
        if not Path(path).resolve().parent.is_dir():
            raise ParameterBindingError(
                "Path",
                f"Cannot export to '{path}': its directory does not exist.",
            )
    invocation = prepare_invocation(TABLE, **settings_kwargs(kwargs))
    return _Export(invocation, path, filters, order, after, include, throttle, scrubber(invocation))


def _refuse_existing(path: Path) -> None:
    if path.is_dir():
        raise ParameterBindingError(
            "Path", f"Cannot export to '{path}': it is a directory. Give the path of a new file in it."
        )
    if os.path.lexists(path):
        raise ParameterBindingError(
            "Path",
            f"Cannot export to '{path}': the file already exists. Export-ChatCompletion never "
            "overwrites a file; give a new path.",
        )


def list_pages(export: _Export) -> Iterator[list[dict[str, Any]]]:
    """The list's pages (those with items), through the one page loop: a malformed page, an id
    read before (a cursor loop, a list that goes back) or a page that says there is more but
    gives nothing to continue after is an error, never a loop and never a short or doubled file.

    ``has_more`` is read by the SDK's rule: a page without it pages on until an empty page, as a
    backup must not stop where the server did not say the list ends (at worst one request more).
    """

    def fetch(after: str | None) -> Any:
        query = [("limit", PAGE_SIZE), ("order", export.order), *([("after", after)] if after else [])]
        return export.invocation.request("GET", "chat/completions", query=[*query, *export.filters])

    for page in Pager(fetch, SDK, after=export.after).pages(to_the_end=True):
        if page.data:
            yield page.data


def _messages(invocation: Invocation, ident: str) -> list[Any]:
    return list(all_messages(invocation, ident))


class _Written:
    """How many completions an export has written so far, and what its last line says when it
    ends early (``lost``: the words for what was written and what was not, given the count)."""

    def __init__(self, lost: Callable[[int], str]) -> None:
        self.count = 0
        self.lost = lost

    def ended_early(self) -> None:
        """Tell the run's front-end what the export came to (:func:`meter.ended_early`)."""
        meter.ended_early(self.lost(self.count))


def _write_all(export: _Export, out: IO[str], written: _Written) -> int:
    pool = (
        concurrent.futures.ThreadPoolExecutor(export.throttle, thread_name_prefix="psopenai-export")
        if export.include_messages and export.throttle > 1
        else None
    )
    try:
        for data in list_pages(export):
            if export.include_messages:
                ids = [str(item["id"]) for item in data]
                if pool is not None:
                    fetched = list(pool.map(lambda i: _messages(export.invocation, i), ids))
                else:
                    fetched = [_messages(export.invocation, i) for i in ids]
                for item, messages in zip(data, fetched, strict=True):
                    item["messages"] = messages
            # A server that echoes the key into a completion must not put it in the file.
            out.write(
                "".join(
                    export.scrub(json.dumps(item, ensure_ascii=False, separators=(",", ":"))) + "\n"
                    for item in data
                )
            )
            out.flush()  # a page at a time: what is counted as written was written
            written.count += len(data)
            meter.produced(len(data))  # the progress line's count
    except BaseException:
        # Said before the wait for the requests in flight below: a second Ctrl-C during that
        # wait quits with this line.
        written.ended_early()
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return written.count


def publish_new_file(staging: str, destination: str | os.PathLike[str]) -> None:
    """Give a complete staging file the destination's name, never replacing a file: raises
    FileExistsError when the name is taken (also when it was taken while the file was written)."""
    try:
        # A hard link fails when the name exists: the check and the publication are one step.
        os.link(staging, destination)
    except FileExistsError:
        raise
    except (OSError, NotImplementedError, AttributeError):
        # No hard links here (some file systems): reserve the name exclusively, then move over it.
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.replace(staging, destination)
        return
    os.unlink(staging)


_STAGING_TAIL = r"\.[A-Za-z0-9_]{8,32}\.partial"
"""A staging file's name after ``.<destination name>``: a random part (16 hex digits, or the 8
characters of an older version's temporary name), then ``.partial``."""


def _hold(fd: int) -> bool:
    """Lock a staging file for as long as its export runs (POSIX ``flock``); False when it was
    removed meanwhile by another export's clean-up.  Windows needs no lock: a file open in one
    process cannot be deleted by another."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # another export's clean-up holds it, and is removing it
    return os.fstat(fd).st_nlink > 0


def _remove_if_stale(path: Path) -> bool:
    """Remove a staging file no running export holds; False when one holds it (or it is not a
    regular file of this user)."""
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode) or (hasattr(os, "geteuid") and info.st_uid != os.geteuid()):
        return False
    try:
        import fcntl
    except ImportError:  # Windows: a staging file still open in its export cannot be deleted
        try:
            os.unlink(path)
        except PermissionError:
            return False
        return True
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            return False  # replaced since it was looked at
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # its export is running
        os.unlink(path)  # while the lock keeps a new export from taking it
        return True
    finally:
        os.close(fd)


def remove_stale_staging(destination: Path) -> None:
    """Remove the staging files that exports of ``destination`` killed before they finished left
    behind (only those: named for this destination, this user's, and held by no process); say
    where any that could not be removed are."""
    folder = destination.parent
    pattern = re.compile(re.escape(f".{destination.name}") + _STAGING_TAIL)
    try:
        names = [name for name in os.listdir(folder) if pattern.fullmatch(name)]
    except OSError:
        return
    for name in names:
        path = folder / name
        try:
            if _remove_if_stale(path):
                log.info("Removed '%s', left by an export that did not finish.", path)
        except FileNotFoundError:
            continue  # removed meanwhile (its export published it, or another clean-up)
        except OSError as exc:
            log.warning(
                "A staging file left by an export that did not finish could not be removed: '%s' "
                "(%s). It holds completions; delete it.",
                path,
                exc.strerror or exc,
            )


class StagedFile:
    """A new file written whole or not at all: its lines go to a staging file beside the
    destination (``.<name>.<random>.partial``, mode 0600), published under the destination's name
    only when complete and never over an existing file.

    ``open`` is called inside the ``try`` whose ``except`` calls ``discard``: the staging file's
    name is chosen before it is created, so a signal arriving right after the creation (before
    its stream is returned) still finds it to remove.
    """

    def __init__(self, destination: str | os.PathLike[str]) -> None:
        self.destination = Path(destination)
        self.path: Path | None = None
        self._stream: TextIO | None = None

    def open(self) -> TextIO:
        """Remove stale staging files of the destination, then create and lock this one; its text
        stream (UTF-8, LF line ends).  Raises OSError when the directory refuses it."""
        folder = self.destination.resolve().parent
        remove_stale_staging(folder / self.destination.name)
        for _ in range(5):
            self.path = folder / f".{self.destination.name}.{secrets.token_hex(8)}.partial"
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
            self._stream = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
            if _hold(fd):
                return self._stream
            # Taken for a stale one by another export's clean-up in the instant before the lock:
            # it is being removed; start again under a new name.
            self._stream.close()
            self._stream = None
            self.path = None
        raise OSError("a staging file could not be kept (another export kept removing it)")

    def publish(self, publish: Callable[[str, Path], None] = publish_new_file) -> None:
        """Flush the lines to disk and give the file the destination's name, by ``publish``
        (:func:`publish_new_file`: FileExistsError when the name was taken meanwhile)."""
        assert self._stream is not None and self.path is not None
        self._stream.flush()
        os.fsync(self._stream.fileno())
        self._stream.close()  # closed first: Windows cannot move an open file
        self._stream = None
        publish(str(self.path), self.destination)
        self.path = None

    def discard(self) -> None:
        """Close and remove the staging file (nothing is left behind by a failed export)."""
        stream, path = self._stream, self.path
        self._stream = self.path = None
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
        if path is not None:
            with contextlib.suppress(OSError):
                os.unlink(path)


def _publish(staging: str, destination: Path) -> None:
    try:
        publish_new_file(staging, destination)
    except FileExistsError:
        _refuse_existing(destination)
        raise


def _file_error(destination: Path, exc: OSError) -> ExportFileError:
    """A file system's refusal (a read-only directory, a full disk) as one clear error."""
    return ExportFileError(
        str(destination),
        f"Cannot export to '{destination}': {exc.strerror or exc}. Nothing was saved under that name.",
    )


def _completions(count: int) -> str:
    return f"{count} completion{'' if count == 1 else 's'}"


def run_export(export: _Export) -> ExportReceipt:
    """Export as checked; the receipt.  Ended early (stopped, an output or a file that failed),
    it tells the run's front-end what was written and what was not (:func:`meter.ended_early`)."""
    started = time.monotonic()
    if export.path == "-":
        written = _Written(lambda count: f"{_completions(count)} written; the rest were not exported")
        # The front-end's standard output when it gives one: it reports that output's failures.
        current = meter.current()
        out = current.output if current is not None and current.output is not None else sys.stdout
        try:
            count = _write_all(export, out, written)
            out.flush()
        except BaseException:
            written.ended_early()
            raise
        return ExportReceipt("-", count)
    destination = Path(export.path)
    written = _Written(
        lambda count: f"{_completions(count)} read, nothing saved ('{destination}' was not written)"
    )
    staged = StagedFile(destination)
    try:
        count = _write_all(export, staged.open(), written)
        staged.publish(_publish)
    except BaseException as exc:
        staged.discard()
        written.ended_early()
        if isinstance(exc, OSError) and not isinstance(exc, PSOpenAIError):
            raise _file_error(destination, exc) from None
        raise
    log.info("Exported %d completions in %.1f s.", count, time.monotonic() - started)
    return ExportReceipt(str(destination), count)


def _receipt_lines(receipt: ExportReceipt) -> list[str]:
    lines = [] if receipt.path == "-" else [f"Saved {receipt.path}"]
    return [*lines, f"Stored completions: {receipt.count}", "All pages fetched."]


def begin_export(kwargs: ExportKwargs) -> None:
    """The command's only step: export, then the receipt on standard error (no output object)."""
    receipt = run_export(_check(kwargs))
    current = meter.current()
    if current is not None and current.say is not None:  # the front-end's, beside its progress line
        for line in _receipt_lines(receipt):
            current.say(line)
        return
    sys.stderr.write("".join(line + "\n" for line in _receipt_lines(receipt)))
    sys.stderr.flush()


def call(given: Mapping[str, Any]) -> ExportReceipt:
    """The run of :func:`psopenai_py.export_chat_completion`, from its arguments (its
    ``locals()``): the export, its receipt also as verbose lines."""
    receipt = run_export(_check(arguments(TABLE, given)))
    for line in _receipt_lines(receipt):
        log.info("%s", line)
    return receipt


UNIT = CommandUnit(TABLE, begin_export)
