"""Set-OpenAIContext as PSOpenAI 4.49.0 has it: every parameter bound from a piped object by
property name (so a saved context is restored by piping it back), and AuthType derived from the
stored ApiType whenever it is not given."""

from __future__ import annotations

from typing import Any

import pytest

import psopenai_py
from psopenai_py import errors
from psopenai_py.compat import Get_OpenAIContext, Request_ChatCompletion, Set_OpenAIContext, invoke, variables
from psopenai_py.emulator import Emulator
from psopenai_py.powershell.binding import PIPELINE_INPUT_MESSAGE
from psopenai_py.secret import Secret

KEY = "sk-context-0000000000000000000000000"


def test_a_saved_context_piped_back_is_restored(emulator: Emulator, transport: Any):
    # PSOpenAI 4.49.0 Public/Set-OpenAIContext.ps1:415-440: each parameter binds
    # ValueFromPipelineByPropertyName; Get-OpenAIContext.ps1:492-501 outputs those eight properties.
    invoke(
        f"Set-OpenAIContext -ApiBase {emulator.url} -ApiKey {KEY} -TimeoutSec 7 -MaxRetryCount 2 -OrgId org-a"
    )
    saved = Get_OpenAIContext()
    psopenai_py.clear_openai_context()
    assert psopenai_py.get_openai_context() != saved
    assert Set_OpenAIContext([saved]) is None
    assert psopenai_py.get_openai_context() == saved
    # The restored context is in use: the key and base reach the emulator.
    Request_ChatCompletion("hi")
    assert emulator.requests[0].header("Authorization") == f"Bearer {KEY}"


def test_a_parameter_given_on_the_command_line_wins_over_the_piped_property():
    # PSOpenAI 4.49.0 Public/Set-OpenAIContext.ps1:435-436: TimeoutSec bound by name is not
    # bound again from the piped object.
    saved = {"ApiBase": "http://127.0.0.1:9/v1", "TimeoutSec": 30}
    Set_OpenAIContext([saved], TimeoutSec=4)
    context = psopenai_py.get_openai_context()
    assert (context.ApiBase, context.TimeoutSec) == ("http://127.0.0.1:9/v1", 4)


def test_properties_bind_in_any_case_and_by_alias():
    # PSOpenAI 4.49.0 Public/Set-OpenAIContext.ps1:431-433: Organization has the alias OrgId.
    Set_OpenAIContext([{"apikey": KEY, "orgid": "org-b", "APIVERSION": "2025-01-01", "maxretrycount": 5}])
    context = psopenai_py.get_openai_context()
    assert context.ApiKey == Secret(KEY)
    assert (context.Organization, context.ApiVersion, context.MaxRetryCount) == ("org-b", "2025-01-01", 5)


def test_a_property_holding_null_binds_null():
    # PSOpenAI 4.49.0 Public/Set-OpenAIContext.ps1:453-455: a bound $null ApiBase is stored as is.
    psopenai_py.set_openai_context(api_base="http://127.0.0.1:9/v1", api_key=KEY, timeout_sec=3)
    Set_OpenAIContext([{"ApiBase": None, "ApiKey": None, "TimeoutSec": None}])
    context = psopenai_py.get_openai_context()
    assert (context.ApiBase, context.ApiKey, context.TimeoutSec) == (None, None, 0)


def test_piped_objects_that_cannot_bind_or_are_invalid_fail_alone():
    # PSOpenAI 4.49.0 Public/Set-OpenAIContext.ps1:418-419 and :438-440: ApiType is an enum (null
    # cannot convert to it) and MaxRetryCount keeps its range; an object with none of the
    # properties binds to nothing.
    items = [{"Nothing": 1}, {"ApiType": None}, {"MaxRetryCount": 101}, {"TimeoutSec": 9}]
    Set_OpenAIContext(items, ErrorVariable="errs", ErrorAction="SilentlyContinue")
    messages = [str(e) for e in variables["errs"]]
    assert messages[0] == PIPELINE_INPUT_MESSAGE
    assert 'Cannot convert null to type "OpenAIApiType"' in messages[1]
    assert "'MaxRetryCount'" in messages[2] and "maximum allowed range of 100" in messages[2]
    assert len(messages) == 3
    assert psopenai_py.get_openai_context().TimeoutSec == 9  # the good item was written


def test_a_bad_named_value_fails_before_any_piped_object_is_written():
    with pytest.raises(errors.ParameterBindingError, match="AuthType"):
        Set_OpenAIContext([{"TimeoutSec": 9}], AuthType="bearer")
    assert psopenai_py.get_openai_context().TimeoutSec == 0


# -- AuthType when it is not given ---------------------------------------------------------------


def test_auth_type_follows_the_stored_api_type_when_not_given():
    # PSOpenAI 4.49.0 Public/Set-OpenAIContext.ps1:462-472: without -AuthType, the stored ApiType
    # decides, whether or not -ApiType is given in this call: OpenAI puts openai back.
    psopenai_py.set_openai_context(auth_type="azure_ad")
    assert psopenai_py.get_openai_context().AuthType == "azure_ad"
    psopenai_py.set_openai_context(timeout_sec=5)
    assert psopenai_py.get_openai_context().AuthType == "openai"
    # ... so a later switch to Azure derives azure (:462-466).
    psopenai_py.set_openai_context(api_type="Azure")
    assert psopenai_py.get_openai_context().AuthType == "azure"


def test_auth_type_given_under_azure_is_kept_by_later_calls():
    # PSOpenAI 4.49.0 Public/Set-OpenAIContext.ps1:462-467: under Azure only openai becomes azure.
    invoke("Set-OpenAIContext -ApiType Azure -AuthType azure_ad")
    invoke("Set-OpenAIContext -TimeoutSec 5")
    assert psopenai_py.get_openai_context().AuthType == "azure_ad"
    invoke("Set-OpenAIContext -ApiType OpenAI")
    assert psopenai_py.get_openai_context().AuthType == "openai"
