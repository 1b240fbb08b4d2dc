"""Write-Progress for a bulk run: one line kept on screen while the run lasts, and the words of
the summary line it ends with.

On a terminal the line is drawn in place on the host's stream (standard error) once the run has
lasted ``PSOPENAI_PROGRESS_DELAY`` seconds (default 1): ``done/total (pct%), rate/s, N errors,
time left`` (the total when it is known), fitted to the terminal's width.  It is erased before
any other line is written to that terminal and drawn again right after it, so it stays on screen
nearly all of the run however many lines go by; between lines it is redrawn when an item finishes
(at most every :data:`MIN_INTERVAL`) and every :data:`TICK` (so that the rate and the time left
stay current through a long pause).  Where the terminal understands no escape sequences (a dumb
terminal, a Windows console without VT mode) the line is overwritten and erased with spaces.

Nothing is written to a stream that is not a terminal, unless asked with ``PSOPENAI_PROGRESS=1``:
then the line is written as a plain line every :data:`PLAIN_INTERVAL` (a log keeps every one).
``PSOPENAI_PROGRESS=0``, ``-ProgressAction SilentlyContinue`` or ``Ignore`` turn it all off.

All of the drawing lives here, behind :class:`ProgressLine`; the host (:mod:`.host`) starts and
ends it for a run and tells it when a line was written.  It shares the host's lock, so the
progress line and another line never interleave.
"""

from __future__ import annotations

import collections
import io
import math
import os
import shutil
import stat
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from ..records import Record
from ..text_marks import marked_encoding
from .terminal import ERASE_LINE, enable_virtual_terminal, stream_is_terminal

if TYPE_CHECKING:
    from .binding import Bound

__all__ = [
    "Counts",
    "ProgressLine",
    "InputCount",
    "render",
    "duration",
    "same_terminal",
    "MIN_INTERVAL",
    "TICK",
    "PLAIN_INTERVAL",
]

MIN_INTERVAL = 0.1
"""Seconds between two redraws that no line caused (an item finished): ten a second at most,
so a fast run does not make the line flicker."""

TICK = 0.5
"""Seconds between redraws when nothing happens (a long rate-limit pause)."""

PLAIN_INTERVAL = 10.0
"""Seconds between two progress lines written to a stream that is not a terminal (when asked)."""

RATE_WINDOW = 10.0
"""Seconds of recent history the rate (and so the time left) is measured over: the pace of the
last seconds, not of the whole run, so that a run that slows down says so."""

_CLEAR_TO_END = "\x1b[K"
_LONGEST_LEFT = 100 * 3600.0
"""Seconds: a longer time left is not shown."""


def _delay() -> float:
    """How long a run lasts before progress shows (``PSOPENAI_PROGRESS_DELAY``, default 1 s)."""
    try:
        return max(0.0, float(os.environ.get("PSOPENAI_PROGRESS_DELAY", "1")))
    except ValueError:
        return 1.0


class Counts(Record):
    """Where a run stands, as the progress line shows it."""

    finished: int
    """Items done or failed."""
    failed: int
    total: int | None
    """How many items the run has, when known."""
    in_flight: int = 0
    stopping: bool = False
    rate_limited: int = 0
    """429 answers met so far."""


# -- words ----------------------------------------------------------------------------------------


def duration(seconds: float, *, tenths: bool = False) -> str:
    """``12 s`` (``12.4 s`` with ``tenths``), ``3 min 05 s``, ``2 h 07 min``."""
    seconds = max(0.0, seconds)
    if seconds < 59.95:
        return f"{seconds:.1f} s" if tenths else f"{math.ceil(seconds)} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render(command: str, counts: Counts, rate: float, columns: int | None) -> str:
    """The progress line: ``<command>: done/total (pct%), rate/s, N errors, T left, N x 429``,
    never wider than ``columns - 1`` (a line as wide as the terminal wraps on some terminals, and
    a wrapped line cannot be erased in place): the least useful parts go first, then the name."""
    total = counts.total
    if total is not None:
        total = max(total, counts.finished)
    count = str(counts.finished)
    if total:
        count += f"/{total} ({counts.finished * 100 // total}%)"
    parts = [count]  # in the order shown; dropped from the end of ``optional``
    if counts.stopping:
        parts += [_plural(counts.failed, "error"), f"stopping: {counts.in_flight} in flight"]
        optional = [1]
    else:
        parts += [f"{rate:.1f}/s", _plural(counts.failed, "error")]
        optional = [2, 1]
        left = (total - counts.finished) / rate if total and rate > 0 else math.inf
        if 0 < left < _LONGEST_LEFT:  # days left at a crawl would say nothing useful
            parts.append(f"{duration(left)} left")
            optional.insert(0, len(parts) - 1)
        if counts.rate_limited:
            parts.append(f"{counts.rate_limited} x 429")
            optional.insert(0, len(parts) - 1)
    width = None if columns is None else max(columns - 1, 10)
    # The widest that fits: the name and every part, then fewer parts, then the same without
    # the name (the count says the most), and at the last the count cut short.
    for prefix in (f"{command}: ", ""):
        for dropped in range(len(optional) + 1):
            gone = optional[:dropped]
            text = prefix + ", ".join(part for i, part in enumerate(parts) if i not in gone)
            if width is None or len(text) <= width:
                return text
    return parts[0][:width]


# -- the input's size ----------------------------------------------------------------------------


class InputCount:
    """How many items a regular file on standard input holds from where it stands: its non-blank
    lines, counted in a background thread with positioned reads that leave the stream where it
    is.  ``count()`` is None while counting, and where the size cannot be known: a pipe, a
    terminal, or a platform without positioned reads (Windows; there the total becomes known
    when the input has been read to its end)."""

    _CHUNK = 1 << 20

    def __init__(self, stream: Any) -> None:
        self._count: int | None = None
        try:
            fd = stream.fileno()
            if not stat.S_ISREG(os.fstat(fd).st_mode) or not hasattr(os, "pread"):
                return
            offset = os.lseek(fd, 0, os.SEEK_CUR)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return
        threading.Thread(target=self._count_lines, args=(fd, offset), daemon=True).start()

    def count(self) -> int | None:
        """The number of items, once counted."""
        return self._count

    def _count_lines(self, fd: int, offset: int) -> None:
        count = 0
        carry = b""
        first = offset == 0
        try:
            while chunk := os.pread(fd, self._CHUNK, offset):
                offset += len(chunk)
                if first and marked_encoding(chunk).unit > 1:
                    return  # UTF-16 or UTF-32: a byte 0x0a is no line end there; the total stays unknown
                if first and chunk.startswith(b"\xef\xbb\xbf"):
                    chunk = chunk[3:]  # the reader drops a byte-order mark, so does the count
                first = False
                lines = (carry + chunk).split(b"\n")
                carry = lines.pop()
                count += sum(1 for line in lines if line.strip())
        except OSError:
            return  # unknown, as for a pipe
        self._count = count + (1 if carry.strip() else 0)


def same_terminal(one: Any, other: Any) -> bool:
    """Whether two streams are both terminals, and the same one (standard output and error on
    one terminal: an output line there moves the progress line too)."""
    if not (stream_is_terminal(one) and stream_is_terminal(other)):
        return False
    try:
        first = os.fstat(one.fileno())
        second = os.fstat(other.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return True  # two terminals that cannot be told apart: take them for one (erase, redraw)
    if os.name == "nt":
        return True  # a process has one console
    return (first.st_rdev, first.st_dev, first.st_ino) == (second.st_rdev, second.st_dev, second.st_ino)


# -- the line ---------------------------------------------------------------------------------------


class _Rate:
    """Items finished per second over the last :data:`RATE_WINDOW` seconds (the whole run while
    it is younger than that)."""

    def __init__(self, started: float) -> None:
        self._samples: collections.deque[tuple[float, int]] = collections.deque([(started, 0)])

    def update(self, now: float, finished: int) -> float:
        samples = self._samples
        samples.append((now, finished))
        while len(samples) > 2 and samples[1][0] <= now - RATE_WINDOW:
            samples.popleft()
        then, before = samples[0]
        return (finished - before) / (now - then) if now - then > 1e-6 else 0.0


class _Display:
    """One run's progress on the line: its counts, clock and ticker."""

    def __init__(self, command: str, counts: Callable[[], Counts], *, plain: bool) -> None:
        self.command = command
        self.counts = counts
        self.plain = plain
        self.started = time.monotonic()
        self.delay = _delay()
        self.rate = _Rate(self.started)
        self.last_draw = 0.0
        self.ended = threading.Event()


class ProgressLine:
    """The progress line of one host, drawn on ``stream()`` (read on every call: the host's
    stream may be the process's stderr, looked up late)."""

    def __init__(self, stream: Callable[[], TextIO], lock: threading.RLock) -> None:
        self._stream = stream
        self._lock = lock
        self._display: _Display | None = None
        self._shown = False
        self._text = ""
        self._extent = 0  # the columns the drawn line covers (what erasing with spaces must cover)
        self._vt: bool | None = None

    # -- whether -------------------------------------------------------------------------------

    def mode(self, bound: Bound | None = None) -> str | None:
        """How progress is shown for a run: ``"terminal"`` (drawn in place), ``"plain"`` (lines,
        on a stream that is not a terminal when ``PSOPENAI_PROGRESS=1``) or None (not at all:
        ``PSOPENAI_PROGRESS=0``, ``-ProgressAction SilentlyContinue`` or ``Ignore``, or a stream
        that is not a terminal)."""
        asked = os.environ.get("PSOPENAI_PROGRESS", "").strip()
        if asked == "0":
            return None
        if bound is not None and bound.common.progress_action in ("SilentlyContinue", "Ignore"):
            return None
        if stream_is_terminal(self._stream()):
            return "terminal"
        return "plain" if asked == "1" else None

    # -- a run ---------------------------------------------------------------------------------

    def begin(self, command: str, counts: Callable[[], Counts], bound: Bound | None = None) -> bool:
        """Start showing a run's progress; False when progress is off or another run already
        shows its own (the first of a chain of commands keeps the line)."""
        mode = self.mode(bound)
        with self._lock:
            if mode is None or self._display is not None:
                return False
            display = self._display = _Display(command, counts, plain=mode == "plain")
        ticker = threading.Thread(target=self._tick, args=(display,), name="psopenai-progress", daemon=True)
        ticker.start()
        return True

    def end(self) -> float | None:
        """Stop showing the run's progress and erase the line.  Returns the run's duration when
        it lasted long enough for progress to show (a summary line is then due), else None."""
        with self._lock:
            display = self._display
            if display is None:
                return None
            display.ended.set()
            self._display = None
            self._erase()
            elapsed = time.monotonic() - display.started
            # A run that drew its line is summed up even if it ends with one item (an input pipe
            # interrupted after its first line): the line showed, so its time and rate are due.
            if elapsed < display.delay or (self._single(display.counts()) and not display.last_draw):
                return None
            return elapsed

    def item_finished(self) -> None:
        """An item finished: redraw, unless the line was drawn less than
        :data:`MIN_INTERVAL` ago."""
        display = self._display
        if display is None or display.plain or time.monotonic() - display.last_draw < MIN_INTERVAL:
            return
        with self._lock:
            self._draw(display)

    def clear(self) -> None:
        """Erase the line, if one is shown, so that the next line starts clean."""
        with self._lock:
            self._erase()

    def restore(self) -> None:
        """Draw the line again at once, after a line was written where it was."""
        display = self._display
        if display is None or display.plain:
            return
        with self._lock:
            self._draw(display)

    def around_line(self) -> tuple[str, str]:
        """For a line written where the progress line is (another line of the host, or an
        output on the same terminal through standard output): the text that erases the progress
        line and the text that draws it again, to be written before and after the line in the
        same write, so that the terminal is never left without it between two writes.  Called
        with the lock held until written."""
        display = self._display
        ready = None if display is None or display.plain else self._frame(display)
        erase = self._erase_text()
        self._forget()
        return erase, "" if ready is None else self._drawing(ready)

    # -- drawing --------------------------------------------------------------------------------

    @staticmethod
    def _single(counts: Counts) -> bool:
        """A run of one item (or none) has no progress to show."""
        return counts.total is not None and counts.total <= 1

    def _tick(self, display: _Display) -> None:
        """Draw the line when the run has lasted its delay, then every :data:`TICK` (a plain line
        every :data:`PLAIN_INTERVAL`), until the run ends."""
        wait = display.delay
        while not display.ended.wait(wait):
            with self._lock:
                if display.ended.is_set():
                    return
                self._draw(display)
            wait = PLAIN_INTERVAL if display.plain else TICK

    def _frame(self, display: _Display) -> str | None:
        """The line as it is to be drawn now, or None when nothing is to be drawn (the run is
        over, younger than its delay, or of a single item)."""
        now = time.monotonic()
        if display is not self._display or now - display.started < display.delay:
            return None
        counts = display.counts()
        rate = display.rate.update(now, counts.finished)
        if self._single(counts):
            return None
        display.last_draw = now
        return render(display.command, counts, rate, None if display.plain else self._columns())

    def _draw(self, display: _Display) -> None:
        """Draw (held under the lock) when the run has lasted its delay."""
        text = self._frame(display)
        if text is None:
            return
        stream = self._stream()
        if display.plain:
            stream.write(text + "\n")
            stream.flush()
        elif not (self._shown and text == self._text):  # nothing new: no write, no flicker
            self._show(stream, text)

    def _show(self, stream: TextIO, text: str) -> None:
        stream.write(self._drawing(text))
        stream.flush()

    def _drawing(self, text: str) -> str:
        """What draws ``text`` over the line shown (the line is taken as drawn from now on)."""
        if self._uses_vt(self._stream()):
            # Overwritten in place and the rest of the row cleared: the line is never blank
            # between two drawings, so it does not flicker.
            drawing = "\r" + text + _CLEAR_TO_END
            self._extent = len(text)
        else:  # a console without VT sequences: overwrite, and blank what the last one left
            drawing = "\r" + text.ljust(self._extent if self._shown else 0)
            self._extent = max(len(text), self._extent if self._shown else 0)
        self._shown = True
        self._text = text
        return drawing

    def _erase(self) -> None:
        if not self._shown:
            return
        stream = self._stream()
        stream.write(self._erase_text())
        stream.flush()
        self._forget()

    def _erase_text(self) -> str:
        """What erases the line shown (nothing when none is)."""
        if not self._shown:
            return ""
        if self._uses_vt(self._stream()):
            return ERASE_LINE
        return "\r" + " " * self._extent + "\r"

    def _forget(self) -> None:
        self._shown = False
        self._text = ""
        self._extent = 0

    def _uses_vt(self, stream: TextIO) -> bool:
        if self._vt is None:
            self._vt = enable_virtual_terminal(stream)
        return self._vt

    def _columns(self) -> int:
        """The width of the terminal the line is drawn on: the stream's own, not stdout's
        (``> file`` leaves only stderr on the terminal), so a resized window is followed."""
        try:
            return os.get_terminal_size(self._stream().fileno()).columns or 80
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return shutil.get_terminal_size((80, 24)).columns
