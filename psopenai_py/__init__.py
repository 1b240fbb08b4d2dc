"""psopenai_py: PSOpenAI's stored chat-completion commands for Python.

Quick start::

    import psopenai_py
    psopenai_py.OPENAI_API_KEY = "sk-..."          # or the environment, or the OS keyring
    done = psopenai_py.set_chat_completion("chatcmpl-abc123", {"reviewed": "yes"})
    done.Metadata["reviewed"]                       # 'yes'

The module globals ``OPENAI_API_KEY``, ``OPENAI_API_BASE`` and ``OPENAI_ORGANIZATION`` play the
part of PowerShell's ``$global:`` variables.  Each command is imported on first use, its module
alone, so ``import psopenai_py`` stays cheap and loads no HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from ._version import __version__
from .errors import *  # noqa: F403  (the exceptions; errors.__all__ is their one list)
from .secret import Secret

if TYPE_CHECKING:
    # OpenAI (client.py) is a front-end: it is only named in _LAZY, never imported here, so the
    # library stays free of imports towards the front-ends (tests/test_layout.py).
    from .commands.context import clear_openai_context, get_openai_context, set_openai_context
    from .commands.export_completion import ExportReceipt, export_chat_completion
    from .commands.get_completion import get_chat_completion
    from .commands.get_messages import get_chat_completion_message
    from .commands.remove_completion import remove_chat_completion
    from .commands.request_completion import request_chat_completion
    from .commands.restore_metadata import restore_chat_completion_metadata
    from .commands.secrets import get_openai_secret, remove_openai_secret, set_openai_secret
    from .commands.set_completion import set_chat_completion
    from .psobject import PSObject

OPENAI_API_KEY: "str | Secret | None" = None
"""Like PowerShell's ``$global:OPENAI_API_KEY``: used when no parameter or context gives a key."""
OPENAI_API_BASE: str | None = None
"""Like ``$global:OPENAI_API_BASE``."""
OPENAI_ORGANIZATION: str | None = None
"""Like ``$global:OPENAI_ORGANIZATION``."""

_LAZY = {
    "set_chat_completion": "commands.set_completion",
    "get_chat_completion": "commands.get_completion",
    "remove_chat_completion": "commands.remove_completion",
    "get_chat_completion_message": "commands.get_messages",
    "request_chat_completion": "commands.request_completion",
    "restore_chat_completion_metadata": "commands.restore_metadata",
    "export_chat_completion": "commands.export_completion",
    "ExportReceipt": "commands.export_completion",
    "set_openai_context": "commands.context",
    "get_openai_context": "commands.context",
    "clear_openai_context": "commands.context",
    "set_openai_secret": "commands.secrets",
    "get_openai_secret": "commands.secrets",
    "remove_openai_secret": "commands.secrets",
    "PSObject": "psobject",
    "OpenAI": "client",
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
    "OpenAI",  # noqa: F405  (client.py, a front-end: only ever loaded by __getattr__)
]
__all__ += errors.__all__


def __getattr__(name: str) -> Any:
    # A command pulls in its own module and the HTTP stack (requests, about 100 ms): load it
    # when first asked for, and keep it as a global so the next access is a plain lookup.
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
