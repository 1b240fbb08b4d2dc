"""Bulk pipelines: ThrottleLimit concurrency over the shared pool, order, accounting of every
item under injected latency, 429s and failures, one shared backoff, lazy input, progress."""

from __future__ import annotations

import io
import itertools
import re
from collections import Counter
from collections.abc import Generator, Iterator

import pytest

import psopenai_py
from psopenai_py.commands import find_unit
from psopenai_py.compat import Set_ChatCompletion
from psopenai_py.emulator import Emulator, Fault, rate_limit_fault
from psopenai_py.powershell.binding import bind
from psopenai_py.powershell.host import Host
from psopenai_py.powershell.pipeline import execute
from psopenai_py.transport import Transport, set_default_transport
from tests.screen import screen

KEY = "sk-bulk-0000000000000000000000000"


@pytest.fixture
def real_sleep_transport() -> Iterator[Transport]:
    """Real sleeps: the shared backoff is about real concurrent waiting."""
    fresh = Transport()
    old = set_default_transport(fresh)
    yield fresh
    fresh.close()
    set_default_transport(old)


@pytest.fixture(autouse=True)
def context(emulator: Emulator) -> None:
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=KEY)


def updated(emulator: Emulator) -> Counter[str]:
    return Counter(r.target.rsplit("/", 1)[1] for r in emulator.requests if r.method == "POST")


def test_every_item_ends_as_one_output_or_one_error(emulator, real_sleep_transport):
    ids = emulator.store.seed(120, prefix="chatcmpl-bulk-")
    missing = [f"chatcmpl-missing-{i}" for i in range(6)]
    items: list[str] = []
    for index, ident in enumerate(ids):  # a missing id after every 20 real ones
        items.append(ident)
        if index % 20 == 19:
            items.append(missing[index // 20])
    emulator.latency_ms = 20
    # 429s (retried, short server delay), 500s (retried), a 400 (not retried: that item fails).
    emulator.inject(
        *(rate_limit_fault(retry_after_ms="50") for _ in range(5)),
        Fault(status=500, times=3, method="POST"),
        Fault(status=400, method="POST", path_contains=ids[7], body={"error": {"message": "bad item"}}),
    )
    errors: list[BaseException] = []
    outputs = Set_ChatCompletion(
        items,
        MetaData={"n": "1"},
        ThrottleLimit=8,
        MaxRetryCount=3,
        ErrorVariable=errors,
        ErrorAction="SilentlyContinue",
    )
    output_ids = [o.id for o in outputs]
    assert output_ids == [i for i in items if i.startswith("chatcmpl-bulk-") and i != ids[7]]
    assert len(output_ids) + len(errors) == len(items)
    failed = sorted(str(e).split("'")[1] if "'" in str(e) else ids[7] for e in errors)
    assert failed == sorted([*[m for m in items if m in missing], ids[7]])
    seen = updated(emulator)
    # Each item was sent once, plus at most the retries the injected faults allow.
    assert set(seen) == set(items)
    assert sum(seen.values()) - len(items) <= 5 + 3
    assert all(count <= 1 + 3 for count in seen.values())
    assert all(emulator.store.get(i)["metadata"] == {"n": "1"} for i in ids if i != ids[7])


def test_throttle_runs_requests_at_once_over_a_bounded_pool(emulator, real_sleep_transport):
    ids = emulator.store.seed(32, prefix="chatcmpl-par-")
    emulator.latency_ms = 100
    Set_ChatCompletion(ids, MetaData={}, ThrottleLimit=8)
    arrivals = sorted(r.received_at for r in emulator.requests)
    # 32 requests at 8 at once: 4 waves of 100 ms, not 32 of them.
    assert arrivals[-1] - arrivals[0] < 1.6
    assert 8 <= emulator.connections <= 9


def test_one_shared_backoff_after_a_429(emulator, real_sleep_transport):
    ids = emulator.store.seed(16, prefix="chatcmpl-429-")
    emulator.latency_ms = 100
    emulator.inject(rate_limit_fault(retry_after_ms="600"))
    Set_ChatCompletion(ids, MetaData={}, ThrottleLimit=4, MaxRetryCount=2)
    requests = sorted(emulator.requests, key=lambda r: r.received_at)
    limited_at = requests[0].received_at  # answered 100 ms later with retry-after-ms: 600
    # The first four items' requests may already be on their way.  Once the 429 is back every
    # worker waits the server's delay; a worker that finished its item just before may have
    # started its next one already (a race whose window grows with the machine's load), but at
    # most once.  Without the shared backoff the three other workers would go on every 100 ms:
    # about a dozen requests before the pause is over.
    first_four = {f"/v1/chat/completions/{ident}" for ident in ids[:4]}
    early = [r for r in requests if r.target not in first_four and r.received_at - limited_at < 0.6]
    assert len(early) <= 3
    retried = [r for r in requests if r.target == requests[0].target]
    assert len(retried) == 2 and retried[1].received_at - limited_at >= 0.65
    assert len(emulator.requests) == 17


def test_stop_raises_at_the_first_failure_in_order(emulator, real_sleep_transport):
    ids = emulator.store.seed(40, prefix="chatcmpl-stop-")
    items = [*ids[:10], "chatcmpl-missing", *ids[10:]]
    with pytest.raises(psopenai_py.NotFoundException):
        Set_ChatCompletion(items, MetaData={}, ThrottleLimit=4, ErrorAction="Stop")
    # Items past the failure that had not started were never sent.
    assert len(emulator.requests) < len(items)


def test_input_is_read_lazily(emulator, transport):
    ids = emulator.store.seed(3, prefix="chatcmpl-lazy-")
    pulled = 0

    def endless() -> Iterator[str]:
        nonlocal pulled
        for index in itertools.count():
            pulled += 1
            yield ids[index % 3]

    runner = find_unit("Set-ChatCompletion")
    bound = bind(runner.table, [("MetaData", {}), ("ThrottleLimit", 4)], pipeline=endless())
    outputs = execute(runner, bound, Host(io.StringIO()))
    assert isinstance(outputs, Generator)
    first = [next(outputs) for _ in range(5)]
    outputs.close()
    assert [o.id for o in first] == [ids[0], ids[1], ids[2], ids[0], ids[1]]
    assert pulled <= 5 + 2 * 4


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_only(emulator, transport, monkeypatch):
    monkeypatch.setenv("PSOPENAI_PROGRESS_DELAY", "0")
    ids = emulator.store.seed(5, prefix="chatcmpl-prog-")
    runner = find_unit("Set-ChatCompletion")
    terminal, plain = _Terminal(), io.StringIO()
    for stream in (terminal, plain):
        bound = bind(runner.table, [("MetaData", {})], pipeline=[*ids, "chatcmpl-missing"])
        list(execute(runner, bound, Host(stream)))
    shown = terminal.getvalue()
    assert re.search(r"Set-ChatCompletion: \d/6 \(\d+%\)", shown)
    # Erased before the error line and at the end: the screen holds the error line and the
    # summary that ends the run.
    error_line, summary, last = screen(shown)
    assert (error_line, last) == (plain.getvalue().rstrip("\n"), "")
    assert summary.startswith("Set-ChatCompletion: 5 done, 1 failed, 0 not sent in ")
    assert "\r" not in plain.getvalue()
    assert plain.getvalue().startswith("Set-ChatCompletion: [chatcmpl-missing] OpenAI API returned an 404")


def test_progress_on_a_console_without_vt_sequences_is_erased_with_spaces(emulator, transport, monkeypatch):
    from psopenai_py.powershell import progress

    monkeypatch.setenv("PSOPENAI_PROGRESS_DELAY", "0")
    monkeypatch.setattr(progress, "enable_virtual_terminal", lambda stream: False)
    ids = emulator.store.seed(3, prefix="chatcmpl-novt-")
    runner = find_unit("Set-ChatCompletion")
    terminal = _Terminal()
    list(execute(runner, bind(runner.table, [("MetaData", {})], pipeline=ids), Host(terminal)))
    shown = terminal.getvalue()
    assert "\x1b" not in shown
    drawn = shown.split("\r")[1]
    assert drawn.startswith("Set-ChatCompletion: 0/3")
    # Overwritten with blanks, then the summary over them: no progress remains.
    assert "\r" + " " * len(drawn.rstrip()) in shown
    summary, last = screen(shown)
    assert summary.startswith("Set-ChatCompletion: 3 done, 0 failed, 0 not sent in ") and last == ""
