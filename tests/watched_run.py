"""A bulk run of the command line watched as a person at a terminal would watch it.

:func:`watch` starts ``python -m psopenai_py Set-ChatCompletion ...`` with its standard error on
a new pseudo-terminal (its controlling terminal, so that Ctrl-C can be typed), its standard input
a file of ids and its standard output a file (or the same terminal), feeds everything the
terminal receives to a :class:`~tests.screen.Screen`, and samples the screen every few
milliseconds: is the progress line on the cursor's line, has the summary line appeared, had the
server received a request yet.  POSIX only (pseudo-terminals).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from psopenai_py.emulator import Emulator
from tests.screen import Screen
from tests.terminal_run import TerminalFeed, controlling_terminal

PROGRESS = re.compile(r"\d+(/\d+ \(\d+%\))?, [\d.]+/s, \d+ errors?\b")
"""The progress line while a run goes on: ``done[/total (pct%)], rate/s, N errors[, ...]``."""

SUMMARY = re.compile(
    r"^(?P<word>[\w-]+): (?P<done>\d+) done, (?P<failed>\d+) failed, (?P<not_sent>\d+) not sent "
    r"in (?P<elapsed>[\w .]+) \((?P<rate>[\d.]+)/s\)"
    r"(?:; (?P<limited>\d+) answers? (?:was|were) 429 \(rate limited\))?$"
)
"""The one line a run on a terminal ends with."""

SAMPLE_EVERY = 0.005
"""Seconds between two looks at the screen."""


@dataclass
class Sample:
    at: float
    sent: bool
    progress: bool
    summary: bool


@dataclass
class Watched:
    """What the terminal showed: the samples, the final screen, the exit status."""

    status: int
    screen: Screen
    received: str
    samples: list[Sample] = field(default_factory=list)

    def run_window(self) -> list[Sample]:
        """The samples from the first request the server received to the summary line."""
        start = next((i for i, s in enumerate(self.samples) if s.sent), len(self.samples))
        end = next((i for i, s in enumerate(self.samples) if s.summary), len(self.samples))
        return self.samples[start:end]

    def visibility(self) -> float:
        """The share of the run during which the progress line was on screen."""
        window = self.run_window()
        return sum(s.progress for s in window) / len(window) if window else 0.0

    def lines(self) -> list[str]:
        """The screen's non-empty lines, scrollback included."""
        return [line for line in self.screen.lines if line.strip()]


def watch(
    emulator: Emulator,
    env: dict[str, str],
    ids: list[str],
    workdir: Path,
    *,
    throttle: int,
    columns: int = 160,
    rows: int = 24,
    stdout_on_terminal: bool = False,
    stdin_pipe: bool = False,
    extra: list[str] | None = None,
    interrupt_after: int | None = None,
    timeout: float = 30.0,
) -> Watched:
    """Run Set-ChatCompletion over ``ids`` with ``-ThrottleLimit throttle`` and watch its
    terminal.  ``interrupt_after``: type Ctrl-C once the server has received that many requests."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    ids_file = workdir / "ids.txt"
    ids_file.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    out_path = workdir / "out.jsonl"
    args = ["Set-ChatCompletion", "-MetaData", "@{watched='1'}", "-ThrottleLimit", str(throttle)]
    args += ["--format", "json", *(extra or [])]
    with open(ids_file, "rb") as stdin_file, open(out_path, "wb") as out_file:
        child = subprocess.Popen(
            [sys.executable, "-m", "psopenai_py", *args],
            stdin=subprocess.PIPE if stdin_pipe else stdin_file,
            stdout=slave if stdout_on_terminal else out_file,
            stderr=slave,
            env={"COLUMNS": "", "LINES": "", **env},
            start_new_session=True,
            preexec_fn=controlling_terminal,
        )
        os.close(slave)
        if stdin_pipe:
            assert child.stdin is not None
            child.stdin.write(ids_file.read_bytes())
            child.stdin.close()
        term = Screen(columns, rows)
        feed = TerminalFeed(master, term)
        samples: list[Sample] = []
        next_sample = time.monotonic()
        deadline = next_sample + timeout
        interrupted = False
        while feed.open and time.monotonic() < deadline:
            feed.read(SAMPLE_EVERY / 2)
            now = time.monotonic()
            if now >= next_sample:
                next_sample = now + SAMPLE_EVERY
                sent = len(emulator.requests)
                above = [line for line in term.lines[max(0, term.row - 2) : term.row + 1] if line.strip()]
                samples.append(
                    Sample(
                        at=now,
                        sent=sent > 0,
                        progress=bool(PROGRESS.search(term.cursor_line)),
                        summary=any(SUMMARY.match(line) for line in above),
                    )
                )
                if interrupt_after is not None and not interrupted and sent >= interrupt_after:
                    os.killpg(child.pid, signal.SIGINT)  # as the terminal sends it for a typed Ctrl-C
                    interrupted = True
        status = child.wait(10)
    os.close(master)
    return Watched(status=status, screen=term, received=feed.received, samples=samples)
