"""``python -m psopenai_py`` and the ``psopenai`` command."""

from __future__ import annotations

import contextlib
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``psopenai`` command: the openai CLI's dialect for ``chat:completions``
    command lines, PowerShell's syntax for everything else."""
    args = sys.argv[1:] if argv is None else argv
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


if __name__ == "__main__":
    sys.exit(main())
