"""The OS keyring: the last step of the key and organization resolution, and the store behind
Set-, Get- and Remove-OpenAISecret.

``keyring`` is imported here only, and this module only when needed, because importing keyring
and discovering its backend costs 100-250 ms.

Every keyring call runs in a daemon thread with a timeout: keyring has no timeout of its own and a
backend waiting for an unlock prompt nobody answers would otherwise hang the process.  A
``ThreadPoolExecutor`` is not used because its worker threads keep the process from exiting.

Reads for the resolution are best-effort (any problem means "not found there", and why goes
with the error that no key was found: :func:`read_or_why`); the secret commands get clear errors
instead.  Every error says which keyring and what to do, in this package's words: a locked
keyring is named with how to unlock it, no keyring at all is said plainly (keyring's own advice
to install a plaintext backend is never passed on), and a backend's text loses anything shaped
like a key.  Nothing is ever written to a plaintext file.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .errors import SecretStoreError
from .scrub import KEY_PLACEHOLDER, scrub

__all__ = [
    "SERVICE_NAME",
    "USERNAMES",
    "read",
    "read_or_why",
    "fetch",
    "store",
    "delete",
    "backend_name",
    "call_with_timeout",
    "keyring_timeout",
    "SecretStoreError",
    "NoKeyringError",
    "check_can_store",
    "KeyringLockedError",
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


class NoKeyringError(SecretStoreError):
    """There is no OS keyring to ask: keyring found no backend, or was turned off."""


class KeyringLockedError(SecretStoreError):
    """The OS keyring is locked (its unlock prompt was dismissed or could not be shown)."""


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
    return read_or_why(setting)[0]


def read_or_why(setting: str) -> tuple[str | None, str | None]:
    """The stored value of a setting and, when the keyring could not be asked, why not.

    ``(value, None)`` when the keyring answered (``value`` None when nothing is stored);
    ``(None, why)`` when it could not be read: no OS keyring, a locked one, a timeout, a backend
    error.  ``why`` is one or two sentences for a person, naming the keyring and what to do.
    Never raises, as :func:`read`.
    """
    try:
        return fetch(setting), None
    except Exception as exc:  # best-effort by design: the keyring is optional on read
        log.debug("OS keyring not used for %s (not found there): %s", setting, exc)
        return None, str(exc)


def _keyring() -> Any:
    import keyring

    return keyring


def _run(
    action: str,
    operation: Callable[[Any, Any], T],
    *,
    secret: str | None = None,
    known: Iterable[str | None] = (),
    checked: bool = False,
) -> T:
    """``operation(keyring module, backend)`` with the import, the backend discovery and the call
    all inside one timeout; whatever goes wrong is a SecretStoreError whose message holds no
    secret: ``secret``, every value in ``known`` (what the caller has read or holds) and every key
    in play are scrubbed out of it, for a backend's own text may quote what it stores.
    ``checked``: the operation checks the backend itself (storing refuses more than no keyring)."""
    seen: dict[str, Any] = {}

    def work() -> T:
        keyring = _keyring()
        backend = keyring.get_keyring()
        seen["backend"] = backend
        missing = "" if checked else _no_keyring(backend)
        if missing:
            # Checked before the call: the fail backend's own error recommends installing a
            # plaintext backend, which this package never suggests.
            raise NoKeyringError(missing)
        return operation(keyring, backend)

    timeout = keyring_timeout()
    hidden = (secret, *known)
    try:
        return call_with_timeout(work, timeout)
    except SecretStoreError as exc:
        raise type(exc)(scrub(str(exc), hidden)) from None
    except KeyringTimeout as exc:
        # The usual cause: a locked keyring showing an unlock prompt that nobody answers.
        message = (
            f"The OS keyring could not {action}: {exc}; a locked keyring waiting for its unlock "
            f"prompt does that. {_WHAT_TO_DO}"
        )
    except Exception as exc:
        backend = seen.get("backend")
        if backend is not None and _is_locked_error(exc):
            raise KeyringLockedError(scrub(_locked_message(backend, action), hidden)) from None
        if backend is not None and _is_no_keyring_error(exc):
            raise NoKeyringError(scrub(_NO_KEYRING_FOUND, hidden)) from None
        if str(exc).startswith(_UNREACHABLE):
            # The Secret Service backend chosen where no session bus runs (a server, a container):
            # no keyring here, as with the fail backend, rather than a keyring that failed.
            why = _third_party_text(exc)[len(_UNREACHABLE) :].strip(" :")
            raise NoKeyringError(
                scrub(f"There is no OS keyring here: the Secret Service cannot be reached ({why}).", hidden)
            ) from None
        # The backend's own text often ends in a full stop; the message adds its own.
        problem = f"{type(exc).__name__}: {_third_party_text(exc)}{_backend_hint(exc)}"
        message = f"The OS keyring could not {action}: {problem}. {_WHAT_TO_DO}"
    raise SecretStoreError(scrub(message, hidden)) from None


def _third_party_text(exc: BaseException) -> str:
    """A backend's error text, without a trailing full stop, without any advice to install a
    plaintext backend (keyring's own errors give it; this package never stores in plaintext), and
    without anything shaped like a key: a backend may quote a stored value that was never handed
    to this package, so the scrubber, which removes the values it knows, cannot know that one."""
    text = _KEY_SHAPED.sub(KEY_PLACEHOLDER, str(exc)).rstrip().rstrip(".")
    sentences = [s for s in re.split(r"(?<=[.;])\s+", text) if not _PLAINTEXT_ADVICE.search(s)]
    return " ".join(sentences).rstrip().rstrip(".;") or "(no text)"


_KEY_SHAPED = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}|\b[0-9a-fA-F]{32}\b")
"""OpenAI keys (``sk-``, ``sk-proj-``, ``sk-svcacct-``...) and Azure OpenAI keys (32 hex digits)."""
_PLAINTEXT_ADVICE = re.compile(r"(?i)keyrings\.alt|plain ?text|non-recommended backend")

_NO_KEYRING_FOUND = (
    "There is no OS keyring here: keyring found no backend it can use (no Secret Service, macOS "
    "Keychain, Windows Credential Manager or KWallet)."
)


def _no_keyring(backend: Any) -> str:
    """Why ``backend`` is no OS keyring at all (the fail or null backend, or a chain of none),
    as a sentence; empty when it is one."""
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    by_setting = os.environ.get("PYTHON_KEYRING_BACKEND", "").strip() == name
    chained = getattr(backend, "backends", None)
    if name.startswith("keyring.backends.null."):
        how = "PYTHON_KEYRING_BACKEND turns it off" if by_setting else "keyring is turned off"
        return f"There is no OS keyring here: {how} ({_label(backend)})."
    if name.startswith("keyring.backends.fail.") or (isinstance(chained, (list, tuple)) and not chained):
        if by_setting:
            return f"There is no OS keyring here: PYTHON_KEYRING_BACKEND chooses none ({_label(backend)})."
        return _NO_KEYRING_FOUND
    return ""


def _is_locked_error(exc: BaseException) -> bool:
    """keyring's KeyringLocked, or a backend library's own locked error (secretstorage's
    LockedException), by name: keyring is not imported at this module's level."""
    return any(cls.__name__ in ("KeyringLocked", "LockedException") for cls in type(exc).__mro__)


_UNREACHABLE = "Unable to initialize SecretService"
"""How keyring's Secret Service backend says it cannot reach the service (no D-Bus session)."""


def _is_no_keyring_error(exc: BaseException) -> bool:
    return any(cls.__name__ == "NoKeyringError" for cls in type(exc).__mro__)


def _locked_message(backend: Any, action: str) -> str:
    """Which keyring is locked, and how to unlock it on that system."""
    label = _label(backend)
    module = type(backend).__module__.lower()
    if "secretservice" in module or "libsecret" in module:
        where = "the Secret Service's default collection, usually the Login keyring"
        how = (
            "Unlock it in the desktop session (Passwords and Keys, or log in again; on a machine "
            "without a desktop, start gnome-keyring-daemon with --unlock and the password on its "
            "standard input)"
        )
    elif "macos" in module:
        where = "the login keychain"
        how = "Unlock it with `security unlock-keychain` (it asks for the login password)"
    elif "kwallet" in module:
        where = "the KDE wallet"
        how = "Open KDE Wallet Manager and unlock the wallet"
    else:
        where = "its collection"
        how = "Unlock it with your system's keyring tool"
    return (
        f"The OS keyring ({label}: {where}) is locked, so it could not {action}. {how}, then run "
        "the command again."
    )


def _label(backend: Any) -> str:
    """A backend as ``module.Class`` without keyring's package prefix."""
    return f"{type(backend).__module__.replace('keyring.backends.', '')}.{type(backend).__name__}"


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
    """The active keyring backend, as ``module.Class``; never raises (a backend that cannot even
    be loaded is named by the configured ``PYTHON_KEYRING_BACKEND``, or as unknown)."""

    def load() -> Any:
        return _keyring().get_keyring()

    try:
        return _label(call_with_timeout(load, keyring_timeout()))
    except Exception:  # only a name for a message or an output: the caller reports the failure
        return os.environ.get("PYTHON_KEYRING_BACKEND") or "unknown"


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


def check_can_store() -> None:
    """Raise the SecretStoreError :func:`store` would raise for the backend itself (no OS keyring,
    only a plaintext or failing one), without storing anything: asked before a key is typed, so
    that nobody pastes a key only to hear that it cannot be kept."""

    def operation(keyring: Any, backend: Any) -> None:
        _check_backend_can_store(backend)

    _run("store a key", operation, checked=True)


def fetch(setting: str, *, known: Iterable[str | None] = ()) -> str | None:
    """The stored value, raising SecretStoreError when the keyring cannot be asked (its message
    without any of ``known``: values the caller holds, which a backend's text may quote)."""
    username = USERNAMES[setting]

    def operation(keyring: Any, backend: Any) -> Any:
        return backend.get_password(SERVICE_NAME, username)

    value = _run("be read", operation, known=known)
    return _text(value, setting)


def store(setting: str, value: str) -> None:
    """Store a value under the package's service; SecretStoreError says what to do on failure."""

    def operation(keyring: Any, backend: Any) -> None:
        _check_backend_can_store(backend)
        backend.set_password(SERVICE_NAME, USERNAMES[setting], value)

    _run(f"store {setting}", operation, secret=value, checked=True)


def delete(setting: str, *, known: Iterable[str | None] = ()) -> bool:
    """Delete a stored value; False when nothing was stored.  ``known`` as for :func:`fetch`."""

    def operation(keyring: Any, backend: Any) -> bool:
        try:
            backend.delete_password(SERVICE_NAME, USERNAMES[setting])
        except keyring.errors.PasswordDeleteError:
            return False
        return True

    return _run(f"delete {setting}", operation, known=known)
