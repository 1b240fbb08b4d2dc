"""The PowerShell layer's index of the commands: a runner per PowerShell name.

A runner is the command's unit (``commands.CommandUnit``): its table, begin, process and describe
steps.  The shim and the CLI find commands here; only the command asked for is loaded.
"""

from __future__ import annotations

from ..commands import CommandUnit, find_unit, units

__all__ = ["Runner", "runners", "find_runner"]

Runner = CommandUnit
"""How the PowerShell layer runs one command."""


def runners() -> dict[str, Runner]:
    """Every command's runner, by its PowerShell name in lower case (loads every command)."""
    return {unit.table.name.lower(): unit for unit in units()}


def find_runner(name: str) -> Runner:
    """The runner of a command, by its PowerShell name in any case; KeyError when unknown."""
    return find_unit(name)
