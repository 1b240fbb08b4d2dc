"""The keyring's backends at their edges: any exception a backend raises (BaseExceptions too) is a
SecretStoreError without the key, bytes, misspelt backends, hanging discovery, and keyring
timeouts out of range."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import keyring
import keyring.backend
import keyring.core
import keyring.errors
import pytest

import psopenai_py
from psopenai_py import keyring_store
from psopenai_py import settings as settings_module
from psopenai_py.errors import PSOpenAIError, SecretStoreError

from .key_leaks import KEY, leaks

# -- the keyring's edges --------------------------------------------------------------------------


class Memory(keyring.backend.KeyringBackend):
    priority = -1

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        super().__init__()
        self.value = value
        self.error = error

    def get_password(self, service: str, username: str) -> Any:
        if self.error is not None:
            raise self.error
        return self.value if username == "OPENAI_API_KEY" else None

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.error is not None:
            raise self.error
        self.value = password

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.PasswordDeleteError("none")


@pytest.fixture
def backend(monkeypatch) -> Iterator[Any]:
    previous = keyring.get_keyring()
    monkeypatch.setattr(settings_module, "keyring_reader", settings_module._from_keyring)
    monkeypatch.setenv("PSOPENAI_KEYRING_TIMEOUT", "2")

    def install(value: Any) -> Any:
        keyring.set_keyring(value)
        return value

    yield install
    keyring.set_keyring(previous)


@pytest.mark.parametrize(
    "error", [RuntimeError(f"dbus said {KEY}"), KeyError(KEY), keyring.errors.InitError(KEY)]
)
def test_any_backend_exception_is_a_secret_store_error_without_the_key(backend, error):
    backend(Memory(error=error))
    with pytest.raises(SecretStoreError) as caught:
        psopenai_py.set_openai_secret(KEY)
    assert leaks(str(caught.value) + repr(caught.value)) == []
    assert type(error).__name__ in str(caught.value)
    assert keyring_store.read("OPENAI_API_KEY") is None  # on read: not found there


def test_bytes_from_the_keyring_are_decoded_or_refused(backend):
    backend(Memory(value=KEY.encode()))
    assert keyring_store.fetch("OPENAI_API_KEY") == KEY
    backend(Memory(value=b"\xff\xfe"))
    with pytest.raises(SecretStoreError, match="not UTF-8"):
        keyring_store.fetch("OPENAI_API_KEY")
    backend(Memory(value=12345))
    with pytest.raises(SecretStoreError, match="not text"):
        keyring_store.fetch("OPENAI_API_KEY")


def test_a_misspelt_backend_is_a_clear_error_and_not_found_on_read(monkeypatch):
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretServce.Keyring")
    monkeypatch.setenv("PSOPENAI_KEYRING_TIMEOUT", "5")
    with pytest.raises(SecretStoreError) as caught:
        psopenai_py.get_openai_secret()
    assert "check its spelling" in str(caught.value)
    assert keyring_store.read("OPENAI_API_KEY") is None


def test_set_secret_never_hangs_when_backend_discovery_hangs(monkeypatch):
    release = threading.Event()

    def hang() -> Any:
        release.wait(10)
        raise RuntimeError("too late")

    monkeypatch.setattr(keyring, "get_keyring", hang)
    monkeypatch.setenv("PSOPENAI_KEYRING_TIMEOUT", "0.3")
    started = time.monotonic()
    try:
        with pytest.raises(SecretStoreError, match=r"did not answer within 0\.3 s"):
            psopenai_py.set_openai_secret(KEY)
        assert time.monotonic() - started < 2
    finally:
        release.set()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "abc", "1e999"])
def test_a_bad_keyring_timeout_falls_back_with_a_warning(monkeypatch, caplog, value):
    monkeypatch.setenv("PSOPENAI_KEYRING_TIMEOUT", value)
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        timeout = keyring_store.keyring_timeout()
    assert timeout in (5.0, 60.0)
    assert any("PSOPENAI_KEYRING_TIMEOUT" in m and "default" in m for m in caplog.messages)


# -- keyring timeouts out of range, backends raising BaseExceptions --------------------------------


@pytest.mark.parametrize("value", ["1e10", "1e308", "9223372036854775807"])
def test_a_huge_keyring_timeout_is_capped_not_an_overflow(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    monkeypatch.setenv(keyring_store.TIMEOUT_ENV, value)
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        timeout = keyring_store.keyring_timeout()
    assert timeout <= threading.TIMEOUT_MAX
    assert keyring_store.call_with_timeout(lambda: 42, timeout) == 42
    assert keyring_store.TIMEOUT_ENV in caplog.text


class _Aborting:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def get_password(self, service: str, username: str) -> Any:
        raise self.error


@pytest.mark.parametrize("error", [KeyboardInterrupt(), SystemExit(3), GeneratorExit()])
def test_a_backend_raising_a_base_exception_is_a_secret_store_error(
    monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    backend = _Aborting(error)
    fake = type("FakeKeyring", (), {"get_keyring": staticmethod(lambda: backend)})
    monkeypatch.setattr(keyring_store, "_keyring", lambda: fake)
    with pytest.raises(SecretStoreError) as caught:
        keyring_store.fetch("OPENAI_API_KEY")
    assert type(error).__name__ in str(caught.value)
    assert keyring_store.read("OPENAI_API_KEY") is None  # best-effort read: "not found there"


def test_a_secret_store_error_is_a_package_exception() -> None:
    assert issubclass(SecretStoreError, PSOpenAIError)
