"""What the key lookup and the secret commands say when the OS keyring cannot help: a locked
keyring named with how to unlock it, no keyring at all (never the advice to store in plaintext),
a backend whose own text quotes a key, keys read from standard input that could not be used, and
an ``OPENAI_BASE_URL`` that PSOpenAI's commands do not read."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from typing import Any

import keyring
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest

import psopenai_py
from psopenai_py.commands.stored import open_invocation
from psopenai_py.errors import MissingSettingError, ParameterBindingError, SecretStoreError
from psopenai_py.settings import DEFAULT_API_BASE, SettingsRequest, resolve_settings

from .conftest import CANARY_KEY
from .test_keyring import SERVICE, STORED_KEY, MemoryKeyring, use_backend

__all__ = ["use_backend"]  # the fixture, shared with the keyring tests

ENV_KEY = "sk-proj-Zq8Wv3Kp0a1b2c3d4e5f6g7h8i9j0kLmNo"
ENV_KEY_MASKED = "sk-proj-Zq8***************No"


def _fragments(secret: str) -> list[str]:
    """Every 12-character run of a secret past its masked prefix: none may be printed."""
    return [secret[i : i + 12] for i in range(11, len(secret) - 11)]


def _assert_no_key(text: str, *keys: str) -> None:
    for key in keys:
        leaked = [piece for piece in _fragments(key) if piece in text]
        assert leaked == [], text


def _backend(module: str, failure: Exception, base: type = MemoryKeyring) -> Any:
    """A backend whose class claims to live in ``module`` (so its messages name that keyring),
    failing every call with ``failure``."""

    def fail(self: Any, *args: Any) -> Any:
        raise failure

    cls = type(
        "Keyring",
        (base,),
        {"__module__": module, "get_password": fail, "set_password": fail, "delete_password": fail},
    )
    return cls()


LOCKED = keyring.errors.KeyringLocked("Failed to unlock the collection!")


# -- why no key was found ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "named", "how"),
    [
        ("keyring.backends.SecretService", "SecretService.Keyring", "gnome-keyring-daemon with --unlock"),
        ("keyring.backends.libsecret", "libsecret.Keyring", "Passwords and Keys"),
        ("keyring.backends.macOS", "macOS.Keyring", "security unlock-keychain"),
        ("keyring.backends.kwallet", "kwallet.Keyring", "KDE Wallet Manager"),
        ("some_vendor.backend", "some_vendor.backend.Keyring", "your system's keyring tool"),
    ],
)
def test_a_locked_keyring_is_named_with_how_to_unlock_it(use_backend, caplog, module, named, how):
    use_backend(_backend(module, LOCKED))
    with caplog.at_level(logging.INFO, logger="psopenai_py"), pytest.raises(MissingSettingError) as caught:
        resolve_settings(SettingsRequest())
    text = str(caught.value)
    assert text.startswith('Please specify your OpenAI API key to "ApiKey" parameter. Looked in: ')
    assert f"The OS keyring ({named}: " in text and "is locked" in text and how in text
    # -Verbose says it too, as the lookup happens.
    assert any("is locked" in m and m.startswith("The OS keyring was not read") for m in caplog.messages)


def test_a_locked_keyring_through_the_command_line(use_backend):
    from psopenai_py.powershell.cli import main

    use_backend(_backend("keyring.backends.SecretService", LOCKED))
    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["Set-ChatCompletion", "chatcmpl-x", "-MetaData", "@{}"], stdin=io.StringIO(), stdout=out, stderr=err
    )
    assert status == 2 and out.getvalue() == ""
    assert "Looked in:" in err.getvalue() and "SecretService.Keyring" in err.getvalue()
    assert "is locked" in err.getvalue() and "Traceback" not in err.getvalue()


def test_no_keyring_at_all_is_said_plainly_when_no_key_is_found(use_backend):
    use_backend(keyring.backends.fail.Keyring())
    with pytest.raises(MissingSettingError) as caught:
        resolve_settings(SettingsRequest())
    assert "There is no OS keyring here" in str(caught.value)
    assert "keyrings.alt" not in str(caught.value)


def test_a_keyring_that_answers_adds_nothing_to_the_message(use_backend):
    use_backend(MemoryKeyring())  # reachable, holds nothing
    with pytest.raises(MissingSettingError) as caught:
        resolve_settings(SettingsRequest())
    assert str(caught.value).endswith("the environment variable OPENAI_API_KEY and the OS keyring.")


# -- OPENAI_BASE_URL, the SDK's name -------------------------------------------------------------------


@pytest.fixture
def env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_openai_base_url_alone_is_warned_about(env_key, monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        resolved = resolve_settings(SettingsRequest())
    assert resolved.api_base == DEFAULT_API_BASE  # PSOpenAI's name only, as PSOpenAI
    (warning,) = _warnings(caplog)
    assert warning.startswith('OPENAI_BASE_URL is set ("http://127.0.0.1:8080/v1"), but PSOpenAI\'s')
    assert f"this call goes to {DEFAULT_API_BASE}" in warning and "Set OPENAI_API_BASE" in warning


def test_both_names_differing_keep_each_dialect_on_its_own_with_a_warning(env_key, monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:8081/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8082/v1")
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        resolved = resolve_settings(SettingsRequest())
        sdk = open_invocation()
    assert resolved.api_base == "http://127.0.0.1:8081/v1"
    assert sdk.settings.api_base == "http://127.0.0.1:8082/v1"
    (warning,) = _warnings(caplog)  # from PSOpenAI's resolution; the SDK reads its own name
    assert warning.startswith('OPENAI_API_BASE ("http://127.0.0.1:8081/v1") and OPENAI_BASE_URL (')
    assert "differ" in warning


def test_the_warning_shows_no_credentials_of_the_url(env_key, monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://user:hunter2@127.0.0.1:8082/v1")
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        resolve_settings(SettingsRequest())
    (warning,) = _warnings(caplog)
    assert "127.0.0.1:8082" in warning and "hunter2" not in warning


@pytest.mark.parametrize(
    ("api_base", "base_url", "given"),
    [
        ("http://127.0.0.1:8081/v1", "http://127.0.0.1:8081/v1/", None),  # the same server
        ("http://127.0.0.1:8081/v1", None, None),  # PSOpenAI's name alone
        (None, "http://127.0.0.1:8082/v1", "http://127.0.0.1:8083/v1"),  # -ApiBase given
        (None, "  ", None),  # blank is unset
    ],
)
def test_no_warning_where_nothing_is_misdirected(env_key, monkeypatch, caplog, api_base, base_url, given):
    for name, value in (("OPENAI_API_BASE", api_base), ("OPENAI_BASE_URL", base_url)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        resolve_settings(SettingsRequest(api_base=given))
        if base_url and base_url.strip():
            open_invocation()  # the SDK's dialect takes OPENAI_BASE_URL: nothing to warn about
    assert _warnings(caplog) == []


def test_the_warning_reaches_the_command_line_before_anything_is_sent(env_key, monkeypatch):
    from psopenai_py.powershell.cli import main

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    out, err = io.StringIO(), io.StringIO()
    assert (
        main(["Remove-ChatCompletion", "chatcmpl-x", "-WhatIf"], stdin=io.StringIO(), stdout=out, stderr=err)
        == 0
    )
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("WARNING: OPENAI_BASE_URL is set"), lines
    assert lines[1].startswith("What if:")


# -- the secret commands without a keyring -------------------------------------------------------------


def _fail_text() -> str:
    """keyring's own text for "no backend", which recommends a plaintext backend."""
    try:
        keyring.backends.fail.Keyring().get_password("s", "u")
    except keyring.errors.NoKeyringError as exc:
        return str(exc)
    raise AssertionError("the fail backend answered")


NO_KEYRING = [
    keyring.backends.fail.Keyring(),
    # A backend of another package failing as keyring's fail backend does, with its advice.
    _backend("vendor.chained", keyring.errors.NoKeyringError(_fail_text())),
]


@pytest.mark.parametrize("backend", NO_KEYRING, ids=["fail", "raises NoKeyringError"])
def test_get_secret_without_a_keyring_says_so_and_where_the_key_comes_from(
    use_backend, env_key, caplog, backend
):
    use_backend(backend)
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        info = psopenai_py.get_openai_secret()
    assert (info.ApiKey, info.Organization, info.ApiKeySource) == (None, None, "environment")
    (warning,) = _warnings(caplog)
    assert warning.startswith("There is no OS keyring here")
    assert f"A call takes its key from the environment variable OPENAI_API_KEY ({ENV_KEY_MASKED})." in warning
    assert "keyrings.alt" not in warning and "plaintext" not in warning.lower()
    _assert_no_key(warning, ENV_KEY)


@pytest.mark.parametrize("backend", NO_KEYRING, ids=["fail", "raises NoKeyringError"])
def test_remove_secret_without_a_keyring_says_so_and_where_the_key_comes_from(use_backend, env_key, backend):
    use_backend(backend)
    with pytest.raises(SecretStoreError) as caught:
        psopenai_py.remove_openai_secret()
    text = str(caught.value)
    assert text.startswith("There is no OS keyring here") and "nothing" in text.lower()
    assert f"({ENV_KEY_MASKED})" in text
    assert "keyrings.alt" not in text and "plaintext" not in text.lower()


def test_get_secret_without_a_keyring_or_a_key(use_backend, caplog):
    use_backend(keyring.backends.fail.Keyring())
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        info = psopenai_py.get_openai_secret()
    assert info.ApiKeySource is None
    assert "No key is set anywhere else either" in _warnings(caplog)[0]


CLI_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")},
    "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    "OPENAI_API_KEY": ENV_KEY,
}


def test_the_secret_commands_without_a_keyring_from_the_command_line():
    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "psopenai_py", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            env=CLI_ENV,
            stdin=subprocess.DEVNULL,
        )

    shown = run("Get-OpenAISecret", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert '"ApiKeySource":"environment"' in shown.stdout
    assert shown.stderr.startswith("WARNING: There is no OS keyring here") and ENV_KEY_MASKED in shown.stderr
    removed = run("Remove-OpenAISecret")
    assert removed.returncode == 1 and removed.stderr.startswith(
        "Remove-OpenAISecret: There is no OS keyring"
    )
    for done in (shown, removed):
        text = done.stdout + done.stderr
        assert "keyrings.alt" not in text and "Traceback" not in text
        _assert_no_key(text, ENV_KEY)


# -- a backend's own text that quotes a key -------------------------------------------------------------


class QuotingKeyring(MemoryKeyring):
    """A backend that holds the key, then fails with the stored key in its text (as a backend
    reporting a value it could not decode or delete may)."""

    fail_on: tuple[str, str] = ("get", "OPENAI_ORGANIZATION")
    quoted = CANARY_KEY
    """The key its texts quote (kept after the entry is deleted, as a backend's cache may)."""

    def get_password(self, service: str, username: str) -> str | None:
        if self.fail_on == ("get", username):
            raise keyring.errors.KeyringError(f"entry {username} is corrupt next to '{self.quoted}'.")
        return super().get_password(service, username)

    def delete_password(self, service: str, username: str) -> None:
        if self.fail_on == ("delete", username):
            raise keyring.errors.KeyringError(f"cannot delete {self.quoted!r}")
        super().delete_password(service, username)


@pytest.mark.parametrize(
    ("command", "fail_on"),
    [
        ("get", ("get", "OPENAI_ORGANIZATION")),
        ("get", ("get", "OPENAI_API_KEY")),  # the key quoted was never handed over
        ("remove", ("get", "OPENAI_ORGANIZATION")),
        ("remove", ("delete", "OPENAI_API_KEY")),
        ("remove", ("get", "OPENAI_API_KEY")),
    ],
)
def test_a_backend_quoting_the_key_gets_it_masked(use_backend, capsys, command, fail_on):
    from psopenai_py.compat import Get_OpenAISecret, Remove_OpenAISecret

    backend = use_backend(QuotingKeyring())
    backend.entries[(SERVICE, "OPENAI_API_KEY")] = CANARY_KEY
    backend.entries[(SERVICE, "OPENAI_ORGANIZATION")] = "org-quoted"
    backend.fail_on = fail_on
    with pytest.raises(SecretStoreError) as caught:
        (Get_OpenAISecret if command == "get" else Remove_OpenAISecret)(Verbose=True)
    captured = capsys.readouterr()
    text = "\n".join([str(caught.value), repr(caught.value), captured.out, captured.err])
    assert "corrupt" in text or "cannot delete" in text  # the backend's text is still there
    _assert_no_key(text, CANARY_KEY)


def test_a_backend_quoting_the_key_from_the_command_line(use_backend):
    from psopenai_py.powershell.cli import main

    backend = use_backend(QuotingKeyring())
    backend.entries[(SERVICE, "OPENAI_API_KEY")] = CANARY_KEY
    for command in ("Get-OpenAISecret", "Remove-OpenAISecret"):
        out, err = io.StringIO(), io.StringIO()
        assert main([command], stdout=out, stderr=err) == 1
        assert "corrupt" in err.getvalue()
        _assert_no_key(out.getvalue() + err.getvalue(), CANARY_KEY)


# -- keys read from standard input ----------------------------------------------------------------------


def _stdin(data: bytes) -> io.TextIOWrapper:
    """Standard input as a process has it: text over bytes."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape")


@pytest.mark.parametrize(
    "data",
    [
        STORED_KEY.encode() + b"\n",
        b"\xef\xbb\xbf" + STORED_KEY.encode() + b"\r\n",  # Notepad, PowerShell 7's Out-File -Encoding utf8BOM
        b"\xff\xfe" + (STORED_KEY + "\r\n").encode("utf-16-le"),  # PowerShell 5's Out-File
        b"  " + STORED_KEY.encode() + b" \t\r\nthe next line\n",
    ],
    ids=["plain", "utf-8 BOM and CRLF", "UTF-16 with its BOM", "spaces"],
)
def test_a_key_from_stdin_is_stored_as_the_key(use_backend, monkeypatch, data):
    backend = use_backend(MemoryKeyring())
    monkeypatch.setattr(sys, "stdin", _stdin(data))
    psopenai_py.set_openai_secret()
    assert backend.entries[(SERVICE, "OPENAI_API_KEY")] == STORED_KEY


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"sk-proj-abc\x00def0123456789\n", "a control character at position 12"),
        (b"sk-proj-abc\xffdef0123456789\n", "is not UTF-8 text (byte 12)"),
        ("sk-proj-abcé0123456789\n".encode(), "a non-ASCII character at position 12"),
        (b"\xef\xbb\xbf\r\n", "empty API key"),
        (b"sk-" + b"a" * 70_000, "no line end within"),
    ],
    ids=["NUL", "not UTF-8", "accent", "BOM alone", "no line end"],
)
def test_a_key_from_stdin_that_could_not_be_used_is_refused(use_backend, monkeypatch, data, problem):
    backend = use_backend(MemoryKeyring())
    monkeypatch.setattr(sys, "stdin", _stdin(data))
    with pytest.raises(ParameterBindingError) as caught:
        psopenai_py.set_openai_secret()
    assert problem in str(caught.value)
    assert backend.entries == {}


def test_a_key_from_stdin_is_checked_before_the_keyring_from_the_command_line():
    """A NUL in the piped key: refused with exit 2 before the keyring is asked (with the fail
    backend, a key that passed the checks would reach it and fail there, with exit 1)."""

    def run(data: bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "psopenai_py", "Set-OpenAISecret"],
            input=data,
            capture_output=True,
            timeout=60,
            env=CLI_ENV,
        )

    refused = run(b"sk-proj-abc\x00def0123456789\n")
    assert refused.returncode == 2, refused.stderr
    assert b"control character" in refused.stderr and b"Traceback" not in refused.stderr
    accepted = run(b"\xef\xbb\xbf" + STORED_KEY.encode() + b"\r\n")
    assert accepted.returncode == 1 and accepted.stderr.startswith(b"Set-OpenAISecret: No usable OS keyring")
    not_text = run(b"sk-proj-abc\xffdef0123456789\n")
    assert not_text.returncode == 2 and b"not UTF-8 text" in not_text.stderr
