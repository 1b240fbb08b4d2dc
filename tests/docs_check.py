"""The check that keeps each ``Docs/`` page equal to its command's parameter table: the page parsed
into its parts, and every way it can disagree with the table."""

from __future__ import annotations

import re

from psopenai_py.parameters import Command
from psopenai_py.powershell.helpdoc import python_line, render_parameter_block, render_syntax

FENCE = "```"


class Page:
    """A parsed help page: front matter, sections, the syntax block and the parameter blocks."""

    def __init__(self, text: str) -> None:
        self.text = text
        match = re.match(r"---\n(.*?)\n---\n", text, re.S)
        self.front_matter = {
            key.strip(): value.strip()
            for key, _, value in (
                line.partition(":") for line in (match.group(1).splitlines() if match else [])
            )
        }
        self.sections = re.findall(r"^## (.+)$", text, re.M)
        self.title = (re.search(r"^# (.+)$", text, re.M) or [None, ""])[1]
        syntax = re.search(r"## SYNTAX\n+(?:### .+\n+)?```\w*\n(.*?)\n```", text, re.S)
        self.syntax = syntax.group(1) if syntax else ""
        self.parameters: dict[str, tuple[str, str]] = {}
        params_part = text.split("## PARAMETERS", 1)[1] if "## PARAMETERS" in text else ""
        params_part = params_part.split("\n## ", 1)[0]
        for name, body in re.findall(r"^### -(\S+)\n(.*?)(?=^### |\Z)", params_part, re.S | re.M):
            block = re.search(r"```yaml\n(.*?)\n```", body, re.S)
            description = body.split(FENCE, 1)[0].strip()
            self.parameters[name] = (description, block.group(1) if block else "")
        self.examples = re.findall(r"^### Example \d+", text, re.M)


def parse_page(text: str) -> Page:
    """Parse a help page's text."""
    return Page(text)


SECTIONS = [
    "SYNOPSIS",
    "SYNTAX",
    "DESCRIPTION",
    "EXAMPLES",
    "PARAMETERS",
    "INPUTS",
    "OUTPUTS",
    "NOTES",
    "RELATED LINKS",
]
FRONT_MATTER_KEYS = ["external help file", "Module Name", "online version", "schema"]


def page_problems(command: Command, text: str) -> list[str]:
    """Every way a help page disagrees with its command's table (empty when they agree)."""
    page = parse_page(text)
    problems: list[str] = []
    missing = [k for k in FRONT_MATTER_KEYS if k not in page.front_matter]
    if missing:
        problems.append(f"front matter lacks {missing}")
    if page.title != command.name:
        problems.append(f"title is {page.title!r}, not {command.name!r}")
    if page.sections != SECTIONS:
        problems.append(f"sections are {page.sections}, expected {SECTIONS}")
    synopsis = text.split("## SYNOPSIS\n", 1)[-1].split("\n## ", 1)[0].strip()
    if synopsis != command.synopsis:
        problems.append(f"SYNOPSIS is {synopsis!r}, the table says {command.synopsis!r}")
    if page.syntax != render_syntax(command):
        problems.append(
            f"SYNTAX differs from the table:\n{page.syntax}\n--- expected ---\n{render_syntax(command)}"
        )
    if not page.examples:
        problems.append("no ### Example")
    documented = [name for name in page.parameters if name != "CommonParameters"]
    expected = [p.name for p in command.documented_parameters]
    if documented != expected:
        problems.append(f"PARAMETERS lists {documented}, the table has {expected}")
    for p in command.documented_parameters:
        if p.name not in page.parameters:
            continue
        description, block = page.parameters[p.name]
        if block != render_parameter_block(p):
            problems.append(
                f"-{p.name}: yaml block differs:\n{block}\n--- expected ---\n{render_parameter_block(p)}"
            )
        if python_line(p, command) not in description:
            problems.append(f"-{p.name}: description lacks {python_line(p, command)!r}")
        if p.description not in description:
            problems.append(f"-{p.name}: description differs from the table's")
    return problems
