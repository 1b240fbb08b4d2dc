"""Settings: the process-wide context, and their resolution for one invocation.

Resolution order, first found wins (PSOpenAI's, plus the OS keyring at the end):

=============  ==========================================================================
API key        parameter -> context -> module global -> environment -> OS keyring
API base       parameter -> context -> module global -> environment -> default
Organization   parameter -> context -> module global -> environment -> OS keyring (when the key
               came from there) -> none
the others     parameter -> context (whose defaults are OpenAI, openai, '', 0, 0)
=============  ==========================================================================

"Module global" means the attributes ``psopenai_py.OPENAI_API_KEY``, ``OPENAI_API_BASE`` and
``OPENAI_ORGANIZATION``, which play the part of PowerShell's ``$global:`` variables.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import checks, scrub
from .errors import MissingSettingError
from .masking import mask_key, mask_organization, redact
from .records import Record
from .secret import Secret

__all__ = [
    "OpenAIContext",
    "Settings",
    "SettingsRequest",
    "resolve_settings",
    "get_context",
    "modify_context",
    "DEFAULT_API_BASE",
    "find_api_key",
    "KEY_SOURCES",
    "KeyringUnreadable",
]

log = logging.getLogger("psopenai_py")

DEFAULT_API_BASE = "https://api.openai.com/v1"
API_KEY_NAME = "OPENAI_API_KEY"
API_BASE_NAME = "OPENAI_API_BASE"
SDK_BASE_NAME = "OPENAI_BASE_URL"
"""The official SDK's and CLI's name for the base URL: read by those dialects, not by PSOpenAI's
commands, which warn when only it is set (see :func:`_warn_about_sdk_base`)."""
ORGANIZATION_NAME = "OPENAI_ORGANIZATION"
MISSING_KEY_MESSAGE = 'Please specify your OpenAI API key to "ApiKey" parameter.'
MISSING_AZURE_BASE_MESSAGE = 'Please specify your Azure OpenAI Endpoint to "ApiBase" parameter.'


# The records below are records (see psopenai_py.records), not dataclasses: settings load on
# every command line.


def _shown_organization(organization: str | None) -> str | None:
    """An organization as a repr shows it: masked as in the verbose lines."""
    return mask_organization(organization) if organization else None


class OpenAIContext(Record, eq=True):
    """What Set-OpenAIContext stores: the eight values, with their defaults.  Frozen: a change is
    a new context (:meth:`replace`); two contexts with the same values are equal."""

    ApiKey: Secret | None = None
    ApiType: str = "OpenAI"
    ApiBase: str | None = None
    ApiVersion: str = ""
    AuthType: str = "openai"
    Organization: str | None = None
    TimeoutSec: int = 0
    MaxRetryCount: int = 0

    def _shown(self) -> dict[str, Any]:
        # The organization is masked as in the verbose lines; the key is a Secret already.
        return {**self.as_dict(), "Organization": _shown_organization(self.Organization)}


_context = OpenAIContext()
_context_lock = threading.Lock()


def get_context() -> OpenAIContext:
    """The process context as it stands (the commands in ``commands/context.py`` change it)."""
    return _context


def modify_context(change: Callable[[OpenAIContext], OpenAIContext]) -> None:
    """Replace the process context by ``change(current)``, atomically (the context commands in
    ``commands/context.py`` are its only writers)."""
    global _context
    with _context_lock:
        _context = change(_context)


class SettingsRequest(Record):
    """The settings parameters of one invocation, already type-checked; None means not given."""

    api_key: Secret | None = None
    api_type: str | None = None
    api_base: str | None = None
    api_version: str | None = None
    auth_type: str | None = None
    organization: str | None = None
    timeout_sec: int | None = None
    max_retry_count: int | None = None
    given_empty: frozenset[str] = frozenset()
    """Settings given explicitly as empty or null (``-Organization ''``, ``-ApiKey $null``):
    they pass over the context and fall to the global, then the environment, as the
    original's ParseCommonParams does ("ApiKey", "Organization")."""

    def _shown(self) -> dict[str, Any]:
        # The organization is masked as in the verbose lines; the key is a Secret already.
        return {**self.as_dict(), "organization": _shown_organization(self.organization)}


class Settings(Record):
    """Fully resolved settings for one invocation."""

    api_key: Secret
    api_base: str
    api_type: str
    auth_type: str
    api_version: str
    organization: str | None
    timeout_sec: int
    max_retry_count: int

    @property
    def service(self) -> str:
        """The service's name in error messages: ``OpenAI`` or ``Azure OpenAI``."""
        return "Azure OpenAI" if self.auth_type.startswith("azure") else "OpenAI"

    def redact(self, text: str) -> str:
        """``text`` with this invocation's key, tokens and organization removed."""
        return redact(text, keys=(self.api_key,), organizations=(self.organization,))

    def __repr__(self) -> str:
        return (
            f"Settings(api_base={self.api_base!r}, api_type={self.api_type!r}, "
            f"auth_type={self.auth_type!r}, organization="
            f"{_shown_organization(self.organization)!r}, "
            f"timeout_sec={self.timeout_sec}, max_retry_count={self.max_retry_count})"
        )


def _module_global(name: str) -> Any:
    package = sys.modules.get("psopenai_py")
    return getattr(package, name, None) if package is not None else None


class KeyringUnreadable(Exception):
    """Raised by a keyring reader when the keyring could not be asked; its text says why (which
    keyring, and what to do), for the message that no key was found."""


def _from_keyring(setting: str) -> str | None:
    """The OS keyring step of the resolution order, consulted after the environment.

    Reads are best-effort: a missing backend or any keyring error means "not found there", raised
    as :class:`KeyringUnreadable` so that a missing key can be explained.
    """
    from . import keyring_store  # imported only when this step is reached: keyring is slow to load

    value, why = keyring_store.read_or_why(setting)
    if why is not None:
        raise KeyringUnreadable(why)
    return value


# The keyring reader is a hook so that a process (or a test) can turn the step off or replace it.
keyring_reader: Callable[[str], str | None] = _from_keyring


def _keyring_step(setting: str) -> tuple[str | None, str | None]:
    """The keyring reader's value, and why the keyring could not be read (one verbose line)."""
    try:
        return keyring_reader(setting), None
    except KeyringUnreadable as exc:
        why = str(exc)
        log.info("The OS keyring was not read for %s: %s", setting, why)
        return None, why


_KEY_SOURCE_LINES = {
    "global": f'API Key found in global variable "{API_KEY_NAME}".',
    "environment": f'API Key found in environment variable "{API_KEY_NAME}".',
    "keyring": "API Key found in the OS keyring.",
}


def find_api_key(
    given: Secret | None = None, *, skip_context: bool = False, keyring: bool = True
) -> tuple[Secret | None, str | None]:
    """The key and where it comes from (parameter, context, global, environment, keyring), or
    (None, None); the resolution order without its verbose lines.  ``skip_context``: the key
    was given explicitly empty, which passes over the context; ``keyring=False`` stops before
    the keyring (for a caller that reads the keyring itself)."""
    key, source, _ = _lookup_api_key(given, skip_context=skip_context, keyring=keyring)
    return key, source


def _lookup_api_key(
    given: Secret | None, *, skip_context: bool = False, keyring: bool = True
) -> tuple[Secret | None, str | None, str | None]:
    """:func:`find_api_key`, and why the keyring could not be read when it was asked and failed."""
    if given is not None:
        return given, "parameter", None
    if _context.ApiKey and not skip_context:
        return _context.ApiKey, "context", None
    value = _module_global(API_KEY_NAME)
    if isinstance(value, (str, Secret)) and value:
        return (value if isinstance(value, Secret) else Secret(value)), "global", None
    env = os.environ.get(API_KEY_NAME)
    if env:
        return Secret(env), "environment", None
    if not keyring:
        return None, None, None
    stored, why = _keyring_step(API_KEY_NAME)
    if stored:
        return Secret(stored), "keyring", None
    return None, None, why


KEY_SOURCES = {
    "context": "Set-OpenAIContext",
    "global": f"the module global {API_KEY_NAME}",
    "environment": f"the environment variable {API_KEY_NAME}",
    "keyring": "the OS keyring",
}
"""Each source of :func:`find_api_key` but the parameter, in the words of a message."""

# The settings as resolved from outside a parameter get the same checks as a parameter, worded
# by where they came from (every front-end reads these sources).
_SOURCE_NAMES = {source: f"The API key from {words}" for source, words in KEY_SOURCES.items()}


def _resolve_api_key(given: Secret | None, *, skip_context: bool = False) -> tuple[Secret, str]:
    key, source, keyring_problem = _lookup_api_key(given, skip_context=skip_context)
    if key is not None and source is not None and source != "parameter":
        # A key file or a secret mount often ends with a newline: trimmed here as at the door.
        plain = key.reveal()
        subject = f"{_SOURCE_NAMES[source]} {checks.printable(mask_key(checks.trim(plain)))}"
        trimmed = checks.checked("ApiKey", checks.api_key, plain, subject)
        key = None if not trimmed else key if trimmed == plain else Secret(trimmed)
    if key is None or source is None:
        raise MissingSettingError(
            "ApiKey",
            f"{MISSING_KEY_MESSAGE} Looked in: the ApiKey parameter, Set-OpenAIContext, the "
            f"module global psopenai_py.{API_KEY_NAME}, the environment variable {API_KEY_NAME} "
            "and the OS keyring." + (f" {keyring_problem}" if keyring_problem else ""),
        )
    if source in _KEY_SOURCE_LINES:
        log.info("%s", _KEY_SOURCE_LINES[source])
    return key, source


def _resolve_api_base(given: str | None, context: OpenAIContext, api_type: str) -> str:
    base = given or context.ApiBase
    origin = "the ApiBase parameter" if given else "Set-OpenAIContext"
    from_environment = False
    if base is None:
        value = _module_global(API_BASE_NAME)
        if isinstance(value, str) and value.strip():
            base = value.strip()
            origin = f"the module global psopenai_py.{API_BASE_NAME}"
            log.info('API base found in global variable "%s".', API_BASE_NAME)
        elif os.environ.get(API_BASE_NAME, "").strip():
            # An environment value often ends with a newline (a file, a secret mount).
            base = os.environ[API_BASE_NAME].strip()
            origin = f"the environment variable {API_BASE_NAME}"
            from_environment = True
            log.info('API base found in environment variable "%s".', API_BASE_NAME)
    unusable = None
    if base is not None and not checks.is_absolute_http_url(base):
        # As in the original, a base that is not an absolute URL falls back to the default.
        unusable, base = (base, origin), None
    if base is not None:
        subject = f'The API base "{checks.shown_url(base)}" ({API_BASE_NAME} or the context)'
        base = checks.checked("ApiBase", checks.base_url, base, subject)
    if base is None and api_type == "Azure":
        raise MissingSettingError("ApiBase", MISSING_AZURE_BASE_MESSAGE)
    if base is None or from_environment:
        _warn_if_misdirected(base, unusable)
    return DEFAULT_API_BASE if base is None else base


def _same_url(one: str, other: str) -> bool:
    """Whether two base URLs name the same place: the scheme's and host's case, a trailing slash
    and the scheme's own port written out make no difference."""
    from urllib.parse import urlsplit

    def key(url: str) -> tuple[Any, ...]:
        try:
            parts = urlsplit(url.strip())
            port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
        except ValueError:  # an unreadable URL is compared as written
            return (url.rstrip("/"),)
        user = (parts.username, parts.password)
        return (parts.scheme.lower(), parts.hostname, port, user, parts.path.rstrip("/"), parts.query)

    return key(one) == key(other)


def _warn_if_misdirected(base: str | None, unusable: tuple[str, str] | None) -> None:
    """Warn, once per resolution and before anything is sent, when this call goes elsewhere than
    a base that was set says: ``base`` is the one used (None: the default), ``unusable`` the
    value set but not an absolute URL, and where it came from.

    A base that is not an absolute URL (``localhost:8080/v1``, ``http//...``) falls back to the
    real API, as in PSOpenAI; a rehearsal against a local server with a typo in its URL would
    otherwise send its changes, and its key, there without a word.  Otherwise: the openai CLI
    and SDK dialects read OPENAI_BASE_URL, PSOpenAI's commands OPENAI_API_BASE only, as PSOpenAI
    does; a shell set up for the SDK alone would send these commands to the real API, and when
    both are set and differ each dialect keeps its own name (a script's behaviour does not
    change with the other dialect's variable).  The warning says which.
    """
    if unusable is not None:
        value, origin = unusable
        log.warning(
            'The API base "%s" (%s) is not an absolute URL; it is not used: this call goes to %s. '
            "Write the URL with its scheme (http:// or https://) to use that server.",
            checks.shown_url(value),
            origin,
            DEFAULT_API_BASE,
        )
        return
    sdk_base = os.environ.get(SDK_BASE_NAME, "").strip()
    if not sdk_base or (base is not None and _same_url(base, sdk_base)):
        return
    shown = checks.shown_url(sdk_base)
    if base is None:
        log.warning(
            '%s is set ("%s"), but PSOpenAI\'s commands read %s, which is not set: this call goes '
            "to %s. Set %s to the same URL (or give -ApiBase) to use that server.",
            SDK_BASE_NAME,
            shown,
            API_BASE_NAME,
            DEFAULT_API_BASE,
            API_BASE_NAME,
        )
    else:
        log.warning(
            '%s ("%s") and %s ("%s") differ: PSOpenAI\'s commands use %s, the openai CLI and SDK '
            "dialects %s. Set both to the same URL (or give -ApiBase).",
            API_BASE_NAME,
            checks.shown_url(base),
            SDK_BASE_NAME,
            shown,
            API_BASE_NAME,
            SDK_BASE_NAME,
        )


def _resolve_organization(
    given: str | None, context: OpenAIContext, *, key_from_keyring: bool, skip_context: bool = False
) -> str | None:
    found = _find_organization(given, context, key_from_keyring=key_from_keyring, skip_context=skip_context)
    if found is None or found is given:
        return found
    subject = f"The organization id {checks.printable(mask_organization(checks.trim(found)))}"
    return checks.checked("Organization", checks.header_value, found, subject) or None


def _find_organization(
    given: str | None, context: OpenAIContext, *, key_from_keyring: bool, skip_context: bool = False
) -> str | None:
    if given:
        return given
    if context.Organization and not skip_context:
        return context.Organization
    value = _module_global(ORGANIZATION_NAME)
    if isinstance(value, str) and value:
        log.info('Organization-ID found in global variable "%s".', ORGANIZATION_NAME)
        return value
    env = os.environ.get(ORGANIZATION_NAME)
    if env:
        log.info('Organization-ID found in environment variable "%s".', ORGANIZATION_NAME)
        return env
    if key_from_keyring:
        # The organization is stored beside the key (Set-OpenAISecret); one found there belongs
        # to that key only, and looking it up otherwise would load keyring on every call.
        stored, _ = _keyring_step(ORGANIZATION_NAME)
        if stored:
            log.info("Organization-ID found in the OS keyring.")
            return stored
    return None


def resolve_settings(request: SettingsRequest) -> Settings:
    """Resolve every setting once for an invocation; raises MissingSettingError."""
    context = _context
    api_type = request.api_type or context.ApiType
    auth_type = request.auth_type or context.AuthType
    if api_type == "Azure":
        if not auth_type.startswith("azure"):
            auth_type = "azure"
    else:
        # As Get-OpenAIAPIParameter.ps1: the OpenAI ApiType always authenticates the OpenAI way,
        # whatever AuthType says (no api-key header, the Organization sent).
        auth_type = "openai"
    api_key, key_source = _resolve_api_key(request.api_key, skip_context="ApiKey" in request.given_empty)
    scrub.register(api_key)  # in play from now on: every message leaving the package loses it
    if log.isEnabledFor(logging.INFO):
        log.info("API key to be used is %s", mask_key(api_key))
    api_base = _resolve_api_base(request.api_base, context, api_type)
    organization = _resolve_organization(
        request.organization,
        context,
        key_from_keyring=key_source == "keyring",
        skip_context="Organization" in request.given_empty,
    )
    if organization:
        log.info("Organization-ID to be used is %s", mask_organization(organization))
    return Settings(
        api_key=api_key,
        api_base=api_base,
        api_type=api_type,
        auth_type=auth_type,
        api_version=request.api_version if request.api_version is not None else context.ApiVersion,
        organization=organization,
        timeout_sec=request.timeout_sec if request.timeout_sec is not None else context.TimeoutSec,
        max_retry_count=(
            request.max_retry_count if request.max_retry_count is not None else context.MaxRetryCount
        ),
    )
