"""Set-ChatCompletion: replace (or, with -Merge, merge into) the metadata of a stored chat completion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..literal_text import to_literal
from ..parameters import (
    ID_TEXT,
    Command,
    Parameter,
    change_parameters,
    completion_id_parameter,
    settings_parameters,
)
from ..psobject import PSObject
from ..records import Record
from ..results import completion_object
from ..transport import encode_path
from ..validation import check_metadata, check_switch
from .changes import (
    AGAIN,
    APPLIED,
    ChangeKwargs,
    begin_change,
    change_metadata,
    check_merged,
    check_patch,
    finish_journal,
    merge_metadata,
    metadata_of,
    read_completion,
    resume_state,
)
from .common import Invocation, SettingsKwargs, arguments, completion_id_of
from .unit import CommandUnit

if TYPE_CHECKING:  # the journal module loads only when a journal is asked for
    from ..journal import Journal

TABLE = Command(
    name="Set-ChatCompletion",
    python_name="set_chat_completion",
    synopsis="Modifies the metadata of a stored chat completion.",
    bulk=True,
    should_process=True,
    additions=("Merge", "Journal", "Resume"),
    parameters=(
        completion_id_parameter(ID_TEXT),
        Parameter(
            "MetaData",
            "metadata",
            "IDictionary",
            "The metadata that replaces the stored metadata: at most 16 pairs, string keys "
            "of at most 64 characters, string values of at most 512 characters. An empty "
            "dictionary clears it.",
            mandatory=True,
        ),
        *change_parameters(merge=True),
        *settings_parameters(),
    ),
)


def update_completion(invocation: Invocation, completion_id: str, metadata: Mapping[str, str]) -> PSObject:
    """``POST /chat/completions/{id}`` for one already-checked id; the completion object."""
    data = invocation.request(
        "POST", encode_path("chat/completions/{}", completion_id), body={"metadata": metadata}
    )
    return completion_object(data)


class _SetState(Record):
    invocation: Invocation
    metadata: dict[str, str]
    change: dict[str, Any]
    """What this run does to each id, as its journal records it."""
    patch: dict[str, str | None] | None = None
    """The keys to set or remove with -Merge (None: replace)."""
    journal: Journal | None = None
    resume: bool = False


class SetKwargs(ChangeKwargs, SettingsKwargs, total=False):
    """The arguments of :func:`psopenai_py.set_chat_completion` by its table's Python
    names, as its call and the binder hand them to the begin step."""

    completion_id: Any
    metadata: Mapping[str, str | None]
    merge: bool | None


def begin_set_chat_completion(kwargs: SetKwargs) -> _SetState:
    """Check MetaData and the settings parameters, resolve the settings once."""
    p = TABLE.parameter
    merge = check_switch(p("Merge"), kwargs.get("merge"))
    resume = check_switch(p("Resume"), kwargs.get("resume"))
    if merge:
        patch: dict[str, str | None] | None = check_patch(p("MetaData"), kwargs.get("metadata"))
        metadata: dict[str, str] = {}
    else:
        patch, metadata = None, check_metadata(p("MetaData"), kwargs.get("metadata"))
    # What this run does to each id, as its journal records it.
    change = {"merge": patch is not None, "metadata": metadata if patch is None else patch}
    invocation, journal = begin_change(TABLE, kwargs, resume, "set", change)
    return _SetState(invocation, metadata, change, patch, journal, resume)


def end_set_chat_completion(state: _SetState) -> None:
    """Report the ids skipped, close the journal (releasing its lock)."""
    finish_journal(state.journal)


def _target(state: _SetState, ident: str, current: dict[str, str]) -> dict[str, str]:
    if state.patch is None:
        return state.metadata
    return check_merged(TABLE.parameter("MetaData"), ident, merge_metadata(current, state.patch))


def describe_set_chat_completion(state: _SetState, completion_id: Any) -> str:
    """The WhatIf target: the id and the metadata it would get (read first with -Merge)."""
    ident = completion_id_of(TABLE, completion_id)
    if state.patch is None:
        return f"{ident} (replace the metadata with {to_literal(state.metadata)})"
    current = metadata_of(read_completion(state.invocation, ident))
    return f"{ident} (merge: the metadata becomes {to_literal(_target(state, ident, current))})"


def process_set_chat_completion(state: _SetState, completion_id: Any) -> PSObject | None:
    """Update one completion: an id string, or an object or mapping carrying one."""
    ident = completion_id_of(TABLE, completion_id)
    if state.patch is None and state.journal is None:
        return update_completion(state.invocation, ident, state.metadata)
    if state.journal is not None:
        state.journal.check_writable()
    change = state.change
    outcome, current = resume_state(
        state.invocation, state.journal, ident, op="set", resume=state.resume, extra={"change": change}
    )
    if outcome == APPLIED and current is not None:
        return completion_object(current)
    if outcome != AGAIN:
        return None  # done in an earlier run: reported on the verbose stream, no output
    data = change_metadata(
        state.invocation,
        state.journal,
        ident,
        op="set",
        target=lambda before: _target(state, ident, before),
        extra={"change": change},
        current=current,
    )
    return completion_object(data or {})


def call(given: Mapping[str, Any]) -> PSObject:
    """The run of :func:`psopenai_py.set_chat_completion`, from its arguments (its ``locals()``):
    one id through begin, process and end; an id the journal records done is read and returned
    as it is."""
    kwargs: SetKwargs = arguments(TABLE, given)
    # The id is checked first so that a bad id fails before any settings lookup.
    ident = completion_id_of(TABLE, kwargs.get("completion_id"))
    state = begin_set_chat_completion(kwargs)
    try:
        result = process_set_chat_completion(state, kwargs.get("completion_id"))
        if result is None:  # done in an earlier run of the journal: the completion as it is
            result = completion_object(read_completion(state.invocation, ident))
        return result
    finally:
        end_set_chat_completion(state)


UNIT = CommandUnit(
    TABLE,
    begin_set_chat_completion,
    process_set_chat_completion,
    "CompletionId",
    describe_set_chat_completion,
    end=end_set_chat_completion,
)
