"""The host of a PowerShell-style run: where a command's error, warning, verbose, debug, WhatIf and
progress lines go, where Confirm and Inquire ask, and the run's counters and stop signal.

The progress line itself is drawn by :class:`~.progress.ProgressLine`; the host asks it to draw
and to clear, and clears it before every other line.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from ..errors import ParameterBindingError
from .progress import ProgressLine
from .terminal import (
    ERASE_LINE,
    AnswerEndedError,
    ControllingTerminal,
    NoTerminalError,
    Terminal,
    enable_virtual_terminal,
    escape_controls,
    stream_is_terminal,
)

if TYPE_CHECKING:
    from .binding import Bound

__all__ = ["Host", "CONFIRM_HELP"]

_POINTER = re.compile(r"\n    [^\n]*\n {4,}\^")
"""The two-line pointer a :class:`PowerShellSyntaxError` message may end with (or hold, when
wrapped in a longer message)."""

# PowerShell's console host also offers [S] Suspend, which pauses the pipeline in a nested
# prompt; a command line has no prompt to return to, so the choice is not offered (an answer of
# S is not recognised and asks again, as any unknown answer does).
CONFIRM_HELP = (
    "Y - Continue with only the next step of the operation.\n"
    "A - Continue with all the steps of the operation.\n"
    "N - Skip this operation and proceed with the next operation.\n"
    "L - Skip this operation and all subsequent operations.\n"
)
_INQUIRE_HELP = (
    "Y - Continue with only the next step of the operation.\n"
    "A - Continue with all the steps of the operation.\n"
    "H - Stop this command.\n"
)
_CONFIRM_LABELS = {"yes": "y", "yes to all": "a", "no": "n", "no to all": "l", "help": "?"}
_INQUIRE_LABELS = {"yes": "y", "yes to all": "a", "halt command": "h", "help": "?"}
_MAX_ASKS = 50  # re-asks after unrecognised answers, so a stuck terminal cannot loop forever


class Host:
    """Where a command's lines go and where it asks; the run's counters and stop signal.

    ``terminal`` is where questions are asked (default: the controlling terminal or console).
    Setting :attr:`stop` (from another thread or a signal handler) stops the run promptly.
    """

    def __init__(self, stream: TextIO | None = None, *, terminal: Terminal | None = None) -> None:
        self._stream = stream
        self.terminal: Terminal = terminal if terminal is not None else ControllingTerminal()
        self.stop = threading.Event()
        """Set to stop the run: no new item starts and retry waits end at once."""
        self.failures = 0
        """How many items failed, whatever ErrorAction did with them."""
        self.done = 0
        """How many items succeeded."""
        self.started = 0
        """How many items were handed to the command's process step."""
        self.in_flight = 0
        """How many items are in the command's process step right now (requests in flight)."""
        self.not_sent = 0
        """How many input items were never sent because the run stopped (as far as known)."""
        self.asking = False
        """True while a question waits for its answer (an interrupt then ends the wait)."""
        self.interrupted = False
        """True when the user ended the run at a prompt with end of input (Ctrl-D)."""
        self.running = 0
        """How many commands are running on this host (a pipeline chain shares one)."""
        self._lock = threading.RLock()
        self.progress_line = ProgressLine(lambda: self.stream, self._lock)
        """The progress line, drawn on :attr:`stream` (see :mod:`.progress`)."""

    @property
    def stream(self) -> TextIO:
        """Where the lines go: the stream given, or the process's stderr."""
        return self._stream if self._stream is not None else sys.stderr

    @property
    def lock(self) -> threading.RLock:
        """Held while a line is written or a counter of several threads is changed."""
        return self._lock

    def tally(self) -> str:
        """``N done, N failed, N not sent``: what became of every item so far."""
        return f"{self.done} done, {self.failures} failed, {self.not_sent} not sent"

    # -- lines ----------------------------------------------------------------------------------

    def write_error(self, command: str, error: BaseException, target: str | None = None) -> None:
        """``<Command>: [<target>] <message>``, one line, control characters escaped.  A syntax
        error's pointer (the text, then ``^`` under the problem) is left out: its position is in
        the message, and as ``\x0a`` escapes it would point at nothing."""
        where = f"[{escape_controls(target)}] " if target else ""
        message = _POINTER.sub("", str(error))
        self.write_line(f"{command}: {where}{escape_controls(message)}")

    def write_line(self, text: str) -> None:
        """One line, on a line of its own (the progress line is erased first)."""
        with self._lock:
            self.clear_progress()
            self.stream.write(text + "\n")
            self.stream.flush()

    def write_notice(self, text: str) -> None:
        """A line about the run after a stop signal: on a terminal that understands VT sequences
        the current line is erased first, and with it the terminal's echo of ``^C``."""
        with self._lock:
            self.clear_progress()
            if stream_is_terminal(self.stream) and enable_virtual_terminal(self.stream):
                self.stream.write(ERASE_LINE)
            self.stream.write(text + "\n")
            self.stream.flush()

    # -- progress (drawn by :class:`~.progress.ProgressLine`) -------------------------------------

    def progress_enabled(self, bound: Bound | None = None) -> bool:
        """Whether this run draws progress."""
        return self.progress_line.enabled(bound)

    def progress(
        self, command: str, done: int, total: int | None, errors: int, started: float, *, final: bool = False
    ) -> None:
        """Write-Progress: redraw the progress line."""
        self.progress_line.draw(command, done, total, errors, started, final=final)

    def clear_progress(self) -> None:
        """Erase the progress line, if one is shown, so the next line starts clean."""
        self.progress_line.clear()

    # -- questions ------------------------------------------------------------------------------

    def confirm(self, command: str, target: str) -> str:
        """Ask Yes / Yes to All / No / No to All on the terminal; returns y, a, n or l."""
        question = (
            "\nConfirm\nAre you sure you want to perform this action?\nPerforming the operation "
            f'"{command}" on target "{escape_controls(target)}".\n[Y] Yes  [A] Yes to All  [N] No  '
            '[L] No to All  [?] Help (default is "Y"): '
        )
        try:
            answer = self._choose(question, _CONFIRM_LABELS, CONFIRM_HELP, on_interrupt="l")
        except NoTerminalError:
            raise ParameterBindingError(
                "Confirm",
                "Cannot process -Confirm: there is no terminal to ask on. Use -WhatIf "
                "to see what would happen.",
            ) from None
        return answer

    def inquire(self, command: str, error: BaseException, target: str | None) -> str:
        """-ErrorAction Inquire: ask whether to go on after an item failed; returns y, a or h."""
        where = f"[{escape_controls(target)}] " if target else ""
        question = (
            f"\nConfirm\n{command}: {where}{escape_controls(str(error))}\n[Y] Yes  [A] Yes to All  "
            '[H] Halt Command  [?] Help (default is "Y"): '
        )
        return self._choose(question, _INQUIRE_LABELS, _INQUIRE_HELP, on_interrupt="y")

    def _choose(self, question: str, labels: Mapping[str, str], help_text: str, *, on_interrupt: str) -> str:
        """The hotkey chosen: the answer is a hotkey or a whole label, in any case, as in
        PowerShell; anything else (``yolo`` is not Yes) shows the question again."""
        choices = set(labels.values())
        with self._lock:
            self.clear_progress()
            prompt = question
            for _ in range(_MAX_ASKS):
                try:
                    self.asking = True
                    typed = " ".join(self.terminal.ask(prompt).lower().split())
                    answer = typed if typed in choices else labels.get(typed, "" if typed else "y")
                except (KeyboardInterrupt, AnswerEndedError) as reason:
                    # Ctrl-C or end of input at the prompt stops the run: nothing more is asked
                    # or started, and the run ends as interrupted.
                    if isinstance(reason, AnswerEndedError):
                        self.interrupted = True
                    self.stop.set()
                    if stream_is_terminal(self.stream):
                        self.stream.write("\n")  # leave the prompt's line, as a shell does
                    return on_interrupt
                finally:
                    self.asking = False
                if answer in choices and answer != "?":
                    return answer
                # "?" (or anything unknown) shows the help and asks again, as PowerShell does.
                prompt = (help_text if answer == "?" else "") + question.lstrip("\n")
            raise NoTerminalError("no recognisable answer")
