"""Restore-ChatCompletionMetadata: take back the metadata changes a journal records.

For every id with a ``done`` metadata change in the journal (``set`` or ``restore`` records),
newest first, the metadata before the change is written back, but only where the stored metadata
still equals what the change left; anything else is a conflict, reported for that id and left
alone unless -Force.  Several journaled changes of one id are undone in one write, back to the
oldest before of an unbroken chain.  The restore is journaled itself (-RestoreJournal, by default
``<journal>.restore.jsonl``), so it can be resumed and restored in turn.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import (
    APIRequestException,
    JournalError,
    MetadataConflictError,
    ParameterBindingError,
    ParameterTypeError,
)
from ..journal import Journal
from ..literal_text import to_literal
from ..parameters import Command, Parameter, settings_parameters
from ..psobject import PSObject
from ..results import completion_object
from ..validation import check_optional_str, check_switch
from .changes import (
    AGAIN,
    APPLIED,
    as_path_text,
    change_metadata,
    finish_journal,
    metadata_of,
    open_change_journal,
    read_completion,
    resume_state,
)
from .common import Invocation, SettingsKwargs, arguments, prepare_invocation, settings_kwargs
from .unit import CommandUnit

log = logging.getLogger("psopenai_py")

RESTORE_SUFFIX = ".restore.jsonl"
"""The restore's own journal is ``<journal>`` + this, unless -RestoreJournal names one."""

TABLE = Command(
    name="Restore-ChatCompletionMetadata",
    python_name="restore_chat_completion_metadata",
    synopsis="Puts back the metadata that a journaled bulk change replaced.",
    bulk=True,
    should_process=True,
    parameters=(
        Parameter(
            "Journal",
            "journal",
            "String",
            "The journal of the change to take back (written by -Journal of Set-ChatCompletion, "
            "or by an earlier restore).",
            position=0,
            mandatory=True,
            pipeline_by_value=True,
        ),
        Parameter(
            "RestoreJournal",
            "restore_journal",
            "String",
            "The journal this restore writes, so that it can be resumed and restored in turn. "
            "When not given: the journal's path followed by .restore.jsonl.",
        ),
        Parameter(
            "Force",
            "force",
            "SwitchParameter",
            "Restore also the completions whose metadata was changed by someone else since the "
            "journaled change (without it they are reported as conflicts and left alone).",
            default=False,
        ),
        Parameter(
            "Resume",
            "resume",
            "SwitchParameter",
            "Continue the restore recorded in the restore journal: ids recorded done are "
            "skipped, pending ones are checked against the API first.",
            default=False,
        ),
        *settings_parameters(),
    ),
)

_OPS = ("set", "restore")


@dataclass(frozen=True)
class RestoreItem:
    """One id to restore: the metadata expected now, the metadata to put back."""

    completion_id: str
    expected: dict[str, str]
    target: dict[str, str]
    journal: Journal

    def __str__(self) -> str:
        return self.completion_id


@dataclass
class _RestoreState:
    invocation: Invocation
    restore_journal: str | None
    force: bool
    resume: bool
    journals: dict[str, Journal] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class RestoreKwargs(SettingsKwargs, total=False):
    """The arguments of :func:`psopenai_py.restore_chat_completion_metadata` by its table's Python
    names, as its call and the binder hand them to the begin step."""

    journal: str | os.PathLike[str]
    restore_journal: str | os.PathLike[str] | None
    force: bool | None
    resume: bool | None


def begin_restore(kwargs: RestoreKwargs) -> _RestoreState:
    """Check the parameters, resolve the settings once."""
    p = TABLE.parameter
    restore_journal = check_optional_str(p("RestoreJournal"), as_path_text(kwargs.get("restore_journal")))
    force = check_switch(p("Force"), kwargs.get("force"))
    resume = check_switch(p("Resume"), kwargs.get("resume"))
    invocation = prepare_invocation(TABLE, **settings_kwargs(kwargs))
    return _RestoreState(invocation, restore_journal, force, resume)


def end_restore(state: _RestoreState) -> None:
    """Report the ids skipped, close the restore journals (releasing their locks)."""
    for journal in state.journals.values():
        finish_journal(journal)


def plan(records: list[dict[str, Any]]) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(id, expected now, metadata to put back) per id, newest change first.

    Several done changes of one id chain back while each one's ``after`` equals the next newer
    one's ``before``; a break (someone else wrote in between) ends the chain there.
    """
    chains: dict[str, list[dict[str, Any]]] = {}
    newest: dict[str, int] = {}
    for index, record in enumerate(records):
        ident = record.get("id")
        if (
            record.get("op") in _OPS
            and record.get("state") == "done"
            and isinstance(ident, str)
            and isinstance(record.get("before"), dict)
            and isinstance(record.get("after"), dict)
        ):
            chains.setdefault(ident, []).append(record)
            newest[ident] = index
    result = []
    for ident in sorted(chains, key=lambda i: newest[i], reverse=True):
        chain = chains[ident]
        expected = dict(chain[-1]["after"])
        target = dict(chain[-1]["before"])
        for older in reversed(chain[:-1]):
            if older["after"] != target:
                break
            target = dict(older["before"])
        result.append((ident, expected, target))
    return result


def _restore_journal(state: _RestoreState, source: str) -> Journal:
    path = state.restore_journal or source + RESTORE_SUFFIX
    with state.lock:
        journal = state.journals.get(path)
        if journal is None:
            journal = open_change_journal(
                state.invocation, path, state.resume, "restore", parameter="RestoreJournal"
            )
            assert journal is not None  # a path is always given
            state.journals[path] = journal
        return journal


def _same_file(first: str, second: str) -> bool:
    """Whether two paths name one file: through links, and in any case where the file system
    ignores case (Windows, macOS)."""
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist yet
        return os.path.normcase(os.path.realpath(first)) == os.path.normcase(os.path.realpath(second))


def _read_source(state: _RestoreState, source: str) -> list[dict[str, Any]]:
    """The records of a journal no run is writing (its lock is taken for the reading)."""
    restore_path = state.restore_journal or source + RESTORE_SUFFIX
    if _same_file(restore_path, source):
        raise ParameterBindingError(
            "RestoreJournal", f"The restore journal cannot be the journal it restores ('{source}')."
        )
    if not os.path.exists(source):
        raise JournalError(source, f"Cannot restore from '{source}': the journal does not exist.")
    # A run still writing the journal holds its lock: refuse rather than restore half a change.
    with Journal(source, resume=True) as journal:
        return journal.records


class Planned:
    """The changes the given journals can take back, as a run's items, and how many there are
    once the last journal has been read (for the progress line's total)."""

    def __init__(self, state: _RestoreState, sources: Iterable[Any]) -> None:
        self.count = 0
        self.complete = False
        self._items = self._expand(state, sources)

    def __iter__(self) -> Iterator[Any]:
        return self._items

    def total(self) -> int | None:
        """How many items the run has: known once every journal has been read."""
        return self.count if self.complete else None

    def _expand(self, state: _RestoreState, sources: Iterable[Any]) -> Iterator[Any]:
        # One path ahead: whether a journal is the last is known when it is read, so a run over
        # one journal knows its total before its first change is taken back.
        paths = iter(map(as_path_text, sources))
        source = next(paths, _END)
        while source is not _END:
            following = next(paths, _END)
            found = list(_journal_items(state, source))
            self.count += len(found)
            self.complete = following is _END
            yield from found
            source = following


_END = object()
"""The end of the journals given."""


def expand_restore(state: _RestoreState, sources: Iterable[Any]) -> Planned:
    """The ids each given journal can take back, newest change first, journal by journal."""
    return Planned(state, sources)


def _journal_items(state: _RestoreState, source: Any) -> Iterator[Any]:
    """The items of one journal: its changes to take back, or the one failure of a bad path."""
    if not isinstance(source, str) or not source.strip():
        yield ParameterBindingError(
            "Journal", "Cannot validate argument on parameter 'Journal'. Give a file path."
        )
        return
    records = _read_source(state, source)
    items = plan(records)
    removed = sum(1 for r in records if r.get("op") == "remove" and r.get("state") == "done")
    if removed:
        log.warning(
            "The journal '%s' records %d removed completions; the API cannot re-create them "
            "(their copies are in the journal).",
            source,
            removed,
        )
    last = {r["id"]: r for r in records if r.get("op") in _OPS and isinstance(r.get("id"), str)}
    unsettled = sum(1 for r in last.values() if r.get("state") in ("pending", "failed"))
    if unsettled:
        # Killed between the pending record and done, or failed: the change may or may not
        # be on the API, and the journal cannot say which.
        log.warning(
            "The journal '%s' records %d changes that did not finish (pending or failed); they "
            "are not restored. Resume that run first (-Resume), then restore.",
            source,
            unsettled,
        )
    journal = _restore_journal(state, source)
    for ident, expected, target in items:
        yield RestoreItem(ident, expected, target, journal)


def _decide(state: _RestoreState, item: RestoreItem, current: dict[str, str]) -> dict[str, str] | None:
    """The metadata to write, None when it is already back; a conflict raises."""
    if current == item.target:
        log.info("'%s' already has the metadata the journal restores.", item.completion_id)
        return None
    if current != item.expected and not state.force:
        raise MetadataConflictError(
            item.completion_id,
            f"Conflict: '{item.completion_id}' was changed since the journaled change: its metadata "
            f"is {to_literal(current)}, the change left {to_literal(item.expected)}. Left alone; "
            "-Force restores it anyway.",
        )
    return item.target


def describe_restore(state: _RestoreState, item: Any) -> str:
    """The WhatIf target: the id and the metadata it would get back (read first: conflicts show)."""
    if not isinstance(item, RestoreItem):
        return str(item)
    current = metadata_of(read_completion(state.invocation, item.completion_id))
    target = _decide(state, item, current)
    if target is None:
        if item.expected == item.target:  # the change wrote what was there: nothing came of it
            return f"{item.completion_id} (nothing to restore: the change left the metadata as it was)"
        return f"{item.completion_id} (already restored)"
    return f"{item.completion_id} (restore the metadata to {to_literal(target)})"


def process_restore(state: _RestoreState, item: Any) -> PSObject | None:
    """Restore one id; the updated completion, or None when there was nothing to write."""
    if not isinstance(item, RestoreItem):
        raise ParameterBindingError("Journal", f"Cannot restore {item!r}: not an item of a journal.")
    ident = item.completion_id
    outcome, current = resume_state(state.invocation, item.journal, ident, op="restore", resume=state.resume)
    if outcome == APPLIED and current is not None:
        return completion_object(current)
    if outcome != AGAIN:
        return None
    data = change_metadata(
        state.invocation,
        item.journal,
        ident,
        op="restore",
        target=lambda before: _decide(state, item, before),
        current=current,
    )
    return completion_object(data) if data is not None else None


def call(given: Mapping[str, Any]) -> list[PSObject]:
    """The run of :func:`psopenai_py.restore_chat_completion_metadata`, from its arguments (its
    ``locals()``): every id of the journal is tried, a failed one logged as a warning; the
    first failure is raised once all are done."""
    kwargs: RestoreKwargs = arguments(TABLE, given)
    state = begin_restore(kwargs)
    restored: list[PSObject] = []
    failures: list[BaseException] = []
    try:
        for item in expand_restore(state, [kwargs.get("journal")]):
            try:
                if isinstance(item, BaseException):
                    raise item
                result = process_restore(state, item)
            except (APIRequestException, ParameterBindingError, ParameterTypeError) as error:
                # Named as the command line names it: a journal holds many ids.
                where = f"[{item.completion_id}] " if isinstance(item, RestoreItem) else ""
                log.warning("%s%s", where, error)
                failures.append(error)
                continue
            if result is not None:
                restored.append(result)
    finally:
        end_restore(state)
    if failures:
        raise failures[0]
    return restored


UNIT = CommandUnit(
    TABLE,
    begin_restore,
    process_restore,
    "Journal",
    describe_restore,
    end=end_restore,
    expand=expand_restore,
)
