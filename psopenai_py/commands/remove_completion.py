"""Remove-ChatCompletion: delete a stored chat completion."""

from __future__ import annotations

import logging
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
    check_switch,
)
from .changes import ChangeKwargs, begin_change, check_deleted, finish_journal, journaled_remove
from .common import Invocation, SettingsKwargs, arguments, completion_id_of
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


@dataclass(frozen=True)
class _RemoveState:
    invocation: Invocation
    journal: Journal | None = None
    resume: bool = False


class RemoveKwargs(ChangeKwargs, SettingsKwargs, total=False):
    """The arguments of :func:`psopenai_py.remove_chat_completion` by its table's Python
    names, as its call and the binder hand them to the begin step."""

    completion_id: Any


def begin_remove_chat_completion(kwargs: RemoveKwargs) -> _RemoveState:
    resume = check_switch(TABLE.parameter("Resume"), kwargs.get("resume"))
    invocation, journal = begin_change(TABLE, kwargs, resume, "remove")
    return _RemoveState(invocation, journal, resume)


def end_remove_chat_completion(state: _RemoveState) -> None:
    """Report the ids skipped, close the journal (releasing its lock)."""
    finish_journal(state.journal)


def describe_remove_chat_completion(state: _RemoveState, completion_id: Any) -> str:
    """The WhatIf target: the id."""
    return completion_id_of(TABLE, completion_id)


def process_remove_chat_completion(state: _RemoveState, completion_id: Any) -> None:
    ident = completion_id_of(TABLE, completion_id)
    if state.journal is not None:
        state.journal.check_writable()
        # The completion and its messages are journaled first: the API cannot undo a delete.
        response = journaled_remove(state.invocation, state.journal, ident, resume=state.resume)
    else:
        response = state.invocation.request("DELETE", encode_path("chat/completions/{}", ident))
        # An answer that does not say this id was deleted ({"deleted": false}) fails the item:
        # counted as removed, it would be reported done when it is not.
        check_deleted(response, ident)
    # As the original: the line when the API says it deleted it, with the id it names.
    if isinstance(response, Mapping) and response.get("deleted"):
        log.info('The chat with id "%s" has been deleted.', response.get("id"))


def call(given: Mapping[str, Any]) -> None:
    """The run of :func:`psopenai_py.remove_chat_completion`, from its arguments (its
    ``locals()``): the id checked first, then begin, process and end."""
    kwargs: RemoveKwargs = arguments(TABLE, given)
    completion_id_of(TABLE, kwargs.get("completion_id"))
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
