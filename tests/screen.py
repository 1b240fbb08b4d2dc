"""A tiny terminal model for tests: the lines a terminal shows after some output, handling
carriage return, newline (also as CR LF from a pty) and erase-to-end-of-line (ESC [ K)."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"\x1b\[K|\r\n|\r|\n|[^\r\n\x1b]+|\x1b")


def screen(text: str) -> list[str]:
    """The terminal's lines after ``text`` is written to it."""
    lines: list[str] = [""]
    column = 0
    for token in _CONTROL.findall(text):
        line = lines[-1]
        if token in ("\n", "\r\n"):
            lines.append("")
            column = 0
        elif token == "\r":
            column = 0
        elif token == "\x1b[K":
            lines[-1] = line[:column]
        elif token == "\x1b":
            continue
        else:
            lines[-1] = line[:column] + token + line[column + len(token) :]
            column += len(token)
    return lines
