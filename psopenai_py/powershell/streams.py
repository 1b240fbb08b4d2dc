"""Each invocation's own streams: warnings, verbose and debug lines, and the -XxxVariable lists.

The core logs to the ``psopenai_py`` logger.  Once the PowerShell layer is in use, one handler
writes every record as a ``WARNING:``, ``VERBOSE:`` or ``DEBUG:`` line to the host of the
invocation current where the record was made (a context variable, copied into ThrottleLimit
workers), so two commands running at once never see each other's lines; -Verbose and -Debug
enable their levels for that invocation alone, and -WarningAction and -WarningVariable act on
its warnings.  A warning made while a pipeline item runs (the transport's retry warnings) names
that item, as its error would: ``WARNING: [chatcmpl-abc] Retry the request after waiting 1200 ms
(retry count: 0)``; the item is a second context variable, set around the item's process step.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from typing import TYPE_CHECKING, Any

from ..errors import ActionPreferenceStopException
from ..scoped import scoped
from .terminal import escape_controls

if TYPE_CHECKING:
    from .binding import Bound
    from .host import Host

__all__ = ["Invocation", "variables", "sink", "install", "current_invocation", "naming_item"]

log = logging.getLogger("psopenai_py")

variables: dict[str, list[Any]] = {}
"""Variables named by text: ``-ErrorVariable errs`` fills ``variables['errs']``, and so do
``-WarningVariable``, ``-OutVariable``, ``-InformationVariable`` and ``-PipelineVariable``."""

_PREFIX = {logging.WARNING: "WARNING", logging.INFO: "VERBOSE", logging.DEBUG: "DEBUG"}


class Invocation:
    """One running command: its common parameters, its host and its warning record."""

    __slots__ = ("bound", "host", "warnings")

    def __init__(self, bound: Bound, host: Host, warnings: list[Any] | None = None) -> None:
        self.bound = bound
        self.host = host
        self.warnings = warnings


_current: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar(
    "psopenai_invocation", default=None
)


def current_invocation(inv: Invocation) -> contextlib.AbstractContextManager[None]:
    """Make ``inv`` the invocation whose streams receive the log lines of this context."""
    return scoped(_current, inv)


_item: contextvars.ContextVar[str | None] = contextvars.ContextVar("psopenai_item", default=None)


def naming_item(name: str | None) -> contextlib.AbstractContextManager[None]:
    """Warnings made in the body are about the pipeline item ``name`` (None: about no item)."""
    return scoped(_item, name)


def sink(target: Any) -> list[Any] | None:
    """A -XxxVariable target: a list to fill, or a name in :data:`variables` (``+name`` appends)."""
    if target is None:
        return None
    if isinstance(target, list):
        return target
    name = str(target)
    if name.startswith("+"):  # PowerShell's -ErrorVariable +name appends
        return variables.setdefault(name[1:], [])
    variables[name] = []
    return variables[name]


def _wants(inv: Invocation, levelno: int) -> bool:
    if levelno >= logging.WARNING:
        return True
    if levelno >= logging.INFO:
        return inv.bound.common.verbose
    return inv.bound.common.debug


class _StreamHandler(logging.Handler):
    """The one handler that writes log records as PowerShell stream lines, each to the stream of
    the invocation current where the record was made."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)

    def emit(self, record: logging.LogRecord) -> None:
        inv = _current.get()
        if inv is None or record.levelno >= logging.ERROR or not _wants(inv, record.levelno):
            return
        if record.levelno >= logging.WARNING and inv.bound.common.warning_action in (
            "SilentlyContinue",
            "Ignore",
        ):
            return
        prefix = _PREFIX.get(record.levelno, record.levelname)
        item = _item.get() if record.levelno >= logging.WARNING else None
        # Which item a warning is about, in the form the item's error line has.
        where = f"[{escape_controls(item)}] " if item else ""
        inv.host.write_line(f"{prefix}: {where}{escape_controls(record.getMessage())}")


class _RouteFilter(logging.Filter):
    """On the ``psopenai_py`` logger: lets a record on when its invocation or the logging
    configuration wants it, records warnings for -WarningVariable and stops on -WarningAction
    Stop."""

    def filter(self, record: logging.LogRecord) -> bool:
        inv = _current.get()
        if inv is not None and record.levelno == logging.WARNING:
            common = inv.bound.common
            if inv.warnings is not None and common.warning_action != "Ignore":
                inv.warnings.append(record.getMessage())
            if common.warning_action == "Stop":
                raise ActionPreferenceStopException(
                    'The running command stopped because the preference variable "WarningPreference" '
                    f"or common parameter is set to Stop: {record.getMessage()}"
                )
        if record.levelno >= log.getEffectiveLevel():  # what the logging configuration wants
            return True
        return inv is not None and _wants(inv, record.levelno)


class _RoutedLogger(logging.Logger):
    """The ``psopenai_py`` logger once the PowerShell layer is in use: a level is enabled when
    the logging configuration enables it or when the invocation current in this context asked
    for it (-Verbose, -Debug).  The configured level itself is never changed."""

    def isEnabledFor(self, level: int) -> bool:
        inv = _current.get()
        if inv is not None and _wants(inv, level):
            return True
        return super().isEnabledFor(level)


_handler = _StreamHandler()
_router = _RouteFilter()
_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Attach the stream handler and the routing once, for the rest of the process."""
    global _installed
    with _install_lock:
        if _installed:
            return
        if type(log) is logging.Logger:
            log.__class__ = _RoutedLogger
        log.addHandler(_handler)
        log.addFilter(_router)
        _installed = True
