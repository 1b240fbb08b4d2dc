"""The one scrubber: any key in any form in any text (property tests), fragments of a key in play,
log records carrying exceptions, made-up keys that must not eat ids or numbers, credentials in
AdditionalHeaders, reprs and errors that echo them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import psopenai_py
from psopenai_py import scrub
from psopenai_py.errors import PSOpenAIError
from psopenai_py.secret import Secret
from psopenai_py.settings import SettingsRequest, resolve_settings

from .hostile_server import HostileServer, Reply, completion
from .key_leaks import KEY, leaks


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        hostile.always(Reply(200, completion("chatcmpl-1")))
        yield hostile


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


# -- fragments of the key, and log records with an exception --------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        KEY[:20] + "...",
        "..." + KEY[-20:],
        "Incorrect API key provided: " + KEY[5:30] + "*****",
        KEY[:20] + "\n" + KEY[20:],  # wrapped by an HTML page or a terminal
        KEY[:26].upper(),
    ],
)
def test_a_fragment_of_a_key_in_play_is_scrubbed(text: str) -> None:
    secret = Secret(KEY)
    scrub.register(secret)
    assert leaks(scrub.scrub(text)) == []


def test_the_masked_form_and_ordinary_text_survive_the_fragment_scrubber() -> None:
    secret = Secret("sk-proj-CANARY0a1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ")
    scrub.register(secret)
    shown = "API key to be used is sk-proj-CAN***************yZ"
    assert scrub.scrub(shown) == shown
    ordinary = "chatcmpl-abc123 sk-proj-other task-assign"  # not shaped like a key (KEY_SHAPED)
    assert scrub.scrub(ordinary) == ordinary


def test_a_log_record_with_an_exception_is_scrubbed_whatever_formats_it() -> None:
    secret = Secret(KEY)
    scrub.register(secret)
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    logger = logging.getLogger("psopenai_py")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"boom {KEY}")
        except RuntimeError:
            logger.error("failed", exc_info=True, stack_info=True)
    finally:
        logger.removeHandler(handler)
    assert records and "RuntimeError" in records[0]
    assert leaks("\n".join(records)) == []


def test_a_made_up_key_of_repeated_characters_does_not_eat_ordinary_numbers() -> None:
    secret = Secret("sk-env-0000000000000000000000")
    scrub.register(secret)
    body = '{"created": 1700000000, "id": "chatcmpl-1"}'
    assert scrub.scrub(body) == body


# -- credentials in AdditionalHeaders --------------------------------------------------------------

GATEWAY_SECRET = "gw-Pq7Rt2Wx9Zk4Mn6Bv1Cy3"


@pytest.mark.parametrize(
    "name", ["Ocp-Apim-Subscription-Key", "X-Api-Key", "Helicone-Auth", "Cookie", "X-Auth-Token"]
)
def test_a_credential_in_additional_headers_is_masked_in_debug_lines_and_errors(
    server: HostileServer, transport: Any, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    server.always(Reply(401, {"error": {"message": "no"}}))
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(PSOpenAIError) as caught:
            psopenai_py.set_chat_completion(
                "chatcmpl-1",
                {"k": "v"},
                api_key=KEY,
                api_base=server.base_url,
                additional_headers={name: GATEWAY_SECRET},
            )
    finally:
        server.always(Reply(200, completion("chatcmpl-1")))
    assert server.seen[-1].headers[name] == GATEWAY_SECRET  # sent as given
    response = getattr(caught.value, "response", None)
    shown = caplog.text + repr(caught.value)
    if response is not None and response.request is not None:
        shown += str(dict(response.request.headers))
    assert name in caplog.text
    assert leaks(shown, GATEWAY_SECRET) == []


def test_a_made_up_key_does_not_eat_ids_and_an_error_loses_a_piece_of_the_key(
    server: HostileServer, transport: Any
) -> None:
    secret = Secret("sk-bulk-0000000000000000000000000")
    scrub.register(secret)
    assert scrub.scrub("chatcmpl-bulk-000007 failed") == "chatcmpl-bulk-000007 failed"
    piece = KEY[4:24]
    server.always(Reply(400, {"error": {"message": f"bad key {piece}"}}))
    try:
        with pytest.raises(PSOpenAIError) as caught:
            psopenai_py.set_chat_completion("chatcmpl-1", {"k": "v"}, api_key=KEY, api_base=server.base_url)
        assert leaks(str(caught.value) + caught.value.response.text) == []  # type: ignore[attr-defined]
    finally:
        server.always(Reply(200, completion("chatcmpl-1")))


def test_repr_of_an_invocation_shows_no_credential(transport: Any) -> None:
    from psopenai_py.commands.common import prepare_invocation
    from psopenai_py.commands.set_completion import UNIT

    invocation = prepare_invocation(
        UNIT.table,
        api_key=KEY,
        api_base="http://127.0.0.1:9/v1",
        organization="org-Xy7Qw3Er9Ty1Ui5Op2",
        additional_headers={"Ocp-Apim-Subscription-Key": GATEWAY_SECRET, "X-Trace": "t-1"},
    )
    shown = repr(invocation)
    assert "X-Trace" in shown and "t-1" in shown
    assert leaks(shown) == [] and leaks(shown, GATEWAY_SECRET) == []
    assert leaks(shown, "org-Xy7Qw3Er9Ty1Ui5Op2") == []


def test_a_credential_header_echoed_by_the_server_is_scrubbed(server: HostileServer, transport: Any) -> None:
    server.always(Reply(400, {"error": {"message": f"subscription key {GATEWAY_SECRET} is not valid"}}))
    try:
        with pytest.raises(PSOpenAIError) as caught:
            psopenai_py.set_chat_completion(
                "chatcmpl-1",
                {"k": "v"},
                api_key=KEY,
                api_base=server.base_url,
                additional_headers={"Ocp-Apim-Subscription-Key": GATEWAY_SECRET},
            )
    finally:
        server.always(Reply(200, completion("chatcmpl-1")))
    assert "subscription key" in str(caught.value)
    assert leaks(str(caught.value) + caught.value.response.text, GATEWAY_SECRET) == []  # type: ignore[attr-defined]
