"""The ``psopenai`` command line: a thin shell over the library, with PowerShell's syntax.

    psopenai Set-ChatCompletion -CompletionId chatcmpl-abc -MetaData "@{foo='bar'}"
    cat ids.txt | psopenai Set-ChatCompletion -MetaData "@{reviewed='yes'}"
    psopenai help Set-ChatCompletion -Examples

Output: one JSON object per line when stdout is not a terminal, PowerShell-list-like text when it
is (``--format json|text`` chooses).  Errors go to stderr as ``<Command>: <message>``; the exit
status is 1 when anything failed, 2 for a command line that cannot be understood.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from .. import __version__

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
    """Run one command line; returns the process exit status."""
    # A process started with no standard input at all has sys.stdin None: read it as empty.
    stdin = stdin if stdin is not None else (sys.stdin or io.StringIO())
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    argv, output_format = _take_format(list(argv))
    if output_format not in (None, "json", "text"):
        err.write(f"psopenai: --format takes json or text, not {output_format!r}\n")
        return 2
    if not argv or argv[0] in ("-h", "--help", "-?"):
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
        return _demo(out, err, verbose=any(a.lower() in ("-verbose", "--verbose") for a in rest))
    return _run_command(verb, rest, stdin, out, err, output_format)


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

    if not args:
        out.write(_usage())
        return 0
    try:
        command = find_runner(args[0]).table
    except KeyError:
        topic = find_topic(args[0])  # PowerShell's conceptual topics: Get-Help about_Migrating
        if topic is None:
            err.write(f"psopenai help: no command or about_ topic named {args[0]!r}\n")
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
    out.write(text)
    return 0


def _tokens(argv: list[str]) -> list[Any]:
    """Shell words as binder tokens: ``-Name`` and ``-Name:value`` are parameters."""
    from .binding import ParameterToken

    tokens: list[Any] = []
    for word in argv:
        if len(word) > 1 and word[0] == "-" and (word[1].isalpha() or word[1] == "_"):
            name, colon, inline = word[1:].partition(":")
            tokens.append(ParameterToken(name, inline) if colon else ParameterToken(name))
        else:
            tokens.append(word)
    return tokens


def _stdin_items(stdin: TextIO) -> Iterator[Any]:
    """Pipeline items from stdin, one per line: a bare id, or a JSON object (bound by property)."""
    from ..errors import ParameterBindingError

    for line in stdin:
        text = line.strip()
        if not text:
            continue
        if text.startswith("{"):
            try:
                yield json.loads(text)
            except ValueError as exc:
                # Fails this item only, under the ErrorAction rules.
                yield ParameterBindingError(
                    "InputObject", f"The input line {text[:60]!r} is not valid JSON: {exc}."
                )
            continue
        yield text


def _run_command(
    name: str, tokens: list[str], stdin: TextIO, out: TextIO, err: TextIO, output_format: str | None
) -> int:
    from ..errors import PSOpenAIError
    from .binding import bind, split_arguments
    from .pipeline import Host, execute
    from .registry import find_runner

    try:
        runner = find_runner(name)
    except KeyError:
        err.write(f"psopenai: '{name}' is not a command. Run 'psopenai' to list them.\n")
        return 2
    host = Host(err)
    fmt = output_format or ("text" if out.isatty() else "json")
    try:
        named, positional = split_arguments(runner.table, _tokens(tokens))
        pipeline = None
        if (
            runner.pipeline_parameter
            and not positional
            and not _names_any(runner, named, (runner.pipeline_parameter, *runner.table.list_parameters))
            and not stdin.isatty()
        ):
            pipeline = _stdin_items(stdin)
        bound = bind(runner.table, named, positional, from_text=True, pipeline=pipeline)
        for output in execute(runner, bound, host):
            out.write(_format(output, fmt))
            out.flush()
    except PSOpenAIError as error:
        host.write_error(runner.table.name, error)
        return 1
    except BrokenPipeError:
        return 1
    return 1 if host.failures else 0


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


def _format(value: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(_jsonable(value), ensure_ascii=False, separators=(",", ":")) + "\n"
    return _format_list(value) + "\n"


def _format_list(value: Any) -> str:
    """PowerShell's Format-List: one ``name : value`` line per property."""
    from ..psobject import PSObject

    if isinstance(value, PSObject):
        pairs = list(value.items())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        pairs = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    else:
        return f"{value}\n"
    width = max((len(k) for k, _ in pairs), default=0)
    return "\n".join(f"{k:<{width}} : {_short(v)}" for k, v in pairs) + "\n"


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


def _demo(out: TextIO, err: TextIO, *, verbose: bool) -> int:
    """Create a stored completion on an embedded emulator and update its metadata."""
    from ..commands.chat import set_chat_completion
    from ..emulator import Emulator

    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
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
            updated = set_chat_completion(
                stored["id"],
                {"team": "support", "reviewed": "yes"},
                api_base=emulator.url,
                api_key="sk-emulator-demo-key-0000000000000000",
            )
            out.write(updated.to_json(include_added=False) + "\n")
    finally:
        logger.removeHandler(handler)
    return 0
