"""The official openai CLI's dialect of ``psopenai``: ``chat:completions`` commands and flags.

    psopenai chat:completions update --completion-id chatcmpl-abc --metadata '{foo: string}'
    psopenai chat completions list --metadata '{team: ops}' --format jsonl

A front-end only: it parses the official CLI's grammar and calls the core
(:mod:`psopenai_py.commands.stored` over the settings and the transport), never the PowerShell
layer.  This module stays light, so that ``psopenai`` can ask :func:`is_dialect` cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

__all__ = ["is_dialect", "main"]


def is_dialect(argv: Sequence[str]) -> bool:
    """True when the command line's first command word is ``chat`` or ``chat:...``
    (global flags such as ``--api-key X`` may come before it)."""
    # Most command lines have no such word at all: answer those without loading the grammar.
    if not any(word.lower() == "chat" or word.lower().startswith("chat:") for word in argv):
        return False
    from .grammar import command_words

    words = command_words(argv)
    # Any chat:... word, so that a misspelt resource (chat:completion) gets the dialect's
    # "Did you mean" rather than the PowerShell front-end's "not a command".
    # Case-insensitively too: the rest of psopenai is PowerShell's, where Chat:Completions would
    # work; here it gets the suggestion of the right spelling.
    first = words[0].lower() if words else ""
    return first == "chat" or first.startswith("chat:")


def main(argv: Sequence[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run one command line of the dialect; returns the exit status (0, 1, or 3)."""
    from .app import main as run

    return run(argv, stdout=stdout, stderr=stderr)
