"""Every public command as a runner: its table, its begin step and its per-item process step.

The shim and the CLI find commands here; the library functions are the same steps called
directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import settings
from ..parameters import (
    CLEAR_OPENAI_CONTEXT,
    GET_CHAT_COMPLETION,
    GET_CHAT_COMPLETION_MESSAGE,
    GET_OPENAI_CONTEXT,
    GET_OPENAI_SECRET,
    REMOVE_CHAT_COMPLETION,
    REMOVE_OPENAI_SECRET,
    REQUEST_CHAT_COMPLETION,
    SET_CHAT_COMPLETION,
    SET_OPENAI_CONTEXT,
    SET_OPENAI_SECRET,
    Command,
)
from . import chat, secrets

__all__ = ["Runner", "RUNNERS", "find_runner"]


@dataclass(frozen=True)
class Runner:
    """How to run one command.

    ``begin`` takes the bound values by keyword and returns the state for ``process`` (pipeline
    commands) or the command's only output (other commands).  ``process`` handles one pipeline
    item; ``pipeline_parameter`` names the parameter pipeline input binds to.
    """

    table: Command
    begin: Callable[[Mapping[str, Any]], Any]
    process: Callable[[Any, Any], Any] | None = None
    pipeline_parameter: str | None = None
    describe: Callable[[Any, Any], str] | None = None
    """The WhatIf/Confirm target of one item."""


def _call(function: Callable[..., Any]) -> Callable[[Mapping[str, Any]], Any]:
    return lambda kwargs: function(**kwargs)


RUNNERS: dict[str, Runner] = {
    runner.table.name.lower(): runner
    for runner in (
        Runner(SET_CHAT_COMPLETION, chat.begin_set_chat_completion,
               chat.process_set_chat_completion, "CompletionId",
               chat.describe_set_chat_completion),
        Runner(GET_CHAT_COMPLETION, chat.begin_get_chat_completion,
               chat.process_get_chat_completion, "CompletionId"),
        Runner(REMOVE_CHAT_COMPLETION, chat.begin_remove_chat_completion,
               chat.process_remove_chat_completion, "CompletionId",
               chat.describe_remove_chat_completion),
        Runner(GET_CHAT_COMPLETION_MESSAGE, chat.begin_get_chat_completion_message,
               chat.process_get_chat_completion_message, "CompletionId"),
        Runner(REQUEST_CHAT_COMPLETION, chat.begin_request_chat_completion,
               chat.process_request_chat_completion, "Message"),
        Runner(SET_OPENAI_CONTEXT, _call(settings.set_openai_context)),
        Runner(GET_OPENAI_CONTEXT, _call(settings.get_openai_context)),
        Runner(CLEAR_OPENAI_CONTEXT, _call(settings.clear_openai_context)),
        Runner(SET_OPENAI_SECRET, _call(secrets.set_openai_secret)),
        Runner(GET_OPENAI_SECRET, _call(secrets.get_openai_secret)),
        Runner(REMOVE_OPENAI_SECRET, _call(secrets.remove_openai_secret)),
    )
}


def find_runner(name: str) -> Runner:
    """The runner of a command, by its PowerShell name in any case; KeyError when unknown."""
    return RUNNERS[name.lower()]
