"""What the API commands do alike: take their arguments by their tables' names, check the settings
parameters and resolve them once, bind a completion id, filter a list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from .. import scrub
from ..parameters import Command
from ..records import Record
from ..retry import PSOPENAI, RetryPolicy
from ..secret import Secret
from ..settings import Settings, SettingsRequest, resolve_settings
from ..transport import Exchange, RequestOptions, Transport, default_transport, is_credential_header
from ..validation import (
    bind_completion_id,
    check_additional_body,
    check_api_base,
    check_api_key,
    check_choice,
    check_headers,
    check_int,
    check_mapping,
    check_metadata,
    check_optional_str,
    check_organization,
)

if TYPE_CHECKING:  # typing.Unpack is Python 3.11+; only the type checker reads it here
    from typing_extensions import Unpack

__all__ = [
    "Invocation",
    "prepare_invocation",
    "settings_kwargs",
    "SettingsKwargs",
    "SETTINGS_KEYWORDS",
    "arguments",
    "PagingKwargs",
    "completion_id_of",
    "list_filters",
    "FilterKwargs",
    "Filters",
]


class SettingsKwargs(TypedDict, total=False):
    """The settings keywords every API command takes, in order, with their types: the one place
    they are defined.  Each API function of the package spells them in its signature (so that
    ``help()`` and an editor show them), each defaulting to None (not given: resolved from the
    context, the module globals, the environment, the OS keyring); a test holds every signature
    to this."""

    timeout_sec: int | None
    max_retry_count: int | None
    api_type: str | None
    api_base: str | None
    api_version: str | None
    auth_type: str | None
    api_key: str | Secret | None
    organization: str | None
    additional_query: Mapping[str, Any] | None
    additional_headers: Mapping[str, Any] | None
    additional_body: Mapping[str, Any] | str | None


SETTINGS_KEYWORDS: tuple[str, ...] = tuple(SettingsKwargs.__annotations__)
"""The settings keywords, in order: derived from :class:`SettingsKwargs` (a test checks them
against every API command's parameter table and library function)."""


def settings_kwargs(kwargs: Mapping[str, Any]) -> SettingsKwargs:
    """The settings keywords out of a command's keyword arguments (absent ones as None)."""
    picked: SettingsKwargs = {}
    for name in SETTINGS_KEYWORDS:
        picked[name] = kwargs.get(name)  # type: ignore[literal-required]
    return picked


def arguments(table: Command, given: Mapping[str, Any]) -> Any:
    """A library function's arguments by its table's Python names: what the binder hands the
    command's ``begin`` step.  ``given`` is the function's ``locals()`` (any other name in it is
    left out), so the hand-off is written once instead of keyword by keyword; a test holds every
    library function's parameters to its table.  Typed Any: each command types it with its own
    TypedDict, whose keys and types tests hold to the same table and signature."""
    return {p.python_name: given[p.python_name] for p in table.parameters if p.python_name in given}


class PagingKwargs(TypedDict, total=False):
    """-Limit, -All, -After, -Order and -Before among the arguments of a command that pages a
    list (see ``parameters.paging_parameters``)."""

    limit: int | None
    all_pages: bool | None
    after: str | None
    order: str | None
    before: str | None


def completion_id_of(table: Command, value: Any) -> str:
    """The completion id a command's item gives (an id, or an object or mapping carrying one),
    checked as the table's -CompletionId."""
    return bind_completion_id(table.parameter("CompletionId"), value)


class FilterKwargs(TypedDict, total=False):
    """-MetaData and -Model among the arguments of a command that filters the completions'
    list (read by :func:`list_filters`)."""

    metadata: Mapping[str, str] | None
    model: str | None


Filters = tuple[tuple[str, Any], ...]
"""A list query's filters, as :func:`list_filters` makes them: (name, value) pairs."""


def list_filters(table: Command, kwargs: FilterKwargs) -> Filters:
    """The list query's filters of a command with -MetaData and -Model: each pair as
    ``metadata[key]``, then the model."""
    metadata = check_metadata(table.parameter("MetaData"), kwargs.get("metadata"), optional=True)
    model = check_optional_str(table.parameter("Model"), kwargs.get("model"))
    return (*((f"metadata[{k}]", v) for k, v in metadata.items()), *((("model", model),) if model else ()))


class Invocation(Record):
    """Settings resolved once for a command's run, with its extras, transport and retry policy
    (PSOpenAI's for the PowerShell commands; the API-shaped dialects choose the SDK's)."""

    settings: Settings
    options: RequestOptions
    transport: Transport
    policy: RetryPolicy = PSOPENAI

    def __repr__(self) -> str:  # each part's own repr, which masks what it holds
        return (
            f"Invocation(settings={self.settings!r}, options={self.options!r}, "
            f"transport={self.transport!r}, policy={self.policy!r})"
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request of this invocation (keywords as :meth:`Transport.request`)."""
        return self.transport.request(
            self.settings, method, path, options=self.options, policy=self.policy, **kwargs
        )

    def exchange(self, method: str, path: str, **kwargs: Any) -> Exchange:
        """:meth:`request`, returning the whole :class:`~psopenai_py.transport.Exchange`."""
        return self.transport.exchange(
            self.settings, method, path, options=self.options, policy=self.policy, **kwargs
        )


def prepare_invocation(
    command: Command, *, transport: Transport | None = None, **settings: Unpack[SettingsKwargs]
) -> Invocation:
    """Check the settings parameters against the command's table, then resolve them.

    Everything is checked before the resolution, so bad input fails before any lookup or send.
    An empty ``api_key`` or ``organization`` (``''``, or an empty Secret) is an explicit empty
    value: it passes over the context to the global and the environment, as in the original.
    """
    p = command.parameter
    api_key, organization = settings.get("api_key"), settings.get("organization")
    given_empty = frozenset(
        name
        for name, value in (("ApiKey", api_key), ("Organization", organization))
        if isinstance(value, (str, Secret)) and not value
    )
    # The key first, and in play before any other value is checked: a key given to the wrong
    # parameter by mistake (-ApiType, -ApiBase) would otherwise be quoted whole in that error.
    checked_key = check_api_key(p("ApiKey"), api_key)
    scrub.register(checked_key)
    request = SettingsRequest(
        timeout_sec=check_int(p("TimeoutSec"), settings.get("timeout_sec")),
        max_retry_count=check_int(p("MaxRetryCount"), settings.get("max_retry_count")),
        api_type=check_choice(p("ApiType"), settings.get("api_type")),
        api_base=check_api_base(p("ApiBase"), settings.get("api_base")),
        api_version=check_optional_str(p("ApiVersion"), settings.get("api_version")),
        auth_type=check_choice(p("AuthType"), settings.get("auth_type")),
        api_key=checked_key,
        organization=check_organization(p("Organization"), organization),
        given_empty=given_empty,
    )
    headers = check_headers(p("AdditionalHeaders"), settings.get("additional_headers"))
    # A value too short to be a credential ("a=1" in a Cookie) would only mangle messages.
    secrets = tuple(
        Secret(str(value))
        for name, value in (headers or {}).items()
        if is_credential_header(name) and len(str(value)) >= 8
    )
    for secret in secrets:
        scrub.register(secret)
    options = RequestOptions(
        additional_query=check_mapping(p("AdditionalQuery"), settings.get("additional_query")),
        additional_headers=headers,
        additional_body=check_additional_body(p("AdditionalBody"), settings.get("additional_body")),
        secrets=secrets,
    )
    return Invocation(resolve_settings(request), options, transport or default_transport())
