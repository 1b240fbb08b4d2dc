"""Building, sending and retrying requests over one pooled HTTP session.

Three parts, each a module of its own:

- :mod:`.wire`: the wire format (URL, PowerShell-style value text, headers, body, the
  per-invocation :class:`RequestOptions`), pure functions that import no HTTP library;
- :mod:`.deadlines`: one TimeoutSec for the whole of an attempt, however slowly a server or
  proxy drips its answer;
- :mod:`.session`: the :class:`Transport` (one pooled session, the retry loop, what an answer
  becomes), with :mod:`.pacing` deciding when each attempt may start;
- :mod:`.stream`: a streamed answer (server-sent events, parsed by the pure :mod:`.sse`) read as
  it comes, a :class:`ChunkStream`.

These are the only modules of the package that import ``requests`` and ``urllib3`` (the package's
import stays light: commands load the transport on first use).  The names below are the
transport's public face; the rest of the package imports them from here (``HTTPRequest`` and
``HTTPResponse`` are the HTTP library's request and response classes, as an exchange holds them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from requests import PreparedRequest as HTTPRequest
from requests import Response as HTTPResponse

from .deadlines import connect_limit
from .session import USER_AGENT, Exchange, Transport, default_transport, set_default_transport
from .wire import (
    RequestOptions,
    build_headers,
    build_url,
    encode_body,
    encode_path,
    is_credential_header,
    json_type,
    ps_string,
    url_encode,
)

if TYPE_CHECKING:
    from .stream import ChunkStream

__all__ = [
    "Transport",
    "Exchange",
    "ChunkStream",
    "RequestOptions",
    "default_transport",
    "set_default_transport",
    "url_encode",
    "ps_string",
    "encode_path",
    "build_url",
    "build_headers",
    "encode_body",
    "USER_AGENT",
    "is_credential_header",
    "json_type",
    "connect_limit",
    "HTTPRequest",
    "HTTPResponse",
]


def __getattr__(name: str) -> Any:
    # The streamed answer's reader (with its event parser) loads when first asked for: a command
    # that streams nothing, as every one-shot update, never loads it.
    if name == "ChunkStream":
        from .stream import ChunkStream

        return ChunkStream
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
