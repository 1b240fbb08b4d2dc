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
import math
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import SecretStoreError
from .scrub import scrub

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
    "KeyringAborted",
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
_TIMEOUT_LONGEST = min(86400.0, threading.TIMEOUT_MAX)
_WHAT_TO_DO = (
    "Set the OPENAI_API_KEY environment variable instead, or run a Secret Service "
    "(gnome-keyring, KWallet, macOS Keychain, Windows Credential Manager), or choose a "
    "backend with PYTHON_KEYRING_BACKEND."
)

T = TypeVar("T")


class KeyringTimeout(Exception):
    """A keyring call did not answer in time."""


class KeyringAborted(Exception):
    """A backend raised KeyboardInterrupt, SystemExit or another BaseException in the worker
    thread: no real interrupt or exit of this process, so not passed on as one."""


def keyring_timeout() -> float:
    """Seconds a keyring call may take: the environment's value, else by whether a person is there.

    A value that is not a positive finite number (``nan``, ``inf``, ``0``, ``-1``, ``abc``) would
    mean "never" or "at once": the default is used instead, with a warning.
    """
    interactive = sys.stdin is not None and sys.stdin.isatty()
    default = _TIMEOUT_INTERACTIVE if interactive else _TIMEOUT_UNATTENDED
    configured = os.environ.get(TIMEOUT_ENV)
    if configured is None or not configured.strip():
        return default
    try:
        value = float(configured)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        log.warning(
            "%s=%r is not a positive number of seconds; using the default %g s.",
            TIMEOUT_ENV,
            configured[:40],
            default,
        )
        return default
    if value > _TIMEOUT_LONGEST:
        # Past threading.TIMEOUT_MAX a thread's join raises OverflowError; a day is "forever" here.
        log.warning(
            "%s=%r is more than %g s; using %g s.",
            TIMEOUT_ENV,
            configured[:40],
            _TIMEOUT_LONGEST,
            _TIMEOUT_LONGEST,
        )
        return _TIMEOUT_LONGEST
    return value


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
        error: BaseException = outcome["error"]
        if not isinstance(error, Exception):
            raise KeyringAborted(f"the keyring backend raised {type(error).__name__}") from None
        raise error
    return outcome["value"]  # type: ignore[no-any-return]


def read(setting: str) -> str | None:
    """The stored value of a setting, or None when it is not there or the keyring cannot tell.

    Never raises: no backend, the fail or null backend, a misspelt ``PYTHON_KEYRING_BACKEND``, a
    locked collection, a timeout or any other keyring error all mean "not found there", logged at
    DEBUG.
    """
    try:
        return fetch(setting)
    except Exception as exc:  # best-effort by design: the keyring is optional on read
        log.debug("OS keyring not used for %s (not found there): %s", setting, exc)
        return None


def _keyring() -> Any:
    import keyring

    return keyring


def _run(action: str, operation: Callable[[Any, Any], T], *, secret: str | None = None) -> T:
    """``operation(keyring module, backend)`` with the import, the backend discovery and the call
    all inside one timeout; whatever goes wrong is a SecretStoreError whose message holds no
    secret (``secret`` is scrubbed out of it too)."""

    def work() -> T:
        keyring = _keyring()
        return operation(keyring, keyring.get_keyring())

    timeout = keyring_timeout()
    try:
        return call_with_timeout(work, timeout)
    except SecretStoreError:
        raise
    except KeyringTimeout as exc:
        message = f"The OS keyring could not {action}: {exc}. {_WHAT_TO_DO}"
    except Exception as exc:
        # The backend's own text often ends in a full stop; the message adds its own.
        problem = f"{type(exc).__name__}: {str(exc).rstrip().rstrip('.')}{_backend_hint(exc)}"
        message = f"The OS keyring could not {action}: {problem}. {_WHAT_TO_DO}"
    raise SecretStoreError(scrub(message, (secret,))) from None


def _backend_hint(exc: BaseException) -> str:
    """What to check when the configured backend could not even be loaded."""
    configured = os.environ.get("PYTHON_KEYRING_BACKEND")
    if configured and isinstance(exc, (ImportError, AttributeError, TypeError, ValueError)):
        return (
            f" (PYTHON_KEYRING_BACKEND={configured!r} could not be loaded: check its spelling, "
            "for example keyring.backends.SecretService.Keyring)"
        )
    return ""


def _text(value: Any, setting: str) -> str | None:
    """A stored value as text: str as is, UTF-8 bytes decoded, anything else refused."""
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8") or None
        except UnicodeDecodeError:
            raise SecretStoreError(
                f"The OS keyring returned {setting} as bytes that are not UTF-8 text; store it "
                "again with Set-OpenAISecret."
            ) from None
    raise SecretStoreError(
        f"The OS keyring returned {setting} as a {type(value).__name__}, not text; store it again "
        "with Set-OpenAISecret."
    )


def backend_name() -> str:
    """The active keyring backend, as ``module.Class``."""
    backend = _run("be reached", lambda keyring, backend: backend)
    return f"{type(backend).__module__.replace('keyring.backends.', '')}.{type(backend).__name__}"


def _check_backend_can_store(backend: Any) -> None:
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
    value = _run("be read", lambda keyring, backend: backend.get_password(SERVICE_NAME, USERNAMES[setting]))
    return _text(value, setting)


def store(setting: str, value: str) -> None:
    """Store a value under the package's service; SecretStoreError says what to do on failure."""

    def operation(keyring: Any, backend: Any) -> None:
        _check_backend_can_store(backend)
        backend.set_password(SERVICE_NAME, USERNAMES[setting], value)

    _run(f"store {setting}", operation, secret=value)


def delete(setting: str) -> bool:
    """Delete a stored value; False when nothing was stored."""

    def operation(keyring: Any, backend: Any) -> bool:
        try:
            backend.delete_password(SERVICE_NAME, USERNAMES[setting])
        except keyring.errors.PasswordDeleteError:
            return False
        return True

    return _run(f"delete {setting}", operation)
