"""The commands: one unit each (its parameter table beside its code), over the core.

Adding a command means writing its module, its ``Docs/`` page and one line in :func:`units`.
Loading is lazy so that ``import psopenai_py`` stays cheap.
"""

from __future__ import annotations

from .unit import CommandUnit

__all__ = ["units", "CommandUnit"]


def units() -> tuple[CommandUnit, ...]:
    """Every public command, in the order help lists them."""
    from . import (
        context,
        export_completion,
        get_completion,
        get_messages,
        remove_completion,
        request_completion,
        restore_metadata,
        secrets,
        set_completion,
    )

    return (
        set_completion.UNIT,
        get_completion.UNIT,
        remove_completion.UNIT,
        get_messages.UNIT,
        request_completion.UNIT,
        restore_metadata.UNIT,
        export_completion.UNIT,
        *context.UNITS,
        *secrets.UNITS,
    )
