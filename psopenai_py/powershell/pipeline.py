"""Running a bound command over its pipeline input, with PowerShell's stream and error rules.

- Settings are resolved once (the command's begin step) before the first item; a failure there
  (a missing key, a bad parameter) stops the whole invocation.
- One process step per item, one output per successful item, in input order.
- Whatever goes wrong with one item (an API error, a pipeline line that cannot be bound, an
  unexpected answer, an unexpected exception) is that item's failure, named by the item, and the
  run goes on according to ErrorAction: Continue writes it, SilentlyContinue does not, Ignore
  also keeps it out of ErrorVariable, Inquire asks on the terminal, Stop ends the run.  Errors go
  to ErrorVariable (a list, or a name in :data:`~.streams.variables`), each carrying its item as
  ``TargetObject``.
- Stopping (ErrorAction Stop, or :attr:`Host.stop` set by an interrupt) is prompt: no new item
  starts, the core's waits end (the host's stop is the run's :mod:`~psopenai_py.cancel` signal),
  requests already in flight finish (or time out) and are reported before the run ends; the
  items never sent are counted.
- ThrottleLimit N runs up to N items at once over the shared connection pool; input is read
  lazily (at most 2 N items are in hand) and outputs keep the input order.
- WhatIf says what each item would do and sends nothing; Confirm asks on the terminal.
- A run over pipeline input (or over the items its command expands its input to: a journal's
  ids) shows its progress on a terminal (:mod:`.progress`) and, when it lasted long enough for
  that, ends with one summary line; a stopped run leaves its last line to its caller (the command
  line's ``interrupted: ...``), which says the same through :meth:`Host.summary`.  Warnings
  written while an item runs name that item.
- Every item is counted once: done, failed, declined at -Confirm, a list cut short (stopped
  before its last page), or not sent (the rest of the input is counted when the run stops).  A
  run that is quit at once (a second Ctrl-C) can still be accounted for: :attr:`Host.unsent_now`
  counts what was not sent at that moment, and the items started and not reported are in
  flight, their outcome unknown.
- A command that is one step over many things (Export-ChatCompletion) shows as progress what it
  made, and says through the run's meter what it came to when it ends early.

Where the lines go and where questions are asked is the :class:`~.host.Host`; how log records
reach the invocation that wrote them is :mod:`.streams`.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from typing import TYPE_CHECKING, Any

from .. import cancel, meter
from ..commands import CommandUnit
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
from ..meter import Meter
from ..parameters import THROTTLE_LIMIT
from ..psobject import PSObject
from ..streaming import StreamedText
from ..validation import check_int
from . import streams
from .binding import Bound
from .host import Host
from .progress import Counts, same_terminal
from .terminal import NoTerminalError, escape_controls, escape_text

if TYPE_CHECKING:
    import concurrent.futures

__all__ = ["execute", "ITEM_ERRORS", "target_text"]

ITEM_ERRORS = (APIRequestException, ParameterBindingError, ParameterTypeError, RunStoppedError)
"""Failures that belong to one pipeline item."""

_Total = int | Callable[[], int | None] | None
"""How many items a run has: a number, a function that may tell later, or None (unknown)."""

_Outcome = tuple[str, Any, Any]
"""An item's outcome: ``("ok", outputs, item)``, ``("error", its error, item)`` or
``("skipped", None, item)`` when the run stopped before the item was sent."""


def execute(unit: CommandUnit, bound: Bound, host: Host | None = None) -> Iterator[Any]:
    """Run the command; yield its outputs lazily, in input order.

    Raises for a failure of the begin step, and for an item's failure under ErrorAction Stop
    (after reporting the items that were in flight).  Log lines written while this command's
    steps run go to this invocation's host, whatever else runs in the process.
    """
    host = host or Host()
    if not host.running:
        host.stop.clear()  # a host used again after a stopped run starts afresh
        host.interrupted = False
        host.meter = Meter()
        host.elapsed = None
    common = bound.common
    inv = streams.Invocation(bound, host, streams.sink(common.warning_variable))
    streams.install()
    # Created at once, and filled only by the information records of a -Stream's text.
    information = streams.sink(common.information_variable)
    return _scoped(_lazily(unit, bound, host, information), inv)


def _lazily(unit: CommandUnit, bound: Bound, host: Host, information: list[Any] | None) -> Iterator[Any]:
    """The run, begun at the first output asked for (a chained command starts when its input
    does)."""
    yield from _Run(unit, bound, host, information).outputs()


def _scoped(inner: Iterator[Any], inv: streams.Invocation) -> Iterator[Any]:
    """Run each step of ``inner`` with ``inv`` as the current invocation.  A generator shares its
    caller's context, so the variable is set around every step and reset before yielding:
    commands chained in a pipeline each see their own streams."""
    while True:
        try:
            # The core's waits (retry delays, rate-limit pauses) end when the host's stop is set,
            # and the transport counts the answers it receives (429s) on the host's meter.
            with streams.current_invocation(inv), cancel.scope(inv.host.stop), meter.scope(inv.host.meter):
                value = next(inner)
        except StopIteration:
            return
        yield value


class _Run:
    """One command over its pipeline input: the run's state as attributes, its steps as methods."""

    def __init__(self, unit: CommandUnit, bound: Bound, host: Host, information: list[Any] | None) -> None:
        self.unit = unit
        self.information = information
        self.bound = bound
        self.host = host
        self.name = unit.table.name
        common = bound.common
        self.action = common.error_action
        self.errors = streams.sink(common.error_variable)
        self.outputs_seen = streams.sink(common.out_variable)
        self.pipeline_variable = common.pipeline_variable
        self.kwargs = bound.kwargs()
        self.throttle = check_int(THROTTLE_LIMIT, bound.execution.get("ThrottleLimit")) or 1
        self.names_items = bound.pipeline is not None
        """Items are named in their error and warning lines (they came from a pipeline)."""
        self.finished = 0
        """Items done or failed so far."""
        self.started = 0
        """Items of this run handed to the command's process step."""
        self.declined = 0
        """Items of this run declined at a -Confirm prompt."""
        self.failed = 0
        self.total: _Total = None
        """How many items the run has, when known: a number, or a function that may tell later."""
        self.completed = False
        """The run went through all of its input (it was not stopped)."""
        self.shows_progress = False
        self.inquire_all = False
        """-ErrorAction Inquire answered Yes to All: no more questions."""
        self.stop_error: BaseException | None = None
        """The failure that stops the run (ErrorAction Stop), raised once the items in flight are
        reported."""

    # -- the run --------------------------------------------------------------------------------

    def outputs(self) -> Iterator[Any]:
        """Begin, each item's process step, end; the outputs in input order."""
        host = self.host
        # The progress line is erased however the run ends; ``end`` closes what ``begin`` opened.
        with contextlib.ExitStack() as cleanup:
            host.running += 1
            cleanup.callback(self._finished)
            if self.unit.process is None:
                result = self._one_step(cleanup)
                if result is not None:
                    host.done += 1
                    yield self._emit(result)
                return
            yield from self._over_items(cleanup)

    def _finished(self) -> None:
        self.host.running -= 1

    def _one_step(self, cleanup: contextlib.ExitStack) -> Any:
        """A command that is one step over many things (Export-ChatCompletion): its progress
        line counts what the step made, its lines for the user go past that line, its own writes
        to standard output go to the front-end's (which reports their failure), and what it came
        to when it ends early is on the meter for the last line."""
        host, meter = self.host, self.host.meter
        meter.say = host.write_line
        output = host.output
        if output is not None and same_terminal(output, host.stream):
            output = _PastProgress(output, host)  # its lines move the progress line, as outputs do
        meter.output = output
        self.shows_progress = host.begin_progress(self.name, self._made, self.bound)
        cleanup.callback(self._end_progress)  # erased; its receipt, not a summary, ends it
        try:
            return self.unit.begin(self.kwargs)
        except KeyboardInterrupt:
            host.stop.set()
            raise

    def _made(self) -> Counts:
        """Where a one-step command stands: what it has made (nothing to show before it made
        anything: counted as a run of one until then)."""
        made = self.host.meter.produced
        return Counts(
            finished=made,
            failed=0,
            total=None if made else 1,
            in_flight=0,
            stopping=self.host.stop.is_set(),
            rate_limited=self.host.meter.rate_limited,
        )

    def _over_items(self, cleanup: contextlib.ExitStack) -> Iterator[Any]:
        assert self.unit.pipeline_parameter is not None
        pipe_param = self.unit.table.parameter(self.unit.pipeline_parameter)
        # The bound value stays in kwargs: a command whose items bind other parameters by
        # property name (Request-ChatCompletion) reads it in its begin step.
        given = self.kwargs.get(pipe_param.python_name)
        source = _Source(self.bound.pipeline if self.bound.pipeline is not None else [given])
        # Registered before the end step's: the summary comes after whatever that step writes.
        cleanup.callback(self._end_progress)
        state = self.unit.begin(self.kwargs)
        if self.unit.end is not None:
            cleanup.callback(self.unit.end, state)  # however the run ends
        items: Iterable[Any] = source
        # What the input says of its size holds only while each input item is one item run.
        self.total = _input_size(source.items, self.host)
        if self.unit.expand is not None:
            # The expanded items are the run's items: those left when it stops are not sent.
            expanded = self.unit.expand(state, items)
            source = _Source(expanded, drain=True)
            # An expansion that can tell its size (a restore, once its journals are read) says so.
            total = getattr(expanded, "total", None)
            items, self.total = source, total if callable(total) else None
        if self.bound.execution.get("WhatIf") or self.bound.execution.get("Confirm"):
            items, self.total = self._should_process(state, items), None
        if self.bound.pipeline is not None and not pipe_param.mandatory:
            # An empty pipeline for an optional pipeline parameter (Get-ChatCompletion fed by an
            # empty stdin) runs the command once without it, as when nothing is piped.
            items = _or_once(items)
        # Once the input has been read to its end, the total is known whatever it was.
        counted = _Counted(items)
        items = _until_stopped(counted, self.host)
        if self.bound.pipeline is not None or self.unit.expand is not None:
            # A bulk run (piped input, or the items a journal expands to): progress and summary.
            self.shows_progress = self.host.begin_progress(
                self.name, lambda: self._counts(counted), self.bound
            )
        self.host.unsent_now = lambda: self._unsent_now(counted, source)
        cleanup.callback(setattr, self.host, "unsent_now", None)
        for kind, value, item in self._outcomes(state, items):
            if kind == "skipped":
                self.host.not_sent += 1
                continue
            yield from self._report(kind, value, item)
            self.finished += 1
            self.host.item_finished()
        if self.host.stop.is_set():
            self.host.not_sent += source.rest()
        if self.stop_error is not None:
            raise self.stop_error
        self.completed = not self.host.stop.is_set()

    def _end_progress(self) -> None:
        """However the run ends: its progress line is erased; a run that went through all of its
        input ends with its summary line (a stopped one leaves that to its caller)."""
        if self.shows_progress:
            self.host.end_progress(self.name, summary=self.completed)

    def _unsent_now(self, counted: _Counted, source: _Source) -> int:
        """How many items were not sent, at this moment: those taken from the input and never
        started (the skipped ones among them), and the rest of the input."""
        taken_not_started = max(0, counted.taken - self.started)
        if counted.exhausted:
            return taken_not_started
        total = self.total() if callable(self.total) else self.total
        if total is not None:  # each input item is one item of the run: the input's own count
            return taken_not_started + max(0, total - source.taken)
        try:
            return taken_not_started + source.rest()
        except (ValueError, RuntimeError):  # the input is being read right now: not countable
            return taken_not_started

    def _counts(self, counted: _Counted) -> Counts:
        """Where the run stands, for its progress line.  Items declined at -Confirm are settled
        items of the input (and a run that declined some has a summary to show)."""
        total = counted.taken + self.declined if counted.exhausted else self.total
        if callable(total):
            total = total()
        return Counts(
            finished=self.finished + self.declined,
            failed=self.failed,
            total=total,
            in_flight=self.host.in_flight,
            stopping=self.host.stop.is_set(),
            rate_limited=self.host.meter.rate_limited,
        )

    def _report(self, kind: str, value: Any, item: Any) -> Iterator[Any]:
        """One finished item: its outputs handed on, or its failure reported."""
        if kind == "error":
            self._fail(value, item)
        elif isinstance(value, (Iterator, list)):
            # A list-mode Get yields many outputs; an error while paging fails that item.
            handed = 0
            streamed = False
            try:
                for output in value:
                    yield self._emit(output)
                    handed += 1
                    streamed = streamed or isinstance(output, StreamedText)
                    if (
                        self.host.stop.is_set()
                        and isinstance(value, Iterator)
                        and not isinstance(output, StreamedText)
                    ):
                        # Stopping (Ctrl-C, an output that failed): no further page is fetched.
                        # (A stream is asked on: stopped, it fails at once, unless it had ended.)
                        close = getattr(value, "close", None)
                        if callable(close):
                            close()
                        # Not done: the list was not read to its end, and its summary says so.
                        with self.host.lock:
                            self.host.cut_short += 1
                            self.host.cut_short_outputs += handed
                        return
            except ActionPreferenceStopException:
                raise
            except PSOpenAIError as error:
                self._fail(error, item)
            else:
                self.host.done += 1
            finally:
                if streamed:
                    self.host.end_streamed_text()  # the next item's reply starts a line of its own
        else:
            self.host.done += 1
            if value is not None:
                yield self._emit(value)

    def _emit(self, value: Any) -> Any:
        if isinstance(value, StreamedText):
            self._inform(value)
        if self.outputs_seen is not None:
            self.outputs_seen.append(value)
        if self.pipeline_variable:
            streams.variables[str(self.pipeline_variable)] = [value]
        return value

    def _inform(self, text: StreamedText) -> None:
        """A piece of streamed text is an information record too, as PSOpenAI writes it for
        -Stream (a HostInformationMessage without a new line, besides the output): collected by
        -InformationVariable, written to the host as it comes under -InformationAction Continue
        (PowerShell's default is SilentlyContinue), and stopping the run under Stop."""
        action = self.bound.common.information_action
        if self.information is not None and action != "Ignore":
            self.information.append(str(text))
        if action in ("Continue", "Inquire", "Stop"):
            with self.host.lock:
                self.host.clear_progress()
                self.host.stream.write(StreamedText(escape_text(text)))  # marked: not a line
                self.host.stream.flush()
        if action == "Stop":
            raise ActionPreferenceStopException(
                'The running command stopped because the preference variable "InformationPreference" '
                f"or common parameter is set to Stop: {text}"
            )

    # -- one item's failure, by ErrorAction ------------------------------------------------------

    def _fail(self, error: BaseException, item: Any) -> None:
        _attach(error, item)
        # Named when it is one of several: piped, or expanded from the input (a journal's ids).
        target = target_text(item) if self.names_items or self.unit.expand is not None else None
        self.host.failures += 1
        self.failed += 1
        chosen = self.action
        if isinstance(error, RunStoppedError) and chosen in ("Stop", "Inquire"):
            chosen = "Continue"  # cut short by the stop, not its cause: reported, never asked
        if chosen == "Inquire" and self.stop_error is None:
            chosen = self._inquire(error, target)
        if chosen == "Stop" and self.stop_error is None:
            # Report the items already in flight, then raise this error.
            self.stop_error = error
            self.host.stop.set()
            return
        if self.errors is not None and chosen != "Ignore":
            self.errors.append(error)
        if chosen in ("Continue", "Inquire", "Stop"):
            self.host.write_error(self.name, error, target)

    def _inquire(self, error: BaseException, target: str | None) -> str:
        """-ErrorAction Inquire: the action the user chose for this failure (Continue or Stop)."""
        if self.inquire_all:
            return "Continue"
        try:
            answer = self.host.inquire(self.name, error, target)
        except NoTerminalError:
            answer = "h"
            self.host.write_line(
                f"{self.name}: -ErrorAction Inquire: there is no terminal to ask on; stopping."
            )
        self.inquire_all = answer == "a"
        return "Stop" if answer == "h" else "Continue"

    # -- the items ------------------------------------------------------------------------------

    def _should_process(self, state: Any, items: Iterable[Any]) -> Iterator[Any]:
        """Items that WhatIf and Confirm let through; WhatIf lets none through."""
        what_if = bool(self.bound.execution.get("WhatIf"))
        host, describe = self.host, self.unit.describe
        answer_all: str | None = None
        for item in items:
            if host.stop.is_set():
                yield item  # counted as not sent, never asked about
                return
            if isinstance(item, ITEM_ERRORS):  # an item that could not be bound fails as itself
                yield item
                continue
            if answer_all == "l":
                self._decline()  # No to All: declined without asking
                continue
            try:
                target = describe(state, item) if describe else str(item)
            except ITEM_ERRORS as error:
                yield error  # reported as that item's failure
                continue
            if what_if:
                host.write_line(
                    f'What if: Performing the operation "{self.name}" on target "{escape_controls(target)}".'
                )
                continue
            answer = answer_all or host.confirm(self.name, target)
            if host.stop.is_set():
                yield item  # interrupted at the prompt: counted as not sent
                return
            if answer in ("a", "l"):
                answer_all = answer
            if answer in ("n", "l"):
                self._decline()
                continue
            yield item

    def _decline(self) -> None:
        """An item declined at -Confirm: never sent, counted once as declined."""
        self.declined += 1
        self.host.declined += 1

    def _outcomes(self, state: Any, items: Iterable[Any]) -> Iterator[_Outcome]:
        """Each item's outcome, in input order; up to ``throttle`` items at once."""
        if self.throttle <= 1:
            for item in items:
                yield self._attempt(state, item, materialize=False)
            return
        import concurrent.futures  # only a throttled run needs it: a one-shot command line skips the import

        window: collections.deque[concurrent.futures.Future[_Outcome]] = collections.deque()
        pool = concurrent.futures.ThreadPoolExecutor(self.throttle, thread_name_prefix="psopenai-bulk")
        try:
            for item in items:
                # Each worker runs in a copy of this context: its log lines reach this invocation.
                context = contextvars.copy_context()
                window.append(pool.submit(context.run, self._attempt, state, item, materialize=True))
                # Keep the pool busy while the oldest item finishes, but read the input lazily.
                if len(window) >= 2 * self.throttle:
                    yield _result(window.popleft())
            while window:
                yield _result(window.popleft())
        except BaseException:
            self.host.stop.set()  # an interrupt in this thread: let the workers end their waits now
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _attempt(self, state: Any, item: Any, *, materialize: bool) -> _Outcome:
        """One item's process step (in a worker when ``materialize``: paging happens there)."""
        outcome = self._process(state, item, materialize=materialize)
        if self.action == "Stop" and outcome[0] == "error":
            self.host.stop.set()  # ErrorAction Stop: no other item starts from this moment
        return outcome

    def _process(self, state: Any, item: Any, *, materialize: bool) -> _Outcome:
        assert self.unit.process is not None
        host = self.host
        if host.stop.is_set():
            return "skipped", None, item
        with host.lock:
            host.started += 1
            self.started += 1
            host.in_flight += 1
        try:
            if isinstance(item, ITEM_ERRORS):  # an input the reader could not understand
                raise item
            with streams.naming_item(target_text(item) if self.names_items else None):
                output = self.unit.process(state, item)
            if materialize and isinstance(output, Iterator):
                output = list(output)  # do the paging in the worker, not in the caller's thread
            return "ok", output, item
        except ActionPreferenceStopException:
            raise
        except PSOpenAIError as error:
            if isinstance(error, RunStoppedError) and not error.sent:
                return "skipped", None, item
            return "error", error, item
        except Exception as error:
            return "error", _unexpected(error, state), item
        finally:
            with host.lock:
                host.in_flight -= 1


class _PastProgress:
    """Standard output on the terminal the progress line is on, as a one-step command writes it
    itself: each write erases the progress line first and draws it again after (in one write)."""

    def __init__(self, output: Any, host: Host) -> None:
        self.output = output
        self.host = host

    def write(self, text: str) -> int:
        with self.host.writing_output() as (erase, draw):
            self.output.write(erase + text + (draw if text.endswith("\n") else ""))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno: the output's own
        return getattr(self.output, name)


def _result(future: concurrent.futures.Future[_Outcome]) -> _Outcome:
    """The future's result, waited for in short slices so that a Ctrl-C handler can run (a
    blocked wait does not let it on Windows)."""
    import concurrent.futures

    while True:
        try:
            return future.result(timeout=cancel.SLICE)
        except concurrent.futures.TimeoutError:
            if future.done():  # the item itself raised a TimeoutError: not ours to swallow
                raise


def _unexpected(error: BaseException, state: Any) -> UnexpectedItemError:
    settings = getattr(getattr(state, "invocation", None), "settings", None)
    keys = [getattr(settings, "api_key", None)]
    text = redact(f"{type(error).__name__}: {error}", keys=keys)
    wrapped = UnexpectedItemError(f"Unexpected failure: {text}")
    wrapped.__cause__ = None
    return wrapped


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
        inner = getattr(item, "TargetObject", None)  # a stdin line's place, or the item refused
        return inner if inner is None or isinstance(inner, str) else target_text(inner)
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


def _input_size(items: Iterable[Any], host: Host) -> _Total:
    """How many items the pipeline input holds: a list's length; for the input the front-end
    described (standard input from a regular file), a function that tells once it is counted;
    otherwise None (a generator, a pipe: the total is known when the input ends)."""
    if isinstance(items, Sized):
        return len(items)
    return host.input_count


class _Counted:
    """The items handed to the run, counted; ``exhausted`` once the input has ended."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items
        self.taken = 0
        self.exhausted = False

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.taken += 1
            yield item
        self.exhausted = True


class _Source:
    """The pipeline input, counted: how many items were taken, and how many are left when the
    input can tell (a list, or a reader with ``count_rest()``).  ``drain``: the items are the
    command's own expansion of its input (a journal's ids, read from a local file), which may be
    read to its end to count what is left; a caller's generator never is (it may never end)."""

    def __init__(self, items: Iterable[Any], *, drain: bool = False) -> None:
        self.items = items
        self.drain = drain
        self.taken = 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.taken += 1
            yield item

    def rest(self) -> int:
        if isinstance(self.items, Sized):
            return max(0, len(self.items) - self.taken)
        count_rest = getattr(self.items, "count_rest", None)
        if callable(count_rest):
            return int(count_rest())
        if self.drain:
            rest = sum(1 for _ in self.items)
            self.taken += rest
            return rest
        return 0


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
