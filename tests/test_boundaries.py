"""The door checks (header-ish values, ApiBase user-info, integer ranges) with nothing sent, the
one scrubber (property tests over keys, encodings and surrounding text) and the keyring's edges."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import keyring
import keyring.backend
import keyring.core
import keyring.errors
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import psopenai_py
from psopenai_py import compat, keyring_store, scrub
from psopenai_py import settings as settings_module
from psopenai_py.errors import ParameterBindingError, ParameterTypeError, PSOpenAIError, SecretStoreError
from psopenai_py.secret import Secret
from psopenai_py.settings import SettingsRequest, resolve_settings

from .hostile_server import HostileServer, Reply, completion
from .test_transport_faults import KEY, leaks


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


# -- the scrubber ---------------------------------------------------------------------------------

# Keys of printable Latin-1 (wider than the printable ASCII a door lets through, so the scrubber is
# tried on more than it will meet), no surrounding whitespace.
key_text = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0xFF, exclude_characters="\x7f"),
    min_size=scrub.MIN_SCRUBBED,  # a shorter key is masked in credential places only
    max_size=80,
).filter(lambda k: k.lower() not in scrub.KEY_PLACEHOLDER.lower())
# Text around the key, from outside Latin-1, so no key can begin or end in it by chance.
filler = st.text(alphabet=st.characters(min_codepoint=0x391, max_codepoint=0x3C9), max_size=40)


def _json_escape_some(key: str, mask: list[bool]) -> str:
    return "".join(f"\\u{ord(c):04x}" if m else c for c, m in zip(key, mask * len(key), strict=False))


FORMS = {
    "raw": lambda k, m: k,
    "upper": lambda k, m: k.upper() if k.upper().lower() == k.lower() and len(k.upper()) == len(k) else k,
    "json-dumps": lambda k, m: json.dumps(k)[1:-1],
    "json-ascii-all": lambda k, m: "".join(f"\\u{ord(c):04x}" for c in k),
    "json-some": _json_escape_some,
    "percent-all": lambda k, m: quote(k, safe=""),
    "percent-lower": lambda k, m: "".join(f"%{b:02x}" for b in k.encode("utf-8")),
    "percent-some": lambda k, m: "".join(
        "".join(f"%{b:02X}" for b in c.encode()) if flag else c
        for c, flag in zip(k, m * len(k), strict=False)
    ),
    "slash-escaped": lambda k, m: k.replace("/", "\\/"),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=key_text,
    form=st.sampled_from(sorted(FORMS)),
    mask=st.lists(st.booleans(), min_size=1, max_size=8),
    before=filler,
    after=filler,
)
def test_any_key_in_any_form_in_any_text_is_removed(key, form, mask, before, after):
    secret = Secret(key)
    scrub.register(secret)
    encoded = FORMS[form](key, mask)
    text = before + encoded + after
    cleaned = scrub.scrub(text)
    assert encoded not in cleaned
    assert scrub.KEY_PLACEHOLDER in cleaned
    assert key not in cleaned
    del secret


@settings(max_examples=50, deadline=None)
@given(key=key_text.filter(lambda k: not any(c in "'\",;" or c.isspace() for c in k)), before=filler)
def test_any_bearer_token_is_masked_known_or_not(key, before):
    cleaned = scrub.scrub(f"{before} Authorization: Bearer {key} end")
    assert f"Bearer {key}" not in cleaned and "Bearer ******** end" in cleaned


def test_the_registry_holds_secrets_weakly():
    secret = Secret("sk-weak-0123456789abcdefghij")
    scrub.register(secret)
    assert "sk-weak-0123456789abcdefghij" in scrub.active_secrets()
    del secret
    assert "sk-weak-0123456789abcdefghij" not in scrub.active_secrets()


def test_a_resolved_key_is_in_play_and_exceptions_scrub_themselves():
    settings_value = resolve_settings(SettingsRequest(api_key=Secret(KEY)))
    error = PSOpenAIError(f"server said {KEY}", {"echo": KEY.replace("-", "\\u002d")})
    assert leaks(str(error) + repr(error) + repr(error.args)) == []
    del settings_value


def test_user_info_of_any_url_is_removed():
    assert scrub.scrub("see http://bob:hunter2@host/x and HTTPS://k@h") == (
        "see http://********@host/x and HTTPS://********@h"
    )


# -- the keyring's edges --------------------------------------------------------------------------


class Memory(keyring.backend.KeyringBackend):
    priority = -1

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        super().__init__()
        self.value = value
        self.error = error

    def get_password(self, service: str, username: str) -> Any:
        if self.error is not None:
            raise self.error
        return self.value if username == "OPENAI_API_KEY" else None

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.error is not None:
            raise self.error
        self.value = password

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.PasswordDeleteError("none")


@pytest.fixture
def backend(monkeypatch) -> Iterator[Any]:
    previous = keyring.get_keyring()
    monkeypatch.setattr(settings_module, "keyring_reader", settings_module._from_keyring)
    monkeypatch.setenv("PSOPENAI_KEYRING_TIMEOUT", "2")

    def install(value: Any) -> Any:
        keyring.set_keyring(value)
        return value

    yield install
    keyring.set_keyring(previous)


@pytest.mark.parametrize(
    "error", [RuntimeError(f"dbus said {KEY}"), KeyError(KEY), keyring.errors.InitError(KEY)]
)
def test_any_backend_exception_is_a_secret_store_error_without_the_key(backend, error):
    backend(Memory(error=error))
    with pytest.raises(SecretStoreError) as caught:
        psopenai_py.set_openai_secret(KEY)
    assert leaks(str(caught.value) + repr(caught.value)) == []
    assert type(error).__name__ in str(caught.value)
    assert keyring_store.read("OPENAI_API_KEY") is None  # on read: not found there


def test_bytes_from_the_keyring_are_decoded_or_refused(backend):
    backend(Memory(value=KEY.encode()))
    assert keyring_store.fetch("OPENAI_API_KEY") == KEY
    backend(Memory(value=b"\xff\xfe"))
    with pytest.raises(SecretStoreError, match="not UTF-8"):
        keyring_store.fetch("OPENAI_API_KEY")
    backend(Memory(value=12345))
    with pytest.raises(SecretStoreError, match="not text"):
        keyring_store.fetch("OPENAI_API_KEY")


def test_a_misspelt_backend_is_a_clear_error_and_not_found_on_read(monkeypatch):
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretServce.Keyring")
    monkeypatch.setenv("PSOPENAI_KEYRING_TIMEOUT", "5")
    with pytest.raises(SecretStoreError) as caught:
        psopenai_py.get_openai_secret()
    assert "check its spelling" in str(caught.value)
    assert keyring_store.read("OPENAI_API_KEY") is None


def test_set_secret_never_hangs_when_backend_discovery_hangs(monkeypatch):
    release = threading.Event()

    def hang() -> Any:
        release.wait(10)
        raise RuntimeError("too late")

    monkeypatch.setattr(keyring, "get_keyring", hang)
    monkeypatch.setenv("PSOPENAI_KEYRING_TIMEOUT", "0.3")
    started = time.monotonic()
    try:
        with pytest.raises(SecretStoreError, match=r"did not answer within 0\.3 s"):
            psopenai_py.set_openai_secret(KEY)
        assert time.monotonic() - started < 2
    finally:
        release.set()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "abc", "1e999"])
def test_a_bad_keyring_timeout_falls_back_with_a_warning(monkeypatch, caplog, value):
    monkeypatch.setenv("PSOPENAI_KEYRING_TIMEOUT", value)
    with caplog.at_level(logging.WARNING, logger="psopenai_py"):
        timeout = keyring_store.keyring_timeout()
    assert timeout in (5.0, 60.0)
    assert any("PSOPENAI_KEYRING_TIMEOUT" in m and "default" in m for m in caplog.messages)
