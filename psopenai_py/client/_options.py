"""The SDK's per-call option values: the "not given" sentinels and ``Timeout``.

``NOT_GIVEN``/``not_given`` (use the default) and ``omit`` (do not send) are this package's own;
the official package's sentinels are recognised too, by their class, without importing that
package (it is never a run-time dependency): code written for the SDK passes ``openai.NOT_GIVEN``
and ``openai.omit`` as they are.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = [
    "NotGiven",
    "NOT_GIVEN",
    "not_given",
    "Omit",
    "omit",
    "is_given",
    "Timeout",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "timeout_parts",
]

_SDK_PACKAGE = "openai"
_SENTINEL_NAMES = frozenset({"NotGiven", "Omit"})


class NotGiven:
    """ "Not given": the default applies (``timeout=NOT_GIVEN`` is the client's timeout, where
    ``timeout=None`` is no timeout).  Falsy."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


not_given = NotGiven()
NOT_GIVEN = not_given
"""The SDK's older spelling of :data:`not_given`."""


class Omit:
    """ "Leave it out": the parameter is not sent (an optional parameter's default); in a header
    mapping it removes that header.  Falsy."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "omit"


omit = Omit()


def is_given(value: Any) -> bool:
    """False for this package's and the official package's ``NotGiven`` and ``Omit`` values."""
    if isinstance(value, (NotGiven, Omit)):
        return False
    kind = type(value)
    return not (kind.__name__ in _SENTINEL_NAMES and kind.__module__.split(".")[0] == _SDK_PACKAGE)


class Timeout:
    """A timeout in parts, as the SDK's (httpx's) ``Timeout``: ``Timeout(10.0)`` sets every part,
    ``Timeout(600, connect=5.0)`` the others to 600; without the first value, all four must be
    given.  ``None`` in a part is no limit.

    How this client applies them: ``connect`` bounds making a new connection, and ``read`` the
    whole of each attempt (this package's transport gives an attempt one deadline, which also
    stops a server that drips its answer); ``write`` and ``pool`` are kept and shown, and fall
    within that deadline.
    """

    __slots__ = ("connect", "pool", "read", "write")

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None

    def __init__(
        self,
        timeout: Timeout | float | NotGiven | None = not_given,
        *,
        connect: float | NotGiven | None = not_given,
        read: float | NotGiven | None = not_given,
        write: float | NotGiven | None = not_given,
        pool: float | NotGiven | None = not_given,
    ) -> None:
        if isinstance(timeout, Timeout):
            if any(is_given(part) for part in (connect, read, write, pool)):
                raise ValueError("Timeout(...) with a Timeout takes no other part.")
            self.connect, self.read, self.write, self.pool = timeout.as_tuple()
            return
        parts = (connect, read, write, pool)
        if not is_given(timeout) and not all(is_given(part) for part in parts):
            raise ValueError(
                "Timeout(...) needs a default, or all four parts (connect, read, write, pool) set."
            )
        default = timeout if is_given(timeout) else None
        connect_, read_, write_, pool_ = (part if is_given(part) else default for part in parts)
        self.connect = _seconds(connect_)
        self.read = _seconds(read_)
        self.write = _seconds(write_)
        self.pool = _seconds(pool_)

    def as_tuple(self) -> tuple[float | None, float | None, float | None, float | None]:
        """``(connect, read, write, pool)``."""
        return self.connect, self.read, self.write, self.pool

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and self.as_tuple() == other.as_tuple()

    def __hash__(self) -> int:
        return hash(self.as_tuple())

    def __repr__(self) -> str:
        if len(set(self.as_tuple())) == 1:
            return f"Timeout(timeout={self.connect!r})"
        return (
            f"Timeout(connect={self.connect!r}, read={self.read!r}, write={self.write!r}, pool={self.pool!r})"
        )


def _seconds(value: Any) -> float | None:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise TypeError(f"A Timeout part must be a number of seconds or None, not {type(value).__name__}.")


DEFAULT_TIMEOUT = Timeout(600, connect=5.0)
"""The SDK's default: 600 seconds, 5 to connect."""
DEFAULT_MAX_RETRIES = 2
"""The SDK's default number of retries."""


def timeout_parts(value: Any) -> tuple[float | None, float | None]:
    """``(attempt, connect)`` seconds of a timeout as the SDK takes one: a number (every part),
    ``None`` (no limit), or an object with ``connect``/``read``/``write``/``pool`` parts (this
    package's :class:`Timeout`, httpx's); a :class:`TypeError` for anything else."""
    if value is None:
        return None, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), float(value)
    if all(hasattr(value, part) for part in ("connect", "read", "write", "pool")):
        return _seconds(value.read), _seconds(value.connect)
    raise TypeError(f"`timeout` must be a number of seconds, None or a Timeout, not {type(value).__name__}.")
