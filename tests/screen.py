"""A small terminal model for tests: what a VT100-like terminal shows after some output.

:func:`screen` gives the lines after a whole text (no wrapping: each line as long as written).
:class:`Screen` is fed output as it arrives, chunk by chunk (an escape sequence may be split
between chunks), and keeps a cursor on a grid of ``columns``: printable text overwrites in place
and wraps at the right margin as xterm does; carriage return, newline (as a pseudo-terminal
delivers it: to the start of a new line), backspace and tab move the cursor, and so do
``ESC [ n A/B/C/D/G/H``; ``ESC [ n K`` and ``ESC [ n J`` erase; colours and other sequences
change nothing that is shown.  Lines that scroll off the top stay in
:attr:`Screen.lines` (the scrollback); :meth:`Screen.visible` is the last ``rows``.
"""

from __future__ import annotations

import re

__all__ = ["screen", "Screen"]

_TOKEN = re.compile(
    r"\x1b\[(?P<params>[0-9;?]*)(?P<final>[@-~])"  # CSI sequence
    r"|\x1b[^\[]"  # a two-character escape (charset, keypad modes): shows nothing
    r"|(?P<control>[\r\n\b\t\x07])"
    r"|(?P<text>[^\x1b\r\n\b\t\x07]+)"
)
_INCOMPLETE = re.compile(r"\x1b(\[[0-9;?]*)?$")


class Screen:
    """A terminal of ``columns`` x ``rows`` (``columns=None``: lines never wrap)."""

    def __init__(self, columns: int | None = 80, rows: int = 24) -> None:
        self.columns = columns
        self.rows = rows
        self.lines: list[str] = [""]
        self.row = 0
        """The cursor's line, an index into :attr:`lines`."""
        self.column = 0
        self._wrap_pending = False
        self._tail = ""

    @property
    def cursor_line(self) -> str:
        """The text of the line the cursor is on."""
        return self.lines[self.row]

    def visible(self) -> list[str]:
        """The lines on screen: the last ``rows`` (fewer before the screen has filled)."""
        return self.lines[-self.rows :]

    def feed(self, text: str) -> Screen:
        """Take more output; returns the screen."""
        text = self._tail + text
        incomplete = _INCOMPLETE.search(text)
        self._tail = text[incomplete.start() :] if incomplete else ""
        if incomplete:
            text = text[: incomplete.start()]
        for match in _TOKEN.finditer(text):
            if match.group("text") is not None:
                self._print(match.group("text"))
            elif match.group("control") is not None:
                self._control(match.group("control"))
            elif match.group("final") is not None:
                self._csi(match.group("params"), match.group("final"))
        return self

    # -- what each kind of output does -------------------------------------------------------

    def _print(self, text: str) -> None:
        for char in text:
            if self._wrap_pending:
                self._wrap_pending = False
                self._newline()
                self.column = 0
            self._put(char)
            if self.columns is not None and self.column == self.columns - 1:
                self._wrap_pending = True  # xterm: the next character wraps, not this one
            else:
                self.column += 1

    def _put(self, char: str) -> None:
        line = self.lines[self.row].ljust(self.column)
        self.lines[self.row] = line[: self.column] + char + line[self.column + 1 :]

    def _newline(self) -> None:
        self.row += 1
        if self.row == len(self.lines):
            self.lines.append("")

    def _control(self, char: str) -> None:
        if char == "\r":
            self.column = 0
            self._wrap_pending = False
        elif char == "\n":
            # As a terminal's line discipline sends it (ONLCR, on by default): a new line, at
            # its start.
            self._newline()
            self.column = 0
            self._wrap_pending = False
        elif char == "\b":
            self.column = max(0, self.column - 1)
            self._wrap_pending = False
        elif char == "\t":
            stop = (self.column // 8 + 1) * 8
            self.column = stop if self.columns is None else min(stop, self.columns - 1)

    def _csi(self, params: str, final: str) -> None:
        if params.startswith("?"):
            return  # private modes (cursor shown or hidden, ...): nothing on screen changes
        numbers = [int(p) if p else 0 for p in params.split(";")] if params else []
        first = numbers[0] if numbers else 0
        count = max(first, 1)
        self._wrap_pending = False
        line = self.lines[self.row]
        if final == "K":
            if first == 0:
                self.lines[self.row] = line[: self.column]
            elif first == 1:
                self.lines[self.row] = " " * min(self.column + 1, len(line)) + line[self.column + 1 :]
            elif first == 2:
                self.lines[self.row] = ""
        elif final == "J":
            top = max(0, len(self.lines) - self.rows)
            if first == 0:
                self.lines[self.row] = line[: self.column]
                del self.lines[self.row + 1 :]
            elif first in (2, 3):
                for index in range(top, len(self.lines)):
                    self.lines[index] = ""
        elif final == "A":
            top = max(0, len(self.lines) - self.rows)
            self.row = max(top, self.row - count)
        elif final == "B":
            self.row = min(len(self.lines) - 1, self.row + count)
        elif final == "C":
            self.column += count
            if self.columns is not None:
                self.column = min(self.column, self.columns - 1)
        elif final == "D":
            self.column = max(0, self.column - count)
        elif final == "G":
            self.column = count - 1
        elif final in ("H", "f"):
            top = max(0, len(self.lines) - self.rows)
            wanted_row = max(numbers[0] if numbers else 1, 1)
            wanted_column = max(numbers[1] if len(numbers) > 1 else 1, 1)
            while top + wanted_row - 1 >= len(self.lines):
                self.lines.append("")
            self.row = top + wanted_row - 1
            self.column = wanted_column - 1
        # "m" (colours) and anything else: nothing shown changes


def screen(text: str) -> list[str]:
    """The terminal's lines after ``text`` is written to it (lines never wrap)."""
    return Screen(columns=None).feed(text).lines
