"""Streams belong to one invocation: -Verbose shows the lines of the command it is given to,
-Debug does not turn on verbose lines, two threads running commands at once each see only their
own VERBOSE, WARNING and ErrorVariable entries; the other common parameters."""

from __future__ import annotations

import io
import logging
import re
import threading

import pytest

from psopenai_py import compat
from psopenai_py.commands import find_unit
from psopenai_py.compat import Set_ChatCompletion, invoke
from psopenai_py.emulator import Emulator, Fault
from psopenai_py.powershell.binding import bind
from psopenai_py.powershell.host import Host
from psopenai_py.powershell.pipeline import execute

KEY = "sk-streams-000000000000000000000000"
PATH = re.compile(r"^VERBOSE: Method = (\w+), Path = .*/chat/completions/([\w-]+)$")


def _run_in_thread(
    emulator: Emulator, ids: list[str], stream: io.StringIO, errors: list[BaseException], **common: object
) -> threading.Thread:
    runner = find_unit("Set-ChatCompletion")
    named = [
        ("MetaData", {}),
        ("ApiBase", emulator.url),
        ("ApiKey", KEY),
        ("MaxRetryCount", 2),
        ("ErrorVariable", errors),
        *common.items(),
    ]
    bound = bind(runner.table, named, pipeline=ids)

    def work() -> None:
        list(execute(runner, bound, Host(stream)))

    return threading.Thread(target=work)


@pytest.mark.parametrize("throttle", [1, 3])
def test_two_threads_each_see_only_their_own_streams(emulator, throttle):
    a_ids = [*emulator.store.seed(6, prefix="chatcmpl-a-"), "chatcmpl-a-missing"]
    b_ids = [*emulator.store.seed(6, prefix="chatcmpl-b-"), "chatcmpl-b-missing"]
    emulator.latency_ms = 15  # long enough for the two runs to interleave
    # Only B's requests meet retryable errors, so only B writes warnings.
    emulator.inject(Fault(status=500, headers={"retry-after-ms": "5"}, times=2, path_contains="chatcmpl-b-0"))
    a_stream, b_stream = io.StringIO(), io.StringIO()
    a_errors: list[BaseException] = []
    b_errors: list[BaseException] = []
    threads = [
        _run_in_thread(emulator, a_ids, a_stream, a_errors, Verbose=True, ThrottleLimit=throttle),
        _run_in_thread(emulator, b_ids, b_stream, b_errors, ThrottleLimit=throttle),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    a_lines = a_stream.getvalue().splitlines()
    b_lines = b_stream.getvalue().splitlines()
    # A: verbose lines for exactly its own requests, no warning, its own error.
    paths = [m.groups() for m in map(PATH.match, a_lines) if m]
    assert sorted(i for _, i in paths) == sorted(a_ids)
    assert not [line for line in a_lines if line.startswith("WARNING:")]
    assert not [line for line in a_lines if "chatcmpl-b-" in line]
    assert [line for line in a_lines if not line.startswith("VERBOSE:")] == [
        "Set-ChatCompletion: [chatcmpl-a-missing] OpenAI API returned an 404 (Not Found) Error: No chat "
        "completion found with id 'chatcmpl-a-missing'."
    ]
    # B: no verbose line, its own warnings (two per retry, naming its item), its own error.
    assert not [line for line in b_lines if line.startswith("VERBOSE:")]
    retries = [line for line in b_lines if re.match(r"WARNING: \[chatcmpl-b-\d+\] Retry the request", line)]
    assert len(retries) == 2
    assert not [line for line in b_lines if "chatcmpl-a-" in line]
    assert [getattr(e, "TargetObject", None) for e in a_errors] == ["chatcmpl-a-missing"]
    assert getattr(a_errors[0], "item", None) == "chatcmpl-a-missing"
    assert getattr(a_errors[0], "exception", None) is a_errors[0]
    assert [getattr(e, "TargetObject", None) for e in b_errors] == ["chatcmpl-b-missing"]


def test_verbose_belongs_to_the_command_it_is_given_to(emulator):
    [stored] = emulator.store.seed(1, prefix="chatcmpl-chain-")
    args = f"-ApiBase '{emulator.url}' -ApiKey '{KEY}'"
    for verbose_on, shown, hidden in (("set", "Post", "Get"), ("get", "Get", "Post")):
        stream = io.StringIO()
        get_v = " -Verbose" if verbose_on == "get" else ""
        set_v = " -Verbose" if verbose_on == "set" else ""
        invoke(
            f"Get-ChatCompletion {stored} {args}{get_v} | Set-ChatCompletion -MetaData @{{}} {args}{set_v}",
            host=Host(stream),
        )
        methods = {m.group(1) for m in map(PATH.match, stream.getvalue().splitlines()) if m}
        assert shown in methods and hidden not in methods, stream.getvalue()


def test_debug_does_not_turn_on_verbose_lines(emulator):
    [stored] = emulator.store.seed(1, prefix="chatcmpl-dbg-")
    stream = io.StringIO()
    runner = find_unit("Set-ChatCompletion")
    bound = bind(
        runner.table,
        [
            ("CompletionId", stored),
            ("MetaData", {}),
            ("ApiBase", emulator.url),
            ("ApiKey", KEY),
            ("Debug", True),
        ],
    )
    list(execute(runner, bound, Host(stream)))
    lines = stream.getvalue().splitlines()
    assert any(line.startswith("DEBUG:") for line in lines)
    assert not any(line.startswith("VERBOSE:") for line in lines)
    assert KEY not in stream.getvalue()


def test_the_logger_level_is_never_changed(emulator):
    [stored] = emulator.store.seed(1, prefix="chatcmpl-lvl-")
    logger = logging.getLogger("psopenai_py")
    before = logger.level
    seen: list[int] = []

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(logger.level)

    spy = Spy()
    logger.addHandler(spy)
    try:
        Set_ChatCompletion(stored, MetaData={}, ApiBase=emulator.url, ApiKey=KEY, Verbose=True, Debug=True)
    finally:
        logger.removeHandler(spy)
    assert seen and set(seen) == {before} and logger.level == before


def test_warning_out_information_and_pipeline_variables(emulator, capsys):
    ids = emulator.store.seed(2, prefix="chatcmpl-vars-")
    emulator.inject(Fault(status=500, headers={"retry-after-ms": "1"}, path_contains=ids[1]))
    warnings: list[object] = []
    outputs: list[object] = []
    Set_ChatCompletion(
        ids,
        MetaData={},
        ApiBase=emulator.url,
        ApiKey=KEY,
        MaxRetryCount=1,
        WarningVariable=warnings,
        OutVariable=outputs,
        InformationAction="SilentlyContinue",
        InformationVariable="info",
        PipelineVariable="current",
        WarningAction="SilentlyContinue",
    )
    assert [o.id for o in outputs] == ids  # type: ignore[attr-defined]
    assert len(warnings) == 2 and "Retry the request" in str(warnings[1])
    assert compat.variables["info"] == []
    assert compat.variables["current"][0].id == ids[1]
    assert capsys.readouterr().err == ""  # SilentlyContinue: recorded, not written


class _Answers:
    """A terminal that answers from a list and records the prompts (the Terminal interface)."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def ask(self, prompt: str) -> str:
        from psopenai_py.powershell.terminal import NoTerminalError

        self.prompts.append(prompt)
        if not self.answers:
            raise NoTerminalError("no terminal")
        return self.answers.pop(0)


@pytest.mark.parametrize(
    ("answers", "sent", "raises"),
    [
        (("y", "y"), 4, False),  # continue after each failure
        (("a",), 4, False),  # yes to all: asked once
        (("h",), 2, True),  # halt at the first failure
        (("s",), 2, True),  # suspend: halted, with a note
        ((), 2, True),  # no terminal: halted
    ],
)
def test_error_action_inquire_through_the_terminal_interface(emulator, answers, sent, raises):
    ids = emulator.store.seed(2, prefix="chatcmpl-inq-")
    items = [ids[0], "chatcmpl-inq-gone1", ids[1], "chatcmpl-inq-gone2"]
    runner = find_unit("Set-ChatCompletion")
    terminal = _Answers(*answers)
    stream = io.StringIO()
    bound = bind(
        runner.table,
        [("MetaData", {}), ("ApiBase", emulator.url), ("ApiKey", KEY), ("ErrorAction", "Inquire")],
        pipeline=items,
    )
    outputs: list[object] = []
    try:
        outputs.extend(execute(runner, bound, Host(stream, terminal=terminal)))
    except Exception as exc:  # the halt raises the item's error
        assert raises and getattr(exc, "TargetObject", None) == "chatcmpl-inq-gone1"
    else:
        assert not raises
    assert len(emulator.requests) == sent
    assert terminal.prompts[0].startswith("\nConfirm\nSet-ChatCompletion: [chatcmpl-inq-gone1] OpenAI API")
    assert "[Y] Yes  [A] Yes to All  [H] Halt Command  [?] Help" in terminal.prompts[0]
    assert "Suspend" not in terminal.prompts[0]
    if answers == ("a",):
        assert len(terminal.prompts) == 1


def test_demo_verbose_prints_verbose_lines():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "psopenai_py", "demo", "-Verbose"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "VERBOSE: Request to OpenAI API" in result.stderr and "INFO:" not in result.stderr


def test_a_host_used_again_after_a_stopped_run_starts_afresh(emulator):
    ids = emulator.store.seed(2, prefix="chatcmpl-again-")
    host = Host(io.StringIO())
    args = f"-MetaData @{{}} -ApiBase '{emulator.url}' -ApiKey '{KEY}'"
    with pytest.raises(Exception, match="chatcmpl-again-gone"):
        invoke(f"'chatcmpl-again-gone','{ids[0]}' | Set-ChatCompletion {args} -ErrorAction Stop", host=host)
    assert host.stop.is_set()
    assert [o.id for o in invoke(f"'{ids[0]}','{ids[1]}' | Set-ChatCompletion {args}", host=host)] == ids
