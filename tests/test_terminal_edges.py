"""The command line at the edges of terminal use, as a first-time Windows user meets them and as
malformed input arrives: Windows help habits, typos, prompt answers that are not answers, a
closed terminal at a prompt, a reader that goes away, a resized or dumb terminal, over-long
input lines, and the Windows branches of the terminal code (selected by monkeypatching, since
they cannot run here)."""

from __future__ import annotations

import fcntl
import io
import json
import os
import select
import struct
import subprocess
import sys
import termios
import time
from types import SimpleNamespace

import pytest

from psopenai_py import cli_shell
from psopenai_py.emulator import Emulator
from psopenai_py.powershell import cli, terminal
from psopenai_py.powershell import stdin as stdin_items
from psopenai_py.powershell.host import Host
from psopenai_py.powershell.output import format_output
from psopenai_py.powershell.progress import Counts
from tests.screen import screen
from tests.terminal_run import controlling_terminal
from tests.test_terminal import PROGRESS, _posts, run_in_pty

KEY = "sk-edge-00000000000000000000000000"


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    return {**os.environ, "OPENAI_API_BASE": emulator.url, "OPENAI_API_KEY": KEY, "PYTHONPATH": os.getcwd()}


@pytest.fixture
def three(emulator: Emulator) -> list[str]:
    return emulator.store.seed(3, prefix="chatcmpl-edge-")


def _run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


# -- first contact ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["Remove-ChatCompletion", "/?"],
        ["Set-ChatCompletion", "/?", "-MetaData", "@{a='b'}"],
        ["Get-ChatCompletion", "chatcmpl-x", "/?"],
        ["Remove-ChatCompletion", "chatcmpl-x", "-Help"],
        ["Request-ChatCompletion", "hello", "-help"],
    ],
)
def test_windows_slash_question_mark_shows_help_and_sends_nothing(emulator, monkeypatch, argv):
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    status, out, err = _run(argv)
    assert status == 0, err
    assert argv[0] in out and "SYNTAX" in out.upper()
    assert emulator.requests == []


def test_slash_question_mark_alone_shows_the_usage():
    status, out, _ = _run(["/?"])
    assert status == 0 and out.startswith("usage: psopenai")


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["Set-ChatCompletoin"], "Set-ChatCompletion"),
        (["get-chatcompletions"], "Get-ChatCompletion"),
        (["Remove-ChatCompletoin", "chatcmpl-x"], "Remove-ChatCompletion"),
        (["help", "Set-ChatCompletoin"], "Set-ChatCompletion"),
        (["emulater"], "emulator"),
    ],
)
def test_a_mistyped_command_suggests_the_nearest(argv, suggestion):
    status, _, err = _run(argv)
    assert status == 2
    assert f"Did you mean '{suggestion}'?" in err
    assert len(err.strip().splitlines()) == 1


def test_a_command_far_from_any_suggests_nothing():
    status, _, err = _run(["Frobnicate-Everything"])
    assert status == 2 and "Did you mean" not in err


def test_help_for_a_parameter_that_does_not_exist_is_an_error():
    status, out, err = _run(["help", "Set-ChatCompletion", "-Parameter", "Nope"])
    assert (status, out) == (2, "")
    assert err == "psopenai help: No parameter of Set-ChatCompletion matches 'Nope'.\n"
    assert _run(["help", "Set-ChatCompletion", "-Parameter", "Meta*"])[0] == 0


@pytest.mark.parametrize("literal", ["@{", "@{a='b'", "@{a=}"])
def test_a_literal_syntax_error_is_one_readable_line(literal):
    status, _, err = _run(["Set-ChatCompletion", "chatcmpl-x", "-MetaData", literal])
    assert status == 2
    assert len(err.splitlines()) == 1 and "\\x0a" not in err, err
    assert err.startswith(
        "Set-ChatCompletion: Cannot process argument transformation on parameter 'MetaData'."
    )
    assert "(at position " in err


@pytest.mark.parametrize(
    "argv",
    [
        ["Set-ChatCompletion", "chatcmpl-x", "-MetaData", "System.Collections.Hashtable"],
        ["Get-ChatCompletion", "-MetaData", "System.Collections.Hashtable"],
    ],
)
def test_a_hashtable_powershell_passed_as_its_type_name_gets_a_hint(emulator, monkeypatch, argv):
    # In PowerShell, `psopenai ... -MetaData @{a='b'}` hands the native command the text
    # "System.Collections.Hashtable".
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    status, _, err = _run(argv)
    assert status == 2 and emulator.requests == []
    assert len(err.splitlines()) == 1
    assert "PowerShell passes a hashtable to a native command as its type name: quote the literal" in err


def test_a_missing_pipeline_value_with_stdin_a_terminal_says_how_to_give_it(env, emulator):
    status, screen_text = run_in_pty(["Set-ChatCompletion", "-MetaData", "@{}"], env)
    assert status == 2 and emulator.requests == []
    lines = [line for line in screen(screen_text) if line]
    assert lines == [
        "Set-ChatCompletion: Cannot process command because of one or more missing mandatory "
        "parameters: CompletionId. Give CompletionId as an argument, or pipe values on stdin, one per line."
    ]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["Set-ChatCompletion", "chatcmpl-\udcff", "-MetaData", "@{}"], "the argument 1"),
        (["Set-ChatCompletion", "chatcmpl-x", "-MetaData", "@{a='\udcff'}"], "parameter 'MetaData'"),
        (["Set-ChatCompletion", "-CompletionId:x\udcfe", "-MetaData", "@{}"], "parameter 'CompletionId'"),
    ],
)
def test_an_argument_that_is_not_utf8_is_a_binding_error_and_nothing_is_sent(
    emulator, monkeypatch, argv, named
):
    # What Python makes of the bytes of `psopenai Set-ChatCompletion $'chatcmpl-\xff'` on POSIX.
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    status, _, err = _run(argv)
    assert status == 2 and emulator.requests == []
    assert len(err.splitlines()) == 1 and named in err and "not valid UTF-8" in err
    assert "Unexpected" not in err and "\\udc" not in err
    assert "\\xff" in err or "\\xfe" in err  # the byte, shown as the shell would


# -- -Confirm answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "sent"),
    [
        (["yolo", "n", "n", "n"], []),  # not an answer: asked again, not taken as Yes
        (["all of them", "n", "n", "n"], []),
        (["nah", "y", "n", "n"], [0]),
        (["Yes", "No", "Yes to All"], [0, 2]),  # the labels are answers too, as in PowerShell
        (["no to all"], []),
    ],
)
def test_confirm_takes_a_hotkey_or_a_label_never_a_word_that_begins_like_one(
    env, emulator, three, answers, sent
):
    status, screen_text = run_in_pty(
        ["Set-ChatCompletion", "-MetaData", "@{ok='1'}", "-Confirm", "--format", "json"],
        env,
        stdin="\n".join(three) + "\n",
        answers=answers,
    )
    assert status == 0, screen_text
    assert _posts(emulator) == [three[i] for i in sent]


def test_ctrl_d_at_the_confirm_prompt_stops_and_accounts_for_every_item(env, emulator, three):
    status, screen_text = run_in_pty(
        ["Set-ChatCompletion", "-MetaData", "@{}", "-Confirm", "--format", "json"],
        env,
        stdin="\n".join(three) + "\n",
        answers=["y", "\x04"],
    )
    assert _posts(emulator) == three[:1]
    assert "there is no terminal" not in screen_text and "Traceback" not in screen_text
    lines = [line for line in screen(screen_text) if line]
    # The summary starts its own line, not the prompt's.
    assert lines[-1] == "interrupted: 1 done, 0 failed, 2 not sent", lines
    assert status == 130


def test_ctrl_d_at_an_inquire_prompt_stops(env, emulator, three):
    ids = [three[0], "chatcmpl-missing", three[1], three[2]]
    status, screen_text = run_in_pty(
        ["Set-ChatCompletion", "-MetaData", "@{}", "-ErrorAction", "Inquire", "--format", "json"],
        env,
        stdin="\n".join(ids) + "\n",
        answers=["\x04"],
    )
    assert status == 130, screen_text
    assert _posts(emulator) == ids[:2]
    assert screen(screen_text)[-2] == "interrupted: 1 done, 1 failed, 2 not sent"


# -- a reader that goes away -----------------------------------------------------------------------


def test_output_closed_early_accounts_for_every_item(env, emulator):
    ids = emulator.store.seed(40, prefix="chatcmpl-pipe-")
    child = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", "Set-ChatCompletion", "-MetaData", "@{}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    child.stdin.write(("\n".join(ids) + "\n").encode())
    child.stdin.close()
    for _ in range(3):  # `| head -3`
        json.loads(child.stdout.readline())
    child.stdout.close()
    err = child.stderr.read().decode()
    status = child.wait(20)
    assert "Traceback" not in err and "BrokenPipe" not in err
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("psopenai: the output was closed: "), err
    numbers = [int(word) for word in summary.replace(",", "").split() if word.isdigit()]
    done, failed, not_sent = numbers
    assert done + failed + not_sent == 40
    assert len(_posts(emulator)) == done + failed
    assert status == 1


def test_error_action_stop_accounts_for_the_items_it_never_sent(emulator, monkeypatch):
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    ids = emulator.store.seed(3, prefix="chatcmpl-stop-")
    status, out, err = _run(
        ["Set-ChatCompletion", "-MetaData", "@{}", "-ErrorAction", "Stop"],
        f"{ids[0]}\nchatcmpl-gone\n{ids[1]}\n{ids[2]}\n",
    )
    assert status == 1
    assert len(out.splitlines()) == 1
    assert err.splitlines() == [
        "Set-ChatCompletion: [chatcmpl-gone] OpenAI API returned an 404 (Not Found) Error: No chat "
        "completion found with id 'chatcmpl-gone'.",
        "stopped: 1 done, 1 failed, 2 not sent",
    ]


def test_sigterm_stops_like_ctrl_c_and_accounts_for_every_item(env, emulator):
    import signal

    ids = emulator.store.seed(100, prefix="chatcmpl-term-")
    emulator.latency_ms = 20
    child = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", "Set-ChatCompletion", "-MetaData", "@{}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(("\n".join(ids) + "\n").encode())
    child.stdin.close()
    child.stdin = None  # closed: communicate() must not flush it
    child.stdout.readline()  # the run is under way
    child.send_signal(signal.SIGTERM)  # what `timeout`, `docker stop` and service managers send
    out, err = child.communicate(timeout=10)
    assert child.returncode == 143, err
    assert "Traceback" not in err.decode()
    summary = err.decode().strip().splitlines()[-1]
    assert summary.startswith("terminated: "), err
    done, failed, not_sent = (int(w) for w in summary.replace(",", "").split() if w.isdigit())
    assert done + failed + not_sent == 100 and done == 1 + len(out.splitlines())
    assert len(_posts(emulator)) == done + failed


def test_the_stop_signals_are_chosen_by_platform(monkeypatch):
    import signal

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(signal, "SIGBREAK", 21, raising=False)
    assert cli_shell.stop_signals() == [signal.SIGINT, signal.SIGTERM, 21]
    monkeypatch.setattr(sys, "platform", "linux")
    assert cli_shell.stop_signals() == [signal.SIGINT, signal.SIGTERM]


# -- progress on odd terminals ---------------------------------------------------------------------


def _run_progress(
    env: dict[str, str],
    ids: list[str],
    *,
    columns: int,
    stdout_to_file: bool,
    interrupt: bool = False,
) -> tuple[int, str]:
    """Set-ChatCompletion with stderr on a pty of ``columns`` columns (its controlling terminal);
    with ``interrupt``, Ctrl-C is typed once progress shows.  Returns the status and what the
    terminal received."""
    import pty

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    sink = open(os.devnull, "wb") if stdout_to_file else None  # noqa: SIM115 - closed below
    child = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", "Set-ChatCompletion", "-MetaData", "@{}", "--format", "json"],
        stdin=subprocess.PIPE,
        stdout=sink if sink is not None else slave,
        stderr=slave,
        env={**env, "PSOPENAI_PROGRESS_DELAY": "0", "COLUMNS": ""},
        start_new_session=True,
        preexec_fn=controlling_terminal,
    )
    os.close(slave)
    assert child.stdin is not None
    child.stdin.write(("\n".join(ids) + "\n").encode())
    child.stdin.close()
    received = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            received += chunk
            if interrupt and b"/s, " in received:
                os.write(master, b"\x03")  # typed: the line discipline echoes ^C and sends SIGINT
                interrupt = False
        elif child.poll() is not None:
            break
    status = child.wait(5)
    os.close(master)
    if sink is not None:
        sink.close()
    return status, received.decode("utf-8", "replace")


def test_progress_fits_the_terminal_it_is_drawn_on_when_stdout_is_a_file(env, emulator):
    ids = emulator.store.seed(16, prefix="chatcmpl-narrow-")
    emulator.latency_ms = 30
    _, text = _run_progress(env, ids, columns=30, stdout_to_file=True)
    # Every drawing of the progress line; the summary, a line of its own, may wrap as any line.
    drawn = [
        part
        for part in text.replace("\x1b[K", "\r").split("\r")
        if (PROGRESS.search(part) or "/s" in part) and " done, " not in part
    ]
    assert drawn, text
    assert max(len(part) for part in drawn) < 30, drawn


def test_a_dumb_terminal_gets_no_escape_sequences(env, emulator):
    ids = emulator.store.seed(12, prefix="chatcmpl-dumb-")
    emulator.latency_ms = 30
    _, text = _run_progress({**env, "TERM": "dumb"}, ids, columns=80, stdout_to_file=True)
    assert "/s, " in text, "progress is still drawn, as plain text"
    assert "\x1b" not in text
    left = [line for line in screen(text) if line.strip()]
    assert len(left) == 1 and left[0].startswith("Set-ChatCompletion: 12 done, "), "erased for the summary"


def test_ctrl_c_during_progress_leaves_one_clean_summary_line(env, emulator):
    ids = emulator.store.seed(200, prefix="chatcmpl-int-")
    emulator.latency_ms = 20
    status, text = _run_progress(env, ids, columns=80, stdout_to_file=True, interrupt=True)
    assert status == 130, text
    lines = [line for line in screen(text) if line.strip()]
    # At most the notice of what is being finished, then the summary: clean lines, not "^C...".
    assert lines[-1].startswith("interrupted: ") and len(lines) <= 2, lines
    assert all(line.startswith("stopping: finishing ") for line in lines[:-1]), lines
    done, failed, not_sent = (int(w) for w in lines[-1].replace(",", "").split() if w.isdigit())
    assert done + failed + not_sent == 200 and len(_posts(emulator)) == done + failed


def test_the_interrupted_line_erases_the_echoed_ctrl_c():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    host = Host(err)
    err.write("^C")  # the terminal's echo of Ctrl-C, after the progress line was erased
    host.write_notice(f"interrupted: {host.tally()}")
    assert screen(err.getvalue()) == ["interrupted: 0 done, 0 failed, 0 not sent", ""]


def test_json_output_escapes_del_and_c1_controls_as_it_does_c0():
    value = {"id": "chatcmpl-x", "metadata": {"k": "a\x9b31mRED\x1b[0m\x7f\x85"}}
    line = format_output(value, "json")
    assert not [c for c in line if 0x7F <= ord(c) <= 0x9F or (ord(c) < 0x20 and c != "\n")]
    assert json.loads(line) == value
    assert "\\u009b31m" in line


# -- stdin -----------------------------------------------------------------------------------------


def test_an_over_long_stdin_line_fails_alone_and_is_never_sent(emulator, monkeypatch):
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    good = emulator.store.seed(2, prefix="chatcmpl-long-")
    data = (good[0] + "\n" + "chatcmpl-" + "a" * (3 << 20) + "\n" + good[1] + "\n").encode()
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(["Set-ChatCompletion", "-MetaData", "@{}"], stdin=stdin, stdout=out, stderr=err)
    assert status == 1
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == good
    assert err.getvalue().startswith("Set-ChatCompletion: [line 2] The input line 2 is longer than")
    assert len(err.getvalue().splitlines()) == 1
    assert _posts(emulator) == good


def test_stdin_lines_are_read_with_a_bound():
    big = b"x" * (stdin_items.MAX_LINE_BYTES * 2 + 5) + b"\nchatcmpl-ok\n"

    class Recording(io.BytesIO):
        largest = 0

        def readline(self, size: int | None = -1) -> bytes:
            line = super().readline(size)
            Recording.largest = max(Recording.largest, len(line))
            return line

    stream = SimpleNamespace(buffer=Recording(big))
    items = list(stdin_items.StdinItems(stream))
    assert items[1] == "chatcmpl-ok" and "longer than" in str(items[0])
    assert Recording.largest <= stdin_items.MAX_LINE_BYTES + 1


# -- Windows branches, selected by monkeypatching --------------------------------------------------


def test_the_prompt_uses_the_console_on_windows(monkeypatch):
    opened: list[str] = []

    def fake_open(name: str, mode: str = "r", **kwargs: object) -> io.StringIO:
        opened.append(name)
        return io.StringIO("y\r\n") if "w" not in mode else io.StringIO()

    monkeypatch.setattr(terminal, "os", SimpleNamespace(name="nt"))
    monkeypatch.setattr(terminal, "open", fake_open, raising=False)
    assert terminal.ControllingTerminal().ask("? ") == "y"
    assert sorted(opened) == ["CONIN$", "CONOUT$"]


def test_the_prompt_uses_dev_tty_elsewhere(monkeypatch):
    opened: list[str] = []

    def fake_open(name: str, mode: str = "r", **kwargs: object) -> io.StringIO:
        opened.append(name)
        return io.StringIO("n\n") if "w" not in mode else io.StringIO()

    monkeypatch.setattr(terminal, "os", SimpleNamespace(name="posix"))
    monkeypatch.setattr(terminal, "open", fake_open, raising=False)
    assert terminal.ControllingTerminal().ask("? ") == "n"
    assert opened == ["/dev/tty", "/dev/tty"]


def test_a_windows_console_without_vt_mode_is_erased_with_spaces(monkeypatch):
    monkeypatch.setattr(terminal, "os", SimpleNamespace(name="nt", environ={}))
    # No ctypes.windll here: enabling VT mode fails, as on an old console, and says so.
    assert terminal.enable_virtual_terminal(io.StringIO()) is False


def test_dumb_terminals_are_not_vt(monkeypatch):
    monkeypatch.setattr(terminal, "os", SimpleNamespace(name="posix", environ={"TERM": "dumb"}))
    assert terminal.enable_virtual_terminal(io.StringIO()) is False
    monkeypatch.setattr(terminal, "os", SimpleNamespace(name="posix", environ={"TERM": "xterm"}))
    assert terminal.enable_virtual_terminal(io.StringIO()) is True


def test_progress_erases_with_spaces_without_vt(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    host = Host(stream)
    monkeypatch.setattr("psopenai_py.powershell.progress.enable_virtual_terminal", lambda s: False)
    monkeypatch.setenv("PSOPENAI_PROGRESS_DELAY", "0")
    assert host.begin_progress("Set-ChatCompletion", lambda: Counts(finished=3, failed=0, total=10))
    host.progress_line.restore()
    host.end_progress("Set-ChatCompletion", summary=False)
    shown = stream.getvalue()
    assert "\x1b" not in shown and "Set-ChatCompletion: 3/10 (30%), " in shown
    assert screen(shown)[0].strip() == ""  # overwritten with blanks: only blanks remain


def test_terminal_width_comes_from_the_progress_stream(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

        def fileno(self) -> int:
            return 99

    seen: list[int] = []

    def size(fd: int) -> os.terminal_size:
        seen.append(fd)
        return os.terminal_size((20, 5))

    monkeypatch.setattr(os, "get_terminal_size", size)
    monkeypatch.setenv("PSOPENAI_PROGRESS_DELAY", "0")
    monkeypatch.setattr(terminal, "os", SimpleNamespace(name="posix", environ={"TERM": "xterm"}))
    stream = Tty()
    host = Host(stream)
    host.begin_progress("Set-ChatCompletion", lambda: Counts(finished=123456, failed=0, total=None))
    host.progress_line.restore()
    assert set(seen) == {99}
    drawn = screen(stream.getvalue())[0]
    assert drawn.startswith("123456") and len(drawn) <= 19, drawn  # the name left out to fit
    host.end_progress("Set-ChatCompletion", summary=False)


@pytest.mark.parametrize(
    "bad", ["chatcmpl-\x1b[31mred", "\x00chatcmpl-x", "chatcmpl-" + "a" * 100_000], ids=["esc", "nul", "long"]
)
def test_an_id_no_server_could_hold_is_refused_before_sending(emulator, monkeypatch, bad):
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    status, _, err = _run(["Set-ChatCompletion", "-MetaData", "@{}"], bad + "\n")
    assert emulator.requests == []
    assert status == 1 and "CompletionId" in err and "\x1b" not in err


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [
        (["Set-ChatCompletion", "chatcmpl-x", "-MetaData", '{"a":"\\ud800"}'], ""),
        (["Set-ChatCompletion", "-MetaData", "@{}"], '{"id":"chatcmpl-\\ud800"}\n'),
    ],
    ids=["metadata", "piped-id"],
)
def test_a_lone_surrogate_from_a_json_escape_is_a_binding_error(emulator, monkeypatch, argv, stdin):
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    status, _, err = _run(argv, stdin)
    assert "Unexpected" not in err
    assert ("MetaData" in err and status == 2) or ("CompletionId" in err and status == 1)
