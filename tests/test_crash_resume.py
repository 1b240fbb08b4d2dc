"""A journaled bulk -Merge killed with SIGKILL at random points, then resumed: every item ends
changed exactly once.  The CLI runs in subprocesses against the test's emulator, which records
every request it receives."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from psopenai_py.emulator import Emulator
from psopenai_py.journal import read_records

from .conftest import CANARY_KEY

ROOT = Path(__file__).resolve().parents[1]
COUNT = 500
BEFORE = {"team": "ops", "draft": "1"}
INTENDED = {"team": "ops", "reviewed": "yes"}
KILLS = 4
SEED = 20261122


def _start(journal: Path, ids: list[str], emulator: Emulator) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "psopenai_py",
        "Set-ChatCompletion",
        "-Merge",
        "-MetaData",
        "@{reviewed='yes'; draft=$null}",
        "-Journal",
        str(journal),
        "-Resume",  # also for the first run: a missing journal starts a new one
        "-ThrottleLimit",
        "8",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": CANARY_KEY,
        "OPENAI_API_BASE": emulator.url,
    }
    process = subprocess.Popen(
        command, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stdin is not None
    process.stdin.write("".join(i + "\n" for i in ids).encode())
    process.stdin.close()
    return process


def _lines(journal: Path) -> int:
    try:
        return journal.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX; Windows' kill is TerminateProcess")
def test_killed_at_random_points_then_resumed_changes_every_item_once(
    tmp_path: Path, emulator: Emulator
) -> None:
    ids = emulator.store.seed(COUNT, prefix="chatcmpl-crash-", metadata=BEFORE)
    emulator.latency_ms = 2
    journal = tmp_path / "j.jsonl"
    rng = random.Random(SEED)
    # A full run writes about 2 records per item: kill at journal sizes spread over the run.
    targets = sorted(rng.sample(range(40, 2 * COUNT - 100), KILLS))
    started = time.monotonic()
    killed = 0
    for target in targets:
        process = _start(journal, ids, emulator)
        while process.poll() is None and _lines(journal) < target and time.monotonic() - started < 25:
            time.sleep(0.002)
        if process.poll() is None:
            process.kill()  # SIGKILL: no handler, no flush, no cleanup
            assert process.wait(10) == -9
            killed += 1
        else:  # pragma: no cover - only when a run outpaces the polling
            break
    assert killed >= 3
    final = _start(journal, ids, emulator)
    assert final.wait(30) == 0, final.stderr.read() if final.stderr else ""
    assert time.monotonic() - started < 30

    # Every item ends with the intended metadata.
    assert all((emulator.store.get(i) or {}).get("metadata") == INTENDED for i in ids)
    # No id was updated twice with different content; a resend (a pending change the kill cut
    # before the emulator saw it) carries the same body.
    expected = json.dumps({"metadata": INTENDED}, separators=(",", ":")).encode()
    bodies: dict[str, set[bytes]] = defaultdict(set)
    updates: dict[str, int] = defaultdict(int)
    for request in emulator.requests:
        if request.method != "POST":
            continue
        ident = request.target.rsplit("/", 1)[1]
        if request.body != expected:
            # A kill in the middle of sending leaves the emulator a cut body, which it rejects
            # (400) without changing anything: not an update, and only ever a prefix.
            assert expected.startswith(request.body), (ident, request.body)
            continue
        bodies[ident].add(request.body)
        updates[ident] += 1
    assert set(bodies) == set(ids)
    # Resends are bounded by what can be in flight when a kill lands (8 workers, 2 N items read).
    assert sum(updates.values()) - COUNT <= 16 * killed
    # The journal tells the same story: every id's last record is done, with before and after.
    last = {r["id"]: r for r in read_records(journal)}
    assert set(last) == set(ids)
    assert all(
        r["state"] == "done" and r["before"] == BEFORE and r["after"] == INTENDED for r in last.values()
    )
