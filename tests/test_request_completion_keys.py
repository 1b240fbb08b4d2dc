"""Request-ChatCompletion's own fields (Message, History) are data the user gave, shown again in
its output: a key in play typed into a message shows there no more than in the answer's fields."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from psopenai_py.emulator import Emulator

KEY = "sk-proj-TYPEDinMESSAGE0123456789abcdefghijklmnopqrst"


def fragments(key: str) -> list[str]:
    body = key.removeprefix("sk-proj-")
    return [body[i : i + 4] for i in range(len(body) - 3)]


@pytest.mark.parametrize(
    "args",
    [
        ["-Message", KEY],
        ["-Message", f"my key is {KEY}"],
        ["-Message", "hi", "-SystemMessage", KEY],
    ],
    ids=["message", "inside a message", "system message"],
)
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_key_typed_into_a_message_is_not_shown_in_the_output(emulator: Emulator, args, fmt):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI_"))}
    env.update(OPENAI_API_BASE=emulator.url, OPENAI_API_KEY=KEY)
    done = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "--format", fmt, "Request-ChatCompletion", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    shown = done.stdout + done.stderr
    assert not [f for f in fragments(KEY) if f in shown], shown
    if fmt == "json":
        # The output is still the completion, with its Message and History.
        result = json.loads(done.stdout)
        assert result["object"] == "chat.completion" and result["History"]
