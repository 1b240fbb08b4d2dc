"""Warnings name the pipeline item they are about: a retry warning written by the transport while
an item runs (in a ThrottleLimit worker or not) says which item, in the form the item's error
line has, while -WarningVariable keeps PSOpenAI's message and a command run without pipeline
input names nothing."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest

import psopenai_py
from psopenai_py.commands import find_unit
from psopenai_py.compat import invoke
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.powershell.binding import bind
from psopenai_py.powershell.host import Host
from psopenai_py.powershell.pipeline import execute

KEY = "sk-itemwarn-0000000000000000000000"
RETRY = re.compile(
    r"^WARNING: \[(?P<item>[\w-]+)\] Retry the request after waiting \d+ ms \(retry count: \d\)$"
)


@pytest.fixture(autouse=True)
def context(emulator: Emulator) -> None:
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=KEY)


def _retried(emulator: Emulator, ids: list[str], times: int) -> None:
    for ident in ids:
        emulator.inject(
            Fault(
                status=500, headers={"retry-after-ms": "1"}, times=times, method="POST", path_contains=ident
            )
        )


@pytest.mark.parametrize("throttle", [1, 4])
def test_each_retry_warning_names_its_item(emulator, transport, throttle):
    ids = emulator.store.seed(12, prefix="chatcmpl-warn-")
    flaky = ids[1::3]  # every third item meets two 500s before it goes through
    _retried(emulator, flaky, times=2)
    stream = io.StringIO()
    warnings: list[str] = []
    runner = find_unit("Set-ChatCompletion")
    bound = bind(
        runner.table,
        [("MetaData", {}), ("MaxRetryCount", 3), ("ThrottleLimit", throttle), ("WarningVariable", warnings)],
        pipeline=ids,
    )
    assert [o.id for o in execute(runner, bound, Host(stream))] == ids
    lines = stream.getvalue().splitlines()
    retries = [RETRY.match(line) for line in lines if "Retry the request" in line]
    assert all(retries), lines
    assert Counter(m["item"] for m in retries if m) == {ident: 2 for ident in flaky}
    # The error's own warning names its item too: every warning is about a flaky item.
    named = [re.match(r"WARNING: \[([\w-]+)\] ", line) for line in lines if line.startswith("WARNING:")]
    assert len(named) == 2 * 2 * len(flaky) and {m[1] for m in named if m} == set(flaky)
    # -WarningVariable keeps the message as PSOpenAI writes it.
    assert len(warnings) == 2 * 2 * len(flaky)
    assert not [w for w in warnings if w.startswith("[")]


def test_an_item_piped_from_another_command_is_named_by_its_id(emulator, transport):
    [ident] = emulator.store.seed(1, prefix="chatcmpl-chain-")
    _retried(emulator, [ident], times=1)
    stream = io.StringIO()
    chain = f"Get-ChatCompletion -CompletionId {ident} | Set-ChatCompletion -MetaData @{{k='v'}}"
    invoke(f"{chain} -MaxRetryCount 2", host=Host(stream))
    retries = [line for line in stream.getvalue().splitlines() if "Retry the request" in line]
    assert [RETRY.match(line)["item"] for line in retries] == [ident]  # type: ignore[index]


def test_a_command_without_pipeline_input_names_no_item(emulator, transport):
    [ident] = emulator.store.seed(1, prefix="chatcmpl-single-")
    _retried(emulator, [ident], times=1)
    stream = io.StringIO()
    runner = find_unit("Set-ChatCompletion")
    bound = bind(runner.table, [("CompletionId", ident), ("MetaData", {}), ("MaxRetryCount", 1)])
    list(execute(runner, bound, Host(stream)))
    assert [line for line in stream.getvalue().splitlines() if "Retry" in line] == [
        "WARNING: Retry the request after waiting 1 ms (retry count: 0)"
    ]


def test_verbose_lines_stay_as_psopenai_writes_them(emulator, transport):
    ids = emulator.store.seed(2, prefix="chatcmpl-verbose-")
    stream = io.StringIO()
    runner = find_unit("Set-ChatCompletion")
    bound = bind(runner.table, [("MetaData", {}), ("Verbose", True)], pipeline=ids)
    list(execute(runner, bound, Host(stream)))
    verbose = [line for line in stream.getvalue().splitlines() if line.startswith("VERBOSE:")]
    assert verbose and not [line for line in verbose if line.startswith("VERBOSE: [")]
