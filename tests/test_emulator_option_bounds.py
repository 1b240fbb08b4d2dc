"""``psopenai emulator`` refuses an option value it could not serve with at parse time (exit 2,
the option and its limit named), rather than starting and failing every request."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from psopenai_py.emulator import Emulator
from psopenai_py.emulator.protocol import MAX_LATENCY_MS

BOUND = f"argument --latency-ms: expected a number from 0 to {MAX_LATENCY_MS}"


def start(*options: str) -> subprocess.CompletedProcess[str]:
    """``psopenai emulator`` with these options on any free port; an emulator that starts
    anyway is stopped by the timeout (and the test fails on it)."""
    return subprocess.run(
        [sys.executable, "-m", "psopenai_py", "emulator", "--port", "0", *options],
        capture_output=True,
        text=True,
        timeout=20,
    )


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (
            ["--latency-ms", "-5"],
            f"{BOUND}, got '-5'",
        ),
        (
            ["--latency-ms", str(MAX_LATENCY_MS + 1)],
            f"{BOUND}, got '{MAX_LATENCY_MS + 1}'",
        ),
        (["--latency-ms", "1.5"], "argument --latency-ms: invalid int value: '1.5'"),
        (["--api-key", ""], "argument --api-key: expected a key, got an empty value"),
        (["--api-key", "  "], "argument --api-key: expected a key, got an empty value"),
    ],
)
def test_an_unservable_option_is_refused_before_the_start(options: list[str], says: str) -> None:
    result = start(*options)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert "listening" not in result.stdout and "Traceback" not in result.stderr


def test_the_control_api_and_the_command_line_share_the_latency_limit() -> None:
    with Emulator() as emulator:
        request = urllib.request.Request(
            emulator.url.removesuffix("/v1") + "/__emulator/latency",
            data=json.dumps({"ms": MAX_LATENCY_MS + 1}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 400
        assert str(MAX_LATENCY_MS) in refused.value.read().decode()
