"""Third-party text: a proxy that refuses its credentials (407) and echoes them in its body or
headers; the ``Basic`` user:password never reaches a message, a log line or an exception."""

from __future__ import annotations

import base64
import io
import logging
import traceback
from collections.abc import Iterator

import pytest

import psopenai_py
from psopenai_py.errors import APIRequestException
from psopenai_py.powershell import cli

from .hostile_server import HostileServer, Reply, Seen

KEY = "sk-proj-Pq4Wz8Rt2Yx6Kc9Vm3Bn7Lj1Hd5Gf0Sa8Ue2Io6"
PASSWORD = "Tr0ub4dor-proxy"
CREDENTIALS = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch, transport: object) -> Iterator[HostileServer]:
    with HostileServer() as server:
        for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://alice:{PASSWORD}@127.0.0.1:{server.port}")
        yield server


def _echo_body(seen: Seen) -> Reply:
    header = seen.headers.get("Proxy-Authorization", "")
    return Reply(
        407,
        {"error": {"message": f"Proxy authentication failed for '{header}' (Proxy-Authorization: {header})"}},
        reason="Proxy Authentication Required",
        headers={"Proxy-Authenticate": 'Basic realm="corp"', "X-Seen-Auth": header},
    )


def _echo_text(seen: Seen) -> Reply:
    header = seen.headers.get("Proxy-Authorization", "")
    return Reply(407, f"<html>denied: {header}</html>", headers={"Content-Type": "text/html"})


def _shown(exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(exc)), repr(exc), str(exc), repr(exc.args), repr(vars(exc))]
    response = getattr(exc, "response", None)
    if response is not None:
        parts += [response.text, repr(dict(response.headers)), str(response.reason)]
    return "\n".join(parts)


@pytest.mark.parametrize("script", [_echo_body, _echo_text], ids=["JSON body and header", "HTML body"])
def test_a_proxys_echoed_basic_credentials_are_masked(
    proxy: HostileServer, script, caplog: pytest.LogCaptureFixture
) -> None:
    proxy.script = script
    # A host of its own: the proxies of an origin are looked up once per process.
    host = f"api{script.__name__.replace('_', '-')}.invalid"
    with caplog.at_level(logging.DEBUG), pytest.raises(APIRequestException) as caught:
        psopenai_py.set_chat_completion(
            "chatcmpl-a", {"k": "v"}, api_key=KEY, api_base=f"http://{host}/v1", max_retry_count=0
        )
    assert proxy.seen and proxy.seen[0].headers.get("Proxy-Authorization") == f"Basic {CREDENTIALS}"
    text = _shown(caught.value) + "\n".join(r.getMessage() for r in caplog.records)
    assert CREDENTIALS not in text and PASSWORD not in text
    assert caught.value.status_code == 407


def test_the_command_line_masks_them_too(proxy: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy.script = _echo_body
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_BASE", "http://api.proxied-b.invalid/v1")
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(
        ["Set-ChatCompletion", "-MetaData", "@{k='v'}", "-MaxRetryCount", "0", "-Debug"],
        stdin=io.StringIO("chatcmpl-a\nchatcmpl-b\n"),
        stdout=out,
        stderr=err,
    )
    text = out.getvalue() + err.getvalue()
    assert status == 1
    assert CREDENTIALS not in text and PASSWORD not in text
    assert "Traceback" not in text
    # Every item accounted for once, named.
    assert [line for line in err.getvalue().splitlines() if line.startswith("Set-ChatCompletion: [")] == [
        line
        for ident in ("chatcmpl-a", "chatcmpl-b")
        for line in err.getvalue().splitlines()
        if line.startswith(f"Set-ChatCompletion: [{ident}]")
    ]
    assert sum(line.startswith("Set-ChatCompletion: [") for line in err.getvalue().splitlines()) == 2
