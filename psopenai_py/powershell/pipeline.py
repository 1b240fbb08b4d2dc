"""Running a bound command over its pipeline input, with PowerShell's stream and error rules.

- Settings are resolved once (the command's begin step) before the first item; a failure there
  (a missing key, a bad parameter) stops the whole invocation.
- One process step per item, one output per successful item, in input order.
- Whatever goes wrong with one item (an API error, a pipeline line that cannot be bound, an
  unexpected answer, an unexpected exception) is that item's failure, named by the item, and the
  run goes on according to ErrorAction: Continue writes it, SilentlyContinue does not, Ignore
  also keeps it out of ErrorVariable, Inquire asks on the terminal, Stop ends the run.  Errors go
  to ErrorVariable (a list, or a name in :data:`variables`), each carrying its item as
  ``TargetObject``.
- Stopping (ErrorAction Stop, or :attr:`Host.stop` set by an interrupt) is prompt: no new item
  starts, retry waits are cancelled, requests already in flight finish (or time out) and are
  reported before the run ends; the items never sent are counted.
- ThrottleLimit N runs up to N items at once over the shared connection pool; input is read
  lazily (at most 2 N items are in hand) and outputs keep the input order.
- WhatIf says what each item would do and sends nothing; Confirm asks on the terminal.
- Warnings, verbose and debug lines (the ``psopenai_py`` logger) go to the stream of the
  invocation that wrote them, as ``WARNING:``, ``VERBOSE:`` and ``DEBUG:`` lines: one handler
  routes every record to the invocation current in that thread (a context variable, copied into
  ThrottleLimit workers), so two commands running at once never see each other's lines.
- On a terminal, a run that lasts more than about a second shows a progress line, erased before
  any other line is written and at the end.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import io
import logging
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from .. import cancel
from ..errors import (
    ActionPreferenceStopException,
    APIRequestException,
    ParameterBindingError,
    ParameterTypeError,
    PSOpenAIError,
    RunStoppedError,
    UnexpectedItemError,
)
from ..masking import redact
from ..parameters import THROTTLE_LIMIT
from ..psobject import PSObject
from ..validation import check_int
from .binding import Bound
from .registry import Runner

if TYPE_CHECKING:
    import concurrent.futures

from .terminal import (
    ERASE_LINE,
    AnswerEndedError,
    ControllingTerminal,
    NoTerminalError,
    Terminal,
    enable_virtual_terminal,
    escape_controls,
    stream_is_terminal,
)

__all__ = [
    "Host",
    "execute",
    "variables",
    "ActionPreferenceStopException",
    "ITEM_ERRORS",
    "RunStoppedError",
    "UnexpectedItemError",
    "CONFIRM_HELP",
]

log = logging.getLogger("psopenai_py")

variables: dict[str, list[Any]] = {}
"""Variables named by text: ``-ErrorVariable errs`` fills ``variables['errs']``, and so do
``-WarningVariable``, ``-OutVariable``, ``-InformationVariable`` and ``-PipelineVariable``."""


# Failures that belong to one pipeline item.
ITEM_ERRORS = (APIRequestException, ParameterBindingError, ParameterTypeError, RunStoppedError)

_POINTER = re.compile(r"\n    [^\n]*\n {4,}\^")
"""The two-line pointer a :class:`PowerShellSyntaxError` message may end with (or hold, when
wrapped in a longer message)."""
_PROGRESS_INTERVAL = 0.25  # seconds between progress redraws
_SLICE = cancel.SLICE

CONFIRM_HELP = (
    "Y - Continue with only the next step of the operation.\n"
    "A - Continue with all the steps of the operation.\n"
    "N - Skip this operation and proceed with the next operation.\n"
    "L - Skip this operation and all subsequent operations.\n"
    'S - Pause the current pipeline and return to the command prompt. Type "exit" to resume the '
    "pipeline.\n"
)
_INQUIRE_HELP = (
    "Y - Continue with only the next step of the operation.\n"
    "A - Continue with all the steps of the operation.\n"
    "H - Stop this command.\n"
    'S - Pause the current pipeline and return to the command prompt. Type "exit" to resume the '
    "pipeline.\n"
)
_SUSPEND_NOTE = "Suspend is not available here (there is no nested prompt): {}.\n"
_CONFIRM_LABELS = {"yes": "y", "yes to all": "a", "no": "n", "no to all": "l", "suspend": "s", "help": "?"}
_INQUIRE_LABELS = {"yes": "y", "yes to all": "a", "halt command": "h", "suspend": "s", "help": "?"}
_MAX_ASKS = 50  # re-asks after unrecognised answers, so a stuck terminal cannot loop forever


def _progress_delay() -> float:
    try:
        return max(0.0, float(os.environ.get("PSOPENAI_PROGRESS_DELAY", "1")))
    except ValueError:
        return 1.0


class Host:
    """Where a command's error, warning, verbose, debug, WhatIf and progress lines go, where
    Confirm and Inquire ask, and the run's counters and stop signal.

    ``terminal`` is where questions are asked (default: the controlling terminal or console).
    Setting :attr:`stop` (from another thread or a signal handler) stops the run promptly.
    """

    def __init__(self, stream: TextIO | None = None, *, terminal: Terminal | None = None) -> None:
        self._stream = stream
        self.terminal: Terminal = terminal if terminal is not None else ControllingTerminal()
        self.stop = threading.Event()
        """Set to stop the run: no new item starts and retry waits end at once."""
        self.failures = 0
        """How many items failed, whatever ErrorAction did with them."""
        self.done = 0
        """How many items succeeded."""
        self.started = 0
        """How many items were handed to the command's process step."""
        self.not_sent = 0
        """How many input items were never sent because the run stopped (as far as known)."""
        self.asking = False
        """True while a question waits for its answer (an interrupt then ends the wait)."""
        self.interrupted = False
        """True when the user ended the run at a prompt with end of input (Ctrl-D)."""
        self.running = 0
        """How many commands are running on this host (a pipeline chain shares one)."""
        self._lock = threading.RLock()
        self._last_progress = 0.0
        self._progress_shown = False
        self._vt: bool | None = None
        self._progress_width = 0

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def write_error(self, command: str, error: BaseException, target: str | None = None) -> None:
        """``<Command>: [<target>] <message>``, one line, control characters escaped.  A syntax
        error's pointer (the text, then ``^`` under the problem) is left out: its position is in
        the message, and as ``\x0a`` escapes it would point at nothing."""
        where = f"[{escape_controls(target)}] " if target else ""
        message = _POINTER.sub("", str(error))
        self.write_line(f"{command}: {where}{escape_controls(message)}")

    def write_line(self, text: str) -> None:
        with self._lock:
            self.clear_progress()
            self.stream.write(text + "\n")
            self.stream.flush()

    def confirm(self, command: str, target: str) -> str:
        """Ask Yes / Yes to All / No / No to All on the terminal; returns y, a, n or l."""
        question = (
            "\nConfirm\nAre you sure you want to perform this action?\nPerforming the operation "
            f'"{command}" on target "{escape_controls(target)}".\n[Y] Yes  [A] Yes to All  [N] No  '
            '[L] No to All  [S] Suspend  [?] Help (default is "Y"): '
        )
        try:
            answer = self._choose(question, _CONFIRM_LABELS, CONFIRM_HELP, on_interrupt="l")
        except NoTerminalError:
            raise ParameterBindingError(
                "Confirm",
                "Cannot process -Confirm: there is no terminal to ask on. Use -WhatIf "
                "to see what would happen.",
            ) from None
        if answer == "s":
            self.write_line(_SUSPEND_NOTE.format("treated as No to All").rstrip("\n"))
            return "l"
        return answer

    def inquire(self, command: str, error: BaseException, target: str | None) -> str:
        """-ErrorAction Inquire: ask whether to go on after an item failed; returns y, a or h."""
        where = f"[{escape_controls(target)}] " if target else ""
        question = (
            f"\nConfirm\n{command}: {where}{escape_controls(str(error))}\n[Y] Yes  [A] Yes to All  "
            '[H] Halt Command  [S] Suspend  [?] Help (default is "Y"): '
        )
        answer = self._choose(question, _INQUIRE_LABELS, _INQUIRE_HELP, on_interrupt="y")
        if answer == "s":
            self.write_line(_SUSPEND_NOTE.format("the command is halted").rstrip("\n"))
            return "h"
        return answer

    def _choose(self, question: str, labels: Mapping[str, str], help_text: str, *, on_interrupt: str) -> str:
        """The hotkey chosen: the answer is a hotkey or a whole label, in any case, as in
        PowerShell; anything else (``yolo`` is not Yes) shows the question again."""
        choices = set(labels.values())
        with self._lock:
            self.clear_progress()
            prompt = question
            for _ in range(_MAX_ASKS):
                try:
                    self.asking = True
                    typed = " ".join(self.terminal.ask(prompt).lower().split())
                    answer = typed if typed in choices else labels.get(typed, "" if typed else "y")
                except (KeyboardInterrupt, AnswerEndedError) as reason:
                    # Ctrl-C or end of input at the prompt stops the run: nothing more is asked
                    # or started, and the run ends as interrupted.
                    if isinstance(reason, AnswerEndedError):
                        self.interrupted = True
                    self.stop.set()
                    if stream_is_terminal(self.stream):
                        self.stream.write("\n")  # leave the prompt's line, as a shell does
                    return on_interrupt
                finally:
                    self.asking = False
                if answer in choices and answer != "?":
                    return answer
                # "?" (or anything unknown) shows the help and asks again, as PowerShell does.
                prompt = (help_text if answer == "?" else "") + question.lstrip("\n")
            raise NoTerminalError("no recognisable answer")

    def progress_enabled(self, bound: Bound | None = None) -> bool:
        """Progress is drawn only on a terminal, unless switched off."""
        if os.environ.get("PSOPENAI_PROGRESS", "").strip() == "0":
            return False
        if bound is not None and bound.common.progress_action in ("SilentlyContinue", "Ignore"):
            return False
        return stream_is_terminal(self.stream)

    def progress(
        self, command: str, done: int, total: int | None, errors: int, started: float, *, final: bool = False
    ) -> None:
        """Write-Progress: a redrawn line on a terminal once the run has lasted about a second."""
        now = time.monotonic()
        if now - started < _progress_delay() or (
            not final and now - self._last_progress < _PROGRESS_INTERVAL
        ):
            return
        with self._lock:
            self._last_progress = now
            rate = done / max(now - started, 1e-9)
            count = f"{done}/{total} ({done * 100 // total}%)" if total else f"{done}"
            text = f"{command}: {count}, {rate:.1f}/s, {errors} errors"
            # Never wider than the terminal: a wrapped line could not be erased by one \r.
            width = self._columns() - 1
            text = text[: max(width, 10)]
            self._erase()
            self.stream.write(text)
            self.stream.flush()
            self._progress_shown = True
            self._progress_width = len(text)

    def _columns(self) -> int:
        """The width of the terminal the progress is drawn on: the stream's own, not stdout's
        (``> file`` leaves only stderr on the terminal), so a resized window is followed."""
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 80
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return shutil.get_terminal_size((80, 24)).columns

    def clear_progress(self) -> None:
        """Erase the progress line, if one is shown, so the next line starts clean."""
        with self._lock:
            if self._progress_shown:
                self._erase()
                self.stream.flush()
                self._progress_shown = False

    end_progress = clear_progress

    def _erase(self) -> None:
        if not self._progress_shown:
            return
        if self._vt is None:
            self._vt = enable_virtual_terminal(self.stream)
        if self._vt:
            self.stream.write(ERASE_LINE)
        else:  # a console without VT sequences: overwrite with spaces
            self.stream.write("\r" + " " * self._progress_width + "\r")


_PREFIX = {logging.WARNING: "WARNING", logging.INFO: "VERBOSE", logging.DEBUG: "DEBUG"}


@dataclass
class _Invocation:
    """One running command: its common parameters, its host and its warning record."""

    bound: Bound
    host: Host
    warnings: list[Any] | None = None


_current: contextvars.ContextVar[_Invocation | None] = contextvars.ContextVar(
    "psopenai_invocation", default=None
)


def _wants(inv: _Invocation, levelno: int) -> bool:
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
        inv.host.write_line(f"{prefix}: {escape_controls(record.getMessage())}")


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
        if record.levelno >= _configured_level():
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


def _configured_level() -> int:
    """The level the logging configuration gives the ``psopenai_py`` logger."""
    return log.getEffectiveLevel()


def _install() -> None:
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


def _sink(target: Any) -> list[Any] | None:
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


def target_text(item: Any) -> str | None:
    """How an item is named in its error: its id, or its text."""
    if item is None:
        return None
    if isinstance(item, (PSObject, Mapping)):
        for key in ("CompletionId", "completion_id", "id", "Id"):
            try:
                value = item[key]
            except (KeyError, TypeError, IndexError):
                continue
            if value:
                return str(value)[:80]
        return None
    if isinstance(item, ITEM_ERRORS):
        return getattr(item, "TargetObject", None)
    text = str(item)
    return text[:80] + ("..." if len(text) > 80 else "")


def _attach(error: BaseException, item: Any) -> None:
    """Make ``error`` an ErrorRecord-like entry: ``TargetObject``/``item`` and ``Exception``."""
    target = getattr(error, "TargetObject", None) if item is error else item
    for name, value in (
        ("TargetObject", target),
        ("item", target),
        ("Exception", error),
        ("exception", error),
    ):
        with contextlib.suppress(AttributeError):  # an exception type with slots stays as it is
            setattr(error, name, value)


# An item's outcome: ("ok", outputs), ("error", the item's error) or ("skipped", None) when the
# run stopped before the item was sent.
_Outcome = tuple[str, Any, Any]


def _run_one(
    runner: Runner, state: Any, item: Any, host: Host, *, materialize: bool, stop_on_error: bool = False
) -> _Outcome:
    outcome = _attempt(runner, state, item, host, materialize=materialize)
    if stop_on_error and outcome[0] == "error":
        host.stop.set()  # ErrorAction Stop: no other item starts from this moment
    return outcome


def _attempt(runner: Runner, state: Any, item: Any, host: Host, *, materialize: bool) -> _Outcome:
    assert runner.process is not None
    if host.stop.is_set():
        return "skipped", None, item
    with host._lock:
        host.started += 1
    try:
        if isinstance(item, ITEM_ERRORS):  # an input the reader could not understand
            raise item
        output = runner.process(state, item)
        if materialize and isinstance(output, Iterator):
            output = list(output)  # do the paging in the worker, not in the caller's thread
        return "ok", output, item
    except ActionPreferenceStopException:
        raise
    except (PSOpenAIError, ValueError, TypeError, LookupError, OSError) as error:
        if isinstance(error, RunStoppedError) and not error.sent:
            return "skipped", None, item
        if not isinstance(error, PSOpenAIError):
            error = _unexpected(error, state)
        return "error", error, item
    except Exception as error:
        return "error", _unexpected(error, state), item


def _unexpected(error: BaseException, state: Any) -> UnexpectedItemError:
    settings = getattr(getattr(state, "invocation", None), "settings", None)
    keys = [getattr(settings, "api_key", None)]
    text = redact(f"{type(error).__name__}: {error}", keys=keys)
    wrapped = UnexpectedItemError(f"Unexpected failure: {text}")
    wrapped.__cause__ = None
    return wrapped


def _outcomes(
    runner: Runner, state: Any, items: Iterable[Any], throttle: int, host: Host, *, stop_on_error: bool
) -> Iterator[_Outcome]:
    """Each item's outcome, in input order; up to ``throttle`` items at once."""
    if throttle <= 1:
        for item in items:
            yield _run_one(runner, state, item, host, materialize=False)
        return
    import concurrent.futures  # only a throttled run needs it: a one-shot command line skips the import

    window: collections.deque[concurrent.futures.Future[_Outcome]] = collections.deque()
    pool = concurrent.futures.ThreadPoolExecutor(throttle, thread_name_prefix="psopenai-bulk")
    try:
        for item in items:
            # Each worker runs in a copy of this context: its log lines reach this invocation.
            context = contextvars.copy_context()
            window.append(
                pool.submit(
                    context.run,
                    _run_one,
                    runner,
                    state,
                    item,
                    host,
                    materialize=True,
                    stop_on_error=stop_on_error,
                )
            )
            # Keep the pool busy while the oldest item finishes, but read the input lazily.
            if len(window) >= 2 * throttle:
                yield _result(window.popleft())
        while window:
            yield _result(window.popleft())
    except BaseException:
        host.stop.set()  # an interrupt in this thread: let the workers end their waits now
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _result(future: concurrent.futures.Future[_Outcome]) -> _Outcome:
    """The future's result, waited for in short slices so that a Ctrl-C handler can run (a
    blocked wait does not let it on Windows)."""
    import concurrent.futures

    while True:
        try:
            return future.result(timeout=_SLICE)
        except concurrent.futures.TimeoutError:
            if future.done():  # the item itself raised a TimeoutError: not ours to swallow
                raise


def _should_process(
    runner: Runner, state: Any, items: Iterable[Any], bound: Bound, host: Host
) -> Iterator[Any]:
    """Items that WhatIf and Confirm let through; WhatIf lets none through."""
    what_if = bool(bound.execution.get("WhatIf"))
    confirm = bool(bound.execution.get("Confirm"))
    name = runner.table.name
    answer_all: str | None = None
    for item in items:
        if host.stop.is_set():
            yield item  # counted as not sent below, never asked about
            return
        if isinstance(item, ITEM_ERRORS):  # an item that could not be bound fails as itself
            yield item
            continue
        if answer_all == "l":
            continue  # No to All: declined without asking
        try:
            target = runner.describe(state, item) if runner.describe else str(item)
        except ITEM_ERRORS as error:
            yield error  # reported as that item's failure
            continue
        if what_if:
            host.write_line(
                f'What if: Performing the operation "{name}" on target "{escape_controls(target)}".'
            )
            continue
        if confirm:
            answer = answer_all or host.confirm(name, target)
            if host.stop.is_set():
                yield item  # interrupted at the prompt: counted as not sent
                return
            if answer in ("a", "l"):
                answer_all = answer
            if answer in ("n", "l"):
                continue
        yield item


class _Source:
    """The pipeline input, counted: how many items were taken, and how many are left when the
    input can tell (a list, or a reader with ``count_rest()``)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items
        self.taken = 0
        self._iter: Iterator[Any] | None = None

    def __iter__(self) -> Iterator[Any]:
        self._iter = iter(self.items)
        for item in self._iter:
            self.taken += 1
            yield item

    def rest(self) -> int:
        if isinstance(self.items, Sized):
            return max(0, len(self.items) - self.taken)
        count_rest = getattr(self.items, "count_rest", None)
        return int(count_rest()) if callable(count_rest) else 0


def _until_stopped(items: Iterable[Any], host: Host) -> Iterator[Any]:
    for item in items:
        if host.stop.is_set():
            host.not_sent += 1  # taken from the input, never sent; the rest is counted later
            return
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

    Raises for a failure of the begin step, and for an item's failure under ErrorAction Stop
    (after reporting the items that were in flight).  Log lines written while this command's
    steps run go to this invocation's host, whatever else runs in the process.
    """
    host = host or Host()
    if not host.running:
        host.stop.clear()  # a host used again after a stopped run starts afresh
        host.interrupted = False
    common = bound.common
    inv = _Invocation(bound, host, _sink(common.warning_variable))
    _install()
    _sink(common.information_variable)  # created, and left empty: these commands write no information
    return _scoped(_execute(runner, bound, host), inv)


def _scoped(inner: Iterator[Any], inv: _Invocation) -> Iterator[Any]:
    """Run each step of ``inner`` with ``inv`` as the current invocation.  A generator shares its
    caller's context, so the variable is set around every step and reset before yielding:
    commands chained in a pipeline each see their own streams."""
    while True:
        token = _current.set(inv)
        try:
            # The core's waits (retry delays, rate-limit pauses) end when the host's stop is set.
            with cancel.scope(inv.host.stop):
                value = next(inner)
        except StopIteration:
            return
        finally:
            _current.reset(token)
        yield value


def _execute(runner: Runner, bound: Bound, host: Host) -> Iterator[Any]:
    name = runner.table.name
    common = bound.common
    sink = _sink(common.error_variable)
    outputs_sink = _sink(common.out_variable)
    pipeline_variable = common.pipeline_variable
    action = common.error_action
    kwargs = bound.kwargs()
    throttle = check_int(THROTTLE_LIMIT, bound.execution.get("ThrottleLimit")) or 1
    in_pipeline = bound.pipeline is not None
    progress = host.progress_enabled(bound)
    inquire_all = False

    def emit(value: Any) -> Any:
        if outputs_sink is not None:
            outputs_sink.append(value)
        if pipeline_variable:
            variables[str(pipeline_variable)] = [value]
        return value

    # The progress line is erased however the run ends; ``end`` closes what ``begin`` opened.
    with contextlib.ExitStack() as cleanup:
        host.running += 1

        @cleanup.callback
        def finished() -> None:
            host.running -= 1

        cleanup.callback(host.clear_progress)
        if runner.process is None:
            result = runner.begin(kwargs)
            if result is not None:
                host.done += 1
                yield emit(result)
            return
        assert runner.pipeline_parameter is not None
        pipe_param = runner.table.parameter(runner.pipeline_parameter)
        # The bound value stays in kwargs: a command whose items bind other parameters by
        # property name (Request-ChatCompletion) reads it in its begin step.
        given = kwargs.get(pipe_param.python_name)
        source = _Source(bound.pipeline if bound.pipeline is not None else [given])
        total = len(source.items) if isinstance(source.items, Sized) else None
        state = runner.begin(kwargs)
        if runner.end is not None:
            cleanup.callback(runner.end, state)  # however the run ends
        items: Iterable[Any] = source
        if runner.expand is not None:
            items, total = runner.expand(state, items), None
        if bound.execution.get("WhatIf") or bound.execution.get("Confirm"):
            items = _should_process(runner, state, items, bound, host)
        if bound.pipeline is not None and not pipe_param.mandatory:
            # An empty pipeline for an optional pipeline parameter (Get-ChatCompletion fed by an
            # empty stdin) runs the command once without it, as when nothing is piped.
            items = _or_once(items)
        items = _until_stopped(items, host)
        started = time.monotonic()
        done = 0
        stop_error: BaseException | None = None

        def fail(error: BaseException, item: Any) -> None:
            """One item's failure, by ErrorAction."""
            nonlocal stop_error, inquire_all
            _attach(error, item)
            target = target_text(item) if in_pipeline else None
            host.failures += 1
            chosen = action
            if isinstance(error, RunStoppedError) and chosen in ("Stop", "Inquire"):
                chosen = "Continue"  # cut short by the stop, not its cause: reported, never asked
            if chosen == "Inquire" and stop_error is None:
                if inquire_all:
                    chosen = "Continue"
                else:
                    try:
                        answer = host.inquire(name, error, target)
                    except NoTerminalError:
                        answer = "h"
                        host.write_line(
                            f"{name}: -ErrorAction Inquire: there is no terminal to ask on; stopping."
                        )
                    inquire_all = answer == "a"
                    chosen = "Stop" if answer == "h" else "Continue"
            if chosen == "Stop" and stop_error is None:
                # Report the items already in flight, then raise this error.
                stop_error = error
                host.stop.set()
                return
            if sink is not None and chosen != "Ignore":
                sink.append(error)
            if chosen in ("Continue", "Inquire", "Stop"):
                host.write_error(name, error, target)

        outcomes = _outcomes(runner, state, items, throttle, host, stop_on_error=action == "Stop")
        for kind, value, item in outcomes:
            if kind == "skipped":
                host.not_sent += 1
                continue
            done += 1
            if kind == "error":
                fail(value, item)
            elif isinstance(value, (Iterator, list)):
                # A list-mode Get yields many outputs; an error while paging fails that item.
                try:
                    for output in value:
                        host.clear_progress()
                        yield emit(output)
                except ActionPreferenceStopException:
                    raise
                except PSOpenAIError as error:
                    fail(error, item)
                else:
                    host.done += 1
            else:
                host.done += 1
                if value is not None:
                    host.clear_progress()
                    yield emit(value)
            if progress:
                host.progress(name, done, total, host.failures, started)
        if host.stop.is_set():
            host.not_sent += source.rest()
        if stop_error is not None:
            raise stop_error
