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
from ..settings import API_KEY_NAME, KEY_SOURCES, ORGANIZATION_NAME, find_api_key
from ..validation import check_api_key, check_organization, clean_api_key
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


_MAX_KEY_LINE = 64 * 1024
"""Bytes of standard input read for a key: a key (or an Azure AD token) is a few kilobytes at
most, and a stream with no line end must not be read to its end."""


def _ask_for_key() -> Secret | None:
    """Prompt without echo on a terminal; else the first line of standard input.  Either way the
    key gets the checks of a key given as -ApiKey (trimmed of white space and byte-order marks,
    printable ASCII only), so nothing unusable is ever stored."""
    param = SET_OPENAI_SECRET.parameter("ApiKey")
    if sys.stdin is not None and sys.stdin.isatty():
        # Before anyone types a key: a machine without a keyring says so now. (A piped key is
        # read and checked first, as a key given as -ApiKey is: nobody types it.)
        keyring_store.check_can_store()
        try:
            typed = getpass.getpass("ApiKey: ")
        except (KeyboardInterrupt, EOFError):
            # getpass ends its line only after a read: the next line (interrupted, or the
            # error) must not be written after the prompt.
            _end_prompt_line()
            raise
        return clean_api_key(param, Secret(typed), source="The API key typed at the prompt")
    source = "The API key read from standard input"
    return clean_api_key(param, Secret(_first_line(param, source)), source=source)


def _end_prompt_line() -> None:
    """End the prompt's line on the terminal the prompt was written to (best effort)."""
    stream = sys.stderr
    try:
        if stream is not None and stream.isatty():
            stream.write("\n")
            stream.flush()
    except (OSError, ValueError):  # a closed or broken stream: nothing to end
        pass


def _first_line(param: Parameter, source: str) -> str:
    """The first line of standard input as text, without its line ending.

    Read as bytes where the stream has them and decoded as UTF-8 here (a byte-order mark is
    trimmed later, with the rest of the white space): bytes that are not UTF-8 are an error
    naming their position, never text with replacement characters stored as a key.
    """
    stdin = sys.stdin
    if stdin is None:
        return ""
    raw = getattr(stdin, "buffer", None)
    if raw is None:  # a text stream with no bytes under it (a StringIO from Python)
        line = stdin.readline(_MAX_KEY_LINE + 1)
        too_long = len(line) > _MAX_KEY_LINE
    else:
        data = raw.readline(_MAX_KEY_LINE + 1)
        encoding = "UTF-8"
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            # UTF-16 with its byte-order mark, as PowerShell 5's Out-File writes: its line ends
            # are two bytes, so the bytes up to the limit are read and the first line taken after.
            data += raw.read(max(0, _MAX_KEY_LINE + 1 - len(data)))
            encoding = "UTF-16"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParameterBindingError(
                param.name,
                f"{source} is not {encoding} text (byte {exc.start + 1}); nothing was stored. Save "
                "the key as UTF-8 or ASCII text.",
            ) from None
        line = text.split("\n", 1)[0] + ("\n" if "\n" in text else "")
        too_long = len(data) > _MAX_KEY_LINE and "\n" not in text
    if too_long:
        raise ParameterBindingError(
            param.name, f"{source} has no line end within {_MAX_KEY_LINE} bytes; nothing was stored."
        )
    return line.rstrip("\r\n")


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
    source (parameter, context, global, environment or keyring) a call would take its key from.

    Without an OS keyring nothing is stored: the result says so (no key, no organization) and a
    warning says where a call takes its key from instead.  A keyring that cannot be read (locked,
    failing) raises :class:`~psopenai_py.errors.SecretStoreError`, whose message says that too.
    """
    if not isinstance(as_plain_text, bool):
        raise ParameterTypeError(
            GET_OPENAI_SECRET.parameter("AsPlainText").name,
            "Cannot process argument transformation on parameter 'AsPlainText' (as_plain_text): "
            "it takes True or False.",
        )
    in_use, source = find_api_key(keyring=False)  # the keyring is read once, below
    known = _plain(in_use)
    try:
        stored_key = keyring_store.fetch(API_KEY_NAME, known=(known,))
        stored_org = keyring_store.fetch(ORGANIZATION_NAME, known=(known, stored_key))
    except keyring_store.NoKeyringError as exc:
        log.warning("%s %s", exc, _key_in_use(in_use, source))
        stored_key = stored_org = None
    except SecretStoreError as exc:
        raise type(exc)(f"{exc} {_key_in_use(in_use, source)}") from None
    if source is None and stored_key:
        source = "keyring"
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

    Raises :class:`~psopenai_py.errors.SecretStoreError` when nothing was stored, or there is no
    OS keyring, with a message saying so and where a call takes its key from.
    """
    in_use, source = find_api_key(keyring=False)
    known = [_plain(in_use)]
    removed = []
    try:
        for name in (API_KEY_NAME, ORGANIZATION_NAME):
            stored = keyring_store.fetch(name, known=known)
            known.append(stored)
            if stored is not None and keyring_store.delete(name, known=known):
                removed.append(name)
    except keyring_store.NoKeyringError as exc:
        raise type(exc)(f"{exc} Nothing is stored there to remove. {_key_in_use(in_use, source)}") from None
    except SecretStoreError as exc:
        raise type(exc)(f"{exc} {_key_in_use(in_use, source)}") from None
    if not removed:
        raise SecretStoreError(
            f"Nothing to remove: the OS keyring ({keyring_store.backend_name()}) holds no "
            f"{API_KEY_NAME} or {ORGANIZATION_NAME} under the service "
            f"'{keyring_store.SERVICE_NAME}'."
        )
    log.info("Removed %s from the OS keyring.", " and ".join(removed))


def _plain(key: Secret | None) -> str | None:
    return key.reveal() if key is not None else None


def _key_in_use(key: Secret | None, source: str | None) -> str:
    """Where a call takes its key from instead of the keyring, the key masked."""
    if key is None or source is None:
        return (
            "No key is set anywhere else either: give -ApiKey, or set the environment variable "
            f"{API_KEY_NAME}."
        )
    return f"A call takes its key from {KEY_SOURCES[source]} ({mask_key(key)})."


UNITS = (
    CommandUnit(SET_OPENAI_SECRET, call_with_keywords(set_openai_secret)),
    CommandUnit(GET_OPENAI_SECRET, call_with_keywords(get_openai_secret)),
    CommandUnit(REMOVE_OPENAI_SECRET, call_with_keywords(remove_openai_secret)),
)
