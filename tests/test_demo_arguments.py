"""``psopenai demo`` shows its help for the help flags and refuses any argument it does not take,
before it starts its embedded emulator.  Real subprocesses."""

from __future__ import annotations

import subprocess
import sys

import pytest

COMMAND = [sys.executable, "-m", "psopenai_py", "demo"]


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("flag", ["--help", "-h", "-?", "/?", "-Help"])
def test_help_flags_show_the_usage_and_run_nothing(flag):
    done = demo(flag)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: psopenai demo [-Verbose]")
    assert "embedded emulator at" not in done.stderr  # no emulator was started
    assert '"reviewed"' not in done.stdout


@pytest.mark.parametrize("args", [["-Bogus", "extra"], ["extra"], ["-Verbose", "-WhatIf"]])
def test_an_argument_demo_does_not_take_is_refused_and_nothing_runs(args):
    done = demo(*args)
    assert done.returncode == 2
    bad = next(a for a in args if a.lower() != "-verbose")
    assert f"'{bad}'" in done.stderr and "-Verbose" in done.stderr and "psopenai demo --help" in done.stderr
    assert "embedded emulator at" not in done.stderr
    assert done.stdout == ""


def test_a_key_given_to_demo_by_mistake_is_not_echoed():
    key = "sk-proj-DEMOk3yAbCdEfGhIjKlMnOpQrStUvWxYz0123"
    done = demo(key)
    assert done.returncode == 2
    assert "k3yAbC" not in done.stdout + done.stderr


@pytest.mark.parametrize("flag", ["-Verbose", "-vb", "--verbose"])
def test_verbose_still_runs_the_demo(flag):
    done = demo(flag)
    assert done.returncode == 0, done.stderr
    assert "embedded emulator at" in done.stderr and "VERBOSE:" in done.stderr
