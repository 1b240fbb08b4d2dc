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

from . import Emulator, Limits, RateLimit

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
    # The rate limit per API key (see psopenai_py.emulator.ratelimit): off unless a limit is given.
    rate = parser.add_argument_group("rate limit (per API key, as the API enforces it)")
    rate.add_argument(
        "--requests-per-minute",
        metavar="N",
        type=_positive(int),
        default=None,
        help="requests a minute per key; beyond it 429 rate_limit_exceeded (default: unlimited)",
    )
    rate.add_argument(
        "--tokens-per-minute",
        metavar="N",
        type=_positive(int),
        default=None,
        help="tokens a minute per key, counted on creating completions (default: unlimited)",
    )
    rate.add_argument(
        "--burst-seconds",
        metavar="SECONDS",
        type=_positive(float),
        default=RateLimit().burst_seconds,
        help="seconds of the rate one key may spend at once (default: %(default)s, a whole minute)",
    )
    rate.add_argument(
        "--no-ratelimit-headers",
        action="store_true",
        help="leave the x-ratelimit-* headers out of the answers (429s still say retry-after-ms)",
    )
    return parser


def _rate_limit(args: argparse.Namespace) -> RateLimit:
    """The rate limit the options ask for; a ValueError names what is out of range."""
    return RateLimit(
        requests_per_minute=args.requests_per_minute,
        tokens_per_minute=args.tokens_per_minute,
        burst_seconds=args.burst_seconds,
        headers=not args.no_ratelimit_headers,
    )


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
        rate_limit = _rate_limit(args)
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    try:
        emulator = Emulator(
            args.port,
            latency_ms=args.latency_ms,
            api_key=args.api_key,
            seed=args.seed,
            record=not args.no_record,
            limits=limits,
            rate_limit=rate_limit,
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
