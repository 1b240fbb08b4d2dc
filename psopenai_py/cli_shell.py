"""The process shell both command lines share: standard streams, an output that fails, the stop
signals, exit statuses and the last line of defence.

``psopenai <Verb-Noun> ...`` (:mod:`psopenai_py.powershell.cli`) and ``psopenai chat:completions
...`` (:mod:`psopenai_py.openai_cli.app`) are two command lines with their own words and codes; what
a process must do whatever it says is written here once:

- Standard output is an :class:`Output`: a failed write or flush, whatever the cause (the reader
  went away, ``> /dev/full``, a full disk), raises :class:`OutputError`, which the command line
  turns into one line and a nonzero status, and never into "unexpected error".  A standard output
  closed before the start (``>&-``) is refused where the command line asks for it
  (:meth:`Shell.output`), before anything is sent: the results could not be reported.
- Standard error never fails: a message that cannot be shown must not change the exit status of
  what it reports.
- Ctrl-C, SIGTERM (``timeout``, ``docker stop``, a service manager) and, on Windows, Ctrl-Break:
  the first calls the command line's own handler (by default: end the wait with
  ``KeyboardInterrupt``); a second exits at once, after the command line's last line (what
  became of the work it leaves, if it says).  The status is that of a shell: 130 (128 +
  SIGINT), 143 (128 + SIGTERM).
- Anything unforeseen is one line on stderr, in the command line's words, and status 1.

A command line subclasses :class:`Shell` for its words and codes and runs its body through
:meth:`Shell.run`.
"""

from __future__ import annotations

import abc
import contextlib
import errno
import io
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, TextIO

__all__ = [
    "Shell",
    "Output",
    "OutputError",
    "OutputClosedError",
    "StopSignals",
    "stop_signals",
    "EXIT_FAILURE",
    "EXIT_BEFORE_FIRST_ITEM",
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
]

EXIT_FAILURE = 1
EXIT_BEFORE_FIRST_ITEM = 2  # the command line was refused (or could not start): nothing ran
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it
EXIT_TERMINATED = 143  # 128 + SIGTERM


class OutputError(Exception):
    """Writing the standard output failed.  ``closed``: because the reader went away (``| head``),
    which a command line may take quietly; otherwise the device failed (``reason`` says how)."""

    def __init__(self, cause: BaseException) -> None:
        self.closed = reader_gone(cause)
        self.reason = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
        super().__init__(self.reason)


class OutputClosedError(OutputError):
    """The standard output was closed before the start (``>&-``): nothing can be reported."""

    def __init__(self) -> None:
        super().__init__(OSError(errno.EBADF, "standard output is closed"))


def reader_gone(error: BaseException) -> bool:
    """Whether a write failed because the reader went away: EPIPE on POSIX, EINVAL for a closed
    pipe on Windows."""
    return isinstance(error, BrokenPipeError) or getattr(error, "errno", None) in (errno.EPIPE, errno.EINVAL)


class Output:
    """The standard output as commands write it: a failed write or flush raises
    :class:`OutputError` (a text encoding error stays what it is: a bug, not a device)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self.stream.write(text) or 0)
        except UnicodeError:
            raise
        except (OSError, ValueError) as exc:  # ValueError: a stream closed under us
            raise OutputError(exc) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except (OSError, ValueError) as exc:
            raise OutputError(exc) from None

    def isatty(self) -> bool:
        try:
            return bool(self.stream.isatty())
        except (AttributeError, ValueError, OSError):
            return False

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, buffer: the stream's own
        return getattr(self.stream, name)


class _Messages:
    """Standard error, where a write that fails (a closed descriptor, a reader gone) is dropped."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        if self.stream is None:
            return len(text)
        try:
            return int(self.stream.write(text) or 0)
        except (OSError, ValueError):
            return 0

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.stream.flush()

    def isatty(self) -> bool:
        try:
            return bool(self.stream.isatty())
        except (AttributeError, ValueError, OSError):
            return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _utf8(stream: TextIO | None) -> TextIO | None:
    """The process stream, writing UTF-8 whatever the locale (a cp1252 redirect on Windows).
    What UTF-8 cannot carry (a lone surrogate from a ``\\ud800`` escape) is written as a
    backslash escape, which inside a JSON string is still valid JSON."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):  # a stream that cannot change: keep it
            reconfigure(encoding="utf-8", errors="backslashreplace")
    return stream


def _discard(stream: Any) -> None:
    """Point the process's ``stream`` at the null device, so that the interpreter's last flush of
    what could not be written does not complain again."""
    with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)


def stop_signals() -> list[int]:
    """The signals that stop a run gracefully: Ctrl-C, a polite kill (``timeout``, ``docker
    stop``, a service manager) and, on Windows, Ctrl-Break."""
    names = ["SIGINT", "SIGTERM"] + (["SIGBREAK"] if sys.platform == "win32" else [])
    return [int(getattr(signal, name)) for name in names if hasattr(signal, name)]


def _end_the_wait(signum: int) -> None:
    raise KeyboardInterrupt


class StopSignals:
    """While entered (in the main thread): the first stop signal calls ``on_first`` with its
    number, which may raise ``KeyboardInterrupt`` to end what the main thread waits for; a
    second exits at once with :attr:`status`, after ``on_second`` (given that status) has
    written the last line: what became of the work it leaves."""

    def __init__(
        self, on_first: Callable[[int], None] = _end_the_wait, on_second: Callable[[int], None] | None = None
    ) -> None:
        self.on_first = on_first
        self.on_second = on_second
        self.received: int | None = None
        """The first stop signal's number, once one came."""
        self._previous: dict[int, Any] = {}

    @property
    def status(self) -> int:
        """The exit status for the signal received: 143 for SIGTERM, else 130."""
        if self.received is not None and self.received == getattr(signal, "SIGTERM", None):
            return EXIT_TERMINATED
        return EXIT_INTERRUPTED

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in stop_signals():
                with contextlib.suppress(OSError, ValueError):  # a signal this platform refuses
                    self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            if self.on_second is not None:
                with contextlib.suppress(Exception):  # the exit must come whatever happens
                    self.on_second(self.status)
            os._exit(self.status)  # the second signal: at once, whatever is in flight
        self.received = signum
        self.on_first(signum)


class Shell(abc.ABC):
    """One command line's process: its streams, its stop signals and how it ends.

    ``stdout``/``stderr`` given (tests, callers) are used as they are; otherwise the process's
    own, in UTF-8 when ``utf8`` is set.  Subclasses give the words and codes.
    """

    closed_output_status = EXIT_FAILURE
    """The status of a command line refused because its standard output is closed."""

    def __init__(
        self, stdout: TextIO | None = None, stderr: TextIO | None = None, *, utf8: bool = False
    ) -> None:
        self._process_stdout = stdout is None
        raw_out = stdout if stdout is not None else (_utf8(sys.stdout) if utf8 else sys.stdout)
        raw_err = stderr if stderr is not None else (_utf8(sys.stderr) if utf8 else sys.stderr)
        # A standard stream the shell closed (``>&-``) is None in Python.
        self._out = Output(raw_out) if raw_out is not None else None
        self.err: Any = _Messages(raw_err)
        """Standard error, which never raises."""
        self.signals = StopSignals()

    # -- what the body uses ---------------------------------------------------------------------

    def output(self) -> Output:
        """Standard output; raises :class:`OutputClosedError` when it was closed before the start
        (ask before sending anything)."""
        if self._out is None:
            raise OutputClosedError
        return self._out

    def stopping(
        self, on_first: Callable[[int], None] = _end_the_wait, on_second: Callable[[int], None] | None = None
    ) -> StopSignals:
        """The stop signals to enter around the work (see :class:`StopSignals`)."""
        self.signals = StopSignals(on_first, on_second)
        return self.signals

    def give_up_output(self) -> None:
        """After an :class:`OutputError`: nothing more is written, and the process's own stdout no
        longer complains at exit."""
        if self._process_stdout and sys.stdout is not None:
            _discard(sys.stdout)

    def say(self, line: str) -> None:
        """One line on standard error (nothing for an empty line)."""
        if line:
            self.err.write(line + "\n")
            self.err.flush()

    def run(self, body: Callable[[], int]) -> int:
        """Run the command line's ``body``; returns the exit status.  Nothing escapes."""
        try:
            status = body()
            if self._out is not None:
                # What is still buffered fails here, where it can be reported, rather than in
                # the interpreter's last flush (a traceback-like "Exception ignored" and 120).
                self._out.flush()
            return status
        except KeyboardInterrupt:
            status = self.signals.status
            self.say(self.interrupted_line(status))
            return status
        except OutputClosedError:
            self.say(self.closed_output_line())
            return self.closed_output_status
        except OutputError as failure:
            self.give_up_output()
            self.say(self.output_failed_line(failure))
            return EXIT_FAILURE
        except Exception as exc:  # the last line of defence: one line, never a traceback
            self.say(self.unexpected_line(exc))
            return EXIT_FAILURE

    # -- the command line's words (an empty line says nothing) ------------------------------------

    @abc.abstractmethod
    def interrupted_line(self, status: int) -> str:
        """The line for a command ended by a stop signal (``status`` 130 or 143)."""

    @abc.abstractmethod
    def closed_output_line(self) -> str:
        """The line refusing a command line whose standard output is closed."""

    @abc.abstractmethod
    def output_failed_line(self, failure: OutputError) -> str:
        """The line for an output that failed."""

    @abc.abstractmethod
    def unexpected_line(self, exc: BaseException) -> str:
        """The line (or lines) for an unforeseen failure."""
