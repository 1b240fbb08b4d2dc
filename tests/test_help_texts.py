"""Help for someone new to the command line: a mistyped parameter gets its nearest name, the
listing shows the about_ topics, related links read as names and addresses, ``-Examples`` leads
with the PowerShell form, and -Confirm offers only the answers it can carry out."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from psopenai_py.commands import units
from psopenai_py.compat import Get_ChatCompletion, Set_ChatCompletion
from psopenai_py.errors import ParameterBindingError
from psopenai_py.powershell.cli import main
from psopenai_py.powershell.host import Host
from psopenai_py.powershell.terminal import NoTerminalError

DOCS = Path(__file__).resolve().parents[1] / "Docs"
COMMANDS = [unit.table.name for unit in units()]


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


# -- a mistyped parameter ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "typed", "meant"),
    [
        ("Set-ChatCompletion", "Metdata", "MetaData"),
        ("Set-ChatCompletion", "metadta", "MetaData"),
        ("Set-ChatCompletion", "CompletionIdd", "CompletionId"),
        ("Set-ChatCompletion", "Organisation", "Organization"),
        ("Set-ChatCompletion", "ErrorActoin", "ErrorAction"),
        ("Set-ChatCompletion", "ThrotleLimit", "ThrottleLimit"),
        ("Get-ChatCompletion", "Modle", "Model"),
        ("Get-ChatCompletion", "completion_idd", "CompletionId"),  # near an alias: its parameter
        ("Set-ChatCompletion", "Fooo", None),
        ("Set-ChatCompletion", "x", None),
    ],
)
def test_a_mistyped_parameter_gets_the_nearest_name(command, typed, meant):
    status, out, err = _run(command, "chatcmpl-x", f"-{typed}", "@{}")
    assert status == 2 and out == ""
    first = f"{command}: A parameter cannot be found that matches parameter name '{typed}'."
    if meant is None:
        assert err == first + "\n"
    else:
        assert err == f"{first} Did you mean -{meant}?\n"


def test_the_shim_gives_the_same_hint():
    with pytest.raises(ParameterBindingError, match=r"'Metdata'\. Did you mean -MetaData\?$"):
        Set_ChatCompletion("chatcmpl-x", Metdata={})
    with pytest.raises(ParameterBindingError, match=r"Did you mean -Model\?$"):
        Get_ChatCompletion(Modle="gpt-4o")


# -- the listing and the topics ---------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["help"], []], ids=["psopenai help", "psopenai"])
def test_the_listing_names_every_about_topic(argv):
    status, out, _ = _run(*argv)
    assert status == 0
    topics = sorted(p.stem for p in DOCS.glob("about_*.md"))
    assert topics, "no about_ page"
    listed = out.split("\ntopics (psopenai help <topic>):\n", 1)[1]
    for topic in topics:
        assert re.search(rf"^  {topic} +\S", listed, re.M), out
        assert _run("help", topic)[0] == 0  # what is listed can be asked for
    assert max(len(line) for line in listed.splitlines()) <= 110


# -- related links ----------------------------------------------------------------------------------


def _related(text: str) -> list[str]:
    section = text.split("\nRELATED LINKS\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in section.splitlines()]


@pytest.mark.parametrize("command", COMMANDS)
def test_related_links_are_names_and_addresses_not_markdown(command):
    status, out, _ = _run("help", command)
    assert status == 0
    shown = _related(out)
    page = (DOCS / f"{command}.md").read_text(encoding="utf-8").split("## RELATED LINKS", 1)[1]
    expected = [
        text if target.endswith(".md") else f"{text}: {target}"
        for text, target in re.findall(r"\[([^\]]+)\]\(([^)]+)\)", page)
    ]
    assert shown == expected
    assert not any("](" in line or line.startswith("[") for line in shown)


def test_a_related_page_named_can_be_asked_for():
    for command in COMMANDS:
        for name in _related(_run("help", command)[1]):
            if ": http" not in name:
                assert _run("help", name)[0] == 0, (command, name)


# -- -Examples leads with the PowerShell form --------------------------------------------------------


def _examples(command: str, mode: str = "-Examples") -> list[tuple[int, str, str]]:
    """(number, title, text) of each example ``psopenai help <command> <mode>`` shows."""
    status, out, _ = _run("help", command, mode)
    assert status == 0
    section = out.split("\nEXAMPLES\n", 1)[1].split("\nINPUTS\n", 1)[0]
    found = re.split(r"^    Example (\d+): (.*)$", section, flags=re.M)[1:]
    return [(int(found[i]), found[i + 1], found[i + 2]) for i in range(0, len(found), 3)]


def _writes_the_command(command: str, text: str) -> bool:
    return (
        f"psopenai {command}".lower() in text.lower()
        or f'invoke("{command}' in text
        or f"{command.replace('-', '_')}(" in text
    )


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("mode", ["-Examples", "-Full"])
def test_examples_lead_with_the_powershell_form(command, mode):
    examples = _examples(command, mode)
    assert [number for number, _, _ in examples] == list(range(1, len(examples) + 1))
    _, title, text = examples[0]
    assert _writes_the_command(command, text), (command, title)
    forms = [_writes_the_command(command, text) for _, _, text in examples]
    assert forms == sorted(forms, reverse=True), "a PowerShell-form example after a Python one"
    # Every example of the page is there, once, in its page order within its group.
    page = (DOCS / f"{command}.md").read_text(encoding="utf-8")
    titles = re.findall(r"^### Example \d+: (.*)$", page, re.M)
    assert sorted(title for _, title, _ in examples) == sorted(titles)
    for group in (True, False):
        shown = [title for (_, title, text), form in zip(examples, forms, strict=True) if form is group]
        assert shown == [t for t in titles if t in shown]


def test_the_set_page_leads_with_the_command_line():
    (number, title, text), *_ = _examples("Set-ChatCompletion")
    assert (number, title) == (1, "Tag thousands from a shell, 16 at a time")
    assert "psopenai Set-ChatCompletion -MetaData" in text


# -- -Confirm offers what it can do -------------------------------------------------------------------


class _Terminal:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def ask(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise NoTerminalError("no more answers")
        return self.answers.pop(0)


def test_confirm_does_not_offer_suspend():
    terminal = _Terminal("s", "suspend", "?", "n")
    host = Host(io.StringIO(), terminal=terminal)
    assert host.confirm("Set-ChatCompletion", "chatcmpl-x") == "n"
    assert len(terminal.prompts) == 4  # S and Suspend are not answers: asked again
    assert all("Suspend" not in prompt for prompt in terminal.prompts)
    assert terminal.prompts[0].endswith(
        '[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is "Y"): '
    )
    assert "S - " not in terminal.prompts[3]  # the help after ? lists no S either


def test_inquire_does_not_offer_suspend():
    terminal = _Terminal("s", "h")
    host = Host(io.StringIO(), terminal=terminal)
    assert host.inquire("Set-ChatCompletion", RuntimeError("boom"), "chatcmpl-x") == "h"
    assert len(terminal.prompts) == 2 and all("Suspend" not in p for p in terminal.prompts)
