"""Secret commands: Set-, Get- and Remove-OpenAISecret, over the OS keyring."""

from __future__ import annotations

import getpass
import logging
import sys
from typing import Any

from .. import checks, keyring_store
from ..errors import ParameterBindingError, ParameterTypeError, SecretStoreError
from ..masking import mask_key, mask_organization
from ..parameters import Command, Parameter
from ..psobject import PSObject
from ..secret import Secret
from ..settings import API_KEY_NAME, ORGANIZATION_NAME, find_api_key
from ..validation import check_api_key, check_organization
from .unit import CommandUnit, call_with_keywords

__all__ = ["set_openai_secret", "get_openai_secret", "remove_openai_secret", "SECRET_TYPE_NAME", "UNITS"]

log = logging.getLogger("psopenai_py")

SECRET_TYPE_NAME = "psopenai_py.SecretInfo"

SET_OPENAI_SECRET = Command(
    name="Set-OpenAISecret",
    python_name="set_openai_secret",
    synopsis="Stores the API key (and organization) in the OS keyring.",
    parameters=(
        Parameter(
            "ApiKey",
            "api_key",
            "Object",
            "The API key to store, as a string or a psopenai_py.Secret. When not given it "
            "is asked for without echo on a terminal, or read from the first line of "
            "standard input when that is piped, so the key never has to be on a command "
            f"line. {checks.KEY_RULE}",
            position=0,
        ),
        Parameter(
            "Organization",
            "organization",
            "String",
            f"An organization id to store beside the key. {checks.HEADER_VALUE_RULE}",
            aliases=("OrgId",),
        ),
    ),
)

GET_OPENAI_SECRET = Command(
    name="Get-OpenAISecret",
    python_name="get_openai_secret",
    synopsis="Shows what the OS keyring holds, masked, and where a call would take its key now.",
    parameters=(
        Parameter(
            "AsPlainText",
            "as_plain_text",
            "SwitchParameter",
            "Show the stored key and organization in plain text.",
            default=False,
        ),
    ),
)

REMOVE_OPENAI_SECRET = Command(
    name="Remove-OpenAISecret",
    python_name="remove_openai_secret",
    synopsis="Deletes the API key and organization stored in the OS keyring.",
)


def _ask_for_key() -> Secret | None:
    """Prompt without echo on a terminal; else the first line of standard input."""
    if sys.stdin is not None and sys.stdin.isatty():
        typed = getpass.getpass("ApiKey: ")
    else:
        typed = sys.stdin.readline() if sys.stdin is not None else ""
    typed = typed.strip()
    return Secret(typed) if typed else None


def set_openai_secret(api_key: "str | Secret | None" = None, *, organization: str | None = None) -> None:
    """Store the API key (and an organization) in the OS keyring, service ``psopenai_py``.

    With no ``api_key`` the key is asked for without echo on a terminal, or read from the first
    line of standard input.  Raises :class:`~psopenai_py.errors.SecretStoreError` when no
    usable keyring backend exists (nothing is ever written to a plaintext file).
    """
    key = check_api_key(SET_OPENAI_SECRET.parameter("ApiKey"), api_key)
    org = check_organization(SET_OPENAI_SECRET.parameter("Organization"), organization)
    if key is None:
        key = _ask_for_key()
    if key is None:
        raise ParameterBindingError(
            "ApiKey",
            "Cannot store an empty API key: give -ApiKey, type "
            "it at the prompt, or pipe it on standard input.",
        )
    keyring_store.store(API_KEY_NAME, key.reveal())
    log.info("API key %s stored in the OS keyring (%s).", mask_key(key), keyring_store.backend_name())
    if org:
        keyring_store.store(ORGANIZATION_NAME, org)
        log.info("Organization-ID %s stored in the OS keyring.", mask_organization(org))


def get_openai_secret(*, as_plain_text: bool = False) -> PSObject:
    """What the OS keyring holds for this package, masked unless ``as_plain_text``, and which
    source (parameter, context, global, environment or keyring) a call would take its key from."""
    if not isinstance(as_plain_text, bool):
        raise ParameterTypeError(
            GET_OPENAI_SECRET.parameter("AsPlainText").name,
            "Cannot process argument transformation on parameter 'AsPlainText' (as_plain_text): "
            "it takes True or False.",
        )
    stored_key = keyring_store.fetch(API_KEY_NAME)
    stored_org = keyring_store.fetch(ORGANIZATION_NAME)
    _, source = find_api_key()
    shown_key: Any = stored_key if as_plain_text or not stored_key else mask_key(stored_key)
    shown_org: Any = stored_org if as_plain_text or not stored_org else mask_organization(stored_org)
    return PSObject(
        {
            "Service": keyring_store.SERVICE_NAME,
            "Backend": keyring_store.backend_name(),
            "ApiKey": shown_key,
            "Organization": shown_org,
            "ApiKeySource": source,
        },
        type_names=(SECRET_TYPE_NAME,),
    )


def remove_openai_secret() -> None:
    """Delete the stored key and organization.

    Raises :class:`~psopenai_py.errors.SecretStoreError` when nothing was stored, with a
    message saying so.
    """
    removed = [
        name
        for name in (API_KEY_NAME, ORGANIZATION_NAME)
        if keyring_store.fetch(name) is not None and keyring_store.delete(name)
    ]
    if not removed:
        raise SecretStoreError(
            f"Nothing to remove: the OS keyring ({keyring_store.backend_name()}) holds no "
            f"{API_KEY_NAME} or {ORGANIZATION_NAME} under the service "
            f"'{keyring_store.SERVICE_NAME}'."
        )
    log.info("Removed %s from the OS keyring.", " and ".join(removed))


UNITS = (
    CommandUnit(SET_OPENAI_SECRET, call_with_keywords(set_openai_secret)),
    CommandUnit(GET_OPENAI_SECRET, call_with_keywords(get_openai_secret)),
    CommandUnit(REMOVE_OPENAI_SECRET, call_with_keywords(remove_openai_secret)),
)
