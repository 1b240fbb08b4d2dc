"""The openai CLI's dialect of ``psopenai``: grammar, values, output, errors and exit codes, over
real HTTP against the emulator (subprocesses for the documented command lines)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from psopenai_py.emulator import Emulator, Fault
from psopenai_py.openai_cli import is_dialect, main
from psopenai_py.openai_cli.formats import indented
from psopenai_py.openai_cli.grammar import VERBS
from psopenai_py.openai_cli.jsontext import parse as parse_json
from psopenai_py.openai_cli.yaml_values import YAMLError, parse_yaml

from .conftest import CANARY_KEY

KEY = "sk-dialect-0000000000000000000000000"
COMMAND = [sys.executable, "-m", "psopenai_py"]


def psopenai(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL
    )


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def base(emulator: Emulator, transport) -> list[str]:
    return ["--api-key", KEY, "--base-url", emulator.url]


# -- the documented command line ------------------------------------------------------------------


def test_the_documented_update_line_as_a_subprocess(emulator, stored):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    result = psopenai(
        "chat:completions",
        "update",
        "--api-key",
        "My API Key",
        "--completion-id",
        stored,
        "--metadata",
        "{foo: string}",
        "--base-url",
        emulator.url,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # The official CLI's default output: the completion as indented JSON.
    completion = json.loads(result.stdout)
    assert completion["id"] == stored and completion["metadata"] == {"foo": "string"}
    assert result.stdout.startswith('{\n  "id": ')
    (request,) = emulator.requests
    assert (request.method, request.target) == ("POST", f"/v1/chat/completions/{stored}")
    assert request.body == b'{"metadata":{"foo":"string"}}'
    assert request.header("Authorization") == "Bearer My API Key"
    assert emulator.store.get(stored)["metadata"] == {"foo": "string"}


def test_json_format_is_the_api_object_as_returned(emulator, stored, base):
    status, out, err = run(
        "chat", "completions", "update", stored, "--metadata", '{"foo": "bar"}', "--format", "json", *base
    )
    assert (status, err) == (0, "")
    assert json.loads(out) == emulator.store.get(stored)
    assert list(json.loads(out)) == list(emulator.store.get(stored))  # the API's key order
    assert '"annotations": []' in out  # short arrays stay on one line


@pytest.mark.parametrize(
    "words",
    [
        ["chat:completions", "retrieve"],
        ["chat", "completions", "retrieve"],
        ["chat:completions:messages", "list"],
        ["chat", "completions", "messages", "list"],
    ],
)
def test_colon_and_space_forms(emulator, stored, base, words):
    status, out, err = run(*words, stored, *base, "--format", "jsonl")
    assert (status, err) == (0, "")
    assert json.loads(out.splitlines()[0])["id"].startswith(stored)


def test_global_flags_before_the_command_words(emulator, stored):
    argv = ["--api-key", KEY, "--base-url", emulator.url, "chat:completions", "retrieve", stored]
    assert is_dialect(argv)
    result = psopenai(*argv, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == stored


# -- help and version -----------------------------------------------------------------------------

HELP_LINES = [
    *([*v.resource.split(":"), v.name, "--help"] for v in VERBS),
    *([v.resource, v.name, "-h"] for v in VERBS),
    ["chat:completions", "--help"],
    ["chat", "--help"],
    ["chat", "completions"],
    ["chat:completions:messages", "-h"],
    ["chat:completions", "update", "--help", "--metadata", "{a: b}"],
    ["--help", "chat:completions", "update", "--no-such-flag"],
]


@pytest.mark.parametrize("argv", HELP_LINES, ids=" ".join)
def test_help_needs_no_key_or_network_and_sends_nothing(emulator, argv, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    status, out, err = run(*argv)
    assert (status, err) == (0, "")
    assert "usage: psopenai" in out and "--format" in out
    assert emulator.requests == []


def test_resource_help_lists_every_command(emulator):
    result = psopenai("chat:completions", "--help")
    assert result.returncode == 0
    for verb in VERBS:
        assert f"{verb.resource} {verb.name} " in result.stdout
    assert emulator.requests == []


def test_verb_help_lists_its_flags():
    status, out, _ = run("chat:completions", "list", "--help")
    for flag in ("--after", "--limit", "--metadata", "--model", "--order", "--max-items"):
        assert flag in out
    assert status == 0


@pytest.mark.parametrize("flag", ["--version", "-v"])
def test_version_before_the_command_words(flag):
    status, out, err = run(flag, "chat:completions", "list")
    assert (status, err) == (0, "") and out.startswith("psopenai version ")


def test_version_after_the_command_words_is_taken_and_ignored():
    # As the original's: only the root honours it; below, the help of the level shows.
    status, out, err = run("chat:completions", "-v")
    assert (status, err) == (0, "") and out.startswith("psopenai chat:completions:")


# -- bad command lines ----------------------------------------------------------------------------

BAD_LINES: list[tuple[list[str], int, str]] = [
    (["chat:completions", "bogus"], 3, "No help topic for 'bogus'"),
    (["chat", "nope", "list"], 3, "Did you mean 'psopenai chat:completions'"),
    (["chat:completions", "retrieve"], 1, 'Required flag "completion-id" not set'),
    (["chat:completions", "retrieve", "  "], 1, 'Required flag "completion-id"'),
    (["chat:completions", "update", "x"], 1, 'Required flag "metadata" not set'),
    (["chat:completions", "retrieve", "a", "b", "c"], 1, "Unexpected extra arguments: [b c]"),
    (["chat:completions", "list", "x"], 1, "Unexpected extra arguments: [x]"),
    (
        ["chat:completions", "update", "x", "--metadata", "foo=bar"],
        1,
        'Couldn\'t convert "foo=bar" (foo=bar) to expected type map[string]interface {}',
    ),
    (["chat:completions", "update", "x", "--metadata", "{foo: bar"], 1, "-metadata"),
    (["chat:completions", "update", "x", "--metadata", "{n: 1}"], 1, "-metadata"),
    (["chat:completions", "update", "x", "--metadata", "[a]"], 1, "-metadata"),
    (
        [
            "chat:completions",
            "update",
            "x",
            "--metadata",
            "{" + ", ".join(f"k{n}: v" for n in range(17)) + "}",
        ],
        1,
        "the limit is 16",
    ),
    (["chat:completions", "update", "x", "--metadata"], 1, "flag needs an argument: --metadata"),
    (
        ["chat:completions", "update", "x", "--limit", "3", "--metadata", "{}"],
        1,
        "flag provided but not defined: -limit",
    ),
    (["chat:completions", "list", "--limit", "ten"], 1, 'strconv.ParseInt: parsing "ten": invalid syntax'),
    (["chat:completions", "list", "--format", "xml"], 1, "-format: format must be one of: auto, explore"),
    (["chat:completions", "list", "--format-error", "text"], 1, "-format-error"),
    (["chat:completions", "list", "--transform", "a.#(b"], 1, "--transform"),
    (["chat:completions", "list", "--max-retries", "101"], 1, "--max-retries"),
    (["chat:completions", "list", "--timeout", "0"], 1, "--timeout"),
    (["chat:completions", "list", "--timeout", "nan"], 1, "--timeout"),
    (["chat:completions", "list", "--timeout", "1e300"], 1, "--timeout"),
    (["chat:completions", "list", "--base-url", "localhost:8080"], 1, "is missing a scheme"),
    (["chat:completions", "list", "--base-url", "http://u:pw@127.0.0.1:1/v1"], 1, "--base-url"),
    (["chat:completions", "list", "--base-url", "http://127.0.0.1:0/v1"], 1, "--base-url"),
    (["chat:completions", "list", "--organization", "org-a\x1bb"], 1, "--organization"),
    (["chat:completions", "list", "--project", "proj\nx"], 1, "--project"),
    (["chat:completions", "retrieve", "chatcmpl-a\x01b"], 1, "--completion-id"),
    (["chat:completions", "retrieve", "x" * 1025], 1, "--completion-id"),
    (["chat:completions", "list", "-H", "NoColon"], 1, "--header"),
    (["chat:completions", "list", "-H", "Bad Name: v"], 1, "--header"),
    (["chat:completions", "create", "--model", "m"], 1, 'Required flag "message"'),
    (["chat:completions", "create", "--message", "{role: user}"], 1, 'Required flag "model"'),
    (["chat:completions", "create"], 1, 'Required flags "message, model" not set'),
    (["chat:completions", "create", "--model", "m", "--message", "hi"], 1, "-message"),
    (["chat:completions", "create", "--model", "m", "--message", "{a: b}", "--store", "yes"], 1, "-store"),
    (["chat:completions", "create", "--model", "m", "--message", "{a: b}", "--seed", "1.5"], 1, "-seed"),
    (["chat:completions:messages", "list"], 1, 'Required flag "completion-id"'),
    (["chat:completions", "update", "x", "--metadata", "{a: b}", "--debug=maybe"], 1, "-debug"),
    (
        ["chat:completions", "update", "x", "--metadata", "{a: b}", "--mtls-client-cert-file", "c.pem"],
        1,
        "mutual TLS",
    ),
]


@pytest.mark.parametrize(("argv", "code", "words"), BAD_LINES, ids=lambda v: str(v)[:60])
def test_bad_command_lines_send_nothing(emulator, argv, code, words, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    status, out, err = run(*argv)
    assert status == code
    assert out == ""
    # One message: a line, or the two of a missing flag; the empty line the original puts after
    # an "Incorrect Usage" line.
    assert words in err and err.rstrip("\n").count("\n") <= 2, err
    assert "Traceback" not in err
    assert emulator.requests == []


def test_an_existing_export_file_is_refused_before_sending(emulator, base, tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("keep me")
    status, _, err = run("chat:completions", "export", "-o", str(target), *base)
    assert status == 1 and "the file exists" in err
    assert target.read_text() == "keep me" and emulator.requests == []


def test_a_bad_openai_base_url_is_refused(emulator, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "api.example.com/v1")
    status, _, err = run("chat:completions", "list", "--api-key", KEY)
    assert status == 1 and "OPENAI_BASE_URL" in err and emulator.requests == []


def test_no_key_is_one_line(emulator, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    status, out, err = run("chat:completions", "list")
    assert (status, out) == (1, "")
    assert err.startswith("Missing API key") and err.count("\n") == 1
    assert emulator.requests == []


# -- lists, paging, export ------------------------------------------------------------------------


def test_list_sends_only_the_flags_given_and_follows_every_page(emulator, base):
    emulator.store.seed(5, prefix="chatcmpl-o-", metadata={"team": "ops"})
    emulator.store.seed(2, prefix="chatcmpl-d-", metadata={"team": "dev"})
    status, out, err = run(
        "chat:completions", "list", "--metadata", "{team: ops}", "--limit", "2", "--format", "jsonl", *base
    )
    assert (status, err) == (0, "")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [f"chatcmpl-o-00000{n}" for n in range(5)]
    assert [r.target for r in emulator.requests] == [
        "/v1/chat/completions?limit=2&metadata%5Bteam%5D=ops",
        "/v1/chat/completions?limit=2&metadata%5Bteam%5D=ops&after=chatcmpl-o-000001",
        "/v1/chat/completions?limit=2&metadata%5Bteam%5D=ops&after=chatcmpl-o-000003",
    ]


@pytest.mark.parametrize(("max_items", "printed", "requests"), [("0", 0, 1), ("3", 3, 2), ("-1", 5, 3)])
def test_max_items(emulator, base, max_items, printed, requests):
    emulator.store.seed(5, prefix="chatcmpl-m-")
    status, out, _ = run(
        "chat:completions", "list", "--limit", "2", "--max-items", max_items, "--format", "jsonl", *base
    )
    assert status == 0
    assert len(out.splitlines()) == printed and len(emulator.requests) == requests


def test_a_repeated_cursor_stops_with_an_error(emulator, base):
    loop = {"object": "list", "data": [{"id": "same"}], "has_more": True}
    emulator.inject(Fault(status=200, body=loop, times=5))
    status, out, err = run("chat:completions", "list", "--format", "jsonl", *base)
    assert status == 1 and "'same' a second time" in err
    # The second page goes back to the first one's item: refused whole, nothing of it printed.
    assert len(out.splitlines()) == 1 and len(emulator.requests) == 2


def test_items_printed_before_a_failing_page_stay(emulator, base):
    first = {"object": "list", "data": [{"id": "a"}, {"id": "b"}], "has_more": True}
    emulator.inject(Fault(status=200, body=first), Fault(status=404, body={"error": {"message": "gone"}}))
    status, out, err = run("chat:completions", "list", "--format", "jsonl", *base)
    assert status == 1 and err.endswith(": 404 Not Found\n")
    # The two items, then the error object, each a line of its own (jsonl is not --format-error).
    lines = out.splitlines()
    assert [json.loads(line)["id"] for line in lines[:2]] == ["a", "b"]
    assert json.loads("".join(lines[2:])) == {"message": "gone"}
    assert emulator.requests[-1].target.endswith("?after=b")


def test_export_to_a_new_file(emulator, base, tmp_path):
    emulator.store.seed(5, prefix="chatcmpl-e-", metadata={"team": "ops"})
    target = tmp_path / "stored.jsonl"
    status, out, err = run("chat", "completions", "export", "--output", str(target), "--limit", "2", *base)
    assert (status, out) == (0, "")
    assert err == f"Saved {target}\nStored completions: 5\nAll pages fetched.\n"
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == emulator.store.list()
    assert list(tmp_path.iterdir()) == [target]


def test_export_to_stdout(emulator, base):
    emulator.store.seed(3, prefix="chatcmpl-x-")
    status, out, err = run("chat:completions", "export", *base)
    assert status == 0 and len(out.splitlines()) == 3
    assert err == "Stored completions: 3\nAll pages fetched.\n"


def test_a_failed_export_publishes_nothing(emulator, base, tmp_path):
    emulator.store.seed(4, prefix="chatcmpl-y-")
    target = tmp_path / "stored.jsonl"
    emulator.inject(
        Fault(status=200, body={"object": "list", "data": [{"id": "a"}], "has_more": True}),
        Fault(status=500, body={"error": {"message": "boom"}}, times=5),
    )
    status, _, err = run("chat:completions", "export", "-o", str(target), "--max-retries", "1", *base)
    assert status == 1 and "500" in err
    assert list(tmp_path.iterdir()) == []


# -- errors -------------------------------------------------------------------------------------


def test_api_error_is_the_status_line_and_the_error_object(emulator, base):
    status, out, err = run("chat:completions", "retrieve", "chatcmpl-none", *base)
    assert status == 1
    assert err == f'GET "{emulator.url}/chat/completions/chatcmpl-none": 404 Not Found\n'
    assert out == (
        "{\n"
        '  "message": "No chat completion found with id \'chatcmpl-none\'.",\n'
        '  "type": "invalid_request_error",\n'
        '  "param": null,\n'
        '  "code": "not_found"\n'
        "}\n"
    )


def test_format_error_json_prints_the_api_error_object(emulator, base):
    status, out, err = run("chat:completions", "delete", "chatcmpl-none", "--format-error", "json", *base)
    assert status == 1 and err.count("\n") == 1
    assert json.loads(out) == {
        "message": "No chat completion found with id 'chatcmpl-none'.",
        "type": "invalid_request_error",
        "param": None,
        "code": "not_found",
    }


def test_connection_error_is_one_line(transport):
    status, out, err = run(
        "chat:completions",
        "list",
        "--api-key",
        KEY,
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--format-error",
        "json",
    )
    # No API error: one line on stderr, nothing on stdout (as the original).
    assert status == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


def test_environment_names_after_the_flags(emulator, stored, monkeypatch, transport):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    assert run("chat:completions", "retrieve", stored)[0] == 0
    assert emulator.requests[-1].header("OpenAI-Organization") == "org-env"
    assert (
        run(
            "chat:completions",
            "retrieve",
            stored,
            "--organization",
            "org-flag",
            "-H",
            "X-Trace: a",
            "-H",
            "X-Trace: b",
        )[0]
        == 0
    )
    assert emulator.requests[-1].header("OpenAI-Organization") == "org-flag"
    assert emulator.requests[-1].header("X-Trace") == "b"


def test_retries_follow_max_retries(emulator, stored, base, clock):
    emulator.inject(Fault(status=503, body={"error": {"message": "busy"}}, times=3))
    assert run("chat:completions", "retrieve", stored, *base)[0] == 1
    assert len(emulator.requests) == 3  # the default: two retries
    emulator.reset()
    emulator.inject(Fault(status=503, body={"error": {"message": "busy"}}))
    stored_again = emulator.store.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert run("chat:completions", "retrieve", stored_again["id"], "--max-retries", "1", *base)[0] == 0


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=401, body={"error": {"message": f"Incorrect API key provided: {CANARY_KEY}"}}),
        Fault(status=500, body={"error": {"message": f"echo Bearer {CANARY_KEY}"}}, times=3),
        Fault(status=200, raw_body=f"<html>{CANARY_KEY}</html>"),
        Fault(drop=True, times=3),
        None,
    ],
    ids=["401-echo", "500-echo", "non-json", "drop", "success"],
)
def test_no_key_fragment_and_no_traceback(emulator, stored, transport, fault):
    if fault is not None:
        emulator.inject(fault)
    status, out, err = run(
        "chat:completions",
        "retrieve",
        stored,
        "--api-key",
        CANARY_KEY,
        "--base-url",
        emulator.url,
        "--debug",
        "--format-error",
        "json",
        "-H",
        "X-Secret: hunter2-value",
        "--format",
        "json",
    )
    text = out + err
    assert CANARY_KEY not in text and CANARY_KEY[12:] not in text and "Traceback" not in text
    assert "hunter2-value" not in text
    assert emulator.requests and emulator.requests[0].header("X-Secret") == "hunter2-value"
    assert status == (0 if fault is None else 1)
    assert "DEBUG" in err


# -- values: YAML's flow form and JSON --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("{foo: string}", {"foo": "string"}),
        (
            "{foo: bar baz, n: 1, ok: true, none: null, tilde: ~}",
            {"foo": "bar baz", "n": 1, "ok": True, "none": None, "tilde": None},
        ),
        ('{"a": "b", "c": [1, 2.5, "x"]}', {"a": "b", "c": [1, 2.5, "x"]}),
        (
            "{url: http://x/y?a=1, 'quoted key': 'it''s', \"esc\": \"a\\tb\\u00e9\"}",
            {"url": "http://x/y?a=1", "quoted key": "it's", "esc": "a\tb\u00e9"},
        ),
        ("{a: '1', b: \"true\", 7: seven}", {"a": "1", "b": "true", "7": "seven"}),
        (
            "{nested: {deep: [a, {b: c}]}, empty: {}, list: []}",
            {"nested": {"deep": ["a", {"b": "c"}]}, "empty": {}, "list": []},
        ),
        ("{a}", {"a": None}),
        ("{a: b,}", {"a": "b"}),
        ("{\n  team: ops,   # a comment\n  tier: gold\n}", {"team": "ops", "tier": "gold"}),
        ("null", None),
        ("[x, y]", ["x", "y"]),
        ("0x1F", 31),
        ("-.5", -0.5),
        ('"\\ud83d\\ude00"', "\U0001f600"),
    ],
)
def test_flow_values(text, value):
    assert parse_yaml(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "{a: b",
        "{a: b}}",
        "{a: [b}",
        "{a: &x b}",
        "{a: b, a: c}",
        "{[a]: b}",
        "'open",
        '"\\q"',
        "{a: b} c",
        "[a,,b]",
        "[" * 100 + "]" * 100,
    ],
)
def test_flow_errors(text):
    # Inside a flow value the message names the character; text after one, the line.
    with pytest.raises(
        YAMLError, match=r"at character \d+ \(line 1\)|unexpected text after a value \(line 1\)"
    ):
        parse_yaml(text)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(_values)
def test_json_parses_to_itself(value):
    assert parse_yaml(json.dumps(value)) == value
    assert parse_yaml(json.dumps(value, ensure_ascii=False, indent=2)) == value


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
        st.one_of(
            st.from_regex(r"[a-z][a-z0-9 ._/-]{0,12}[a-z0-9]", fullmatch=True),
            st.integers(-999, 999),
            st.booleans(),
            st.none(),
        ),
        max_size=5,
    )
)
def test_flow_mappings_read_as_yaml_reads_them(value):
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    expected = yaml.safe_load(text)
    assert parse_yaml(text) == expected


# -- output and dispatch ------------------------------------------------------------------------


def test_json_output_keeps_short_arrays_on_one_line():
    text = indented(parse_json(json.dumps({"a": ["x", "y"], "b": [{"c": 1}], "long": ["z" * 40, "w" * 40]})))
    assert '"a": ["x", "y"]' in text
    assert '"b": [\n    {\n      "c": 1\n    }\n  ]' in text
    assert '"long": [\n' in text
    assert json.loads(text) == {"a": ["x", "y"], "b": [{"c": 1}], "long": ["z" * 40, "w" * 40]}


@pytest.mark.parametrize(
    ("argv", "dialect"),
    [
        (["chat:completions", "list"], True),
        (["chat", "completions", "list"], True),
        (["chat:completions:messages", "list", "x"], True),
        (["--base-url", "http://x/v1", "chat:completions", "list"], True),
        (["--format", "json", "Set-ChatCompletion", "x"], False),
        (["--admin-api-key", "string", "chat:completions", "list"], True),
        (["--no-such-flag", "value", "chat:completions", "list"], True),
        (["--api-key=K", "chat:completions", "list"], True),
        (["--format", "json", "--no-such-flag", "x", "Get-ChatCompletion", "-Model", "chat"], False),
        (["Set-ChatCompletion", "-CompletionId", "chat"], False),
        (["help", "chat"], False),
        ([], False),
        (["--version"], False),
    ],
)
def test_dispatch(argv, dialect):
    assert is_dialect(argv) is dialect


def test_powershell_syntax_still_goes_to_the_powershell_cli(emulator, stored):
    env = {**os.environ, "OPENAI_API_BASE": emulator.url, "OPENAI_API_KEY": KEY}
    result = psopenai(
        "Set-ChatCompletion", "-CompletionId", stored, "-MetaData", "@{a='b'}", "--format", "json", env=env
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["metadata"] == {"a": "b"}


def test_the_migration_page_command_lines_parse():
    import shlex
    from pathlib import Path

    from psopenai_py.openai_cli.grammar import parse

    page = Path(__file__).resolve().parents[1] / "Docs" / "about_Migrating.md"
    lines = [line.strip().strip("`") for line in page.read_text(encoding="utf-8").splitlines()]
    found = [line.split("#")[0] for line in lines if line.startswith("psopenai chat")]
    found += [
        line.split("`")[1]
        for line in lines
        if "`psopenai chat:completions " in line and line.startswith("psopenai:")
    ]
    assert len(found) >= 8
    for line in found:
        words = shlex.split(line)[1:]
        assert is_dialect(words), line
        parsed = parse(words)
        assert parsed.verb is not None and parsed.help_for is None, line


def test_metadata_null_clears(emulator, stored, base):
    status, out, _ = run(
        "chat:completions", "update", stored, "--metadata", "null", "--format", "json", *base
    )
    assert status == 0 and json.loads(out)["metadata"] is None
    assert emulator.requests[0].body == b'{"metadata":null}'


@pytest.mark.parametrize(
    "words",
    [
        ["chat:completions", "update", "ID", "--metadata", "{a: b}"],
        ["chat:completions", "list", "--metadata", "{a: b}"],
        ["chat:completions", "delete", "ID"],
        ["chat:completions", "create", "--model", "m", "--message", "{role: user, content: x}"],
        ["chat:completions:messages", "list", "ID"],
        ["chat:completions", "export"],
    ],
    ids=lambda w: " ".join(w[:2]),
)
def test_every_verb_keeps_the_canary_out(emulator, stored, transport, words):
    emulator.inject(Fault(status=500, body={"error": {"message": f"echo {CANARY_KEY}"}}, times=3))
    argv = [stored if w == "ID" else w for w in words]
    status, out, err = run(
        *argv, "--api-key", CANARY_KEY, "--base-url", emulator.url, "--debug", "--format-error", "json"
    )
    assert status == 1 and len(emulator.requests) == 3
    text = out + err
    assert CANARY_KEY not in text and CANARY_KEY[12:] not in text and "Traceback" not in text
    assert "500 Internal Server Error" in err


@pytest.mark.parametrize("fmt", ["json", "jsonl", "raw", "pretty", "yaml"])
def test_a_legacy_code_page_stream_gets_escapes_not_an_error(emulator, base, fmt):
    created = emulator.store.create(
        model="m", messages=[{"role": "user", "content": "x"}], metadata={"note": "caf\u00e9 \U0001f600"}
    )
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252", newline="\n")
    status = main(["chat:completions", "retrieve", created["id"], "--format", fmt, *base], stdout=stream)
    stream.flush()
    assert status == 0
    text = raw.getvalue().decode("cp1252")
    if fmt in ("json", "jsonl", "raw"):
        assert json.loads(text)["metadata"] == {"note": "caf\u00e9 \U0001f600"}
    else:
        assert "note: caf\u00e9 \\U0001f600" in text


def test_an_unforeseen_error_is_one_line(emulator, base, monkeypatch, stored):
    from psopenai_py.commands import stored as stored_module

    def broken(*args, **kwargs):
        raise RuntimeError(f"Bearer {KEY}")

    monkeypatch.setattr(stored_module, "retrieve", broken)
    status, out, err = run("chat:completions", "retrieve", stored, *base)
    assert (status, out) == (1, "")
    assert err == "psopenai: unexpected error (RuntimeError); nothing more is shown.\n"
