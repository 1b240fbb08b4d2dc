"""The emulator explains itself: its help shows how to seed, inject faults and add latency (and
those lines work), ``--stored N`` starts it with N completions, and the start lines are the
exact shell lines that point every dialect at it."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from psopenai_py.emulator import Emulator, Fault
from psopenai_py.emulator.__main__ import EMULATOR_KEY, main, shell_lines

PYTHON = [sys.executable, "-m", "psopenai_py"]


def _help(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--help"], prog="psopenai emulator") == 0
    return capsys.readouterr().out


def test_help_explains_seeding_faults_and_latency(capsys):
    text = _help(capsys)
    for heading in ("seed stored completions:", "inject faults", "add latency to every answer:"):
        assert f"\n{heading}" in text
    assert "--stored N" in text and "--latency-ms" in text
    (fields,) = re.findall(r"^  fields: (.*)$", text, re.M)
    assert fields.split(", ") == [f.name for f in dataclasses.fields(Fault)]
    assert "export OPENAI_API_BASE=http://127.0.0.1:8080/v1 OPENAI_API_KEY=" in text


def _curl_lines(text: str) -> list[list[str]]:
    """Each ``curl ...`` of the help as its words (two on one line are two commands)."""
    commands = []
    for line in text.splitlines():
        for part in re.split(r"\s{3,}(?=curl )", line.strip()):
            if part.startswith("curl "):
                commands.append(shlex.split(part))
    return commands


def test_every_curl_line_of_the_help_works(capsys):
    """Each control-API line of the help, sent as curl would send it (``--json`` is a POST with a
    JSON body, ``-X POST`` a POST), to an emulator on the port the help names."""
    commands = _curl_lines(_help(capsys))
    assert len(commands) >= 9
    with Emulator() as emulator:
        root = f"http://127.0.0.1:{emulator.port}"
        seen = []
        for words in commands:
            (url,) = [w.replace("http://127.0.0.1:8080", root) for w in words if w.startswith("http")]
            body = words[words.index("--json") + 1] if "--json" in words else None
            if body is not None:
                answer = requests.post(
                    url, data=body, headers={"Content-Type": "application/json"}, timeout=10
                )
            elif "-X" in words:
                answer = requests.request(words[words.index("-X") + 1], url, timeout=10)
            else:
                answer = requests.get(url, timeout=10)
            assert answer.status_code == 200, (words, answer.text)
            seen.append(url.rsplit("/", 1)[1])
            if url.endswith("/stats"):  # the lines before it did what they say
                stats = answer.json()
                assert (stats["stored"], stats["faults"], emulator.latency_ms) == (100, 4, 200)
                first = emulator.store.get("chatcmpl-seed-000000")
                assert first is not None and first["metadata"] == {"team": "ops"}
        assert {"seed", "faults", "latency", "stats", "requests", "reset"} <= set(seen)
        assert len(emulator.store) == 0  # the last line, reset


# -- the start lines ------------------------------------------------------------------------------


@pytest.fixture
def started() -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """``psopenai emulator --port 0 --stored 3`` in its own process, and its start lines."""
    child = subprocess.Popen(
        [*PYTHON, "emulator", "--port", "0", "--stored", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        lines = [child.stdout.readline().rstrip("\n") for _ in range(5)]
        yield child, lines
    finally:
        child.terminate()
        child.communicate(timeout=10)


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return env


def test_the_start_lines_say_what_is_stored_and_how_to_point_a_shell_at_it(started):
    _, lines = started
    url = re.fullmatch(r"psopenai emulator listening on (http://127\.0\.0\.1:\d+/v1)", lines[0])
    assert url is not None, lines
    base = url.group(1)
    assert lines[1] == "# stored 3 completions: chatcmpl-seed-000000 to chatcmpl-seed-000002"
    assert lines[2].startswith("# ")
    assert lines[3] == f"export OPENAI_API_BASE={base} OPENAI_API_KEY={EMULATOR_KEY}"
    assert lines[4] == f"export OPENAI_BASE_URL={base}"


@pytest.mark.skipif(sys.platform == "win32", reason="the start lines are PowerShell's there")
@pytest.mark.parametrize(
    "command",
    [
        "Get-ChatCompletion -All -NoHistory --format json",
        "chat:completions list --format jsonl",
        "python-sdk",
    ],
    ids=["PSOpenAI's words", "the openai CLI's words", "the SDK's calls"],
)
def test_the_start_lines_pasted_into_a_shell_reach_the_emulator(started, command):
    _, lines = started
    if command == "python-sdk":
        code = "from psopenai_py import OpenAI; [print(c.id) for c in OpenAI().chat.completions.list()]"
        run = f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"
    else:
        run = " ".join([*map(shlex.quote, PYTHON), command])
    script = "\n".join([*lines[1:], run])  # what a user pastes, comments included
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60, env=_clean_env())
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr  # both names set, to the same server
    ids = [json.loads(line)["id"] if line.startswith("{") else line for line in done.stdout.splitlines()]
    assert ids == [f"chatcmpl-seed-{n:06d}" for n in range(3)]


@pytest.mark.parametrize(
    ("url", "key", "windows", "expected"),
    [
        (
            "http://127.0.0.1:8080/v1",
            None,
            False,
            [
                f"export OPENAI_API_BASE=http://127.0.0.1:8080/v1 OPENAI_API_KEY={EMULATOR_KEY}",
                "export OPENAI_BASE_URL=http://127.0.0.1:8080/v1",
            ],
        ),
        (
            "http://127.0.0.1:8080/v1",
            None,
            True,
            [
                f"$env:OPENAI_API_BASE = 'http://127.0.0.1:8080/v1'; $env:OPENAI_API_KEY = '{EMULATOR_KEY}'",
                "$env:OPENAI_BASE_URL = 'http://127.0.0.1:8080/v1'",
            ],
        ),
        (
            "http://127.0.0.1:9/v1",
            "sk-my-own-emulator-key-0123456789",
            False,
            ["export OPENAI_API_BASE=http://127.0.0.1:9/v1", "export OPENAI_BASE_URL=http://127.0.0.1:9/v1"],
        ),
        (
            "http://127.0.0.1:9/v1",
            "sk-my-own-emulator-key-0123456789",
            True,
            [
                "$env:OPENAI_API_BASE = 'http://127.0.0.1:9/v1'",
                "$env:OPENAI_BASE_URL = 'http://127.0.0.1:9/v1'",
            ],
        ),
    ],
    ids=["sh", "PowerShell", "sh, --api-key", "PowerShell, --api-key"],
)
def test_shell_lines(url: str, key: Any, windows: bool, expected: list[str]):
    comment, *lines = shell_lines(url, key, windows=windows)
    assert lines == expected
    assert comment.startswith("# ") and "OPENAI_API_BASE" in comment and "OPENAI_BASE_URL" in comment
    if key is not None:  # the key given to --api-key is never printed
        assert "--api-key" in comment and key not in "\n".join([comment, *lines])


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--stored", "100001"], "argument --stored: expected a number from 0 to 100000, got '100001'"),
        (["--stored", "-1"], "argument --stored: expected a number from 0 to 100000, got '-1'"),
        (["--stored", "x"], "argument --stored: invalid int value: 'x'"),
        (["--stored", "10", "--max-stored", "5"], "--stored 10: The emulator stores at most 5 completions"),
    ],
)
def test_a_bad_stored_count_is_one_line_and_exit_2(capsys, argv, problem):
    assert main(["--port", "0", *argv], prog="psopenai emulator") == 2
    captured = capsys.readouterr()
    assert problem in captured.err and "Traceback" not in captured.err
    assert captured.out == ""
