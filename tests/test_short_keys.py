"""A short or common key (``x``, ``gpt``, ``seed0``, which the emulator and some gateways accept)
never rewrites data: ids, model names, outputs, journals and exports come out byte-equal to what a
run with a long random key gives.  The key is masked where it stands as a credential, and one
warning says that it is too short to be hidden elsewhere.
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psopenai_py import scrub
from psopenai_py.emulator import Emulator
from psopenai_py.powershell import cli
from psopenai_py.secret import Secret

WORDS = [
    "x",
    "gpt",
    "seed0",
    "index",
    "chatcmpl",
    "gpt-4o",
    "mini",
    "4o",
    "model",
    "stop",
    "user",
    "id",
    "null",
    "true",
    "0",
    "1",
    "created",
    "chat",
    "content",
    "role",
    "-",
]
"""Words that occur in ids, model names and the JSON around them."""

short_keys = st.one_of(
    st.sampled_from(WORDS),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=8),
)

_TIME = re.compile(rb',"time":"[^"]*"')


def _populate(emulator: Emulator, word: str) -> list[str]:
    """Five stored completions whose ids, model, messages and metadata all hold ``word``."""
    emulator.reset()
    ids = []
    for index in range(5):
        ident = f"chatcmpl-{word}-{index}" if index % 2 == 0 else f"chatcmpl-x{index}seed0"
        emulator.store.create(
            model=f"gpt-4o-mini-{word}",
            messages=[{"role": "user", "content": f"say {word} and index {index}"}],
            metadata={"word": word, "index": "x"},
            completion_id=ident,
            created=1_800_000_000 + index,
        )
        ids.append(ident)
    return ids


def _run(
    emulator: Emulator, key: str, word: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, bytes]:
    """A piped bulk run with a journal, then an export, with ``key``: the data they produced."""
    ids = _populate(emulator, word)
    journal, export = folder / "run.jsonl", folder / "backup.jsonl"
    with monkeypatch.context() as patch:
        patch.setenv("OPENAI_API_KEY", key)
        patch.setenv("OPENAI_API_BASE", emulator.url)
        out, err = io.StringIO(), io.StringIO()
        status = cli.main(
            ["Set-ChatCompletion", "-MetaData", f"@{{tag='{word}'}}", "-Merge", "-Journal", str(journal)],
            stdin=io.StringIO("\n".join(ids) + "\n"),
            stdout=out,
            stderr=err,
        )
        assert status == 0, err.getvalue()
        exported = cli.main(
            ["Export-ChatCompletion", str(export), "-IncludeMessages"],
            stdin=io.StringIO(""),
            stdout=io.StringIO(),
            stderr=err,
        )
        assert exported == 0, err.getvalue()
    assert "Traceback" not in err.getvalue() and "unexpected error" not in err.getvalue()
    if len(key) >= 16:
        assert key[10:18] not in out.getvalue() + err.getvalue()  # the long key: no piece of it
    outputs = [json.loads(line)["id"] for line in out.getvalue().splitlines()]
    assert outputs == ids  # every item once, in order, under its own id
    return {
        "output": out.getvalue().encode("utf-8"),
        "journal": _TIME.sub(b"", journal.read_bytes()),
        "export": export.read_bytes(),
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=short_keys)
def test_a_short_key_changes_no_data(key: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    long_key = "sk-proj-" + secrets.token_urlsafe(36)
    # The data holds the short key itself wherever an id, a model name or a value can.
    word = key if re.fullmatch(r"[A-Za-z0-9_.-]+", key) else "w"
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        short = _run(emulator, key, word, Path(first), monkeypatch)
        long = _run(emulator, long_key, word, Path(second), monkeypatch)
    assert short == long
    assert f'"model":"gpt-4o-mini-{word}"'.encode() in short["export"]
    assert b'"index":0' in short["export"]


def test_ten_piped_ids_with_the_key_x_all_succeed(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = emulator.store.seed(10, prefix="chatcmpl-xseed0-", model="gpt-4o-mini-x")
    monkeypatch.setattr(scrub, "_warned", set())  # warned once per process: as if this one were new
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(
        ["Set-ChatCompletion", "-MetaData", "@{reviewed='x'}"],
        stdin=io.StringIO("\n".join(ids) + "\n"),
        stdout=out,
        stderr=err,
    )
    assert status == 0, err.getvalue()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == ids
    assert {line["model"] for line in lines} == {"gpt-4o-mini-x"}
    assert all(line["metadata"] == {"reviewed": "x"} for line in lines)
    # One warning says why the key is not hidden everywhere.
    warnings = [line for line in err.getvalue().splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1 and "1 character" in warnings[0]


# -- the contract, as a table -----------------------------------------------------------------------

SHORT = "x"
LONG = "sk-proj-Gh5Tk9Wm2Qz7Rc4Xn8Vb1Jd6Lf3Ps0Ya2Ue5Io8"


@pytest.mark.parametrize(
    "text,expected",
    [
        ('{"id":"chatcmpl-x","choices":[{"index":0}]}', '{"id":"chatcmpl-x","choices":[{"index":0}]}'),
        ("Authorization: Bearer x", "Authorization: Bearer ********"),
        ("http://user:x@proxy.example/", "http://********@proxy.example/"),
        ("GET /v1/models?api_key=x&limit=1", "GET /v1/models?api_key=********&limit=1"),
        ('{"api_key": "x"}', '{"api_key": "********"}'),
        ("No chat completion found with id 'chatcmpl-x'.", "No chat completion found with id 'chatcmpl-x'."),
        (f"echo {LONG}", "echo <OpenAI API Key>"),
        (f"echo {LONG[10:30]}", "echo ********"),
        ("Authorization: Bearer anything-at-all", "Authorization: Bearer ********"),
        ("Set OPENAI_API_KEY: RuntimeError", "Set OPENAI_API_KEY: RuntimeError"),
    ],
)
def test_diagnostics(text: str, expected: str) -> None:
    assert scrub.scrub(text, (SHORT, LONG)) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ('{"id":"chatcmpl-x","choices":[{"index":0}]}', '{"id":"chatcmpl-x","choices":[{"index":0}]}'),
        ('{"model":"gpt-4o-mini-x","content":"xx x-ray"}', '{"model":"gpt-4o-mini-x","content":"xx x-ray"}'),
        ('{"content":"Authorization: Bearer x"}', '{"content":"Authorization: Bearer ********"}'),
        ('{"content":"Authorization: Bearer xyz"}', '{"content":"Authorization: Bearer xyz"}'),
        ('{"content":"use the Bearer scheme"}', '{"content":"use the Bearer scheme"}'),
        ('{"content":"see http://me@example.com"}', '{"content":"see http://me@example.com"}'),
        ('{"content":"api_key=abc"}', '{"content":"api_key=abc"}'),
        (f'{{"content":"{LONG}"}}', '{"content":"<OpenAI API Key>"}'),
        (f'{{"content":"{LONG[12:40]}"}}', '{"content":"********"}'),
    ],
)
def test_data(text: str, expected: str) -> None:
    assert scrub.scrub_data(text, (SHORT, LONG)) == expected


def test_a_short_key_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    value = "seed" + secrets.token_hex(2)  # 8 characters, new to this process
    first, second = Secret(value), Secret(value)
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        scrub.register(first)
        scrub.register(second)
        scrub.register(Secret("sk-" + secrets.token_hex(20)))  # long enough: no warning
    warned = [r.getMessage() for r in caplog.records if "too short" in r.getMessage()]
    assert len(warned) == 1 and "8 characters" in warned[0]
    assert value not in warned[0]


@pytest.mark.parametrize("key", ["x", "gpt", "seed0"])
def test_the_dialect_keeps_data_whole_with_a_short_key(emulator: Emulator, tmp_path: Path, key: str) -> None:
    from psopenai_py.openai_cli import main as dialect_main

    ids = _populate(emulator, "gpt-x-seed0")
    flags = ["--api-key", key, "--base-url", emulator.url]
    out, err = io.StringIO(), io.StringIO()
    assert (
        dialect_main(["chat:completions", "list", "--format", "jsonl", *flags], stdout=out, stderr=err) == 0
    )
    listed = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [item["id"] for item in listed] == ids
    assert {item["model"] for item in listed} == {"gpt-4o-mini-gpt-x-seed0"}
    target = tmp_path / "backup.jsonl"
    assert dialect_main(["chat:completions", "export", "--output", str(target), *flags], stderr=err) == 0
    exported = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    assert exported == listed
