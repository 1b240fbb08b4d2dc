"""psopenai_py: PSOpenAI's stored chat-completion commands for Python.

Quick start::

    import psopenai_py
    psopenai_py.OPENAI_API_KEY = "sk-..."          # or the environment, or the OS keyring
    done = psopenai_py.set_chat_completion("chatcmpl-abc123", {"reviewed": "yes"})
    done.Metadata["reviewed"]                       # 'yes'

The module globals ``OPENAI_API_KEY``, ``OPENAI_API_BASE`` and ``OPENAI_ORGANIZATION`` play the
part of PowerShell's ``$global:`` variables.  Commands and the HTTP stack are imported on first
use, so ``import psopenai_py`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .commands.context import clear_openai_context, get_openai_context, set_openai_context
from .errors import (
    ActionPreferenceStopException,
    APIConnectionException,
    APIRequestException,
    BadRequestException,
    ConflictException,
    ContentFilteredException,
    ExportFileError,
    InvalidResponseException,
    JournalError,
    MetadataConflictError,
    MissingSettingError,
    NotFoundException,
    ParameterBindingError,
    ParameterTypeError,
    PermissionDeniedException,
    PowerShellSyntaxError,
    PSOpenAIError,
    QuotaLimitExceededException,
    RateLimitExceededException,
    RedirectException,
    RunStoppedError,
    SecretStoreError,
    TimeoutException,
    UnauthorizedException,
    UnexpectedItemError,
    UnprocessableEntityException,
)
from .secret import Secret

if TYPE_CHECKING:
    # OpenAI (client.py) is a front-end: it is only named in _LAZY, never imported here, so the
    # library stays free of imports towards the front-ends (tests/test_layout.py).
    from .commands.chat import (
        get_chat_completion,
        get_chat_completion_message,
        remove_chat_completion,
        request_chat_completion,
        set_chat_completion,
    )
    from .commands.export_completion import ExportReceipt, export_chat_completion
    from .commands.restore_metadata import restore_chat_completion_metadata
    from .commands.secrets import get_openai_secret, remove_openai_secret, set_openai_secret
    from .psobject import PSObject

OPENAI_API_KEY: "str | Secret | None" = None
"""Like PowerShell's ``$global:OPENAI_API_KEY``: used when no parameter or context gives a key."""
OPENAI_API_BASE: str | None = None
"""Like ``$global:OPENAI_API_BASE``."""
OPENAI_ORGANIZATION: str | None = None
"""Like ``$global:OPENAI_ORGANIZATION``."""

_LAZY = {
    "set_chat_completion": ("psopenai_py.commands.chat", "set_chat_completion"),
    "get_chat_completion": ("psopenai_py.commands.chat", "get_chat_completion"),
    "remove_chat_completion": ("psopenai_py.commands.chat", "remove_chat_completion"),
    "get_chat_completion_message": ("psopenai_py.commands.chat", "get_chat_completion_message"),
    "request_chat_completion": ("psopenai_py.commands.chat", "request_chat_completion"),
    "restore_chat_completion_metadata": (
        "psopenai_py.commands.restore_metadata",
        "restore_chat_completion_metadata",
    ),
    "export_chat_completion": ("psopenai_py.commands.export_completion", "export_chat_completion"),
    "ExportReceipt": ("psopenai_py.commands.export_completion", "ExportReceipt"),
    "PSObject": ("psopenai_py.psobject", "PSObject"),
    "OpenAI": ("psopenai_py.client", "OpenAI"),
    "set_openai_secret": ("psopenai_py.commands.secrets", "set_openai_secret"),
    "get_openai_secret": ("psopenai_py.commands.secrets", "get_openai_secret"),
    "remove_openai_secret": ("psopenai_py.commands.secrets", "remove_openai_secret"),
}

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
    "SecretStoreError",
    "PSObject",
    "OpenAI",
    "PSOpenAIError",
    "ParameterBindingError",
    "ParameterTypeError",
    "MissingSettingError",
    "APIRequestException",
    "BadRequestException",
    "ContentFilteredException",
    "UnauthorizedException",
    "PermissionDeniedException",
    "NotFoundException",
    "ConflictException",
    "UnprocessableEntityException",
    "RateLimitExceededException",
    "QuotaLimitExceededException",
    "APIConnectionException",
    "TimeoutException",
    "InvalidResponseException",
    "RedirectException",
    "PowerShellSyntaxError",
    "ActionPreferenceStopException",
    "RunStoppedError",
    "UnexpectedItemError",
    "JournalError",
    "ExportFileError",
    "MetadataConflictError",
]


def __getattr__(name: str) -> Any:
    # Commands pull in requests (about 100 ms); load them when first asked for.
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'psopenai_py' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value
