"""The commands: one unit each (its parameter table beside its code), over the core.

A command's module holds its table, ``begin`` (check the parameters, resolve the settings once),
``describe`` (the WhatIf target), ``process`` (one pipeline item), the ``UNIT`` that bundles them
(:class:`~psopenai_py.commands.unit.CommandUnit`) and, for an API command, ``call``: the run of
its library function in the package root, which hands over its arguments.

Adding a command means writing its module, its ``Docs/`` page, one line in :data:`REGISTRY` and
its function in the package root.
Modules load only when their command is asked for, so that ``import psopenai_py`` and a one-shot
command line stay cheap.
"""

from __future__ import annotations

import importlib

from .unit import CommandUnit

__all__ = ["REGISTRY", "ALIASES", "CommandUnit", "find_unit", "units"]

REGISTRY: dict[str, str] = {
    "Set-ChatCompletion": "set_completion",
    "Get-ChatCompletion": "get_completion",
    "Remove-ChatCompletion": "remove_completion",
    "Get-ChatCompletionMessage": "get_messages",
    "Request-ChatCompletion": "request_completion",
    "Restore-ChatCompletionMetadata": "restore_metadata",
    "Export-ChatCompletion": "export_completion",
    "Set-OpenAIContext": "context",
    "Get-OpenAIContext": "context",
    "Clear-OpenAIContext": "context",
    "Set-OpenAISecret": "secrets",
    "Get-OpenAISecret": "secrets",
    "Remove-OpenAISecret": "secrets",
}
"""Every public command: its PowerShell name and the module (in ``commands/``) that holds its
unit, in the order help lists them."""

ALIASES: dict[str, str] = {"Request-ChatGPT": "Request-ChatCompletion"}
"""The original's command aliases, by alias: a migrated script may call a command by them."""

_BY_LOWER = {name.lower(): name for name in REGISTRY}
_BY_LOWER.update({alias.lower(): name for alias, name in ALIASES.items()})


def find_unit(name: str) -> CommandUnit:
    """The unit of a command by its PowerShell name or alias, in any case; KeyError when unknown."""
    proper = _BY_LOWER[name.lower()]
    module = importlib.import_module(f"{__name__}.{REGISTRY[proper]}")
    found: tuple[CommandUnit, ...] = getattr(module, "UNITS", None) or (module.UNIT,)
    for unit in found:
        if unit.table.name == proper:
            return unit
    raise KeyError(name)


def units() -> tuple[CommandUnit, ...]:
    """Every public command's unit, in :data:`REGISTRY` order (this loads every module)."""
    return tuple(find_unit(name) for name in REGISTRY)
