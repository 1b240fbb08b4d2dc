"""Id encoding and URL building: HttpUtility.UrlEncode parity and path-segment safety."""

from __future__ import annotations

from urllib.parse import unquote_plus, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psopenai_py.secret import Secret
from psopenai_py.settings import Settings
from psopenai_py.transport import USER_AGENT, build_headers, build_url, encode_body, encode_path, url_encode


@pytest.mark.parametrize(
    "text,expected",
    [
        ("chatcmpl-AyPNinnUqUDYo9SAdA52NobMflmj2", "chatcmpl-AyPNinnUqUDYo9SAdA52NobMflmj2"),
        ("a b", "a+b"),
        ("~", "%7e"),
        ("/", "%2f"),
        ("-_.!*()", "-_.!*()"),
        ("a/b?x=1#y", "a%2fb%3fx%3d1%23y"),
        ("é", "%c3%a9"),
        ("100%", "100%25"),
        ("+", "%2b"),
        ("'\"", "%27%22"),
    ],
)
def test_url_encode_matches_dotnet(text, expected):
    assert url_encode(text) == expected


@pytest.mark.parametrize(
    "ident,segment",
    [
        ("../files", "..%2ffiles"),
        ("..", "%2e%2e"),
        (".", "%2e"),
        ("...", "%2e%2e%2e"),
        ("a..b", "a..b"),
    ],
)
def test_path_segment_cannot_escape(ident, segment):
    assert encode_path("chat/completions/{}", ident) == f"chat/completions/{segment}"


@given(st.text(min_size=1))
def test_any_id_stays_one_segment_and_round_trips(ident):
    encoded = encode_path("chat/completions/{}", ident)
    segment = encoded.split("/", 2)[2]
    assert "/" not in segment and "?" not in segment and "#" not in segment
    assert segment not in (".", "..")
    assert unquote_plus(segment) == ident


def settings(
    base: str, api_type: str = "OpenAI", auth: str = "openai", version: str = "", org: str | None = None
) -> Settings:
    return Settings(
        api_key=Secret("sk-test-0000000000000000"),
        api_base=base,
        api_type=api_type,
        auth_type=auth,
        api_version=version,
        organization=org,
        timeout_sec=0,
        max_retry_count=0,
    )


@pytest.mark.parametrize(
    "base,expected",
    [
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/chat/completions/x"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1/chat/completions/x"),
        ("https://host", "https://host/chat/completions/x"),
        ("https://host/v1?tenant=a", "https://host/v1/chat/completions/x?tenant=a"),
    ],
)
def test_build_url_openai(base, expected):
    assert build_url(settings(base), encode_path("chat/completions/{}", "x")) == expected


def test_build_url_query_order_and_encoding():
    url = build_url(
        settings("https://host/v1?tenant=a"),
        "chat/completions",
        query=[("limit", 20), ("order", "asc")],
        additional_query={"a b": "c&d", "flag": True},
    )
    assert urlsplit(url).query == "tenant=a&limit=20&order=asc&a+b=c%26d&flag=True"


@pytest.mark.parametrize(
    "base,version,expected",
    [
        ("https://res.openai.azure.com", "", "https://res.openai.azure.com/openai/v1/chat/completions/x"),
        (
            "https://res.openai.azure.com/openai/v1/",
            "",
            "https://res.openai.azure.com/openai/v1/chat/completions/x",
        ),
        (
            "https://res.openai.azure.com",
            "preview",
            "https://res.openai.azure.com/openai/v1/chat/completions/x?api-version=preview",
        ),
    ],
)
def test_build_url_azure_v1_path(base, version, expected):
    assert (
        build_url(settings(base, "Azure", "azure", version), encode_path("chat/completions/{}", "x"))
        == expected
    )


def test_headers_precedence():
    s = settings("https://host", org="  org-abc  ")
    headers = build_headers(
        s,
        user_agent=USER_AGENT,
        has_body=True,
        additional_headers={"User-Agent": "mine/1.0", "OpenAI-Organization": "org-override", "X-Extra": 5},
    )
    assert headers["User-Agent"] == "mine/1.0"
    assert headers["X-Extra"] == "5"
    assert headers["OpenAI-Organization"] == "org-abc"  # set last, trimmed
    assert headers["Authorization"] == "Bearer sk-test-0000000000000000"
    assert headers["Content-Type"] == "application/json"


def test_headers_azure_uses_api_key_and_no_get_content_type():
    s = settings("https://res.openai.azure.com", "Azure", "azure", org="org-abc")
    headers = build_headers(s, user_agent=USER_AGENT, has_body=False)
    assert headers["api-key"] == "sk-test-0000000000000000"
    assert "Authorization" not in headers
    assert "Content-Type" not in headers
    assert "OpenAI-Organization" not in headers  # only with openai auth


def test_headers_azure_ad_uses_bearer():
    s = settings("https://res.openai.azure.com", "Azure", "azure_ad")
    assert build_headers(s, user_agent=USER_AGENT, has_body=False)["Authorization"].startswith("Bearer ")


def test_body_is_compact_utf8_in_caller_order():
    assert encode_body({"metadata": {"z": "1", "a": "日本"}}) == '{"metadata":{"z":"1","a":"日本"}}'.encode()


_HEADER_NAMES = st.sampled_from(
    [
        "User-Agent",
        "user-agent",
        "ACCEPT",
        "authorization",
        "Content-Type",
        "X-Extra",
        "x-extra",
        "openai-organization",
    ]
)


@given(st.dictionaries(_HEADER_NAMES, st.text("ab1 ", max_size=4), max_size=6))
def test_each_header_is_sent_once_whatever_the_case_of_its_name(extra):
    headers = build_headers(
        settings("https://host", org="org-abc"), user_agent="ua/1", has_body=True, additional_headers=extra
    )
    lowered = [name.lower() for name in headers]
    assert len(lowered) == len(set(lowered))
    assert {"user-agent", "accept", "accept-encoding", "authorization", "content-type"} <= set(lowered)
    last = {name.lower(): (name, value) for name, value in extra.items()}  # the last spelling wins
    for lower, (name, value) in last.items():
        if lower != "openai-organization":
            assert headers[name] == value
    assert headers["OpenAI-Organization"] == "org-abc"  # set last, over any spelling of it
