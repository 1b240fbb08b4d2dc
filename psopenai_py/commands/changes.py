"""Safe metadata changes: merge, journaled writes and resuming, shared by Set-ChatCompletion,
Remove-ChatCompletion and Restore-ChatCompletionMetadata.

A journaled change of one completion is: read it (``GET``), work out the metadata after the
change, write a ``pending`` record with the metadata before and after (flushed to disk), send the
change, then write ``done`` (or ``failed`` with the error's message).  On -Resume, the journal's
last record for an id decides: ``done`` is skipped; ``pending`` and ``failed`` are checked against
the API: a change already applied is recorded ``done`` without sending it again, one not applied
is made afresh.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from ..errors import (
    APIRequestException,
    JournalError,
    NotFoundException,
    ParameterBindingError,
    ParameterTypeError,
)
from ..literal_text import to_literal
from ..parameters import Command, Parameter
from ..scrub import scrub_data
from ..transport import encode_path
from ..validation import (
    METADATA_MAX_PAIRS,
    METADATA_MAX_VALUE_LENGTH,
    check_metadata,
)
from .common import Invocation, prepare_invocation, settings_kwargs

if TYPE_CHECKING:  # the journal module loads only when a journal is asked for
    from ..journal import Journal

__all__ = [
    "check_patch",
    "merge_metadata",
    "check_merged",
    "metadata_of",
    "read_completion",
    "change_metadata",
    "resume_state",
    "SKIPPED",
    "APPLIED",
    "AGAIN",
    "journaled_remove",
    "check_deleted",
    "deleted_answer_problem",
    "open_journal",
    "check_resume",
    "check_same_change",
    "check_journal_op",
    "as_path_text",
    "scrubber",
    "report_skipped",
    "finish_journal",
    "open_change_journal",
    "begin_change",
    "ChangeKwargs",
]

log = logging.getLogger("psopenai_py")

SKIPPED = "skipped"
APPLIED = "applied"
AGAIN = "again"


def check_patch(param: Parameter, value: Any) -> dict[str, str | None]:
    """The keys a merge sets (string values) or removes (None values), with the key and value
    limits; the pair limit applies to the merged result, see :func:`check_merged`."""
    if value is None:
        raise ParameterBindingError(
            param.name, f"Cannot validate argument on parameter '{param.name}'. The argument is null."
        )
    if not isinstance(value, Mapping):
        raise ParameterTypeError(
            param.name,
            f"Cannot process argument transformation on parameter '{param.name}'. Cannot convert the "
            f'"{value}" value of type "{type(value).__name__}" to type "System.Collections.IDictionary".',
        )
    result: dict[str, str | None] = {}
    for key, item in value.items():
        # One pair at a time, with check_metadata's key and value rules; a removal has no value.
        checked = check_metadata(param, {key: "" if item is None else item})
        result[next(iter(checked))] = None if item is None else checked[key]
    return result


def merge_metadata(current: Mapping[str, str], patch: Mapping[str, str | None]) -> dict[str, str]:
    """The patch's keys over the current metadata; a None value removes its key."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def check_merged(param: Parameter, ident: str, merged: dict[str, str]) -> dict[str, str]:
    """The API's limits on a merged result, the error naming the completion."""
    if len(merged) > METADATA_MAX_PAIRS:
        raise ParameterBindingError(
            param.name,
            f"Cannot merge into '{ident}': the result would have {len(merged)} pairs; the limit "
            f"is {METADATA_MAX_PAIRS}. Remove keys with a $null value, or replace without -Merge.",
        )
    for key, value in merged.items():
        if len(value) > METADATA_MAX_VALUE_LENGTH:  # only a stored value could be this long
            raise ParameterBindingError(
                param.name,
                f"Cannot merge into '{ident}': the value of key {key!r} has {len(value)} "
                f"characters; the limit is {METADATA_MAX_VALUE_LENGTH}.",
            )
    return merged


def metadata_of(completion: Any) -> dict[str, str]:
    """A completion's metadata as a dict (the API may say null)."""
    value = completion.get("metadata") if isinstance(completion, Mapping) else None
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def read_completion(invocation: Invocation, ident: str) -> dict[str, Any]:
    """``GET /chat/completions/{id}``: the API object as received."""
    data = invocation.request("GET", encode_path("chat/completions/{}", ident))
    if not isinstance(data, dict):
        raise APIRequestException(f"The API returned no completion object for '{ident}'.")
    return data


def scrubber(invocation: Invocation) -> Callable[[str], str]:
    """A cleaner for data a server sent back, before a journal or an export file holds it: the
    package's data scrubber (:func:`psopenai_py.scrub.scrub_data`) with this invocation's key in
    play (whole, encoded, or any run of 8 or more of its characters, as a server that echoes part
    of a key sends it).  It never rewrites an id, a model name or a value for what it merely
    looks like."""
    key = invocation.settings.api_key

    def clean(text: str) -> str:
        return scrub_data(text, (key,))

    return clean


def as_path_text(value: Any) -> Any:
    """A path object (pathlib.Path, os.PathLike) as its text; anything else as given, for the
    parameter checks to judge."""
    if isinstance(value, os.PathLike):
        text = os.fspath(value)
        return text if isinstance(text, str) else value
    return value


def open_journal(
    path: Any,
    resume: bool,
    *,
    parameter: str = "Journal",
    redact: Callable[[str], str] | None = None,
) -> Journal | None:
    """The journal a command writes, or None when no path is given."""
    if path is None:
        return None
    path = as_path_text(path)
    if not isinstance(path, str) or not path.strip():
        raise ParameterBindingError(
            parameter, f"Cannot validate argument on parameter '{parameter}'. Give a file path."
        )
    from ..journal import Journal

    return Journal(path, resume=resume, parameter=parameter, redact=redact)


class ChangeKwargs(TypedDict, total=False):
    """-Journal and -Resume among a change command's arguments (see ``change_parameters``)."""

    journal: str | os.PathLike[str] | None
    resume: bool | None


def begin_change(
    table: Command, kwargs: Mapping[str, Any], resume: bool, op: str, change: Mapping[str, Any] | None = None
) -> tuple[Invocation, Journal | None]:
    """What the begin steps of Set- and Remove-ChatCompletion end with, once their own
    parameters are checked: -Resume needs a -Journal, the settings are resolved once, then the
    journal is opened (see :func:`open_change_journal`)."""
    check_resume(table.parameter("Resume"), resume, kwargs.get("journal"))
    invocation = prepare_invocation(table, **settings_kwargs(kwargs))
    return invocation, open_change_journal(invocation, kwargs.get("journal"), resume, op, change)


def open_change_journal(
    invocation: Invocation,
    path: Any,
    resume: bool,
    op: str,
    change: Mapping[str, Any] | None = None,
    *,
    parameter: str = "Journal",
) -> Journal | None:
    """A change run's journal (None without a path), opened and checked to record this
    operation and, with ``change``, this same change; closed again when a check fails."""
    journal = open_journal(path, resume, parameter=parameter, redact=scrubber(invocation))
    try:
        check_journal_op(journal, op, parameter)
        if change is not None:
            check_same_change(journal, op, change)
    except BaseException:
        finish_journal(journal)
        raise
    return journal


def finish_journal(journal: Journal | None) -> None:
    """Report the ids a resumed run skipped, close the journal (releasing its lock)."""
    report_skipped(journal)
    if journal is not None:
        journal.close()


def check_journal_op(journal: Journal | None, op: str, parameter: str = "Journal") -> None:
    """A journal records one kind of change (set, remove or restore): resuming it with another
    command would mix records that a resume and a restore read as one run."""
    if journal is None:
        return
    others = sorted({str(r.get("op")) for r in journal.records if "op" in r and r.get("op") != op})
    if others:
        raise ParameterBindingError(
            parameter,
            f"The journal '{journal.path}' records {', '.join(others)} changes, not {op}: give "
            "this run a journal of its own.",
        )


def check_same_change(journal: Journal | None, op: str, change: Mapping[str, Any]) -> None:
    """-Resume with other parameters than the journaled run is refused before anything is read
    or sent: otherwise the ids not yet journaled would get the new change and the others the
    old one."""
    if journal is None:
        return
    for record in journal.records:
        if record.get("op") == op and "change" in record and record["change"] != dict(change):
            raise ParameterBindingError(
                "Resume",
                f"The journal '{journal.path}' records a different change "
                f"({to_literal(record['change'])}) than this run's ({to_literal(dict(change))}). "
                "Resume with the same parameters, or use a new journal.",
            )


def check_resume(param: Parameter, resume: bool, journal: Any) -> None:
    """-Resume continues a journal: it needs one."""
    if resume and journal is None:
        raise ParameterBindingError(
            param.name, "-Resume continues a journaled run: give the run's journal with -Journal."
        )


def _failed(
    journal: Journal | None, op: str, ident: str, error: BaseException, extra: Mapping[str, Any] | None = None
) -> None:
    """Record a change that failed; a journal that cannot take the record leaves its ``pending``
    one, which -Resume checks against the API, and the item keeps its own error."""
    if journal is None:
        return
    try:
        journal.append({"op": op, "state": "failed", "id": ident, "error": str(error), **(extra or {})})
    except JournalError as journal_error:
        log.warning(
            "'%s' failed, and the journal could not record it: %s -Resume with it checks that "
            "change against the API.",
            ident,
            journal_error,
        )


def _applied(journal: Journal, record: Mapping[str, Any], done: str) -> None:
    """Record a change the API has applied.  A journal that cannot take the record (a full disk)
    does not make the change fail: it is applied, and reported so, with a warning that the
    journal is incomplete (its ``pending`` record stands, and -Resume reconciles it)."""
    try:
        journal.append(record)
    except JournalError as error:
        log.warning(
            "'%s' was %s, but the journal could not record it: %s The journal is incomplete: "
            "-Resume with it finds the change made and records it.",
            record.get("id"),
            done,
            error,
        )


def deleted_answer_problem(response: Any, ident: str) -> str | None:
    """What keeps a DELETE answer from saying that ``ident`` was deleted (None: it says so):
    a removal is recorded, and reported, only on ``"deleted": true`` for this very id."""
    if not isinstance(response, Mapping):
        return "the answer is not an object"
    answered = response.get("id")
    if answered is not None and answered != ident:
        return f"the answer names another completion ({to_literal(answered)})"
    deleted = response.get("deleted")
    if deleted is not True:
        return (
            "the answer does not say deleted"
            if deleted is None
            else f"the answer says deleted: {to_literal(deleted)}"
        )
    return None


def check_deleted(response: Any, ident: str) -> None:
    """Raise for a DELETE answer that does not say that ``ident`` was deleted."""
    problem = deleted_answer_problem(response, ident)
    if problem is not None:
        raise APIRequestException(f"The API did not confirm the deletion of '{ident}': {problem}.")


def change_metadata(
    invocation: Invocation,
    journal: Journal | None,
    ident: str,
    *,
    op: str,
    target: Callable[[dict[str, str]], dict[str, str] | None],
    extra: Mapping[str, Any] | None = None,
    current: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Read a completion, write what ``target`` makes of its metadata, journaled; the API's
    answer.  ``target`` returning None means there is nothing to write (None is returned)."""
    if current is None:
        current = read_completion(invocation, ident)
    before = metadata_of(current)
    after = target(before)
    if after is None:
        return None
    if journal is not None:
        journal.append(
            {"op": op, "state": "pending", "id": ident, "before": before, "after": after, **(extra or {})}
        )
    try:
        data = invocation.request("POST", encode_path("chat/completions/{}", ident), body={"metadata": after})
    except Exception as error:
        _failed(journal, op, ident, error, extra)
        raise
    if journal is not None:
        _applied(
            journal,
            {"op": op, "state": "done", "id": ident, "before": before, "after": after, **(extra or {})},
            "changed",
        )
    return data if isinstance(data, dict) else current


def resume_state(
    invocation: Invocation,
    journal: Journal | None,
    ident: str,
    *,
    op: str,
    resume: bool,
    extra: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, Any] | None]:
    """What -Resume makes of an id: (SKIPPED, None) for a done change, (APPLIED, the completion)
    for a pending one the API already shows, (AGAIN, the completion or None) otherwise."""
    if journal is None or not resume:
        return AGAIN, None
    entry = journal.entry(ident)
    if entry is None or entry.record.get("op") != op:
        return AGAIN, None
    record = entry.record
    if extra is not None and all(k in record for k in extra):
        recorded = {k: record.get(k) for k in extra}
        if recorded != dict(extra):
            raise ParameterBindingError(
                "Resume",
                f"The journal '{journal.path}' records a different change for '{ident}' "
                f"({to_literal(recorded)}). Resume with the same parameters, or use a new journal.",
            )
    if entry.state == "done":
        log.info("Skipped '%s': the journal '%s' records it done.", ident, journal.path)
        journal.skip()
        return SKIPPED, None
    current = read_completion(invocation, ident)
    before = record.get("before")
    after = record.get("after")
    if entry.state in ("pending", "failed") and isinstance(after, dict) and metadata_of(current) == after:
        _applied(
            journal,
            {"op": op, "state": "done", "id": ident, "before": before, "after": after, **(extra or {})},
            "already changed",
        )
        log.info("'%s' already shows the journaled change; recorded it done.", ident)
        return APPLIED, current
    return AGAIN, current


def report_skipped(journal: Journal | None) -> None:
    """One warning at the end of a resumed run with the count of ids it skipped: they have no
    output line, and an admin must be able to tell every input id apart as changed, failed or
    skipped."""
    if journal is not None and journal.skipped:
        log.warning(
            "Skipped %d completion%s that the journal '%s' records done in an earlier run "
            "(-Verbose names them).",
            journal.skipped,
            "" if journal.skipped == 1 else "s",
            journal.path,
        )


def journaled_remove(invocation: Invocation, journal: Journal, ident: str, *, resume: bool) -> Any:
    """Delete one completion, its full object and messages journaled first; the API's answer
    (None when -Resume found it done already)."""
    if resume:
        entry = journal.entry(ident)
        if entry is not None and entry.record.get("op") == "remove":
            if entry.state == "done":
                log.info("Skipped '%s': the journal '%s' records it removed.", ident, journal.path)
                journal.skip()
                return None
            try:
                read_completion(invocation, ident)
            except NotFoundException:
                _applied(journal, {"op": "remove", "state": "done", "id": ident}, "already removed")
                log.info("'%s' is already gone; recorded it removed.", ident)
                return None
    from .paging import all_messages  # here: only a journaled remove pages the messages

    completion = read_completion(invocation, ident)
    messages = list(all_messages(invocation, ident))
    journal.append(
        {"op": "remove", "state": "pending", "id": ident, "completion": completion, "messages": messages}
    )
    try:
        response = invocation.request("DELETE", encode_path("chat/completions/{}", ident))
        # Done only when the answer says that this id was deleted: a done record makes -Resume
        # skip the id for good.
        check_deleted(response, ident)
    except Exception as error:
        _failed(journal, "remove", ident, error)
        raise
    _applied(journal, {"op": "remove", "state": "done", "id": ident}, "removed")
    return response
