"""The progress line's words and drawing, as pure functions and on model terminals: what it says,
that it fits any width, how long things take in words, how many items a file on standard input
holds, which streams share a terminal, and drawing without escape sequences."""

from __future__ import annotations

import io
import os
import re
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psopenai_py.powershell import progress
from psopenai_py.powershell.host import Host
from psopenai_py.powershell.progress import Counts, InputCount, duration, render, same_terminal
from psopenai_py.powershell.stdin import StdinItems
from tests.screen import Screen, screen
from tests.watched_run import PROGRESS

NAME = "Set-ChatCompletion"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


# -- words ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "tenths", "words"),
    [
        (0, False, "0 s"),
        (0.2, False, "1 s"),  # time left is never "0 s" while something is left
        (12.4, True, "12.4 s"),
        (59.9, False, "60 s"),
        (59.96, True, "1 min 00 s"),
        (61, False, "1 min 01 s"),
        (3599, False, "59 min 59 s"),
        (3600, False, "1 h 00 min"),
        (7 * 3600 + 65, False, "7 h 01 min"),
        (-3, False, "0 s"),
    ],
)
def test_durations_in_words(seconds, tenths, words):
    assert duration(seconds, tenths=tenths) == words


@pytest.mark.parametrize(
    ("counts", "rate", "line"),
    [
        (Counts(0, 0, None), 0.0, f"{NAME}: 0, 0.0/s, 0 errors"),
        (Counts(120, 1, None), 48.25, f"{NAME}: 120, 48.2/s, 1 error"),
        (Counts(120, 2, 600), 48.0, f"{NAME}: 120/600 (20%), 48.0/s, 2 errors, 10 s left"),
        (Counts(600, 0, 600), 50.0, f"{NAME}: 600/600 (100%), 50.0/s, 0 errors"),
        (Counts(10, 0, 600), 0.0, f"{NAME}: 10/600 (1%), 0.0/s, 0 errors"),  # no rate: no time left
        (Counts(10, 0, 10**6), 0.001, f"{NAME}: 10/1000000 (0%), 0.0/s, 0 errors"),  # nor days of it
        (Counts(12, 0, 10), 3.0, f"{NAME}: 12/12 (100%), 3.0/s, 0 errors"),  # a total counted short
        (
            Counts(120, 0, 6000, rate_limited=31),
            2.0,
            f"{NAME}: 120/6000 (2%), 2.0/s, 0 errors, 49 min 00 s left, 31 x 429",
        ),
        (
            Counts(120, 3, 600, in_flight=4, stopping=True),
            48.0,
            f"{NAME}: 120/600 (20%), 3 errors, stopping: 4 in flight",
        ),
    ],
)
def test_what_the_line_says(counts, rate, line):
    assert render(NAME, counts, rate, None) == line
    assert render(NAME, counts, rate, 200) == line


@pytest.mark.parametrize(
    ("columns", "line"),
    [
        (80, f"{NAME}: 120/600 (20%), 48.0/s, 2 errors, 10 s left, 3 x 429"),
        (70, f"{NAME}: 120/600 (20%), 48.0/s, 2 errors, 10 s left"),
        (60, f"{NAME}: 120/600 (20%), 48.0/s, 2 errors"),
        (50, f"{NAME}: 120/600 (20%), 48.0/s"),
        (40, f"{NAME}: 120/600 (20%)"),
        (30, "120/600 (20%), 48.0/s"),  # the name goes before the rate
        (20, "120/600 (20%)"),
        (11, "120/600 (2"),
        (3, "120/600 (2"),  # never narrower than ten columns: a terminal that small wraps anyway
    ],
)
def test_the_least_useful_parts_go_first_when_the_terminal_is_narrow(columns, line):
    assert render(NAME, Counts(120, 2, 600, rate_limited=3), 48.0, columns) == line


@given(
    finished=st.integers(0, 10**7),
    failed=st.integers(0, 10**7),
    total=st.none() | st.integers(0, 10**7),
    rate=st.floats(0, 10**5),
    limited=st.integers(0, 10**6),
    stopping=st.booleans(),
    columns=st.integers(1, 300),
)
def test_the_line_fits_any_terminal_and_starts_with_what_matters(
    finished, failed, total, rate, limited, stopping, columns
):
    counts = Counts(finished, min(failed, finished), total, 3, stopping, limited)
    drawn = render(NAME, counts, rate, columns)
    assert 0 < len(drawn) <= max(columns - 1, 10)
    assert drawn.startswith((f"{NAME}: {finished}", str(finished)[: max(columns - 1, 10)]))
    assert "\n" not in drawn and "\r" not in drawn
    if columns >= 120 and not stopping:
        assert PROGRESS.search(drawn), drawn  # what the terminal tests look for


# -- the size of the input ----------------------------------------------------------------------

_LINE = st.one_of(
    st.sampled_from(["", " ", "\t", "chatcmpl-a", '{"id": "x"}', "\ufeffchatcmpl-b", "\r", "caf\u00e9"]),
    st.text(alphabet="ab \t\r{}\"'", max_size=12),
)


@given(
    lines=st.lists(_LINE, max_size=30), bom=st.booleans(), final_newline=st.booleans(), skip=st.integers(0, 5)
)
def test_a_file_on_standard_input_holds_as_many_items_as_the_reader_finds(
    tmp_path_factory, lines, bom, final_newline, skip
):
    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    path = tmp_path_factory.mktemp("input") / "ids.txt"
    path.write_bytes(data)
    with open(path, "rb") as stream:
        # Standing part-way (a shell that read a header first): counted from there.
        stream.seek(min(skip, len(data)) if skip and b"\n" in data[:skip] else 0)
        start = stream.tell()
        counter = InputCount(stream)
        deadline = time.monotonic() + 10
        while counter.count() is None and time.monotonic() < deadline and hasattr(os, "pread"):
            time.sleep(0.001)
        assert stream.tell() == start  # the count moved nothing
        expected = len(list(StdinItems(stream)))
    if hasattr(os, "pread"):
        assert counter.count() == expected
    else:
        assert counter.count() is None


def test_a_pipe_or_a_string_has_no_size_to_tell():
    read, write = os.pipe()
    try:
        with os.fdopen(read, "rb") as pipe:
            assert InputCount(pipe).count() is None
    finally:
        os.close(write)
    assert InputCount(io.StringIO("a\nb\n")).count() is None


# -- which terminal ---------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_outputs_share_the_terminal_only_when_it_is_the_same_one(tmp_path):
    import pty

    first_master, first = pty.openpty()
    second_master, second = pty.openpty()
    with (
        open(first, "w", closefd=True) as one,
        open(os.dup(first), "w", closefd=True) as same,
        open(second, "w", closefd=True) as other,
        open(tmp_path / "file", "w") as file,
    ):
        assert same_terminal(one, same)
        assert not same_terminal(one, other)
        assert not same_terminal(file, one) and not same_terminal(one, file)
        assert not same_terminal(io.StringIO(), one)
    os.close(first_master)
    os.close(second_master)


# -- drawing ---------------------------------------------------------------------------------------


def _drawn(monkeypatch, vt: bool, counts: list[Counts]) -> str:
    """What a host's stream receives when the line is drawn for each of ``counts`` in turn."""
    monkeypatch.setattr(progress, "enable_virtual_terminal", lambda stream: vt)
    monkeypatch.setenv("PSOPENAI_PROGRESS_DELAY", "0")
    stream = Tty()
    host = Host(stream)
    now = iter(counts)
    current = [next(now)]
    assert host.begin_progress(NAME, lambda: current[0])
    host.progress_line.restore()
    for step in now:
        current[0] = step
        host.progress_line.restore()
    return stream.getvalue()


@pytest.mark.parametrize("vt", [True, False], ids=["vt", "spaces"])
def test_a_shorter_line_leaves_nothing_of_the_longer_one(monkeypatch, vt):
    shown = _drawn(monkeypatch, vt, [Counts(123456, 1000, None), Counts(7, 0, None)])
    assert ("\x1b" in shown) == vt
    [line] = Screen(columns=120).feed(shown).lines
    assert re.fullmatch(rf"{NAME}: 7, [\d.]+/s, 0 errors *", line), line


def test_a_line_of_the_host_goes_between_the_progress_line_in_one_write(monkeypatch):
    monkeypatch.setenv("PSOPENAI_PROGRESS_DELAY", "0")
    writes: list[str] = []

    class Recording(Tty):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    host = Host(Recording())
    host.begin_progress(NAME, lambda: Counts(3, 1, 10))
    host.progress_line.restore()
    writes.clear()
    host.write_line(f"{NAME}: [chatcmpl-x] failed")
    # Erased, the line, drawn again: one write, so the terminal never shows it missing.
    assert len(writes) == 1
    assert writes[0].startswith("\r\x1b[K" + f"{NAME}: [chatcmpl-x] failed\n\r{NAME}: 3/10 (30%), ")
    assert screen(writes[0])[-1].startswith(f"{NAME}: 3/10 (30%)")
    host.end_progress(NAME, summary=False)


def test_nothing_is_drawn_for_a_single_item_or_before_the_delay(monkeypatch):
    monkeypatch.setenv("PSOPENAI_PROGRESS_DELAY", "0")
    stream = Tty()
    host = Host(stream)
    host.begin_progress(NAME, lambda: Counts(0, 0, 1))
    host.progress_line.restore()
    host.end_progress(NAME, summary=True)
    assert stream.getvalue() == ""
    monkeypatch.setenv("PSOPENAI_PROGRESS_DELAY", "30")
    host.begin_progress(NAME, lambda: Counts(0, 0, 100))
    host.progress_line.restore()
    host.write_line("a line")
    host.end_progress(NAME, summary=True)
    assert stream.getvalue() == "a line\n"  # no line drawn, no summary: the run was short


# -- the terminal model the screen tests rely on ---------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "chunks", "lines", "row"),
    [
        (20, ["abc\r\x1b[Kde"], ["de"], 0),
        (20, ["abc\x1b[", "2Dz"], ["azc"], 0),  # a sequence split between two reads
        (4, ["abcdef"], ["abcd", "ef"], 1),  # wraps at the margin
        (4, ["abcd\r\x1b[K"], [""], 0),  # text up to the last column does not wrap by itself
        (20, ["one\ntwo\x1b[1A\r\x1b[2K"], ["", "two"], 0),
        (20, ["ab\x1b[1Kc"], ["  c"], 0),
        (20, ["\x1b[31mred\x1b[0m\x1b[?25l"], ["red"], 0),
        (20, ["a\tb"], ["a       b"], 0),
        (20, ["abc\x1b[1G\x1b[0Kx"], ["x"], 0),
    ],
)
def test_the_terminal_model(columns, chunks, lines, row):
    term = Screen(columns=columns, rows=5)
    for chunk in chunks:
        term.feed(chunk)
    assert term.lines == lines and term.row == row
