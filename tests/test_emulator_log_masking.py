"""The emulator's log lines mask a key-like word wherever it stands in a request line, also right
after a percent-escape (``%2F``, ``%20``) or another word's letters, where no word boundary is."""

from __future__ import annotations

import pytest

from psopenai_py.emulator.protocol import hide_keys, loggable

KEY = "sk-proj-ESCAPEDkey0123456789abcdefghijklmnop"


@pytest.mark.parametrize(
    "line",
    [
        f"POST /v1/chat/completions/x%2F{KEY} HTTP/1.1",
        f"GET /v1/chat/completions/a%20{KEY} HTTP/1.1",
        f"GET /v1/chat/completions/chatcmpl-{KEY} HTTP/1.1",
        f"GET /v1/chat/completions?model={KEY} HTTP/1.1",
        f"Bearer {KEY}",
    ],
)
def test_a_key_in_a_request_line_is_masked_in_the_log(line):
    for shown in (loggable(line, limit=1000), hide_keys(line)):
        assert "ESCAPEDkey" not in shown and "0123456789" not in shown, shown
        assert "sk-" in shown  # still says that a key stood there
