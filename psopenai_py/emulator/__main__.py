"""``python -m psopenai_py.emulator --port N``: serve the emulator until interrupted."""

from __future__ import annotations

import argparse
import sys

from . import Emulator


def main(argv: list[str] | None = None) -> int:
    """Parse the options, serve on 127.0.0.1, print the base URL, wait for Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m psopenai_py.emulator", description="Local OpenAI stored-completions emulator."
    )
    parser.add_argument("--port", type=int, default=8080, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every answer")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty key)")
    parser.add_argument("--seed", type=int, default=None, help="seed for generated ids")
    parser.add_argument("--no-record", action="store_true", help="do not keep received requests (long runs)")
    args = parser.parse_args(argv)
    emulator = Emulator(
        args.port, latency_ms=args.latency_ms, api_key=args.api_key, seed=args.seed, record=not args.no_record
    )
    print(f"psopenai emulator listening on {emulator.url}", flush=True)
    try:
        emulator.server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
