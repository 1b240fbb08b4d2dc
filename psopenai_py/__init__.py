"""psopenai_py: PSOpenAI's stored chat-completion commands for Python.

Quick start::

    import psopenai_py
    psopenai_py.OPENAI_API_KEY = "sk-..."          # or the environment, or the OS keyring
    done = psopenai_py.set_chat_completion("chatcmpl-abc123", {"reviewed": "yes"})
    done.Metadata["reviewed"]                       # 'yes'

The module globals ``OPENAI_API_KEY``, ``OPENAI_API_BASE`` and ``OPENAI_ORGANIZATION`` play the
part of PowerShell's ``$global:`` variables.

This module is the library's door: the API commands as functions, each spelling out its
keywords (so that ``help()`` and an editor show them) and handing its arguments to its command
in ``commands/``.  A command's module, and the HTTP stack, load when the command is first
called, that module alone; the other public names load when first asked for.  So
``import psopenai_py`` stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from . import errors
from ._version import __version__
from .errors import *  # noqa: F403  (the exceptions; errors.__all__ is their one list)
from .secret import Secret

if TYPE_CHECKING:
    # OpenAI and AsyncOpenAI (client/) are a front-end: only named in _LAZY, never imported here, so the
    # library stays free of imports towards the front-ends (tests/test_layout.py).
    from .commands.context import clear_openai_context, get_openai_context, set_openai_context
    from .commands.export_completion import ExportReceipt
    from .commands.secrets import get_openai_secret, remove_openai_secret, set_openai_secret
    from .psobject import PSObject

OPENAI_API_KEY: "str | Secret | None" = None
"""Like PowerShell's ``$global:OPENAI_API_KEY``: used when no parameter or context gives a key."""
OPENAI_API_BASE: str | None = None
"""Like ``$global:OPENAI_API_BASE``."""
OPENAI_ORGANIZATION: str | None = None
"""Like ``$global:OPENAI_ORGANIZATION``."""

# Each API command below spells out its keywords, the settings ones as
# commands.common.SettingsKwargs defines them (a test holds every signature to it), and hands
# its locals() to its command's ``call``, which takes them by the command's parameter table.


def set_chat_completion(
    completion_id: Any,
    metadata: Mapping[str, str | None],
    *,
    merge: bool | None = None,
    journal: "str | os.PathLike[str] | None" = None,
    resume: bool | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> PSObject:
    """Replace the metadata of a stored chat completion (``POST /chat/completions/{id}``).

    ``completion_id`` is an id string, or any mapping or object with a ``CompletionId``,
    ``Completion``, ``completion_id``, ``InputObject`` or ``Id`` property (case-insensitive), such
    as a completion returned earlier.  Every setting left as None is resolved: parameter, then
    :func:`set_openai_context`, then the ``psopenai_py.OPENAI_*`` globals, then the environment,
    then the OS keyring.  Everything is checked before anything is sent.

    ``merge``: read the stored metadata and apply the given keys over it (a None value removes a
    key) instead of replacing it.  ``journal``: a JSON-lines file that records each change (the
    metadata before and after) before it is sent; ``resume`` continues a journaled run (a change
    the journal records done is not sent again; the completion is read and returned).  Each
    call opens and reads the journal: for many ids, pipe them through
    ``psopenai_py.compat.Set_ChatCompletion(ids, ..., Journal=path, ThrottleLimit=n)``.

    Returns the updated completion (:class:`~psopenai_py.psobject.PSObject`).  Raises
    :class:`~psopenai_py.errors.ParameterBindingError` / ``ParameterTypeError`` for bad input,
    :class:`~psopenai_py.errors.MissingSettingError` when no key is found, and an
    :class:`~psopenai_py.errors.APIRequestException` subclass when the API answers an error.
    """
    from .commands import set_completion

    return set_completion.call(locals())


@overload
def get_chat_completion(
    completion_id: None = None,
    *,
    limit: int | None = None,
    all_pages: bool | None = None,
    after: str | None = None,
    order: str | None = None,
    before: str | None = None,
    metadata: Mapping[str, str] | None = None,
    model: str | None = None,
    no_history: bool | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> list[PSObject]: ...


@overload
def get_chat_completion(
    completion_id: str | Mapping[str, Any] | PSObject,
    *,
    limit: int | None = None,
    all_pages: bool | None = None,
    after: str | None = None,
    order: str | None = None,
    before: str | None = None,
    metadata: Mapping[str, str] | None = None,
    model: str | None = None,
    no_history: bool | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> PSObject: ...


def get_chat_completion(
    completion_id: Any = None,
    *,
    limit: int | None = None,
    all_pages: bool | None = None,
    after: str | None = None,
    order: str | None = None,
    before: str | None = None,
    metadata: Mapping[str, str] | None = None,
    model: str | None = None,
    no_history: bool | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> PSObject | list[PSObject]:
    """Get one stored chat completion by id (``GET /chat/completions/{id}``), or, with no id,
    list stored completions: ``limit`` (1-100, default 20), ``all_pages`` (follow the pages),
    ``after``, ``order`` (asc/desc), and the ``metadata`` and ``model`` filters.  Each has
    ``Message`` (the last user message) and ``History`` (the stored messages, then the reply)
    from its stored messages, one request more per completion, unless ``no_history`` (the
    original's -Primitive).  ``before`` is accepted and not used, as in the
    original.  An id with a list parameter is an error.  Returns a completion, or a list."""
    from .commands import get_completion

    return get_completion.call(locals())


def remove_chat_completion(
    completion_id: Any,
    *,
    journal: "str | os.PathLike[str] | None" = None,
    resume: bool | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> None:
    """Delete a stored chat completion (``DELETE /chat/completions/{id}``); returns nothing.

    ``journal``: a JSON-lines file that receives the full completion and its messages before the
    delete is sent (the API cannot undo a delete: the journal is the copy); ``resume`` continues
    a journaled run."""
    from .commands import remove_completion

    remove_completion.call(locals())


def get_chat_completion_message(
    completion_id: Any,
    *,
    limit: int | None = None,
    all_pages: bool | None = None,
    after: str | None = None,
    order: str | None = None,
    before: str | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> list[PSObject]:
    """The stored messages of a completion (``GET /chat/completions/{id}/messages``), paged like
    :func:`get_chat_completion`'s list; one object per message.  ``before`` is accepted and not
    used, as in the original."""
    from .commands import get_messages

    return get_messages.call(locals())


@overload
def request_chat_completion(
    message: str | None = None,
    *,
    role: str | None = None,
    system_message: "str | Sequence[str] | None" = None,
    developer_message: "str | Sequence[str] | None" = None,
    model: str | None = None,
    history: Any = None,
    verbosity: str | None = None,
    stream: Literal[False] | None = None,
    store: bool | None = None,
    metadata: Mapping[str, str] | None = None,
    temperature: float | None = None,
    max_completion_tokens: int | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> PSObject: ...


@overload
def request_chat_completion(
    message: str | None = None,
    *,
    role: str | None = None,
    system_message: "str | Sequence[str] | None" = None,
    developer_message: "str | Sequence[str] | None" = None,
    model: str | None = None,
    history: Any = None,
    verbosity: str | None = None,
    stream: Literal[True],
    store: bool | None = None,
    metadata: Mapping[str, str] | None = None,
    temperature: float | None = None,
    max_completion_tokens: int | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> Iterator[str]: ...


@overload
def request_chat_completion(
    message: str | None = None,
    *,
    role: str | None = None,
    system_message: "str | Sequence[str] | None" = None,
    developer_message: "str | Sequence[str] | None" = None,
    model: str | None = None,
    history: Any = None,
    verbosity: str | None = None,
    stream: bool | None = None,
    store: bool | None = None,
    metadata: Mapping[str, str] | None = None,
    temperature: float | None = None,
    max_completion_tokens: int | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> PSObject | Iterator[str]: ...


def request_chat_completion(
    message: str | None = None,
    *,
    role: str | None = None,
    system_message: "str | Sequence[str] | None" = None,
    developer_message: "str | Sequence[str] | None" = None,
    model: str | None = None,
    history: Any = None,
    verbosity: str | None = None,
    stream: bool | None = None,
    store: bool | None = None,
    metadata: Mapping[str, str] | None = None,
    temperature: float | None = None,
    max_completion_tokens: int | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> PSObject | Iterator[str]:
    """Create a chat completion (``POST /chat/completions``); with ``store`` it is stored, with
    ``metadata``.  ``history`` (earlier messages, such as a completion's History) is sent first,
    then the system and developer messages, then the user message (trimmed; a blank one adds
    none, and nothing at all to send is an error).  ``role`` is accepted as in PSOpenAI and does
    not change the user message's role.  Returns the completion with Message and History filled
    in; a refusal or a reply cut short is written as a warning.  With ``stream`` the answer is
    streamed and the result is an iterator of the reply's text as it comes, piece by piece
    (strings; joined, the reply), as PSOpenAI's -Stream writes it; closing it, or leaving a
    ``for`` loop over it, closes the connection."""
    from .commands import request_completion

    return request_completion.call(locals())


def restore_chat_completion_metadata(
    journal: "str | os.PathLike[str]",
    *,
    restore_journal: "str | os.PathLike[str] | None" = None,
    force: bool | None = None,
    resume: bool | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> list[PSObject]:
    """Put back the metadata a journaled change replaced, newest change first, where the stored
    metadata still equals what the change left (``force`` restores the others too).

    The restore writes its own journal (``restore_journal``, by default ``<journal>.restore.jsonl``);
    ``resume`` continues it.  Returns the restored completions.  Every id is tried; a failed one
    (a conflict is a :class:`~psopenai_py.errors.MetadataConflictError`) is logged as a warning
    and left alone, and the first failure is raised once all ids are done.
    """
    from .commands import restore_metadata

    return restore_metadata.call(locals())


def export_chat_completion(
    path: "str | os.PathLike[str]",
    *,
    metadata: Mapping[str, str] | None = None,
    model: str | None = None,
    order: str | None = None,
    after: str | None = None,
    include_messages: bool | None = None,
    throttle_limit: int | None = None,
    timeout_sec: int | None = None,
    max_retry_count: int | None = None,
    api_type: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    auth_type: str | None = None,
    api_key: "str | Secret | None" = None,
    organization: str | None = None,
    additional_query: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    additional_body: "Mapping[str, Any] | str | None" = None,
) -> ExportReceipt:
    """Save stored chat completions to a new JSON-lines file (``path``; ``"-"`` is standard
    output), one API object per line, filtered by ``metadata`` and ``model``, from ``after`` in
    ``order``; ``include_messages`` adds ``"messages": [...]`` to each line (fetched
    ``throttle_limit`` at a time).  The file appears only when complete and never replaces an
    existing one.  Returns an :class:`ExportReceipt` (path and count); the receipt is also a
    verbose line."""
    from .commands import export_completion

    return export_completion.call(locals())


_LAZY = {
    "ExportReceipt": "commands.export_completion",
    "set_openai_context": "commands.context",
    "get_openai_context": "commands.context",
    "clear_openai_context": "commands.context",
    "set_openai_secret": "commands.secrets",
    "get_openai_secret": "commands.secrets",
    "remove_openai_secret": "commands.secrets",
    "PSObject": "psobject",
    "OpenAI": "client",
    "AsyncOpenAI": "client",
    "Timeout": "client",
    "NotGiven": "client",
    "NOT_GIVEN": "client",
    "not_given": "client",
    "Omit": "client",
    "omit": "client",
}
"""The names loaded on first use, each with the module (below this package) that defines it."""

__all__ = [
    "__version__",
    "OPENAI_API_KEY",
    "OPENAI_API_BASE",
    "OPENAI_ORGANIZATION",
    "set_chat_completion",
    "get_chat_completion",
    "remove_chat_completion",
    "get_chat_completion_message",
    "request_chat_completion",
    "restore_chat_completion_metadata",
    "export_chat_completion",
    "ExportReceipt",
    "set_openai_context",
    "get_openai_context",
    "clear_openai_context",
    "set_openai_secret",
    "get_openai_secret",
    "remove_openai_secret",
    "Secret",
    "PSObject",
    # The SDK-shaped client (client/, a front-end: only ever loaded by __getattr__).
    "OpenAI",  # noqa: F405
    "AsyncOpenAI",  # noqa: F405
    "Timeout",  # noqa: F405
    "NotGiven",  # noqa: F405
    "NOT_GIVEN",  # noqa: F405
    "not_given",  # noqa: F405
    "Omit",  # noqa: F405
    "omit",  # noqa: F405
]
__all__ += errors.__all__


def __getattr__(name: str) -> Any:
    # Loaded when first asked for, and kept as a global so the next access is a plain lookup.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'psopenai_py' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # The names not loaded yet are attributes too: dir() and completion in a REPL list them.
    return sorted({*globals(), *_LAZY})
