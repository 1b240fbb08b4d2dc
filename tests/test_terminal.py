"""The command line as a terminal program, run in a real pseudo-terminal against the emulator:
help flags, -Confirm prompts read from the controlling terminal while stdin carries the
pipeline, and progress lines that never share a line with output and never stay behind."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from psopenai_py.emulator import Emulator
from tests.screen import screen

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

KEY = "sk-tty-00000000000000000000000000"
PROGRESS = re.compile(r"\d+(/\d+ \(\d+%\))?, [\d.]+/s, \d+ errors?\b")


def _controlling_tty() -> None:  # pragma: no cover - runs in the child
    import fcntl
    import termios

    fcntl.ioctl(1, termios.TIOCSCTTY, 0)  # the pty on stdout becomes the controlling terminal


def run_in_pty(
    args: list[str],
    env: dict[str, str],
    *,
    stdin: str | None = None,
    answers: list[str] = (),  # type: ignore[assignment]
    keys: Callable[[str], bytes] | None = None,
    timeout: float = 20.0,
) -> tuple[int, str]:
    """Run ``python -m psopenai_py args`` with stdout and stderr on a new pty that is its
    controlling terminal, stdin a pipe (when given) or the pty; answer each prompt in turn, and
    type what ``keys`` returns for the text received so far (asked every 50 ms).
    Returns the exit status and everything the terminal received."""
    import pty

    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", *args],
        stdin=subprocess.PIPE if stdin is not None else slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        preexec_fn=_controlling_tty,
    )
    os.close(slave)
    if stdin is not None:
        assert child.stdin is not None
        child.stdin.write(stdin.encode())
        child.stdin.close()
    received = b""
    pending = list(answers)
    asked = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            received += chunk
            prompts = received.count(b'(default is "Y"): ')
            while asked < prompts and pending:
                answer = pending.pop(0)
                # "\x03" is Ctrl-C typed at the terminal: the line discipline sends SIGINT.
                os.write(master, answer.encode() + (b"" if answer == "\x03" else b"\r"))
                asked += 1
        elif child.poll() is not None:
            break
        typed = keys(received.decode("utf-8", "replace")) if keys is not None else b""
        if typed:
            os.write(master, typed)
    else:  # pragma: no cover - a hang is a failure, not a stuck suite
        child.kill()
        raise AssertionError(f"timed out; terminal so far: {received!r}")
    status = child.wait(5)
    os.close(master)
    return status, received.decode("utf-8", "replace")


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    return {**os.environ, "OPENAI_API_BASE": emulator.url, "OPENAI_API_KEY": KEY, "PYTHONPATH": os.getcwd()}


@pytest.mark.parametrize(
    "args",
    [
        ["Remove-ChatCompletion", "--help"],
        ["Remove-ChatCompletion", "-?"],
        ["Remove-ChatCompletion", "-h"],
        ["Request-ChatCompletion", "--help"],
        ["Set-ChatCompletion", "chatcmpl-x", "-MetaData", "@{a='1'}", "-?"],
        ["Get-ChatCompletion", "-Limit", "3", "--help"],
    ],
)
def test_help_flags_show_help_and_send_nothing(env, emulator, args):
    status, screen_text = run_in_pty(args, env)
    assert status == 0, screen_text
    assert args[0] in screen_text and "SYNTAX" in screen_text.upper()
    assert emulator.requests == []


def test_h_is_a_parameter_prefix_where_one_begins_with_h():
    from psopenai_py.commands import find_unit
    from psopenai_py.powershell.cli import _wants_help

    # Request-ChatCompletion has -History: there -h is its prefix, not a help flag.
    request, remove = find_unit("Request-ChatCompletion"), find_unit("Remove-ChatCompletion")
    assert not _wants_help(request, ["hi", "-h"])
    assert _wants_help(request, ["hi", "-?"]) and _wants_help(request, ["--help"])
    assert _wants_help(remove, ["chatcmpl-x", "-h"])
    assert not _wants_help(remove, ["--", "-?"])  # after --, a value


@pytest.fixture
def three(emulator: Emulator) -> list[str]:
    return emulator.store.seed(3, prefix="chatcmpl-ask-")


def _posts(emulator: Emulator) -> list[str]:
    return [r.target.split("?")[0].rsplit("/", 1)[1] for r in emulator.requests if r.method == "POST"]


@pytest.mark.parametrize(
    ("answers", "sent"),
    [
        (["n", "n", "n"], 0),
        (["y", "n", "n"], 1),
        (["a"], 3),
        (["l"], 0),
        (["", "N", "s", "n"], 1),  # Enter is the default Yes; S (Suspend) is not offered: asked again
        (["?", "y", "x", "n", "n"], 1),  # ? shows the help and asks again; an unknown answer too
    ],
)
def test_confirm_asks_on_the_terminal_while_stdin_carries_the_ids(env, emulator, three, answers, sent):
    status, screen_text = run_in_pty(
        ["Set-ChatCompletion", "-MetaData", "@{ok='1'}", "-Confirm", "--format", "json"],
        env,
        stdin="\n".join(three) + "\n",
        answers=answers,
    )
    assert status == 0, screen_text
    assert _posts(emulator) == three[:sent]
    assert "Confirm\r\nAre you sure you want to perform this action?\r\n" in screen_text
    assert f'Performing the operation "Set-ChatCompletion" on target "{three[0]} ' in screen_text
    assert '[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is "Y"): ' in screen_text
    assert "Suspend" not in screen_text  # no nested prompt to suspend to: not offered
    if "?" in answers:
        assert "L - Skip this operation and all subsequent operations." in screen_text
    if "s" in answers:
        assert screen_text.count("Are you sure you want to perform this action?") == len(answers)
    assert [json.loads(line)["id"] for line in screen(screen_text) if line.startswith("{")] == three[:sent]


def test_confirm_without_a_terminal_refuses_and_sends_nothing(env, emulator, three):
    result = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Set-ChatCompletion", three[0], "-MetaData", "@{}", "-Confirm"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        start_new_session=True,  # no controlling terminal
    )
    assert result.returncode == 2
    assert "there is no terminal to ask on" in result.stderr and "Traceback" not in result.stderr
    assert emulator.requests == []


def test_error_action_inquire_asks_and_halt_stops(env, emulator, three):
    ids = [three[0], "chatcmpl-missing", three[1], three[2]]
    status, screen_text = run_in_pty(
        ["Set-ChatCompletion", "-MetaData", "@{}", "-ErrorAction", "Inquire", "--format", "json"],
        env,
        stdin="\n".join(ids) + "\n",
        answers=["h"],
    )
    assert status == 1
    assert "[chatcmpl-missing]" in screen_text and "[H] Halt Command" in screen_text
    assert _posts(emulator) == ids[:2]


def test_bulk_progress_never_shares_a_line_and_gives_way_to_the_summary(env, emulator):
    ids = emulator.store.seed(24, prefix="chatcmpl-prog-")
    emulator.latency_ms = 25
    status, screen_text = run_in_pty(
        ["Set-ChatCompletion", "-MetaData", "@{p='1'}", "--format", "json"],
        {**env, "PSOPENAI_PROGRESS_DELAY": "0"},
        stdin="\n".join([*ids[:12], "chatcmpl-missing", *ids[12:]]) + "\n",
    )
    assert status == 1, screen_text
    assert PROGRESS.search(screen_text), "progress was drawn"
    lines = [line for line in screen(screen_text) if line]
    assert not [line for line in lines if PROGRESS.search(line)], "no progress left on the screen"
    assert [json.loads(line)["id"] for line in lines if line.startswith("{")] == ids
    assert [line for line in lines[:-1] if not line.startswith("{")] == [
        "Set-ChatCompletion: [chatcmpl-missing] OpenAI API returned an 404 (Not Found) Error: No chat "
        "completion found with id 'chatcmpl-missing'."
    ]
    summary = r"Set-ChatCompletion: 24 done, 1 failed, 0 not sent in [\d.]+ s \([\d.]+/s\)"
    assert re.fullmatch(summary, lines[-1]), lines


@pytest.mark.parametrize(
    "switch_off",
    [["-ProgressAction", "SilentlyContinue"], ["-proga", "Ignore"], "PSOPENAI_PROGRESS=0"],
)
def test_progress_can_be_switched_off(env, emulator, switch_off):
    ids = emulator.store.seed(6, prefix="chatcmpl-off-")
    extra = switch_off if isinstance(switch_off, list) else []
    run_env = {**env, "PSOPENAI_PROGRESS_DELAY": "0"}
    if isinstance(switch_off, str):
        run_env["PSOPENAI_PROGRESS"] = "0"
    status, screen_text = run_in_pty(
        ["Set-ChatCompletion", "-MetaData", "@{}", "--format", "json", *extra], run_env, stdin="\n".join(ids)
    )
    assert status == 0, screen_text
    assert not PROGRESS.search(screen_text) and "\x1b[K" not in screen_text
    assert len(_posts(emulator)) == 6


def test_no_progress_for_a_short_run(env, emulator, three):
    status, screen_text = run_in_pty(
        ["Set-ChatCompletion", "-MetaData", "@{}", "--format", "json"], env, stdin="\n".join(three)
    )
    assert status == 0 and not PROGRESS.search(screen_text)


def test_ctrl_c_at_the_confirm_prompt_stops_at_once(env, emulator, three):
    started = time.monotonic()
    status, screen_text = run_in_pty(
        ["Set-ChatCompletion", "-MetaData", "@{}", "-Confirm", "--format", "json"],
        env,
        stdin="\n".join(three) + "\n",
        answers=["y", "\x03"],
    )
    assert time.monotonic() - started < 10
    assert status == 130 and "Traceback" not in screen_text
    assert _posts(emulator) == three[:1]
    assert screen(screen_text)[-2] == "interrupted: 1 done, 0 failed, 2 not sent"
