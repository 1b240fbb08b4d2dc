"""The user's terminal, apart from standard input and output: where -Confirm and -ErrorAction
Inquire ask, and how progress lines are drawn and erased.

The answer to a prompt is read from the controlling terminal (``/dev/tty`` on Linux and macOS,
the console's ``CONIN$``/``CONOUT$`` on Windows), so a prompt works even when standard input
carries the pipeline.  :class:`Terminal` is the small interface the pipeline uses; tests drive
the real one through a pseudo-terminal, or give their own.
"""

from __future__ import annotations

import os
from typing import Protocol, TextIO

__all__ = [
    "Terminal",
    "ControllingTerminal",
    "NoTerminalError",
    "AnswerEndedError",
    "escape_controls",
    "escape_text",
    "enable_virtual_terminal",
    "ERASE_LINE",
    "stream_is_terminal",
]

ERASE_LINE = "\r\x1b[K"
"""Carriage return, then erase to the end of the line (ANSI/VT100 ``EL``)."""


class NoTerminalError(OSError):
    """There is no terminal to ask on."""


class AnswerEndedError(NoTerminalError):
    """The terminal gave end of input at a prompt (Ctrl-D, or Ctrl-Z Enter on Windows): the user
    declined to answer.  A prompt treats it as it treats Ctrl-C."""


class Terminal(Protocol):
    """Somewhere to ask the user a question and read one line of answer."""

    def ask(self, prompt: str) -> str:
        """Write ``prompt`` and return the line typed (without its newline); raises
        :class:`NoTerminalError` when there is no terminal."""
        ...


class ControllingTerminal:
    """The process's controlling terminal (POSIX) or console (Windows)."""

    def ask(self, prompt: str) -> str:
        """Write ``prompt`` to the terminal and read one line from it."""
        try:
            # Two streams, not one "r+": a terminal is not seekable, which a read-write
            # buffered file demands.
            names = ("CONIN$", "CONOUT$") if os.name == "nt" else ("/dev/tty", "/dev/tty")
            with (
                open(names[1], "w", encoding="utf-8") as out,
                open(names[0], encoding="utf-8", errors="replace") as inp,
            ):
                return _ask(prompt, inp, out)
        except NoTerminalError:
            raise
        except OSError as exc:
            raise NoTerminalError(str(exc)) from None


def _ask(prompt: str, inp: TextIO, out: TextIO) -> str:
    out.write(prompt)
    out.flush()
    line = inp.readline()
    if not line:  # end of file: the terminal went away
        raise AnswerEndedError("the terminal gave end of input")
    return line.rstrip("\r\n")


def _escape_char(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with control characters (C0 but TAB, DEL, C1, ESC) shown as ``\\xNN`` escapes,
    so that text from a server cannot move the cursor, clear the screen or retitle the window."""
    if not any((ord(c) < 0x20 and c != "\t") or 0x7F <= ord(c) <= 0x9F for c in text):
        return text
    return "".join(
        _escape_char(c) if (ord(c) < 0x20 and c != "\t") or 0x7F <= ord(c) <= 0x9F else c for c in text
    )


def escape_text(text: str) -> str:
    """Text written as it is, lines and all (a model's reply): line breaks kept (CRLF as LF),
    every other control character escaped as :func:`escape_controls` escapes it."""
    return "\n".join(escape_controls(line) for line in text.replace("\r\n", "\n").split("\n"))


def enable_virtual_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` understands VT escape sequences, enabling them on a Windows console.

    On Windows 10+ consoles this sets ``ENABLE_VIRTUAL_TERMINAL_PROCESSING``; where that fails, and
    on a terminal that says ``TERM=dumb``, the caller falls back to erasing a line with spaces.
    """
    if os.environ.get("TERM", "") == "dumb":
        return False  # a terminal that says it understands no escape sequences
    if os.name != "nt":
        return True
    try:
        import ctypes
        import msvcrt

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
        handle = msvcrt.get_osfhandle(stream.fileno())  # type: ignore[attr-defined,unused-ignore]
        mode = ctypes.c_uint32()
        if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
            return False
        return bool(kernel32.SetConsoleMode(handle, mode.value | 0x0004))
    except (OSError, AttributeError, ValueError, ImportError):
        return False


def stream_is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (a closed or odd stream is not)."""
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False
