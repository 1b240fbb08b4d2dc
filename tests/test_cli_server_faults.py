"""The ``psopenai`` command line against a hostile server: for each case, a bulk run of ids piped
on stdin, and the three invariants checked on what a user sees.

- no traceback on stderr;
- no run of 8 or more characters of the key anywhere in stdout or stderr (the CLI runs with
  ``-Debug``, so every log line is looked at too);
- every input id accounted for exactly once, in input order: as an output line (its id) or as an
  error line naming it (``Set-ChatCompletion: [<id>] ...``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from .hostile_server import HostileServer, Reply, Seen, completion

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-proj-Hx7Lq2Vw9Rt4Kp8Zm3Nc6Bd1Fg5Js0YaEuWiOo"
IDS = [f"chatcmpl-h{index}" for index in range(5)]


def leaks(text: str) -> list[str]:
    """Runs of 8 characters of the key found in ``text`` (past what its masked form shows)."""
    return sorted({KEY[i : i + 8] for i in range(11, len(KEY) - 7) if KEY[i : i + 8] in text})


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def run(server: HostileServer, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(
        OPENAI_API_KEY=KEY,
        OPENAI_API_BASE=server.base_url,
        PYTHONPATH=str(ROOT),
        PYTHONIOENCODING="utf-8",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    args = [sys.executable, "-m", "psopenai_py", "Set-ChatCompletion", "-MetaData", "@{k='v'}", "-Debug"]
    return subprocess.run(
        [*args, *extra],
        input="\n".join(IDS) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        cwd=ROOT,
    )


def accounted(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The ids the run reported, in the order it reported them: outputs and named errors."""
    seen: list[tuple[int, str]] = []
    outputs = [json.loads(line)["id"] for line in result.stdout.splitlines() if line.strip()]
    errors = [
        line.split("[", 1)[1].split("]", 1)[0]
        for line in result.stderr.splitlines()
        if line.startswith("Set-ChatCompletion: [")
    ]
    for ident in IDS:
        count = outputs.count(ident) + errors.count(ident)
        seen.append((count, ident))
    assert all(count == 1 for count, _ in seen), seen
    # Outputs and errors each keep the input order.
    assert outputs == [i for i in IDS if i in outputs]
    assert errors == [i for i in IDS if i in errors]
    return outputs + errors


def echo(seen: Seen) -> Reply:
    ident = seen.path.rsplit("/", 1)[-1]
    return Reply(200, completion(ident))


CASES: dict[str, Any] = {
    "a redirect": lambda seen: Reply(302, headers={"Location": "http://127.0.0.1:9/steal"}),
    "a permanent redirect": lambda seen: Reply(308, headers={"Location": "/elsewhere"}),
    "a JSON string": lambda seen: Reply(200, "just text"),
    "a JSON number": lambda seen: Reply(200, 42),
    "a JSON null": lambda seen: Reply(200, None),
    "a JSON array": lambda seen: Reply(200, []),
    "a JSON boolean": lambda seen: Reply(200, True),
    "no JSON at all": lambda seen: Reply(200, b"<html>captive portal</html>"),
    "invalid UTF-8": lambda seen: Reply(200, b'{"id": "\xff\xfe"}'),
    "deep nesting": lambda seen: Reply(200, b"[" * 100_000 + b"]" * 100_000),
    "the key echoed raw": lambda seen: Reply(401, {"error": {"message": f"bad key {KEY}"}}),
    "the key echoed JSON-escaped": lambda seen: Reply(
        400, json.dumps({"error": {"message": "key " + KEY.replace("-", "\\u002d")}}).encode()
    ),
    "the key echoed percent-encoded": lambda seen: Reply(
        400, {"error": {"message": "key " + quote(KEY, safe="")}}
    ),
    "part of the key echoed": lambda seen: Reply(400, {"error": {"message": "key " + KEY[12:30]}}),
    "the key in a header": lambda seen: Reply(500, {"error": {"message": "x"}}, headers={"X-Echo": KEY}),
    "a reset mid-body": lambda seen: Reply(200, completion("chatcmpl-x"), reset_after=10),
    "terminal escapes in a message": lambda seen: Reply(
        400, {"error": {"message": "\x1b[2J\x1b]0;pwned\x07 cleared"}}
    ),
    "a success for each": echo,
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_the_three_invariants_hold(hostile: HostileServer, case: str):
    hostile.reset()
    hostile.script = CASES[case]
    result = run(hostile, "-ThrottleLimit", "2")
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything
    assert leaks(everything) == []
    accounted(result)
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr  # escaped, never interpreted
    assert result.returncode == (0 if case == "a success for each" else 1)
    if "redirect" in case:
        assert hostile.count("steal") == 0 and hostile.count("elsewhere") == 0


def test_a_dripping_server_meets_the_deadline(hostile: HostileServer):
    hostile.reset()
    hostile.script = lambda seen: Reply(200, completion("chatcmpl-x"), drip=0.3)
    result = run(hostile, "-TimeoutSec", "1", "-ThrottleLimit", "5")
    assert "Traceback" not in result.stderr and leaks(result.stdout + result.stderr) == []
    accounted(result)
    assert result.stderr.count("Set-ChatCompletion: [") == len(IDS)
