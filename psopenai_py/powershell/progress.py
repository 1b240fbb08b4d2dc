"""Write-Progress on a terminal: one line, redrawn in place while a run lasts, erased before any
other line is written and at the end.

All of the drawing lives here, behind :class:`ProgressLine`; the host (:mod:`.host`) only asks it
to draw, to clear and whether it is enabled.  It shares the host's lock, so a progress line and
another line never interleave.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from .terminal import ERASE_LINE, enable_virtual_terminal, stream_is_terminal

if TYPE_CHECKING:
    from .binding import Bound

__all__ = ["ProgressLine"]

_INTERVAL = 0.25  # seconds between redraws


def _delay() -> float:
    """How long a run lasts before progress shows (``PSOPENAI_PROGRESS_DELAY``, default 1 s)."""
    try:
        return max(0.0, float(os.environ.get("PSOPENAI_PROGRESS_DELAY", "1")))
    except ValueError:
        return 1.0


class ProgressLine:
    """The progress line of one host, drawn on ``stream()`` (read on every call: the host's
    stream may be the process's stderr, looked up late)."""

    def __init__(self, stream: Callable[[], TextIO], lock: threading.RLock) -> None:
        self._stream = stream
        self._lock = lock
        self._last = 0.0
        self._shown = False
        self._vt: bool | None = None
        self._width = 0

    def enabled(self, bound: Bound | None = None) -> bool:
        """Progress is drawn only on a terminal, unless switched off (``PSOPENAI_PROGRESS=0``,
        ``-ProgressAction SilentlyContinue`` or ``Ignore``)."""
        if os.environ.get("PSOPENAI_PROGRESS", "").strip() == "0":
            return False
        if bound is not None and bound.common.progress_action in ("SilentlyContinue", "Ignore"):
            return False
        return stream_is_terminal(self._stream())

    def draw(
        self, command: str, done: int, total: int | None, errors: int, started: float, *, final: bool = False
    ) -> None:
        """Redraw the line once the run has lasted about a second (at most every 0.25 s)."""
        now = time.monotonic()
        if now - started < _delay() or (not final and now - self._last < _INTERVAL):
            return
        with self._lock:
            self._last = now
            rate = done / max(now - started, 1e-9)
            count = f"{done}/{total} ({done * 100 // total}%)" if total else f"{done}"
            text = f"{command}: {count}, {rate:.1f}/s, {errors} errors"
            # Never wider than the terminal: a wrapped line could not be erased by one \r.
            text = text[: max(self._columns() - 1, 10)]
            stream = self._stream()
            self._erase(stream)
            stream.write(text)
            stream.flush()
            self._shown = True
            self._width = len(text)

    def clear(self) -> None:
        """Erase the line, if one is shown, so the next line starts clean."""
        with self._lock:
            if self._shown:
                stream = self._stream()
                self._erase(stream)
                stream.flush()
                self._shown = False

    def _columns(self) -> int:
        """The width of the terminal the line is drawn on: the stream's own, not stdout's
        (``> file`` leaves only stderr on the terminal), so a resized window is followed."""
        try:
            return os.get_terminal_size(self._stream().fileno()).columns or 80
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return shutil.get_terminal_size((80, 24)).columns

    def _erase(self, stream: TextIO) -> None:
        if not self._shown:
            return
        if self._vt is None:
            self._vt = enable_virtual_terminal(stream)
        if self._vt:
            stream.write(ERASE_LINE)
        else:  # a console without VT sequences: overwrite with spaces
            stream.write("\r" + " " * self._width + "\r")
