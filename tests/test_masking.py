"""Masking and redaction of keys, tokens and organizations: table and property tests."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psopenai_py.masking import (
    KEY_PLACEHOLDER,
    ORG_PLACEHOLDER,
    mask_key,
    mask_organization,
    redact,
)
from psopenai_py.secret import Secret


@pytest.mark.parametrize(
    "key,expected",
    [
        ("sk-proj-abcdefghijklmnopqrstuvwxyz", "sk-proj-abc***************yz"),
        ("sk-abcdefghijklmnopqrstuvw23", "sk-abc***************23"),
        ("azurekeyabcdefghijklmn", "azu***************mn"),
        ("sk-short", "***************"),
        ("", "***************"),
    ],
)
def test_mask_key_table(key, expected):
    assert mask_key(key) == expected
    assert mask_key(Secret(key)) == expected


@pytest.mark.parametrize(
    "org,expected",
    [
        ("org-abcdefghijklmnopqrstuvwx", "org-ab" + "*" * 15 + "wx"),
        ("myorganization", "myo" + "*" * 15 + "on"),
        ("org-" + "x" * 100, "org-xx" + "*" * 15 + "xx"),
        ("org-ab", "*" * 15),
    ],
)
def test_mask_organization_table(org, expected):
    assert mask_organization(org) == expected


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=16, max_size=80))
def test_masked_key_never_contains_the_key(key):
    masked = mask_key(key)
    assert key not in masked
    assert masked.count("*") >= 15


@given(
    # A shorter key is masked in credential places only (scrub.MIN_SCRUBBED).
    key=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=16, max_size=60),
    before=st.text(max_size=40),
    after=st.text(max_size=40),
)
def test_redact_removes_any_embedded_key(key, before, after):
    text = before + key + after + key.upper()
    cleaned = redact(text, keys=[Secret(key)])
    assert key not in cleaned
    assert key.upper() not in cleaned


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer ********"),
        ("{'Authorization': 'Bearer tok123'}", "{'Authorization': 'Bearer ********'}"),
        ("api-key: secretvalue", "api-key: ********"),
        ("{'api-key': 'secretvalue'}", "{'api-key': '********'}"),
        ("key sk-known-key-000000 used", f"key {KEY_PLACEHOLDER} used"),
        ("org org-QwErTyUiOpAs used", f"org {ORG_PLACEHOLDER} used"),
        ("Bearer sk-known-key-000000", "Bearer ********"),
    ],
)
def test_redact_table(text, expected):
    assert redact(text, keys=["sk-known-key-000000"], organizations=["org-QwErTyUiOpAs"]) == expected


def test_secret_never_shows_its_value():
    secret = Secret("sk-super-secret-value-123456")
    old_style = "%s" % (secret,)  # noqa: UP031 - old-style formatting must hide it too
    for shown in (
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret:>40}",
        old_style,
        repr([secret]),
        repr({"k": secret}),
    ):
        assert "super-secret" not in shown
    with pytest.raises(TypeError):
        json.dumps(secret)
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    with pytest.raises(AttributeError):
        secret._value = "x"
    assert copy.deepcopy(secret) == secret
    assert secret.reveal() == "sk-super-secret-value-123456"
    assert str not in type(secret).__mro__
    with pytest.raises(TypeError):
        "prefix" + secret  # type: ignore[operator]
