"""The pacer over real HTTP against the emulator's rate-limit mode: bulk runs of the PowerShell
layer, the SDK-shaped client's and the openai-CLI dialect's paging, Request-ChatCompletion's
tokens, and the -Verbose lines of a whole CLI process.  Small budgets, a few hundred requests."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

import psopenai_py
from psopenai_py.compat import Set_ChatCompletion
from psopenai_py.emulator import Emulator, RateLimit
from psopenai_py.openai_cli import main as dialect_main
from psopenai_py.secret import Secret
from psopenai_py.settings import SettingsRequest, resolve_settings
from psopenai_py.transport import Transport, set_default_transport
from psopenai_py.transport.budget import SAFETY, Budget
from psopenai_py.transport.pacing import Pacer, pacing_key

KEY = "sk-pacer-http-00000000000000000000"


@pytest.fixture
def paced() -> Iterator[Transport]:
    """A fresh process transport with real sleeps: a new pacer that has learned nothing yet."""
    fresh = Transport()
    old = set_default_transport(fresh)
    yield fresh
    fresh.close()
    set_default_transport(old)


@pytest.fixture
def limited(emulator: Emulator) -> Iterator[Emulator]:
    """The emulator, its rate limit set by the test and taken off afterwards."""
    yield emulator
    emulator.rate_limit = RateLimit()


def learned(transport: Transport, emulator: Emulator) -> Budget:
    """What the transport's pacer learned of the emulator's budget for KEY."""
    assert isinstance(transport.pacing, Pacer)
    settings = resolve_settings(SettingsRequest(api_key=Secret(KEY)))
    budget = transport.pacing.budget(pacing_key(settings, emulator.url))
    assert budget is not None
    return budget


def bulk(emulator: Emulator, count: int, *, throttle: int) -> tuple[list[object], list[BaseException]]:
    ids = emulator.store.seed(count, prefix="chatcmpl-paced-")
    errors: list[BaseException] = []
    outputs = Set_ChatCompletion(
        ids,
        MetaData={"k": "v"},
        ThrottleLimit=throttle,
        MaxRetryCount=5,
        ApiKey=KEY,
        ApiBase=emulator.url,
        ErrorVariable=errors,
        ErrorAction="SilentlyContinue",
    )
    assert [o.id for o in outputs] == [i for i in ids if all(i not in str(e) for e in errors)]
    return outputs, errors


def test_a_bulk_run_keeps_under_the_announced_budget(limited, paced):
    limited.rate_limit = RateLimit(requests_per_minute=12_000, burst_seconds=0.1)  # 200/s, 20 at once
    outputs, errors = bulk(limited, 300, throttle=8)
    assert errors == [] and len(outputs) == 300
    assert limited.rate_limited <= 3  # at most 1 %: the budget was read, not fought
    budget = learned(paced, limited)
    assert budget.announced is not None and budget.announced.limit == 12_000
    assert budget.rate == pytest.approx(200 * SAFETY)


def test_a_bulk_run_without_headers_learns_the_rate_from_429s(limited, paced):
    limited.rate_limit = RateLimit(requests_per_minute=12_000, burst_seconds=0.1, headers=False)
    outputs, errors = bulk(limited, 300, throttle=8)
    assert errors == [] and len(outputs) == 300
    # The first round meets the limit unwarned; after that the pacer holds the workers back.
    assert limited.rate_limited <= 8 + 0.05 * 300
    budget = learned(paced, limited)
    assert budget.announced is None and budget.rate is not None and budget.rate < 400


def test_the_sdk_clients_paging_is_paced_by_the_same_pacer(limited, paced):
    limited.store.seed(120, prefix="chatcmpl-page-")
    limited.rate_limit = RateLimit(requests_per_minute=1800, burst_seconds=0.2)  # 30/s, 6 at once
    client = psopenai_py.OpenAI(api_key=KEY, base_url=limited.url)
    listed = [item.id for item in client.chat.completions.list(limit=5)]
    assert len(listed) == 120
    assert limited.rate_limited == 0
    assert len(limited.requests) == 24


def test_the_dialects_export_is_paced_by_the_same_pacer(limited, paced):
    limited.store.seed(120, prefix="chatcmpl-export-")
    limited.rate_limit = RateLimit(requests_per_minute=1800, burst_seconds=0.2)
    out, err = io.StringIO(), io.StringIO()
    status = dialect_main(
        ["chat:completions", "export", "--limit", "5", "--api-key", KEY, "--base-url", limited.url],
        stdout=out,
        stderr=err,
    )
    assert status == 0, err.getvalue()
    assert len(out.getvalue().splitlines()) == 120
    assert limited.rate_limited == 0


def test_request_chat_completion_is_paced_by_the_tokens_it_costs(limited, paced):
    # 2,000 tokens a second, 500 at once; each request asks for 100: 20 a second.
    limited.rate_limit = RateLimit(tokens_per_minute=120_000, burst_seconds=0.25)

    def ask(index: int) -> str:
        answer = psopenai_py.request_chat_completion(
            f"question {index}",
            model="gpt-4o-mini",
            max_completion_tokens=100,
            api_key=KEY,
            api_base=limited.url,
            max_retry_count=5,
        )
        return str(answer.Answer[0])

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, range(40)))
    assert len(answers) == 40
    # Until two answers have shown what a request costs, the first ones go unpaced.
    assert limited.rate_limited <= 4


def psopenai(*args: str, emulator: Emulator, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_API_KEY=KEY, OPENAI_API_BASE=emulator.url)
    return subprocess.run(
        [sys.executable, "-m", "psopenai_py", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_verbose_says_once_what_the_pacer_learned(limited):
    ids = limited.store.seed(60, prefix="chatcmpl-verbose-")
    limited.rate_limit = RateLimit(requests_per_minute=6000, burst_seconds=0.2)
    result = psopenai(
        "Set-ChatCompletion",
        "-MetaData",
        "@{k='v'}",
        "-ThrottleLimit",
        "4",
        "-MaxRetryCount",
        "5",  # a machine loaded by other work can still meet a 429 now and then: retried
        "-Verbose",
        emulator=limited,
        stdin="\n".join(ids),
    )
    assert result.returncode == 0, result.stderr
    # The budget line alone (a 429 on a loaded machine would add a "Rate limited by" line, which
    # is another test's subject).
    lines = [line for line in result.stderr.splitlines() if line.startswith("VERBOSE: Rate limit of")]
    assert lines == [
        f"VERBOSE: Rate limit of http://127.0.0.1:{limited.port}: 6000 requests a minute, "
        f"{lines[0].split(', ')[1].split()[0]} left; starting at most 98 requests a second."
    ]


def test_verbose_says_when_the_pacer_slowed_down_not_per_429(limited):
    ids = limited.store.seed(80, prefix="chatcmpl-slowed-")
    limited.rate_limit = RateLimit(requests_per_minute=3000, burst_seconds=0.1, headers=False)
    result = psopenai(
        "Set-ChatCompletion",
        "-MetaData",
        "@{k='v'}",
        "-ThrottleLimit",
        "8",
        "-MaxRetryCount",
        "5",
        "-Verbose",
        emulator=limited,
        stdin="\n".join(ids),
    )
    assert result.returncode == 0, result.stderr
    slowed = [line for line in result.stderr.splitlines() if line.startswith("VERBOSE: Rate limited by")]
    retries = [
        line
        for line in result.stderr.splitlines()
        if "Retry the request after waiting" in line and line.startswith("WARNING: ")
    ]
    assert 1 <= len(slowed) < len(retries) == limited.rate_limited
    assert all(re.search(r"slowing to [0-9.]+ requests a second", line) for line in slowed)
