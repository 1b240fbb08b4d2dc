"""One value, one verdict: each value of the table goes through every door of the package (the
library function, the PowerShell shim, the PowerShell command line, the openai CLI's dialect and
the SDK-shaped client) against the emulator, and is either sent (the emulator recorded a request)
or refused with nothing sent, the same at every door unless the row names the door that differs
and says why.  A refusal names the value the way that door's user wrote it, and no door shows a
fragment of the key."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

import psopenai_py
from psopenai_py import compat, openai_cli
from psopenai_py.emulator import Emulator
from psopenai_py.errors import PSOpenAIError
from psopenai_py.powershell import cli as powershell_cli
from psopenai_py.transport import Transport, set_default_transport

from .conftest import FakeClock

KEY = "sk-verdict-0123456789abcdefghijklmn"
PASTED_KEY = "sk-proj-PASTEDasID0123456789abcdefghijklmnopqrstuv"
"""A second key, typed where an id goes: no fragment of it may show either."""
DIALECTS = ("openai_cli", "sdk")
POWERSHELL = ("library", "shim", "ps_cli")
DOORS = (*POWERSHELL, *DIALECTS)

# How each door's user names each value: a refusal must say it in these words.
NAMES = {
    "key": ("ApiKey", "--api-key", "api_key"),
    "header": ("AdditionalHeaders", "--header", "extra_headers"),
    "base_url": ("ApiBase", "--base-url", "base_url"),
    "id": ("CompletionId", "completion-id", "completion_id"),
    "metadata": ("MetaData", "--metadata", "metadata"),
    "limit": ("Limit", "--limit", "limit"),
    "timeout": ("TimeoutSec", "--timeout", "timeout"),
}
POWERSHELL_WORDS = ("Cannot validate argument", "ApiKey", "ApiBase", "AdditionalHeaders", "CompletionId")


def name_at(door: str, kind: str) -> str:
    powershell, cli, sdk = NAMES[kind]
    return {"openai_cli": cli, "sdk": sdk}.get(door, powershell)


@dataclass(frozen=True)
class Row:
    """A value of one kind, the verdict it gets, and the doors that give the other one (why)."""

    kind: str
    value: Any
    sent: bool
    label: str
    differs: Mapping[str, str] = field(default_factory=dict)

    def sent_at(self, door: str) -> bool:
        return self.sent != (door in self.differs)


CLEARS_WITH_NULL = (
    "the API's update takes null to clear the metadata, and the openai CLI and SDK send it; "
    "PSOpenAI's -MetaData is a mandatory IDictionary, cleared with @{}"
)
LIMIT_RANGE = (
    "PSOpenAI's -Limit has ValidateRange(1, 100); the SDK and the openai CLI send limit as "
    "given and leave the bound to the server"
)
ZERO_TIMEOUT = (
    "-TimeoutSec 0 is PowerShell's 'no time limit'; the SDK's and the CLI's timeout is seconds "
    "for an attempt, and 0 seconds could never succeed"
)

ROWS = [
    # -- keys -------------------------------------------------------------------------------------
    Row("key", KEY, True, "key"),
    Row("key", "sk-abc\u00e9defghijklmnop", False, "key with e-acute"),
    Row("key", KEY[:12] + "\0" + KEY[12:], False, "key with NUL"),
    Row("key", KEY[:12] + "\r\n" + KEY[12:], False, "key with CRLF inside"),
    Row("key", KEY[:12] + "\x1b" + KEY[12:], False, "key with ESC"),
    Row("key", " \t" + KEY + "\r\n", True, "key with surrounding whitespace"),
    Row("key", "\ufeff" + KEY + "\n", True, "key with a byte-order mark"),
    Row("key", "\u00a0" + KEY + "\u2028", True, "key with Unicode spaces around"),
    Row("key", "", False, "empty key, none elsewhere"),
    # -- headers ----------------------------------------------------------------------------------
    Row("header", ("Connection", "close"), True, "Connection: close"),
    Row("header", ("X-Note", "caf\u00e9"), True, "Latin-1 value"),
    Row("header", ("X-Note", "  padded  "), True, "value with surrounding spaces"),
    Row("header", ("X-Note", "a\r\nInjected: 1"), False, "CRLF value"),
    Row("header", ("X-Note", "a\x1bb"), False, "ESC in value"),
    Row("header", ("X-Note", "\u65e5\u672c"), False, "value outside Latin-1"),
    Row("header", ("Bad Name", "v"), False, "name with a space"),
    Row("header", ("Content-Length", "5"), False, "Content-Length"),
    Row("header", ("Transfer-Encoding", "chunked"), False, "Transfer-Encoding"),
    Row("header", ("Host", "example.com"), False, "Host"),
    # -- base URLs --------------------------------------------------------------------------------
    Row("base_url", "{url}", True, "the emulator"),
    Row("base_url", " {url}\n", True, "surrounding whitespace"),
    Row("base_url", "ftp://127.0.0.1:{port}/v1", False, "ftp"),
    Row("base_url", "http://user:pass@127.0.0.1:{port}/v1", False, "user-info"),
    Row("base_url", "http://127.0.0.1:99999/v1", False, "port out of range"),
    Row("base_url", "http://127.0.0.1:{port}/v 1", False, "space inside"),
    Row("base_url", "127.0.0.1:{port}/v1", False, "no scheme"),
    # -- completion ids ---------------------------------------------------------------------------
    Row("id", "{stored}", True, "stored id"),
    Row("id", "chatcmpl-unknown", True, "unknown id (the API answers 404)"),
    Row("id", "chatcmpl-" + "x" * 1015, True, "1024 characters"),
    Row("id", "", False, "empty id"),
    Row("id", "   ", False, "blank id"),
    Row("id", "chatcmpl-" + "x" * 1016, False, "1025 characters"),
    Row("id", "chatcmpl-a\x01b", False, "control character"),
    Row("id", "chatcmpl-\udc80", False, "lone surrogate"),
    Row("id", PASTED_KEY, False, "an API key pasted as the id (never sent, even in a path)"),
    # -- metadata ---------------------------------------------------------------------------------
    Row("metadata", {f"k{i}": "v" for i in range(16)}, True, "16 pairs"),
    Row("metadata", {}, True, "empty (clears)"),
    Row("metadata", {"k" * 64: "v" * 512}, True, "key 64, value 512"),
    Row("metadata", {f"k{i}": "v" for i in range(17)}, False, "17 pairs"),
    Row("metadata", {"k" * 65: "v"}, False, "65-character key"),
    Row("metadata", {"k": "v" * 513}, False, "513-character value"),
    Row("metadata", {"k": 1}, False, "number value"),
    Row("metadata", None, False, "null", {door: CLEARS_WITH_NULL for door in DIALECTS}),
    # -- paging limit -----------------------------------------------------------------------------
    Row("limit", 5, True, "5"),
    Row("limit", 500, False, "500", {door: LIMIT_RANGE for door in DIALECTS}),
    Row("limit", 0, False, "0", {door: LIMIT_RANGE for door in DIALECTS}),
    # -- timeout ----------------------------------------------------------------------------------
    Row("timeout", 30, True, "30 s"),
    Row("timeout", 0, True, "0", {door: ZERO_TIMEOUT for door in DIALECTS}),
    Row("timeout", -1, False, "-1"),
    Row("timeout", 10**300, False, "10^300 s"),
]


@dataclass
class Call:
    """What one door is given: the defaults, with the row's value in its place."""

    key: str = KEY
    base_url: str = ""
    ident: str = ""
    metadata: Any = field(default_factory=lambda: {"reviewed": "yes"})
    header: tuple[str, str] | None = None
    limit: int | None = None
    timeout: int | None = None


def call_for(row: Row, emulator: Emulator, stored: str) -> Call:
    value = row.value
    if isinstance(value, str):
        value = value.replace("{url}", emulator.url).replace("{port}", str(emulator.port))
        value = value.replace("{stored}", stored)
    call = Call(base_url=emulator.url, ident=stored)
    setattr(call, {"key": "key", "id": "ident"}.get(row.kind, row.kind), value)
    return call


def shown(exc: BaseException) -> str:
    return f"{exc}\n{exc!r}\n{exc.args!r}"


def library(kind: str, c: Call) -> str:
    settings: dict[str, Any] = {"api_key": c.key, "api_base": c.base_url}
    if c.header:
        settings["additional_headers"] = dict([c.header])
    if c.timeout is not None:
        settings["timeout_sec"] = c.timeout
    try:
        if kind == "limit":
            psopenai_py.get_chat_completion(limit=c.limit, **settings)
        else:
            psopenai_py.set_chat_completion(c.ident, c.metadata, **settings)
    except PSOpenAIError as exc:
        return shown(exc)
    return ""


def shim(kind: str, c: Call) -> str:
    settings: dict[str, Any] = {"ApiKey": c.key, "ApiBase": c.base_url, "ErrorAction": "Stop"}
    if c.header:
        settings["AdditionalHeaders"] = dict([c.header])
    if c.timeout is not None:
        settings["TimeoutSec"] = c.timeout
    try:
        if kind == "limit":
            compat.Get_ChatCompletion(Limit=c.limit, **settings)
        else:
            compat.Set_ChatCompletion(CompletionId=c.ident, MetaData=c.metadata, **settings)
    except PSOpenAIError as exc:
        return shown(exc)
    return ""


def ps_literal(value: Any) -> str:
    """A value as a PowerShell literal on the command line."""
    if value is None:
        return "$null"
    if isinstance(value, Mapping):
        return "@{" + "; ".join(f"{ps_literal(k)}={ps_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def ps_cli(kind: str, c: Call) -> str:
    argv = ["-ApiKey", c.key, "-ApiBase", c.base_url]
    if c.header:
        argv += ["-AdditionalHeaders", ps_literal(dict([c.header]))]
    if c.timeout is not None:
        argv.append(f"-TimeoutSec:{c.timeout}")
    if kind == "limit":
        argv = ["Get-ChatCompletion", f"-Limit:{c.limit}", *argv]
    else:
        argv = ["Set-ChatCompletion", "-CompletionId", c.ident, "-MetaData", ps_literal(c.metadata), *argv]
    out, err = io.StringIO(), io.StringIO()
    status = powershell_cli.main(argv, stdin=io.StringIO(""), stdout=out, stderr=err)
    return err.getvalue() + out.getvalue() if status else out.getvalue()


def openai_cli_door(kind: str, c: Call) -> str:
    argv = [f"--api-key={c.key}", f"--base-url={c.base_url}"]
    if c.header:
        argv += ["-H", f"{c.header[0]}: {c.header[1]}"]
    if c.timeout is not None:
        argv.append(f"--timeout={c.timeout}")
    if kind == "limit":
        argv = ["chat:completions", "list", f"--limit={c.limit}", "--max-items=1", *argv]
    else:
        metadata = json.dumps(c.metadata)
        argv = ["chat:completions", "update", f"--completion-id={c.ident}", f"--metadata={metadata}", *argv]
    out, err = io.StringIO(), io.StringIO()
    status = openai_cli.main(argv, stdout=out, stderr=err)
    return err.getvalue() + out.getvalue() if status else out.getvalue()


def sdk(kind: str, c: Call) -> str:
    extra = {"extra_headers": dict([c.header])} if c.header else {}
    try:
        client = psopenai_py.OpenAI(api_key=c.key, base_url=c.base_url, timeout=c.timeout)
        if kind == "limit":
            client.chat.completions.list(limit=c.limit, **extra)
        else:
            client.chat.completions.update(c.ident, metadata=c.metadata, **extra)
    except PSOpenAIError as exc:
        return shown(exc)
    return ""


DOOR_CALLS: dict[str, Callable[[str, Call], str]] = {
    "library": library,
    "shim": shim,
    "ps_cli": ps_cli,
    "openai_cli": openai_cli_door,
    "sdk": sdk,
}


def fragments(key: str) -> list[str]:
    """Every run of 8 characters of the key as sent (trimmed): none may show anywhere."""
    core = key.strip().strip("\ufeff").strip()
    return [core[i : i + 8] for i in range(len(core) - 7)]


def through(door: str, row: Row, emulator: Emulator, stored: str, clock: FakeClock) -> tuple[bool, str]:
    """Whether the door sent the row's value, and all it showed.  Each door gets a connection
    pool of its own, as a process of its own would: a row such as ``Connection: close`` must not
    decide the next door's verdict through a connection it left behind."""
    fresh = Transport(sleep=clock.sleep, random=clock.random, clock=clock.clock)
    old = set_default_transport(fresh)
    before = len(emulator.requests)
    try:
        text = DOOR_CALLS[door](row.kind, call_for(row, emulator, stored))
    finally:
        set_default_transport(old)
        fresh.close()
    return len(emulator.requests) > before, text


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.kind}: {r.label}")
def test_a_value_gets_the_same_verdict_at_every_door(emulator, clock, stored, row):
    verdicts: dict[str, bool] = {}
    words: dict[str, str] = {}
    for door in DOORS:
        verdicts[door], words[door] = through(door, row, emulator, stored, clock)
    expected = {door: row.sent_at(door) for door in DOORS}
    assert verdicts == expected, words
    for door, text in words.items():
        if not verdicts[door]:
            # Refused before sending, in the words of that door's user.
            assert name_at(door, row.kind) in text, (door, text)
            if door in DIALECTS:
                assert not any(w in text for w in POWERSHELL_WORDS), (door, text)
        key = row.value if row.kind == "key" else KEY
        assert not [f for f in fragments(key) if f in text], (door, text)
        assert not [f for f in fragments(PASTED_KEY) if f in text], (door, text)


ENVIRONMENT_ROWS = [
    ("OPENAI_API_KEY", KEY[:9] + "\u00e9" + KEY[9:]),
    ("OPENAI_API_KEY", KEY[:9] + "\n" + KEY[9:]),
    ("OPENAI_BASE_URL", "http://user:pw-9f8e7d@127.0.0.1:{port}/v1"),
    ("OPENAI_BASE_URL", "http://127.0.0.1:0/v1"),
    ("OPENAI_BASE_URL", "ftp://127.0.0.1:{port}/v1"),
    ("OPENAI_ORG_ID", "org-a\nb"),
    ("OPENAI_PROJECT_ID", "proj-\x1bx"),
]


@pytest.mark.parametrize(("variable", "value"), ENVIRONMENT_ROWS, ids=lambda v: repr(v)[:40])
def test_a_bad_environment_value_is_refused_by_both_dialects_naming_the_variable(
    emulator, transport, stored, monkeypatch, variable, value
):
    monkeypatch.setenv(variable, value.replace("{port}", str(emulator.port)))
    given = {"key": KEY, "base_url": emulator.url}
    given.pop({"OPENAI_API_KEY": "key", "OPENAI_BASE_URL": "base_url"}.get(variable, ""), None)
    argv = ["chat:completions", "retrieve", stored]
    argv += [f"--api-key={given['key']}"] if "key" in given else []
    argv += [f"--base-url={given['base_url']}"] if "base_url" in given else []
    out, err = io.StringIO(), io.StringIO()
    assert openai_cli.main(argv, stdout=out, stderr=err) == 1
    with pytest.raises(PSOpenAIError) as caught:
        psopenai_py.OpenAI(
            api_key=given.get("key"), base_url=given.get("base_url")
        ).chat.completions.retrieve(stored)
    for text in (err.getvalue(), shown(caught.value)):
        assert variable in text and "pw-9f8e7d" not in text, text
        if variable == "OPENAI_API_KEY":
            assert not [f for f in fragments(value) if f in text], text
    assert emulator.requests == []
