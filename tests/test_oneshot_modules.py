"""A one-shot command line loads what it uses and nothing more.

One ``psopenai Set-ChatCompletion <id> -MetaData ...`` runs in a fresh interpreter against the
emulator; what it imported is read from ``sys.modules`` as the process exits.  What a one-shot
update never needs (the dataclasses machinery, the thread pool, the keyring when the key is in the
environment, the emulator, the other commands, the journal, the streamed-answer reader, the help
pages, the other front-ends) must not be among them: each costs start-up time on every command
line.  The start-up time itself is measured in ``benchmarks/``, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from psopenai_py.commands import REGISTRY
from psopenai_py.emulator import Emulator

KEY = "sk-oneshot-0000000000000000000000"

# Runs the command line as ``python -m psopenai_py`` does, and writes the names of the modules
# loaded by the time the process exits to the file named by its first argument.
_PROBE = """
import atexit, json, runpy, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w", encoding="utf-8").write(json.dumps(sorted(sys.modules))))
sys.argv = ["psopenai", *sys.argv[2:]]
runpy.run_module("psopenai_py", run_name="__main__", alter_sys=True)
"""

NEVER_FOR_ONE_UPDATE = {
    "dataclasses": "the records of a command line are records.Record classes",
    "inspect": "dataclasses' machinery",
    "ast": "dataclasses' machinery",
    "dis": "dataclasses' machinery",
    "concurrent.futures": "the thread pool serves -ThrottleLimit above 1 only",
    "keyring": "the key is in the environment",
    "psopenai_py.keyring_store": "the key is in the environment",
    "psopenai_py.emulator": "the emulator is a command of its own",
    "psopenai_py.journal": "no -Journal was given",
    "psopenai_py.commands.paging": "only a journaled remove pages a completion's messages",
    "psopenai_py.transport.stream": "nothing is streamed",
    "psopenai_py.transport.sse": "nothing is streamed",
    "psopenai_py.powershell.helpdoc": "no help was asked for",
    "psopenai_py.compat": "another front-end",
    "psopenai_py.client": "another front-end",
    "psopenai_py.openai_cli.grammar": "the openai CLI's dialect (its package answers is_dialect alone)",
    "psopenai_py.openai_cli.app": "the openai CLI's dialect",
    **{
        f"psopenai_py.commands.{module}": "another command's module"
        for module in set(REGISTRY.values()) - {"set_completion"}
    },
}


def probe(
    args: list[str], env: dict[str, str], scratch: Path
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run a command line (with empty standard input); the run, and the modules it loaded."""
    listing = scratch / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(listing), *args],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=scratch,
    )
    return result, json.loads(listing.read_text(encoding="utf-8"))


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI_"))}
    return {**kept, "OPENAI_API_BASE": emulator.url, "OPENAI_API_KEY": KEY}


def test_one_update_loads_nothing_it_does_not_use(env, stored, emulator, tmp_path):
    result, modules = probe(["Set-ChatCompletion", stored, "-MetaData", "@{reviewed='yes'}"], env, tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert json.loads(result.stdout)["metadata"] == {"reviewed": "yes"}
    assert [r.method for r in emulator.requests] == ["POST"]
    # The listing is the real one: the command's own module and the HTTP stack are in it.
    assert {"psopenai_py.commands.set_completion", "requests"} <= set(modules)
    unwanted = {
        name: why
        for name, why in NEVER_FOR_ONE_UPDATE.items()
        if any(m == name or m.startswith(name + ".") for m in modules)
    }
    assert unwanted == {}


def test_the_keyring_loads_when_the_key_is_looked_for_there(env, stored, emulator, tmp_path):
    # The counterpart of the keyring entries above: the listing shows it when it is used.
    without_key = {k: v for k, v in env.items() if k != "OPENAI_API_KEY"}
    result, modules = probe(["Set-ChatCompletion", stored, "-MetaData", "@{a='b'}"], without_key, tmp_path)
    assert result.returncode == 2, result.stderr  # no key anywhere: nothing sent
    assert emulator.requests == []
    assert "keyring" in modules
