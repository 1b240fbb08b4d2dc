"""The psopenai command line, end to end in subprocesses against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import psopenai_py
from psopenai_py.emulator import Emulator

KEY = "sk-cli-00000000000000000000000000"
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


def psopenai(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], input=stdin, capture_output=True, text=True, timeout=60, env=env)


def outputs(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_named_call(env, ids, emulator):
    result = psopenai(
        "Set-ChatCompletion", "-CompletionId", ids[0], "-MetaData", "@{foo='bar'; team='ops'}", env=env
    )
    assert result.returncode == 0, result.stderr
    assert [o["metadata"] for o in outputs(result)] == [{"foo": "bar", "team": "ops"}]
    assert emulator.requests[0].body == b'{"metadata":{"foo":"bar","team":"ops"}}'
    assert result.stderr == ""


def test_positional_call_any_case(env, ids):
    result = psopenai("set-chatcompletion", ids[1], "-metadata", '{"k": "v"}', env=env)
    assert result.returncode == 0, result.stderr
    assert outputs(result)[0]["id"] == ids[1]


def test_prefix_and_colon_forms(env, ids, emulator):
    result = psopenai(
        "Set-ChatCompletion", "-Comp", ids[2], "-meta:@{a='1'}", "-Max", "2", "-Verbose", env=env
    )
    assert result.returncode == 0, result.stderr
    assert "VERBOSE: Method = Post, Path = " in result.stderr
    assert KEY not in result.stderr


def test_ambiguous_prefix_is_a_clear_error_and_sends_nothing(env, ids, emulator):
    result = psopenai("Set-ChatCompletion", ids[0], "-M", "@{}", env=env)
    assert result.returncode == 2
    assert result.stderr == (
        "Set-ChatCompletion: Parameter cannot be processed because the parameter name 'M' is "
        "ambiguous. Possible matches include: -MetaData -MaxRetryCount.\n"
    )
    assert emulator.requests == []


def test_out_of_range_sends_nothing(env, ids, emulator):
    result = psopenai("Set-ChatCompletion", ids[0], "-MetaData", "@{}", "-MaxRetryCount", "101", env=env)
    assert result.returncode == 2 and "maximum allowed range of 100" in result.stderr
    assert "Traceback" not in result.stderr
    assert emulator.requests == []


def test_stdin_ids_with_a_failing_item_under_continue(env, ids, emulator):
    lines = f"{ids[0]}\nchatcmpl-missing\n\n{json.dumps({'id': ids[1]})}\n"
    result = psopenai("Set-ChatCompletion", "-MetaData", "@{reviewed='yes'}", env=env, stdin=lines)
    assert result.returncode == 1
    assert [o["id"] for o in outputs(result)] == [ids[0], ids[1]]
    assert result.stderr == (
        "Set-ChatCompletion: [chatcmpl-missing] OpenAI API returned an 404 (Not Found) Error: "
        "No chat completion found with id 'chatcmpl-missing'.\n"
    )
    assert len(emulator.requests) == 3


def test_stdin_ids_under_stop_stop_at_the_failure(env, ids, emulator):
    lines = f"{ids[0]}\nchatcmpl-missing\n{ids[1]}\n"
    result = psopenai("Set-ChatCompletion", "-MetaData", "@{}", "-ErrorAction", "Stop", env=env, stdin=lines)
    assert result.returncode == 1
    assert [o["id"] for o in outputs(result)] == [ids[0]]
    assert "404 (Not Found)" in result.stderr and "Traceback" not in result.stderr
    assert len(emulator.requests) == 2


def test_two_processes_piped_together(env, ids, emulator):
    first = subprocess.Popen(
        [*COMMAND, "Set-ChatCompletion", "-MetaData", "@{stage='one'}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    second = subprocess.Popen(
        [*COMMAND, "Set-ChatCompletion", "-MetaData", "@{stage='two'}"],
        stdin=first.stdout,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert first.stdin is not None and first.stdout is not None
    first.stdin.write("\n".join(ids) + "\n")
    first.stdin.close()
    first.stdout.close()  # the second process owns the pipe now
    out, _ = second.communicate(timeout=60)
    assert first.wait(60) == 0 and second.returncode == 0
    assert [json.loads(line)["metadata"] for line in out.splitlines()] == [{"stage": "two"}] * 3
    assert [r.target.rsplit("/", 1)[1] for r in emulator.requests].count(ids[0]) == 2


def test_text_format(env, ids):
    result = psopenai("--format", "text", "Set-ChatCompletion", ids[0], "-MetaData", "@{a='b'}", env=env)
    lines = result.stdout.splitlines()
    assert lines[0] == f"id                 : {ids[0]}"
    assert "metadata           : @{a=b}" in lines


def test_missing_key_message(ids, emulator):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["OPENAI_API_BASE"] = emulator.url
    result = psopenai("Set-ChatCompletion", ids[0], "-MetaData", "@{}", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith(
        'Set-ChatCompletion: Please specify your OpenAI API key to "ApiKey" parameter.'
    )
    assert emulator.requests == []


def test_help_pages():
    default = psopenai("help", "Set-ChatCompletion")
    assert default.returncode == 0
    assert default.stdout.startswith("NAME\n    Set-ChatCompletion\n\nSYNOPSIS\n")
    assert "    Set-ChatCompletion\n        [-CompletionId] <String>\n" in default.stdout
    assert "DESCRIPTION" in default.stdout and "EXAMPLES" not in default.stdout
    examples = psopenai("help", "set-chatcompletion", "-Examples").stdout
    assert "EXAMPLES" in examples and "Example 1: Tag thousands from a shell, 16 at a time" in examples
    parameter = psopenai("help", "Set-ChatCompletion", "-Parameter", "MetaData").stdout
    assert parameter.startswith("PARAMETERS\n    -MetaData <IDictionary>\n")
    assert "Required: True" in parameter
    full = psopenai("help", "Set-ChatCompletion", "-Full").stdout
    for section in ("PARAMETERS", "EXAMPLES", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS"):
        assert f"\n{section}\n" in full
    assert psopenai("help", "Nope-Thing").returncode == 2


def test_listing_version_and_unknown_command():
    listing = psopenai().stdout
    for name in (
        "Set-ChatCompletion",
        "Set-OpenAIContext",
        "Get-OpenAIContext",
        "Clear-OpenAIContext",
        "emulator",
        "help",
    ):
        assert name in listing
    assert psopenai("--version").stdout.strip() == f"psopenai_py {psopenai_py.__version__}"
    unknown = psopenai("Frobnicate-Thing")
    assert unknown.returncode == 2 and "is not a command" in unknown.stderr


def test_demo_updates_a_completion_on_the_embedded_emulator():
    result = psopenai("demo", "-Verbose")
    assert result.returncode == 0, result.stderr
    completion = json.loads(result.stdout)
    assert completion["object"] == "chat.completion"
    assert completion["metadata"] == {"team": "support", "reviewed": "yes"}
    assert "Method = Post, Path = http://127.0.0.1:" in result.stderr
    assert "sk-emulator-demo-key-0000000000000000" not in result.stdout + result.stderr


def pipe(*commands: list[str], env: dict[str, str]) -> tuple[list[int], str, str]:
    """Run psopenai processes connected stdout to stdin, as a shell pipeline does."""
    processes: list[subprocess.Popen[str]] = []
    previous = None
    for args in commands:
        process = subprocess.Popen(
            [*COMMAND, *args],
            stdin=previous or subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        if previous is not None:
            previous.close()
        previous = process.stdout
        processes.append(process)
    out, err = processes[-1].communicate(timeout=120)
    codes = [p.wait(120) for p in processes]
    errs = err + "".join(p.stderr.read() for p in processes[:-1] if p.stderr)
    for p in processes:
        for stream in (p.stdout, p.stderr):
            if stream and not stream.closed:
                stream.close()
    return codes, out, errs


def test_get_all_filtered_piped_into_set(env, emulator):
    emulator.store.seed(150, prefix="chatcmpl-ops-", metadata={"team": "ops"})
    emulator.store.seed(5, prefix="chatcmpl-dev-", metadata={"team": "dev"})
    codes, out, err = pipe(
        ["Get-ChatCompletion", "-All", "-MetaData", "@{team='ops'}", "-NoHistory"],
        ["Set-ChatCompletion", "-MetaData", "@{team='ops'; reviewed='yes'}", "-ThrottleLimit", "8"],
        env=env,
    )
    assert codes == [0, 0], err
    assert len(out.splitlines()) == 150
    reviewed = [c["id"] for c in emulator.store.list() if c["metadata"].get("reviewed")]
    assert len(reviewed) == 150 and all(i.startswith("chatcmpl-ops-") for i in reviewed)


def test_request_store_piped_into_set_then_remove(env, emulator):
    codes, out, err = pipe(
        ["Request-ChatCompletion", "Summarise ticket 4711", "-Store", "-MetaData", "@{team='support'}"],
        ["Set-ChatCompletion", "-MetaData", "@{team='support'; reviewed='yes'}"],
        ["Remove-ChatCompletion", "-Verbose"],
        env=env,
    )
    assert codes == [0, 0, 0], err
    assert out == ""
    assert [r.method for r in emulator.requests] == ["POST", "POST", "DELETE"]
    assert 'VERBOSE: The chat with id "chatcmpl-' in err
    assert len(emulator.store) == 0


def test_what_if_from_the_shell_sends_nothing(env, ids, emulator):
    result = psopenai("Remove-ChatCompletion", "-WhatIf", env=env, stdin="\n".join(ids) + "\n")
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr.count('What if: Performing the operation "Remove-ChatCompletion"') == 3
    assert emulator.requests == []


def test_no_standard_input_at_all(env):
    # As some CI runners start processes: file descriptor 0 closed, sys.stdin None.
    result = subprocess.run(
        [*COMMAND, "Get-ChatCompletion"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(0),
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
