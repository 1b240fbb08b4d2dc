"""Command-line arguments are UTF-8 text whatever the locale: with Python's UTF-8 mode off and a
C/POSIX locale, Python decodes them as ASCII (bytes past it become lone surrogates), so the
package reads their bytes again as UTF-8.  Only bytes that really are not UTF-8 are refused.
End to end in subprocesses against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from psopenai_py.emulator import Emulator

KEY = "sk-argencoding-00000000000000000000000"
COMMAND = [sys.executable, "-m", "psopenai_py"]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="Windows hands a process its arguments as UTF-16")

LOCALES = {
    "C, UTF-8 mode off": {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
    "POSIX, UTF-8 mode off": {"LC_ALL": "POSIX", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
    "C.UTF-8": {"LC_ALL": "C.UTF-8", "PYTHONUTF8": "0"},
}


@pytest.fixture(params=sorted(LOCALES))
def env(request: pytest.FixtureRequest, emulator: Emulator) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONUTF8"))}
    url = emulator.url
    return {
        **base,
        **LOCALES[request.param],
        "OPENAI_API_BASE": url,
        "OPENAI_BASE_URL": url,
        "OPENAI_API_KEY": KEY,
    }


@pytest.fixture
def ident(emulator: Emulator) -> str:
    return str(emulator.store.create(model="m", messages=[{"role": "user", "content": "x"}])["id"])


def run(args: list[str | bytes], env: dict[str, str]) -> tuple[int, str, str]:
    done = subprocess.run(
        [*COMMAND, *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=60, env=env
    )
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def test_a_utf8_value_is_sent_as_typed_in_the_powershell_syntax(env, emulator, ident):
    code, _, err = run(["Set-ChatCompletion", ident, "-MetaData", "@{k='héllo ü'}"], env)
    assert code == 0, err
    assert "not valid UTF-8" not in err
    assert emulator.store.get(ident)["metadata"] == {"k": "héllo ü"}


def test_a_utf8_value_is_sent_as_typed_in_the_dialect(env, emulator, ident):
    code, _, err = run(["chat:completions", "update", ident, "--metadata", "{t: ü}"], env)
    assert code == 0, err
    assert json.loads(emulator.requests[0].body or "{}") == {"metadata": {"t": "ü"}}


def test_bytes_that_are_not_utf8_are_still_refused_and_nothing_sent(env, emulator, ident):
    code, _, err = run(["Set-ChatCompletion", ident, "-MetaData", b"@{k='\xff'}"], env)
    assert code == 2
    assert "not valid UTF-8" in err and "Nothing was sent" in err
    assert emulator.requests == []
