"""The dialect's version and help flags in every position the official CLI honours them: the
version flag (``-v``, ``--version``, one dash or two) at the root, before the resource word, also
as the whole line and after other root flags; the help flags at every level.  A root flag
mistyped at the start of a line gets a suggestion.  Real subprocesses; nothing here needs a key
or a server (the base URL points at a closed port)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from psopenai_py._version import __version__

COMMAND = [sys.executable, "-m", "psopenai_py"]
CLOSED = "http://127.0.0.1:9/v1"
KEY = "sk-proj-VERSIONk3yAbCdEfGhIjKlMnOpQrStUvWx0123"
VERSION_LINE = f"psopenai version {__version__} (openai CLI dialect)\n"


def psopenai(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [*COMMAND, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, env=env
    )


@pytest.mark.parametrize(
    "args",
    [
        ["-v"],
        ["-version"],
        ["-v=true"],
        ["--base-url", CLOSED, "-v"],
        ["--api-key", KEY, "--version"],
        ["-v", "chat:completions", "list"],
        ["--debug", "-v", "chat", "completions", "list"],
    ],
    ids=lambda args: " ".join(args).replace(KEY, "KEY"),
)
def test_the_version_flag_before_the_resource_prints_the_version(args):
    done = psopenai(*args)
    assert (done.returncode, done.stdout, done.stderr) == (0, VERSION_LINE, "")


def test_version_after_the_verb_is_accepted_and_ignored_as_the_original_does():
    done = psopenai(
        "chat:completions", "retrieve", "chatcmpl-x", "-v", "--base-url", CLOSED, "--max-retries", "0"
    )
    assert done.returncode == 1 and VERSION_LINE not in done.stdout
    assert "flag provided but not defined" not in done.stderr


@pytest.mark.parametrize(
    ("args", "first_line"),
    [
        (["--base-url", CLOSED, "-h"], "psopenai chat:completions:"),
        (["--api-key", KEY, "--help"], "psopenai chat:completions:"),
        (["chat", "-h"], "psopenai chat:completions:"),
        (["chat:completions", "--help"], "psopenai chat:completions:"),
        (["chat:completions", "update", "-h"], "psopenai chat:completions update:"),
        (["chat:completions:messages", "list", "-help"], "psopenai chat:completions:messages list:"),
        (["chat", "completions", "list", "--base-url", CLOSED, "--help"], "psopenai chat:completions list:"),
    ],
    ids=lambda v: " ".join(v).replace(KEY, "KEY") if isinstance(v, list) else "",
)
def test_the_help_flag_shows_its_levels_help_at_every_level(args, first_line):
    done = psopenai(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(first_line), done.stdout[:200]
    assert "k3yAbC" not in done.stdout + done.stderr


@pytest.mark.parametrize("typo", ["--formt", "-formt", "--fromat"])
def test_a_mistyped_leading_flag_gets_a_suggestion(typo):
    done = psopenai(typo, "json")
    assert done.returncode != 0
    assert "--format" in done.stderr and "Did you mean" in done.stderr
