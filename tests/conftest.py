"""Shared fixtures: one emulator per session (reset for each test), clean settings, a transport
whose sleep and random source are recorded and fixed."""

from __future__ import annotations

import os

# No test may touch a developer's real keyring by accident; the Secret Service test opts in.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

import psopenai_py
from psopenai_py import settings as settings_module
from psopenai_py.emulator import Emulator
from psopenai_py.transport import Transport, set_default_transport

CANARY_KEY = "sk-proj-CANARY0a1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ"
"""A key whose text must never show up in any output, log, exception or repr."""


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with Emulator(seed=7) as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    """The session's emulator, emptied of state, faults, records and counters."""
    emulator_server.reset()
    emulator_server.latency_ms = 0
    emulator_server.server.api_key = None
    yield emulator_server
    emulator_server.reset()


@dataclass
class FakeClock:
    """Sleep that only records, a fixed random source and a fixed wall clock."""

    now: float = 1_800_000_000.0
    random_value: float = 0.5
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def random(self) -> float:
        return self.random_value

    def clock(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def transport(clock: FakeClock) -> Iterator[Transport]:
    """A fresh default transport (new connection pool) with injected sleep/random/clock."""
    fresh = Transport(sleep=clock.sleep, random=clock.random, clock=clock.clock)
    old = set_default_transport(fresh)
    yield fresh
    fresh.close()
    set_default_transport(old)


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts with no context, no module globals, no OPENAI_* environment."""
    for name in ("OPENAI_API_KEY", "OPENAI_API_BASE", "OPENAI_ORGANIZATION"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.setattr(psopenai_py, name, None)
    monkeypatch.setattr(settings_module, "keyring_reader", lambda setting: None)
    psopenai_py.clear_openai_context()
    yield
    psopenai_py.clear_openai_context()


@pytest.fixture
def stored(emulator: Emulator) -> str:
    """The id of one stored completion on the emulator."""
    created = emulator.store.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hello"}],
        metadata={"team": "ops"},
    )
    return str(created["id"])
