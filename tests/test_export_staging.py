"""The staging file of an export (Export-ChatCompletion's and the openai-CLI dialect's, one and the
same): created inside its clean-up, locked while its export runs, and removed by the next export
to the same destination when a killed export left it; never anyone else's file."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import psopenai_py
from psopenai_py.emulator import Emulator
from psopenai_py.openai_cli import main as dialect_main

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-staging-0000000000000000000000000"


def _left_behind(folder: Path, name: str = "x.jsonl", content: str = '{"id":"chatcmpl-old"}\n') -> Path:
    """A staging file as a killed export leaves it: hidden, mode 0600, part of a backup."""
    path = folder / f".{name}.0123456789abcdef.partial"
    path.write_text(content)
    path.chmod(0o600)
    return path


def _export(emulator: Emulator, target: Path) -> None:
    psopenai_py.export_chat_completion(str(target), api_key=KEY, api_base=emulator.url)


def test_the_next_export_removes_a_staging_file_a_killed_one_left(emulator: Emulator, tmp_path: Path) -> None:
    ids = emulator.store.seed(3, prefix="chatcmpl-stage-")
    stale = _left_behind(tmp_path)
    older = _left_behind(tmp_path)  # an older version's temporary name: 8 random characters
    older = older.rename(tmp_path / ".x.jsonl.k2j_9xq0.partial")
    target = tmp_path / "x.jsonl"
    _export(emulator, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.jsonl"]
    assert not stale.exists() and not older.exists()
    assert [json.loads(line)["id"] for line in target.read_text().splitlines()] == ids


def test_the_dialects_export_removes_it_too(emulator: Emulator, tmp_path: Path) -> None:
    emulator.store.seed(2, prefix="chatcmpl-stage-")
    _left_behind(tmp_path, "y.jsonl")
    target = tmp_path / "y.jsonl"
    err = io.StringIO()
    flags = ["--api-key", KEY, "--base-url", emulator.url]
    assert dialect_main(["chat:completions", "export", "--output", str(target), *flags], stderr=err) == 0, (
        err.getvalue()
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["y.jsonl"]


def test_other_files_are_left_alone(emulator: Emulator, tmp_path: Path) -> None:
    emulator.store.seed(1, prefix="chatcmpl-stage-")
    others = [
        _left_behind(tmp_path, "other.jsonl"),  # another destination's
        tmp_path / ".x.jsonl.partial",  # no random part
        tmp_path / "x.jsonl.0123456789abcdef.partial",  # not hidden
        tmp_path / ".x.jsonl.abc.partial",  # a random part too short to be ours
        tmp_path / ".x.jsonl.0123456789abcdef.partial.keep",
    ]
    for path in others[1:]:
        path.write_text("not ours")
    folder = tmp_path / ".x.jsonl.fedcba9876543210.partial"  # a directory of that name
    folder.mkdir()
    _export(emulator, tmp_path / "x.jsonl")
    assert all(path.exists() for path in others) and folder.is_dir()


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need privileges on Windows")
def test_a_symbolic_link_of_that_name_is_not_followed(emulator: Emulator, tmp_path: Path) -> None:
    emulator.store.seed(1, prefix="chatcmpl-stage-")
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    link = tmp_path / ".x.jsonl.0123456789abcdef.partial"
    link.symlink_to(precious)
    _export(emulator, tmp_path / "x.jsonl")
    assert precious.read_text() == "keep me" and link.is_symlink()


@pytest.mark.skipif(os.name != "posix", reason="the running export's lock is flock")
def test_a_running_exports_staging_file_is_not_removed(emulator: Emulator, tmp_path: Path) -> None:
    emulator.store.seed(1, prefix="chatcmpl-stage-")
    running = _left_behind(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX); "
            "print('held', flush=True); sys.stdin.read()",
            str(running),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        _export(emulator, tmp_path / "x.jsonl")
        assert running.exists()  # its export is still writing it
    finally:
        holder.kill()
        holder.wait(10)
    _export(emulator, tmp_path / "z.jsonl")  # another destination: still left alone
    assert running.exists()
    (tmp_path / "x.jsonl").unlink()
    _export(emulator, tmp_path / "x.jsonl")  # its process is gone: now it is stale
    assert not running.exists()


def test_a_signal_right_after_the_staging_file_is_created_leaves_nothing(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.store.seed(1, prefix="chatcmpl-stage-")
    real_open = os.open

    def open_then_signal(path: object, flags: int, *args: object) -> int:
        fd = real_open(path, flags, *args)  # type: ignore[arg-type]
        if str(path).endswith(".partial") and flags & os.O_CREAT:
            os.close(fd)
            raise KeyboardInterrupt  # as a signal handler raises it, the instant after the creation
        return fd

    monkeypatch.setattr(os, "open", open_then_signal)
    with pytest.raises(KeyboardInterrupt):
        _export(emulator, tmp_path / "x.jsonl")
    monkeypatch.setattr(os, "open", real_open)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_an_export_killed_then_run_again_leaves_only_the_backup(emulator: Emulator, tmp_path: Path) -> None:
    emulator.store.seed(300, prefix="chatcmpl-kill-")
    emulator.latency_ms = 10
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": KEY, "OPENAI_API_BASE": emulator.url}
    target = tmp_path / "x.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", "Export-ChatCompletion", str(target)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            p.name.endswith(".partial") and p.stat().st_size for p in tmp_path.iterdir()
        ):
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    left = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert len(left) == 1 and (left[0].stat().st_mode & 0o777) == 0o600
    emulator.latency_ms = 0
    _export(emulator, target)
    assert [p.name for p in tmp_path.iterdir()] == ["x.jsonl"]
    assert len(target.read_text().splitlines()) == 300
