"""Printing values as PowerShell literal text, as the original shows them in WhatIf targets and
messages.  The parser that reads such text back belongs to the PowerShell front-end
(``powershell/literals.py``); the printer is core because commands describe their items with it."""

from __future__ import annotations

from typing import Any

__all__ = ["to_literal", "QUOTES_SINGLE"]

QUOTES_SINGLE = "'\u2018\u2019\u201a\u201b"
"""Every character PowerShell reads as a single quote: inside '...' each is doubled."""


def to_literal(value: Any) -> str:
    """Print a value as PowerShell literal text that :func:`parse_literal` reads back."""
    if value is None:
        return "$null"
    if value is True:
        return "$true"
    if value is False:
        return "$false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        # Inside '...' every single-quote character, the typographic ones too, is doubled.
        return "'" + "".join(c * 2 if c in QUOTES_SINGLE else c for c in value) + "'"
    if isinstance(value, dict):
        pairs = "; ".join(f"{to_literal(k)}={to_literal(v)}" for k, v in value.items())
        return "@{" + pairs + "}"
    if isinstance(value, (list, tuple)):
        # @( ) flattens arrays inside it, as PowerShell's does: an inner array is one statement
        # wrapped by the unary comma.
        return (
            "@("
            + "; ".join(f",{to_literal(v)}" if isinstance(v, (list, tuple)) else to_literal(v) for v in value)
            + ")"
        )
    raise TypeError(f"cannot print a {type(value).__name__} as a PowerShell literal")
