"""A key given in the wrong place (as a positional argument, to another parameter, through the
compatibility shim): every binding error shows it masked, never whole; nothing is sent; exit 2.

One rule says what looks like a key (``scrub.KEY_SHAPED``), for the PowerShell door, the shim and
the openai-CLI dialect alike.
"""

from __future__ import annotations

import io
import traceback

import pytest

from psopenai_py import compat, scrub
from psopenai_py.emulator import Emulator
from psopenai_py.errors import PSOpenAIError
from psopenai_py.openai_cli import arguments
from psopenai_py.powershell import cli

KEY = "sk-proj-Wq8Zr4Tn6Ym2Xk9Lp3Vb7Hc5Dj1Fg0Ns4Ue8Ia6Oq2Rt"
"""The key typed in the wrong place: never in the environment, never in play."""
OTHER = "sk-right-0000000000000000000000000000"
"""The key the environment holds."""


def leaks(text: str, key: str = KEY) -> list[str]:
    """Runs of 8 characters of ``key`` in ``text``, past what its masked form shows."""
    shown = len("sk-proj-") + 3
    return sorted({key[i : i + 8] for i in range(len(key) - 7) if i + 8 > shown and key[i : i + 8] in text})


PLACEMENTS = {
    "a positional argument": ["Set-ChatCompletion", "chatcmpl-a", KEY, "-MetaData", "@{a='b'}"],
    "-ApiBase": ["Set-ChatCompletion", "chatcmpl-a", "-MetaData", "@{a='b'}", "-ApiBase", KEY],
    "-TimeoutSec": ["Set-ChatCompletion", "chatcmpl-a", "-MetaData", "@{a='b'}", "-TimeoutSec", KEY],
    "-MaxRetryCount": ["Set-ChatCompletion", "chatcmpl-a", "-MetaData", "@{a='b'}", "-MaxRetryCount", KEY],
    "-ApiType": ["Set-ChatCompletion", "chatcmpl-a", "-MetaData", "@{a='b'}", "-ApiType", KEY],
    "-AuthType": ["Set-ChatCompletion", "chatcmpl-a", "-MetaData", "@{a='b'}", "-AuthType", KEY],
    "-AdditionalHeaders": [
        "Set-ChatCompletion",
        "chatcmpl-a",
        "-MetaData",
        "@{a='b'}",
        "-AdditionalHeaders",
        KEY,
    ],
    "-MetaData": ["Set-ChatCompletion", "chatcmpl-a", "-MetaData", KEY],
    "-Limit with a colon": ["Get-ChatCompletion", "chatcmpl-a", f"-Limit:{KEY}"],
    "-Order": ["Get-ChatCompletion", f"-Order={KEY}"],
    "Remove's positional": ["Remove-ChatCompletion", "chatcmpl-a", KEY],
}


@pytest.mark.parametrize("argv", list(PLACEMENTS.values()), ids=list(PLACEMENTS))
def test_the_command_line_masks_a_key_in_the_wrong_place(
    argv: list[str], emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OTHER)
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    out, err = io.StringIO(), io.StringIO()
    status = cli.main([*argv, "-Debug"], stdin=io.StringIO(""), stdout=out, stderr=err)
    text = out.getvalue() + err.getvalue()
    assert status == 2, text
    assert leaks(text) == [], text
    assert "Traceback" not in text
    assert emulator.requests == []  # nothing sent
    assert len(err.getvalue().splitlines()) == 1, text


def test_the_masked_form_names_the_argument(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OTHER)
    err = io.StringIO()
    cli.main(PLACEMENTS["a positional argument"], stdin=io.StringIO(""), stdout=io.StringIO(), stderr=err)
    assert scrub.mask_key(KEY) in err.getvalue()  # the user can tell which argument it was


def _everything(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.args) + repr(vars(exc))


@pytest.mark.parametrize(
    "call",
    [
        lambda: compat.Set_ChatCompletion("chatcmpl-a", KEY, MetaData={"a": "b"}),
        lambda: compat.Set_ChatCompletion("chatcmpl-a", MetaData={"a": "b"}, TimeoutSec=KEY),
        lambda: compat.Set_ChatCompletion("chatcmpl-a", MetaData={"a": "b"}, ApiBase=KEY),
        lambda: compat.Set_ChatCompletion("chatcmpl-a", MetaData={"a": "b"}, AdditionalHeaders=KEY),
        lambda: compat.invoke(f"Set-ChatCompletion chatcmpl-a {KEY} -MetaData @{{a='b'}}"),
        lambda: compat.invoke(f"Set-ChatCompletion chatcmpl-a -MetaData @{{a='b'}} -MaxRetryCount {KEY}"),
        lambda: compat.invoke(f"Set-ChatCompletion chatcmpl-a -MetaData @{{a='b'}} -ApiType '{KEY}'"),
        lambda: compat.invoke(f"Remove-ChatCompletion chatcmpl-a -AuthType {KEY}"),
    ],
    ids=[
        "positional",
        "TimeoutSec",
        "ApiBase",
        "AdditionalHeaders",
        "invoke positional",
        "invoke MaxRetryCount",
        "invoke ApiType",
        "invoke AuthType",
    ],
)
def test_the_shim_masks_a_key_in_the_wrong_place(
    call, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OTHER)
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    with pytest.raises(PSOpenAIError) as caught:
        call()
    assert leaks(_everything(caught.value)) == []
    assert scrub.mask_key(KEY) in str(caught.value)
    assert emulator.requests == []


def test_one_rule_says_what_looks_like_a_key() -> None:
    assert arguments.KEY_SHAPED is scrub.KEY_SHAPED
    for word in (KEY, "sk-" + "a" * 20, "sk-svcacct-" + "B" * 30, " sk-" + "9" * 24 + " "):
        assert scrub.looks_like_key(word), word
    for word in ("sk-short", "chatcmpl-" + "a" * 30, "task-" + "a" * 30, "gpt-4o-mini", "ask-" + "a" * 30):
        assert not scrub.looks_like_key(word), word


@pytest.mark.parametrize(
    "text",
    [
        f"argument '{KEY}'",
        f'value "{KEY}" to type',
        f"{KEY}.",
        f"({KEY})",
        f"[{KEY}]",
    ],
)
def test_a_key_shaped_word_is_masked_in_any_diagnostic(text: str) -> None:
    cleaned = scrub.scrub(text)
    assert leaks(cleaned) == [] and scrub.mask_key(KEY) in cleaned


def test_a_key_shaped_word_in_data_is_data() -> None:
    # An answer is never rewritten for what a word looks like.
    text = f'{{"content": "the docs show {KEY} as an example"}}'
    assert scrub.scrub_data(text) == text
