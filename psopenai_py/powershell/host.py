"""The host of a PowerShell-style run: where a command's error, warning, verbose, debug, WhatIf and
progress lines go, where Confirm and Inquire ask, and the run's counters and stop signal.

The progress line itself is drawn by :class:`~.progress.ProgressLine`; the host starts and ends
it for a run, erases it before every other line and draws it again right after, and writes the
summary line a run on a terminal ends with.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import ParameterBindingError
from ..lazy_pattern import LazyPattern
from ..meter import Meter
from ..scrub import mask_keys
from .progress import Counts, ProgressLine, duration
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

_POINTER = LazyPattern(r"\n    [^\n]*\n {4,}\^")
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
        self.declined = 0
        """How many items were declined at a -Confirm prompt (No, No to All): never sent."""
        self.cut_short = 0
        """How many items were stopped part-way through their outputs (a list whose later pages
        were not read when the run stopped)."""
        self.cut_short_outputs = 0
        """How many outputs those items had handed on before they were stopped."""
        self.unsent_now: Callable[[], int] | None = None
        """Set by a running run: how many of its items were not sent, counted at this moment
        (for the last line of a run that quits at once, :meth:`write_quit`)."""
        self.output: Any = None
        """The front-end's standard output, for a command that writes to it itself (an export to
        ``-``), so that its failure is reported as the front-end reports a failed output."""
        self.asking = False
        """True while a question waits for its answer (an interrupt then ends the wait)."""
        self.interrupted = False
        """True when the user ended the run at a prompt with end of input (Ctrl-D)."""
        self.running = 0
        """How many commands are running on this host (a pipeline chain shares one)."""
        self.meter = Meter()
        """What the run's requests met (the 429s), counted by the transport (:mod:`~psopenai_py.meter`)."""
        self.input_count: Callable[[], int | None] | None = None
        """How many items the pipeline input holds, when the front-end can tell (standard input
        from a regular file: :class:`~.progress.InputCount`)."""
        self.elapsed: float | None = None
        """How long the last run lasted, when it lasted long enough to show progress: its
        summary then says how long it took and how fast it went."""
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

    def tally(self, *, not_sent: int | None = None, unknown: int = 0) -> str:
        """``N done, N failed, N not sent``: what became of every item so far, each item once.
        Items declined at -Confirm and lists cut short are named when there are any; ``unknown``
        items (sent, their answer never reported: the run quit at once) likewise."""
        parts = [f"{self.done} done", f"{self.failures} failed"]
        if self.declined:
            parts.append(f"{self.declined} declined")
        if self.cut_short:
            what = "list" if self.cut_short == 1 else "lists"
            results = f"{self.cut_short_outputs} result{'' if self.cut_short_outputs == 1 else 's'}"
            parts.append(f"{self.cut_short} {what} cut short after {results} (later pages not read)")
        if unknown:
            parts.append(f"{unknown} in flight (outcome unknown, possibly applied)")
        parts.append(f"{self.not_sent if not_sent is None else not_sent} not sent")
        return ", ".join(parts)

    def summary(self) -> str:
        """The tally, and for a run that showed progress also how long it took, how fast it went
        and how many 429 answers it met: ``N done, N failed, N not sent in 12.3 s (48.7/s); 3
        answers were 429 (rate limited)``."""
        if self.meter.outcome is not None:  # a one-step command ended early, in its own words
            return self.meter.outcome
        text = self.tally()
        if self.elapsed is None:
            return text
        rate = (self.done + self.failures) / max(self.elapsed, 1e-9)
        text += f" in {duration(self.elapsed, tenths=True)} ({rate:.1f}/s)"
        limited = self.meter.rate_limited
        if limited:
            text += f"; {limited} answer{' was' if limited == 1 else 's were'} 429 (rate limited)"
        return text

    # -- lines ----------------------------------------------------------------------------------

    def write_error(self, command: str, error: BaseException, target: str | None = None) -> None:
        """``<Command>: [<target>] <message>``, one line, control characters escaped.  A syntax
        error's pointer (the text, then ``^`` under the problem) is left out: its position is in
        the message, and as ``\x0a`` escapes it would point at nothing."""
        # The target may be a piped line: a key pasted into the input is named masked.
        where = f"[{escape_controls(mask_keys(target))}] " if target else ""
        message = _POINTER.sub("", str(error))
        self.write_line(f"{command}: {where}{escape_controls(message)}")

    def write_line(self, text: str) -> None:
        """One line, on a line of its own: the progress line is erased first and drawn again
        after it, in the same write (the terminal never shows the screen without it)."""
        with self._lock:
            erase, draw = self.progress_line.around_line()
            self.stream.write(erase + text + "\n" + draw)
            self.stream.flush()

    def write_notice(self, text: str) -> None:
        """A line about the run after a stop signal: on a terminal that understands VT sequences
        the current line is erased first, and with it the terminal's echo of ``^C``."""
        with self._lock:
            erase, draw = self.progress_line.around_line()
            if stream_is_terminal(self.stream) and enable_virtual_terminal(self.stream):
                erase = ERASE_LINE
            self.stream.write(erase + text + "\n" + draw)
            self.stream.flush()

    def write_quit(self, word: str = "quit") -> None:
        """The last line of a run that quits at once (a second Ctrl-C): what became of every
        item, the requests in flight counted as sent with their outcome unknown.  Called from a
        signal handler, so it waits for the lock only briefly and never raises."""
        unknown = max(0, self.started - self.done - self.failures - self.cut_short)
        not_sent = self.not_sent
        if self.unsent_now is not None:
            with contextlib.suppress(Exception):
                not_sent = self.unsent_now()
        outcome = self.meter.outcome
        text = outcome if outcome is not None else self.tally(not_sent=not_sent, unknown=unknown)
        held = self._lock.acquire(timeout=0.5)
        try:
            erase = ""
            with contextlib.suppress(Exception):
                if held:
                    erase = self.progress_line.around_line()[0]
                if stream_is_terminal(self.stream):
                    # The progress line, and the terminal's echo of ^C, are overwritten.
                    erase = ERASE_LINE if enable_virtual_terminal(self.stream) else erase or "\r"
            line = f"{erase}{word}: {text}\n"
            try:
                self.stream.write(line)
                self.stream.flush()
            except Exception:  # interrupted inside a write of this stream: past its buffer
                with contextlib.suppress(Exception):
                    os.write(self.stream.fileno(), line.encode("utf-8", "backslashreplace"))
        finally:
            if held:
                self._lock.release()

    def end_streamed_text(self) -> None:
        """An item's streamed text is over: the line it left open is ended.  The host's stream
        ends such a line before any write of its own (the command line's text format, where the
        reply goes to standard output); an empty write asks for just that and shows nothing."""
        with self._lock:
            self.stream.write("")

    @contextlib.contextmanager
    def writing_output(self) -> Iterator[tuple[str, str]]:
        """Around an output written to the terminal these lines go to (standard output and error
        on one terminal): gives the text that erases the progress line and the text that draws
        it again, to be written before and after the output in the same write; no other line
        comes in between."""
        with self._lock:
            yield self.progress_line.around_line()

    # -- progress (drawn by :class:`~.progress.ProgressLine`) -------------------------------------

    def begin_progress(self, command: str, counts: Callable[[], Counts], bound: Bound | None = None) -> bool:
        """Show a run's progress (Write-Progress) from now on, as ``counts`` says it stands;
        False when progress is off or another run of this host already shows its own."""
        shown = self.progress_line.begin(command, counts, bound)
        if shown:
            self.elapsed = None
        return shown

    def item_finished(self) -> None:
        """An item of the run finished: the progress line is brought up to date."""
        self.progress_line.item_finished()

    def end_progress(self, command: str, *, summary: bool) -> None:
        """The run is over: its progress line is erased and, when it lasted long enough to show
        and ``summary`` (the run was not stopped: a stopped run's last line is its caller's), one
        summary line ``<command>: N done, N failed, N not sent in T (R/s)`` takes its place."""
        with self._lock:
            elapsed = self.progress_line.end()
            if elapsed is None:
                return
            self.elapsed = elapsed
            if summary:
                self.write_line(f"{command}: {self.summary()}")

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
        # The target may be a piped line: a key pasted into the input is named masked.
        where = f"[{escape_controls(mask_keys(target))}] " if target else ""
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
                    self.progress_line.restore()
                    return answer
                # "?" (or anything unknown) shows the help and asks again, as PowerShell does.
                prompt = (help_text if answer == "?" else "") + question.lstrip("\n")
            raise NoTerminalError("no recognisable answer")
