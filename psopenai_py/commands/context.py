"""Set-, Get- and Clear-OpenAIContext: the process-wide settings every later call falls back on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import checks
from ..errors import ParameterBindingError
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
    range and choices, its own description, no default (only the values given are stored), and
    bound from a piped object's property of its name, as every parameter of the original is
    (PSOpenAI 4.49.0 Public/Set-OpenAIContext.ps1:415-440: ValueFromPipelineByPropertyName)."""
    return _SETTINGS[name].replace(
        description=description, default=None, hidden=False, pipeline_by_property=True
    )


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
        "openai, azure or azure_ad. When not given it follows the stored ApiType (given now "
        "or before): Azure makes openai azure, OpenAI makes it openai.",
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

    When ``auth_type`` is not given it follows the stored ApiType: Azure turns ``openai`` into
    ``azure``, OpenAI makes it ``openai``.
    """
    given = {name: value for name, value in locals().items() if value is not None}
    _write(_checked(given))


def _checked(bound: Mapping[str, Any]) -> dict[str, Any]:
    """The context's new values, by field name, from the parameters bound (by Python name; a
    parameter bound to None, as PowerShell binds ``$null``, writes the field's empty value)."""
    fields: dict[str, Any] = {}
    for p in SET_OPENAI_CONTEXT.parameters:
        if p.python_name in bound:
            fields[p.name] = _CHECKS[p.name](p, bound[p.python_name])
    return fields


def _choice(p: Parameter, value: Any) -> str:
    """ApiType and AuthType: one of their choices.  PowerShell binds $null to the enum ApiType
    as an error, and to the string AuthType as '', which its ValidateSet refuses."""
    if value is None and p.name == "ApiType":
        raise ParameterBindingError(
            p.name,
            f"Cannot process argument transformation on parameter '{p.name}'. Cannot convert null "
            'to type "OpenAIApiType".',
        )
    checked = check_choice(p, "" if value is None else value)
    assert checked is not None  # only None gives None
    return checked


def _count(p: Parameter, value: Any) -> int:
    """TimeoutSec and MaxRetryCount: $null binds to an [int] as 0."""
    return check_int(p, value) or 0


_CHECKS: dict[str, Callable[[Parameter, Any], Any]] = {
    "ApiKey": check_api_key,
    "ApiType": _choice,
    "ApiBase": check_api_base,
    "ApiVersion": lambda p, value: check_optional_str(p, value) or "",
    "AuthType": _choice,
    "Organization": check_organization,
    "TimeoutSec": _count,
    "MaxRetryCount": _count,
}
"""Each stored parameter's check, giving the value the context keeps."""


def _write(fields: Mapping[str, Any]) -> None:
    """Write the checked fields into the context, then derive AuthType when it was not given, from
    the stored ApiType as the original does (PSOpenAI 4.49.0 Public/Set-OpenAIContext.ps1:459-472):
    Azure with AuthType openai makes it azure; OpenAI makes it openai, whatever it was, so a
    later switch to Azure derives azure again."""

    def change(current: OpenAIContext) -> OpenAIContext:
        new = current.replace(**fields)
        if "AuthType" not in fields:
            if new.ApiType == "Azure" and new.AuthType.lower() == "openai":
                new = new.replace(AuthType="azure")
            elif new.ApiType == "OpenAI":
                new = new.replace(AuthType="openai")
        return new

    modify_context(change)


def _begin_set(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Set-OpenAIContext's begin step: the parameters bound on the command line, checked before
    any piped object is read (bad input fails the command, nothing is written)."""
    _checked(kwargs)
    return dict(kwargs)


def _process_set(named: Mapping[str, Any], item: Any) -> None:
    """One piped object (a saved context, Get-OpenAIContext's output, a JSON object): each
    parameter not bound on the command line binds from the object's property of its name or alias,
    in any case, as PowerShell binds ByPropertyName; a property holding null binds $null.  With
    nothing piped, ``item`` is the -ApiType given (or None) and only the named values are written."""
    bound = dict(named)
    if _is_object(item):
        for p in SET_OPENAI_CONTEXT.parameters:
            if p.python_name not in bound:
                found = _property(item, p.names)
                if found is not _ABSENT:
                    bound[p.python_name] = found
    _write(_checked(bound))


_ABSENT: Any = object()


def _is_object(item: Any) -> bool:
    """Whether a pipeline item is an object with properties (not a plain value such as the key)."""
    return item is not None and not isinstance(item, (str, bytes, int, float, Secret))


def _property(item: Any, names: tuple[str, ...]) -> Any:
    """The value of the item's property named by one of ``names`` (any case), or _ABSENT."""
    wanted = {n.lower() for n in names}
    if isinstance(item, Mapping):
        for key, value in item.items():
            if isinstance(key, str) and key.lower() in wanted:
                return value
        return _ABSENT
    for attribute in dir(item):
        if not attribute.startswith("_") and attribute.lower() in wanted:
            return getattr(item, attribute)
    return _ABSENT


def get_openai_context() -> OpenAIContext:
    """The stored settings (the API key stays a :class:`Secret`)."""
    return get_context()


def clear_openai_context() -> None:
    """Reset every stored setting to its default."""
    modify_context(lambda _current: OpenAIContext())


UNITS = (
    # Piped objects bind by property name alone; the unit's item parameter is ApiType, whose given
    # value stands for "nothing piped" (never the key, which an item's error would carry).
    CommandUnit(SET_OPENAI_CONTEXT, _begin_set, _process_set, "ApiType"),
    CommandUnit(GET_OPENAI_CONTEXT, call_with_keywords(get_openai_context)),
    CommandUnit(CLEAR_OPENAI_CONTEXT, call_with_keywords(clear_openai_context)),
)
