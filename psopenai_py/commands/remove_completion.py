"""Remove-ChatCompletion: delete a stored chat completion."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..parameters import (
    ID_TEXT,
    Command,
    change_parameters,
    completion_id_parameter,
    settings_parameters,
)
from ..transport import encode_path
from ..validation import (
    bind_completion_id,
    check_switch,
)
from .changes import check_journal_op, check_resume, journaled_remove, open_journal, report_skipped, scrubber
from .common import Invocation, SettingsKwargs, arguments, prepare_invocation, settings_kwargs
from .unit import CommandUnit

if TYPE_CHECKING:  # the journal module loads only when a journal is asked for
    from ..journal import Journal

log = logging.getLogger("psopenai_py")

TABLE = Command(
    name="Remove-ChatCompletion",
    python_name="remove_chat_completion",
    synopsis="Deletes a stored chat completion.",
    bulk=True,
    should_process=True,
    additions=("Journal", "Resume"),
    parameters=(completion_id_parameter(ID_TEXT), *change_parameters(), *settings_parameters()),
)


def _id(value: Any) -> str:
    return bind_completion_id(TABLE.parameter("CompletionId"), value)


@dataclass(frozen=True)
class _RemoveState:
    invocation: Invocation
    journal: Journal | None = None
    resume: bool = False


class RemoveKwargs(SettingsKwargs, total=False):
    """The arguments of :func:`psopenai_py.remove_chat_completion` by its table's Python
    names, as its call and the binder hand them to the begin step."""

    completion_id: Any
    journal: str | os.PathLike[str] | None
    resume: bool | None


def begin_remove_chat_completion(kwargs: RemoveKwargs) -> _RemoveState:
    resume = check_switch(TABLE.parameter("Resume"), kwargs.get("resume"))
    check_resume(TABLE.parameter("Resume"), resume, kwargs.get("journal"))
    invocation = prepare_invocation(TABLE, **settings_kwargs(kwargs))
    journal = open_journal(kwargs.get("journal"), resume, redact=scrubber(invocation))
    try:
        check_journal_op(journal, "remove")
    except BaseException:
        if journal is not None:
            journal.close()
        raise
    return _RemoveState(invocation, journal, resume)


def end_remove_chat_completion(state: _RemoveState) -> None:
    """Report the ids skipped, close the journal (releasing its lock)."""
    report_skipped(state.journal)
    if state.journal is not None:
        state.journal.close()


def describe_remove_chat_completion(state: _RemoveState, completion_id: Any) -> str:
    """The WhatIf target: the id."""
    return _id(completion_id)


def process_remove_chat_completion(state: _RemoveState, completion_id: Any) -> None:
    ident = _id(completion_id)
    if state.journal is not None:
        state.journal.check_writable()
        # The completion and its messages are journaled first: the API cannot undo a delete.
        response = journaled_remove(state.invocation, state.journal, ident, resume=state.resume)
    else:
        response = state.invocation.request("DELETE", encode_path("chat/completions/{}", ident))
    # As the original: the line only when the API says it deleted it, with the id it names.
    if isinstance(response, Mapping) and response.get("deleted"):
        log.info('The chat with id "%s" has been deleted.', response.get("id"))


def call(given: Mapping[str, Any]) -> None:
    """The run of :func:`psopenai_py.remove_chat_completion`, from its arguments (its
    ``locals()``): the id checked first, then begin, process and end."""
    kwargs: RemoveKwargs = arguments(TABLE, given)
    _id(kwargs.get("completion_id"))
    state = begin_remove_chat_completion(kwargs)
    try:
        process_remove_chat_completion(state, kwargs.get("completion_id"))
    finally:
        end_remove_chat_completion(state)


UNIT = CommandUnit(
    TABLE,
    begin_remove_chat_completion,
    process_remove_chat_completion,
    "CompletionId",
    describe_remove_chat_completion,
    end=end_remove_chat_completion,
)
