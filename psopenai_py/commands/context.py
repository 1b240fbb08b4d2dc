"""Set-, Get- and Clear-OpenAIContext: the process-wide settings every later call falls back on."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import checks
from ..parameters import Command, Parameter, settings_parameters
from ..secret import Secret
from ..settings import OpenAIContext, get_context, modify_context
from ..validation import (
    check_api_base,
    check_api_key,
    check_choice,
    check_int,
    check_optional_str,
    check_organization,
)
from .unit import CommandUnit, call_with_keywords

__all__ = ["set_openai_context", "get_openai_context", "clear_openai_context", "UNITS"]

_SETTINGS = {p.name: p for p in settings_parameters()}


def _stored(name: str, description: str) -> Parameter:
    """A settings parameter as Set-OpenAIContext takes it: the API commands' name, type, aliases,
    range and choices, its own description, and no default (only the values given are stored)."""
    return replace(_SETTINGS[name], description=description, default=None, hidden=False)


_CONTEXT_VALUES = (
    _stored(
        "ApiKey",
        f"The API key to use in this process, as a string or a psopenai_py.Secret. {checks.KEY_RULE}",
    ),
    _stored("ApiType", "OpenAI or Azure."),
    _stored("ApiBase", "The API's base URL."),
    _stored("ApiVersion", "Azure only: the api-version to send."),
    _stored(
        "AuthType",
        "openai, azure or azure_ad. When not given it follows ApiType: Azure makes openai "
        "azure, OpenAI makes it openai.",
    ),
    _stored(
        "Organization",
        f"The organization id. {checks.HEADER_VALUE_RULE}",
    ),
    _stored(
        "TimeoutSec",
        "Seconds each attempt may take in all (connect, send, wait, read the body); 0 waits "
        f"forever. 0 to {checks.MAX_TIMEOUT_SECONDS}.",
    ),
    _stored("MaxRetryCount", f"Retries after 429 or 5xx, 0 to {checks.MAX_RETRIES}."),
)

SET_OPENAI_CONTEXT = Command(
    name="Set-OpenAIContext",
    python_name="set_openai_context",
    synopsis="Stores settings used by every later command in this process.",
    parameters=_CONTEXT_VALUES,
)

GET_OPENAI_CONTEXT = Command(
    name="Get-OpenAIContext",
    python_name="get_openai_context",
    synopsis="Returns the settings stored by Set-OpenAIContext.",
)

CLEAR_OPENAI_CONTEXT = Command(
    name="Clear-OpenAIContext",
    python_name="clear_openai_context",
    synopsis="Resets the stored settings to their defaults.",
)


def set_openai_context(
    *,
    api_key: "str | Secret | None" = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    organization: str | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
) -> None:
    """Store settings for every later call in this process; only the ones given are written.

    When ``auth_type`` is not given it follows ``api_type``: Azure turns ``openai`` into
    ``azure``, OpenAI makes it ``openai``.
    """
    table = SET_OPENAI_CONTEXT
    key = check_api_key(table.parameter("ApiKey"), api_key)
    kind = check_choice(table.parameter("ApiType"), api_type)
    base = check_api_base(table.parameter("ApiBase"), api_base)
    version = check_optional_str(table.parameter("ApiVersion"), api_version)
    auth = check_choice(table.parameter("AuthType"), auth_type)
    org = check_organization(table.parameter("Organization"), organization)
    timeout = check_int(table.parameter("TimeoutSec"), timeout_sec)
    retries = check_int(table.parameter("MaxRetryCount"), max_retry_count)
    given = (
        ("ApiKey", key),
        ("ApiType", kind),
        ("ApiBase", base),
        ("ApiVersion", version),
        ("AuthType", auth),
        ("Organization", org),
        ("TimeoutSec", timeout),
        ("MaxRetryCount", retries),
    )

    def change(current: OpenAIContext) -> OpenAIContext:
        changes: dict[str, Any] = {name: value for name, value in given if value is not None}
        if auth is None and kind is not None:
            auth_now = changes.get("AuthType", current.AuthType)
            if kind == "Azure" and auth_now == "openai":
                changes["AuthType"] = "azure"
            elif kind == "OpenAI":
                changes["AuthType"] = "openai"
        return replace(current, **changes)

    modify_context(change)


def get_openai_context() -> OpenAIContext:
    """The stored settings (the API key stays a :class:`Secret`)."""
    return get_context()


def clear_openai_context() -> None:
    """Reset every stored setting to its default."""
    modify_context(lambda _current: OpenAIContext())


UNITS = (
    CommandUnit(SET_OPENAI_CONTEXT, call_with_keywords(set_openai_context)),
    CommandUnit(GET_OPENAI_CONTEXT, call_with_keywords(get_openai_context)),
    CommandUnit(CLEAR_OPENAI_CONTEXT, call_with_keywords(clear_openai_context)),
)
