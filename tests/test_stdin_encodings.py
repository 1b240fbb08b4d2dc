"""Standard input in the encodings Windows writes: PowerShell 5's ``>`` and Out-File write UTF-16
with a byte-order mark, ``Out-File -Encoding utf8`` a UTF-8 one.  Each is read as text, one item
a line; input that is not text is refused as a whole before anything is sent.  End to end in
subprocesses against the emulator, in both front-ends."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from psopenai_py.emulator import Emulator

KEY = "sk-encodings-000000000000000000000000"
COMMAND = [sys.executable, "-m", "psopenai_py"]

BOMS = {
    "utf-8-sig": b"",  # the codec writes its own mark
    "utf-16": b"",  # the codec writes its own mark, in the machine's byte order
    "utf-16-le": b"\xff\xfe",
    "utf-16-be": b"\xfe\xff",
    "utf-32-le": b"\xff\xfe\x00\x00",
    "utf-32-be": b"\x00\x00\xfe\xff",
}


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    url = emulator.url
    return {**os.environ, "OPENAI_API_BASE": url, "OPENAI_BASE_URL": url, "OPENAI_API_KEY": KEY}


@pytest.fixture
def ids(emulator: Emulator) -> list[str]:
    return [
        str(emulator.store.create(model="m", messages=[{"role": "user", "content": "x"}])["id"])
        for _ in range(2)
    ]


def run(args: list[str], data: bytes, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*COMMAND, *args], input=data, capture_output=True, timeout=60, env=env)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    )


def encoded(text: str, codec: str) -> bytes:
    return BOMS[codec] + text.encode(codec)


@pytest.mark.parametrize("codec", sorted(BOMS))
def test_ids_piped_in_a_marked_encoding_are_the_same_ids(codec, env, emulator, ids):
    # Two ids in, two updates out: never a third item made of a line end's second byte.
    data = encoded("".join(f"{i}\r\n" for i in ids), codec)
    done = run(["Set-ChatCompletion", "-MetaData", "@{u='16'}"], data, env)
    assert done.returncode == 0, done.stderr
    assert "U+0000" not in done.stderr and "UTF-8" not in done.stderr
    assert [r.target.rsplit("/", 1)[1] for r in emulator.requests] == ids
    for ident in ids:
        stored = emulator.store.get(ident)
        assert stored is not None and stored["metadata"] == {"u": "16"}


def test_utf16_lines_with_json_and_blank_lines_and_no_final_line_end(env, emulator, ids):
    text = f'\r\n{{"CompletionId": "{ids[0]}"}}\r\n\r\n  {ids[1]}  '
    done = run(["Set-ChatCompletion", "-MetaData", "@{k='é'}"], encoded(text, "utf-16-le"), env)
    assert done.returncode == 0, done.stderr
    assert len(emulator.requests) == 2
    assert emulator.store.get(ids[1])["metadata"] == {"k": "é"}


def test_a_utf16_line_that_is_not_utf16_fails_alone(env, emulator, ids):
    # A lone high surrogate on line 2: that line is its item's error, the others go through.
    bad = b"\x00\xd8\n\x00"
    data = b"\xff\xfe" + f"{ids[0]}\n".encode("utf-16-le") + bad + f"{ids[1]}\n".encode("utf-16-le")
    done = run(["Set-ChatCompletion", "-MetaData", "@{k='v'}"], data, env)
    assert done.returncode == 1
    assert "line 2 is not valid UTF-16" in done.stderr
    assert len(emulator.requests) == 2
    assert "1 failed" in done.stderr or done.stderr.count("Set-ChatCompletion:") == 1


@pytest.mark.parametrize(
    "data",
    [
        "chatcmpl-a\r\nchatcmpl-b\r\n".encode("utf-16-le"),  # UTF-16 without its mark
        b"\x00\x01\x02binary\x00\n",
    ],
    ids=["utf16-unmarked", "binary"],
)
def test_input_that_is_not_text_is_refused_as_a_whole_and_nothing_is_sent(data, env, emulator, ids):
    done = run(["Set-ChatCompletion", "-MetaData", "@{k='v'}"], data, env)
    assert done.returncode == 2, done.stderr
    assert "standard input" in done.stderr.lower() and "NUL" in done.stderr
    assert "Nothing was sent" in done.stderr
    assert done.stderr.count("\n") <= 2  # one refusal, not one error per garbled item
    assert emulator.requests == []


def test_dialect_reads_piped_yaml_in_utf16(env, emulator, ids):
    data = encoded("metadata:\r\n  team: ü\r\n", "utf-16")
    done = run(["chat:completions", "update", ids[0]], data, env)
    assert done.returncode == 0, done.stderr
    assert json.loads(emulator.requests[0].body or "{}") == {"metadata": {"team": "ü"}}


def test_dialect_refuses_piped_data_that_is_not_text(env, emulator, ids):
    done = run(["chat:completions", "update", ids[0]], b"\xff\xfe\x00\xd8", env)
    assert done.returncode != 0
    assert "UTF-16" in done.stderr and "codec" not in done.stderr
    assert emulator.requests == []


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_a_wide_line_past_the_limit_fails_alone_and_the_next_lines_are_read(codec):
    from psopenai_py.errors import ParameterBindingError
    from psopenai_py.powershell.stdin import MAX_LINE_BYTES, StdinItems

    text = "chatcmpl-a\n" + "x" * MAX_LINE_BYTES + "\nchatcmpl-b\n\u0a0a\u010a\n"
    stream = io.TextIOWrapper(io.BytesIO(BOMS[codec] + text.encode(codec)))
    items = list(StdinItems(stream))
    assert items[0] == "chatcmpl-a" and isinstance(items[1], ParameterBindingError)
    # Bytes 0x0a inside other characters (U+0A0A, U+010A) end no line.
    assert items[2:] == ["chatcmpl-b", "\u0a0a\u010a"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_the_progress_total_of_a_wide_file_is_left_unknown_rather_than_miscounted(codec, tmp_path):
    import time

    from psopenai_py.powershell.progress import InputCount

    path = tmp_path / "ids.txt"
    path.write_bytes(BOMS[codec] + "chatcmpl-a\r\nchatcmpl-b\r\n".encode(codec))
    with open(path, "rb") as stream:
        counter = InputCount(stream)
        time.sleep(0.2)  # the count runs in a thread: give it time to (wrongly) finish
        assert counter.count() is None
