"""``psopenai demo``: an embedded emulator, one stored completion, and its metadata updated with
Set-ChatCompletion, to see the command work with no key and no network."""

from __future__ import annotations

import json
import logging
from typing import TextIO

from ..cli_shell import EXIT_BEFORE_FIRST_ITEM, Output

__all__ = ["demo"]


class _StreamFormatter(logging.Formatter):
    """Log records as PowerShell stream lines (``VERBOSE:``, ``WARNING:``, ``DEBUG:``)."""

    def format(self, record: logging.LogRecord) -> str:
        from .terminal import escape_controls

        prefix = {logging.INFO: "VERBOSE", logging.DEBUG: "DEBUG"}.get(record.levelno, record.levelname)
        return f"{prefix}: {escape_controls(record.getMessage())}"


_DEMO_USAGE = (
    "Usage: psopenai demo [-Verbose]\n"
    "\n"
    "Starts an emulator of the API inside the process (on 127.0.0.1, no key, no network), stores\n"
    "one completion on it and updates its metadata with Set-ChatCompletion, printing the result.\n"
    "\n"
    "  -Verbose, -vb   also show each request and answer\n"
)
_DEMO_VERBOSE = ("-verbose", "-vb", "--verbose")


def demo(argv: list[str], out: Output, err: TextIO) -> int:
    """Create a stored completion on an embedded emulator and update its metadata; ``-Verbose``
    is its one parameter, the help flags show its usage, and anything else is refused before the
    emulator starts."""
    if any(a in ("-?", "/?") or a.lower() in ("-h", "--help", "-help") for a in argv):
        out.write(_DEMO_USAGE)
        return 0
    unknown = [a for a in argv if a.lower() not in _DEMO_VERBOSE]
    if unknown:
        from ..scrub import looks_like_key, mask_key
        from .terminal import escape_controls

        word = unknown[0]
        shown = mask_key(word) if looks_like_key(word) else escape_controls(word)
        err.write(
            f"psopenai demo: '{shown}' is not a parameter of demo, which takes -Verbose only. "
            "Run 'psopenai demo --help'.\n"
        )
        return EXIT_BEFORE_FIRST_ITEM
    verbose = bool(argv)
    from ..commands import set_completion
    from ..emulator import Emulator

    handler = logging.StreamHandler(err)
    handler.setFormatter(_StreamFormatter())
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
            err.write(
                f"embedded emulator at {emulator.url}; stored {stored['id']} "
                f"with metadata {json.dumps(stored['metadata'])}\n"
            )
            updated = set_completion.call(
                {
                    "completion_id": stored["id"],
                    "metadata": {"team": "support", "reviewed": "yes"},
                    "api_base": emulator.url,
                    "api_key": "sk-emulator-demo-key-0000000000000000",
                }
            )
            out.write(updated.to_json(include_added=False) + "\n")
    finally:
        logger.removeHandler(handler)
    return 0
