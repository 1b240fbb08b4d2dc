"""The OS keyring: resolution rows with an in-memory backend, failing and hanging backends, the
secret commands, and the canary key through them."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest

import psopenai_py
from psopenai_py import keyring_store
from psopenai_py import settings as settings_module
from psopenai_py.errors import MissingSettingError, SecretStoreError
from psopenai_py.settings import SettingsRequest, resolve_settings

from .conftest import CANARY_KEY

SERVICE = "psopenai_py"
STORED_KEY = "sk-proj-keyring00000000000000000000xy"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps its secrets in a dict."""

    priority = -1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class HangingKeyring(MemoryKeyring):
    release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return "sk-too-late"


class PlaintextKeyring(MemoryKeyring):
    """Stands for keyrings.alt's file backend, which must never be used to store."""


@pytest.fixture
def use_backend(monkeypatch) -> Iterator[Any]:
    """Install a backend and put the real keyring step back into the resolution order."""
    previous = keyring.get_keyring()
    monkeypatch.setattr(settings_module, "keyring_reader", settings_module._from_keyring)
    monkeypatch.setenv("PSOPENAI_KEYRING_TIMEOUT", "2")

    def install(backend: Any) -> Any:
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


@pytest.fixture
def memory(use_backend) -> MemoryKeyring:
    backend = use_backend(MemoryKeyring())
    backend.set_password(SERVICE, "OPENAI_API_KEY", STORED_KEY)
    backend.set_password(SERVICE, "OPENAI_ORGANIZATION", "org-keyring")
    return backend


def test_keyring_used_when_nothing_else_is_set(memory, caplog):
    with caplog.at_level(logging.INFO, logger="psopenai_py"):
        resolved = resolve_settings(SettingsRequest())
    assert resolved.api_key.reveal() == STORED_KEY
    assert resolved.organization == "org-keyring"
    assert "API Key found in the OS keyring." in caplog.messages
    assert "Organization-ID found in the OS keyring." in caplog.messages


@pytest.mark.parametrize("source", ["environment", "global", "context", "parameter"])
def test_every_earlier_source_beats_the_keyring(memory, monkeypatch, source):
    key = "sk-earlier-00000000000000000000"
    if source == "environment":
        monkeypatch.setenv("OPENAI_API_KEY", key)
    elif source == "global":
        monkeypatch.setattr(psopenai_py, "OPENAI_API_KEY", key)
    elif source == "context":
        psopenai_py.set_openai_context(api_key=key)
    request = SettingsRequest(api_key=psopenai_py.Secret(key) if source == "parameter" else None)
    resolved = resolve_settings(request)
    assert resolved.api_key.reveal() == key
    assert resolved.organization is None  # the stored one belongs to the stored key


@pytest.mark.parametrize(
    "backend",
    [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring(), LockedKeyring()],
    ids=["fail", "null", "locked"],
)
def test_unusable_backends_mean_not_found(use_backend, caplog, backend):
    use_backend(backend)
    with caplog.at_level(logging.DEBUG, logger="psopenai_py"), pytest.raises(MissingSettingError) as caught:
        resolve_settings(SettingsRequest())
    assert "OS keyring" in str(caught.value)
    assert str(caught.value).startswith('Please specify your OpenAI API key to "ApiKey" parameter.')


def test_hanging_backend_times_out(use_backend, monkeypatch):
    monkeypatch.setenv("PSOPENAI_KEYRING_TIMEOUT", "0.2")
    use_backend(HangingKeyring())
    started = time.monotonic()
    with pytest.raises(MissingSettingError):
        resolve_settings(SettingsRequest())
    assert time.monotonic() - started < 5
    HangingKeyring.release.set()


HANG_SCRIPT = """
import threading, keyring, keyring.backend
class Hang(keyring.backend.KeyringBackend):
    priority = -1
    def get_password(self, s, u): threading.Event().wait()
    def set_password(self, s, u, p): pass
    def delete_password(self, s, u): pass
keyring.set_keyring(Hang())
import psopenai_py
try:
    psopenai_py.set_chat_completion("chatcmpl-x", {})
except psopenai_py.MissingSettingError as exc:
    print("missing:", str(exc)[:40])
"""


def test_hung_backend_does_not_keep_the_process_alive():
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PSOPENAI_KEYRING_TIMEOUT"] = "0.3"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", HANG_SCRIPT], capture_output=True, text=True, timeout=30, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("missing: Please specify your OpenAI API key")
    assert time.monotonic() - started < 15


def test_timeout_defaults(monkeypatch):
    monkeypatch.delenv("PSOPENAI_KEYRING_TIMEOUT", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert keyring_store.keyring_timeout() == 5.0
    monkeypatch.setenv("PSOPENAI_KEYRING_TIMEOUT", "12.5")
    assert keyring_store.keyring_timeout() == 12.5


def test_keyring_is_imported_only_when_its_step_is_reached():
    code = (
        "import sys, psopenai_py\n"
        "from psopenai_py.settings import resolve_settings, SettingsRequest\n"
        "resolve_settings(SettingsRequest())\n"
        "print('keyring' in sys.modules)\n"
    )
    env = {**os.environ, "OPENAI_API_KEY": "sk-env-0000000000000000000000"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=env)
    assert result.stdout.strip() == "False", result.stderr


# -- the commands ---------------------------------------------------------------------------------


def test_set_get_remove_round_trip(use_backend):
    backend = use_backend(MemoryKeyring())
    psopenai_py.set_openai_secret(STORED_KEY, organization="org-abcdefgh12")
    assert backend.entries == {
        (SERVICE, "OPENAI_API_KEY"): STORED_KEY,
        (SERVICE, "OPENAI_ORGANIZATION"): "org-abcdefgh12",
    }
    info = psopenai_py.get_openai_secret()
    assert info.pstypenames == ["psopenai_py.SecretInfo"]
    assert (info.Service, info.ApiKey, info.Organization, info.ApiKeySource) == (
        SERVICE,
        "sk-proj-key***************xy",
        "org-ab***************12",
        "keyring",
    )
    assert info.Backend.endswith("MemoryKeyring")
    plain = psopenai_py.get_openai_secret(as_plain_text=True)
    assert (plain.ApiKey, plain.Organization) == (STORED_KEY, "org-abcdefgh12")
    psopenai_py.remove_openai_secret()
    assert backend.entries == {}
    assert psopenai_py.get_openai_secret().ApiKeySource is None


def test_source_reported_is_the_one_a_call_would_use(memory, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-0000000000000000000000")
    assert psopenai_py.get_openai_secret().ApiKeySource == "environment"


def test_remove_when_nothing_is_stored(use_backend):
    use_backend(MemoryKeyring())
    with pytest.raises(SecretStoreError, match="Nothing to remove"):
        psopenai_py.remove_openai_secret()


@pytest.mark.parametrize(
    "backend",
    [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring(), PlaintextKeyring()],
    ids=["fail", "null", "plaintext"],
)
def test_storing_without_a_usable_backend_says_what_to_do(use_backend, backend):
    use_backend(backend)
    with pytest.raises(SecretStoreError) as caught:
        psopenai_py.set_openai_secret(CANARY_KEY)
    message = str(caught.value)
    for advice in ("OPENAI_API_KEY", "Secret Service", "PYTHON_KEYRING_BACKEND"):
        assert advice in message
    assert CANARY_KEY not in message
    assert getattr(backend, "entries", {}) == {}


def test_key_read_from_piped_stdin(use_backend, monkeypatch):
    backend = use_backend(MemoryKeyring())
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{STORED_KEY}\nsecond line\n"))
    psopenai_py.set_openai_secret()
    assert backend.entries[(SERVICE, "OPENAI_API_KEY")] == STORED_KEY


def test_empty_stdin_is_a_clear_error(use_backend, monkeypatch):
    backend = use_backend(MemoryKeyring())
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(psopenai_py.ParameterBindingError, match="empty API key"):
        psopenai_py.set_openai_secret()
    assert backend.entries == {}


def test_shim_commands(use_backend):
    from psopenai_py.compat import Get_OpenAISecret, Remove_OpenAISecret, Set_OpenAISecret

    backend = use_backend(MemoryKeyring())
    Set_OpenAISecret(STORED_KEY, OrgId="org-1234567890")
    assert Get_OpenAISecret(AsPlain=True).ApiKey == STORED_KEY
    Remove_OpenAISecret()
    assert backend.entries == {}


def test_canary_through_the_secret_commands(use_backend, caplog, capsys):
    from psopenai_py.compat import Get_OpenAISecret, Remove_OpenAISecret, Set_OpenAISecret

    use_backend(MemoryKeyring())
    with caplog.at_level(logging.DEBUG):
        Set_OpenAISecret(ApiKey=CANARY_KEY, Verbose=True, Debug=True)
        info = Get_OpenAISecret(Verbose=True)
        resolved = resolve_settings(SettingsRequest())
        Remove_OpenAISecret(Verbose=True)
        with pytest.raises(SecretStoreError) as caught:
            Remove_OpenAISecret()
    captured = capsys.readouterr()
    text = "\n".join(
        [
            caplog.text,
            captured.out,
            captured.err,
            repr(info),
            str(info),
            repr(info.to_dict()),
            repr(resolved),
            str(caught.value),
        ]
    )
    assert resolved.api_key.reveal() == CANARY_KEY  # it really went through the keyring
    assert CANARY_KEY not in text


def test_cli_with_the_fail_backend_gives_advice_not_a_traceback():
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Set-OpenAISecret"],
        input=CANARY_KEY + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Set-OpenAISecret: No usable OS keyring backend")
    assert "Traceback" not in result.stderr and CANARY_KEY not in result.stderr + result.stdout
    removal = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Remove-OpenAISecret"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert removal.returncode == 1 and "Traceback" not in removal.stderr


class SentenceFailingKeyring(MemoryKeyring):
    """A backend whose error text is a sentence with its own full stop, as keyring's are."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringError("The backend is locked. See its documentation for details.")


def test_a_backend_error_ending_in_a_full_stop_reads_as_one_sentence(use_backend):
    use_backend(SentenceFailingKeyring())
    with pytest.raises(SecretStoreError) as caught:
        keyring_store.fetch("OPENAI_API_KEY")
    text = str(caught.value)
    assert "KeyringError: The backend is locked. See its documentation for details. Set the " in text
    assert ".." not in text
