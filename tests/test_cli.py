"""The command line, in subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys

import psopenai_py


def psopenai(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "psopenai_py", *args], capture_output=True,
                          text=True, timeout=60)


def test_demo_updates_a_completion_on_the_embedded_emulator():
    result = psopenai("demo", "-Verbose")
    assert result.returncode == 0, result.stderr
    completion = json.loads(result.stdout)
    assert completion["object"] == "chat.completion"
    assert completion["metadata"] == {"team": "support", "reviewed": "yes"}
    assert "Method = Post, Path = http://127.0.0.1:" in result.stderr
    assert "sk-emulator-demo-key-0000000000000000" not in result.stdout + result.stderr


def test_version_and_usage():
    assert psopenai("--version").stdout.strip() == f"psopenai_py {psopenai_py.__version__}"
    assert "demo" in psopenai().stdout
    unknown = psopenai("Frobnicate-Thing")
    assert unknown.returncode == 2 and "unknown command" in unknown.stderr
