"""PSOpenAI 4.49.0's warning for a discontinued or soon discontinued model before
Request-ChatCompletion sends it: the table as data, the two sentences, the 30-day notice, and
-WarningAction Stop sending nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from typing import Any

import pytest

import psopenai_py
from psopenai_py import errors, retired_models
from psopenai_py.compat import Request_ChatCompletion
from psopenai_py.emulator import Emulator
from psopenai_py.retired_models import SHUTDOWN_DATES, deprecation_warning

KEY = "sk-retired-000000000000000000000000"


@pytest.fixture
def api(emulator: Emulator, transport: Any):
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=KEY)
    yield emulator
    psopenai_py.clear_openai_context()


@pytest.fixture
def day(monkeypatch: pytest.MonkeyPatch):
    """Set the local day the shutdown dates are compared with."""

    def set_day(when: dt.datetime) -> None:
        monkeypatch.setattr(retired_models, "clock", lambda: when)

    return set_day


# -- the table and the sentences -----------------------------------------------------------------


def test_the_table_is_the_originals():
    # PSOpenAI 4.49.0 Private/Assert-DeprecationModel.ps1:3-91: 87 models, each with its date.
    assert len(SHUTDOWN_DATES) == 87
    assert SHUTDOWN_DATES["code-davinci-001"] == "2023-03-23"
    assert SHUTDOWN_DATES["gpt-4"] == "2026-10-23"
    assert SHUTDOWN_DATES["chatgpt-image-latest"] == "2026-12-01"
    for name, date in SHUTDOWN_DATES.items():
        assert name == name.strip() and dt.date.fromisoformat(date).isoformat() == date


@pytest.mark.parametrize(
    "model,now,expected",
    [
        # Assert-DeprecationModel.ps1:114-115: on or after the date, "has been".
        ("gpt-4", dt.datetime(2026, 10, 23, 0, 0), "The gpt-4 model has been discontinued on 2026-10-23."),
        ("gpt-4", dt.datetime(2030, 1, 1), "The gpt-4 model has been discontinued on 2026-10-23."),
        # :117-118: within the 30 days before it, "will be".
        ("gpt-4", dt.datetime(2026, 10, 22, 23, 59), "The gpt-4 model will be discontinued on 2026-10-23."),
        ("gpt-4", dt.datetime(2026, 9, 23, 0, 0), "The gpt-4 model will be discontinued on 2026-10-23."),
        # Earlier than that, and for a model not in the table (:105-107), nothing.
        ("gpt-4", dt.datetime(2026, 9, 22, 23, 59), None),
        ("gpt-4o", dt.datetime(2030, 1, 1), None),
        ("gpt-4-", dt.datetime(2030, 1, 1), None),
        # The table is a hashtable: keys match in any case; the model is named as given (:115).
        ("GPT-4", dt.datetime(2030, 1, 1), "The GPT-4 model has been discontinued on 2026-10-23."),
    ],
)
def test_the_warning_by_date(model, now, expected):
    warning = deprecation_warning(model, now)
    if expected is None:
        assert warning is None
    else:
        assert warning == expected + " Please consider using a different model."


# -- through Request-ChatCompletion --------------------------------------------------------------


def test_a_discontinued_model_is_warned_about_and_sent(api, day):
    # PSOpenAI 4.49.0 Private/Initialize-OpenAIAPIRequestParam.ps1:54-57: the body's model is
    # checked before the request, which then goes out.
    day(dt.datetime(2026, 11, 1))
    warnings: list[str] = []
    Request_ChatCompletion("hi", Model="gpt-4", WarningVariable=warnings)
    assert warnings == [
        "The gpt-4 model has been discontinued on 2026-10-23. Please consider using a different model."
    ]
    assert len(api.requests) == 1


def test_warning_action_stop_sends_nothing(api, day):
    # PSOpenAI 4.49.0 Private/Assert-DeprecationModel.ps1:121-123 writes a warning, so
    # -WarningAction Stop ends the command before the request (Tests/Initialize-OpenAIAPIRequestParam
    # .tests.ps1:59-66 throws on it).
    day(dt.datetime(2026, 10, 1))
    with pytest.raises(errors.ActionPreferenceStopException, match="will be discontinued on 2026-10-23"):
        Request_ChatCompletion("hi", Model="o1", WarningAction="Stop")
    assert api.requests == []


def test_a_model_piped_in_is_checked_too(api, day):
    # PSOpenAI 4.49.0 Public/Chat/Request-ChatCompletion.ps1:20: Model binds from the piped
    # completion; Initialize-OpenAIAPIRequestParam.ps1:55-56 checks the body's model.
    day(dt.datetime(2027, 1, 1))
    first = Request_ChatCompletion("hi", Model="gpt-4o")
    first["model"] = "o3-mini"
    warnings: list[str] = []
    Request_ChatCompletion([first], WarningVariable=warnings)
    assert [w.split(" model ")[0] for w in warnings] == ["The o3-mini"]


def test_no_warning_for_a_current_model_or_under_azure(api, day):
    # PSOpenAI 4.49.0 Public/Chat/Request-ChatCompletion.ps1:355-357: the Azure body names no
    # model, so Initialize-OpenAIAPIRequestParam.ps1:55 finds nothing to check.
    day(dt.datetime(2030, 1, 1))
    warnings: list[str] = []
    Request_ChatCompletion("hi", WarningVariable=warnings)
    Request_ChatCompletion(
        "hi", Model="gpt-4", ApiType="Azure", ApiBase=api.url.removesuffix("/v1"), WarningVariable=warnings
    )
    assert warnings == []
    assert len(api.requests) == 2


def test_the_library_function_logs_the_warning(api, day, caplog):
    day(dt.datetime(2030, 1, 1))
    with caplog.at_level("WARNING", logger="psopenai_py"):
        psopenai_py.request_chat_completion("hi", model="davinci")
    assert "The davinci model has been discontinued on 2024-01-04." in caplog.text


def test_from_the_shell_warning_and_stop(emulator):
    # A model whose date is long past: discontinued whenever this runs.
    env = {**os.environ, "OPENAI_API_BASE": emulator.url, "OPENAI_API_KEY": KEY}
    command = [
        sys.executable,
        "-m",
        "psopenai_py",
        "Request-ChatCompletion",
        "hi",
        "-Model",
        "gpt-3.5-turbo-0613",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "WARNING: The gpt-3.5-turbo-0613 model has been discontinued on 2024-09-13. "
        "Please consider using a different model.\n"
    )
    assert json.loads(done.stdout)["model"] == "gpt-3.5-turbo-0613"
    stopped = subprocess.run(
        [*command, "-WarningAction", "Stop"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert stopped.returncode != 0 and stopped.stdout == ""
    assert "WarningPreference" in stopped.stderr
    assert len(emulator.requests) == 1
