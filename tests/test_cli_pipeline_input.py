"""Standard input as pipeline input of the psopenai command line, as PowerShell offers piped input:
whatever the command line binds, each piped item binds to the pipeline parameters left free, and
one that binds to none is refused, nothing sent for it.  End to end in subprocesses against the
emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from psopenai_py.emulator import Emulator
from psopenai_py.powershell.binding import PIPELINE_INPUT_MESSAGE

KEY = "sk-pipein-0000000000000000000000000"
COMMAND = [sys.executable, "-m", "psopenai_py"]


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    return {**os.environ, "OPENAI_API_BASE": emulator.url, "OPENAI_API_KEY": KEY}


@pytest.fixture
def ids(emulator: Emulator) -> list[str]:
    return [
        str(emulator.store.create(model="m", messages=[{"role": "user", "content": "x"}])["id"])
        for _ in range(3)
    ]


def psopenai(*args: str, env: dict[str, str], stdin: str | None = "") -> subprocess.CompletedProcess[str]:
    """One command; ``stdin`` as its piped input (None: the null device)."""
    return subprocess.run(
        [*COMMAND, *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def pipe(first: list[str], second: list[str], env: dict[str, str]) -> tuple[list[int], str, str]:
    """Two commands connected stdout to stdin, as a shell pipeline connects them."""
    one = subprocess.Popen(
        [*COMMAND, *first], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert one.stdout is not None and one.stderr is not None
    two = subprocess.Popen(
        [*COMMAND, *second], stdin=one.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    one.stdout.close()
    out, err = two.communicate(timeout=120)
    first_err = one.stderr.read()
    one.stderr.close()
    return [one.wait(60), two.returncode], out.decode("utf-8"), (first_err + err).decode("utf-8")


def _body(emulator: Emulator, index: int) -> dict[str, object]:
    body = emulator.requests[index].body
    assert body is not None
    loaded: dict[str, object] = json.loads(body)
    return loaded


# -- a completion piped to Request-ChatCompletion with a message of its own ----------------------


def test_request_piped_into_request_with_a_message_continues_the_conversation(env, emulator):
    # PSOpenAI 4.49.0 Public/Chat/Request-ChatCompletion.ps1:20 and :285: Model and History bind
    # ValueFromPipelineByPropertyName, so with -Message given the piped completion still binds
    # them; :518-556 then sends the History before the new user message.
    codes, out, err = pipe(
        ["Request-ChatCompletion", "hi", "-Model", "gpt-4o"], ["Request-ChatCompletion", "next"], env
    )
    assert codes == [0, 0], err
    assert [r.method for r in emulator.requests] == ["POST", "POST"]
    second = _body(emulator, 1)
    assert second["model"] == "gpt-4o"
    messages = second["messages"]
    assert isinstance(messages, list)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"] == "hi" and messages[2]["content"] == "next"
    (reply,) = [json.loads(line) for line in out.splitlines()]
    assert reply["Message"] == "next" and len(reply["History"]) == 4


def test_a_model_given_on_the_command_line_wins_over_the_piped_one(env, emulator):
    # PSOpenAI 4.49.0 Public/Chat/Request-ChatCompletion.ps1:20: a parameter bound on the command
    # line is not bound again from the pipeline; History (:285) still is.
    codes, _, err = pipe(
        ["Request-ChatCompletion", "hi", "-Model", "gpt-4o"],
        ["Request-ChatCompletion", "next", "-Model", "gpt-4.1"],
        env,
    )
    assert codes == [0, 0], err
    second = _body(emulator, 1)
    assert second["model"] == "gpt-4.1"
    assert isinstance(second["messages"], list) and len(second["messages"]) == 3


def test_a_text_line_piped_to_request_with_a_message_is_refused(env, emulator):
    # PSOpenAI 4.49.0 Public/Chat/Request-ChatCompletion.ps1:6-9: -Message takes a piped string
    # by value only when it is not bound already; a string has no Model or History property.
    result = psopenai("Request-ChatCompletion", "next", env=env, stdin="hello\n")
    assert result.returncode == 1
    assert PIPELINE_INPUT_MESSAGE in result.stderr
    assert emulator.requests == []


# -- piped ids with an explicit id: nothing binds, nothing is sent --------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["Remove-ChatCompletion"],
        ["Set-ChatCompletion", "-MetaData", "@{k='v'}"],
        ["Get-ChatCompletion"],
    ],
)
def test_piped_ids_with_an_explicit_id_are_refused_and_nothing_is_sent(env, ids, emulator, command):
    # PSOpenAI 4.49.0 Public/Chat/Remove-ChatCompletion.ps1:5 (Set-ChatCompletion.ps1:5,
    # Get-ChatCompletion.ps1:5): CompletionId is the only pipeline parameter; bound on the
    # command line, it takes no piped item, so each one is PowerShell's binding error.
    result = psopenai(command[0], ids[0], *command[1:], env=env, stdin=f"{ids[1]}\n{ids[2]}\n")
    assert result.returncode == 1
    assert result.stderr.count(PIPELINE_INPUT_MESSAGE) == 2
    assert "no piped item can bind, so none is sent" in result.stderr
    assert "< /dev/null" in result.stderr
    assert emulator.requests == []
    assert len(emulator.store) == 3
    assert result.stdout == ""


def test_an_explicit_id_with_nothing_piped_runs_as_it_reads(env, ids, emulator):
    # An empty input or the null device pipes nothing: the id given is the command's only item.
    for stdin in ("", None):
        result = psopenai("Get-ChatCompletion", ids[0], "-Primitive", env=env, stdin=stdin)
        assert result.returncode == 0, result.stderr
        assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [ids[0]]
    result = psopenai("Remove-ChatCompletion", ids[0], env=env, stdin=None)
    assert result.returncode == 0, result.stderr
    assert len(emulator.store) == 2


# -- a saved context piped to Set-OpenAIContext ---------------------------------------------------


def test_a_saved_context_as_json_lines_is_taken_without_error(env):
    # PSOpenAI 4.49.0 Public/Set-OpenAIContext.ps1:415-440: every parameter binds
    # ValueFromPipelineByPropertyName.
    codes, out, err = pipe(["Get-OpenAIContext"], ["Set-OpenAIContext"], env)
    assert codes == [0, 0], err
    assert out == "" and err == ""
    line = json.dumps({"apibase": "http://127.0.0.1:9/v1", "TimeoutSec": 5, "OrgId": "org-x"})
    result = psopenai("Set-OpenAIContext", env=env, stdin=line + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_piped_context_value_out_of_range_is_that_items_error(env):
    # PSOpenAI 4.49.0 Public/Set-OpenAIContext.ps1:438-440: MaxRetryCount keeps its
    # ValidateRange(0, 100) when bound from the pipeline.
    result = psopenai("Set-OpenAIContext", env=env, stdin='{"MaxRetryCount": 500}\n{"Nothing": 1}\n')
    assert result.returncode == 1
    assert "'MaxRetryCount'" in result.stderr and "maximum allowed range of 100" in result.stderr
    assert PIPELINE_INPUT_MESSAGE in result.stderr
