"""Messages worded as a user reads them: a value's type in plain words, a suggested fix that
repeats what was typed, a warning only for a real difference, a WhatIf target that says why
nothing would be written, counts with their singular, and a control API that names a field it
does not know.  End to end in subprocesses against the emulator where a user meets them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from psopenai_py import checks
from psopenai_py.emulator import Emulator

KEY = "sk-wording-0000000000000000000000000"
COMMAND = [sys.executable, "-m", "psopenai_py"]


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    url = emulator.url
    return {**base, "OPENAI_API_BASE": url, "OPENAI_BASE_URL": url, "OPENAI_API_KEY": KEY}


@pytest.fixture
def ident(emulator: Emulator) -> str:
    made = emulator.store.create(model="m", messages=[{"role": "user", "content": "x"}], metadata={"k": "v"})
    return str(made["id"])


def run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=cwd,
    )


# -- a value's type in plain words ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (1, "a number"),
        (1.5, "a number"),
        (True, "a boolean"),
        (None, "null"),
        (["a"], "a list"),
        ({"n": "x"}, "a map"),
    ],
)
def test_a_metadata_value_that_is_not_a_string_is_named_in_plain_words(value, words):
    with pytest.raises(checks.Invalid) as caught:
        checks.metadata({"k": value})
    assert str(caught.value) == f"The value of key 'k' is {words}; values must be strings."


def test_a_number_in_the_powershell_syntax_is_called_a_number(env, emulator, ident):
    done = run(["Set-ChatCompletion", ident, "-MetaData", "@{k=1}"], env)
    assert done.returncode == 2
    assert "is a number; values must be strings" in done.stderr and "a int" not in done.stderr
    assert emulator.requests == []


def test_a_number_in_the_sdk_client_is_called_a_number(emulator, ident):
    from psopenai_py.client import OpenAI

    client = OpenAI(api_key=KEY, base_url=emulator.url, max_retries=0)
    with pytest.raises(Exception) as caught:
        client.chat.completions.update(ident, metadata={"k": 1})  # type: ignore[dict-item]
    assert "is a number" in str(caught.value) and "a int" not in str(caught.value)


# -- a suggested fix repeats what was typed -------------------------------------------------------


@pytest.mark.parametrize("typed", ["1e400", "-1e999", ".inf"])
def test_a_number_beyond_a_double_is_not_suggested_as_infinity(env, emulator, ident, typed):
    done = run(["chat:completions", "update", ident, "--metadata", f"{{a: {typed}}}"], env)
    assert done.returncode == 1
    assert "Infinity" not in done.stderr
    assert "quote it" in done.stderr or "quotes" in done.stderr
    assert emulator.requests == []


def test_a_finite_number_is_still_suggested_quoted(env, emulator, ident):
    done = run(["chat:completions", "update", ident, "--metadata", "{a: 12}"], env)
    assert "'{a: \"12\"}'" in done.stderr


# -- the base URL warning fires only for a real difference ----------------------------------------


def _upper_scheme_and_host(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    return f"{scheme.upper()}://{host.upper()}/{path}"


@pytest.mark.parametrize(
    "change", [_upper_scheme_and_host, lambda url: url + "/"], ids=["scheme and host case", "slash"]
)
def test_base_urls_that_differ_only_in_spelling_are_not_warned_about(env, emulator, ident, change):
    env = {**env, "OPENAI_BASE_URL": change(emulator.url)}
    done = run(["Get-ChatCompletion", ident], env)
    assert done.returncode == 0, done.stderr
    assert "differ" not in done.stderr


def test_base_urls_that_really_differ_are_still_warned_about(env, emulator, ident):
    env = {**env, "OPENAI_BASE_URL": emulator.url.replace("/v1", "/v2")}
    done = run(["Get-ChatCompletion", ident], env)
    assert "differ" in done.stderr


# -- Restore -WhatIf for a change that changed nothing --------------------------------------------


def test_restore_whatif_says_nothing_to_restore_for_a_change_that_changed_nothing(
    env, emulator, ident, tmp_path
):
    journal = tmp_path / "tag.jsonl"
    done = run(
        ["Set-ChatCompletion", ident, "-Merge", "-MetaData", "@{k='v'}", "-Journal", str(journal)], env
    )
    assert done.returncode == 0, done.stderr
    done = run(["Restore-ChatCompletionMetadata", str(journal), "-WhatIf"], env)
    assert done.returncode == 0, done.stderr
    assert f"{ident} (nothing to restore" in done.stdout + done.stderr
    assert "already restored" not in done.stdout + done.stderr


def test_restore_whatif_still_says_already_restored_after_a_restore(env, emulator, ident, tmp_path):
    journal = tmp_path / "tag.jsonl"
    assert (
        run(["Set-ChatCompletion", ident, "-MetaData", "@{k='w'}", "-Journal", str(journal)], env).returncode
        == 0
    )
    assert run(["Restore-ChatCompletionMetadata", str(journal)], env).returncode == 0
    again = ["-RestoreJournal", str(tmp_path / "again.jsonl"), "-WhatIf"]
    done = run(["Restore-ChatCompletionMetadata", str(journal), *again], env)
    assert f"{ident} (already restored)" in done.stdout + done.stderr


# -- the emulator: one completion, and the seed's fields ------------------------------------------


def test_the_emulator_start_line_counts_one_completion_in_the_singular():
    with subprocess.Popen(
        [*COMMAND, "emulator", "--port", "0", "--stored", "1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        assert server.stdout is not None
        try:
            lines = [server.stdout.readline() for _ in range(2)]
        finally:
            server.terminate()
            server.communicate(timeout=30)
    assert lines[1] == "# stored 1 completion: chatcmpl-seed-000000\n"


def _control(emulator: Emulator, path: str, body: object) -> tuple[int, dict[str, object]]:
    root = emulator.url.rsplit("/v1", 1)[0]
    request = urllib.request.Request(
        f"{root}/__emulator/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_seed_with_a_field_it_does_not_know_is_refused_naming_the_field(emulator):
    status, answer = _control(emulator, "seed", {"count": 2, "id_prefix": "chatcmpl-x-"})
    assert status == 400
    message = str(answer["error"]["message"])  # type: ignore[index]
    assert "'id_prefix'" in message and "prefix" in message.replace("'id_prefix'", "")
    assert len(emulator.store) == 0


def test_the_emulator_help_names_the_seed_fields():
    done = subprocess.run([*COMMAND, "emulator", "--help"], capture_output=True, text=True, timeout=60)
    assert '"prefix"' in done.stdout


# -- the scrubber leaves a server's placeholder words alone ---------------------------------------

NO_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)


def test_placeholders_after_bearer_in_a_server_message_are_kept():
    from psopenai_py.scrub import scrub

    assert scrub(NO_KEY_MESSAGE) == NO_KEY_MESSAGE


@pytest.mark.parametrize(
    "token", ["abcDEF123456", "auth123", "xyz", "sk-proj-k3yAbCdEfGhIjKlMnOpQrStUvWxYz0123"]
)
def test_any_other_bearer_token_is_still_masked(token):
    from psopenai_py.scrub import scrub

    assert token not in scrub(f"Authorization: Bearer {token}")


def test_a_placeholder_that_is_the_key_in_play_is_masked():
    from psopenai_py.scrub import scrub

    assert "YOUR_KEY" not in scrub("Authorization: Bearer YOUR_KEY", extra=["YOUR_KEY"])


def test_the_emulators_no_key_message_reaches_the_user_whole(emulator, ident):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    args = ["chat:completions", "retrieve", ident, "--base-url", emulator.url, "--max-retries", "0"]
    done = run([*args, "--api-key", KEY, "-H", f"Authorization: {KEY}"], env)
    assert done.returncode == 1
    assert "Bearer auth (i.e. Authorization: Bearer YOUR_KEY)." in done.stdout + done.stderr
    assert KEY[8:20] not in done.stdout + done.stderr


# -- a Secret Service that cannot be reached is no OS keyring -------------------------------------


@pytest.mark.skipif(
    os.name != "posix" or sys.platform == "darwin",
    reason="keyring installs SecretStorage on Linux and BSD only, not on Windows or macOS",
)
def test_a_secret_service_without_a_session_bus_is_reported_as_no_keyring():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DBUS_"))}
    env.update(
        OPENAI_API_KEY="sk-proj-SECRETSk3yAbCdEfGhIjKlMnOpQrStUvWxYz0123",
        PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring",
    )
    done = run(["Get-OpenAISecret"], env)
    # As the fail and null backends: a warning, the result, exit 0; no advice to set what is set.
    assert done.returncode == 0, done.stderr
    assert "There is no OS keyring here" in done.stderr and "DBUS_SESSION_BUS_ADDRESS" in done.stderr
    assert "Set the OPENAI_API_KEY environment variable instead" not in done.stderr
    assert "from the environment variable OPENAI_API_KEY" in done.stderr
    assert json.loads(done.stdout)["ApiKeySource"] == "environment"
    assert "k3yAbC" not in done.stdout + done.stderr
