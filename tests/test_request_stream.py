"""Request-ChatCompletion -Stream: the reply's text as it comes, as PSOpenAI writes it, through the
library function, the compatibility shim and the ``psopenai`` command line (in a real terminal
and through a pipe), over the one streaming core.

What PSOpenAI 4.49.0 does (``Public/Chat/Request-ChatCompletion.ps1``):

- lines 476-479: with -Stream the body gets ``stream: true`` (and loses ``n``);
- lines 688-724, the "Send API Request (Stream)" region: the events' data, empty ones skipped
  (692-693), parsed, kept when ``choices[0].delta.content -is [string]`` (706-707), and for each
  the text written twice (713-718): as a HostInformationMessage with NoNewLine
  (``Write-Information``: the host shows it under -InformationAction Continue, and
  -InformationVariable collects it) and as a string on the output (``Write-Output``); then
  ``return`` (722): no completion object, no History.
- ``Tests/Chat/Request-ChatCompletion.tests.ps1`` lines 218-226 ("Stream output"): the output and
  the InformationVariable both hold the text.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import psopenai_py
from psopenai_py.commands import find_unit
from psopenai_py.compat import Request_ChatCompletion, _run_python_call, invoke, variables
from psopenai_py.emulator import CANNED_REPLY, Emulator, Fault
from psopenai_py.emulator.streaming import pieces
from psopenai_py.errors import APIRequestException, UnauthorizedException
from psopenai_py.powershell.binding import bind
from psopenai_py.powershell.host import Host
from psopenai_py.powershell.pipeline import execute
from tests.screen import screen
from tests.test_terminal import run_in_pty

from .sse_server import SSEServer, Stream, chunk, event, reply_events

KEY = "sk-proj-Wq8Zt3Lk9Rv2Xn6Bc4Hy7Jm1Pd5Sg0Fa"
ROOT = Path(__file__).resolve().parents[1]
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
PIECES = ["", *pieces(CANNED_REPLY)]
"""What the emulator's stream gives: the role chunk's empty text, then one piece per word."""


def leaks(text: str, key: str = KEY) -> list[str]:
    low = text.lower()
    return sorted({key[i : i + 8] for i in range(len(key) - 7) if key[i : i + 8].lower() in low})


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return {**clean, "OPENAI_API_BASE": emulator.url, "OPENAI_API_KEY": KEY, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def sse_server() -> Iterator[SSEServer]:
    with SSEServer() as server:
        yield server


# -- the library function ---------------------------------------------------------------------------


def test_the_library_function_gives_the_text_piece_by_piece(emulator, transport):
    result = psopenai_py.request_chat_completion("hi", stream=True, api_base=emulator.url, api_key=KEY)
    assert not isinstance(result, psopenai_py.PSObject)
    assert list(result) == PIECES  # the first chunk's empty string too, as the original writes it
    (request,) = emulator.requests
    assert request.json()["stream"] is True and "n" not in request.json()
    assert request.json()["messages"] == [{"role": "user", "content": "hi"}]


def test_without_stream_the_result_is_the_completion_as_before(emulator, transport):
    result = psopenai_py.request_chat_completion("hi", api_base=emulator.url, api_key=KEY)
    assert isinstance(result, psopenai_py.PSObject) and result.Answer == [CANNED_REPLY]
    assert "stream" not in emulator.requests[0].json()


def test_a_streamed_request_is_stored_with_store(emulator, transport):
    text = "".join(
        psopenai_py.request_chat_completion(
            "hi", stream=True, store=True, metadata={"team": "ops"}, api_base=emulator.url, api_key=KEY
        )
    )
    (stored,) = emulator.store.list()
    assert stored["choices"][0]["message"]["content"] == text == CANNED_REPLY
    assert stored["metadata"] == {"team": "ops"}


def test_an_error_before_the_stream_is_raised_at_the_call(emulator, transport):
    emulator.server.api_key = "sk-the-right-one-0000000000"
    with pytest.raises(UnauthorizedException):
        psopenai_py.request_chat_completion("hi", stream=True, api_base=emulator.url, api_key=KEY)


def test_leaving_the_text_early_releases_the_connection(emulator, transport):
    emulator.inject(Fault(chunk_delay_ms=200))
    for piece in psopenai_py.request_chat_completion("hi", stream=True, api_base=emulator.url, api_key=KEY):
        assert piece == ""
        break
    deadline = time.monotonic() + 5
    while emulator.server.open_connections and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emulator.server.open_connections == 0  # shut, not left half-read in the pool


def test_a_key_spelled_across_chunks_never_shows_in_the_text(sse_server, transport):
    split = [KEY[i : i + 3] for i in range(0, len(KEY), 3)]
    sse_server.always(Stream(reply_events(["Your key is ", *split, ". Keep it safe."])))
    out = list(
        psopenai_py.request_chat_completion("x", stream=True, api_base=sse_server.base_url, api_key=KEY)
    )
    joined = "".join(out)
    assert leaks(joined) == [] and leaks(repr(out)) == []
    assert joined.startswith("Your key is ") and joined.endswith(". Keep it safe.")


# -- the compatibility shim: the output and the information stream ---------------------------------


def test_the_shim_outputs_the_pieces_and_the_information_variable_holds_them(emulator, transport):
    # Tests/Chat/Request-ChatCompletion.tests.ps1, lines 218-226.
    err = io.StringIO()
    information: list[object] = []

    result = _run_python_call(
        find_unit("Request-ChatCompletion"),
        ("hi",),
        {"Stream": True, "ApiBase": emulator.url, "ApiKey": KEY, "InformationVariable": information},
        Host(err),
    )
    assert result == PIECES and information == PIECES
    assert err.getvalue() == ""  # InformationAction defaults to SilentlyContinue, as in PowerShell


def test_information_action_continue_writes_the_text_on_the_host_as_it_comes(emulator, transport):
    err = io.StringIO()
    out = invoke(
        f"Request-ChatCompletion 'hi' -Stream -ApiBase '{emulator.url}' -ApiKey '{KEY}' "
        "-InformationAction Continue",
        host=Host(err),
    )
    assert out == PIECES
    assert err.getvalue() == CANNED_REPLY  # no line breaks: the original's NoNewLine


def test_information_action_ignore_keeps_the_variable_empty(emulator, transport):
    Request_ChatCompletion(
        "hi",
        Stream=True,
        ApiBase=emulator.url,
        ApiKey=KEY,
        InformationAction="Ignore",
        InformationVariable="iv",
    )
    assert variables["iv"] == []


def test_a_failure_mid_stream_is_the_items_error_after_the_text_so_far(emulator, transport):
    emulator.inject(Fault(error_after_chunks=3))
    errors: list[object] = []
    err = io.StringIO()

    result = _run_python_call(
        find_unit("Request-ChatCompletion"),
        ("hi",),
        {"Stream": True, "ApiBase": emulator.url, "ApiKey": KEY, "ErrorVariable": errors},
        Host(err),
    )
    assert result == PIECES[:3]
    (error,) = errors
    assert isinstance(error, APIRequestException) and "after 3 chunks" in str(error)
    assert err.getvalue().startswith("Request-ChatCompletion: OpenAI API returned an error in the stream")


def test_error_action_stop_raises_the_mid_stream_failure(emulator, transport):
    emulator.inject(Fault(drop_after_chunks=2))
    with pytest.raises(psopenai_py.APIConnectionException, match="after 2 chunks"):
        Request_ChatCompletion("hi", Stream=True, ApiBase=emulator.url, ApiKey=KEY, ErrorAction="Stop")


# -- the command line ---------------------------------------------------------------------------------


def _clean(text: str) -> None:
    assert "Traceback" not in text and leaks(text) == [], text


@POSIX_ONLY
def test_on_a_terminal_the_text_appears_as_it_comes_on_one_line(env, emulator):
    emulator.inject(Fault(chunk_delay_ms=150))
    seen_partial: list[str] = []

    def watch(shown: str) -> bytes:
        # Part of the reply on the screen while the rest is still on its way.
        if "This is " in shown and "emulator." not in shown:
            seen_partial.append(shown)
        return b""

    status, shown = run_in_pty(["Request-ChatCompletion", "hi", "-Stream"], env, keys=watch)
    _clean(shown)
    assert status == 0 and seen_partial
    assert [line for line in screen(shown) if line] == [CANNED_REPLY]


@POSIX_ONLY
def test_ctrl_c_ends_a_stream_at_once_and_says_what_became_of_it(env, emulator):
    emulator.inject(Fault(chunk_delay_ms=3000))  # the second chunk would take 3 s
    typed: list[bool] = []

    def keys(shown: str) -> bytes:
        if not typed and emulator.requests:
            typed.append(True)
            time.sleep(0.2)  # the first chunk is in
            return b"\x03"
        return b""

    status, shown = run_in_pty(["Request-ChatCompletion", "hi", "-Stream"], env, keys=keys)
    _clean(shown)
    lines = [line for line in screen(shown) if line.strip()]
    assert status == 130, shown
    assert lines[-1] == "interrupted: 0 done, 1 failed, 0 not sent", lines
    assert any("Stopped: the run was stopped while the answer was streaming" in line for line in lines)
    assert "This" not in shown  # ended while the next chunk was still 3 s away


@POSIX_ONLY
def test_a_failure_mid_stream_starts_its_own_line_on_the_terminal(env, emulator):
    emulator.inject(Fault(error_after_chunks=3))
    status, shown = run_in_pty(["Request-ChatCompletion", "hi", "-Stream"], env)
    _clean(shown)
    lines = [line for line in screen(shown) if line]
    assert status == 1
    assert lines[0] == "".join(PIECES[:3])
    assert lines[1].startswith("Request-ChatCompletion: OpenAI API returned an error in the stream after 3")


def test_through_a_pipe_each_piece_is_a_json_line_flushed_as_it_comes(env, emulator):
    emulator.inject(Fault(chunk_delay_ms=300))
    child = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", "Request-ChatCompletion", "hi", "-Stream"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert child.stdout is not None
        first = child.stdout.readline()
        second = child.stdout.readline()
        running = child.poll() is None  # the rest is still 2 s away
        rest, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
    assert running and json.loads(first) == "" and json.loads(second) == PIECES[1]
    assert [json.loads(line) for line in rest.decode().splitlines()] == PIECES[2:]
    assert child.returncode == 0 and err == b""


def test_format_text_through_a_pipe_is_the_reply_and_a_line_end(env, emulator):
    done = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Request-ChatCompletion", "hi", "-Stream", "--format", "text"],
        capture_output=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 0 and done.stdout.decode() == CANNED_REPLY + "\n"


def test_the_command_line_never_spells_a_key_sent_across_chunks(env, sse_server):
    split = [KEY[i : i + 2] for i in range(0, len(KEY), 2)]
    sse_server.always(
        Stream([event(chunk(piece)) for piece in ["Key: ", *split, "!"]] + reply_events([])[-1:])
    )
    for fmt in ("text", "json"):
        done = subprocess.run(
            [sys.executable, "-m", "psopenai_py", "Request-ChatCompletion", "x", "-Stream", "--format", fmt],
            capture_output=True,
            env={**env, "OPENAI_API_BASE": sse_server.base_url},
            timeout=30,
        )
        _clean(done.stdout.decode() + done.stderr.decode())
        assert done.returncode == 0


def test_a_stopped_run_ends_the_stream_from_another_thread(emulator, transport):
    # The host's stop, set as the first Ctrl-C sets it, ends the stream within a moment.
    emulator.inject(Fault(chunk_delay_ms=3000))
    host = Host(io.StringIO())

    unit = find_unit("Request-ChatCompletion")
    bound = bind(unit.table, [("Stream", True), ("ApiBase", emulator.url), ("ApiKey", KEY)], ["hi"])
    outputs = execute(unit, bound, host)
    assert next(outputs) == ""
    threading.Timer(0.2, host.stop.set).start()
    assert list(outputs) == []  # the item failed: its error is on the host's stream
    written = host.stream.getvalue()  # type: ignore[attr-defined]
    assert host.failures == 1 and "Stopped: the run was stopped while the answer" in written


def test_a_run_stopped_between_two_pieces_fails_the_item_it_cut_short(emulator, transport):
    # Stopped with the answer half read: counted as failed, never as done.
    host = Host(io.StringIO())
    unit = find_unit("Request-ChatCompletion")
    bound = bind(unit.table, [("Stream", True), ("ApiBase", emulator.url), ("ApiKey", KEY)], ["hi"])
    outputs = execute(unit, bound, host)
    assert next(outputs) == ""
    host.stop.set()
    assert list(outputs) == []
    assert (host.done, host.failures) == (0, 1)
