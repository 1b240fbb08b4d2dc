"""Masking of API keys, bearer tokens and organization ids in anything the package writes.

Two forms, as in the original: a key shown *on its own* keeps a recognisable prefix and its last
two characters (:func:`mask_key`); a key found *inside other text* is replaced whole by a
placeholder (:func:`redact`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .scrub import KEY_PLACEHOLDER, mask_key, scrub
from .secret import Secret

__all__ = ["mask_key", "mask_organization", "redact", "KEY_PLACEHOLDER", "ORG_PLACEHOLDER"]

ORG_PLACEHOLDER = "<OpenAI Organization ID>"
_KEY_STARS = 15
_ORG_SHORTEST = 8
"""Characters: a shorter organization (``x``) is not looked for in text, where it would match
parts of ordinary words and ids (an organization is an account's name, not a secret)."""


def mask_organization(org: str) -> str:
    """Mask an organization id on its own line as the original does: ``org-XX`` (or 3
    characters) kept, then exactly 15 ``*``, then the last 2 (``org-ab***************yz``), for
    any id the original's pattern matches (at least one character hidden); a shorter one
    becomes 15 ``*`` alone."""
    first = 6 if org.startswith("org-") else 3
    if len(org) < first + 3:
        return "*" * _KEY_STARS
    return org[:first] + "*" * _KEY_STARS + org[-2:]


def redact(
    text: str,
    keys: Iterable["str | Secret | None"] = (),
    organizations: Iterable["str | None"] = (),
) -> str:
    """Remove every secret from ``text``.

    A diagnostic text (an error, a log line): :func:`psopenai_py.scrub.scrub` does the work, see
    its contract (each given key and every key in play, any credential in its place, any
    key-shaped word); then each organization of 8 characters or more becomes
    ``<OpenAI Organization ID>``.
    """
    text = scrub(text, keys)
    for org in organizations:
        if org and len(org.strip()) >= _ORG_SHORTEST:
            text = re.sub(re.escape(org.strip()), ORG_PLACEHOLDER, text, flags=re.IGNORECASE)
    return text
