"""Set-ChatCompletion: replace (or, with -Merge, merge into) the metadata of a stored chat completion."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
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
from ..results import completion_object
from ..secret import Secret
from ..transport import encode_path
from ..validation import bind_completion_id, check_metadata, check_switch
from .changes import (
    AGAIN,
    APPLIED,
    change_metadata,
    check_journal_op,
    check_merged,
    check_patch,
    check_resume,
    check_same_change,
    merge_metadata,
    metadata_of,
    open_journal,
    read_completion,
    report_skipped,
    resume_state,
    scrubber,
)
from .common import Invocation, SettingsKwargs, arguments, prepare_invocation, settings_kwargs
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


@dataclass(frozen=True)
class _SetState:
    invocation: Invocation
    metadata: dict[str, str]
    patch: dict[str, str | None] | None = None
    """The keys to set or remove with -Merge (None: replace)."""
    journal: Journal | None = None
    resume: bool = False


class SetKwargs(SettingsKwargs, total=False):
    """The keywords set_chat_completion hands to its begin step (the binder hands the same, by
    the table's Python names)."""

    metadata: Mapping[str, str | None]
    merge: bool | None
    journal: str | os.PathLike[str] | None
    resume: bool | None


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
    check_resume(p("Resume"), resume, kwargs.get("journal"))
    invocation = prepare_invocation(TABLE, **settings_kwargs(kwargs))
    journal = open_journal(kwargs.get("journal"), resume, redact=scrubber(invocation))
    state = _SetState(invocation, metadata, patch, journal, resume)
    try:
        check_journal_op(journal, "set")
        check_same_change(journal, "set", _change(state))
    except BaseException:
        end_set_chat_completion(state)
        raise
    return state


def _change(state: _SetState) -> dict[str, Any]:
    """What this run does to each id, as its journal records it."""
    return {
        "merge": state.patch is not None,
        "metadata": state.metadata if state.patch is None else state.patch,
    }


def end_set_chat_completion(state: _SetState) -> None:
    """Report the ids skipped, close the journal (releasing its lock)."""
    report_skipped(state.journal)
    if state.journal is not None:
        state.journal.close()


def _target(state: _SetState, ident: str, current: dict[str, str]) -> dict[str, str]:
    if state.patch is None:
        return state.metadata
    return check_merged(TABLE.parameter("MetaData"), ident, merge_metadata(current, state.patch))


def describe_set_chat_completion(state: _SetState, completion_id: Any) -> str:
    """The WhatIf target: the id and the metadata it would get (read first with -Merge)."""
    ident = bind_completion_id(TABLE.parameter("CompletionId"), completion_id)
    if state.patch is None:
        return f"{ident} (replace the metadata with {to_literal(state.metadata)})"
    current = metadata_of(read_completion(state.invocation, ident))
    return f"{ident} (merge: the metadata becomes {to_literal(_target(state, ident, current))})"


def process_set_chat_completion(state: _SetState, completion_id: Any) -> PSObject | None:
    """Update one completion: an id string, or an object or mapping carrying one."""
    ident = bind_completion_id(TABLE.parameter("CompletionId"), completion_id)
    if state.patch is None and state.journal is None:
        return update_completion(state.invocation, ident, state.metadata)
    if state.journal is not None:
        state.journal.check_writable()
    change = _change(state)
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


def set_chat_completion(
    completion_id: Any,
    metadata: Mapping[str, str | None],
    *,
    merge: bool | None = None,
    journal: "str | os.PathLike[str] | None" = None,
    resume: bool | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> PSObject:
    """Replace the metadata of a stored chat completion (``POST /chat/completions/{id}``).

    ``completion_id`` is an id string, or any mapping or object with a ``CompletionId``,
    ``Completion``, ``completion_id``, ``InputObject`` or ``Id`` property (case-insensitive), such
    as a completion returned earlier.  Every setting left as None is resolved: parameter, then
    :func:`set_openai_context`, then the ``psopenai_py.OPENAI_*`` globals, then the environment,
    then the OS keyring.  Everything is checked before anything is sent.

    ``merge``: read the stored metadata and apply the given keys over it (a None value removes a
    key) instead of replacing it.  ``journal``: a JSON-lines file that records each change (the
    metadata before and after) before it is sent; ``resume`` continues a journaled run (a change
    the journal records done is not sent again; the completion is read and returned).  Each
    call opens and reads the journal: for many ids, pipe them through
    ``psopenai_py.compat.Set_ChatCompletion(ids, ..., Journal=path, ThrottleLimit=n)``.

    Returns the updated completion (:class:`~psopenai_py.psobject.PSObject`).  Raises
    :class:`~psopenai_py.errors.ParameterBindingError` / ``ParameterTypeError`` for bad input,
    :class:`~psopenai_py.errors.MissingSettingError` when no key is found, and an
    :class:`~psopenai_py.errors.APIRequestException` subclass when the API answers an error.
    """
    # The id is checked first so that a bad id fails before any settings lookup.
    ident = bind_completion_id(TABLE.parameter("CompletionId"), completion_id)
    state = begin_set_chat_completion(arguments(TABLE, locals()))
    try:
        result = process_set_chat_completion(state, completion_id)
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
