"""Regular expressions compiled on their first use, not when their module loads.

A module-level ``re.compile`` runs at every start of the command line, for patterns most runs
never use (the scrubber's credential places, the literal parser's numbers): tens to hundreds of
microseconds each, which add up to a good part of a one-shot command's own start-up.  The
standard library offers no lazy pattern: ``re.compile`` compiles at once, and ``re.match(text,
...)`` looks the text up in a shared cache that the scrubber's many per-secret patterns can evict.
A :class:`LazyPattern` compiles once, when first used, and keeps the result.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["LazyPattern"]


class LazyPattern:
    """A :class:`re.Pattern` compiled on its first use, with the methods the package calls
    (each as the compiled pattern's own); :attr:`compiled` gives the pattern itself."""

    __slots__ = ("_compiled", "_flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        """The pattern's text, as :attr:`re.Pattern.pattern`."""
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiled now if this is its first use).  Two threads that both
        compile it first get equal patterns; either one is kept."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern, self._flags)
        return compiled

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.match(string, pos, endpos)

    def fullmatch(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.fullmatch(string, pos, endpos)

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.search(string, pos, endpos)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0) -> str:
        return self.compiled.sub(repl, string, count)

    def findall(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]:
        return self.compiled.findall(string, pos, endpos)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}, {self._flags!r})"
