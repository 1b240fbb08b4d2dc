"""An API base that is set but is not an absolute URL (``localhost:8080/v1``, ``http//...``,
``htp://...``) falls back to the real API, as PSOpenAI does, but never without a word: one
WARNING names the value, where it came from and where the call goes instead, before anything is
sent.  A rehearsal against a local server with a typo in its URL must not look like one."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from psopenai_py.emulator import Emulator
from psopenai_py.settings import DEFAULT_API_BASE, SettingsRequest, resolve_settings

ENV_KEY = "sk-env-0000000000000000000000000000"


@pytest.fixture
def env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    for name in ("OPENAI_API_BASE", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize(
    "typo",
    ["localhost:8080/v1", "http//127.0.0.1:8080/v1", "htp://127.0.0.1:8080/v1", "http:/127.0.0.1:8080/v1"],
)
def test_an_unusable_environment_base_is_warned_about(env_key, monkeypatch, caplog, typo: str) -> None:
    monkeypatch.setenv("OPENAI_API_BASE", typo)
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        resolved = resolve_settings(SettingsRequest())
    assert resolved.api_base == DEFAULT_API_BASE  # PSOpenAI's fallback is kept
    (warning,) = _warnings(caplog)
    assert f'"{typo}"' in warning and "OPENAI_API_BASE" in warning
    assert "not an absolute URL" in warning and f"this call goes to {DEFAULT_API_BASE}" in warning


@pytest.mark.parametrize(
    ("where", "request_base", "says"),
    [
        ("parameter", "localhost:8080/v1", "the ApiBase parameter"),
        ("global", None, "psopenai_py.OPENAI_API_BASE"),
    ],
)
def test_every_source_of_the_base_is_named(env_key, monkeypatch, caplog, where, request_base, says) -> None:
    import psopenai_py

    if where == "global":
        monkeypatch.setattr(psopenai_py, "OPENAI_API_BASE", "localhost:8080/v1", raising=False)
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        resolve_settings(SettingsRequest(api_base=request_base))
    (warning,) = _warnings(caplog)
    assert says in warning and '"localhost:8080/v1"' in warning


def test_both_names_holding_the_same_typo_give_one_true_warning(env_key, monkeypatch, caplog) -> None:
    monkeypatch.setenv("OPENAI_API_BASE", "localhost:8080/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:8080/v1")
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        resolve_settings(SettingsRequest())
    (warning,) = _warnings(caplog)
    assert "OPENAI_API_BASE" in warning and "not an absolute URL" in warning
    assert "which is not set" not in warning  # it is set: the old warning said otherwise


def test_a_key_pasted_as_the_base_is_masked_in_the_warning(env_key, monkeypatch, caplog) -> None:
    pasted = "sk-proj-Qz7Rt2Vn9Wx4Ym6Kp3Lb8Hc5Dj1Fg0Ns4Ue8Ia6OwEv"
    monkeypatch.setenv("OPENAI_API_BASE", pasted)
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        resolve_settings(SettingsRequest())
    (warning,) = _warnings(caplog)
    assert "Qz7Rt2" not in warning and "not an absolute URL" in warning


def test_the_command_line_warns_before_anything_is_sent(emulator: Emulator) -> None:
    # The typo sends the call to the real API; -WhatIf keeps anything from being sent at all.
    env = {**os.environ, "OPENAI_API_KEY": ENV_KEY, "OPENAI_API_BASE": "localhost:8080/v1"}
    env.pop("OPENAI_BASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Remove-ChatCompletion", "chatcmpl-x", "-WhatIf"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=60,
    )
    lines = result.stderr.splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0].startswith(
        'WARNING: The API base "localhost:8080/v1" (the environment variable OPENAI_API_BASE)'
    )
    assert DEFAULT_API_BASE in lines[0]
    assert lines[1].startswith("What if:")
    assert emulator.requests == []
