"""The unit a command is registered as: its table and its steps."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..parameters import Command
from ..records import Record

__all__ = ["CommandUnit", "call_with_keywords"]


class CommandUnit(Record):
    """One public command as the front-ends run it.

    ``begin`` takes the bound values by keyword (the command's own TypedDict of its Python names:
    its ``call`` builds it from the library function's arguments, the binder hands the same keys
    from the parameter table) and returns the state for ``process`` (pipeline commands) or the
    command's only output (other commands).  ``process`` handles one pipeline item;
    ``pipeline_parameter`` names the parameter pipeline input binds to; ``describe`` gives the
    WhatIf/Confirm target of one item.  ``end`` runs once after the last item, however the run
    ends (it closes what ``begin`` opened); ``expand`` turns the bound input into the items
    ``process`` takes, for a command whose items come from a file it names (a journal).
    """

    table: Command
    begin: Callable[[Any], Any]
    process: Callable[[Any, Any], Any] | None = None
    pipeline_parameter: str | None = None
    describe: Callable[[Any, Any], str] | None = None
    end: Callable[[Any], None] | None = None
    expand: Callable[[Any, Iterable[Any]], Iterable[Any]] | None = None

    def __repr__(self) -> str:
        return f"CommandUnit({self.table.name!r})"


def call_with_keywords(function: Callable[..., Any]) -> Callable[[Mapping[str, Any]], Any]:
    """A ``begin`` step for a command that is one plain function of its keywords."""
    return lambda kwargs: function(**kwargs)
