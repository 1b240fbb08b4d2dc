"""``psopenai emulator --port N`` (or ``python -m psopenai_py.emulator``): serve the emulator until
interrupted.

It explains itself: ``--help`` says how to seed stored completions, inject faults and add latency
(through its control API, shown with curl), ``--stored N`` starts it with N stored completions,
and the start lines are the exact shell lines that point the package's commands at it.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import logging
import math
import shlex
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from . import Emulator, Fault, Limits, RateLimit, StoreFull
from .protocol import MAX_LATENCY_MS, hide_keys

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


# -- getting started: what --help explains, the seeded start and the start lines ------------------

DEFAULT_PORT = 8080
EMULATOR_KEY = "sk-emulator-any-key-works"
"""The key the start lines suggest when the emulator takes any key (no ``--api-key``): not a
secret, and long enough that the client's key scrubbing never touches ids or model names."""
SEED_PREFIX = "chatcmpl-seed-"

_EPILOG = """\
The control API is shown with curl; its --json (curl 7.82 or later) POSTs a JSON body.

seed stored completions:
  {prog} --stored 100     starts with 100 (ids {seed}000000 to {seed}000099)
  while it runs, through its control API:
  curl {root}/__emulator/seed --json '{{"count": 100, "metadata": {{"team": "ops"}}}}'
  its fields: "count", "prefix" (of the ids), "model", "metadata"

inject faults (each applies to the next matching requests, in order, "times" times):
  curl {root}/__emulator/faults --json '[{{"status": 500, "times": 2}}]'
  curl {root}/__emulator/faults --json '[{{"status": 429, "headers": {{"retry-after-ms": "1500"}}}}]'
  curl {root}/__emulator/faults --json '[{{"drop": true, "method": "POST"}}]'
  curl {root}/__emulator/faults --json '[{{"delay_ms": 3000, "path_contains": "{seed}000001"}}]'
  fields: {fault_fields}

add latency to every answer:
  {prog} --latency-ms 200, or while it runs:
  curl {root}/__emulator/latency --json '{{"ms": 200}}'

look and start over:
  curl {root}/__emulator/stats      curl {root}/__emulator/requests
  curl -X POST {root}/__emulator/reset
  with --api-key K, add -H "Authorization: Bearer K" to each

point a shell at it (the start lines print these, with the port it listens on):
  export OPENAI_API_BASE={root}/v1 OPENAI_API_KEY={key}
  export OPENAI_BASE_URL={root}/v1    # for psopenai chat:completions ... and psopenai_py.OpenAI

from Python, in the same process:
  with psopenai_py.emulator.Emulator() as emu:   # emu.url is the base URL
      emu.store.seed(100); emu.inject(Fault(status=500, times=2)); emu.latency_ms = 200
"""


def _epilog(prog: str) -> str:
    root = f"http://127.0.0.1:{DEFAULT_PORT}"
    fault_fields = ", ".join(f.name for f in dataclasses.fields(Fault))
    return _EPILOG.format(prog=prog, root=root, seed=SEED_PREFIX, key=EMULATOR_KEY, fault_fields=fault_fields)


def _getting_started_options(parser: argparse.ArgumentParser, limits: Limits) -> None:
    group = parser.add_argument_group("getting started")
    group.add_argument(
        "--stored",
        type=_at_most(limits.max_seed),
        default=0,
        metavar="N",
        help=f"start with N stored completions, ids {SEED_PREFIX}000000 on (at most {limits.max_seed})",
    )


def _at_most(limit: int) -> Callable[[str], int]:
    """An argparse type: a whole number from 0 to ``limit``."""

    def parse(text: str) -> int:
        value = int(text)
        if not 0 <= value <= limit:
            raise argparse.ArgumentTypeError(f"expected a number from 0 to {limit}, got {text!r}")
        return value

    parse.__name__ = "int"
    return parse


def _key(text: str) -> str:
    """An argparse type: the one key accepted, not empty (an empty key is "no key" to every
    client, so an emulator that asked for it could be used by none)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a key, got an empty value")
    return text


class _Parser(argparse.ArgumentParser):
    """argparse, whose messages quote the value they refuse: a key pasted where a number or an
    option goes is shown as ``sk-****``, never whole."""

    def error(self, message: str) -> NoReturn:
        super().error(hide_keys(message))


def shell_lines(url: str, api_key: str | None, *, windows: bool) -> list[str]:
    """The lines that point a shell at an emulator serving ``url``: PSOpenAI's commands and the
    package's functions read OPENAI_API_BASE, the openai CLI and SDK dialects OPENAI_BASE_URL.

    POSIX ``export`` lines, or PowerShell ``$env:`` lines on Windows, where PowerShell is the
    shell of most of this package's users (cmd's ``set`` would keep the quotes).  With
    ``api_key`` (the emulator's ``--api-key``) the key is not printed, as no key ever is: a
    comment says to set it.
    """
    if windows:

        def assign(name: str, value: str) -> str:
            return f"$env:{name} = '{value.replace(chr(39), chr(39) * 2)}'"

        key = assign("OPENAI_API_KEY", EMULATOR_KEY) if api_key is None else None
        base = [assign("OPENAI_API_BASE", url), *([key] if key else [])]
        lines = ["; ".join(base), assign("OPENAI_BASE_URL", url)]
    else:
        key_part = f" OPENAI_API_KEY={shlex.quote(EMULATOR_KEY)}" if api_key is None else ""
        lines = [
            f"export OPENAI_API_BASE={shlex.quote(url)}{key_part}",
            f"export OPENAI_BASE_URL={shlex.quote(url)}",
        ]
    comment = (
        "# PSOpenAI's commands read OPENAI_API_BASE; psopenai chat:completions and OpenAI() OPENAI_BASE_URL"
    )
    if api_key is not None:
        comment += "; set OPENAI_API_KEY to the value given to --api-key"
    return [comment, *lines]


def _announce(emulator: Emulator, args: argparse.Namespace) -> None:
    """Print the start lines (a courtesy: a closed stdout is no error)."""
    lines = [f"psopenai emulator listening on {emulator.url}"]
    if args.stored:
        last = f"{SEED_PREFIX}{args.stored - 1:06d}"
        if args.stored == 1:
            lines.append(f"# stored 1 completion: {last}")
        else:
            lines.append(f"# stored {args.stored} completions: {SEED_PREFIX}000000 to {last}")
    lines += shell_lines(emulator.url, args.api_key, windows=sys.platform == "win32")
    for line in lines:
        print(line, flush=True)


def _parser(prog: str) -> argparse.ArgumentParser:
    defaults = Limits()
    parser = _Parser(
        prog=prog,
        description="Local OpenAI stored-completions emulator, on 127.0.0.1.",
        epilog=_epilog(prog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument(
        "--latency-ms",
        type=_at_most(MAX_LATENCY_MS),
        default=0,
        help=f"delay added to every answer (at most {MAX_LATENCY_MS})",
    )
    parser.add_argument(
        "--api-key",
        type=_key,
        default=None,
        help="accept only this key, on the API and the control API "
        "(default: any non-empty key; the control API needs none)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for generated ids")
    parser.add_argument("--no-record", action="store_true", help="do not keep received requests (long runs)")
    _getting_started_options(parser, defaults)
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
    """Parse the options, serve on 127.0.0.1 (seeded with ``--stored``), print the base URL and the
    shell lines that point at it, wait for Ctrl-C.

    ``prog`` is the name the usage and errors show (``psopenai emulator`` from the CLI).
    Returns the exit status: 0 after Ctrl-C, 2 for bad options, a port that cannot be used or
    more stored completions than --max-stored allows.
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
    try:
        emulator.store.seed(args.stored, prefix=SEED_PREFIX)
    except StoreFull as exc:  # --stored over --max-stored
        emulator.server.server_close()
        print(f"{prog}: --stored {args.stored}: {exc}", file=sys.stderr)
        return 2
    # One line on stderr per refused request (4xx/5xx the emulator decided), nothing else.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prog}: %(message)s"))
    logger = logging.getLogger("psopenai_py.emulator")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    _announce(emulator, args)
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
