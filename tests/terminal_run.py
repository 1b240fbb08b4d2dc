"""Any ``psopenai`` command line run as a person at a terminal runs it, for tests of what the
terminal shows: its standard error on a new pseudo-terminal (its controlling terminal, so that
Ctrl-C can be typed), standard input from a file (or that terminal, for -Confirm answers),
standard output to a file, that terminal, or a pipe its reader closes early.

:func:`run` feeds what the terminal receives to a :class:`~tests.screen.Screen` and acts on what
happens: Ctrl-C (SIGINT to the process group, as the terminal sends it) once the server has
received some requests, a second one a moment later, answers typed at prompts.  POSIX only.
"""

from __future__ import annotations

import codecs
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.screen import Screen


@dataclass
class Ran:
    """What the terminal showed, and how the process ended."""

    status: int
    screen: Screen
    received: str
    stdout: bytes = b""

    def lines(self) -> list[str]:
        """The screen's non-empty lines, scrollback included, without trailing spaces."""
        return [line.rstrip() for line in self.screen.lines if line.strip()]


@dataclass
class Step:
    """Something done once ``when()`` holds: ``signals`` sent (``gap`` seconds apart) or
    ``typed`` written to the terminal."""

    when: Callable[[str], bool]
    signals: list[int] = field(default_factory=list)
    gap: float = 0.05
    typed: bytes = b""


def controlling_terminal() -> None:  # pragma: no cover - runs in the child
    """Make the child's standard error, a new pseudo-terminal, its controlling terminal (so that
    Ctrl-C typed there, and its prompts, reach it): a ``preexec_fn``."""
    import fcntl
    import termios

    fcntl.ioctl(2, termios.TIOCSCTTY, 0)


class TerminalFeed:
    """What the master side of a pseudo-terminal receives: decoded as it comes and fed to a
    :class:`~tests.screen.Screen`; ``open`` turns False once the terminal has closed."""

    def __init__(self, master: int, screen: Screen) -> None:
        self.master = master
        self.screen = screen
        self.open = True
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._received: list[str] = []

    def read(self, wait: float) -> None:
        """Wait up to ``wait`` seconds for output, and feed what came."""
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the child has gone and the terminal is closed
            chunk = b""
        if not chunk:
            self.open = False
        text = self._decoder.decode(chunk)
        self._received.append(text)
        self.screen.feed(text)

    @property
    def received(self) -> str:
        """Everything received so far."""
        return "".join(self._received)


def run(
    args: list[str],
    env: dict[str, str],
    *,
    stdin: Path | None = None,
    stdin_pipe: bytes | None = None,
    stdin_on_terminal: bool = False,
    stdout: Path | None = None,
    stdout_on_terminal: bool = False,
    stdout_read_lines: int | None = None,
    steps: list[Step] | None = None,
    columns: int = 160,
    rows: int = 24,
    timeout: float = 30.0,
) -> Ran:
    """Run ``python -m psopenai_py *args`` on a pseudo-terminal and do ``steps`` in order, each
    when its condition (given what the terminal received so far) holds.  ``stdin_pipe``: standard
    input is a pipe that gives these bytes, then ends.  ``stdout_read_lines``:
    standard output is a pipe whose reader takes that many lines and closes it (``| head -N``)."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    todo = list(steps or [])
    stdin_file = open(stdin, "rb") if stdin is not None else None  # noqa: SIM115 - closed below
    out_file = open(stdout, "wb") if stdout is not None else None  # noqa: SIM115 - closed below
    out_target: Any
    if stdout_on_terminal:
        out_target = slave
    elif stdout_read_lines is not None:
        out_target = subprocess.PIPE
    else:
        out_target = out_file if out_file is not None else subprocess.DEVNULL
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "psopenai_py", *args],
            stdin=(
                slave
                if stdin_on_terminal
                else subprocess.PIPE
                if stdin_pipe is not None
                else (stdin_file or subprocess.DEVNULL)
            ),
            stdout=out_target,
            stderr=slave,
            env={"COLUMNS": "", "LINES": "", **env},
            start_new_session=True,
            preexec_fn=controlling_terminal,
        )
    finally:
        os.close(slave)
        for opened in (stdin_file, out_file):
            if opened is not None:
                opened.close()
    if stdin_pipe is not None:
        assert child.stdin is not None
        child.stdin.write(stdin_pipe)
        child.stdin.close()
    taken = b""
    if stdout_read_lines is not None:
        assert child.stdout is not None
        lines = [child.stdout.readline() for _ in range(stdout_read_lines)]
        taken = b"".join(lines)
        child.stdout.close()  # the reader goes away, as head does
    term = Screen(columns, rows)
    feed = TerminalFeed(master, term)
    deadline = time.monotonic() + timeout
    while feed.open and time.monotonic() < deadline:
        feed.read(0.005)
        while todo and todo[0].when(feed.received):
            step = todo.pop(0)
            if step.typed:
                os.write(master, step.typed)
            for index, number in enumerate(step.signals):
                if index:
                    time.sleep(step.gap)
                os.killpg(child.pid, number)
    try:
        status = child.wait(10)
    finally:
        os.close(master)
    return Ran(status=status, screen=term, received=feed.received, stdout=taken)


def after_requests(emulator: object, count: int) -> Callable[[str], bool]:
    """A step's condition: the server has received ``count`` requests."""
    return lambda _received: len(emulator.requests) >= count  # type: ignore[attr-defined]


SIGINT = signal.SIGINT
