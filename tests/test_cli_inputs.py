"""What a dialect command line sends beyond its flags: YAML or JSON piped on standard input
(read when there is some, filling what the flags left unset), ``@file`` values, and the YAML
reader both use (tables, and a property against PyYAML) -- in process and through real pipes."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from psopenai_py.emulator import Emulator
from psopenai_py.openai_cli import main
from psopenai_py.openai_cli.inputs import is_text, piped_data_waiting
from psopenai_py.openai_cli.yaml_values import YAMLError, parse_yaml

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-inputs-00000000000000000000000000"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), stdout=out, stderr=err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def base(emulator: Emulator, transport) -> list[str]:
    return ["--api-key", KEY, "--base-url", emulator.url]


# -- piped YAML or JSON --------------------------------------------------------------------------------


def test_piped_yaml_is_the_update_body(emulator, stored, base):
    status, out, err = run("chat:completions", "update", stored, *base, stdin="metadata:\n  team: dev\n")
    assert (status, err) == (0, "")
    assert json.loads(emulator.requests[0].body) == {"metadata": {"team": "dev"}}
    assert json.loads(out)["metadata"] == {"team": "dev"}


def test_piped_keys_fill_the_path_and_query_flags(emulator, stored, base):
    status, out, _ = run(
        "chat:completions", "retrieve", *base, "--transform", "id", stdin=f"completion_id: {stored}\n"
    )
    assert (status, out) == (0, f'"{stored}"\n')
    emulator.reset()
    status, _, _ = run(
        "chat:completions", "list", *base, stdin='{"limit": 2, "order": "desc", "metadata": {"team": "ops"}}'
    )
    assert status == 0
    assert emulator.requests[0].target == "/v1/chat/completions?limit=2&metadata%5Bteam%5D=ops&order=desc"


def test_flags_given_win_over_piped_keys(emulator, stored, base):
    piped = "metadata:\n  team: piped\ncompletion_id: chatcmpl-not-this-one\n"
    status, _, err = run(
        "chat:completions", "update", stored, "--metadata", "{team: flag}", *base, stdin=piped
    )
    assert (status, err) == (0, "")
    (request,) = emulator.requests
    assert request.target == f"/v1/chat/completions/{stored}"
    assert json.loads(request.body) == {"metadata": {"team": "flag"}}


def test_a_piped_create_body_with_flags_over_it(emulator, base):
    piped = "model: gpt-4o-mini\nmessages:\n  - role: user\n    content: hi\ntemperature: 0.5\n"
    status, _, err = run(
        "chat:completions", "create", "--temperature", "1", "--store", "true", *base, stdin=piped
    )
    assert (status, err) == (0, "")
    assert json.loads(emulator.requests[0].body) == {
        "messages": [{"content": "hi", "role": "user"}],
        "model": "gpt-4o-mini",
        "store": True,
        "temperature": 1,
    }


@pytest.mark.parametrize(
    ("argv", "piped", "message"),
    [
        (["chat:completions", "update", "x"], "metadata: [", "Failed to parse piped data as YAML/JSON:\n"),
        (
            ["chat:completions", "update", "x", "--metadata", "{a: b}"],
            "[1, 2]",
            "Cannot merge flags with a body that is not a map: [1 2]",
        ),
        (["chat:completions", "update", "x"], "team: dev\n", 'Required flag "metadata" not set\n'),
    ],
)
def test_piped_data_that_cannot_be_used(emulator, base, argv, piped, message):
    status, out, err = run(*argv, *base, stdin=piped)
    assert (status, out) == (1, "") and err.startswith(message)
    assert emulator.requests == []


# -- @file ---------------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prompt.txt").write_text("Say hi\n", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\nabc")
    (tmp_path / "notes.md").write_text("text", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("content", "sent"),
    [
        ('"@prompt.txt"', "Say hi\n"),
        ('"@file://prompt.txt"', "Say hi\n"),
        ('"@data://prompt.txt"', base64.b64encode(b"Say hi\n").decode()),
        ('"@image.png"', base64.b64encode(b"\x89PNG\r\n\x1a\nabc").decode()),
        ('"\\\\@prompt.txt"', "@prompt.txt"),
        ('"@username"', "@username"),
    ],
)
def test_file_values_inside_a_yaml_value(emulator, base, files, content, sent):
    status, _, err = run(
        "chat:completions",
        "create",
        "--model",
        "m",
        "--message",
        "{role: user, content: " + content + "}",
        *base,
    )
    assert (status, err) == (0, "")
    assert json.loads(emulator.requests[0].body)["messages"][0]["content"] == sent


def test_a_file_as_a_whole_string_value(emulator, base, files):
    status, _, _ = run(
        "chat:completions",
        "create",
        "--model",
        "m",
        "--message",
        "{role: user, content: x}",
        "--stop",
        "@notes.md",
        *base,
    )
    assert status == 0 and json.loads(emulator.requests[0].body)["stop"] == "text"


def test_a_missing_file_is_refused_and_a_map_flag_takes_no_file(emulator, base, files):
    status, out, err = run(
        "chat:completions", "create", "--model", "m", "--message", '{role: user, content: "@gone.txt"}', *base
    )
    assert (status, out, err) == (1, "", "open gone.txt: no such file or directory\n")
    status, _, err = run("chat:completions", "update", "x", "--metadata", "@notes.md", *base)
    assert status == 1 and err == (
        'Incorrect Usage: invalid value "@notes.md" for flag -metadata: '
        'Couldn\'t convert "@notes.md" (@notes.md) to expected type map[string]interface {}\n\n'
    )
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (b"plain\n", True),
        ("café".encode(), True),
        (b"\x00\x01", False),
        (b"%PDF-1.7", False),
        (b"\xff\xfe", False),
    ],
)
def test_what_is_sent_as_text(content, text):
    assert is_text(content) is text


# -- standard input as the process has it ------------------------------------------------------------


def test_standard_input_is_read_only_when_something_is_there(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    full = tmp_path / "full"
    full.write_bytes(b"a: 1\n")
    with empty.open("rb") as handle:
        assert piped_data_waiting(handle) is False
    with full.open("rb") as handle:
        assert piped_data_waiting(handle) is True
    with open(os.devnull, "rb") as handle:
        assert piped_data_waiting(handle) is False
    read, write = os.pipe()
    with os.fdopen(read, "rb") as reader, os.fdopen(write, "wb") as writer:
        assert piped_data_waiting(reader, wait=0.01) is False  # an idle pipe: not waited for
        writer.write(b"a: 1\n")
        writer.flush()
        assert piped_data_waiting(reader, wait=1.0) is True
    assert piped_data_waiting(None) is False


def env_for(emulator: Emulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update({"OPENAI_BASE_URL": emulator.url, "OPENAI_API_KEY": KEY, "PYTHONPATH": str(ROOT)})
    return env


def test_yaml_through_a_real_pipe(emulator, stored):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "psopenai_py",
            "chat:completions",
            "update",
            stored,
            "--transform",
            "metadata",
        ],
        input=b"metadata:\n  team: piped\n",
        capture_output=True,
        env=env_for(emulator),
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, b"")
    assert json.loads(result.stdout) == {"team": "piped"}


def test_an_idle_pipe_on_stdin_is_not_waited_for(emulator, stored):
    # Some terminals and CI runners connect a pipe that never ends: the command must not wait
    # for it.  The pipe stays open (and empty) until the command has ended.
    process = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", "chat:completions", "retrieve", stored, "--transform", "id"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_for(emulator),
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        status = process.wait(timeout=60)
    finally:
        process.stdin.close()
    assert status == 0 and json.loads(process.stdout.read()) == stored
    process.stdout.close()
    if process.stderr is not None:
        process.stderr.close()


# -- the YAML reader ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", None),
        ("null", None),
        ("a: 1\nb:\n  - x\n  - y: 2\n    z: [3, 4]\n", {"a": 1, "b": ["x", {"y": 2, "z": [3, 4]}]}),
        ("key:\n- 1\n- 2\n", {"key": [1, 2]}),
        ("'n': 1\n\"q\": x\n", {"n": 1, "q": "x"}),
        ("t: |\n  one\n  two\nf: >-\n  folded\n  line\n", {"t": "one\ntwo\n", "f": "folded line"}),
        ("---\na: b # comment\n...\n", {"a": "b"}),
        ("{a: 1,\n b: [x,\n     y]}\n", {"a": 1, "b": ["x", "y"]}),
        ("plain words\n  go on\n", "plain words go on"),
        ("x: yes\ny: 0x1F\nz: ~\n", {"x": "yes", "y": 31, "z": None}),
        ("- - a\n  - b\n- c\n", [["a", "b"], "c"]),
    ],
)
def test_yaml_values(text, value):
    assert parse_yaml(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: 1\n---\nb: 2\n",
        "a: 1\na: 2\n",
        "a:\n\t- 1\n",
        "? a\n: 1\n",
        "a: [1,\n",
    ],
)
def test_yaml_refused_with_its_line(text):
    with pytest.raises(YAMLError, match=r"line \d+"):
        parse_yaml(text)


# Strings a YAML 1.1 writer (PyYAML) leaves plain but YAML 1.2 (the original's reader, and this
# one) reads as numbers, such as 0E0 or 1_0, are left out: there the two readers disagree.
_NUMBER_LIKE = re.compile(
    r"[-+]?[0-9._]*(?:[eE][-+]?[0-9_]*)?|0[xXoObB].*|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)"
)
_plain_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12).filter(
    lambda text: not _NUMBER_LIKE.fullmatch(text)
)
_yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**9), 10**9), _plain_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(_yaml_values, st.booleans())
def test_yaml_written_by_pyyaml_reads_the_same(value, flow):
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True, width=10**6)
    assert parse_yaml(text) == yaml.safe_load(text)


def test_inside_a_while_read_loop_stdin_is_the_rest_of_the_list(emulator, stored, tmp_path):
    # while read -r id; do psopenai chat:completions update ...; done < ids.txt: the command's
    # standard input is ids.txt after the line read, which is read as piped YAML (as the
    # original reads it), so the documented loop adds < /dev/null.
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{stored}\nchatcmpl-second\nchatcmpl-third\n", encoding="utf-8")
    argv = [sys.executable, "-m", "psopenai_py", "chat:completions", "update", "--completion-id", stored]
    argv += ["--metadata", "{batch: '7'}"]
    with ids.open("rb", buffering=0) as handle:
        handle.seek(len(stored) + 1)  # where a shell's read leaves the file after the first line
        result = subprocess.run(
            argv, stdin=handle, capture_output=True, text=True, env=env_for(emulator), timeout=60
        )
    assert result.returncode == 1
    assert (
        result.stderr == "Cannot merge flags with a body that is not a map: chatcmpl-second chatcmpl-third\n"
    )
    assert emulator.requests == []
    result = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env_for(emulator), timeout=60
    )
    assert result.returncode == 0 and json.loads(result.stdout)["metadata"] == {"batch": "7"}
