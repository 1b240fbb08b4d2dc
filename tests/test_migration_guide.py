"""The migration guide's PowerShell lines are real PSOpenAI, and its psopenai lines bind.

Every ``powershell`` block of ``Docs/about_Migrating.md`` is what a PSOpenAI user writes today, so
each command in it must be a PSOpenAI 4.49.0 command (or a PowerShell cmdlet), given only
parameters that command declares.  The parameters below are PSOpenAI's, read from the param
blocks of its ``Public/Chat/Get-ChatCompletion.ps1`` (lines 4-68), ``Public/Chat/Set-ChatCompletion.ps1``
(lines 4-51) and ``Public/Chat/Remove-ChatCompletion.ps1`` (lines 4-48), names and aliases.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from psopenai_py.commands import find_unit
from psopenai_py.powershell.binding import COMMON_PARAMETERS, resolve_parameter
from psopenai_py.powershell.cli import _tokens

GUIDE = Path(__file__).resolve().parents[1] / "Docs" / "about_Migrating.md"

_SETTINGS = [
    "TimeoutSec",
    "MaxRetryCount",
    "ApiType",
    "ApiBase",
    "ApiVersion",
    "AuthType",
    "ApiKey",
    "Organization",
    "OrgId",
    "AdditionalQuery",
    "AdditionalHeaders",
    "AdditionalBody",
]
_ID = ["CompletionId", "Completion", "completion_id", "Id"]

PSOPENAI_PARAMETERS = {
    "Get-ChatCompletion": {*_ID, "Limit", "All", "After", "Before", "Order", "Primitive", *_SETTINGS},
    "Set-ChatCompletion": {*_ID, "InputObject", "MetaData", *_SETTINGS},
    "Remove-ChatCompletion": {*_ID, "InputObject", *_SETTINGS},
}
"""PSOpenAI 4.49.0's parameters (names and aliases) of the commands the guide shows."""

POWERSHELL_CMDLETS = {"Get-Content", "ForEach-Object", "Where-Object", "ConvertTo-Json", "Set-Content"}
"""PowerShell's own cmdlets the guide may use around PSOpenAI's."""

_COMMAND = re.compile(r"\b([A-Z][a-z]+-[A-Za-z]+)\b")
_PARAMETER = re.compile(r"(?<![\w$])-([A-Za-z_]\w*)")


def _blocks(language: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)


def _invocations(line: str) -> list[tuple[str, list[str]]]:
    """Each command of a PowerShell line with the parameter names given to it (up to the next
    pipe, brace or semicolon)."""
    found = []
    for segment in re.split(r"[|{};]", line):
        words = _COMMAND.findall(segment)
        if words:
            found.append((words[0], _PARAMETER.findall(segment.split(words[0], 1)[1])))
    return found


POWERSHELL_LINES = [line for block in _blocks("powershell") for line in block.splitlines() if line.strip()]


def test_the_guide_has_powershell_lines():
    assert len(POWERSHELL_LINES) >= 5


@pytest.mark.parametrize("line", POWERSHELL_LINES)
def test_each_powershell_line_is_real_psopenai(line):
    common = {name.lower() for p in COMMON_PARAMETERS for name in p.names}
    invocations = _invocations(line)
    assert invocations, line
    for command, parameters in invocations:
        if command in POWERSHELL_CMDLETS:
            continue
        assert command in PSOPENAI_PARAMETERS, f"{command} is not a PSOpenAI command: {line}"
        known = {name.lower() for name in PSOPENAI_PARAMETERS[command]} | common
        unknown = [p for p in parameters if p.lower() not in known]
        assert unknown == [], f"PSOpenAI's {command} has no {unknown}: {line}"


def test_psopenai_parameters_above_are_in_the_port_tables():
    """The port keeps every PSOpenAI parameter named here (so the guide's PowerShell lines also
    run as ``psopenai`` lines)."""
    for command, names in PSOPENAI_PARAMETERS.items():
        table = find_unit(command).table
        for name in names:
            assert resolve_parameter(table, name).name in {p.name for p in table.parameters}, (command, name)


def _psopenai_lines() -> list[str]:
    """The guide's ``psopenai <Verb-Noun> ...`` command lines (continuations joined)."""
    lines = []
    for block in _blocks("sh"):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            for part in line.split("|"):
                part = part.split("#", 1)[0].strip()
                if re.match(r"psopenai [A-Z][a-z]+-", part):
                    lines.append(part)
    return lines


@pytest.mark.parametrize("line", _psopenai_lines())
def test_each_psopenai_line_names_parameters_its_command_has(line):
    import shlex

    words = shlex.split(line)[1:]
    table = find_unit(words[0]).table
    for token in _tokens([w for w in words[1:] if not w.startswith("--format")]):
        name = getattr(token, "name", None)
        if name is not None:
            resolve_parameter(table, name)  # raises when the command has no such parameter
