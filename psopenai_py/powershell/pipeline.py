"""Running a bound command over its pipeline input, with PowerShell's stream and error rules.

- Settings are resolved once (the command's begin step) before the first item; a failure there
  (a missing key, a bad parameter) stops the whole invocation.
- One process step per item, one output per successful item, in input order.
- A failed item is reported according to ErrorAction: Continue writes it and goes on,
  SilentlyContinue goes on without writing, Ignore also keeps it out of ErrorVariable, Stop raises
  it.  Errors go to ErrorVariable (a list, or a name in :data:`variables`).
- ThrottleLimit N runs up to N items at once over the shared connection pool; input is read
  lazily (at most 2 N items are in hand) and outputs keep the input order.
- WhatIf says what each item would do and sends nothing; Confirm asks on the terminal.
- Warnings, verbose and debug lines (the ``psopenai_py`` logger) are written to the host's stream
  as ``WARNING:``, ``VERBOSE:`` and ``DEBUG:`` lines while the command runs; long pipelines on a
  terminal show progress there too.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import logging
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from ..errors import (
    ActionPreferenceStopException,
    APIRequestException,
    ParameterBindingError,
    ParameterTypeError,
)
from ..parameters import THROTTLE_LIMIT
from ..validation import check_int
from .binding import Bound
from .registry import Runner

__all__ = ["Host", "execute", "variables", "ActionPreferenceStopException", "ITEM_ERRORS"]

log = logging.getLogger("psopenai_py")

variables: dict[str, list[BaseException]] = {}
"""ErrorVariable targets named by text (``-ErrorVariable errs`` fills ``variables['errs']``)."""

# Failures that belong to one pipeline item; anything else is a bug and propagates.
ITEM_ERRORS = (APIRequestException, ParameterBindingError, ParameterTypeError)

_PROGRESS_INTERVAL = 0.25  # seconds between progress redraws


class Host:
    """Where a command's error, warning, verbose, debug, WhatIf and progress lines go, and where
    Confirm asks."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self.failures = 0
        """How many items failed, whatever ErrorAction did with them."""
        self._last_progress = 0.0
        self._progress_shown = False

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def write_error(self, command: str, error: BaseException) -> None:
        self.end_progress()
        self.stream.write(f"{command}: {error}\n")
        self.stream.flush()

    def write_line(self, text: str) -> None:
        self.end_progress()
        self.stream.write(text + "\n")
        self.stream.flush()

    def confirm(self, command: str, target: str) -> str:
        """Ask Yes/Yes to All/No/No to All on the terminal; returns y, a, n or l."""
        question = (
            f"Are you sure you want to perform this action?\nPerforming the operation "
            f'"{command}" on target "{target}".\n[Y] Yes  [A] Yes to All  [N] No  '
            '[L] No to All  (default is "Y"): '
        )
        try:
            with open("/dev/tty", "r+", encoding="utf-8") as tty:
                tty.write(question)
                tty.flush()
                answer = tty.readline()
        except OSError:
            raise ParameterBindingError(
                "Confirm",
                "Cannot process -Confirm: there is no terminal to ask on. Use -WhatIf "
                "to see what would happen.",
            ) from None
        choice = (answer.strip()[:1] or "y").lower()
        return choice if choice in ("y", "a", "n", "l") else "n"

    def progress(
        self, command: str, done: int, total: int | None, errors: int, started: float, *, final: bool = False
    ) -> None:
        """Write-Progress: a redrawn line on a terminal, nothing elsewhere."""
        if not self.stream.isatty():
            return
        now = time.monotonic()
        if not final and now - self._last_progress < _PROGRESS_INTERVAL:
            return
        self._last_progress = now
        rate = done / max(now - started, 1e-9)
        count = f"{done}/{total} ({done * 100 // total}%)" if total else f"{done}"
        self.stream.write(f"\r{command}: {count}, {rate:.1f}/s, {errors} errors\x1b[K")
        self.stream.flush()
        self._progress_shown = True

    def end_progress(self) -> None:
        if self._progress_shown:
            self.stream.write("\n")
            self._progress_shown = False


_PREFIX = {logging.WARNING: "WARNING", logging.INFO: "VERBOSE", logging.DEBUG: "DEBUG"}


class _StreamHandler(logging.Handler):
    """The one handler that writes log records as PowerShell stream lines.

    Commands chained in a pipeline run interleaved (each pulls from the one before), so one
    handler serves them all, with the preferences of the innermost running command; -Verbose or
    -Debug on any of them shows those lines for the whole pipeline.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.active: list[tuple[Bound, Host]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or not self.active:
            return
        wanted = _wanted_level()
        if record.levelno < logging.WARNING and (wanted is None or record.levelno < wanted):
            return  # verbose and debug lines only with -Verbose / -Debug, whatever root says
        bound, host = self.active[-1]
        if record.levelno == logging.WARNING and bound.common.warning_action in (
            "SilentlyContinue",
            "Ignore",
        ):
            return
        prefix = _PREFIX.get(record.levelno, record.levelname)
        host.write_line(f"{prefix}: {record.getMessage()}")


class _StopOnWarning(logging.Filter):
    def __init__(self, handler: _StreamHandler) -> None:
        super().__init__()
        self.handler = handler

    def filter(self, record: logging.LogRecord) -> bool:
        active = self.handler.active
        if record.levelno == logging.WARNING and active and active[-1][0].common.warning_action == "Stop":
            raise ActionPreferenceStopException(
                'The running command stopped because the preference variable "WarningPreference" '
                f"or common parameter is set to Stop: {record.getMessage()}"
            )
        return True


_handler = _StreamHandler()
_stopper = _StopOnWarning(_handler)
_streams_lock = threading.Lock()
_level_before: int = logging.NOTSET


def _wanted_level() -> int | None:
    """The most detailed level any running command asked for (-Debug, -Verbose), or None."""
    levels = [
        logging.DEBUG if b.common.debug else logging.INFO
        for b, _ in _handler.active
        if b.common.debug or b.common.verbose
    ]
    return min(levels) if levels else None


def _apply_level() -> None:
    wanted = _wanted_level()
    # Lower the logger's level for -Verbose/-Debug, never raise it above the caller's setting.
    if wanted is not None and (_level_before == logging.NOTSET or _level_before > wanted):
        log.setLevel(wanted)
    else:
        log.setLevel(_level_before)


@contextlib.contextmanager
def _streams(bound: Bound, host: Host) -> Iterator[None]:
    global _level_before
    entry = (bound, host)
    with _streams_lock:
        if not _handler.active:
            _level_before = log.level
            log.addHandler(_handler)
            log.addFilter(_stopper)
        _handler.active.append(entry)
        _apply_level()
    try:
        yield
    finally:
        with _streams_lock:
            _handler.active.remove(entry)
            if not _handler.active:
                log.removeHandler(_handler)
                log.removeFilter(_stopper)
            _apply_level()
        host.end_progress()


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


# An item's outcome: (True, outputs) or (False, the item's error).
_Outcome = tuple[bool, Any]


def _run_one(runner: Runner, state: Any, item: Any, *, materialize: bool) -> _Outcome:
    assert runner.process is not None
    try:
        if isinstance(item, ITEM_ERRORS):  # an input the reader could not understand
            raise item
        output = runner.process(state, item)
        if materialize and isinstance(output, Iterator):
            output = list(output)  # do the paging in the worker, not in the caller's thread
        return True, output
    except ITEM_ERRORS as error:
        return False, error


def _outcomes(runner: Runner, state: Any, items: Iterable[Any], throttle: int) -> Iterator[_Outcome]:
    """Each item's outcome, in input order; up to ``throttle`` items at once."""
    if throttle <= 1:
        for item in items:
            yield _run_one(runner, state, item, materialize=False)
        return
    window: collections.deque[concurrent.futures.Future[_Outcome]] = collections.deque()
    pool = concurrent.futures.ThreadPoolExecutor(throttle, thread_name_prefix="psopenai-bulk")
    try:
        for item in items:
            window.append(pool.submit(_run_one, runner, state, item, materialize=True))
            # Keep the pool busy while the oldest item finishes, but read the input lazily.
            if len(window) >= 2 * throttle:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        for future in window:
            future.cancel()
        pool.shutdown(wait=True)


def _should_process(
    runner: Runner, state: Any, items: Iterable[Any], bound: Bound, host: Host
) -> Iterator[Any]:
    """Items that WhatIf and Confirm let through; WhatIf lets none through."""
    what_if = bool(bound.execution.get("WhatIf"))
    confirm = bool(bound.execution.get("Confirm"))
    name = runner.table.name
    answer_all: str | None = None
    for item in items:
        if isinstance(item, ITEM_ERRORS):  # an item that could not be bound fails as itself
            yield item
            continue
        try:
            target = runner.describe(state, item) if runner.describe else str(item)
        except ITEM_ERRORS as error:
            yield error  # reported as that item's failure
            continue
        if what_if:
            host.write_line(f'What if: Performing the operation "{name}" on target "{target}".')
            continue
        if confirm:
            answer = answer_all or host.confirm(name, target)
            if answer in ("a", "l"):
                answer_all = answer
            if answer in ("n", "l"):
                continue
        yield item


def _or_once(items: Iterable[Any]) -> Iterator[Any]:
    empty = True
    for item in items:
        empty = False
        yield item
    if empty:
        yield None


def execute(runner: Runner, bound: Bound, host: Host | None = None) -> Iterator[Any]:
    """Run the command; yield its outputs lazily, in input order.

    Raises for a failure of the begin step, and for an item's failure under ErrorAction Stop.
    """
    host = host or Host()
    name = runner.table.name
    sink = _error_sink(bound.common.error_variable)
    action = bound.common.error_action
    kwargs = bound.kwargs()
    throttle = check_int(THROTTLE_LIMIT, bound.execution.get("ThrottleLimit")) or 1
    with _streams(bound, host), contextlib.ExitStack() as cleanup:
        if runner.process is None:
            result = runner.begin(kwargs)
            if result is not None:
                yield result
            return
        assert runner.pipeline_parameter is not None
        pipe_param = runner.table.parameter(runner.pipeline_parameter)
        # The bound value stays in kwargs: a command whose items bind other parameters by
        # property name (Request-ChatCompletion) reads it in its begin step.
        given = kwargs.get(pipe_param.python_name)
        items: Iterable[Any] = bound.pipeline if bound.pipeline is not None else [given]
        total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
        state = runner.begin(kwargs)
        if runner.end is not None:
            cleanup.callback(runner.end, state)  # however the run ends
        if runner.expand is not None:
            items, total = runner.expand(state, items), None
        if bound.execution.get("WhatIf") or bound.execution.get("Confirm"):
            items = _should_process(runner, state, items, bound, host)
        if bound.pipeline is not None and not pipe_param.mandatory:
            # An empty pipeline for an optional pipeline parameter (Get-ChatCompletion fed by an
            # empty stdin) runs the command once without it, as when nothing is piped.
            items = _or_once(items)
        started = time.monotonic()
        done = 0

        def fail(error: BaseException) -> None:
            """One item's failure, by ErrorAction."""
            host.failures += 1
            if action == "Stop":
                raise error
            if sink is not None and action != "Ignore":
                sink.append(error)
            if action == "Continue":
                host.write_error(name, error)

        for ok, value in _outcomes(runner, state, items, throttle):
            done += 1
            if not ok:
                fail(value)
            elif isinstance(value, (Iterator, list)):
                # A list-mode Get yields many outputs; an error while paging fails that item.
                try:
                    yield from value
                except ITEM_ERRORS as error:
                    fail(error)
            elif value is not None:
                yield value
            host.progress(name, done, total, host.failures, started)
        if done:
            host.progress(name, done, total, host.failures, started, final=True)
