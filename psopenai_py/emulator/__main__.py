"""``psopenai emulator --port N`` (or ``python -m psopenai_py.emulator``): serve the emulator until
interrupted."""

from __future__ import annotations

import argparse
import errno
import logging
import math
import sys
from collections.abc import Callable
from typing import Any

from . import Emulator, Limits

DEFAULT_PROG = "python -m psopenai_py.emulator"


def _positive(kind: type[int] | type[float]) -> Callable[[str], Any]:
    """An argparse type: a finite number above 0."""

    def parse(text: str) -> Any:
        value = kind(text)
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its message
    return parse


_LIMIT_OPTIONS: tuple[tuple[str, type[int] | type[float], str], ...] = (
    ("max_body_bytes", int, "largest request body; beyond it 413"),
    ("max_connections", int, "connections served at once, one thread each; beyond it 503"),
    ("max_stored", int, "stored completions kept"),
    ("idle_timeout", float, "seconds of silence before a connection is closed"),
    ("header_timeout", float, "seconds for a request's line and headers, and again for its body"),
)
"""The Limits fields a command line may set (as --max-body-bytes, ...), their type and help."""


def _parser(prog: str) -> argparse.ArgumentParser:
    defaults = Limits()
    parser = argparse.ArgumentParser(prog=prog, description="Local OpenAI stored-completions emulator.")
    parser.add_argument("--port", type=int, default=8080, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every answer")
    parser.add_argument(
        "--api-key",
        default=None,
        help="accept only this key, on the API and the control API "
        "(default: any non-empty key; the control API needs none)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for generated ids")
    parser.add_argument("--no-record", action="store_true", help="do not keep received requests (long runs)")
    group = parser.add_argument_group("limits")
    for name, kind, text in _LIMIT_OPTIONS:
        group.add_argument(
            "--" + name.replace("_", "-"),
            type=_positive(kind),
            default=getattr(defaults, name),
            help=f"{text} (default: %(default)s)",
        )
    return parser


def main(argv: list[str] | None = None, prog: str = DEFAULT_PROG) -> int:
    """Parse the options, serve on 127.0.0.1, print the base URL, wait for Ctrl-C.

    ``prog`` is the name the usage and errors show (``psopenai emulator`` from the CLI).
    Returns the exit status: 0 after Ctrl-C, 2 for bad options or a port that cannot be used.
    """
    try:
        args = _parser(prog).parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return exc.code if isinstance(exc.code, int) else 2
    limits = Limits(**{name: getattr(args, name) for name, _, _ in _LIMIT_OPTIONS})
    try:
        emulator = Emulator(
            args.port,
            latency_ms=args.latency_ms,
            api_key=args.api_key,
            seed=args.seed,
            record=not args.no_record,
            limits=limits,
        )
    except (OSError, OverflowError) as exc:
        reason = (
            "the port is in use"
            if getattr(exc, "errno", None) == errno.EADDRINUSE
            else getattr(exc, "strerror", None) or str(exc)
        )
        print(f"{prog}: cannot listen on 127.0.0.1:{args.port}: {reason}", file=sys.stderr)
        return 2
    # One line on stderr per refused request (4xx/5xx the emulator decided), nothing else.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prog}: %(message)s"))
    logger = logging.getLogger("psopenai_py.emulator")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    print(f"psopenai emulator listening on {emulator.url}", flush=True)
    try:
        emulator.server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.server.server_close()
        logger.removeHandler(handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
