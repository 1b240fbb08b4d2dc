"""Exit codes, interrupts, stops and encodings of the ``psopenai`` command line.

2 for anything that stops before the first item, 1 when an item failed, 130 on interrupt,
0 otherwise; Ctrl-C and -ErrorAction Stop end promptly with retries pending; output is UTF-8
whatever the locale."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from psopenai_py.emulator import Emulator, Fault, rate_limit_fault
from psopenai_py.powershell import cli

KEY = "sk-exit-0000000000000000000000000"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(argv: list[str], stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(
        argv, stdin=_Terminal() if stdin is None else io.StringIO(stdin), stdout=out, stderr=err
    )
    return status, out.getvalue(), err.getvalue()


BAD_COMMAND_LINES = [
    (
        ["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-Foo", "x"],
        "cannot be found that matches parameter name 'Foo'",
    ),
    (["Set-ChatCompletion", "c1", "-M", "@{}"], "is ambiguous"),
    (["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-meta", "@{}"], "specified more than once"),
    (["Set-ChatCompletion", "c1", "-MetaData"], "Missing an argument for parameter 'MetaData'"),
    (["Set-ChatCompletion", "-MetaData", "@{}"], "missing mandatory parameters: CompletionId"),
    (["Set-ChatCompletion", "c1", "-MetaData", "@{}", "extra"], "positional parameter cannot be found"),
    (["Set-ChatCompletion", "c1", "-MetaData", "@{a="], "MetaData"),
    (["Set-ChatCompletion", "c1", "-MetaData", "'just text'"], "System.Collections.IDictionary"),
    (
        ["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-MaxRetryCount", "101"],
        "maximum allowed range of 100",
    ),
    (["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-MaxRetryCount", "many"], "System.Int32"),
    (["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-TimeoutSec", "-5"], "TimeoutSec"),
    (["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-ErrorAction", "Sometimes"], "enumeration values"),
    (["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-ProgressAction", "Often"], "ProgressAction"),
    (["Set-ChatCompletion", "c1", "-MetaData", "@{}", "--force"], "parameter name '-force'"),
    (["Set-ChatCompletion", "-MetaData", "@{}", "-chatcmpl-dash"], "parameter name 'chatcmpl-dash'"),
    (["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-Confirm:maybe"], "SwitchParameter"),
    (["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-ApiBase", "not a url"], "ApiBase"),
    (["Get-ChatCompletion", "-Order", "sideways"], "Order"),
    (["Get-ChatCompletion", "-Limit", "0"], "Limit"),
    (["Remove-ChatCompletion"], "missing mandatory parameters: CompletionId"),
    (["Remove-ChatCompletion", "-CompletionId"], "Missing an argument"),
    (["Get-ChatCompletionMessage"], "missing mandatory parameters"),
    (["Nope-Command", "x"], "is not a command"),
    (["Set-ChatCompletion", "c1", "-MetaData", "@{}", "--format", "xml"], "--format takes json or text"),
]


@pytest.mark.parametrize(
    ("argv", "message"), BAD_COMMAND_LINES, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_command_lines_that_stop_before_the_first_item_exit_2_and_send_nothing(emulator, argv, message):
    status, out, err = run(
        [*argv, "-ApiBase", emulator.url, "-ApiKey", KEY] if argv[0] != "Nope-Command" else argv
    )
    assert (status, out) == (2, "")
    assert message in err and err.count("\n") == 1, err
    assert "Traceback" not in err and KEY not in err
    assert emulator.requests == []


def test_a_missing_key_exits_2_and_sends_nothing(emulator):
    status, _, err = run(["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-ApiBase", emulator.url])
    assert status == 2 and "API key" in err
    assert emulator.requests == []


def test_item_failures_exit_1_success_0(emulator):
    ids = emulator.store.seed(2, prefix="chatcmpl-ok-")
    args = ["Set-ChatCompletion", "-MetaData", "@{}", "-ApiBase", emulator.url, "-ApiKey", KEY]
    assert run(args, stdin="\n".join(ids))[0] == 0
    status, out, err = run(args, stdin=f"{ids[0]}\nchatcmpl-gone\n{ids[1]}\n")
    assert status == 1 and len(out.splitlines()) == 2
    assert err.startswith("Set-ChatCompletion: [chatcmpl-gone] ")
    # Under Stop, a failure after the first item is an item failure too: 1, not 2.
    status, _, err = run([*args, "-ErrorAction", "Stop"], stdin=f"{ids[0]}\nchatcmpl-gone\n{ids[1]}\n")
    assert status == 1 and err.startswith("Set-ChatCompletion: [chatcmpl-gone] OpenAI API returned an 404")


def test_an_id_that_starts_with_a_dash_goes_after_double_dash_or_with_a_colon(emulator):
    base = ["-ApiBase", emulator.url, "-ApiKey", KEY]
    assert run(["Remove-ChatCompletion", *base, "--", "-dash"])[0] == 1
    assert run(["Remove-ChatCompletion", "-CompletionId:-colon", *base])[0] == 1
    assert [r.target.rsplit("/", 1)[1] for r in emulator.requests] == ["-dash", "-colon"]


def test_negative_numbers_are_values_not_parameters(emulator):
    status, _, err = run(
        ["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-MaxRetryCount", "-1", "-ApiKey", KEY]
    )
    assert status == 2 and "MaxRetryCount" in err and "cannot be found" not in err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"\xff\xfeid", "line 2 is not valid UTF-8"),
        (b"[" * 100 + b"]" * 100, "line 2 is JSON nested deeper than 64 levels"),
        (b"[1, 2]", "line 2 is JSON but not an object"),
        (b"{not json", "line 2 '{not json' is not valid JSON"),
        (b'{"id": 5}', "CompletionId"),
    ],
)
def test_one_bad_stdin_line_is_one_item_error(emulator, line, message):
    ids = emulator.store.seed(2, prefix="chatcmpl-line-")
    stdin = b"\xef\xbb\xbf" + ids[0].encode() + b"\r\n" + line + b"\r\n" + ids[1].encode() + b"\r\n"
    out, err = io.StringIO(), io.StringIO()
    raw = io.TextIOWrapper(io.BytesIO(stdin))
    status = cli.main(
        ["Set-ChatCompletion", "-MetaData", "@{}", "-ApiBase", emulator.url, "-ApiKey", KEY],
        stdin=raw,
        stdout=out,
        stderr=err,
    )
    assert status == 1
    assert [json.loads(o)["id"] for o in out.getvalue().splitlines()] == ids  # BOM dropped, CRLF accepted
    assert message in err.getvalue() and err.getvalue().count("\n") == 1, err.getvalue()


def test_server_text_is_printed_with_control_characters_escaped(emulator):
    emulator.inject(Fault(status=400, body={"error": {"message": "bad\x1b[2J\x07 item\x9b"}}))
    status, _, err = run(
        ["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-ApiBase", emulator.url, "-ApiKey", KEY]
    )
    assert status == 1
    assert "\x1b" not in err and "\x07" not in err and "\x9b" not in err
    assert "bad\\x1b[2J\\x07 item\\x9b" in err


# -- real processes --------------------------------------------------------------------------


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    return {**os.environ, "OPENAI_API_BASE": emulator.url, "OPENAI_API_KEY": KEY, "PYTHONPATH": os.getcwd()}


def test_cp1252_locale_still_writes_utf8_json(env, emulator):
    [stored] = emulator.store.seed(1, prefix="chatcmpl-enc-")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "psopenai_py",
            "Set-ChatCompletion",
            stored,
            "-MetaData",
            "@{name='日本語 ✓ ß'}",
        ],
        capture_output=True,
        env={**env, "PYTHONIOENCODING": "cp1252"},
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.decode("utf-8"))["metadata"] == {"name": "日本語 ✓ ß"}
    failed = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "Remove-ChatCompletion", "chatcmpl-日本"],
        capture_output=True,
        env={**env, "PYTHONIOENCODING": "cp1252"},
        timeout=30,
    )
    assert failed.returncode == 1 and b"Traceback" not in failed.stderr
    assert "chatcmpl-日本" in failed.stderr.decode("utf-8")


SUMMARY = re.compile(r"^interrupted: (\d+) done, (\d+) failed, (\d+) not sent$")


def _start(env: dict[str, str], args: list[str], ids: list[str]) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "psopenai_py", "Set-ChatCompletion", "-MetaData", "@{}", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdin is not None
    child.stdin.write("\n".join(ids) + "\n")
    child.stdin.close()
    child.stdin = None  # written and closed: communicate() must not touch it
    return child


def _wait_for_requests(emulator: Emulator, count: int) -> None:
    deadline = time.monotonic() + 15
    while len(emulator.requests) < count:
        assert time.monotonic() < deadline, "the child never reached the server"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("fault", "throttle"),
    [
        (rate_limit_fault(retry_after="30"), "4"),
        (Fault(status=500, headers={"retry-after": "30"}), "1"),
        (Fault(status=500, headers={"retry-after": "30"}), "3"),
    ],
)
def test_ctrl_c_with_retries_pending_stops_within_2_s(env, emulator, fault, throttle):
    ids = emulator.store.seed(20, prefix="chatcmpl-int-")
    emulator.inject(replace(fault, times=1000))
    child = _start(env, ["-ThrottleLimit", throttle, "-MaxRetryCount", "5"], ids)
    # A 429 pauses every worker before its first attempt (one shared backoff): one request then.
    _wait_for_requests(emulator, 1 if fault.status == 429 else int(throttle))
    time.sleep(0.2)  # every worker is now waiting 30 s to retry
    sent_at_signal = len(emulator.requests)
    signalled = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=10)
    assert time.monotonic() - signalled < 2.0
    assert child.returncode == 130, err
    assert "Traceback" not in err and KEY not in err
    summary = [line for line in err.splitlines() if line.startswith("interrupted")]
    assert len(summary) == 1 and err.splitlines()[-1] == summary[0]
    match = SUMMARY.match(summary[0])
    assert match, summary
    done, failed, not_sent = map(int, match.groups())
    # Each item that reached the server was answered with the fault and is reported as failed;
    # no retry was sent after the signal (at most a first attempt already on its way).
    assert done == 0 and failed == len(emulator.requests) >= 1
    assert len(emulator.requests) - sent_at_signal <= int(throttle)
    assert done + failed + not_sent == len(ids)
    # Every item that reached the server is reported, named by its input.
    assert sorted(re.findall(r"Set-ChatCompletion: \[(chatcmpl-int-\d+)\]", err)) == sorted(ids[:failed])
    assert out == ""


def test_a_second_ctrl_c_exits_at_once(env, emulator):
    ids = emulator.store.seed(3, prefix="chatcmpl-twice-")
    emulator.latency_ms = 20_000  # the first request hangs in flight
    child = _start(env, [], ids)
    _wait_for_requests(emulator, 1)
    child.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert child.poll() is None  # the first Ctrl-C lets the request in flight finish
    signalled = time.monotonic()
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=10)
    assert time.monotonic() - signalled < 1.0
    assert child.returncode == 130 and "Traceback" not in err


def test_error_action_stop_with_retries_pending_stops_within_2_s(env, emulator):
    ids = emulator.store.seed(12, prefix="chatcmpl-stop-")
    emulator.inject(Fault(status=500, headers={"retry-after": "30"}, times=3, path_contains="chatcmpl-stop-"))
    child = _start(
        env, ["-ThrottleLimit", "4", "-MaxRetryCount", "5", "-ErrorAction", "Stop"], ["chatcmpl-gone", *ids]
    )
    start = time.monotonic()
    out, err = child.communicate(timeout=15)
    assert time.monotonic() - start < 4.0  # includes interpreter start
    assert child.returncode == 1 and "Traceback" not in err
    assert "chatcmpl-gone" in err
    # Nothing was sent after the stop but what was already in flight (at most 4 at once).
    assert len(emulator.requests) <= 1 + 3 + 4
    reported = set(re.findall(r"\[(chatcmpl-stop-\d+)\]", err)) | {
        json.loads(o)["id"] for o in out.splitlines()
    }
    sent = {r.target.rsplit("/", 1)[1] for r in emulator.requests} - {"chatcmpl-gone"}
    assert sent <= reported


def test_invoke_with_help_flag_returns_help_and_sends_nothing(emulator):
    from psopenai_py.compat import invoke

    shown = invoke(f"Remove-ChatCompletion chatcmpl-x -ApiBase '{emulator.url}' -ApiKey '{KEY}' -?")
    assert isinstance(shown, str) and "Remove-ChatCompletion" in shown
    piped = invoke(f"'a','b' | Set-ChatCompletion -MetaData @{{}} -ApiBase '{emulator.url}' -?")
    assert "Set-ChatCompletion" in piped
    assert emulator.requests == []


def test_anything_unexpected_is_one_line_and_the_traceback_only_with_debug(monkeypatch):
    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError(f"internal failure near Bearer {KEY}")

    monkeypatch.setattr(cli, "_run_command", boom)
    status, out, err = run(["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-ApiKey", KEY])
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(
        "psopenai: unexpected error: RuntimeError: internal failure"
    )
    assert "Traceback" not in err and KEY not in err
    status, _, err = run(["Set-ChatCompletion", "c1", "-MetaData", "@{}", "-ApiKey", KEY, "-Debug"])
    assert status == 1 and "Traceback (most recent call last)" in err and "boom" in err
    assert KEY not in err and "sk-exit" not in err


def test_an_unexpected_exception_in_one_item_is_that_items_error(emulator, monkeypatch):
    from psopenai_py.commands import set_completion

    ids = emulator.store.seed(3, prefix="chatcmpl-odd-")
    real = set_completion.update_completion

    def flaky(invocation: object, completion_id: str, metadata: object) -> object:
        if completion_id == ids[1]:
            raise KeyError("choices")
        return real(invocation, completion_id, metadata)  # type: ignore[arg-type]

    monkeypatch.setattr(set_completion, "update_completion", flaky)
    status, out, err = run(
        ["Set-ChatCompletion", "-MetaData", "@{}", "-ApiBase", emulator.url, "-ApiKey", KEY],
        stdin="\n".join(ids),
    )
    assert status == 1
    assert [json.loads(line)["id"] for line in out.splitlines()] == [ids[0], ids[2]]
    assert err == f"Set-ChatCompletion: [{ids[1]}] Unexpected failure: KeyError: 'choices'\n"


def test_a_redirect_fails_that_item_and_the_run_goes_on(emulator):
    ids = emulator.store.seed(2, prefix="chatcmpl-moved-")
    emulator.inject(
        Fault(status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"}, path_contains=ids[0])
    )
    status, out, err = run(
        ["Set-ChatCompletion", "-MetaData", "@{}", "-ApiBase", emulator.url, "-ApiKey", KEY],
        stdin="\n".join(ids),
    )
    assert status == 1 and "Traceback" not in err and KEY not in err
    assert [json.loads(line)["id"] for line in out.splitlines()] == [ids[1]]
    assert err.startswith(f"Set-ChatCompletion: [{ids[0]}] ") and err.count("\n") == 1


def test_text_view_escapes_control_characters_from_the_server(emulator):
    stored = emulator.store.create(
        model="m", messages=[{"role": "user", "content": "x"}], metadata={"note": "a\x1b]0;owned\x07b\x9bc"}
    )
    status, out, _ = run(
        [
            "Get-ChatCompletion",
            str(stored["id"]),
            "-ApiBase",
            emulator.url,
            "-ApiKey",
            KEY,
            "--format",
            "text",
        ]
    )
    assert status == 0
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "a\\x1b]0;owned\\x07b\\x9bc" in out


def test_a_closed_stdout_is_exit_1_with_one_accounting_line(env, emulator):
    ids = emulator.store.seed(3, prefix="chatcmpl-pipe-")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        result = subprocess.run(
            [sys.executable, "-m", "psopenai_py", "Set-ChatCompletion", "-MetaData", "@{}"],
            input="\n".join(ids).encode(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            timeout=30,
        )
    finally:
        os.close(write_end)
    # The first item was applied (its output had nowhere to go): one line says so, no traceback.
    assert result.returncode == 1
    assert result.stderr == b"psopenai: the output was closed: 1 done, 0 failed, 2 not sent\n"
