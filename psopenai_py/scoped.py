"""A context variable set for the length of a ``with`` block: how a front-end hands a run's
stop signal (:mod:`.cancel`), meter (:mod:`.meter`) or invocation to the code below it, which
reads it where it needs it, in this thread and in workers started with a copy of the context."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TypeVar

__all__ = ["scoped"]

_T = TypeVar("_T")


@contextlib.contextmanager
def scoped(variable: contextvars.ContextVar[_T], value: _T) -> Iterator[None]:
    """Run the body with ``variable`` set to ``value``; the value before it comes back after,
    however the body ends."""
    token = variable.set(value)
    try:
        yield
    finally:
        variable.reset(token)
