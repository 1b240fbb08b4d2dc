"""The ``psopenai`` command line: a thin shell over the library."""

from __future__ import annotations

import json
import logging
import sys
from typing import TextIO

from . import __version__

__all__ = ["main"]

USAGE = """usage: psopenai <command> [parameters]

commands:
  demo                  update a stored completion on an embedded emulator (no key, no network)
  emulator --port N     serve the local stored-completions emulator on 127.0.0.1
  --version             print the version
"""


def main(argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run one command line; returns the process exit status."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    if not argv or argv[0] in ("-h", "--help", "help"):
        out.write(USAGE)
        return 0
    name, rest = argv[0], argv[1:]
    if name == "--version":
        out.write(f"psopenai_py {__version__}\n")
        return 0
    if name.lower() == "emulator":
        from .emulator.__main__ import main as emulator_main

        return emulator_main(rest)
    if name.lower() == "demo":
        return _demo(out, err, verbose="-Verbose" in rest or "--verbose" in rest)
    err.write(f"psopenai: unknown command {name!r}\n{USAGE}")
    return 2


def _demo(out: TextIO, err: TextIO, *, verbose: bool) -> int:
    """Create a stored completion on an embedded emulator and update its metadata."""
    from .commands.chat import set_chat_completion
    from .emulator import Emulator

    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("psopenai_py")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        with Emulator(seed=1) as emulator:
            stored = emulator.store.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Summarise ticket 4711."}],
                metadata={"team": "support"},
            )
            err.write(f"embedded emulator at {emulator.url}; stored {stored['id']} "
                      f"with metadata {json.dumps(stored['metadata'])}\n")
            updated = set_chat_completion(
                stored["id"], {"team": "support", "reviewed": "yes"},
                api_base=emulator.url, api_key="sk-emulator-demo-key-0000000000000000",
            )
            out.write(updated.to_json(include_added=False) + "\n")
    finally:
        logger.removeHandler(handler)
    return 0
