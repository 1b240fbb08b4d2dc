"""The OS keyring: the last step of the key and organization resolution, and the store behind
Set-, Get- and Remove-OpenAISecret.

``keyring`` is imported here only, and this module only when needed, because importing keyring
and discovering its backend costs 100-250 ms.

Every keyring call runs in a daemon thread with a timeout: keyring has no timeout of its own and a
backend waiting for an unlock prompt nobody answers would otherwise hang the process.  A
``ThreadPoolExecutor`` is not used because its worker threads keep the process from exiting.

Reads for the resolution are best-effort (any problem means "not found there"); the secret
commands get clear errors instead.  Nothing is ever written to a plaintext file.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import SecretStoreError

__all__ = [
    "SERVICE_NAME",
    "USERNAMES",
    "read",
    "fetch",
    "store",
    "delete",
    "backend_name",
    "call_with_timeout",
    "keyring_timeout",
    "SecretStoreError",
    "KeyringTimeout",
]

log = logging.getLogger("psopenai_py")

SERVICE_NAME = "psopenai_py"
"""The keyring service every secret of this package is stored under."""

USERNAMES = {"OPENAI_API_KEY": "OPENAI_API_KEY", "OPENAI_ORGANIZATION": "OPENAI_ORGANIZATION"}
"""The keyring username of each setting (recognisable in Seahorse or Keychain Access, and usable
with ``keyring get psopenai_py OPENAI_API_KEY`` or ``secret-tool lookup service psopenai_py
username OPENAI_API_KEY``)."""

TIMEOUT_ENV = "PSOPENAI_KEYRING_TIMEOUT"
# Short when nobody can answer an unlock prompt, long enough for a person typing a password.
_TIMEOUT_UNATTENDED = 5.0
_TIMEOUT_INTERACTIVE = 60.0
_WHAT_TO_DO = (
    "Set the OPENAI_API_KEY environment variable instead, or run a Secret Service "
    "(gnome-keyring, KWallet, macOS Keychain, Windows Credential Manager), or choose a "
    "backend with PYTHON_KEYRING_BACKEND."
)

T = TypeVar("T")


class KeyringTimeout(Exception):
    """A keyring call did not answer in time."""


def keyring_timeout() -> float:
    """Seconds a keyring call may take: the environment's value, else by whether a person is there."""
    configured = os.environ.get(TIMEOUT_ENV)
    if configured:
        try:
            return max(float(configured), 0.0)
        except ValueError:
            log.debug("%s=%r is not a number; using the default.", TIMEOUT_ENV, configured)
    interactive = sys.stdin is not None and sys.stdin.isatty()
    return _TIMEOUT_INTERACTIVE if interactive else _TIMEOUT_UNATTENDED


def call_with_timeout(function: Callable[[], T], timeout: float) -> T:
    """Run ``function`` in a daemon thread; raise KeyringTimeout when it takes longer than allowed."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:  # handed back to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="psopenai-keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise KeyringTimeout(
            f"the OS keyring did not answer within {timeout:g} s (set {TIMEOUT_ENV} to wait longer)"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def read(setting: str) -> str | None:
    """The stored value of a setting, or None when it is not there or the keyring cannot tell.

    Never raises: no backend, the fail or null backend, a locked collection, a timeout or any
    other keyring error all mean "not found there", logged at DEBUG.
    """
    try:
        return fetch(setting)
    except Exception as exc:  # best-effort by design: the keyring is optional on read
        log.debug("OS keyring not used for %s: %s: %s", setting, type(exc).__name__, exc)
        return None


def _keyring() -> Any:
    import keyring

    return keyring


def backend_name() -> str:
    """The active keyring backend, as ``module.Class``."""
    backend = _keyring().get_keyring()
    return f"{type(backend).__module__.replace('keyring.backends.', '')}.{type(backend).__name__}"


def _check_backend_can_store() -> None:
    backend = _keyring().get_keyring()
    parts = list(getattr(backend, "backends", [])) or [backend]
    names = [f"{type(b).__module__}.{type(b).__name__}" for b in parts]
    usable = [
        n
        for n in names
        if not (
            n.startswith(("keyring.backends.fail.", "keyring.backends.null.")) or "plaintext" in n.lower()
        )
    ]
    if not usable:
        raise SecretStoreError(
            f"No usable OS keyring backend (found: {', '.join(names)}); nothing was stored. " + _WHAT_TO_DO
        )


def fetch(setting: str) -> str | None:
    """The stored value, raising SecretStoreError when the keyring cannot be asked."""
    keyring = _keyring()
    try:
        value = call_with_timeout(
            lambda: keyring.get_password(SERVICE_NAME, USERNAMES[setting]), keyring_timeout()
        )
    except (KeyringTimeout, keyring.errors.KeyringError) as exc:
        raise SecretStoreError(f"The OS keyring could not be read: {exc}. {_WHAT_TO_DO}") from None
    return value or None


def store(setting: str, value: str) -> None:
    """Store a value under the package's service; SecretStoreError says what to do on failure."""
    keyring = _keyring()
    _check_backend_can_store()
    try:
        call_with_timeout(
            lambda: keyring.set_password(SERVICE_NAME, USERNAMES[setting], value), keyring_timeout()
        )
    except (KeyringTimeout, keyring.errors.KeyringError) as exc:
        raise SecretStoreError(
            f"The OS keyring could not store {setting}: {type(exc).__name__}: {exc}. {_WHAT_TO_DO}"
        ) from None


def delete(setting: str) -> bool:
    """Delete a stored value; False when nothing was stored."""
    keyring = _keyring()
    try:
        call_with_timeout(
            lambda: keyring.delete_password(SERVICE_NAME, USERNAMES[setting]), keyring_timeout()
        )
    except keyring.errors.PasswordDeleteError:
        return False
    except (KeyringTimeout, keyring.errors.KeyringError) as exc:
        raise SecretStoreError(
            f"The OS keyring could not delete {setting}: {type(exc).__name__}: {exc}. {_WHAT_TO_DO}"
        ) from None
    return True
