"""Every public command has its Docs/ page, and every page equals its command's table."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from psopenai_py.commands import units
from psopenai_py.parameters import Command
from tests.docs_check import page_problems

COMMANDS = tuple(unit.table for unit in units())

DOCS = Path(__file__).resolve().parents[1] / "Docs"


def test_one_page_per_command_and_no_stray_pages():
    # about_<Topic> pages are conceptual (PowerShell's about_ help topics), not command pages.
    pages = [p.stem for p in DOCS.glob("*.md") if not p.stem.startswith("about_")]
    assert sorted(pages) == sorted(c.name for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_page_matches_table(command: Command):
    problems = page_problems(command, (DOCS / f"{command.name}.md").read_text(encoding="utf-8"))
    assert problems == []


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_function_signature_matches_table(command: Command):
    import psopenai_py

    function = getattr(psopenai_py, command.python_name)
    signature = inspect.signature(function)
    assert list(signature.parameters) == [p.python_name for p in command.parameters]
    for p in command.parameters:
        parameter = signature.parameters[p.python_name]
        positional = parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        assert positional == (p.position is not None or p.mandatory), p.name
        if not p.mandatory:
            # None means "not given: resolve it"; a switch defaults to its documented value.
            assert parameter.default in (None, p.default), p.name
    assert function.__doc__


def _mutations(text: str) -> list[tuple[str, str]]:
    return [
        ("optional MetaData", text.replace("    -MetaData <IDictionary>", "    [-MetaData <IDictionary>]")),
        (
            "alias dropped",
            text.replace("Aliases: Completion, completion_id, InputObject, Id", "Aliases: Completion, Id"),
        ),
        ("position", text.replace("Position: 0", "Position: 1")),
        ("default", text.replace("Default value: 0", "Default value: 3", 1)),
        ("required", text.replace("Required: True", "Required: False", 1)),
        ("parameter removed", text.replace("### -AdditionalBody", "### -Unrelated")),
        ("python name", text.replace("Python: `max_retry_count=`", "Python: `retries=`")),
        ("section missing", text.replace("## NOTES", "## Remarks")),
    ]


@pytest.mark.parametrize("what", [m[0] for m in _mutations("")])
def test_the_check_catches_drift(what):
    command = next(c for c in COMMANDS if c.name == "Set-ChatCompletion")
    text = (DOCS / "Set-ChatCompletion.md").read_text(encoding="utf-8")
    mutated = dict(_mutations(text))[what]
    assert mutated != text
    assert page_problems(command, mutated) != []


def test_lazy_public_names_resolve():
    module = importlib.import_module("psopenai_py")
    for name in module.__all__:
        assert getattr(module, name) is not None or name.startswith("OPENAI_"), name
