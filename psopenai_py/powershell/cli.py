"""The ``psopenai`` command line: a thin shell over the library, with PowerShell's syntax.

    psopenai Set-ChatCompletion -CompletionId chatcmpl-abc -MetaData "@{foo='bar'}"
    cat ids.txt | psopenai Set-ChatCompletion -MetaData "@{reviewed='yes'}"
    psopenai help Set-ChatCompletion -Examples

Output: one JSON object per line when stdout is not a terminal, PowerShell-list-like text when it
is (``--format json|text`` chooses), always UTF-8.  Errors go to stderr as ``<Command>: <message>``
(``<Command>: [<item>] <message>`` for a pipeline item).  ``-?``, ``--help`` and ``-h`` anywhere
show the command's help and send nothing.

Exit status: 0 when everything succeeded; 1 when any item failed; 2 when the run stopped before
its first item (a command line that cannot be bound, a missing key or setting); 130 when
interrupted (Ctrl-C: requests in flight finish and are reported, then one ``interrupted:`` line;
a second Ctrl-C exits at once); 143 on SIGTERM, handled the same way (``terminated:``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import errno
import io
import json
import logging
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from types import FrameType
from typing import IO, Any, TextIO

from .._version import __version__

__all__ = ["main"]

EXTRA_VERBS = {
    "help": "show a command's help page: psopenai help <Command> [-Examples|-Parameter X|-Full]",
    "emulator": "serve the local stored-completions emulator: psopenai emulator --port N",
    "demo": "update a stored completion on an embedded emulator (no key, no network)",
    "chat:completions": "the openai CLI's commands and flags: psopenai chat:completions --help",
}


def main(
    argv: list[str],
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one command line; returns the process exit status.

    Nothing unexpected escapes as a traceback: it becomes one line on stderr (and, with
    ``-Debug``, the traceback with every secret removed).
    """
    # A process started with no standard input at all has sys.stdin None: read it as empty.
    stdin = stdin if stdin is not None else (sys.stdin or io.StringIO())
    out = stdout if stdout is not None else _utf8(sys.stdout)
    err = stderr if stderr is not None else _utf8(sys.stderr)
    try:
        return _main(list(argv), stdin, out, err)
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return 130
    except BrokenPipeError:
        if stdout is None:
            _discard(sys.stdout)
        return 1
    except Exception as exc:  # the last line of defence: one line, never a traceback
        _unexpected(exc, argv, err)
        return 1


def _output_closed(error: OSError) -> bool:
    """Whether writing failed because the reader went away: EPIPE on POSIX, EINVAL for a closed
    pipe on Windows."""
    return isinstance(error, BrokenPipeError) or error.errno in (errno.EPIPE, errno.EINVAL)


def _discard(stream: Any) -> None:
    """The reader went away (`| head -1`): point ``stream`` at nothing, so that flushing it at
    exit does not complain again."""
    with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _utf8(stream: TextIO | None) -> TextIO:
    """The process stream, writing UTF-8 whatever the locale (a cp1252 redirect on Windows).
    What UTF-8 cannot carry (a lone surrogate from a ``\\ud800`` escape) is written as a
    backslash escape, which inside a JSON string is still valid JSON."""
    if stream is None:
        return io.StringIO()
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):  # a stream that cannot change: keep it
            reconfigure(encoding="utf-8", errors="backslashreplace")
    return stream


def _unexpected(exc: BaseException, argv: list[str], err: TextIO) -> None:
    from ..masking import redact

    keys = [os.environ.get("OPENAI_API_KEY"), os.environ.get("AZURE_OPENAI_API_KEY")]
    keys += [argv[i + 1] for i, a in enumerate(argv[:-1]) if a.lower().lstrip("-").startswith("apikey")]
    from .terminal import escape_controls

    line = escape_controls(redact(f"{type(exc).__name__}: {exc}", keys=keys))
    err.write(f"psopenai: unexpected error: {line}\n")
    if any(a.lower() in ("-debug", "-db", "-debug:$true") for a in argv):
        err.write(redact("".join(traceback.format_exception(exc)), keys=keys))
    err.flush()


def _main(argv: list[str], stdin: Any, out: TextIO, err: TextIO) -> int:
    argv, output_format = _take_format(list(argv))
    if output_format not in (None, "json", "text"):
        err.write(f"psopenai: --format takes json or text, not {output_format!r}\n")
        return 2
    if not argv or argv[0] in ("-h", "--help", *_HELP_WORDS):
        out.write(_usage())
        return 0
    verb, rest = argv[0], argv[1:]
    if verb == "--version":
        out.write(f"psopenai_py {__version__}\n")
        return 0
    if verb.lower() in ("help", "get-help"):
        return _help(rest, out, err)
    if verb.lower() == "emulator":
        from ..emulator.__main__ import main as emulator_main

        return emulator_main(rest, prog="psopenai emulator")
    if verb.lower() == "demo":
        return _demo(out, err, verbose=any(a.lower() in ("-verbose", "-vb", "--verbose") for a in rest))
    return _run_command(verb, rest, stdin, out, err, output_format)


def _did_you_mean(word: str) -> str:
    """`` Did you mean 'X'?`` for the command or verb nearest to a mistyped one, or nothing."""
    import difflib

    from .registry import runners

    names = [r.table.name for r in runners().values()] + list(EXTRA_VERBS)
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.75)
    return f" Did you mean '{by_lower[close[0]]}'?" if close else ""


def _take_format(argv: list[str]) -> tuple[list[str], str | None]:
    chosen: str | None = None
    kept: list[str] = []
    items = iter(argv)
    for arg in items:
        if arg == "--format":
            chosen = next(items, "")
        elif arg.startswith("--format="):
            chosen = arg.split("=", 1)[1]
        elif arg in ("--json", "--text"):
            chosen = arg[2:]
        else:
            kept.append(arg)
    return kept, chosen


def _usage() -> str:
    from .registry import runners

    width = max(len(r.table.name) for r in runners().values())
    lines = ["usage: psopenai <Command> [-Parameter value ...]   (PowerShell syntax)", "", "commands:"]
    lines += [f"  {r.table.name:<{width}}  {r.table.synopsis}" for r in runners().values()]
    lines += ["", "also:"]
    lines += [f"  {verb:<{width}}  {text}" for verb, text in EXTRA_VERBS.items()]
    lines += ["", "options: --format json|text (default: json when stdout is not a terminal), --version", ""]
    return "\n".join(lines)


def _help(args: list[str], out: TextIO, err: TextIO) -> int:
    from .helpdoc import find_topic, render_help, render_topic
    from .registry import find_runner
    from .terminal import escape_controls

    if not args:
        out.write(_usage())
        return 0
    try:
        command = find_runner(args[0]).table
    except KeyError:
        topic = find_topic(args[0])  # PowerShell's conceptual topics: Get-Help about_Migrating
        if topic is None:
            err.write(
                f"psopenai help: no command or about_ topic named "
                f"'{escape_controls(args[0])}'.{_did_you_mean(args[0])}\n"
            )
            return 2
        out.write(render_topic(topic))
        return 0
    flags = [a.lower() for a in args[1:]]
    parameter = None
    for index, flag in enumerate(flags):
        if "-parameter".startswith(flag) and len(flag) > 2 and index + 1 < len(flags):
            parameter = args[1:][index + 1].lstrip("-")
    mode = "full" if "-full" in flags else "examples" if "-examples" in flags else "default"
    try:
        text = render_help(command, mode=mode, parameter=parameter)
    except FileNotFoundError as error:  # an install without its pages: say so, never print empty help
        err.write(f"psopenai help: {error}\n")
        return 2
    if parameter is not None and text.startswith(f"No parameter of {command.name} matches"):
        err.write(f"psopenai help: {escape_controls(text.rstrip())}\n")  # as Get-Help: an error
        return 2
    out.write(text)
    return 0


_NUMBER = re.compile(r"-\.?\d")
_HELP_WORDS = ("-?", "/?", "--help")
"""Words that ask for help anywhere before ``--``; ``/?`` is what cmd.exe users type."""


def _tokens(argv: list[str]) -> list[Any]:
    """Shell words as binder tokens: ``-Name`` and ``-Name:value`` are parameters.

    Any word that starts with ``-`` names a parameter (an unknown one is a binding error, never a
    positional value), except a negative number and ``-`` alone; after ``--`` every word is a
    value, so an id that starts with ``-`` goes there (or as ``-CompletionId:-x``).
    """
    from .binding import ParameterToken

    tokens: list[Any] = []
    values_only = False
    for word in argv:
        if values_only or len(word) < 2 or word[0] != "-" or _NUMBER.match(word):
            tokens.append(word)
        elif word == "--":
            values_only = True
        else:
            name, colon, inline = word[1:].partition(":")
            tokens.append(ParameterToken(name, inline) if colon else ParameterToken(name))
    return tokens


_SURROGATE = re.compile("[\ud800-\udfff]")


def _undecodable(argv: list[str]) -> str:
    """The complaint about the first argument that is not valid text (bytes that are not UTF-8
    in a POSIX locale arrive as lone surrogates, which no request can carry), or nothing."""
    from .terminal import escape_controls

    for index, word in enumerate(argv):
        found = _SURROGATE.search(word)
        if found is None:
            continue
        try:
            shown = word.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate that did not come from a byte
            shown = word.encode("utf-8", "backslashreplace").decode("ascii")
        name, colon, _ = word[1:].partition(":")
        if not (word.startswith("-") and colon):
            previous = argv[index - 1] if index else ""
            name = previous[1:] if previous.startswith("-") and not _NUMBER.match(previous) else ""
        where = f"the value of parameter '{name}'" if name else f"the argument {index + 1}"
        return (
            f"Cannot process {where}: '{escape_controls(shown)}' is not valid UTF-8 text "
            f"(position {found.start() + 1}). Nothing was sent."
        )
    return ""


def _wants_help(runner: Any, argv: list[str]) -> bool:
    """``-?``, ``/?`` (the Windows habit), ``--help``, or ``-h`` / ``-help`` when no parameter of
    the command begins with it."""
    from .binding import COMMON_PARAMETERS

    for word in argv:
        if word == "--":
            return False
        if word in _HELP_WORDS:
            return True
        if word.lower() in ("-h", "-help"):
            # Only where it names no parameter (Request-ChatCompletion's -h is -History).
            prefix = word[1:].lower()
            parameters = runner.table.parameters + runner.table.execution_parameters + COMMON_PARAMETERS
            if not any(n.lower().startswith(prefix) for p in parameters for n in p.names):
                return True
    return False


_MAX_JSON_DEPTH = 64
_MAX_LINE_BYTES = 1 << 20
"""The longest stdin line read (1 MiB): an id is a few dozen bytes and a JSON object a few KB;
a longer line (a file given by mistake, a hostile stream) fails as one item, never read whole."""


class _TooLong:
    """Stands for a stdin line longer than :data:`_MAX_LINE_BYTES` (its rest was skipped)."""


def _json_depth(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


class StdinItems:
    """Pipeline items from standard input, one per line: a bare id, a JSON object (bound by
    property) or a JSON string.  Read as bytes and decoded line by line, so one line that is
    not UTF-8, not JSON, too deeply nested or not an object fails that item alone.  A UTF-8
    byte-order mark at the start is dropped and CRLF line ends are accepted."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._binary = getattr(stream, "buffer", None)
        self.line_number = 0
        self.reading = False
        """True while blocked reading (an interrupt then ends the input)."""

    def _lines(self) -> Iterator[str | bytes | _TooLong]:
        source: IO[Any] = self._binary if self._binary is not None else self._stream
        in_main = threading.current_thread() is threading.main_thread()
        while True:
            self.reading = in_main  # only a read in the main thread can be interrupted
            try:
                line = source.readline(_MAX_LINE_BYTES + 1)
                newline = b"\n" if isinstance(line, bytes) else "\n"
                if len(line) > _MAX_LINE_BYTES and not line.endswith(newline):
                    # Skip the rest of the line in bounded reads: memory stays flat.
                    rest = line
                    while rest and not rest.endswith(newline):
                        rest = source.readline(_MAX_LINE_BYTES)
                    line = _TooLong()
            except KeyboardInterrupt:
                return
            finally:
                self.reading = False
            if not line:
                return
            yield line

    def __iter__(self) -> Iterator[Any]:
        for raw in self._lines():
            self.line_number += 1
            where = f"line {self.line_number}"
            if isinstance(raw, _TooLong):
                yield _line_error(
                    where,
                    f"The input {where} is longer than {_MAX_LINE_BYTES} bytes: give one id or "
                    "one JSON object per line.",
                )
                continue
            if isinstance(raw, bytes):
                if self.line_number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield _line_error(where, f"The input {where} is not valid UTF-8 (byte {exc.start + 1}).")
                    continue
            else:
                line = raw.lstrip("\ufeff") if self.line_number == 1 else raw
            text = line.strip()
            if not text:
                continue
            if text[0] not in '{["':
                yield text
                continue
            if _json_depth(text) > _MAX_JSON_DEPTH:
                yield _line_error(
                    where, f"The input {where} is JSON nested deeper than {_MAX_JSON_DEPTH} levels."
                )
                continue
            try:
                value = json.loads(text)
            except (ValueError, RecursionError) as exc:
                yield _line_error(where, f"The input {where} {text[:60]!r} is not valid JSON: {exc}.")
                continue
            if (isinstance(value, str) and value) or isinstance(value, dict):
                yield value
            else:
                yield _line_error(
                    where,
                    f"The input {where} is JSON but not an object or a string: give one id or "
                    "one JSON object per line.",
                )

    def count_rest(self) -> int:
        """How many non-empty lines are left (as far as can be read in half a second)."""
        counted = [0]

        def count() -> None:
            for raw in self._lines():
                if isinstance(raw, _TooLong) or raw.strip():
                    counted[0] += 1

        reader = threading.Thread(target=count, daemon=True)
        reader.start()
        reader.join(0.5)
        return counted[0]


def _line_error(where: str, message: str) -> Any:
    from ..errors import ParameterBindingError

    error = ParameterBindingError("InputObject", message)
    error.TargetObject = where  # type: ignore[attr-defined]
    return error


def _run_command(
    name: str, argv: list[str], stdin: Any, out: TextIO, err: TextIO, output_format: str | None
) -> int:
    from ..errors import MissingSettingError, ParameterBindingError, ParameterTypeError, PSOpenAIError
    from .binding import bind, split_arguments
    from .helpdoc import render_help
    from .literals import PowerShellSyntaxError
    from .pipeline import Host, execute
    from .registry import find_runner
    from .terminal import escape_controls

    try:
        runner = find_runner(name)
    except KeyError:
        err.write(
            f"psopenai: '{escape_controls(name)}' is not a command.{_did_you_mean(name)} "
            "Run 'psopenai' to list them.\n"
        )
        return 2
    if _wants_help(runner, argv):
        out.write(render_help(runner.table))
        return 0
    undecodable = _undecodable(argv)
    if undecodable:
        err.write(f"{runner.table.name}: {undecodable}\n")
        return 2
    host = Host(err)
    fmt = output_format or ("text" if _isatty(out) else "json")
    reader: StdinItems | None = None
    interrupts = _Interrupts(host, whole=runner.process is None)
    try:
        with interrupts:
            named, positional = split_arguments(runner.table, _tokens(argv))
            pipeline = None
            if (
                runner.pipeline_parameter
                and not positional
                and not _names_any(runner, named, (runner.pipeline_parameter, *runner.table.list_parameters))
                and not _isatty(stdin)
            ):
                pipeline = reader = StdinItems(stdin)
                interrupts.reader = reader
            bound = bind(runner.table, named, positional, from_text=True, pipeline=pipeline)
            closed = False
            for output in execute(runner, bound, host):
                if closed:
                    continue  # the run is stopping: items in flight finish and are counted
                text = _format(output, fmt)
                host.clear_progress()
                try:
                    out.write(text)
                    out.flush()
                except OSError as error:
                    if not _output_closed(error):
                        raise
                    # No one reads the output any more: stop as on Ctrl-C, and say what happened
                    # to every item on stderr.
                    closed = True
                    host.stop.set()
                    _discard(out)
            if closed:
                host.clear_progress()
                host.write_line(
                    f"psopenai: the output was closed: {host.done} done, {host.failures} failed, "
                    f"{host.not_sent} not sent"
                )
                return 1
    except PSOpenAIError as error:
        # A pipeline item's error that stopped the run (-ErrorAction Stop) is named by its item.
        target = getattr(error, "TargetObject", None) if reader is not None else None
        hint = _hint(runner, error, stdin) if host.started == 0 else ""
        if hint:
            host.write_line(f"{runner.table.name}: {escape_controls(str(error))} {hint}")
        else:
            host.write_error(runner.table.name, error, str(target) if target is not None else None)
        if interrupts.interrupted or host.interrupted:
            return _interrupted(host, err, interrupts.status)
        before_first = host.started == 0 and (
            runner.process is not None
            or isinstance(
                error, (ParameterBindingError, ParameterTypeError, MissingSettingError, PowerShellSyntaxError)
            )
        )
        if reader is not None and not before_first:
            # Stopped part-way through piped input: say what became of every item.
            host.write_line(f"stopped: {host.done} done, {host.failures} failed, {host.not_sent} not sent")
        return 2 if before_first else 1
    if interrupts.interrupted or host.interrupted:
        return _interrupted(host, err, interrupts.status)
    return 1 if host.failures else 0


_HASHTABLE_AS_TEXT = "System.Collections.Hashtable"
_HASHTABLE_HINT = (
    "PowerShell passes a hashtable to a native command as its type name: quote the literal, "
    """-MetaData "@{key='value'}" (or '@{key="value"}')."""
)


def _hint(runner: Any, error: BaseException, stdin: Any) -> str:
    """A sentence for a command-line mistake PowerShell's own message does not explain."""
    text = str(error)
    if _HASHTABLE_AS_TEXT in text:
        return _HASHTABLE_HINT
    pipe = runner.pipeline_parameter
    missing = text.rsplit("missing mandatory parameters:", 1)
    if pipe and len(missing) == 2 and re.search(rf"\b{pipe}\b", missing[1]) and _isatty(stdin):
        # PowerShell would prompt for it; here stdin is the terminal, so nothing was piped.
        return f"Give {pipe} as an argument, or pipe values on stdin, one per line."
    return ""


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _interrupted(host: Any, err: TextIO, status: int = 130) -> int:
    from .terminal import ERASE_LINE, enable_virtual_terminal, stream_is_terminal

    host.clear_progress()
    if stream_is_terminal(err) and enable_virtual_terminal(err):
        err.write(ERASE_LINE)  # the terminal's "^C" echo, where it landed, goes with the line
    word = "terminated" if status == 143 else "interrupted"
    err.write(f"{word}: {host.done} done, {host.failures} failed, {host.not_sent} not sent\n")
    err.flush()
    return status


def _stop_signals() -> list[int]:
    """The signals that stop a run gracefully: Ctrl-C, a polite kill (``timeout``, ``docker
    stop``, a service manager) and, on Windows, Ctrl-Break."""
    names = ["SIGINT", "SIGTERM"] + (["SIGBREAK"] if sys.platform == "win32" else [])
    return [int(getattr(signal, name)) for name in names if hasattr(signal, name)]


class _Interrupts:
    """Ctrl-C (or SIGTERM, or Ctrl-Break on Windows) during a run: the first stops it (no new
    item starts, retry waits end, requests in flight finish and are reported); a second exits at
    once, with status 130 (143 for SIGTERM)."""

    def __init__(self, host: Any, *, whole: bool = False) -> None:
        self.host = host
        self.whole = whole
        """A command that is one step, not a run over items (Export-ChatCompletion): it has
        nothing to finish in order, so the first signal ends it at once (its own clean-up runs)."""
        self.interrupted = False
        self.signal_number = int(signal.SIGINT)
        self.reader: StdinItems | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            for number in _stop_signals():
                with contextlib.suppress(OSError, ValueError):  # a signal this platform refuses
                    self._previous[number] = signal.signal(number, self._on_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous)

    @property
    def status(self) -> int:
        """The exit status: 128 + the signal's number, as a shell reports a signal."""
        return 143 if self.signal_number == getattr(signal, "SIGTERM", None) else 130

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.interrupted:
            os._exit(self.status)  # the second signal: at once, whatever is in flight
        self.interrupted = True
        self.signal_number = signum
        # Set from another thread: this handler may run while this thread holds the event's lock.
        threading.Thread(target=self.host.stop.set, daemon=True).start()
        if self.whole or self.host.asking or (self.reader is not None and self.reader.reading):
            raise KeyboardInterrupt  # one step, or blocked reading stdin or an answer: end the wait


def _names_any(runner: Any, named: list[tuple[str, Any]], names: tuple[str, ...]) -> bool:
    from .binding import resolve_parameter

    return any(resolve_parameter(runner.table, n).name in names for n, _ in named)


def _jsonable(value: Any) -> Any:
    from ..masking import mask_key
    from ..psobject import PSObject
    from ..secret import Secret

    if isinstance(value, PSObject):
        return value.to_dict(include_added=True)  # with Answer, Message, History
    if isinstance(value, Secret):
        return mask_key(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return value


_C1 = re.compile("[\x7f-\x9f]")


def _format(value: Any, fmt: str) -> str:
    if fmt == "json":
        text = json.dumps(_jsonable(value), ensure_ascii=False, separators=(",", ":"))
        # json escapes C0 controls but not DEL and C1 (U+009B is a one-character CSI to many
        # terminals): escape them too, still the same JSON value.
        return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"
    return _format_list(value) + "\n"


def _format_list(value: Any) -> str:
    """PowerShell's Format-List: one ``name : value`` line per property."""
    from ..psobject import PSObject

    if isinstance(value, PSObject):
        pairs = list(value.items())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        pairs = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    else:
        return f"{_escape(str(value))}\n"
    width = max((len(k) for k, _ in pairs), default=0)
    # Values come from the server: control characters are shown, never sent to the terminal.
    return "\n".join(f"{k:<{width}} : {_escape(_short(v))}" for k, v in pairs) + "\n"


def _escape(text: str) -> str:
    from .terminal import escape_controls

    return escape_controls(text)


def _short(value: Any) -> str:
    from ..masking import mask_key
    from ..psobject import PSObject
    from ..secret import Secret

    if value is None:
        return ""
    if isinstance(value, Secret):
        return mask_key(value)
    if isinstance(value, PSObject):
        return "@{" + "; ".join(f"{k}={_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(_short(v) for v in value) + "}"
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


class _StreamFormatter(logging.Formatter):
    """Log records as PowerShell stream lines (``VERBOSE:``, ``WARNING:``, ``DEBUG:``)."""

    def format(self, record: logging.LogRecord) -> str:
        from .terminal import escape_controls

        prefix = {logging.INFO: "VERBOSE", logging.DEBUG: "DEBUG"}.get(record.levelno, record.levelname)
        return f"{prefix}: {escape_controls(record.getMessage())}"


def _demo(out: TextIO, err: TextIO, *, verbose: bool) -> int:
    """Create a stored completion on an embedded emulator and update its metadata."""
    from ..commands import set_completion
    from ..emulator import Emulator

    handler = logging.StreamHandler(err)
    handler.setFormatter(_StreamFormatter())
    logger = logging.getLogger("psopenai_py")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        with Emulator(seed=1) as emulator:
            stored = emulator.store.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Summarise ticket 4711."}],
                metadata={"team": "support"},
            )
            err.write(
                f"embedded emulator at {emulator.url}; stored {stored['id']} "
                f"with metadata {json.dumps(stored['metadata'])}\n"
            )
            updated = set_completion.call(
                {
                    "completion_id": stored["id"],
                    "metadata": {"team": "support", "reviewed": "yes"},
                    "api_base": emulator.url,
                    "api_key": "sk-emulator-demo-key-0000000000000000",
                }
            )
            out.write(updated.to_json(include_added=False) + "\n")
    finally:
        logger.removeHandler(handler)
    return 0
