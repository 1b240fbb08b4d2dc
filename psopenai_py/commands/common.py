"""What every API command does the same way: check its settings parameters, resolve them once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from ..parameters import Command
from ..secret import Secret
from ..settings import Settings, SettingsRequest, resolve_settings
from ..transport import RequestOptions, Transport, default_transport
from ..validation import (
    check_additional_body,
    check_api_base,
    check_api_key,
    check_choice,
    check_headers,
    check_int,
    check_mapping,
    check_optional_str,
    check_organization,
)

__all__ = [
    "Invocation",
    "prepare_invocation",
    "settings_kwargs",
    "SettingsKwargs",
    "SETTINGS_KEYWORDS",
]


class SettingsKwargs(TypedDict, total=False):
    """The settings keywords every API command takes and hands on to :func:`prepare_invocation`."""

    timeout_sec: Any
    max_retry_count: Any
    api_type: Any
    api_base: Any
    api_version: Any
    auth_type: Any
    api_key: Any
    organization: Any
    additional_query: Any
    additional_headers: Any
    additional_body: Any


SETTINGS_KEYWORDS: tuple[str, ...] = tuple(SettingsKwargs.__annotations__)
"""The settings keywords, in order: derived from :class:`SettingsKwargs`, the one place they are
listed (a test checks them against every API command's parameter table)."""


def settings_kwargs(kwargs: Mapping[str, Any]) -> SettingsKwargs:
    """The settings keywords out of a command's keyword arguments (absent ones as None)."""
    picked: SettingsKwargs = {}
    for name in SETTINGS_KEYWORDS:
        picked[name] = kwargs.get(name)  # type: ignore[literal-required]
    return picked


@dataclass(frozen=True)
class Invocation:
    """Settings resolved once for a command's run, with its extras and transport."""

    settings: Settings
    options: RequestOptions
    transport: Transport

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request of this invocation (keywords as :meth:`Transport.request`)."""
        return self.transport.request(self.settings, method, path, options=self.options, **kwargs)


def prepare_invocation(
    command: Command,
    *,
    timeout_sec: Any = None,
    max_retry_count: Any = None,
    api_type: Any = None,
    api_base: Any = None,
    api_version: Any = None,
    auth_type: Any = None,
    api_key: Any = None,
    organization: Any = None,
    additional_query: Any = None,
    additional_headers: Any = None,
    additional_body: Any = None,
    transport: Transport | None = None,
) -> Invocation:
    """Check the settings parameters against the command's table, then resolve them.

    Everything is checked before the resolution, so bad input fails before any lookup or send.
    An empty ``api_key`` or ``organization`` (``''``, or an empty Secret) is an explicit empty
    value: it passes over the context to the global and the environment, as in the original.
    """
    p = command.parameter
    given_empty = frozenset(
        name
        for name, value in (("ApiKey", api_key), ("Organization", organization))
        if isinstance(value, (str, Secret)) and not value
    )
    request = SettingsRequest(
        timeout_sec=check_int(p("TimeoutSec"), timeout_sec),
        max_retry_count=check_int(p("MaxRetryCount"), max_retry_count),
        api_type=check_choice(p("ApiType"), api_type),
        api_base=check_api_base(p("ApiBase"), api_base),
        api_version=check_optional_str(p("ApiVersion"), api_version),
        auth_type=check_choice(p("AuthType"), auth_type),
        api_key=check_api_key(p("ApiKey"), api_key),
        organization=check_organization(p("Organization"), organization),
        given_empty=given_empty,
    )
    options = RequestOptions(
        additional_query=check_mapping(p("AdditionalQuery"), additional_query),
        additional_headers=check_headers(p("AdditionalHeaders"), additional_headers),
        additional_body=check_additional_body(p("AdditionalBody"), additional_body),
    )
    return Invocation(resolve_settings(request), options, transport or default_transport())
