"""The transport's pacing seam: what the retry loop asks and tells the pacing object, per
(origin, key).  The pacer behind it by default is tested in test_pacer.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

import psopenai_py
from psopenai_py.emulator import Emulator, rate_limit_fault
from psopenai_py.errors import RateLimitExceededException
from psopenai_py.transport import Transport, set_default_transport
from psopenai_py.transport.pacing import PacingKey, pacing_key

KEY = "sk-test-pacing-0000000000000000"


class RecordingPacing:
    """A pacing object that lets every attempt start at once and writes down what it heard."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def wait_turn(self, key: PacingKey, *, retry: bool) -> None:
        self.calls.append(("wait_turn", key, retry))

    def answered(self, key: PacingKey, status: int, headers: Mapping[str, str]) -> None:
        self.calls.append(("answered", key, status, headers.get("retry-after-ms")))

    def unanswered(self, key: PacingKey) -> None:
        self.calls.append(("unanswered", key))

    def rate_limited(self, key: PacingKey, seconds: float) -> None:
        self.calls.append(("rate_limited", key, seconds))


@pytest.fixture
def paced(emulator: Emulator, clock: Any) -> Any:
    pacing = RecordingPacing()
    transport = Transport(sleep=clock.sleep, random=clock.random, clock=clock.clock, pacing=pacing)
    old = set_default_transport(transport)
    yield pacing
    transport.close()
    set_default_transport(old)


def test_the_retry_loop_asks_before_each_attempt_and_tells_every_answer(emulator, stored, paced, clock):
    emulator.inject(rate_limit_fault(retry_after_ms="250"))
    psopenai_py.set_chat_completion(stored, {"k": "v"}, api_key=KEY, api_base=emulator.url, max_retry_count=2)
    origin = f"http://127.0.0.1:{emulator.port}"
    key = paced.calls[0][1]
    assert key[0] == origin and KEY not in repr(key)
    assert paced.calls == [
        ("wait_turn", key, False),
        ("answered", key, 429, "250"),
        ("rate_limited", key, 0.25),
        ("wait_turn", key, True),
        ("answered", key, 200, None),
    ]
    assert clock.sleeps == [0.25]  # the thread waits its own delay; the pacing object did not wait


def test_a_429_that_is_not_retried_is_told_as_an_answer_only(emulator, stored, paced):
    emulator.inject(rate_limit_fault(retry_after_ms="250"))
    with pytest.raises(RateLimitExceededException):
        psopenai_py.set_chat_completion(
            stored, {"k": "v"}, api_key=KEY, api_base=emulator.url, max_retry_count=0
        )
    assert [call[0] for call in paced.calls] == ["wait_turn", "answered"]


def test_one_key_per_origin_and_api_key():
    from psopenai_py.secret import Secret
    from psopenai_py.settings import SettingsRequest, resolve_settings

    one = resolve_settings(SettingsRequest(api_key=Secret(KEY)))
    two = resolve_settings(SettingsRequest(api_key=Secret(KEY + "x")))
    assert pacing_key(one, "http://h/v1") == pacing_key(one, "http://H:80/other")
    assert pacing_key(one, "http://h/v1") != pacing_key(two, "http://h/v1")
