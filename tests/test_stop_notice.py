"""The first stop signal says at once what it is doing, for every bulk command and for SIGTERM as
for Ctrl-C: how many requests in flight it is finishing, and that a second signal quits now.
(tests/test_process_shell.py types the Ctrl-C on a real terminal, for Set-ChatCompletion.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from psopenai_py.emulator import Emulator

KEY = "sk-emulator-stop-notice-0a1b2c3d4e5f6g7h8i9j"
INTERRUPTED = ("stopping", "Ctrl-C", "interrupted", 130)
TERMINATED = ("terminating", "SIGTERM", "terminated", 143)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals sent to a child")
@pytest.mark.parametrize(
    ("command", "extra", "sent", "words"),
    [
        ("Remove-ChatCompletion", [], signal.SIGINT, ("stopping", "Ctrl-C", "interrupted", 130)),
        ("Get-ChatCompletion", [], signal.SIGINT, ("stopping", "Ctrl-C", "interrupted", 130)),
        (
            "Set-ChatCompletion",
            ["-MetaData", "@{}"],
            signal.SIGTERM,
            ("terminating", "SIGTERM", "terminated", 143),
        ),
    ],
)
def test_the_first_signal_says_what_it_finishes(emulator: Emulator, command, extra, sent, words):
    ids = emulator.store.seed(9, prefix="chatcmpl-stop-")
    emulator.latency_ms = 1500  # three requests stay in flight well after the signal
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_API_BASE=emulator.url, OPENAI_API_KEY=KEY)
    child = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", command, *extra, "-ThrottleLimit", "3", "--format", "json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert child.stdin is not None
    child.stdin.write("\n".join(ids) + "\n")
    child.stdin.close()
    child.stdin = None  # written and closed: communicate() must not flush it
    deadline = time.monotonic() + 30
    while len(emulator.requests) < 3:
        assert time.monotonic() < deadline and child.poll() is None, "three requests never arrived"
        time.sleep(0.02)
    child.send_signal(sent)
    _, err = child.communicate(timeout=30)
    doing, again, ended, status = words
    assert err.splitlines() == [
        f"{doing}: finishing 3 requests in flight; a second {again} quits now",
        f"{ended}: 3 done, 0 failed, 6 not sent",
    ]
    assert child.returncode == status
