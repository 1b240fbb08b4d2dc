"""``psopenai Set-OpenAISecret`` at a terminal: a machine with no OS keyring says so before the
key is asked for (nobody pastes a key only to hear it cannot be kept), and Ctrl-C at the prompt
ends the prompt's line before the interrupted line.  Run in a real pseudo-terminal."""

from __future__ import annotations

import os
import select
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend

from psopenai_py import keyring_store
from psopenai_py.errors import SecretStoreError
from tests.screen import screen

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-proj-Pr0mptK3yAbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
PROMPT = b"ApiKey: "


class TerminalKeyring(KeyringBackend):
    """A usable backend for the child process (PYTHON_KEYRING_BACKEND names it): in memory."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


def at_terminal(backend: str, answer: Any) -> tuple[int, bytes]:
    """Run ``psopenai Set-OpenAISecret`` on a new pseudo-terminal (its controlling terminal) with
    this keyring backend; when the prompt shows, ``answer(fd)`` types at it.  Returns the exit
    status and everything the terminal received."""
    import pty

    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "PYTHON_KEYRING_BACKEND": backend,
        "TERM": "xterm",
    }
    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.environ.clear()
        os.environ.update(env)
        os.execvp(sys.executable, [sys.executable, "-m", "psopenai_py", "Set-OpenAISecret"])
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            ready, _, _ = select.select([fd], [], [], 1)
            chunk = os.read(fd, 65536) if ready else b""
        except OSError:  # the child has exited and closed the terminal
            break
        if ready and not chunk:
            break
        output += chunk
        if not answered and output.endswith(PROMPT):
            answered = True
            time.sleep(0.2)  # getpass turns echo off after writing the prompt
            answer(fd)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output


def type_the_key(fd: int) -> None:
    os.write(fd, KEY.encode() + b"\r")


@pytest.mark.parametrize("backend", ["keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"])
def test_no_keyring_is_said_before_the_key_is_asked_for(backend: str) -> None:
    status, output = at_terminal(backend, type_the_key)
    text = output.decode("utf-8", "replace")
    assert PROMPT not in output, text
    assert text.startswith("Set-OpenAISecret: No usable OS keyring backend"), text
    assert "nothing was stored" in text and KEY[12:20] not in text
    assert status == 1


def test_ctrl_c_at_the_prompt_ends_its_line_first() -> None:
    status, output = at_terminal("tests.test_secret_prompt.TerminalKeyring", lambda fd: os.write(fd, b"\x03"))
    lines = [line for line in screen(output.decode("utf-8", "replace").replace("\r\n", "\n")) if line]
    assert lines[0].rstrip() == "ApiKey:", lines
    assert lines[1].startswith("interrupted"), lines
    assert status == 130


def test_the_check_before_asking_is_the_check_of_storing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    import keyring

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    with pytest.raises(SecretStoreError) as before:
        keyring_store.check_can_store()
    with pytest.raises(SecretStoreError) as storing:
        keyring_store.store("OPENAI_API_KEY", KEY)
    assert str(before.value) == str(storing.value)
    assert KEY not in str(storing.value)
