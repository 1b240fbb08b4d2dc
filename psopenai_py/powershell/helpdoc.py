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
    "list_topics",
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


def list_topics() -> list[tuple[str, str]]:
    """The installed ``about_`` topics, each with the first sentence of its SHORT DESCRIPTION (cut
    to fit a line)."""
    from importlib import resources

    try:
        entries = sorted(entry.name for entry in resources.files(PAGES_PACKAGE).iterdir())
    except (ModuleNotFoundError, OSError):
        return []
    topics = []
    for entry in entries:
        if entry.lower().startswith("about_") and entry.endswith(".md"):
            name = entry[: -len(".md")]
            try:
                short = " ".join(_section(read_page(name), "SHORT DESCRIPTION").split())
            except FileNotFoundError:
                short = ""
            topics.append((name, _shortened(short.split(". ", 1)[0].rstrip("."))))
    return topics


def _shortened(text: str, width: int = 72) -> str:
    """``text`` cut at a word boundary to fit one line of a listing."""
    if len(text) <= width:
        return text
    return text[: text.rfind(" ", 0, width - 3)].rstrip(" ,;(") + "..."


def render_topic(name: str) -> str:
    """An ``about_`` topic as Get-Help shows one: its title, then each section's plain text."""
    text = read_page(name)
    sections = re.findall(r"^## ([^\n]+)\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    out = [f"TOPIC\n    {name}"] + [f"{title}\n{_plain(body)}" for title, body in sections]
    return "\n\n".join(out) + "\n"


def _section(text: str, name: str) -> str:
    match = re.search(rf"^## {re.escape(name)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    return match.group(1).strip("\n") if match else ""


_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
"""A Markdown link, ``[text](target)``."""


def _link(match: re.Match[str]) -> str:
    """A link as Get-Help shows one: another page by its name, a web page as text and address."""
    text, target = match.groups()
    if "://" not in target and target.endswith(".md"):
        return text
    return target if text == target else f"{text}: {target}"


def _plain(markdown: str, indent: str = "    ", *, compact: bool = False) -> str:
    """Markdown as terminal text: no code fences, no ``###``, links rendered (outside code);
    ``compact`` drops blank lines (a list of links)."""
    lines = []
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if not in_code:
            if line.startswith("### "):
                line = line[4:]
            line = _LINK.sub(_link, line)
        if compact and not line.strip():
            continue
        lines.append((indent + line).rstrip())
    return "\n".join(lines).strip("\n")


_EXAMPLE = re.compile(r"^### Example \d+:?[ \t]*", re.M)
_COMMAND_LINE_FENCES = ("```sh", "```powershell", "```pwsh", "```ps1", "```console", "```bat", "```cmd")


def _examples(page_text: str, command: Command) -> str:
    """The EXAMPLES section with the command's PowerShell form first: the examples that write
    the command by its PowerShell name (a command line, or ``invoke("Set-...")`` and the
    shim's ``Set_...(...)`` from Python) before the Python-function ones, each group in page
    order, numbered again.  A page is written for every reader; ``help -Examples`` is asked
    for by someone who speaks the command's PowerShell name."""
    section = _section(page_text, "EXAMPLES")
    starts = [m.start() for m in _EXAMPLE.finditer(section)]
    if not starts:
        return _plain(section)
    head = section[: starts[0]]
    bodies = [section[a:b] for a, b in zip(starts, [*starts[1:], len(section)], strict=True)]
    ordered = sorted(bodies, key=lambda body: not _powershell_form(body, command))
    renumbered = [
        _EXAMPLE.sub(f"### Example {number}: ", body, count=1).rstrip("\n") + "\n"
        for number, body in enumerate(ordered, start=1)
    ]
    return _plain(head + "\n".join(renumbered))


def _powershell_form(example: str, command: Command) -> bool:
    """Whether an example writes ``command`` by its PowerShell name."""
    shim = command.name.replace("-", "_")
    if any(line.startswith(_COMMAND_LINE_FENCES) for line in example.splitlines()):
        return command.name.lower() in example.lower()
    return f'invoke("{command.name}' in example or f"{shim}(" in example


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
            from ..scrub import mask_keys  # a key pasted as the name: never quoted whole

            return f"No parameter of {command.name} matches '{mask_keys(parameter)}'.\n"
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
        out = [*out[:2], f"EXAMPLES\n{_examples(page_text, command)}"]
    else:
        out.append(f"DESCRIPTION\n{_plain(_section(page_text, 'DESCRIPTION'))}")
        if mode == "full":
            params = "\n\n".join(
                render_help(command, parameter=p.name, page_text=page_text)[len("PARAMETERS\n") :].rstrip()
                for p in command.documented_parameters
            )
            out += [
                f"PARAMETERS\n{params}",
                f"EXAMPLES\n{_examples(page_text, command)}",
                f"INPUTS\n{_plain(_section(page_text, 'INPUTS'))}",
                f"OUTPUTS\n{_plain(_section(page_text, 'OUTPUTS'))}",
                f"NOTES\n{_plain(_section(page_text, 'NOTES'))}",
            ]
        out.append(f"RELATED LINKS\n{_plain(_section(page_text, 'RELATED LINKS'), compact=True)}")
        if mode == "default":
            out.append(
                f'REMARKS\n    To see the examples, type: "psopenai help {command.name} '
                f'-Examples".\n    For all the details, type: "psopenai help '
                f'{command.name} -Full".'
            )
    return "\n\n".join(out) + "\n"
