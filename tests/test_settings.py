"""Every row of the settings resolution order, observed on the wire and in the verbose lines."""

from __future__ import annotations

import logging
import re

import pytest

import psopenai_py
from psopenai_py import settings as settings_module
from psopenai_py.errors import MissingSettingError, ParameterBindingError
from psopenai_py.settings import DEFAULT_API_BASE, SettingsRequest, resolve_settings

PARAM_KEY = "sk-param-00000000000000000000"
CONTEXT_KEY = "sk-context-000000000000000000"
GLOBAL_KEY = "sk-global-0000000000000000000"
ENV_KEY = "sk-env-000000000000000000000"
KEYRING_KEY = "sk-keyring-000000000000000000"


@pytest.fixture
def sources(monkeypatch):
    """Turn sources on by name: param, context, global, env, keyring."""

    def enable(*names: str) -> SettingsRequest:
        if "context" in names:
            psopenai_py.set_openai_context(api_key=CONTEXT_KEY)
        if "global" in names:
            monkeypatch.setattr(psopenai_py, "OPENAI_API_KEY", GLOBAL_KEY)
        if "env" in names:
            monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
        if "keyring" in names:
            monkeypatch.setattr(
                settings_module, "keyring_reader", lambda s: KEYRING_KEY if s == "OPENAI_API_KEY" else None
            )
        given = psopenai_py.Secret(PARAM_KEY) if "param" in names else None
        return SettingsRequest(api_key=given)

    return enable


@pytest.mark.parametrize(
    "enabled,expected,verbose",
    [
        (("param", "context", "global", "env", "keyring"), PARAM_KEY, None),
        (("context", "global", "env", "keyring"), CONTEXT_KEY, None),
        (("global", "env", "keyring"), GLOBAL_KEY, 'API Key found in global variable "OPENAI_API_KEY".'),
        (("env", "keyring"), ENV_KEY, 'API Key found in environment variable "OPENAI_API_KEY".'),
        (("keyring",), KEYRING_KEY, "API Key found in the OS keyring."),
    ],
)
def test_api_key_order(sources, caplog, enabled, expected, verbose):
    request = sources(*enabled)
    with caplog.at_level(logging.INFO, logger="psopenai_py"):
        resolved = resolve_settings(request)
    assert resolved.api_key.reveal() == expected
    messages = [r.getMessage() for r in caplog.records]
    if verbose:
        assert messages[0] == verbose
    assert f"API key to be used is {expected[:6]}***************00" in messages


def test_missing_key_message_names_every_place():
    with pytest.raises(MissingSettingError) as caught:
        resolve_settings(SettingsRequest())
    text = str(caught.value)
    assert text.startswith('Please specify your OpenAI API key to "ApiKey" parameter.')
    for place in (
        "ApiKey parameter",
        "Set-OpenAIContext",
        "psopenai_py.OPENAI_API_KEY",
        "environment variable OPENAI_API_KEY",
        "OS keyring",
    ):
        assert place in text


@pytest.mark.parametrize("value", ["", None, 42])
def test_empty_or_non_string_global_key_is_unset(monkeypatch, value):
    monkeypatch.setattr(psopenai_py, "OPENAI_API_KEY", value)
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    assert resolve_settings(SettingsRequest()).api_key.reveal() == ENV_KEY


def test_empty_environment_key_is_unset(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "")
    with pytest.raises(MissingSettingError):
        resolve_settings(SettingsRequest())


def test_global_key_may_be_a_secret(monkeypatch):
    monkeypatch.setattr(psopenai_py, "OPENAI_API_KEY", psopenai_py.Secret(GLOBAL_KEY))
    assert resolve_settings(SettingsRequest()).api_key.reveal() == GLOBAL_KEY


def _with_key(**kwargs) -> SettingsRequest:
    return SettingsRequest(api_key=psopenai_py.Secret(PARAM_KEY), **kwargs)


@pytest.mark.parametrize(
    "param,context,global_,env,expected",
    [
        ("http://p/v1", "http://c/v1", "http://g/v1", "http://e/v1", "http://p/v1"),
        (None, "http://c/v1", "http://g/v1", "http://e/v1", "http://c/v1"),
        (None, None, "http://g/v1", "http://e/v1", "http://g/v1"),
        (None, None, None, "http://e/v1", "http://e/v1"),
        (None, None, None, None, DEFAULT_API_BASE),
        (None, None, "not a url", None, DEFAULT_API_BASE),
        (None, None, None, "relative/path", DEFAULT_API_BASE),
    ],
)
def test_api_base_order(monkeypatch, param, context, global_, env, expected):
    if context:
        psopenai_py.set_openai_context(api_base=context)
    monkeypatch.setattr(psopenai_py, "OPENAI_API_BASE", global_)
    if env:
        monkeypatch.setenv("OPENAI_API_BASE", env)
    assert resolve_settings(_with_key(api_base=param)).api_base == expected


def test_azure_without_base_is_an_error():
    with pytest.raises(
        MissingSettingError,
        match=re.escape('Please specify your Azure OpenAI Endpoint to "ApiBase" parameter.'),
    ):
        resolve_settings(_with_key(api_type="Azure"))


@pytest.mark.parametrize(
    "param,context,global_,env,expected",
    [
        ("org-p", "org-c", "org-g", "org-e", "org-p"),
        ("", "org-c", "org-g", "org-e", "org-c"),
        (None, "org-c", "org-g", "org-e", "org-c"),
        (None, None, "org-g", "org-e", "org-g"),
        (None, None, None, "org-e", "org-e"),
        (None, None, None, None, None),
    ],
)
def test_organization_order(monkeypatch, param, context, global_, env, expected):
    if context:
        psopenai_py.set_openai_context(organization=context)
    monkeypatch.setattr(psopenai_py, "OPENAI_ORGANIZATION", global_)
    if env:
        monkeypatch.setenv("OPENAI_ORGANIZATION", env)
    assert resolve_settings(_with_key(organization=param)).organization == expected


def test_organization_from_keyring_only_with_a_keyring_key(monkeypatch):
    stored = {"OPENAI_API_KEY": KEYRING_KEY, "OPENAI_ORGANIZATION": "org-kr"}
    monkeypatch.setattr(settings_module, "keyring_reader", stored.get)
    assert resolve_settings(SettingsRequest()).organization == "org-kr"
    assert resolve_settings(_with_key()).organization is None


def test_other_settings_parameter_then_context_then_defaults():
    resolved = resolve_settings(_with_key())
    assert (
        resolved.api_type,
        resolved.auth_type,
        resolved.api_version,
        resolved.timeout_sec,
        resolved.max_retry_count,
    ) == ("OpenAI", "openai", "", 0, 0)
    psopenai_py.set_openai_context(timeout_sec=30, max_retry_count=4, api_version="v")
    resolved = resolve_settings(_with_key())
    assert (resolved.timeout_sec, resolved.max_retry_count, resolved.api_version) == (30, 4, "v")
    resolved = resolve_settings(_with_key(timeout_sec=0, max_retry_count=0, api_version=""))
    assert (resolved.timeout_sec, resolved.max_retry_count, resolved.api_version) == (0, 0, "")


@pytest.mark.parametrize(
    "api_type,auth,expected",
    [
        ("Azure", None, "azure"),
        ("Azure", "openai", "azure"),
        ("Azure", "azure_ad", "azure_ad"),
        ("OpenAI", None, "openai"),
        ("OpenAI", "azure_ad", "openai"),  # OpenAI ApiType forces openai auth
        ("OpenAI", "azure", "openai"),
    ],
)
def test_azure_forces_azure_auth(api_type, auth, expected):
    request = _with_key(api_type=api_type, auth_type=auth, api_base="https://x")
    assert resolve_settings(request).auth_type == expected


def test_context_set_get_clear_and_auth_derivation():
    psopenai_py.set_openai_context(api_type="azure")
    context = psopenai_py.get_openai_context()
    assert (context.ApiType, context.AuthType) == ("Azure", "azure")
    psopenai_py.set_openai_context(api_type="OpenAI")
    assert psopenai_py.get_openai_context().AuthType == "openai"
    psopenai_py.set_openai_context(
        api_type="Azure",
        auth_type="azure_ad",
        api_key=CONTEXT_KEY,
        organization="org-x",
        timeout_sec=5,
        max_retry_count=2,
        api_base="https://res.openai.azure.com",
        api_version="v",
    )
    context = psopenai_py.get_openai_context()
    assert context.AuthType == "azure_ad"
    assert context.ApiKey is not None and context.ApiKey.reveal() == CONTEXT_KEY
    assert CONTEXT_KEY not in repr(context)
    psopenai_py.set_openai_context(timeout_sec=9)  # only what is given is written
    assert psopenai_py.get_openai_context().Organization == "org-x"
    psopenai_py.clear_openai_context()
    assert psopenai_py.get_openai_context() == settings_module.OpenAIContext()


def test_context_rejects_out_of_range():
    with pytest.raises(ParameterBindingError, match="MaxRetryCount"):
        psopenai_py.set_openai_context(max_retry_count=101)
    assert psopenai_py.get_openai_context().MaxRetryCount == 0


def test_settings_resolved_once_per_call_on_the_wire(emulator, stored, transport, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    monkeypatch.setenv("OPENAI_API_BASE", emulator.url)
    monkeypatch.setenv("OPENAI_ORGANIZATION", "org-env")
    psopenai_py.set_chat_completion(stored, {"x": "y"})
    (request,) = emulator.requests
    assert request.header("Authorization") == f"Bearer {ENV_KEY}"
    assert request.header("OpenAI-Organization") == "org-env"
