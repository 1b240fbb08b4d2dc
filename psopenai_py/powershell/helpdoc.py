"""The parts of a ``Docs/<Verb>-<Noun>.md`` help page that follow from a parameter table.

The pages are written by hand in platyPS layout; the SYNTAX block and each parameter's yaml block
must equal what these functions render from :mod:`psopenai_py.parameters`, which the test suite
checks, so a page cannot drift from the code.
"""

from __future__ import annotations

import re

from ..parameters import Command, Parameter

__all__ = [
    "find_topic",
    "read_page",
    "render_help",
    "render_parameter_block",
    "render_syntax",
    "render_topic",
]

FENCE = "```"


def _syntax_item(p: Parameter) -> str:
    value = "" if p.type_name == "SwitchParameter" else f" <{p.type_name}>"
    name = f"[-{p.name}]" if p.position is not None else f"-{p.name}"
    item = f"{name}{value}"
    return item if p.mandatory else f"[{item}]"


def render_syntax(command: Command) -> str:
    """The SYNTAX code block's text: the command, then one indented line per visible parameter."""
    visible = [p for p in command.documented_parameters if not p.hidden]
    ordered = sorted(visible, key=lambda p: (p.position is None, p.position or 0))
    lines = [command.name] + [f"    {_syntax_item(p)}" for p in ordered]
    lines.append("    [<CommonParameters>]")
    return "\n".join(lines)


def render_parameter_block(p: Parameter) -> str:
    """The yaml block under ``### -Name``, as platyPS writes it."""
    lines = [f"Type: {p.type_name}", "Parameter Sets: (All)"]
    if p.aliases:
        lines.append(f"Aliases: {', '.join(p.aliases)}")
    if p.choices:
        lines.append(f"Accepted values: {', '.join(p.choices)}")
    lines += [
        "",
        f"Required: {p.mandatory}",
        f"Position: {p.doc_position}",
        f"Default value: {p.doc_default}",
        f"Accept pipeline input: {p.doc_pipeline}",
        "Accept wildcard characters: False",
    ]
    return "\n".join(lines)


def python_line(p: Parameter, command: Command | None = None) -> str:
    """The line of a parameter's description that names its Python keyword (execution
    parameters exist in the shim and the CLI only)."""
    if command is not None and p in command.execution_parameters:
        return f"Python: the shim's `{p.name}=` (not a keyword of `{command.python_name}`)"
    return f"Python: `{p.python_name}=`"


# -- help in the terminal, like Get-Help ----------------------------------------------------------


PAGES_PACKAGE = "psopenai_py.docs"
"""The package that carries the help pages, so every kind of install (a wheel, ``--user``,
``--target``, editable, a zip on ``sys.path``) reads them the same way, through
:mod:`importlib.resources`; ``Docs/`` is their source (see that package's docstring)."""


def read_page(name: str) -> str:
    """The text of the help page ``name`` (``Set-ChatCompletion``, ``about_...``).

    Raises :class:`FileNotFoundError` with a one-line message when the install carries no such
    page: help without its page would print empty sections and look like success.
    """
    from importlib import resources

    try:
        page = resources.files(PAGES_PACKAGE) / f"{name}.md"
        return page.read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError) as error:
        raise FileNotFoundError(
            f"the help page {name}.md is not installed with psopenai_py "
            f"(looked in {PAGES_PACKAGE}); reinstall the package"
        ) from error


def find_topic(name: str) -> str | None:
    """The proper name of the installed ``about_`` help topic ``name`` (any case), or None."""
    from importlib import resources

    if not name.lower().startswith("about_"):
        return None
    try:
        entries = [entry.name for entry in resources.files(PAGES_PACKAGE).iterdir()]
    except (ModuleNotFoundError, OSError):
        return None
    wanted = f"{name.lower()}.md"
    return next((entry[: -len(".md")] for entry in entries if entry.lower() == wanted), None)


def render_topic(name: str) -> str:
    """An ``about_`` topic as Get-Help shows one: its title, then each section's plain text."""
    text = read_page(name)
    sections = re.findall(r"^## ([^\n]+)\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    out = [f"TOPIC\n    {name}"] + [f"{title}\n{_plain(body)}" for title, body in sections]
    return "\n\n".join(out) + "\n"


def _section(text: str, name: str) -> str:
    match = re.search(rf"^## {re.escape(name)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    return match.group(1).strip("\n") if match else ""


def _plain(markdown: str, indent: str = "    ") -> str:
    lines = []
    for line in markdown.splitlines():
        if line.startswith("```"):
            continue
        if line.startswith("### "):
            line = line[4:]
        lines.append((indent + line).rstrip())
    return "\n".join(lines).strip("\n")


def render_help(
    command: Command, *, mode: str = "default", parameter: str | None = None, page_text: str | None = None
) -> str:
    """Text help for a terminal: ``mode`` is default, examples or full; or one ``parameter``.

    The page is read from the install (:func:`read_page`, which raises :class:`FileNotFoundError`
    when it is missing) unless ``page_text`` is given; one ``parameter`` needs only the table.
    """
    from fnmatch import fnmatch

    out = [f"NAME\n    {command.name}", f"SYNOPSIS\n    {command.synopsis}"]
    if parameter is not None:
        pattern = parameter.lower()
        chosen = [
            p
            for p in command.documented_parameters
            if fnmatch(p.name.lower(), pattern) or p.name.lower().startswith(pattern)
        ]
        if not chosen:
            return f"No parameter of {command.name} matches '{parameter}'.\n"
        blocks = []
        for p in chosen:
            facts = "\n".join(f"        {line}" for line in render_parameter_block(p).splitlines() if line)
            value = "" if p.type_name == "SwitchParameter" else f" <{p.type_name}>"
            blocks.append(
                f"    -{p.name}{value}\n        {p.description}\n        {python_line(p, command)}\n\n{facts}"
            )
        return "PARAMETERS\n" + "\n\n".join(blocks) + "\n"
    if page_text is None:
        page_text = read_page(command.name)
    syntax = "\n".join("    " + line for line in render_syntax(command).splitlines())
    out.append(f"SYNTAX\n{syntax}")
    if mode == "examples":
        out = [*out[:2], f"EXAMPLES\n{_plain(_section(page_text, 'EXAMPLES'))}"]
    else:
        out.append(f"DESCRIPTION\n{_plain(_section(page_text, 'DESCRIPTION'))}")
        if mode == "full":
            params = "\n\n".join(
                render_help(command, parameter=p.name, page_text=page_text)[len("PARAMETERS\n") :].rstrip()
                for p in command.documented_parameters
            )
            out += [
                f"PARAMETERS\n{params}",
                f"EXAMPLES\n{_plain(_section(page_text, 'EXAMPLES'))}",
                f"INPUTS\n{_plain(_section(page_text, 'INPUTS'))}",
                f"OUTPUTS\n{_plain(_section(page_text, 'OUTPUTS'))}",
                f"NOTES\n{_plain(_section(page_text, 'NOTES'))}",
            ]
        out.append(f"RELATED LINKS\n{_plain(_section(page_text, 'RELATED LINKS'))}")
        if mode == "default":
            out.append(
                f'REMARKS\n    To see the examples, type: "psopenai help {command.name} '
                f'-Examples".\n    For all the details, type: "psopenai help '
                f'{command.name} -Full".'
            )
    return "\n\n".join(out) + "\n"
