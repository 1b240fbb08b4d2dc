"""Generated bulk runs through the shim against the emulator: whatever the ids, the faults and
where the run stops, no traceback, no fragment of the key, every input accounted for exactly once
in input order, and nothing sent after a stop but what was already in flight."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psopenai_py import compat
from psopenai_py.compat import invoke
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.powershell.host import Host
from tests.conftest import CANARY_KEY

FRAGMENTS = {CANARY_KEY[i : i + 8] for i in range(len(CANARY_KEY) - 7)}

FAULTS: dict[str, list[Fault]] = {
    "ok": [],
    "missing": [],
    "bad": [Fault(status=400, body={"error": {"message": "bad \x1b[31m item"}})],
    "retried": [Fault(status=500, headers={"retry-after-ms": "1"})],
    "exhausted": [Fault(status=500, headers={"retry-after-ms": "1"}, times=2)],
    "drop": [Fault(drop=True)],
    "shape": [Fault(status=200, raw_body='"not an object"')],
}

runs = st.fixed_dictionaries(
    {
        "kinds": st.lists(st.sampled_from(sorted(FAULTS)), min_size=1, max_size=8),
        "throttle": st.sampled_from([1, 3]),
        "stop": st.sampled_from(["continue", "silently", "stop", "interrupt"]),
        "interrupt_after": st.integers(0, 4),
    }
)


def _leaks(text: str) -> bool:
    return any(fragment in text for fragment in FRAGMENTS)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(run=runs)
def test_generated_bulk_runs_keep_the_three_promises(emulator_server: Emulator, run: dict[str, Any]) -> None:
    emulator = emulator_server
    emulator.reset()
    kinds: list[str] = run["kinds"]
    ids = [f"chatcmpl-prop-{index:03d}-{kind}" for index, kind in enumerate(kinds)]
    for completion_id, kind in zip(ids, kinds, strict=True):
        if kind != "missing":
            emulator.store.create(
                model="m", messages=[{"role": "user", "content": "x"}], completion_id=completion_id
            )
        for fault in FAULTS[kind]:
            emulator.inject(replace(fault, path_contains=completion_id))
    stream = io.StringIO()
    host = _RecordingHost(stream)
    raised: BaseException | None = None
    action = {"continue": "Continue", "silently": "SilentlyContinue", "stop": "Stop", "interrupt": "Continue"}
    listed = ",".join(f"'{i}'" for i in ids)
    text = (
        f"{listed} | Set-ChatCompletion -MetaData @{{p='1'}} -ApiBase '{emulator.url}' "
        f"-ApiKey '{CANARY_KEY}' -MaxRetryCount 1 -ThrottleLimit {run['throttle']} "
        f"-ErrorAction {action[run['stop']]} -ErrorVariable errs -OutVariable outs"
    )
    if run["stop"] == "interrupt":
        # What the CLI's Ctrl-C handler does, after some items: set the host's stop event.
        host.interrupt_after = run["interrupt_after"] + 1
    try:
        invoke(text, host=host)
    except Exception as exc:
        raised = exc
    errors: list[Any] = compat.variables["errs"]
    outputs: list[Any] = compat.variables["outs"]
    text = stream.getvalue()
    # 1. No traceback, and server text never reaches the stream raw.
    assert "Traceback" not in text and "\x1b" not in text
    if raised is not None:
        assert run["stop"] == "stop"
    # 2. No fragment of the key anywhere.
    seen = text + "".join(f"{e!s}{e!r}{e.args}" for e in errors) + repr(raised) + "".join(map(repr, outputs))
    assert not _leaks(seen)
    # 3. Every input accounted for exactly once, in input order.
    done = [o.id for o in outputs]
    failed = [e.TargetObject for e in errors]
    assert done == sorted(done) and failed == sorted(failed)  # ids sort in input order
    if raised is not None and getattr(raised, "TargetObject", None):
        assert raised.TargetObject not in failed  # type: ignore[attr-defined]
        failed.append(raised.TargetObject)  # type: ignore[attr-defined]
    assert len(set(done + failed)) == len(done + failed)  # never twice
    assert set(done + failed) <= set(ids)
    first_sent: dict[str, float] = {}
    for request in emulator.requests:
        first_sent.setdefault(request.target.split("?")[0].rsplit("/", 1)[1], request.received_at)
    assert set(first_sent) <= set(done) | set(failed)  # every item that reached the server is reported
    if host.stop.is_set():
        # Stopped: the rest is counted as never sent.
        assert len(done) + len(failed) + host.not_sent == len(ids)
        # 4. No item started after the stop (a request already on its way may land just after).
        assert not [i for i, at in first_sent.items() if at > host.stopped_at + 0.25]
    else:
        assert sorted(done + failed) == ids
        if run["stop"] != "interrupt":
            assert done == [i for i, kind in zip(ids, kinds, strict=True) if kind in ("ok", "retried")]


class _StopEvent(threading.Event):
    """An event that remembers when it was first set."""

    def __init__(self) -> None:
        super().__init__()
        self.at = 0.0

    def set(self) -> None:
        if not self.is_set():
            self.at = time.monotonic()
        super().set()


class _RecordingHost(Host):
    def __init__(self, stream: io.StringIO) -> None:
        super().__init__(stream)
        self.stop = _StopEvent()
        self.interrupt_after = 0

    @property
    def stopped_at(self) -> float:
        assert isinstance(self.stop, _StopEvent)
        return self.stop.at

    def item_finished(self) -> None:
        # Called as each item finishes: the place to "press Ctrl-C" after N items.
        super().item_finished()
        if self.interrupt_after:
            self.interrupt_after -= 1
            if not self.interrupt_after:
                self.stop.set()
