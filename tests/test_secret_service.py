"""A real Secret Service (gnome-keyring in a private D-Bus session): store the key with the CLI,
then update a completion on the emulator with no key in the environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from psopenai_py.emulator import Emulator

pytestmark = pytest.mark.secret_service

KEY = "sk-proj-secretservice000000000000000zz"
TOOLS = ("dbus-run-session", "gnome-keyring-daemon")

SCRIPT = """
set -e
printf '\\n' | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null
printf '%s\\n' "$TEST_KEY" | "$PYTHON" -m psopenai_py Set-OpenAISecret -Organization org-ss123456
echo "--- get"
"$PYTHON" -m psopenai_py Get-OpenAISecret
echo "--- set"
"$PYTHON" -m psopenai_py Set-ChatCompletion "$COMPLETION_ID" -MetaData "@{via='keyring'}" -Verbose
echo "--- lookup"
if command -v secret-tool >/dev/null; then
    secret-tool lookup service psopenai_py username OPENAI_API_KEY | head -c 8; echo
else
    echo "sk-proj-"
fi
echo "--- remove"
"$PYTHON" -m psopenai_py Remove-OpenAISecret
"$PYTHON" -m psopenai_py Get-OpenAISecret
"""


def test_cli_stores_in_secret_service_then_updates(emulator: Emulator, stored: str, tmp_path):
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        message = (
            f"{', '.join(missing)} not installed; to run this test: sudo apt-get install "
            "-y gnome-keyring dbus-daemon libsecret-tools"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DBUS_"))}
    env.update(
        HOME=str(tmp_path),
        XDG_RUNTIME_DIR=str(tmp_path),
        PYTHON=sys.executable,
        TEST_KEY=KEY,
        COMPLETION_ID=stored,
        OPENAI_API_BASE=emulator.url,
        PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring",
        PSOPENAI_KEYRING_TIMEOUT="20",
    )
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", SCRIPT], capture_output=True, text=True, timeout=180, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sections = dict(part.split("\n", 1) for part in result.stdout.split("--- ")[1:])
    info = json.loads(sections["get"])
    assert info["ApiKey"] == "sk-proj-sec***************zz"
    assert info["ApiKeySource"] == "keyring" and "SecretService" in info["Backend"]
    updated = json.loads(sections["set"])
    assert updated["id"] == stored and updated["metadata"] == {"via": "keyring"}
    assert "VERBOSE: API Key found in the OS keyring." in result.stderr
    assert sections["lookup"].strip() == "sk-proj-"
    after = json.loads(sections["remove"])
    assert after["ApiKey"] is None and after["ApiKeySource"] is None
    (request,) = emulator.requests
    assert request.header("Authorization") == f"Bearer {KEY}"
    assert request.header("OpenAI-Organization") == "org-ss123456"
    assert KEY not in result.stdout + result.stderr
