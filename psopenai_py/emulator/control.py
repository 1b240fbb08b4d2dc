"""The control API under ``/__emulator/``: what a test or a rehearsal script asks of a running
emulator from outside its process.  Its requests are never recorded.

- ``POST faults``: a JSON list of faults (the fields of :class:`~.faults.Fault`, each checked: a
  bad one is a 400 and queues nothing), queued in order;
- ``GET requests``: the recorded API requests, credentials masked, bodies in base64;
- ``GET stats``: counters (connections, requests, stored, faults, refusals, threads);
- ``POST seed``: ``{"count": N, "prefix": ..., "model": ..., "metadata": {...}}`` (a prefix of at
  most 64 characters, a model name of at most 256);
- ``POST latency``: ``{"ms": N}``, added to every API answer;
- ``GET ratelimit``: the rate limit per key and its counters (admitted, limited);
  ``POST ratelimit``: a new one, the fields of :class:`~.ratelimit.RateLimit` (``{}``: off);
- ``POST reset``: forget stored completions, faults, records and counters.

With an ``api_key`` set, the control API asks for that key too.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import asdict
from email.message import Message
from typing import TYPE_CHECKING, Any

from .faults import Fault
from .protocol import (
    CONTROL_PREFIX,
    MAX_LATENCY_MS,
    ApiError,
    bad_request,
    bounded_int,
    json_object,
    json_value,
    loggable,
    masked_header,
)
from .ratelimit import configure, describe
from .routes import authorize, check_metadata, store_full
from .store import StoreFull

if TYPE_CHECKING:
    from .server import EmulatorServer

__all__ = ["answer"]


def answer(server: EmulatorServer, method: str, action: str, headers: Message, body: bytes) -> Any:
    """The control API's answer to ``method`` on ``/__emulator/<action>``: a JSON value, or
    :class:`ApiError`."""
    if server.api_key is not None:
        authorize(server.api_key, headers)
    handler = _ACTIONS.get((method, action))
    if handler is None:
        raise ApiError(
            404,
            f"Unknown control action ({method} {CONTROL_PREFIX}{loggable(action, 40)}).",
            code="unknown_control_action",
        )
    return handler(server, body)


def _faults(server: EmulatorServer, body: bytes) -> Any:
    items = json_value(body, "[]")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise bad_request("The faults body must be a JSON list of objects.")
    try:
        # All or none: a bad fault anywhere in the list queues nothing.
        faults = [Fault(**item) for item in items]
    except (TypeError, ValueError) as exc:
        raise bad_request(f"Invalid fault: {loggable(str(exc))}.") from None
    for fault in faults:
        server.add_fault(fault)
    return {"faults": len(server.faults)}


def _requests(server: EmulatorServer, body: bytes) -> Any:
    with server.lock:
        return [
            dict(
                asdict(r),
                headers=[[k, masked_header(k, v)] for k, v in r.headers],
                body=base64.b64encode(r.body).decode(),
            )
            for r in server.requests
        ]


def _stats(server: EmulatorServer, body: bytes) -> Any:
    with server.lock:
        return {
            "connections": server.connections,
            "requests": len(server.requests),
            "stored": len(server.store),
            "faults": len(server.faults),
            "open_connections": server.open_connections,
            "refused_connections": server.refused,
            "records_dropped": server.records_dropped,
            "threads": threading.active_count(),
        }


_SEED_FIELDS = ("count", "prefix", "model", "metadata")


def _seed(server: EmulatorServer, body: bytes) -> Any:
    options = json_object(body, "{}")
    unknown = [name for name in options if name not in _SEED_FIELDS]
    if unknown:
        # A misnamed field (id_prefix) would otherwise seed with the default silently.
        raise bad_request(
            f"Unknown field {unknown[0]!r} in a seed: its fields are {', '.join(_SEED_FIELDS)}.",
            unknown[0],
            "unknown_parameter",
        )
    count = bounded_int(options, "count", 1, 0, server.limits.max_seed)
    prefix = _seed_text(options, "prefix", "chatcmpl-seed-", 0, MAX_SEED_PREFIX)
    model = _seed_text(options, "model", "gpt-4o-mini", 1, MAX_SEED_MODEL)
    metadata = check_metadata(options, required=False)
    try:
        ids = server.store.seed(count, prefix=prefix, model=model, metadata=metadata)
    except StoreFull as exc:
        raise store_full(exc) from None
    return {"seeded": len(ids), "first_id": ids[0] if ids else None}


MAX_SEED_PREFIX = 64
"""Characters of a seed's id prefix: ids stay API-sized (the API's are about 40), and a seed of
the most completions stays within memory (a 500 kB prefix cost 1 MB a completion)."""
MAX_SEED_MODEL = 256
"""Characters of a seed's model name."""


def _seed_text(options: dict[str, Any], name: str, default: str, shortest: int, longest: int) -> str:
    """A seed's prefix or model: a string of ``shortest`` to ``longest`` printable characters, and
    no ``/`` (an id with one could not be addressed in a path)."""
    value = options.get(name, default)
    if not isinstance(value, str):
        raise bad_request(f"Invalid '{name}': expected a string.", name, "invalid_type")
    if not shortest <= len(value) <= longest or not value.isprintable() or "/" in value:
        raise bad_request(
            f"Invalid '{name}': expected {shortest} to {longest} printable characters without '/', "
            f"got {len(value)} characters.",
            name,
            "invalid_value",
        )
    return value


def _latency(server: EmulatorServer, body: bytes) -> Any:
    server.latency_ms = bounded_int(json_object(body, "{}"), "ms", 0, 0, MAX_LATENCY_MS)
    return {"latency_ms": server.latency_ms}


def _reset(server: EmulatorServer, body: bytes) -> Any:
    server.reset()
    return {"reset": True}


def _rate_limit(server: EmulatorServer, body: bytes) -> Any:
    return describe(server.rate_limiter)


def _set_rate_limit(server: EmulatorServer, body: bytes) -> Any:
    return configure(server.rate_limiter, body)


_ACTIONS = {
    ("POST", "faults"): _faults,
    ("GET", "requests"): _requests,
    ("GET", "stats"): _stats,
    ("POST", "seed"): _seed,
    ("POST", "latency"): _latency,
    ("POST", "reset"): _reset,
    ("GET", "ratelimit"): _rate_limit,
    ("POST", "ratelimit"): _set_rate_limit,
}
"""(method, action) -> what it does; anything else is a 404."""
