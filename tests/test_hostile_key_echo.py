"""A server that echoes the key in base64 (as a Basic credential would carry it, or its own
encoding of what it was sent): no 8 characters of that form reach a user, through any door.

The key's base64 form depends on where in the encoded text the key starts (three alignments) and
on the alphabet (standard or URL-safe): every one is echoed here.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import psopenai_py
from psopenai_py import scrub

from .hostile_server import HostileServer, Reply

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-proj-HOSTILEkeyQ7wX2mN9pL4vB8cR3tY6uI1oA5sD0f"


def encodings(key: str) -> dict[str, str]:
    """The key in base64 at each alignment (behind 0, 1 or 2 bytes), in both alphabets."""
    forms = {}
    for lead in range(3):
        raw = b"u:"[:lead] + key.encode()
        forms[f"standard, {lead} ahead"] = base64.b64encode(raw).decode()
        forms[f"url-safe, {lead} ahead"] = base64.urlsafe_b64encode(raw).decode()
    return forms


ENCODED = encodings(KEY)


def leaks(text: str) -> list[str]:
    """8-character runs of any base64 form of the key (past its first 12 characters, which
    encode the prefix the masked form shows anyway) found in ``text``."""
    found = set()
    for form in ENCODED.values():
        for start in range(12, len(form) - 8):
            if form[start : start + 8] in text:
                found.add(form[start : start + 8])
    return sorted(found)


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


@pytest.mark.parametrize("form", list(ENCODED), ids=list(ENCODED))
def test_scrub_removes_every_base64_form_of_a_key_in_play(form):
    text = f"the server says: {ENCODED[form]} (that is what you sent)"
    assert leaks(scrub.scrub(text, [KEY])) == []
    assert leaks(scrub.scrub_data(text, [KEY])) == []


def test_scrub_leaves_base64_of_other_text_alone():
    text = "payload " + base64.b64encode(b"an ordinary attachment, nothing secret").decode()
    assert scrub.scrub(text, [KEY]) == text


@pytest.mark.parametrize("form", list(ENCODED), ids=list(ENCODED))
def test_the_sdk_client_shows_no_base64_key_in_an_error(server, form):
    server.reset()
    server.always(Reply(400, {"error": {"message": f"you sent {ENCODED[form]}", "param": ENCODED[form]}}))
    client = psopenai_py.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    with pytest.raises(psopenai_py.APIStatusError) as caught:
        client.chat.completions.retrieve("chatcmpl-1")
    error = caught.value
    shown = " ".join([str(error), repr(error), repr(getattr(error, "body", None))])
    assert leaks(shown) == []


@pytest.mark.parametrize("form", ["standard, 0 ahead", "url-safe, 2 ahead"])
def test_the_command_line_shows_no_base64_key_in_errors_or_debug_logs(server, form):
    server.reset()
    server.always(
        Reply(500, {"error": {"message": f"basic {ENCODED[form]}"}}, headers={"X-Echo": ENCODED[form]})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(
        OPENAI_API_KEY=KEY,
        OPENAI_API_BASE=server.base_url,
        OPENAI_BASE_URL=server.base_url,
        PYTHONPATH=str(ROOT),
        PYTHONIOENCODING="utf-8",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    lines = [
        [
            "Set-ChatCompletion",
            "-MetaData",
            "@{k='v'}",
            "-Debug",
            "-MaxRetryCount",
            "0",
            "-ThrottleLimit",
            "2",
        ],
        ["chat:completions", "update", "--completion-id", "c1", "--metadata", "{a: b}", "--debug"],
    ]
    for line in lines:
        result = subprocess.run(
            [sys.executable, "-m", "psopenai_py", *line],
            input="chatcmpl-a\nchatcmpl-b\n",
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            timeout=60,
            cwd=ROOT,
        )
        assert "Traceback" not in result.stderr
        assert leaks(result.stdout + result.stderr) == [], line
