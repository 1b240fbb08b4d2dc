"""The PowerShell compatibility shim: PSOpenAI's commands under their own names.

Each command is a function named with ``_`` for ``-`` (``Set_ChatCompletion``) that takes
PowerShell's parameter names in any case, any unique prefix or alias, positionally or by name,
plus the common parameters::

    from psopenai_py.compat import Set_ChatCompletion, invoke

    Set_ChatCompletion(CompletionId="chatcmpl-abc", MetaData={"foo": "bar"}, MaxRetryCount=3)
    Set_ChatCompletion(["chatcmpl-a", "chatcmpl-b"], meta={"k": "v"}, ErrorAction="Continue")
    invoke("Set-ChatCompletion -CompletionId chatcmpl-abc -MetaData @{foo='bar'}")

A non-string iterable given first (or to the pipeline parameter, such as ``InputObject=``) is
pipeline input: one request per item.  Results come back as PowerShell returns them: nothing
(None), one object, or a list of objects.  Failed items follow ErrorAction (default Continue:
written to stderr as ``Set-ChatCompletion: <message>``); ``ErrorVariable`` takes a list to fill or
a name (see :data:`variables`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .commands import REGISTRY, CommandUnit, find_unit
from .errors import ParameterBindingError
from .powershell.binding import ParameterToken, bind, resolve_parameter, split_arguments
from .powershell.host import Host
from .powershell.literals import Parser, parse_literal
from .powershell.pipeline import execute
from .powershell.streams import variables
from .psobject import PSObject


def unroll(outputs: Iterable[Any]) -> Any:
    """PowerShell's assignment of command output: None, the one object, or a list."""
    collected = list(outputs)
    if not collected:
        return None
    return collected[0] if len(collected) == 1 else collected


def _is_pipeline_input(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping, PSObject))


def _run_python_call(
    runner: CommandUnit, args: tuple[Any, ...], kwargs: dict[str, Any], host: Host | None
) -> Any:
    command = runner.table
    pipeline: Iterable[Any] | None = None
    positional = list(args)
    if positional and runner.pipeline_parameter and _is_pipeline_input(positional[0]):
        pipeline = positional.pop(0)
    named: list[tuple[str, Any]] = []
    for name, value in kwargs.items():
        p = resolve_parameter(command, name)
        if p.name == runner.pipeline_parameter and _is_pipeline_input(value):
            if pipeline is not None:
                raise ParameterBindingError(p.name, "Pipeline input was given twice.")
            pipeline = value
            continue
        named.append((name, value))
    bound = bind(command, named, positional, pipeline=pipeline)
    return unroll(execute(runner, bound, host))


def _make_shim(runner: CommandUnit) -> Callable[..., Any]:
    def shim(*args: Any, **kwargs: Any) -> Any:
        return _run_python_call(runner, args, kwargs, None)

    shim.__name__ = shim.__qualname__ = runner.table.name.replace("-", "_")
    shim.__doc__ = (
        f"{runner.table.name}: {runner.table.synopsis}\n\nPowerShell parameters: "
        + ", ".join(f"-{p.name}" for p in runner.table.parameters)
        + f". See Docs/{runner.table.name}.md."
    )
    return shim


_SHIMS = {name.replace("-", "_"): name for name in REGISTRY}
"""Each command's shim name (``Set_ChatCompletion``) and its PowerShell name."""


def __getattr__(name: str) -> Callable[..., Any]:
    # A shim is made when first asked for, so that its command's module loads then, alone
    # (``from psopenai_py.compat import Set_ChatCompletion`` loads no other command).
    command = _SHIMS.get(name)
    if command is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    shim = _make_shim(find_unit(command))
    globals()[name] = shim
    return shim


def __dir__() -> list[str]:
    return sorted({*globals(), *_SHIMS})


__all__ = ["invoke", "variables", "unroll", *_SHIMS]


# -- command lines as text -----------------------------------------------------------------------


def _split_pipeline(text: str) -> list[str]:
    """Split at top-level ``|`` (not inside quotes, braces or parentheses)."""
    parts, depth, start, i = [], 0, 0, 0
    quote: str | None = None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "`" and quote == '"':
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _parse_command(segment: str) -> tuple[str, list[Any]]:
    """A command segment's name and its tokens (ParameterTokens and parsed values)."""
    parser = Parser(segment)
    parser.skip_space()
    start = parser.pos
    while not parser.at_end() and not parser.text[parser.pos].isspace():
        parser.pos += 1
    name = segment[start : parser.pos]
    tokens: list[Any] = []
    while True:
        parser.skip_space()
        if parser.at_end():
            return name, tokens
        if parser.peek() == "-" and parser.peek(2)[1:].isalpha():
            begin = parser.pos + 1
            while not parser.at_end() and (
                parser.text[parser.pos].isalnum() or parser.text[parser.pos] in "-_"
            ):
                parser.pos += 1
            param = segment[begin : parser.pos]
            if parser.peek() == ":":
                parser.pos += 1
                tokens.append(ParameterToken(param, parser.value()))
            else:
                tokens.append(ParameterToken(param))
        else:
            tokens.append(parser.value())


# ``-?`` as a word of a command segment (outside quotes: a quoted '-?' is a value).
_HELP = re.compile(r"""(?:^|\s)-\?(?=\s|$)(?=(?:[^'"]*(?:'[^']*'|"[^"]*"))*[^'"]*$)""")

_EXPRESSION_STARTS = "'\"@$({[,0123456789-+.\u2018\u2019\u201c\u201d"


def invoke(text: str, *, host: Host | None = None) -> Any:
    """Run a PowerShell command line given as text, with ``|`` pipelines between commands.

    The first segment may be an expression instead of a command (``'a','b' | Set-ChatCompletion
    ...``).  Returns like PowerShell's assignment: None, one object, or a list.  A command given
    ``-?`` returns its help text instead, and nothing is sent.
    """
    outputs: Iterable[Any] | None = None
    for index, segment in enumerate(_split_pipeline(text)):
        # In PowerShell a bare word starts a command; anything else starts an expression.
        if index == 0 and segment[:1] and segment[:1] in _EXPRESSION_STARTS:
            value = parse_literal(segment)
            # A list, not an iterator: a stopped run can then count the items never sent.
            outputs = value if isinstance(value, list) else [value]
            continue
        name = segment.split(None, 1)[0] if segment else ""
        try:
            runner = find_unit(name)
        except KeyError:
            raise ParameterBindingError(
                name,
                f"The term '{name}' is not recognized as a psopenai_py command. Commands: "
                f"{', '.join(REGISTRY)}.",
            ) from None
        if _HELP.search(segment):
            # As Get-Help: the command's help, and nothing is run or sent.
            from .powershell.helpdoc import render_help

            return render_help(runner.table)
        _, tokens = _parse_command(segment)
        named, positional = split_arguments(runner.table, tokens)
        bound = bind(runner.table, named, positional, from_text=True, pipeline=outputs)
        outputs = execute(runner, bound, host)
    return unroll(outputs or [])
