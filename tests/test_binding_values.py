"""Values checked at the door, each a binding error naming the parameter with nothing sent:
header-ish values, ApiBase forms and user-info, a key given to the wrong parameter, keys with
line ends, and integer ranges however large."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import psopenai_py
from psopenai_py import compat
from psopenai_py.errors import ParameterBindingError, ParameterTypeError

from .hostile_server import HostileServer, Reply, completion
from .key_leaks import KEY, leaks


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer(lambda seen: Reply(200, completion("chatcmpl-1"))) as running:
        yield running


# -- values checked at the door -------------------------------------------------------------------

BAD_CHARACTERS = {
    "CR": "\r",
    "LF": "\n",
    "CRLF": "\r\n",
    "NUL": "\0",
    "non-Latin-1": "\u2028",
    "emoji": "\U0001f511",
}
HEADERISH = ["ApiKey", "AzureKey", "Organization", "AdditionalHeaders"]


def _call_with(parameter: str, value: str, server: HostileServer) -> None:
    options: dict[str, Any] = {"api_key": KEY, "api_base": server.base_url}
    if parameter == "ApiKey":
        options["api_key"] = value
    elif parameter == "AzureKey":
        options.update(api_key=value, api_type="Azure", api_base=server.origin)
    elif parameter == "Organization":
        options["organization"] = value
    else:
        options["additional_headers"] = {"X-Extra": value}
    psopenai_py.set_chat_completion("chatcmpl-1", {"k": "v"}, **options)


@pytest.mark.parametrize("bad", list(BAD_CHARACTERS.values()), ids=list(BAD_CHARACTERS))
@pytest.mark.parametrize("parameter", HEADERISH)
@pytest.mark.parametrize("where", ["middle", "start"])
def test_a_bad_character_in_a_header_value_is_a_binding_error_and_nothing_is_sent(
    server, transport, parameter, bad, where
):
    before = server.count()
    value = KEY[:20] + bad + KEY[20:] if where == "middle" else bad + KEY
    if where == "start" and bad.strip() == "":  # leading CR/LF are whitespace: trimmed, then fine
        _call_with(parameter, value, server)
        assert server.count() == before + 1
        return
    with pytest.raises(ParameterBindingError) as caught:
        _call_with(parameter, value, server)
    expected = "ApiKey" if parameter == "AzureKey" else parameter
    assert caught.value.parameter == expected
    message = str(caught.value)
    assert f"'{expected}'" in message and "Nothing was sent" in message
    assert leaks(message + repr(caught.value)) == []
    assert "\r" not in message and "\n" not in message.split("Nothing")[0].split(".", 1)[1]
    assert server.count() == before


@pytest.mark.parametrize("parameter", HEADERISH)
def test_surrounding_whitespace_is_trimmed(server, transport, parameter):
    _call_with(parameter, f" \t{KEY}\r\n", server)
    seen = server.seen[-1]
    sent = {
        "ApiKey": seen.headers.get("Authorization"),
        "AzureKey": seen.headers.get("api-key"),
        "Organization": seen.headers.get("OpenAI-Organization"),
        "AdditionalHeaders": seen.headers.get("X-Extra"),
    }[parameter]
    assert sent in (KEY, f"Bearer {KEY}")


@pytest.mark.parametrize("name", ["Bad Name", "X:Y", "X\r\nInjected", "Ключ", ""])
def test_a_header_name_that_is_no_token_is_refused(server, transport, name):
    before = server.count()
    with pytest.raises(ParameterBindingError) as caught:
        psopenai_py.set_chat_completion(
            "chatcmpl-1", {}, api_key=KEY, api_base=server.base_url, additional_headers={name: "v"}
        )
    assert caught.value.parameter == "AdditionalHeaders"
    assert server.count() == before


@pytest.mark.parametrize("source", ["environment", "global", "context"])
def test_a_key_with_a_trailing_newline_from_anywhere_is_trimmed(server, transport, monkeypatch, source):
    if source == "environment":
        monkeypatch.setenv("OPENAI_API_KEY", KEY + "\n")
    elif source == "global":
        monkeypatch.setattr(psopenai_py, "OPENAI_API_KEY", KEY + "\r\n")
    else:
        psopenai_py.set_openai_context(api_key=KEY + "\n")
    try:
        psopenai_py.set_chat_completion("chatcmpl-1", {}, api_base=server.base_url)
    finally:
        psopenai_py.clear_openai_context()
    assert server.seen[-1].headers["Authorization"] == f"Bearer {KEY}"


def test_a_key_from_the_environment_with_a_newline_inside_is_refused_masked(server, transport, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY[:10] + "\n" + KEY[10:])
    before = server.count()
    with pytest.raises(ParameterBindingError) as caught:
        psopenai_py.set_chat_completion("chatcmpl-1", {}, api_base=server.base_url)
    assert "environment variable OPENAI_API_KEY" in str(caught.value)
    assert leaks(str(caught.value)) == []
    assert server.count() == before


@pytest.mark.parametrize(
    "base", ["http://user:pass@127.0.0.1:1/v1", f"https://{KEY}@api.example/v1", "http://:secretpw@h/v1"]
)
def test_api_base_with_user_info_is_refused_and_masked(server, transport, monkeypatch, base):
    with pytest.raises(ParameterBindingError) as caught:
        psopenai_py.set_chat_completion("chatcmpl-1", {}, api_key=KEY, api_base=base)
    assert caught.value.parameter == "ApiBase"
    assert "user-info" in str(caught.value) and "********@" in str(caught.value)
    assert "pass@" not in str(caught.value) and "secretpw" not in str(caught.value)
    assert leaks(str(caught.value)) == []
    monkeypatch.setenv("OPENAI_API_BASE", base)
    with pytest.raises(ParameterBindingError):
        psopenai_py.set_chat_completion("chatcmpl-1", {}, api_key=KEY)


@pytest.mark.parametrize(
    "name,value,limit",
    [
        ("TimeoutSec", 2147483648, "2147483647"),
        ("TimeoutSec", 99999999999999, "2147483647"),
        ("TimeoutSec", 10**5000, "2147483647"),
        ("TimeoutSec", -1, "0"),
        ("MaxRetryCount", 101, "100"),
        ("MaxRetryCount", 10**400, "100"),
        ("ThrottleLimit", 10**30, "64"),
    ],
    ids=[
        "2^31",
        "14-digits",
        "5000-digits",
        "negative",
        "retries-101",
        "retries-400-digits",
        "throttle-huge",
    ],
)
def test_integers_keep_their_ranges_however_large(server, transport, name, value, limit):
    before = server.count()
    if name != "ThrottleLimit":  # the library function: the range check names the limit
        keyword = {"TimeoutSec": "timeout_sec", "MaxRetryCount": "max_retry_count"}[name]
        with pytest.raises(ParameterBindingError) as caught:
            psopenai_py.set_chat_completion(
                "chatcmpl-1", {}, api_key=KEY, api_base=server.base_url, **{keyword: value}
            )
        assert caught.value.parameter == name
        assert limit in str(caught.value)
    # The shim: PowerShell's own Int32 conversion may refuse it first; either way, named.
    with pytest.raises((ParameterBindingError, ParameterTypeError)) as shim_caught:
        compat.Set_ChatCompletion(
            "chatcmpl-1",
            MetaData={},
            ApiKey=KEY,
            ApiBase=server.base_url,
            **{name: value},
            ErrorAction="Stop",
        )
    assert getattr(shim_caught.value, "parameter", None) == name
    assert limit in str(shim_caught.value) or "Int32" in str(shim_caught.value)
    assert server.count() == before


def test_timeout_at_its_maximum_is_accepted(server, transport):
    psopenai_py.set_chat_completion(
        "chatcmpl-1", {}, api_key=KEY, api_base=server.base_url, timeout_sec=2147483647
    )


# -- ApiBase forms: each works or is a binding error naming ApiBase, with nothing sent --------------

BAD_BASES = [
    "http://[::1]:x/v1",
    "http://127.0.0.1:99999/v1",
    "http://127.0.0.1:-1/v1",
    "http://127.0.0.1:0/v1",  # urllib3 would quietly take port 0 for 80
    "http://127.0.0.1:{port}\\v1",
    "http://127.0.0.1:{port}/v 1",
    "http://a b/v1",
    "http://\x00x/v1",
    "http://" + "a" * 300 + "/v1",  # a host label past 63 characters
    "http://127.0.0.1:{port}/v1\x07x",
]


@pytest.mark.parametrize("base", BAD_BASES)
def test_a_bad_api_base_is_a_binding_error_with_nothing_sent(
    server: HostileServer, transport: Any, base: str
) -> None:
    before = server.count()
    with pytest.raises(ParameterBindingError) as caught:
        psopenai_py.set_chat_completion(
            "chatcmpl-1", {"k": "v"}, api_key=KEY, api_base=base.format(port=server.port), timeout_sec=2
        )
    assert caught.value.parameter == "ApiBase"
    assert "'ApiBase'" in str(caught.value)
    assert server.count() == before


@pytest.mark.parametrize("base", [" {base} ", "{base}\n", "{base}?x=1#frag", "HTTP://127.0.0.1:{port}/v1"])
def test_api_base_forms_that_work(server: HostileServer, transport: Any, base: str) -> None:
    before = server.count()
    result = psopenai_py.set_chat_completion(
        "chatcmpl-1",
        {"k": "v"},
        api_key=KEY,
        api_base=base.format(base=server.base_url, port=server.port),
        timeout_sec=2,
    )
    assert result is not None
    assert server.seen[-1].path == "/v1/chat/completions/chatcmpl-1"  # no %20 of a trailing space
    assert server.count() == before + 1


def test_api_base_from_the_environment_is_trimmed_and_checked(
    server: HostileServer, transport: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_BASE", server.base_url + "\n")
    psopenai_py.set_chat_completion("chatcmpl-1", {"k": "v"}, api_key=KEY, timeout_sec=2)
    assert server.seen[-1].path == "/v1/chat/completions/chatcmpl-1"
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:99999/v1")
    with pytest.raises(ParameterBindingError) as caught:
        psopenai_py.set_chat_completion("chatcmpl-1", {"k": "v"}, api_key=KEY, timeout_sec=2)
    assert caught.value.parameter == "ApiBase"


# -- a key given to the wrong parameter ------------------------------------------------------------


@pytest.mark.parametrize("name", ["api_type", "auth_type", "api_base"])
def test_a_key_given_to_the_wrong_parameter_is_not_quoted(name: str) -> None:
    with pytest.raises(ParameterBindingError) as caught:
        options: dict[str, Any] = {name: KEY}
        psopenai_py.set_chat_completion("chatcmpl-1", {"k": "v"}, api_key=KEY, **options)
    assert leaks(str(caught.value) + repr(caught.value.args)) == []
