"""PowerShell parameter binding, driven by a command's parameter table.

Names are case-insensitive; any unique prefix of a name or alias works; aliases work like names;
positional arguments fill the positional parameters in order; the common parameters (Verbose,
Debug, ErrorAction, WarningAction, ErrorVariable) exist on every command.  Values given as text
(from a shell or a PowerShell command line) are converted to the parameter's type here; ranges and
sets are checked by the library functions, from the same table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..errors import ParameterBindingError, ParameterTypeError
from ..lazy_pattern import LazyPattern
from ..parameters import Command, Parameter
from ..records import Record
from ..validation import bind_completion_id, check_int
from .literals import PowerShellSyntaxError, parse_argument, parse_number

__all__ = [
    "SWITCH_PRESENT",
    "CommonParameters",
    "Bound",
    "bind",
    "resolve_parameter",
    "ParameterToken",
    "split_arguments",
    "COMMON_PARAMETERS",
    "ACTION_PREFERENCES",
]

ACTION_PREFERENCES = ("Continue", "Ignore", "Inquire", "SilentlyContinue", "Stop")
_INFORMATION_PREFERENCE = "SilentlyContinue"
"""InformationAction when none is given: PowerShell's default $InformationPreference."""


class _SwitchPresent:
    """A switch named without a value (``-Verbose``)."""

    def __repr__(self) -> str:
        return "SWITCH_PRESENT"


SWITCH_PRESENT: Any = _SwitchPresent()
_NO_VALUE: Any = object()


class ParameterToken(Record):
    """``-Name`` on a command line, or ``-Name:value`` with its value attached."""

    name: str
    value: Any = _NO_VALUE

    def __repr__(self) -> str:  # the name alone: a value may be a key
        return f"ParameterToken({self.name!r})"


def split_arguments(command: Command, tokens: Iterable[Any]) -> tuple[list[tuple[str, Any]], list[Any]]:
    """Command-line tokens (ParameterTokens and values) to named and positional arguments.

    A named parameter takes the next token as its value, except a switch, which takes none;
    ``-Name:value`` carries its own.  Shared by the CLI (shell tokens) and ``invoke()`` (parsed
    PowerShell text).
    """
    named: list[tuple[str, Any]] = []
    positional: list[Any] = []
    stream = iter(tokens)
    for token in stream:
        if not isinstance(token, ParameterToken):
            positional.append(token)
            continue
        p = resolve_parameter(command, token.name)
        if token.value is not _NO_VALUE:
            named.append((token.name, token.value))
        elif p.type_name == "SwitchParameter":
            named.append((token.name, SWITCH_PRESENT))
        else:
            value = next(stream, _NO_VALUE)
            if value is _NO_VALUE or isinstance(value, ParameterToken):
                raise ParameterBindingError(
                    p.name,
                    f"Missing an argument for parameter '{p.name}'. Specify a parameter "
                    f"of type '{_dotnet_type(p)}' and try again.",
                )
            named.append((token.name, value))
    return named, positional


COMMON_PARAMETERS: tuple[Parameter, ...] = (
    Parameter("Verbose", "verbose", "SwitchParameter", "Writes the verbose lines.", aliases=("vb",)),
    Parameter("Debug", "debug", "SwitchParameter", "Writes the debug lines.", aliases=("db",)),
    Parameter(
        "ErrorAction",
        "error_action",
        "ActionPreference",
        "What a failed item does: Continue, SilentlyContinue, Ignore or Stop.",
        aliases=("ea",),
        choices=ACTION_PREFERENCES,
    ),
    Parameter(
        "WarningAction",
        "warning_action",
        "ActionPreference",
        "What a warning does: Continue, SilentlyContinue, Ignore or Stop.",
        aliases=("wa",),
        choices=ACTION_PREFERENCES,
    ),
    Parameter(
        "ErrorVariable",
        "error_variable",
        "String",
        "A variable name (or, from Python, a list) that collects the errors.",
        aliases=("ev",),
    ),
    Parameter(
        "WarningVariable",
        "warning_variable",
        "String",
        "A variable name (or, from Python, a list) that collects the warning messages.",
        aliases=("wv",),
    ),
    Parameter(
        "OutVariable",
        "out_variable",
        "String",
        "A variable name (or, from Python, a list) that collects the outputs.",
        aliases=("ov",),
    ),
    Parameter(
        "OutBuffer",
        "OutBuffer",  # no Python keyword of its own: its range error names the parameter alone
        "Int32",
        "Accepted (0 to 2147483647); outputs are handed on one at a time, which a script cannot "
        "tell from PowerShell's buffering.",
        aliases=("ob",),
        minimum=0,
        maximum=2**31 - 1,
    ),
    Parameter(
        "InformationAction",
        "information_action",
        "ActionPreference",
        "What becomes of information records (Request-ChatCompletion -Stream's text; no other "
        "command writes any): Continue writes them on the host as they come; the default, as "
        "PowerShell's, is SilentlyContinue.",
        aliases=("infa",),
        choices=ACTION_PREFERENCES,
    ),
    Parameter(
        "InformationVariable",
        "information_variable",
        "String",
        "A variable name (or, from Python, a list) that collects the information records "
        "(Request-ChatCompletion -Stream's text); created empty for the other commands.",
        aliases=("iv",),
    ),
    Parameter(
        "PipelineVariable",
        "pipeline_variable",
        "String",
        "A variable name that holds the current output object.",
        aliases=("pv",),
    ),
    Parameter(
        "ProgressAction",
        "progress_action",
        "ActionPreference",
        "SilentlyContinue or Ignore turns the progress line off.",
        aliases=("proga",),
        choices=ACTION_PREFERENCES,
    ),
)


class CommonParameters(Record):
    """The common parameters of one invocation."""

    verbose: bool = False
    debug: bool = False
    error_action: str = "Continue"
    warning_action: str = "Continue"
    error_variable: Any = None
    warning_variable: Any = None
    out_variable: Any = None
    information_action: str = _INFORMATION_PREFERENCE
    information_variable: Any = None
    pipeline_variable: Any = None
    progress_action: str = "Continue"


class Bound:
    """The result of binding: values by PowerShell name, the common parameters, the execution
    parameters (ThrottleLimit, WhatIf, Confirm) by name, and the pipeline input."""

    __slots__ = ("command", "common", "execution", "pipeline", "values")

    def __init__(
        self,
        command: Command,
        values: dict[str, Any] | None = None,
        common: CommonParameters | None = None,
        pipeline: Iterable[Any] | None = None,
        execution: dict[str, Any] | None = None,
    ) -> None:
        self.command = command
        self.values: dict[str, Any] = {} if values is None else values
        self.common = CommonParameters() if common is None else common
        self.pipeline = pipeline
        self.execution: dict[str, Any] = {} if execution is None else execution

    def kwargs(self) -> dict[str, Any]:
        """The bound values by the library functions' keyword names."""
        return {self.command.parameter(name).python_name: value for name, value in self.values.items()}


def _candidates(command: Command) -> tuple[Parameter, ...]:
    return command.parameters + command.execution_parameters + COMMON_PARAMETERS


def resolve_parameter(command: Command, name: str) -> Parameter:
    """The parameter a (possibly abbreviated, any-case) name means, as PowerShell resolves it.

    A prefix that matches several parameters goes to the original command's own parameters
    first, then to the port's additions to the table, then to the execution parameters
    (ThrottleLimit, WhatIf, Confirm) and the common parameters: so ``-C`` stays CompletionId and
    ``-T`` TimeoutSec in a script written for the original.  It is ambiguous only when several
    match in the first tier that has any match.
    """
    wanted = name.lower()
    candidates = _candidates(command)
    for p in candidates:
        if any(n.lower() == wanted for n in p.names):
            return p
    matches = [p for p in candidates if any(n.lower().startswith(wanted) for n in p.names)]
    if not matches:
        hint = _did_you_mean(name, candidates)
        raise ParameterBindingError(
            name, f"A parameter cannot be found that matches parameter name '{name}'.{hint}"
        )
    for tier in _tiers(command):
        found = [p for p in matches if p.name in tier]
        if len(found) == 1:
            return found[0]
        if found:
            matches = found
            break
    listed = " ".join(f"-{p.name}" for p in matches)
    raise ParameterBindingError(
        name,
        f"Parameter cannot be processed because the parameter name '{name}' is ambiguous. "
        f"Possible matches include: {listed}.",
    )


def _did_you_mean(name: str, candidates: tuple[Parameter, ...]) -> str:
    """`` Did you mean -MetaData?`` for the parameter whose name or alias is nearest to a mistyped
    one (as a mistyped command gets), or nothing.  PowerShell says no more than that the name
    matches nothing; a command line typed by hand gains from the hint, and it names only a
    parameter of the command, so it never repeats what was typed."""
    import difflib

    by_name = {n.lower(): p.name for p in candidates for n in p.names}
    close = difflib.get_close_matches(name.lower(), list(by_name), n=1, cutoff=0.75)
    return f" Did you mean -{by_name[close[0]]}?" if close else ""


def _tiers(command: Command) -> tuple[set[str], ...]:
    """Parameter names in the order a shared prefix prefers them."""
    own = {p.name for p in command.parameters}
    added = set(command.additions)
    return (
        own - added,
        own & added,
        {p.name for p in command.execution_parameters} | {p.name for p in COMMON_PARAMETERS},
    )


_INT = LazyPattern(r"\s*[+-]?\d+\s*")


def convert(p: Parameter, value: Any, *, from_text: bool) -> Any:
    """Convert a value to the parameter's type as PowerShell's binder would."""
    if p.type_name == "SwitchParameter":
        if value is SWITCH_PRESENT:
            return True
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "$true", "false", "$false"):
            return value.lower().lstrip("$") == "true"
        raise _cannot_convert(p, value, "System.Management.Automation.SwitchParameter")
    if value is None and p.name in ("ApiKey", "Organization"):
        # PowerShell binds $null to these as an empty value, which the settings resolution
        # reads as "given empty": the context is passed over (ParseCommonParams).
        return ""
    if value is None and p.name in ("TimeoutSec", "MaxRetryCount", "ApiVersion"):
        # PowerShell binds $null to an [int] as 0 and to a [string] as '': given, so they win
        # over the context as any bound value does in ParseCommonParams.
        return "" if p.name == "ApiVersion" else 0
    if value is SWITCH_PRESENT:  # a Python caller passing the marker to a valued parameter
        raise ParameterBindingError(
            p.name,
            f"Missing an argument for parameter '{p.name}'. Specify a parameter of type "
            f"'{_dotnet_type(p)}' and try again.",
        )
    if p.type_name == "Int32":
        # As PowerShell converts to Int32 (LanguagePrimitives): $true is 1 and $false 0, '' is 0.
        if isinstance(value, str) and from_text and value.lower() in ("$true", "$false"):
            value = value.lower() == "$true"
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and not value:
            return 0
        if isinstance(value, str) and _INT.fullmatch(value):
            # Past 100 digits it is out of range anyway (and int() refuses past 4300).
            value = int(value) if len(value) <= 100 else 2**100
        elif isinstance(value, str):
            # As PowerShell converts a number to Int32: 0x10 is 16, 1kb 1024, 3.0 is 3, and a
            # fraction rounds half to even (2.5 is 2, 3.5 is 4).
            number = parse_number(value)
            if number is None or isinstance(number, bool):
                raise ParameterTypeError(
                    p.name,
                    f"Cannot process argument transformation on parameter '{p.name}'. Cannot "
                    f'convert value "{value}" to type "System.Int32". Error: "Input string '
                    'was not in a correct format."',
                )
            value = number
        if isinstance(value, float) and value == value and abs(value) != float("inf"):
            value = round(value)
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**31) <= value < 2**31:
            raise ParameterTypeError(
                p.name,
                f"Cannot process argument transformation on parameter '{p.name}'. Cannot "
                f'convert value "{value if value.bit_length() <= 128 else "(a huge integer)"}" to type '
                '"System.Int32". Error: "Value was either too large or too small for an Int32."',
            )
        return value
    if p.type_name == "Double":
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise ParameterTypeError(
                    p.name,
                    f"Cannot process argument transformation on parameter '{p.name}'. "
                    f'Cannot convert value "{value}" to type "System.Double".',
                ) from None
        return value
    if p.type_name == "IDictionary":
        if isinstance(value, str) and from_text:
            value = _parse(p, value)
        if value is not None and not isinstance(value, Mapping):
            raise _cannot_convert(p, value, "System.Collections.IDictionary")
        return value
    if p.type_name == "Object" and isinstance(value, str) and from_text:
        return _parse(p, value) if value.lstrip().startswith("@") else value
    if (
        p.type_name in ("String", "Uri", "OpenAIApiType", "ActionPreference")
        and from_text
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        return str(value)
    return value


def _parse(p: Parameter, text: str) -> Any:
    try:
        return parse_argument(text)
    except PowerShellSyntaxError as exc:
        raise ParameterBindingError(
            p.name, f"Cannot process argument transformation on parameter '{p.name}'. {exc}"
        ) from None


def _dotnet_type(p: Parameter) -> str:
    return {
        "String": "System.String",
        "Int32": "System.Int32",
        "Uri": "System.Uri",
        "IDictionary": "System.Collections.IDictionary",
        "Object": "System.Object",
        "ActionPreference": "System.Management.Automation.ActionPreference",
        "OpenAIApiType": "OpenAIApiType",
    }.get(p.type_name, p.type_name)


def _cannot_convert(p: Parameter, value: Any, target: str) -> ParameterTypeError:
    return ParameterTypeError(
        p.name,
        f"Cannot process argument transformation on parameter '{p.name}'. Cannot convert "
        f'the "{value}" value of type "{type(value).__name__}" to type "{target}".',
    )


def _common(values: dict[str, Any]) -> CommonParameters:
    def preference(name: str, default: str = "Continue") -> str:
        given = values.get(name)
        if given is None:
            return default
        for choice in ACTION_PREFERENCES:
            if str(given).lower() == choice.lower():
                return choice
        raise ParameterBindingError(
            name,
            f"Cannot bind parameter '{name}'. Cannot convert value \"{given}\" to type "
            f'"System.Management.Automation.ActionPreference". The possible enumeration '
            f'values are "{", ".join(ACTION_PREFERENCES)}".',
        )

    out_buffer = next(p for p in COMMON_PARAMETERS if p.name == "OutBuffer")
    check_int(out_buffer, values.get("OutBuffer"))  # PowerShell's ValidateRange(0, Int32.MaxValue)
    return CommonParameters(
        verbose=bool(values.get("Verbose", False)),
        debug=bool(values.get("Debug", False)),
        error_action=preference("ErrorAction"),
        warning_action=preference("WarningAction"),
        error_variable=values.get("ErrorVariable"),
        warning_variable=values.get("WarningVariable"),
        out_variable=values.get("OutVariable"),
        information_action=preference("InformationAction", _INFORMATION_PREFERENCE),
        information_variable=values.get("InformationVariable"),
        pipeline_variable=values.get("PipelineVariable"),
        progress_action=preference("ProgressAction"),
    )


def bind(
    command: Command,
    named: Iterable[tuple[str, Any]] = (),
    positional: Iterable[Any] = (),
    *,
    from_text: bool = False,
    pipeline: Iterable[Any] | None = None,
) -> Bound:
    """Bind named and positional arguments to the command's parameters.

    ``from_text`` says the values are text from a shell or a command line, to be converted.
    ``pipeline`` is the pipeline input, if any: it satisfies the mandatory pipeline parameter.
    """
    values: dict[str, Any] = {}
    common_values: dict[str, Any] = {}
    execution: dict[str, Any] = {}
    common_names = {p.name for p in COMMON_PARAMETERS}
    execution_names = {p.name for p in command.execution_parameters}
    for name, value in named:
        p = resolve_parameter(command, name)
        target = (
            common_values if p.name in common_names else execution if p.name in execution_names else values
        )
        if p.name in target:
            raise ParameterBindingError(
                p.name, f"Cannot bind parameter because parameter '{p.name}' is specified more than once."
            )
        target[p.name] = convert(p, value, from_text=from_text)
    open_positions = [
        p
        for p in sorted(
            (p for p in command.parameters if p.position is not None), key=lambda p: p.position or 0
        )
        if p.name not in values
    ]
    for value in positional:
        if not open_positions:
            raise ParameterBindingError(
                "", f"A positional parameter cannot be found that accepts argument '{value}'."
            )
        p = open_positions.pop(0)
        values[p.name] = convert(p, value, from_text=from_text)
    _check_bound_ids(command, values)
    list_form = [n for n in command.list_parameters if n in values]
    pipe_names = [p.name for p in command.parameters if p.pipeline_by_value or p.pipeline_by_property]
    if list_form and any(n in values for n in pipe_names):
        # The original's parameter sets: the id (Get) cannot go with a list parameter (List).
        raise ParameterBindingError(list_form[0], PARAMETER_SET_MESSAGE)
    if pipeline is not None and pipe_names:
        # A piped item binds only to a pipeline parameter not already bound: by value, or by
        # property name when it has such a property.  One that cannot bind is PowerShell's
        # binding error for that item, and nothing is sent for it.  The list form takes no
        # pipeline input at all.
        free = [] if list_form else [p for p in command.parameters if p.name not in values]
        if not any(p.pipeline_by_value for p in free):  # else every item binds, as it is
            pipeline = _bindable(free, pipeline)
    missing = [
        p.name
        for p in command.parameters
        if p.mandatory
        and p.name not in values
        and not (pipeline is not None and (p.pipeline_by_value or p.pipeline_by_property))
    ]
    if missing:
        raise ParameterBindingError(
            missing[0],
            "Cannot process command because of one or more missing mandatory "
            f"parameters: {' '.join(missing)}.",
        )
    return Bound(command, values, _common(common_values), pipeline, execution)


PARAMETER_SET_MESSAGE = (
    "Parameter set cannot be resolved using the specified named parameters. One or more "
    "parameters issued cannot be used together or an insufficient number of parameters were "
    "provided."
)
PIPELINE_INPUT_MESSAGE = (
    "The input object cannot be bound to any parameters for the command either because the "
    "command does not take pipeline input or the input and its properties do not match any of "
    "the parameters that take pipeline input."
)


def _bindable(free: list[Parameter], items: Iterable[Any]) -> Iterator[Any]:
    """The piped items, each one that cannot bind to a ``free`` parameter by property name
    replaced by its binding error (an item error: ErrorAction decides)."""
    by_property = [n.lower() for p in free if p.pipeline_by_property for n in p.names]
    for item in items:
        if isinstance(item, ParameterBindingError) or _has_property(item, by_property):
            yield item
        else:
            error = ParameterBindingError("InputObject", PIPELINE_INPUT_MESSAGE)
            error.TargetObject = item  # type: ignore[attr-defined]  # as PowerShell's record: the input
            yield error


def _has_property(item: Any, names: list[str]) -> bool:
    """Whether a piped object has a property of one of these (lower-case) names."""
    if not names or item is None or isinstance(item, (str, bytes, int, float)):
        return False
    keys = item.keys() if isinstance(item, Mapping) else [a for a in dir(item) if not a.startswith("_")]
    return any(isinstance(k, str) and k.lower() in names for k in keys)


def _check_bound_ids(command: Command, values: Mapping[str, Any]) -> None:
    """An id given by name or position is checked when it is bound, as PowerShell's
    ValidateNotNullOrEmpty does: a bad one fails the command, before any settings lookup, and
    no ErrorAction hides it."""
    for p in command.parameters:
        if p.name != "CompletionId" or p.name not in values:
            continue
        value = values[p.name]
        if value is None or (isinstance(value, str) and not value.strip()):
            bind_completion_id(p, value)  # raises the id's own message
    message = next((p for p in command.parameters if p.name == "Message" and p.name in values), None)
    if message is not None and values[message.name] in (None, ""):
        raise ParameterBindingError(
            message.name,
            f"Cannot validate argument on parameter '{message.name}'. The argument is null or "
            "empty. Provide an argument that is not null or empty, and then try the command again.",
        )
