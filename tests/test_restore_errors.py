"""Restore-ChatCompletionMetadata names the completion in every error line (a 500, a dropped
connection), as Set-ChatCompletion does; a journal whose id or metadata holds a lone surrogate is
refused as damaged, in one line, before anything is sent."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

import psopenai_py
from psopenai_py.compat import Set_ChatCompletion
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.powershell import cli

KEY = "sk-restore-errors-0000000000000000000"


@pytest.fixture
def journal(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    ids = emulator.store.seed(3, prefix="chatcmpl-undo-")
    path = tmp_path / "j.jsonl"
    Set_ChatCompletion(ids, MetaData={"k": "v"}, Journal=str(path))
    return path, ids


def _restore(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(
        ["Restore-ChatCompletionMetadata", *argv], stdin=io.StringIO(""), stdout=out, stderr=err
    )
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "fault",
    [Fault(status=500, method="POST"), Fault(drop=True, method="POST"), Fault(status=500, method="GET")],
    ids=["a 500", "a dropped connection", "a 500 reading"],
)
def test_each_error_line_names_its_completion(
    emulator: Emulator, journal: tuple[Path, list[str]], fault: Fault
) -> None:
    path, ids = journal
    emulator.inject(fault)
    status, out, err = _restore(str(path), "-MaxRetryCount", "0")
    assert status == 1
    lines = err.splitlines()
    assert len(lines) == 1, err
    # Newest change first: the journal's last id is the first restored, and the one that failed.
    assert lines[0].startswith(f"Restore-ChatCompletionMetadata: [{ids[-1]}] "), lines[0]
    restored = [json.loads(line)["id"] for line in out.splitlines()]
    assert restored == list(reversed(ids[:-1]))  # every other id once, in order


def test_the_library_names_it_too(
    emulator: Emulator, journal: tuple[Path, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    path, ids = journal
    emulator.inject(Fault(status=500, method="POST"))
    with caplog.at_level(logging.WARNING, logger="psopenai_py"), pytest.raises(Exception, match="500"):
        psopenai_py.restore_chat_completion_metadata(str(path), max_retry_count=0)
    warned = [r.getMessage() for r in caplog.records if "500" in r.getMessage()]
    assert len(warned) == 1 and warned[0].startswith(f"[{ids[-1]}] ")


@pytest.mark.parametrize(
    "record,field",
    [
        (
            '{"v":1,"op":"set","state":"done","id":"chatcmpl-\\ud800x","before":{"a":"1"},"after":{"a":"2"}}',
            "id",
        ),
        (
            '{"v":1,"op":"set","state":"done","id":"chatcmpl-a","before":{"a":"\\udc00"},"after":{"a":"2"}}',
            "before",
        ),
        ('{"v":1,"op":"set","state":"done","id":"chatcmpl-a","before":{},"after":{"\\ud83d":"1"}}', "after"),
        ('{"v":1,"op":"set\\udfff","state":"done","id":"chatcmpl-a","before":{},"after":{}}', "op"),
    ],
    ids=["id", "a value", "a key", "op"],
)
@pytest.mark.parametrize("whatif", [True, False], ids=["WhatIf", "run"])
def test_a_lone_surrogate_in_a_journal_is_one_line_and_nothing_sent(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record: str, field: str, whatif: bool
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    path = tmp_path / "j.jsonl"
    good = '{"v":1,"op":"set","state":"done","id":"chatcmpl-ok","before":{"a":"1"},"after":{"a":"2"}}'
    path.write_text(good + "\n" + record + "\n", encoding="utf-8")
    status, out, err = _restore(str(path), *(["-WhatIf"] if whatif else []))
    assert status == 2 and out == ""
    assert err.splitlines() == [
        f"Restore-ChatCompletionMetadata: Line 2 of the journal '{path}' is not a valid record: its "
        f"{field} holds a lone surrogate, which is not text."
    ]
    assert emulator.requests == []


def test_a_surrogate_pair_is_text(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    emulator.store.create(
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        metadata={"a": "2"},
        completion_id="chatcmpl-ok",
    )
    path = tmp_path / "j.jsonl"
    path.write_text(
        '{"v":1,"op":"set","state":"done","id":"chatcmpl-ok","before":{"a":"\\ud83d\\ude00"},"after":{"a":"2"}}\n',
        encoding="utf-8",
    )
    status, out, err = _restore(str(path))
    assert status == 0, err
    assert json.loads(out)["metadata"] == {"a": "\U0001f600"}
