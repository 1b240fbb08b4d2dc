"""A known key never shows in logs (DEBUG on, every logger), output, exceptions or reprs, on the
success path, the error paths, retries, timeouts and refused connections."""

from __future__ import annotations

import logging
import traceback

import pytest

import psopenai_py
from psopenai_py import errors
from psopenai_py.emulator import Emulator, Fault, rate_limit_fault

from .conftest import CANARY_KEY

CANARY_ORG = "org-CANARYorganization0000"


def _everything_about(exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(exc)), repr(exc), str(exc), repr(exc.args)]
    response = getattr(exc, "response", None)
    if response is not None:
        parts += [repr(response), repr(response.request), str(dict(response.request.headers)), response.text]
    return "\n".join(parts)


@pytest.fixture
def debug_everything(caplog):
    with caplog.at_level(logging.DEBUG):  # root: psopenai_py, urllib3, everything
        yield caplog


def _assert_clean(text: str) -> None:
    assert CANARY_KEY not in text
    assert CANARY_KEY.lower() not in text.lower()
    assert CANARY_ORG not in text


@pytest.mark.parametrize("api_type,base_suffix", [("OpenAI", "/v1"), ("Azure", "")])
def test_success_path(emulator, stored, transport, debug_everything, capsys, api_type, base_suffix):
    base = f"http://127.0.0.1:{emulator.port}{base_suffix}"
    result = psopenai_py.set_chat_completion(
        stored, {"a": "b"}, api_key=CANARY_KEY, api_base=base, api_type=api_type, organization=CANARY_ORG
    )
    assert debug_everything.records, "DEBUG logging produced nothing to check"
    assert any("API key to be used is sk-proj-CAN" in r.getMessage() for r in debug_everything.records)
    captured = capsys.readouterr()
    _assert_clean(debug_everything.text + captured.out + captured.err + repr(result) + str(result))


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=401, body={"error": {"message": f"Incorrect API key provided: {CANARY_KEY}"}}),
        Fault(status=500, body={"error": {"message": f"echo Bearer {CANARY_KEY} {CANARY_ORG}"}}),
        Fault(status=200, raw_body=f"<html>{CANARY_KEY}</html>"),
        Fault(drop=True),
    ],
    ids=["401-echo", "500-echo", "non-json", "drop"],
)
def test_error_paths(emulator, stored, transport, debug_everything, capsys, fault):
    emulator.inject(fault)
    with pytest.raises(errors.APIRequestException) as caught:
        psopenai_py.set_chat_completion(
            stored, {"a": "b"}, api_key=CANARY_KEY, api_base=emulator.url, organization=CANARY_ORG
        )
    captured = capsys.readouterr()
    _assert_clean(_everything_about(caught.value) + debug_everything.text + captured.out + captured.err)


def test_retry_warnings(emulator, stored, transport, debug_everything):
    emulator.inject(rate_limit_fault(retry_after_ms="1"))
    emulator.inject(Fault(status=503, body={"error": {"message": f"key {CANARY_KEY}"}}))
    psopenai_py.set_chat_completion(
        stored, {"a": "b"}, api_key=CANARY_KEY, api_base=emulator.url, max_retry_count=2
    )
    warnings = [r.getMessage() for r in debug_everything.records if r.levelno == logging.WARNING]
    assert len(warnings) == 4 and "<OpenAI API Key>" in warnings[2]
    _assert_clean(debug_everything.text)


def test_timeout_and_refused(transport, debug_everything):
    with Emulator() as slow:
        slow.inject(Fault(delay_ms=1200))
        with pytest.raises(errors.TimeoutException) as timed_out:
            psopenai_py.set_chat_completion(
                "chatcmpl-x", {}, api_key=CANARY_KEY, api_base=slow.url, timeout_sec=1
            )
        base = slow.url
    with pytest.raises(errors.APIConnectionException) as refused:
        psopenai_py.set_chat_completion("chatcmpl-x", {}, api_key=CANARY_KEY, api_base=base)
    _assert_clean(
        _everything_about(timed_out.value) + _everything_about(refused.value) + debug_everything.text
    )


def test_validation_errors_and_context(emulator, debug_everything):
    with pytest.raises(errors.ParameterBindingError) as caught:
        psopenai_py.set_chat_completion("", {}, api_key=CANARY_KEY, api_base=emulator.url)
    psopenai_py.set_openai_context(api_key=CANARY_KEY, organization=CANARY_ORG)
    context = psopenai_py.get_openai_context()
    _assert_clean(_everything_about(caught.value) + repr(context) + str(context) + debug_everything.text)


def test_settings_repr_is_clean(monkeypatch):
    from psopenai_py.settings import SettingsRequest, resolve_settings

    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    resolved = resolve_settings(SettingsRequest(organization=CANARY_ORG))
    _assert_clean(repr(resolved) + str(resolved) + repr(SettingsRequest(api_key=resolved.api_key)))


def test_key_put_in_the_query_by_the_caller_stays_out_of_a_connection_error(transport):
    with Emulator() as gone:
        base = gone.url
    with pytest.raises(errors.APIConnectionException) as caught:
        psopenai_py.set_chat_completion(
            "chatcmpl-x", {}, api_key=CANARY_KEY, api_base=base, additional_query={"api_key": CANARY_KEY}
        )
    text = _everything_about(caught.value)
    assert "cannot connect to 127.0.0.1:" in str(caught.value)  # the place, not the URL and its query
    _assert_clean(text)
