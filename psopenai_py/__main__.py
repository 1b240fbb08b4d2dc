"""``python -m psopenai_py`` and the ``psopenai`` command."""

from __future__ import annotations

import contextlib
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``psopenai`` command: the openai CLI's dialect for ``chat:completions``
    command lines, PowerShell's syntax for everything else."""
    args = [_as_utf8(word) for word in sys.argv[1:]] if argv is None else argv
    try:
        from .openai_cli import is_dialect

        if is_dialect(args):
            from .openai_cli import main as dialect_main

            return dialect_main(args)
        from .powershell.cli import main as cli_main

        return cli_main(args)
    except KeyboardInterrupt:
        # Ctrl-C while the front-end loads (before its own shell is in place): no traceback,
        # whatever state stderr is in.
        if sys.stderr is not None:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write("Interrupted.\n")
        return 130


def _as_utf8(word: str) -> str:
    """A command-line word read as UTF-8, whatever the locale.  With Python's UTF-8 mode off in a
    C/POSIX locale the words were decoded as ASCII, every byte past it a lone surrogate (U+DC80 to
    U+DCFF); their bytes, read again as UTF-8, are what the user typed.  Bytes that are not UTF-8
    stay lone surrogates, for the front-ends to refuse.  Windows hands over UTF-16 text, never
    such surrogates from bytes, so it is left alone."""
    if word.isascii() or os.name == "nt" or not any("\udc80" <= ch <= "\udcff" for ch in word):
        return word
    try:
        return os.fsencode(word).decode("utf-8", "surrogateescape")
    except UnicodeError:  # a surrogate that did not come from a byte: left for the refusal
        return word


if __name__ == "__main__":
    sys.exit(main())
