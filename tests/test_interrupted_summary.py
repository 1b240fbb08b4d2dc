"""A run whose progress showed ends, when interrupted, with its time and rate, also when its
input is a slow pipe (one item read so far, so the run looks like a single item).  A real
subprocess against the emulator, its standard input a pipe the test writes to, its progress as
plain lines on a pipe (``PSOPENAI_PROGRESS=1``), Ctrl-C as SIGINT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from psopenai_py.emulator import Emulator

KEY = "sk-interrupted-000000000000000000000000"


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child is POSIX")
def test_an_interrupted_slow_pipe_run_reports_its_time_and_rate(emulator: Emulator):
    ident = str(emulator.store.create(model="m", messages=[{"role": "user", "content": "x"}])["id"])
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PSOPENAI_"))},
        "OPENAI_API_BASE": emulator.url,
        "OPENAI_API_KEY": KEY,
        "PSOPENAI_PROGRESS": "1",
        "PSOPENAI_PROGRESS_DELAY": "0.2",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", "Set-ChatCompletion", "-MetaData", "@{u='1'}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as run:
        assert run.stdin is not None and run.stderr is not None
        run.stdin.write(ident + "\n")
        run.stdin.flush()  # the second line never comes: the run waits on the pipe
        try:
            seen: list[str] = []
            while not any(line.startswith("Set-ChatCompletion: 1,") for line in seen):
                line = run.stderr.readline()
                assert line, seen  # the progress line shows before the pipe ends
                seen.append(line)
            run.send_signal(signal.SIGINT)
            _, rest = run.communicate(timeout=30)
        finally:
            if run.poll() is None:
                run.kill()
    last = rest.strip().splitlines()[-1]
    assert re.fullmatch(r"interrupted: 1 done, 0 failed, 0 not sent in [0-9.]+ s \([0-9.]+/s\)", last), rest
