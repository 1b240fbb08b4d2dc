"""Who may talk to the emulator: a client on this machine, never a web page.

The emulator listens on 127.0.0.1 and, without ``--api-key``, accepts any key: a page in a
browser on the same machine could otherwise send it requests (a ``text/plain`` POST needs no
preflight), and a page whose name it re-points at 127.0.0.1 (DNS rebinding) could read the
answers.  So every request, to the API as to the control API:

- names this machine in its ``Host`` (``127.0.0.1`` or ``localhost``, any port: a forwarded port
  keeps working); a request without ``Host`` (HTTP/1.0 tools) is served, as no browser sends one;
- comes from no other origin: an ``Origin`` header, which browsers add to cross-origin requests
  and to any POST, must be the emulator's own (``http://`` and the request's ``Host``).

Command-line tools and HTTP libraries send no ``Origin`` and the right ``Host``: nothing changes
for them.  Anything else is a 403 in the API's shape.
"""

from __future__ import annotations

from email.message import Message

from .protocol import ApiError, loggable

__all__ = ["check_origin", "LOCAL_NAMES"]

LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "localhost."})
"""The names a request to this emulator may give its host (it listens on 127.0.0.1 only)."""


def _hostname(host: str) -> str:
    """The host part of a ``Host`` value (``127.0.0.1:8080`` -> ``127.0.0.1``), lowercase."""
    name, _, port = host.strip().rpartition(":")
    if not name or not port.isdigit():  # no port given
        name = host.strip()
    return name.lower()


def check_origin(headers: Message) -> None:
    """Raise a 403 :class:`ApiError` for a request from a web page or addressed to another name."""
    hosts = headers.get_all("Host") or []
    if len(hosts) > 1 or any(_hostname(h) not in LOCAL_NAMES for h in hosts):
        raise ApiError(
            403,
            f"The emulator answers only requests to 127.0.0.1 or localhost, not to "
            f"{loggable(', '.join(hosts), 80)}.",
            code="foreign_host",
        )
    origins = headers.get_all("Origin") or []
    own = f"http://{hosts[0].strip()}".lower() if hosts else None
    if any(origin.strip().lower() != own for origin in origins):
        raise ApiError(
            403,
            f"Cross-origin requests are refused (Origin: {loggable(', '.join(origins), 80)}): a web "
            "page may not use the emulator.",
            code="foreign_origin",
        )
