"""A key pasted where a word of the command line goes (a command, a help topic, a parameter's
name or value, a verb of the openai-CLI dialect, an option of the emulator) is never quoted back
whole: every message that echoes what was typed shows a key-shaped word masked, and still says
what was wrong.  Each door is run as the ``psopenai`` process a user starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from psopenai_py import scrub
from psopenai_py.emulator import Emulator
from psopenai_py.emulator.protocol import hide_keys

KEYS = {
    "project key": "sk-proj-Qz7Rt2Vn9Wx4Ym6Kp3Lb8Hc5Dj1Fg0Ns4Ue8Ia6OwEv",
    "shortest key shape": "sk-abc123def456ghi789jk",
    "key with a line end": "sk-proj-Hm3Pq8Zs1Tx6Wc4Yv9Kr2Bn7Dl5Fj0Gg3Ua8Ie6OzQy\n",
}
"""Keys typed by mistake: none is in the environment, none is ever put in play."""

_PREFIXES = ("sk-proj-", "sk-")


def fragments(key: str, text: str) -> list[str]:
    """The runs of 4 characters of the key's secret part (past the public ``sk-``/``sk-proj-``
    prefix) that ``text`` holds."""
    plain = key.strip()
    secret = plain[len(next(p for p in _PREFIXES if plain.startswith(p))) :]
    return sorted({secret[i : i + 4] for i in range(len(secret) - 3) if secret[i : i + 4] in text})


@dataclass
class Door:
    """One place a typed word is echoed: the command line (``{K}`` stands for the key), what the
    message must still say, the exit status, and the environment or input it needs."""

    argv: list[str]
    says: str
    status: int
    env: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None


DOORS = {
    "command word": Door(["{K}"], "is not a command", 2),
    "command word as a flag": Door(["-{K}"], "is not a command", 2),
    "--format value": Door(["--format", "{K}"], "--format takes json or text", 2),
    "--format= value": Door(["--format={K}"], "--format takes json or text", 2),
    "help topic": Door(["help", "{K}"], "no command or about_ topic named", 2),
    "help topic with -Examples": Door(["help", "{K}", "-Examples"], "no command or about_ topic", 2),
    "help -Parameter": Door(
        ["help", "Set-ChatCompletion", "-Parameter", "{K}"], "No parameter of Set-ChatCompletion", 2
    ),
    "help -Parameter as a flag": Door(
        ["help", "Set-ChatCompletion", "-Parameter", "-{K}"], "No parameter of Set-ChatCompletion", 2
    ),
    "parameter name": Door(["Set-ChatCompletion", "-{K}"], "A parameter cannot be found", 2),
    "parameter value": Door(["Get-ChatCompletion", "-Limit", "{K}"], "Cannot process argument", 2),
    "-ErrorAction value": Door(
        ["Set-ChatCompletion", "x", "-MetaData", "@{a='b'}", "-ErrorAction", "{K}"], "ErrorAction", 2
    ),
    "piped item": Door(
        ["Remove-ChatCompletion", "-MaxRetryCount", "0"], "Remove-ChatCompletion: [", 1, stdin="{K}\n"
    ),
    "dialect resource": Door(["chat:completions", "{K}"], "No help topic for", 3),
    "dialect space form": Door(["chat", "{K}"], "No help topic for", 3),
    "dialect resource with --help": Door(["chat:completions", "{K}", "--help"], "No help topic", 3),
    "dialect flag": Door(["chat:completions", "update", "--{K}"], "flag provided but not defined", 1),
    "dialect flag value": Door(["chat:completions", "list", "--limit", "{K}"], "Incorrect Usage", 1),
    "dialect OPENAI_BASE_URL": Door(
        ["chat:completions", "list"], "is missing a scheme", 1, env={"OPENAI_BASE_URL": "{K}"}
    ),
    "emulator int option": Door(["emulator", "--port", "{K}"], "argument --port: invalid int value", 2),
    "emulator bounded option": Door(["emulator", "--latency-ms", "{K}"], "argument --latency-ms", 2),
    "emulator positional": Door(["emulator", "{K}"], "unrecognized arguments", 2),
    "emulator option name": Door(["emulator", "--{K}"], "unrecognized arguments", 2),
}


@pytest.mark.parametrize("key", list(KEYS.values()), ids=list(KEYS))
@pytest.mark.parametrize("door", list(DOORS.values()), ids=list(DOORS))
def test_a_key_typed_in_the_wrong_place_is_never_echoed(door: Door, key: str, emulator: Emulator) -> None:
    def put(text: str) -> str:
        return text.replace("{K}", key)

    env = {
        **os.environ,
        "PYTHONUTF8": "1",
        "OPENAI_API_KEY": "sk-env-0000000000000000000000",
        "OPENAI_API_BASE": emulator.url,
        "OPENAI_BASE_URL": emulator.url,
        **{name: put(value) for name, value in door.env.items()},
    }
    result = subprocess.run(
        [sys.executable, "-m", "psopenai_py", *(put(word) for word in door.argv)],
        input=put(door.stdin) if door.stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
    )
    shown = result.stdout + result.stderr
    assert fragments(key, shown) == [], shown
    assert door.says in result.stderr, shown
    assert result.returncode == door.status, shown
    assert "Traceback" not in shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'sk-" + "a1" * 12 + "' is not a command", "'sk-a1a***************a1' is not a command"),
        ("-sk-proj-" + "Zz9" * 10, "-sk-proj-Zz9***************z9"),
        ("--sk-" + "b2" * 11, "--sk-b2b***************b2"),
        ("flag: --format=sk-" + "c3" * 11, "flag: --format=sk-c3c***************c3"),
        # Inside a longer word it is a name, not a key: ids and words stay as they are.
        ("task-" + "d4" * 15, "task-" + "d4" * 15),
        ("chatcmpl-sk-" + "e5" * 15, "chatcmpl-sk-" + "e5" * 15),
        ("x--sk-" + "f6" * 15, "x--sk-" + "f6" * 15),
        ("sk-short", "sk-short"),
        ("no key here", "no key here"),
    ],
)
def test_mask_keys_masks_each_key_shaped_word_and_nothing_else(text: str, expected: str) -> None:
    assert scrub.mask_keys(text) == expected


def test_a_flag_made_of_a_key_is_found_but_no_argument_changes_shape() -> None:
    key = KEYS["project key"]
    assert scrub.KEY_SHAPED.findall(f"--{key}") == [key]
    assert not scrub.looks_like_key(f"--{key}")  # the word is a flag; the key inside it is masked
    assert scrub.looks_like_key(key)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "argument --port: invalid int value: 'sk-abcdefgh1234'",
            "argument --port: invalid int value: 'sk-****'",
        ),
        ("unrecognized arguments: --sk-proj-abcdefgh1234", "unrecognized arguments: --sk-****"),
        ("invalid int value: 'task-abcdefgh1234'", "invalid int value: 'task-abcdefgh1234'"),
    ],
)
def test_the_emulator_hides_a_key_in_its_option_errors_entirely(text: str, expected: str) -> None:
    assert hide_keys(text) == expected
