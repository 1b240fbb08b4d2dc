"""The official openai CLI's dialect of ``psopenai``: ``chat:completions`` commands and flags.

    psopenai chat:completions update --completion-id chatcmpl-abc --metadata '{foo: string}'
    psopenai chat completions list --metadata '{team: ops}' --format jsonl
    psopenai chat:completions retrieve chatcmpl-abc --transform choices.0.message.content -r

A front-end only: it parses the official CLI's grammar and calls the core
(:mod:`psopenai_py.commands.stored` over the settings and the transport), never the PowerShell
layer.  This module stays light, so that ``psopenai`` can ask :func:`is_dialect` cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["is_dialect", "main"]


# The flags the PowerShell front-end takes before its command name: a line starting with one
# of them is that front-end's (psopenai --format json Get-ChatCompletion ...).
_POWERSHELL_LEADING = ("--format", "--json", "--text", "--help", "-h", "--version")


def is_dialect(argv: Sequence[str]) -> bool:
    """True when the command line is the dialect's: its first command word is ``chat`` or
    ``chat:...`` (root flags such as ``--api-key X`` may come before it), or it starts with a
    flag the PowerShell front-end does not take and names ``chat`` later (the dialect then says
    which flag it does not know, in the official CLI's words), or starts with one of the
    dialect's root flags (``psopenai -v``, ``psopenai --base-url URL --help``: the original honours
    them before any resource word)."""
    lead = argv[0] if argv else ""
    # Most command lines have no such word at all: answer those without loading the grammar.
    if not any(_is_chat(word) for word in argv):
        return lead.startswith("-") and _is_root_flag(lead)
    from .grammar import command_words

    words = command_words(argv)
    # Any chat:... word, so that a misspelt resource (chat:completion) gets the dialect's
    # "Did you mean" rather than the PowerShell front-end's "not a command".
    # Case-insensitively too: the rest of psopenai is PowerShell's, where Chat:Completions would
    # work; here it gets the suggestion of the right spelling.
    if words and _is_chat(words[0]):
        return True
    return lead.startswith("-") and lead.partition("=")[0] not in _POWERSHELL_LEADING


def _is_root_flag(word: str) -> bool:
    """Whether a word is one of the dialect's root flags that the PowerShell front-end does not
    take (one dash or two, a value after ``=`` or not)."""
    name = word.partition("=")[0]
    if name in _POWERSHELL_LEADING:
        return False
    from .grammar import ROOT_FLAGS

    bare = name[2:] if name.startswith("--") else name[1:]
    return any(bare in flag.names for flag in ROOT_FLAGS)


def _is_chat(word: str) -> bool:
    lowered = word.lower()
    return lowered == "chat" or lowered.startswith("chat:")


def main(
    argv: Sequence[str],
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: Any = None,
) -> int:
    """Run one command line of the dialect; returns the exit status (0, 1, or 3).  ``stdin`` is
    where piped YAML or JSON is read from (default: the process's standard input)."""
    from .app import run

    return run(argv, stdout, stderr, stdin)
