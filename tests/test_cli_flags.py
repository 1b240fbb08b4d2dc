"""The openai CLI dialect's flags: derived from the API description (the committed table is the
derivation's, a field added to the description adds its flag), the official CLI's create flags
one for one, value kinds as its parser reads them, inner --a.b flags, the argument parser's
rules and its wording, and root flags at every level."""

from __future__ import annotations

import copy
import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from psopenai_py.openai_cli import main
from psopenai_py.openai_cli.api_flags import TABLE
from psopenai_py.openai_cli.arguments import missing_required, take_positionals
from psopenai_py.openai_cli.flag_values import convert
from psopenai_py.openai_cli.grammar import (
    VERBS,
    Parsed,
    UnknownCommand,
    UsageError,
    Verb,
    parse,
    verbs_from,
)
from psopenai_py.openai_cli.inputs import Stdin, build

ROOT = Path(__file__).resolve().parents[1]


def derivation() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "derive_cli_flags", ROOT / "contract" / "derive_cli_flags.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- derived from the description ----------------------------------------------------------------


def test_the_shipped_table_is_the_descriptions():
    derive = derivation()
    derived = derive.derive(derive.load())
    assert derived == TABLE
    # The committed file is the script's output to the letter: a line per command and per flag.
    shipped = ROOT / "psopenai_py" / "openai_cli" / "api_flags.json"
    assert shipped.read_text(encoding="utf-8") == derive.render(derived)


def test_a_field_added_to_the_description_adds_its_flag():
    derive = derivation()
    document = copy.deepcopy(derive.load())
    request = document["components"]["schemas"]["CreateChatCompletionRequest"]["allOf"][1]
    request["properties"]["reasoning_summary"] = {
        "type": "string",
        "nullable": True,
        "description": "A summary of the reasoning. More text.",
    }
    request["properties"]["labels"] = {
        "type": "array",
        "items": {"type": "object", "properties": {"k": {"type": "string"}}},
    }
    verbs = verbs_from(derive.derive(document))
    create = next(v for v in verbs if v.title == "chat:completions create")
    summary = create.flag("reasoning-summary")
    assert summary is not None and (summary.kind, summary.api_field, summary.help) == (
        "string?",
        "reasoning_summary",
        "A summary of the reasoning.",
    )
    assert create.flag("label") is not None and create.flag("label.k") is not None
    parsed = parse(
        [
            "chat:completions",
            "create",
            "--model",
            "m",
            "--message",
            "{role: user, content: hi}",
            "--reasoning-summary",
            "short",
            "--label.k",
            "v",
        ],
        verbs,
    )
    assert parsed.verb is not None
    take_positionals(parsed)
    request_built = build(parsed.verb, parsed, Stdin(None))
    assert request_built.body["reasoning_summary"] == "short" and request_built.body["labels"] == [{"k": "v"}]
    # Without the field, the same line is refused as the official parser refuses a flag it lacks.
    with pytest.raises(UsageError, match="flag provided but not defined: -reasoning-summary"):
        parse(["chat:completions", "create", "--reasoning-summary", "short"])


# The official CLI 1.8.0's create flags (pkg/cmd/chatcompletion.go), by the Go type of each.
OFFICIAL_CREATE = {
    "message": "[]map[string]any",
    "model": "string",
    "audio": "map[string]any",
    "frequency-penalty": "*float64",
    "function-call": "any",
    "function": "[]map[string]any",
    "logit-bias": "map[string]any",
    "logprobs": "*bool",
    "max-completion-tokens": "*int64",
    "max-tokens": "*int64",
    "metadata": "map[string]any",
    "modality": "any",
    "moderation": "map[string]any",
    "n": "*int64",
    "parallel-tool-calls": "bool",
    "prediction": "map[string]any",
    "presence-penalty": "*float64",
    "prompt-cache-key": "*string",
    "prompt-cache-options": "map[string]any",
    "prompt-cache-retention": "*string",
    "reasoning-effort": "*string",
    "response-format": "map[string]any",
    "safety-identifier": "*string",
    "seed": "*int64",
    "service-tier": "*string",
    "stop": "any",
    "store": "*bool",
    "stream": "*bool",
    "stream-options": "map[string]any",
    "temperature": "*float64",
    "tool-choice": "any",
    "tool": "[]map[string]any",
    "top-logprobs": "*int64",
    "top-p": "*float64",
    "user": "string",
    "verbosity": "*string",
    "web-search-options": "map[string]any",
    "max-items": "int64",
    "audio.format": "string",
    "audio.voice": "any",
    "function.name": "string",
    "function.description": "string",
    "function.parameters": "map[string]any",
    "moderation.model": "string",
    "moderation.policy": "map[string]any",
    "prediction.content": "any",
    "prediction.type": "string",
    "prompt-cache-options.mode": "string",
    "prompt-cache-options.ttl": "string",
    "stream-options.include-obfuscation": "bool",
    "stream-options.include-usage": "bool",
    "web-search-options.search-context-size": "string",
    "web-search-options.user-location": "map[string]any",
}
GO_KINDS = {
    "[]map[string]any": "objects",
    "string": "string",
    "*string": "string?",
    "map[string]any": "map",
    "*float64": "float?",
    "*int64": "int?",
    "int64": "int",
    "*bool": "bool?",
    "bool": "switch",
    "any": "any",
}


def test_create_has_the_official_flags_one_for_one():
    create = next(v for v in VERBS if v.title == "chat:completions create")
    assert len(OFFICIAL_CREATE) == 53
    assert {f.name: f.kind for f in create.flags} == {n: GO_KINDS[t] for n, t in OFFICIAL_CREATE.items()}
    assert [f.name for f in create.flags if f.required] == ["message", "model"]


@pytest.mark.parametrize(
    ("title", "flags"),
    [
        ("chat:completions retrieve", {"completion-id": "string"}),
        ("chat:completions update", {"completion-id": "string", "metadata": "map"}),
        ("chat:completions delete", {"completion-id": "string"}),
        (
            "chat:completions list",
            {
                "after": "string",
                "limit": "int",
                "metadata": "map",
                "model": "string",
                "order": "string",
                "max-items": "int",
            },
        ),
        (
            "chat:completions:messages list",
            {
                "completion-id": "string",
                "after": "string",
                "limit": "int",
                "order": "string",
                "max-items": "int",
            },
        ),
    ],
)
def test_the_other_commands_flags(title, flags):
    verb = next(v for v in VERBS if v.title == title)
    assert {f.name: f.kind for f in verb.flags} == flags


# -- values -----------------------------------------------------------------------------------------


def value(kind: str, text: str) -> Any:
    flag = next(f for v in VERBS for f in v.flags if f.kind == kind)
    return convert(flag, text)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("int?", "42", 42),
        ("int?", "-7", -7),
        ("int?", "0x2a", 42),
        ("int?", "0o52", 42),
        ("int?", "052", 42),
        ("int?", "0b101010", 42),
        ("int?", "1_000", 1000),
        ("int?", "null", None),
        ("int?", "-9007199254740991", -9007199254740991),
        ("float?", "1", 1),
        ("float?", "0.5", 0.5),
        ("float?", "1e-3", 0.001),
        ("float?", "-2", -2),
        ("float?", "null", None),
        ("bool?", "true", True),
        ("bool?", "T", True),
        ("bool?", "0", False),
        ("bool?", "FALSE", False),
        ("bool?", "null", None),
        ("string?", "null", None),
        ("string?", "null ", "null "),
        ("string", "null", "null"),
        ("map", "{foo: bar}", {"foo": "bar"}),
        ("map", '{"foo": 1}', {"foo": 1}),
        ("map", "a: 1\nb: [x, y]\n", {"a": 1, "b": ["x", "y"]}),
        ("map", "{x: yes}", {"x": "yes"}),
        ("map", "null", None),
        ("any", "none", "none"),
        ("any", "[text, audio]", ["text", "audio"]),
        ("any", '"\\n"', "\n"),
        ("any", "END", "END"),
        ("any", "@prompt.txt", "@prompt.txt"),
        ("any", "{name: f}", {"name": "f"}),
        ("any", "abc=", "abc="),
        ("objects", "{role: user, content: hi}", {"role": "user", "content": "hi"}),
    ],
)
def test_values_as_the_official_parser_reads_them(kind, text, expected):
    got = value(kind, text)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("int?", "ten", 'strconv.ParseInt: parsing "ten": invalid syntax'),
        ("int?", "1.5", 'strconv.ParseInt: parsing "1.5": invalid syntax'),
        ("int?", "9223372036854775808", "value out of range"),
        ("float?", "x", 'strconv.ParseFloat: parsing "x": invalid syntax'),
        ("float?", "inf", "json: unsupported value: +Inf"),
        ("bool?", "yes", 'strconv.ParseBool: parsing "yes": invalid syntax'),
        ("map", "foo=bar", 'Couldn\'t convert "foo=bar" (foo=bar) to expected type map[string]interface {}'),
        ("map", "[a, 1]", 'Couldn\'t convert "[a, 1]" ([a 1]) to expected type map[string]interface {}'),
        ("map", "{a: b", "failed to parse as YAML: "),
        ("map", "", "it is empty"),
        ("objects", "[{role: user}]", "Couldn't convert"),
        ("any", "{broken", "failed to parse as YAML"),
    ],
)
def test_values_refused_with_the_official_reason(kind, text, reason):
    with pytest.raises(ValueError, match=".*".join(map(_escape, reason.split("*")))):
        value(kind, text)


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def create(*flags: str) -> Parsed:
    return parse(
        ["chat:completions", "create", "--model", "m", "--message", "{role: user, content: x}", *flags]
    )


def body_of(parsed: Parsed) -> Any:
    assert parsed.verb is not None
    take_positionals(parsed)
    return build(parsed.verb, parsed, Stdin(None)).body


def test_repeated_flags_append_or_replace():
    body = body_of(create("--message", "{role: user, content: y}", "--seed", "1", "--seed", "2"))
    assert body["messages"] == [{"role": "user", "content": "x"}, {"role": "user", "content": "y"}]
    assert body["seed"] == 2


def test_inner_flags_fill_the_last_element_or_start_a_new_one():
    body = body_of(
        create(
            "--function.name",
            "a",
            "--function.description",
            "first",
            "--function.name",
            "b",
            "--audio.format",
            "wav",
            "--audio.voice",
            "alloy",
            "--stream-options.include-usage",
            "--stream-options.include-obfuscation=false",
        )
    )
    assert body["functions"] == [{"name": "a", "description": "first"}, {"name": "b"}]
    assert body["audio"] == {"format": "wav", "voice": "alloy"}
    assert body["stream_options"] == {"include_obfuscation": False, "include_usage": True}


def test_a_later_outer_value_replaces_inner_fields():
    body = body_of(create("--audio.format", "wav", "--audio", "{voice: alloy}"))
    assert body["audio"] == {"voice": "alloy"}


def test_only_the_flags_given_are_sent_with_keys_in_order():
    body = body_of(create("--parallel-tool-calls=false", "--temperature", "1", "--stop", '"\\n"'))
    assert body == {
        "messages": [{"content": "x", "role": "user"}],
        "model": "m",
        "parallel_tool_calls": False,
        "stop": "\n",
        "temperature": 1,
    }
    assert list(body) == sorted(body) and list(body["messages"][0]) == ["content", "role"]


# -- the parser's rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--api-key", "K", "chat:completions", "retrieve", "x"],
        ["chat:completions", "--api-key", "K", "retrieve", "x"],
        ["chat:completions", "retrieve", "x", "--api-key", "K"],
        ["chat:completions", "retrieve", "-api-key", "K", "x"],
        ["chat:completions", "retrieve", "--api-key=K", "x"],
    ],
)
def test_root_flags_at_every_level_and_with_either_dash(argv):
    parsed = parse(argv)
    assert parsed.get("api-key") == "K" and parsed.positionals == ["x"]


def test_every_root_flag_is_taken_after_the_command():
    parsed = parse(
        [
            "chat:completions",
            "retrieve",
            "x",
            "--organization",
            "org-1",
            "--project",
            "proj-1",
            "--admin-api-key",
            "sk-admin-1",
            "--webhook-secret",
            "whsec_1",
            "--format",
            "yaml",
            "--format-error",
            "raw",
            "--transform",
            "id",
            "--transform-error",
            "message",
            "-r",
            "--debug",
            "--base-url",
            "http://127.0.0.1:1/v1",
        ]
    )
    assert parsed.get("webhook-secret") == "whsec_1" and parsed.get("raw-output") is True
    assert parsed.get("format") == "yaml" and parsed.get("debug") is True


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["chat:completions", "retrieve", "--", "--not-a-flag"], ["--not-a-flag"]),
        (["chat:completions", "retrieve", "-1", "--format", "json"], ["-1", "--format", "json"]),
        (["chat:completions", "retrieve", "-", "x"], ["-"]),
        (["chat:completions", "retrieve", " x ", "", "--nope"], ["x"]),
    ],
)
def test_arguments_as_the_official_parser_takes_them(argv, words):
    assert parse(argv).positionals == words


@pytest.mark.parametrize(
    ("argv", "message", "suggestion", "root_help"),
    [
        (
            ["chat:completions", "list", "--limt", "5"],
            "flag provided but not defined: -limt",
            "--limit",
            False,
        ),
        (
            # A command's flag before its word: unknown there; help is too unlike to be suggested.
            ["chat:completions", "--limit", "5", "list"],
            "flag provided but not defined: -limit",
            "",
            False,
        ),
        (
            ["--formt", "json", "chat:completions", "list"],
            "flag provided but not defined: -formt",
            "--format",
            True,
        ),
        (["chat:completions", "list", "--limit"], "flag needs an argument: --limit", "", False),
        (
            ["chat:completions", "create", "--store", "--model", "m"],
            'invalid value "--model" for flag -store: strconv.ParseBool',
            "",
            False,
        ),
        (
            ["chat:completions", "list", "-format", "xml"],
            'invalid value "xml" for flag -format: format must be one of: '
            "auto, explore, json, jsonl, pretty, raw, yaml",
            "",
            False,
        ),
    ],
)
def test_usage_errors_in_the_official_words(argv, message, suggestion, root_help):
    with pytest.raises(UsageError) as caught:
        parse(argv)
    assert str(caught.value).startswith(f"Incorrect Usage: {message}")
    assert (caught.value.suggestion, caught.value.root_help) == (suggestion, root_help)
    hint = f'Did you mean "{suggestion}"?\n\n' if suggestion else ""
    assert caught.value.lines() == f"{caught.value}\n\n{hint}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["chat:completions", "updte", "--completion-id", "x"],
            "No help topic for 'updte'. Did you mean 'psopenai chat:completions update'?",
        ),
        (
            ["chat:completion", "list"],
            "No help topic for 'chat:completion'. Did you mean 'psopenai chat:completions'?",
        ),
        (
            ["chat", "completion", "list"],
            "No help topic for 'completion'. Did you mean 'psopenai chat:completions'?",
        ),
    ],
)
def test_unknown_command_words(argv, message):
    with pytest.raises(UnknownCommand, match="^" + _escape(message) + "$"):
        parse(argv)


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (["chat:completions", "create"], 'Required flags "message, model" not set'),
        (["chat:completions", "create", "--model", "m"], 'Required flag "message" not set'),
        (["chat:completions", "update"], 'Required flags "completion-id, metadata" not set'),
        (["chat:completions", "update", "x"], 'Required flag "metadata" not set'),
    ],
)
def test_required_flags_in_the_official_words(argv, missing):
    parsed = parse(argv)
    assert isinstance(parsed.verb, Verb)
    take_positionals(parsed)
    problem = missing_required(parsed.verb, parsed, {})
    assert problem is not None
    title = parsed.verb.title
    assert problem.lines() == f"{missing}\nRun 'psopenai {title} --help' for usage information\n"


def test_an_unknown_flag_before_the_command_words_prints_the_help_too():
    out, err = io.StringIO(), io.StringIO()
    status = main(["--formt", "json", "chat:completions", "list"], stdout=out, stderr=err)
    assert status == 1
    assert (
        err.getvalue()
        == 'Incorrect Usage: flag provided but not defined: -formt\n\nDid you mean "--format"?\n\n'
    )
    assert out.getvalue().startswith("psopenai chat:completions: stored chat completions")


def test_help_lists_every_flag_of_the_command_with_its_api_default():
    out = io.StringIO()
    assert main(["chat:completions", "create", "--help"], stdout=out) == 0
    text = out.getvalue()
    for flag in OFFICIAL_CREATE:
        assert f"--{flag} " in text or f"--{flag}\n" in text, flag
    assert "(API default 1)" in text and "required" in text
    assert json.dumps(TABLE)  # the table is plain data


CANARY = "sk-proj-CANARY0a1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ"


@pytest.mark.parametrize(
    "argv",
    [
        ["chat:completions", "list", "--limit", CANARY],
        ["chat:completions", "create", "--model", "m", "--message", CANARY],
        ["chat:completions", "list", "--format", CANARY],
        ["--api-key", CANARY, "chat:completions", "list", "--limit", "x" + CANARY[3:]],
        ["chat:completions", "retrieve", "x", "--transform", "a.#(" + CANARY],
    ],
)
def test_a_usage_error_never_quotes_a_key(argv):
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, stdout=out, stderr=err) == 1
    text = out.getvalue() + err.getvalue()
    assert "Incorrect Usage" in text
    assert not any(CANARY[i : i + 8] in text for i in range(len("sk-proj-") + 3, len(CANARY) - 7)), text
