"""The ``psopenai`` command line: a thin shell over the library, with PowerShell's syntax.

    psopenai Set-ChatCompletion -CompletionId chatcmpl-abc -MetaData "@{foo='bar'}"
    cat ids.txt | psopenai Set-ChatCompletion -MetaData "@{reviewed='yes'}"
    psopenai help Set-ChatCompletion -Examples

Output: one JSON object per line when stdout is not a terminal, PowerShell-list-like text when it
is (``--format json|text`` chooses), always UTF-8; the text of ``Request-ChatCompletion -Stream``
comes as it is written, flushed piece by piece (plain text, or one JSON string per piece).
Errors go to stderr as ``<Command>: <message>`` (``<Command>: [<item>] <message>`` for a pipeline
item).  ``-?``, ``--help`` and ``-h`` anywhere show the command's help and send nothing.

Exit status: 0 when everything succeeded; 1 when any item failed, or the output could not be
written (the run stops as when interrupted, then one line says what became of every item);
2 when the run stopped before its first item (a command line that cannot be bound, a missing
key or setting, a standard output closed before the start); 130 when interrupted (Ctrl-C: one
line says how many requests in flight are being finished, they finish and are reported, then
one ``interrupted:`` line; a second Ctrl-C exits at once, after one ``quit:`` line that counts
the requests in flight as outcome unknown); 143 on SIGTERM, handled the same way
(``terminated:``).  The process shell (streams, signals, the last line of defence) is
:mod:`psopenai_py.cli_shell`'s; the words and codes are this module's.
"""

from __future__ import annotations

import io
import os
import re
import signal
import sys
import threading
import traceback
from typing import Any, TextIO, cast

from .._version import __version__
from ..cli_shell import EXIT_BEFORE_FIRST_ITEM, EXIT_TERMINATED, Output, OutputError, Shell
from .output import EndingLine, OpenLine, write_outputs

__all__ = ["main"]

EXTRA_VERBS = {
    "help": "show a command's help page: psopenai help <Command> [-Examples|-Parameter X|-Full]",
    "emulator": "serve the local stored-completions emulator: psopenai emulator --port N",
    "demo": "update a stored completion on an embedded emulator (no key, no network)",
    "chat:completions": "the openai CLI's commands and flags: psopenai chat:completions --help",
}
_LEADING_OPTIONS = ("--format", "--version", "--help")
"""The options this front-end takes before its command name."""


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
    shell = _PowerShellShell(list(argv), stdout, stderr)
    return shell.run(lambda: _main(shell.argv, stdin, shell))


class _PowerShellShell(Shell):
    """The process shell, in this command line's words and codes."""

    closed_output_status = EXIT_BEFORE_FIRST_ITEM

    def __init__(self, argv: list[str], stdout: TextIO | None, stderr: TextIO | None) -> None:
        super().__init__(stdout, stderr, utf8=True)
        self.argv = argv

    def interrupted_line(self, status: int) -> str:
        return "terminated" if status == EXIT_TERMINATED else "interrupted"

    def closed_output_line(self) -> str:
        return (
            "psopenai: the standard output is closed, so no result could be shown; nothing was sent. "
            "Redirect it to a file (or to the null device) instead."
        )

    def output_failed_line(self, failure: OutputError) -> str:
        # A reader gone away (| head) before any run: a quiet end, as a filter's.
        return "" if failure.closed else f"psopenai: {_output_words(failure)}"

    def unexpected_line(self, exc: BaseException) -> str:
        from ..masking import redact
        from .terminal import escape_controls

        argv = self.argv
        keys = [os.environ.get("OPENAI_API_KEY"), os.environ.get("AZURE_OPENAI_API_KEY")]
        keys += [argv[i + 1] for i, a in enumerate(argv[:-1]) if a.lower().lstrip("-").startswith("apikey")]
        line = "psopenai: unexpected error: " + escape_controls(
            redact(f"{type(exc).__name__}: {exc}", keys=keys)
        )
        if any(a.lower() in ("-debug", "-db", "-debug:$true") for a in argv):
            line += "\n" + redact("".join(traceback.format_exception(exc)), keys=keys).rstrip("\n")
        return line


def _output_words(failure: OutputError) -> str:
    if failure.closed:
        return "the output was closed"
    return f"the output could not be written ({failure.reason})"


def _main(argv: list[str], stdin: Any, shell: Shell) -> int:
    argv, output_format = _take_format(list(argv))
    err = shell.err
    if output_format not in (None, "json", "text"):
        err.write(f"psopenai: --format takes json or text, not '{_shown(output_format)}'\n")
        return EXIT_BEFORE_FIRST_ITEM
    if argv and argv[0].lower() == "emulator":  # a server: its start line is a courtesy
        from ..emulator.__main__ import main as emulator_main

        return emulator_main(argv[1:], prog="psopenai emulator")
    out = shell.output()  # refused here when closed: nothing could be reported
    if not argv or argv[0] in ("-h", "--help", *_HELP_WORDS):
        out.write(_usage())
        return 0
    verb, rest = argv[0], argv[1:]
    if verb == "--version":
        out.write(f"psopenai_py {__version__}\n")
        return 0
    if verb.lower() in ("help", "get-help"):
        return _help(rest, out, err)
    if verb.lower() == "demo":
        from .demo import demo

        return demo(rest, out, err)
    return _run_command(verb, rest, stdin, shell, output_format)


def _shown(word: str) -> str:
    """A word of the command line as a message quotes it back: a key pasted in the wrong place
    masked (the package's one rule of what looks like a key), control characters escaped."""
    from ..scrub import mask_keys
    from .terminal import escape_controls

    return escape_controls(mask_keys(word))


def _did_you_mean(word: str) -> str:
    """`` Did you mean 'X'?`` for the command or verb nearest to a mistyped one, or nothing."""
    import difflib

    from ..commands import units

    if word.startswith("-"):
        # A mistyped option before the command (--formt): its options, compared without dashes.
        by_bare = {o.lstrip("-"): o for o in _LEADING_OPTIONS}
        close = difflib.get_close_matches(word.lstrip("-").lower(), list(by_bare), n=1, cutoff=0.75)
        return f" Did you mean '{by_bare[close[0]]}'?" if close else ""
    names = [r.table.name for r in units()] + list(EXTRA_VERBS)
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
    from ..commands import units
    from .helpdoc import list_topics

    width = max(len(r.table.name) for r in units())
    lines = ["usage: psopenai <Command> [-Parameter value ...]   (PowerShell syntax)", "", "commands:"]
    lines += [f"  {r.table.name:<{width}}  {r.table.synopsis}" for r in units()]
    lines += ["", "also:"]
    lines += [f"  {verb:<{width}}  {text}" for verb, text in EXTRA_VERBS.items()]
    topics = list_topics()
    if topics:  # PowerShell's conceptual help, as Get-Help about_* lists it
        lines += ["", "topics (psopenai help <topic>):"]
        lines += [f"  {name:<{width}}  {short}" for name, short in topics]
    lines += ["", "options: --format json|text (default: json when stdout is not a terminal), --version", ""]
    return "\n".join(lines)


def _help(args: list[str], out: Output, err: TextIO) -> int:
    from ..commands import find_unit
    from .helpdoc import find_topic, render_help, render_topic
    from .terminal import escape_controls

    if not args:
        out.write(_usage())
        return 0
    try:
        command = find_unit(args[0]).table
    except KeyError:
        topic = find_topic(args[0])  # PowerShell's conceptual topics: Get-Help about_Migrating
        if topic is None:
            err.write(
                f"psopenai help: no command or about_ topic named "
                f"'{_shown(args[0])}'.{_did_you_mean(args[0])}\n"
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


def _undecodable(argv: list[str]) -> str:
    """The complaint about the first argument that is not valid text (bytes that are not UTF-8
    in a POSIX locale arrive as lone surrogates, which no request can carry), or nothing."""
    for index, word in enumerate(argv):
        # (An ASCII word holds none; the pattern compiles on first use.)
        found = None if word.isascii() else re.search("[\ud800-\udfff]", word)
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
            f"Cannot process {where}: '{_shown(shown)}' is not valid UTF-8 text "
            f"(position {found.start() + 1}). Nothing was sent."
        )
    return ""


def _wants_help(unit: Any, argv: list[str]) -> bool:
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
            parameters = unit.table.parameters + unit.table.execution_parameters + COMMON_PARAMETERS
            if not any(n.lower().startswith(prefix) for p in parameters for n in p.names):
                return True
    return False


def _run_command(name: str, argv: list[str], stdin: Any, shell: Shell, output_format: str | None) -> int:
    from ..commands import find_unit
    from ..errors import MissingSettingError, ParameterBindingError, ParameterTypeError, PSOpenAIError
    from .binding import bind, split_arguments
    from .host import Host
    from .literals import PowerShellSyntaxError
    from .pipeline import execute, target_text
    from .progress import InputCount
    from .terminal import escape_controls

    out, err = shell.output(), shell.err
    try:
        unit = find_unit(name)
    except KeyError:
        err.write(
            f"psopenai: '{_shown(name)}' is not a command.{_did_you_mean(name)} "
            "Run 'psopenai' to list them.\n"
        )
        return EXIT_BEFORE_FIRST_ITEM
    if _wants_help(unit, argv):
        from .helpdoc import render_help

        out.write(render_help(unit.table))
        return 0
    undecodable = _undecodable(argv)
    if undecodable:
        err.write(f"{unit.table.name}: {undecodable}\n")
        return EXIT_BEFORE_FIRST_ITEM
    fmt = output_format or ("text" if out.isatty() else "json")
    line = OpenLine(out)
    # The host's lines (errors, warnings, progress) first end a line streamed text left open.
    host = Host(cast("TextIO", EndingLine(err, line)) if fmt == "text" else err)
    host.output = out  # a command that writes it itself (an export to -): its failure is ours
    reader: Any = None
    stopping = _Stopping(host, whole=unit.process is None)
    try:
        with shell.stopping(stopping, stopping.quit):
            named, positional = split_arguments(unit.table, _tokens(argv))
            reader = _piped_input(unit, named, positional, stdin, stopping)
            if reader is not None and reader.interrupted:
                host.interrupted = True
                host.stop.set()
                return _interrupted(host, shell, stopping)
            if reader is not None and _nothing_binds(unit, named, positional):
                # Each item will be refused; say once why the input was read at all.
                host.write_line(_STDIN_HINT.format(unit.table.name, unit.pipeline_parameter))
            if reader is not None:
                host.input_count = InputCount(stdin).count  # the progress line's total
            bound = bind(unit.table, named, positional, from_text=True, pipeline=reader)
            failure = write_outputs(execute(unit, bound, host), out, fmt, host, shell, line)
            if failure is not None:
                host.write_line(f"psopenai: {_output_words(failure)}: {host.summary()}")
                return 1
    except OutputError as failure:  # written by the command itself: said the same way
        shell.give_up_output()
        host.write_line(f"psopenai: {_output_words(failure)}: {host.summary()}")
        return 1
    except KeyboardInterrupt:
        if host.meter.outcome is None:
            raise
        return _interrupted(host, shell, stopping)  # a one-step command says what it came to
    except PSOpenAIError as error:
        # A pipeline item's error that stopped the run (-ErrorAction Stop) is named by its item.
        item = getattr(error, "TargetObject", None) if reader is not None else None
        target = target_text(item)  # its id or its text, cut short: never a whole object
        hint = _hint(unit, error, stdin) if host.started == 0 else ""
        if hint:
            host.write_line(f"{unit.table.name}: {escape_controls(str(error))} {hint}")
        else:
            host.write_error(unit.table.name, error, target)
        if shell.signals.received is not None or host.interrupted:
            return _interrupted(host, shell, stopping)
        before_first = host.started == 0 and (
            unit.process is not None
            or isinstance(
                error, (ParameterBindingError, ParameterTypeError, MissingSettingError, PowerShellSyntaxError)
            )
        )
        if reader is not None and not before_first:
            # Stopped part-way through piped input: say what became of every item.
            host.write_line(f"stopped: {host.summary()}")
        return EXIT_BEFORE_FIRST_ITEM if before_first else 1
    if shell.signals.received is not None or host.interrupted:
        return _interrupted(host, shell, stopping)
    return 1 if host.failures else 0


_HASHTABLE_AS_TEXT = "System.Collections.Hashtable"
_HASHTABLE_HINT = (
    "PowerShell passes a hashtable to a native command as its type name: quote the literal, "
    """-MetaData "@{key='value'}" (or '@{key="value"}')."""
)


def _hint(unit: Any, error: BaseException, stdin: Any) -> str:
    """A sentence for a command-line mistake PowerShell's own message does not explain."""
    text = str(error)
    if _HASHTABLE_AS_TEXT in text:
        return _HASHTABLE_HINT
    pipe = unit.pipeline_parameter
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


def _interrupted(host: Any, shell: Shell, stopping: _Stopping) -> int:
    """The run ended by a stop signal or end of input at a prompt: one line says what became of
    every item (after the notice of the first signal, if one is being written)."""
    stopping.settle()
    status = shell.signals.status
    word = "terminated" if status == EXIT_TERMINATED else "interrupted"
    host.write_notice(f"{word}: {host.summary()}")
    return status


class _Stopping:
    """The first Ctrl-C (or SIGTERM, or Ctrl-Break on Windows) during a run: no item starts any
    more, retry waits end, and one line says how many requests in flight are being finished and
    that a second Ctrl-C quits now (the shell's :class:`~psopenai_py.cli_shell.StopSignals`
    exits at once on a second)."""

    def __init__(self, host: Any, *, whole: bool) -> None:
        self.host = host
        self.whole = whole
        """A command that is one step, not a run over items (Export-ChatCompletion): it has
        nothing to finish in order, so the first signal ends it at once (its own clean-up runs)."""
        self.reader: Any = None
        self._notice: threading.Thread | None = None

    def __call__(self, signum: int) -> None:
        # From another thread: this handler may run while this thread holds the stop event's
        # lock or the host's.
        self._notice = threading.Thread(target=self._stop, args=(signum,), daemon=True)
        self._notice.start()
        if self.whole or self.host.asking or (self.reader is not None and self.reader.reading):
            raise KeyboardInterrupt  # one step, or blocked reading stdin or an answer: end the wait

    def _stop(self, signum: int) -> None:
        in_flight = self.host.in_flight
        self.host.stop.set()
        if in_flight and not self.whole:
            requests = f"{in_flight} request{'' if in_flight == 1 else 's'}"
            again = "SIGTERM" if signum == getattr(signal, "SIGTERM", None) else "Ctrl-C"
            word = "terminating" if again == "SIGTERM" else "stopping"
            self.host.write_notice(f"{word}: finishing {requests} in flight; a second {again} quits now")

    def quit(self, status: int) -> None:
        """The second signal: the last line says what became of every item before the exit."""
        self.host.write_quit("terminated" if status == EXIT_TERMINATED else "quit")

    def settle(self) -> None:
        """Wait (briefly) for the notice, so that it comes before the summary."""
        if self._notice is not None:
            self._notice.join(2.0)


_STDIN_HINT = (
    "{0}: standard input is not a terminal and holds input, so it is piped to the command, as "
    "PowerShell pipes input even when {1} is given on the command line; no piped item can bind, "
    "so none is sent. To run the command line alone, give it no input (< /dev/null, or < NUL on "
    "Windows)."
)


def _given_item_parameter(unit: Any, named: list[tuple[str, Any]], positional: list[Any]) -> bool:
    """Whether the command line binds the parameter a pipeline item binds to (the id, the
    message): by name, or by position, where that parameter stands first."""
    return bool(positional) or _names_any(unit, named, (unit.pipeline_parameter,))


def _nothing_binds(unit: Any, named: list[tuple[str, Any]], positional: list[Any]) -> bool:
    """Whether no piped item can bind: the item parameter is given and no other parameter that
    binds by property name is left free."""
    free = [
        p
        for p in unit.table.parameters
        if (p.pipeline_by_property or p.pipeline_by_value)
        and p.name != unit.pipeline_parameter
        and not _names_any(unit, named, (p.name,))
    ]
    return _given_item_parameter(unit, named, positional) and not free


def _piped_input(
    unit: Any, named: list[tuple[str, Any]], positional: list[Any], stdin: Any, stopping: _Stopping
) -> Any:
    """Standard input as the command's pipeline input, or None when nothing is piped.

    As in PowerShell, piped input is offered whatever the command line binds: each item binds to
    the pipeline parameters left free (a completion piped to Request-ChatCompletion 'next' gives
    its Model and History), and an item that binds to none is that item's error, nothing sent
    for it (ids piped to Remove-ChatCompletion <id>).  A terminal pipes nothing, and neither
    does the list form of Get-ChatCompletion.  An empty input (``< /dev/null``, a closed pipe)
    pipes nothing either, so a command line that names every parameter runs as it reads, except
    where the item parameter is mandatory and left to the input: then there is nothing to do.
    """
    from .stdin import StdinItems

    if not unit.pipeline_parameter or _names_any(unit, named, unit.table.list_parameters) or _isatty(stdin):
        return None
    reader = stopping.reader = StdinItems(stdin)  # before any read: Ctrl-C must end a blocked read
    item_parameter = unit.table.parameter(unit.pipeline_parameter)
    if item_parameter.mandatory and not _given_item_parameter(unit, named, positional):
        return reader  # read lazily: an empty input is an empty pipeline
    return None if reader.empty() and not reader.interrupted else reader


def _names_any(unit: Any, named: list[tuple[str, Any]], names: tuple[str, ...]) -> bool:
    from .binding import resolve_parameter

    return any(resolve_parameter(unit.table, n).name in names for n, _ in named)
