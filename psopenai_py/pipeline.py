"""Running a bound command over its pipeline input, with PowerShell's stream and error rules.

- Settings are resolved once (the command's begin step) before the first item; a failure there
  (a missing key, a bad parameter) stops the whole invocation.
- One process step per item, one output per successful item, in input order.
- A failed item is reported according to ErrorAction: Continue writes it and goes on,
  SilentlyContinue goes on without writing, Ignore also keeps it out of ErrorVariable, Stop raises
  it.  Errors go to ErrorVariable (a list, or a name in :data:`variables`).
- Warnings, verbose and debug lines (the ``psopenai_py`` logger) are written to the host's stream
  as ``WARNING:``, ``VERBOSE:`` and ``DEBUG:`` lines while the command runs.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from .binding import Bound
from .commands.registry import Runner
from .errors import (
    APIRequestException,
    ParameterBindingError,
    ParameterTypeError,
    PSOpenAIError,
)

__all__ = ["Host", "execute", "variables", "ActionPreferenceStopException", "ITEM_ERRORS"]

log = logging.getLogger("psopenai_py")

variables: dict[str, list[BaseException]] = {}
"""ErrorVariable targets named by text (``-ErrorVariable errs`` fills ``variables['errs']``)."""

# Failures that belong to one pipeline item; anything else is a bug and propagates.
ITEM_ERRORS = (APIRequestException, ParameterBindingError, ParameterTypeError)


class ActionPreferenceStopException(PSOpenAIError):
    """A warning met ``WarningAction Stop``."""


class Host:
    """Where a command's error, warning, verbose and debug records are written."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self.failures = 0
        """How many items failed, whatever ErrorAction did with them."""

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def write_error(self, command: str, error: BaseException) -> None:
        self.stream.write(f"{command}: {error}\n")
        self.stream.flush()


_PREFIX = {logging.WARNING: "WARNING", logging.INFO: "VERBOSE", logging.DEBUG: "DEBUG"}


class _StreamHandler(logging.Handler):
    def __init__(self, host: Host, warning_action: str) -> None:
        super().__init__(logging.DEBUG)
        self.host = host
        self.warning_action = warning_action

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            return
        if record.levelno == logging.WARNING and self.warning_action in ("SilentlyContinue",
                                                                         "Ignore"):
            return
        prefix = _PREFIX.get(record.levelno, record.levelname)
        self.host.stream.write(f"{prefix}: {record.getMessage()}\n")
        self.host.stream.flush()


class _StopOnWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            raise ActionPreferenceStopException(
                'The running command stopped because the preference variable "WarningPreference" '
                f"or common parameter is set to Stop: {record.getMessage()}")
        return True


@contextlib.contextmanager
def _streams(bound: Bound, host: Host) -> Iterator[None]:
    common = bound.common
    handler = _StreamHandler(host, common.warning_action)
    old_level = log.level
    level = logging.DEBUG if common.debug else logging.INFO if common.verbose else None
    stopper = _StopOnWarning() if common.warning_action == "Stop" else None
    log.addHandler(handler)
    if stopper:
        log.addFilter(stopper)
    if level is not None and (old_level == logging.NOTSET or old_level > level):
        log.setLevel(level)
    try:
        yield
    finally:
        log.removeHandler(handler)
        if stopper:
            log.removeFilter(stopper)
        log.setLevel(old_level)


def _error_sink(target: Any) -> list[BaseException] | None:
    if target is None:
        return None
    if isinstance(target, list):
        return target
    name = str(target)
    if name.startswith("+"):  # PowerShell's -ErrorVariable +name appends
        return variables.setdefault(name[1:], [])
    variables[name] = []
    return variables[name]


def execute(runner: Runner, bound: Bound, host: Host | None = None) -> Iterator[Any]:
    """Run the command; yield its outputs lazily, in input order.

    Raises for a failure of the begin step, and for an item's failure under ErrorAction Stop.
    """
    host = host or Host()
    name = runner.table.name
    sink = _error_sink(bound.common.error_variable)
    action = bound.common.error_action
    kwargs = bound.kwargs()
    with _streams(bound, host):
        if runner.process is None:
            result = runner.begin(kwargs)
            if result is not None:
                yield result
            return
        assert runner.pipeline_parameter is not None
        pipe_param = runner.table.parameter(runner.pipeline_parameter)
        given = kwargs.pop(pipe_param.python_name, None)
        items: Iterable[Any] = bound.pipeline if bound.pipeline is not None else [given]
        state = runner.begin(kwargs)
        for item in items:
            try:
                if isinstance(item, ITEM_ERRORS):  # an input the reader could not understand
                    raise item
                output = runner.process(state, item)
            except ITEM_ERRORS as error:
                host.failures += 1
                if action == "Stop":
                    raise
                if sink is not None and action != "Ignore":
                    sink.append(error)
                if action == "Continue":
                    host.write_error(name, error)
                continue
            if output is not None:
                yield output
