"""The openai CLI dialect under misuse and faults: typos, Ctrl-C, pipes, code pages, the forms of
--metadata people write, keys read from files, -H headers, export destinations, and a server that
misbehaves (redirects, bodies of every JSON type, echoed keys, resets, drips)."""

from __future__ import annotations

import io
import json
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from psopenai_py.emulator import Emulator
from psopenai_py.openai_cli import is_dialect, main

from .conftest import CANARY_KEY
from .dialect_answers import ECHOES, FULLY_ESCAPED, KEY, WRONG_BODIES, WRONG_PAGES, leaked
from .scripted_server import Answer, HostileServer, json_answer

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "psopenai_py"]


def one_message(err: str) -> bool:
    """One message on stderr: a line (and the empty line the official CLI puts after an
    'Incorrect Usage' one)."""
    return err.endswith("\n") and err.rstrip("\n").count("\n") == 0


def names_flag(err: str, name: str) -> bool:
    """The message names the flag, as -name (the original's parser) or --name."""
    return re.search(rf"(?<![\w-])--?{re.escape(name)}\b", err) is not None


def run(*args: str, stdout: Any = None) -> tuple[int, str, str]:
    out, err = stdout or io.StringIO(), io.StringIO()
    status = main(list(args), stdout=out, stderr=err)
    return status, out.getvalue() if stdout is None else "", err.getvalue()


@pytest.fixture
def base(emulator: Emulator, transport) -> list[str]:
    return ["--api-key", KEY, "--base-url", emulator.url]


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def hostile(hostile_server: HostileServer, transport) -> HostileServer:
    hostile_server.script(Answer())
    return hostile_server


def hostile_run(server: HostileServer, *args: str) -> tuple[int, str, str]:
    return run(*args, "--api-key", CANARY_KEY, "--base-url", server.url, "--max-retries", "0")


def env_for(emulator: Emulator, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update({"OPENAI_BASE_URL": emulator.url, "OPENAI_API_KEY": KEY, "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


# -- typos: the official CLI's "Did you mean" ----------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "code", "expected"),
    [
        (
            ["chat:completions", "updat", "x"],
            3,
            "No help topic for 'updat'. Did you mean 'psopenai chat:completions update'?",
        ),
        (
            ["chat", "completions", "retreive", "x"],
            3,
            "No help topic for 'retreive'. Did you mean 'psopenai chat:completions retrieve'?",
        ),
        (
            ["chat:completions:messages", "lst", "x"],
            3,
            "Did you mean 'psopenai chat:completions:messages list'?",
        ),
        (["chat:completion", "list"], 3, "Did you mean 'psopenai chat:completions'?"),
        (
            ["chat:completions", "list", "--limt", "3"],
            1,
            'Incorrect Usage: flag provided but not defined: -limt\n\nDid you mean "--limit"?\n\n',
        ),
        (
            ["chat:completions", "update", "x", "--metdata", "{a: b}"],
            1,
            '-metdata\n\nDid you mean "--metadata"?\n\n',
        ),
        (
            ["chat:completions", "xyzzy"],
            3,
            "No help topic for 'xyzzy'. Did you mean 'psopenai chat:completions",
        ),
        (
            ["Chat:Completions", "list"],
            3,
            "No help topic for 'Chat:Completions'. Did you mean 'psopenai chat:completions'?",
        ),
        (["CHAT", "completions", "list"], 3, "Did you mean 'psopenai chat:completions'?"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_typos_get_the_official_suggestion_and_send_nothing(emulator, argv, code, expected, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    assert is_dialect(argv)
    status, out, err = run(*argv)
    assert (status, out) == (code, "")
    # A misspelt command word is one line, a misspelt flag the official CLI's paragraph.
    assert expected in err and (one_message(err) or err.count("\n") == 4), err
    assert emulator.requests == []


# -- Ctrl-C, pipes, code pages, control characters ------------------------------------------------


def test_ctrl_c_while_the_front_end_loads_is_one_line(monkeypatch, capsys):
    from psopenai_py import __main__ as entry
    from psopenai_py import openai_cli

    def interrupted(argv: Any) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(openai_cli, "is_dialect", interrupted)
    assert entry.main(["chat:completions", "list"]) == 130
    captured = capsys.readouterr()
    assert captured.err == "Interrupted.\n" and captured.out == ""


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
def test_ctrl_c_in_a_terminal_during_an_export_leaves_no_file(emulator, tmp_path):
    import pty

    emulator.store.seed(60, prefix="chatcmpl-c-")
    emulator.latency_ms = 40
    target = tmp_path / "out.jsonl"
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command in the terminal
        os.environ.update(env_for(emulator))
        os.execvp(sys.executable, [*COMMAND, "chat:completions", "export", "--limit", "2", "-o", str(target)])
    output = b""
    deadline = time.monotonic() + 20
    while len(emulator.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.write(fd, b"\x03")  # Ctrl-C, as typed
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    _, status = os.waitpid(pid, 0)
    text = output.decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 130, text
    assert "Interrupted." in text and "Traceback" not in text
    assert 3 <= len(emulator.requests) < 30
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["json", "jsonl", "text", "pretty"])
def test_a_pipe_closed_early_gives_no_traceback(emulator, fmt):
    emulator.store.seed(40, prefix="chatcmpl-p-")
    process = subprocess.Popen(
        [*COMMAND, "chat:completions", "list", "--format", fmt],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env_for(emulator),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    err = process.stderr.read().decode()
    process.wait(timeout=30)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert process.returncode in (0, 1)


class FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize(
    "argv", [["chat:completions", "list"], ["chat:completions", "--help"], ["chat:completions", "-v"]]
)
def test_an_output_that_cannot_be_written_is_one_line(emulator, stored, base, argv):
    err = io.StringIO()
    status = main([*argv, *base], stdout=FullDisk(), stderr=err)
    assert status == 1
    assert err.getvalue() == "psopenai: cannot write the output (No space left on device).\n"


@pytest.mark.skipif(sys.platform == "win32", reason="closing a POSIX descriptor in the child")
@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["chat:completions", "bogus"], 3),
        (["chat:completions", "retrieve", "chatcmpl-none"], 1),
        (["chat:completions", "list"], 0),
    ],
    ids=str,
)
def test_a_closed_stderr_changes_nothing_but_what_is_seen(emulator, stored, argv, code):
    # A closed stdout is refused before anything is sent (tests/test_process_shell.py).
    result = subprocess.run(
        [*COMMAND, *argv],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env_for(emulator),
        timeout=60,
        preexec_fn=lambda: os.close(2),
    )
    assert result.returncode == code
    assert b"Traceback" not in result.stdout


def test_format_error_json_survives_a_legacy_code_page(emulator, base):
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252", newline="\n")
    status, _, err = run(
        "chat:completions", "retrieve", "\u65e5\u672c\u8a9e", "--format-error", "json", *base, stdout=stream
    )
    stream.flush()
    assert status == 1 and "unexpected" not in err and one_message(err)
    error = json.loads(raw.getvalue().decode("cp1252"))
    assert "\u65e5\u672c\u8a9e" in error["message"]


@pytest.mark.parametrize(
    ("fmt", "shown"),
    [
        ("pretty", "\\u001b]0;owned\\u0007\\u001b[2Jgone\\u009b"),
        ("yaml", '"\\x1B]0;owned\\x07\\x1B[2Jgone\\x9B"'),
    ],
)
def test_readable_output_shows_terminal_controls_as_escapes(emulator, base, fmt, shown):
    created = emulator.store.create(
        model="m",
        messages=[{"role": "user", "content": "x"}],
        metadata={"note": "\x1b]0;owned\x07\x1b[2Jgone\x9b"},
    )
    status, out, _ = run("chat:completions", "retrieve", created["id"], "--format", fmt, *base)
    assert status == 0
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert shown in out
    status, out, _ = run("chat:completions", "retrieve", created["id"], "--format", "json", *base)
    assert json.loads(out)["metadata"]["note"] == "\x1b]0;owned\x07\x1b[2Jgone\x9b"


def test_an_error_message_with_terminal_controls_is_escaped(hostile):
    hostile.script(json_answer({"error": {"message": "bad\x1b[31mred\x07"}}, 400))
    status, out, err = hostile_run(hostile, "chat:completions", "retrieve", "c1")
    # The error object goes to stdout as JSON, its controls escaped as JSON escapes them.
    assert status == 1 and "\x1b" not in out + err and "\x07" not in out + err
    assert json.loads(out) == {"message": "bad\x1b[31mred\x07"} and "bad\\u001b[31mred\\u0007" in out
    assert err.endswith(": 400 Bad Request\n")


# -- --metadata as people write it --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("{foo: bar}", {"foo": "bar"}),
        ('{"foo": "bar"}', {"foo": "bar"}),
        ('{foo: "a, b"}', {"foo": "a, b"}),
        ("{foo: bar,}", {"foo": "bar"}),
        ("{}", {}),
        ("{foo: \u65e5\u672c, caf\u00e9: \U0001f600}", {"foo": "\u65e5\u672c", "caf\u00e9": "\U0001f600"}),
        ('{n: "1", ok: "true"}', {"n": "1", "ok": "true"}),
        ("\ufeff{foo: bar}", {"foo": "bar"}),
        ("{note: a  b}", {"note": "a  b"}),
        ("{note: first\n   second}", {"note": "first second"}),
        ("null", None),
    ],
    ids=repr,
)
def test_metadata_forms_that_are_sent(emulator, stored, base, text, sent):
    status, out, err = run(
        "chat:completions", "update", stored, "--metadata", text, "--format", "json", *base
    )
    assert (status, err) == (0, ""), err
    assert json.loads(out)["id"] == stored
    (request,) = emulator.requests
    assert json.loads(request.body) == {"metadata": sent}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("{foo: null}", "is null; metadata values are strings"),
        ("{foo: ~}", "is null"),
        ("{n: 1}", """quote it, '{n: "1"}'"""),
        ("{ok: true}", "the boolean true"),
        ("{x: 1.5}", "the number 1.5"),
        ("{foo: {x: y}}", "is a mapping"),
        ("{foo: [a]}", "is a list"),
        ("{foo:bar}", "write '{foo: bar}' (a space after the colon)"),
        ("{foo: a, b}", "the value of key 'b' is null"),
        ("{foo: bar", "failed to parse as YAML"),
    ],
    ids=repr,
)
def test_metadata_forms_that_are_refused_name_the_flag_and_send_nothing(emulator, stored, base, text, words):
    status, out, err = run("chat:completions", "update", stored, "--metadata", text, *base)
    assert (status, out) == (1, "")
    assert names_flag(err, "metadata") and words in err and one_message(err), err
    assert emulator.requests == []


@pytest.mark.parametrize(
    "argv",
    [
        ["chat:completions", "update", "ID", "--metadata", "{a: \udcff\udcfe}"],
        ["chat:completions", "retrieve", "\udcffabc"],
        ["chat:completions", "list", "--model", "gpt\udce9"],
        ["chat:completions:messages", "list", "--completion-id", "c\udcff"],
    ],
    ids=["metadata", "id", "model", "completion-id"],
)
def test_argv_that_is_not_utf8_is_refused_before_sending(emulator, stored, base, argv):
    argv = [stored if w == "ID" else w for w in argv]
    status, out, err = run(*argv, *base)
    assert (status, out) == (1, "")
    assert "not UTF-8 text" in err and "unexpected" not in err and one_message(err), err
    assert emulator.requests == []


@pytest.mark.skipif(sys.platform == "win32", reason="bytes on a POSIX command line")
def test_invalid_utf8_bytes_on_a_real_command_line(emulator, stored):
    result = subprocess.run(
        [*COMMAND, "chat:completions", "update", stored, "--metadata", b"{a: \xff}"],
        capture_output=True,
        timeout=60,
        env={**env_for(emulator), "LC_ALL": "C.UTF-8"},
        stdin=subprocess.DEVNULL,
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 1 and names_flag(err, "metadata") and "0xff" in err and "Traceback" not in err
    assert emulator.requests == []


# -- keys as they come from files and the environment ---------------------------------------------


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " \t"], ids=["lf", "crlf", "blanks"])
@pytest.mark.parametrize("where", ["flag", "environment"])
def test_a_key_read_from_a_file_loses_its_line_ending(
    emulator, stored, transport, monkeypatch, suffix, where
):
    key = "\ufeff" + KEY + suffix
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    if where == "environment":
        monkeypatch.setenv("OPENAI_API_KEY", key)
        argv = ["chat:completions", "retrieve", stored]
    else:
        argv = ["chat:completions", "retrieve", stored, "--api-key", key]
    status, out, err = run(*argv, "--format", "json")
    assert (status, err) == (0, ""), err
    assert json.loads(out)["id"] == stored
    assert emulator.requests[0].header("Authorization") == f"Bearer {KEY}"


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (CANARY_KEY[:20] + "\n" + CANARY_KEY[20:], "a line break at position 21"),
        (CANARY_KEY[:20] + "\x00" + CANARY_KEY[20:], "a control character"),
        (CANARY_KEY[:20] + "\u00e9" + CANARY_KEY[20:], "a non-ASCII character"),
    ],
    ids=["newline", "nul", "non-ascii"],
)
def test_a_key_that_cannot_be_a_header_is_refused_unquoted(emulator, transport, key, words):
    status, out, err = run("chat:completions", "list", "--api-key", key, "--base-url", emulator.url)
    assert (status, out) == (1, "")
    assert "--api-key" in err and words in err and one_message(err), err
    assert not leaked(err) and CANARY_KEY[:20] not in err
    assert emulator.requests == []


@pytest.mark.parametrize(
    "argv",
    [
        ["chat:completions", "list", CANARY_KEY],
        ["chat:completions", "retrieve", CANARY_KEY],
        ["chat:completions", "retrieve", "--completion-id", CANARY_KEY],
        ["chat:completions", "list", "--after", CANARY_KEY],
        ["chat:completions:messages", "list", "chatcmpl-x", CANARY_KEY],
    ],
    ids=["list-extra", "retrieve-id", "completion-id", "after", "messages-extra"],
)
def test_a_key_typed_where_another_value_belongs_is_refused_unquoted(emulator, base, argv):
    status, out, err = run(*argv, *base)
    assert (status, out) == (1, "")
    assert "looks like an API key" in err and one_message(err) and leaked(err) == []
    assert emulator.requests == []


# -- -H ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("X-Note: \u65e5\u672c", "outside Latin-1"),
        ("X-Note: a\x1bb", "control character"),
        ("X(A): v", "a header name may hold only"),
        ("X\x01: v", "a header name may hold only"),
        ("Content-Length: 5", "cannot be replaced"),
        ("Transfer-Encoding: chunked", "cannot be replaced"),
        ("X-Secret: a\r\nInjected: " + CANARY_KEY, "line break"),
    ],
    ids=repr,
)
def test_bad_headers_are_refused_unquoted_before_sending(emulator, base, header, words):
    status, out, err = run("chat:completions", "list", "-H", header, *base)
    assert (status, out) == (1, "")
    assert "--header" in err and words in err and one_message(err), err
    assert "\x1b" not in err and "\x01" not in err and not leaked(err)
    assert emulator.requests == []


def test_a_latin1_header_and_the_project_go_out(emulator, stored, base, monkeypatch):
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_env")
    assert run("chat:completions", "retrieve", stored, "-H", "X-Note: caf\u00e9", *base)[0] == 0
    request = emulator.requests[-1]
    assert request.header("OpenAI-Project") == "proj_env"
    assert run("chat:completions", "retrieve", stored, "--project", "proj_flag", *base)[0] == 0
    assert emulator.requests[-1].header("OpenAI-Project") == "proj_flag"


def test_the_password_of_a_base_url_never_shows(emulator, transport):
    base = emulator.url.replace("http://", "http://gateway:s3cret%2Fpass@")
    for extra in ([], ["--debug"], ["--format-error", "json"]):
        status, out, err = run(
            "chat:completions", "retrieve", "chatcmpl-none", "--api-key", KEY, "--base-url", base, *extra
        )
        assert status == 1 and err.count("\n") >= 1 and "Traceback" not in err
        assert "s3cret" not in out + err and "gateway:s3" not in out + err


# -- export destinations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "words"),
    [
        ("", "it is empty"),
        ("sub/", "it names a folder"),
        (".", "it names a folder"),
        ("missing/out.jsonl", "does not exist"),
    ],
    ids=repr,
)
def test_export_destinations_that_cannot_be_written_are_refused_first(
    emulator, base, tmp_path, monkeypatch, output, words
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    status, out, err = run("chat:completions", "export", "-o", output, *base)
    assert (status, out) == (1, "")
    assert "--output" in err and words in err and one_message(err), err
    assert emulator.requests == [] and sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


def test_an_export_into_a_folder_that_is_a_file_is_one_line(emulator, base, tmp_path):
    # Checked whoever runs the test (root ignores a read-only folder's permissions; a folder that
    # cannot hold files is the monkeypatched case below).
    folder = tmp_path / "ro"
    folder.write_text("not a folder", encoding="utf-8")
    status, _, err = run("chat:completions", "export", "-o", str(folder / "x.jsonl"), *base)
    assert status == 1 and "--output" in err and "does not exist" in err and "unexpected" not in err
    assert one_message(err) and "Traceback" not in err
    assert emulator.requests == [] and folder.read_text(encoding="utf-8") == "not a folder"


def test_an_export_into_a_folder_that_cannot_hold_files_is_one_line(emulator, base, tmp_path, monkeypatch):
    real_open = os.open

    def refused(path: Any, flags: int, *args: Any) -> Any:
        if str(path).endswith(".partial"):  # the folder refuses the staging file
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refused)
    status, out, err = run("chat:completions", "export", "-o", str(tmp_path / "x.jsonl"), *base)
    assert (status, out) == (1, "")
    assert err == f"Cannot write the export in {tmp_path}: Permission denied. Nothing was sent.\n"
    assert emulator.requests == []


def test_a_short_header_value_does_not_blank_the_debug_log(emulator, stored, base):
    status, _, err = run(
        "chat:completions",
        "retrieve",
        stored,
        "-H",
        "X-A: 1",
        "-H",
        "X-Secret: hunter2secret",
        "--debug",
        *base,
    )
    assert status == 0
    assert "'X-A': '********'" in err and "'X-Secret': '********'" in err and "hunter2secret" not in err
    assert "StatusCode = 200" in err and "prompt_tokens" in err


# -- a hostile server -------------------------------------------------------------------------

VERB_LINES = {
    "retrieve": ["chat:completions", "retrieve", "c1"],
    "update": ["chat:completions", "update", "c1", "--metadata", "{a: b}"],
    "delete": ["chat:completions", "delete", "c1"],
    "create": ["chat:completions", "create", "--model", "m", "--message", "{role: user, content: x}"],
    "list": ["chat:completions", "list"],
    "messages": ["chat:completions:messages", "list", "c1"],
    "export": ["chat:completions", "export"],
}


@pytest.mark.parametrize("body", list(WRONG_BODIES), ids=str)
@pytest.mark.parametrize("verb", ["retrieve", "update", "delete", "create"])
def test_a_single_object_of_the_wrong_json_type_is_an_error(hostile, verb, body):
    hostile.script(Answer(200, WRONG_BODIES[body]))
    status, out, err = hostile_run(hostile, *VERB_LINES[verb], "--format", "json")
    assert (status, out) == (1, "")
    assert re.search("not an object|where a chat.completion", err) and one_message(err), err


@pytest.mark.parametrize("body", list(WRONG_PAGES), ids=str)
@pytest.mark.parametrize("verb", ["list", "messages", "export"])
def test_a_list_page_of_the_wrong_shape_is_an_error_not_an_empty_list(hostile, verb, body):
    hostile.script(Answer(200, WRONG_PAGES[body]))
    status, out, err = hostile_run(hostile, *VERB_LINES[verb], "--format", "jsonl")
    assert status == 1 and "All pages fetched" not in err and "unexpected" not in err, err
    assert re.search("list page|not an object", err) and out == ""  # checked whole before its items are shown


def test_an_export_over_a_bad_second_page_publishes_nothing(hostile, tmp_path):
    target = tmp_path / "out.jsonl"
    hostile.script(
        json_answer({"object": "list", "data": [{"id": "a"}], "has_more": True}),
        Answer(200, b'{"data": "zzz"}'),
    )
    status, out, err = hostile_run(hostile, "chat:completions", "export", "-o", str(target))
    assert (status, out) == (1, "") and "Saved" not in err and "list page" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("max_items", "receipt"), [("2", "Stopped at --max-items 2"), ("5", "All pages fetched.")]
)
def test_an_export_cut_short_by_max_items_says_so(emulator, base, tmp_path, max_items, receipt):
    emulator.store.seed(5, prefix="chatcmpl-k-")
    target = tmp_path / "out.jsonl"
    status, _, err = run(
        "chat:completions", "export", "--limit", "2", "--max-items", max_items, "-o", str(target), *base
    )
    assert status == 0 and receipt in err, err
    assert ("All pages fetched." in err) is (max_items == "5")
    assert len(target.read_text(encoding="utf-8").splitlines()) == int(max_items)


def test_an_export_refuses_an_item_repeated_across_pages(hostile, tmp_path):
    target = tmp_path / "out.jsonl"
    hostile.script(
        json_answer({"data": [{"id": "a"}, {"id": "b"}], "has_more": True}),
        json_answer({"data": [{"id": "b"}, {"id": "c"}], "has_more": False}),
    )
    status, out, err = hostile_run(hostile, "chat:completions", "export", "-o", str(target))
    assert (status, out) == (1, "") and "'b' a second time" in err and "Saved" not in err
    assert list(tmp_path.iterdir()) == []


def test_has_more_with_an_empty_page_stops_as_the_sdk_does(hostile):
    hostile.script(
        json_answer({"data": [{"id": "a"}], "has_more": True}), json_answer({"data": [], "has_more": True})
    )
    status, out, err = hostile_run(hostile, "chat:completions", "list", "--format", "jsonl")
    assert (status, err) == (0, "")
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a"]
    assert len(hostile.requests) == 2


def test_a_cursor_cycle_over_two_pages_stops(hostile):
    hostile.script(
        json_answer({"data": [{"id": "a"}], "has_more": True}),
        json_answer({"data": [{"id": "b"}], "has_more": True}),
        json_answer({"data": [{"id": "a"}], "has_more": True}),
    )
    status, out, err = hostile_run(hostile, "chat:completions", "list", "--format", "jsonl")
    assert status == 1 and "'a' a second time" in err
    # The page that goes back is refused before any of its items is printed.
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a", "b"]
    assert len(hostile.requests) == 3


@pytest.mark.parametrize("fmt", ["pretty", "json", "raw", "yaml"])
@pytest.mark.parametrize("echo", list(ECHOES), ids=str)
def test_an_echoed_key_never_reaches_the_output(hostile, echo, fmt):
    hostile.script(ECHOES[echo])
    status, out, err = hostile_run(
        hostile, "chat:completions", "retrieve", "c1", "--debug", "--format-error", "json", "--format", fmt
    )
    assert leaked(out + err) == [] and "Traceback" not in out + err
    assert FULLY_ESCAPED[60:120] not in out + err  # nor as JSON escapes in the logged raw body
    assert hostile.requests[0].headers["Authorization"] == f"Bearer {CANARY_KEY}"
    assert status == (0 if "success" in echo else 1)


def test_an_echoed_key_never_reaches_an_export_file(hostile, tmp_path):
    target = tmp_path / "out.jsonl"
    hostile.script(json_answer({"data": [{"id": "a", "note": CANARY_KEY}], "has_more": False}))
    status, out, err = hostile_run(hostile, "chat:completions", "export", "-o", str(target))
    assert status == 0
    assert leaked(target.read_text(encoding="utf-8") + out + err) == []


@pytest.mark.parametrize("status_code", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_with_the_key(hostile, status_code):
    with HostileServer() as elsewhere:
        hostile.script(Answer(status_code, b"", {"Location": elsewhere.url + "/steal"}))
        status, out, err = hostile_run(hostile, "chat:completions", "retrieve", "c1", "--debug")
        assert status == 1 and "Traceback" not in out + err and leaked(out + err) == []
        assert elsewhere.requests == []


def test_a_redirect_is_reported_as_the_status_it_is(hostile):
    hostile.script(Answer(302, b"", {"Location": hostile.url + "/elsewhere"}))
    status, out, err = hostile_run(hostile, "chat:completions", "retrieve", "c1")
    assert (status, out) == (1, "") and "302" in err and "unexpected" not in err


def test_a_connection_reset_mid_body_is_one_line(hostile):
    hostile.script(Answer(200, b'{"id": "c1", "object": "chat.completion"}', cut_after=8))
    status, out, err = hostile_run(hostile, "chat:completions", "retrieve", "c1", "--format-error", "json")
    # Not an API error: one line on stderr and nothing on stdout, whatever --format-error says.
    assert status == 1 and one_message(err) and "Traceback" not in err and "unexpected" not in err
    assert out == ""


def test_429_with_retry_after_is_waited_and_retried(hostile, clock):
    hostile.script(
        json_answer({"error": {"message": "slow"}}, 429, retry_after="2"),
        json_answer({"error": {"message": "slow"}}, 429, retry_after="2"),
        json_answer({"id": "c1"}),
    )
    status, out, err = run(
        "chat:completions",
        "retrieve",
        "c1",
        "--api-key",
        KEY,
        "--base-url",
        hostile.url,
        "--max-retries",
        "1",
    )
    assert status == 1 and "429" in err and len(hostile.requests) == 2
    assert 2.0 in clock.sleeps
    hostile.script(json_answer({"error": {"message": "busy"}}, 500), json_answer({"id": "c1"}))
    status, out, err = run("chat:completions", "retrieve", "c1", "--api-key", KEY, "--base-url", hostile.url)
    assert (status, err) == (0, "") and len(hostile.requests) == 2 and json.loads(out) == {"id": "c1"}


def test_a_dripping_body_is_cut_off_at_the_timeout(hostile):
    hostile.script(Answer(200, b'{"id": "c1", "pad": "' + b"x" * 40 + b'"}', drip=0.02))
    started = time.monotonic()
    status, _, _ = hostile_run(hostile, "chat:completions", "retrieve", "c1", "--timeout", "0.3")
    assert status == 1 and time.monotonic() - started < 0.9


def test_a_body_nested_too_deep_is_an_invalid_response(hostile):
    hostile.script(Answer(200, b"[" * 50000 + b"]" * 50000))
    status, _, err = hostile_run(hostile, "chat:completions", "retrieve", "c1")
    assert status == 1 and "unexpected" not in err and "not JSON" in err


def test_the_documented_typo_lines_in_a_real_terminal():
    """`psopenai chat completions update -h` and a misspelt verb, as typed in a terminal."""
    if sys.platform == "win32":
        pytest.skip("a POSIX pseudo-terminal")
    import pty

    def in_terminal(*argv: str) -> tuple[int, str]:
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["PYTHONPATH"] = str(ROOT)
            os.execvp(sys.executable, [*COMMAND, *argv])
        output = b""
        while True:
            try:
                ready, _, _ = select.select([fd], [], [], 10)
                chunk = os.read(fd, 4096) if ready else b""
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")

    code, text = in_terminal("chat", "completions", "update", "-h")
    assert code == 0 and "--metadata" in text and "--completion-id" in text and "Traceback" not in text
    code, text = in_terminal("chat:completions", "updte", "--completion-id", "x")
    assert code == 3 and "Did you mean 'psopenai chat:completions update'?" in text
