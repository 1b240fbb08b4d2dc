"""The OS keyring as the last step of the key and organization resolution.

``keyring`` is imported here only, and this module only when the resolution reaches the keyring
step, because importing keyring and discovering its backend costs 100-250 ms.

Every keyring call runs in a daemon thread with a timeout: keyring has no timeout of its own and a
backend waiting for an unlock prompt nobody answers would otherwise hang the process.  A
``ThreadPoolExecutor`` is not used because its worker threads keep the process from exiting.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["SERVICE_NAME", "USERNAMES", "read", "call_with_timeout", "keyring_timeout"]

log = logging.getLogger("psopenai_py")

SERVICE_NAME = "psopenai_py"
"""The keyring service every secret of this package is stored under."""

USERNAMES = {"OPENAI_API_KEY": "OPENAI_API_KEY", "OPENAI_ORGANIZATION": "OPENAI_ORGANIZATION"}
"""The keyring username of each setting (recognisable in Seahorse or Keychain Access)."""

TIMEOUT_ENV = "PSOPENAI_KEYRING_TIMEOUT"
# Short when nobody can answer an unlock prompt, long enough for a person typing a password.
_TIMEOUT_UNATTENDED = 5.0
_TIMEOUT_INTERACTIVE = 60.0

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
        raise KeyringTimeout(f"the keyring did not answer within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def read(setting: str) -> str | None:
    """The stored value of a setting, or None when it is not there or the keyring cannot tell.

    Never raises: no backend, the fail or null backend, a locked collection, a timeout or any
    other keyring error all mean "not found there", logged at DEBUG.
    """
    username = USERNAMES[setting]
    try:
        import keyring

        value = call_with_timeout(
            lambda: keyring.get_password(SERVICE_NAME, username), keyring_timeout()
        )
    except Exception as exc:  # best-effort by design: the keyring is optional on read
        log.debug("OS keyring not used for %s: %s: %s", setting, type(exc).__name__, exc)
        return None
    return value or None
