"""Masking of API keys, bearer tokens and organization ids in anything the package writes.

Two forms, as in the original: a key shown *on its own* keeps a recognisable prefix and its last
two characters (:func:`mask_key`); a key found *inside other text* is replaced whole by a
placeholder (:func:`redact`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .scrub import KEY_PLACEHOLDER, scrub
from .secret import Secret

__all__ = ["mask_key", "mask_organization", "redact", "KEY_PLACEHOLDER", "ORG_PLACEHOLDER"]

ORG_PLACEHOLDER = "<OpenAI Organization ID>"
_KEY_PREFIXES = ("sk-proj-", "sk-")
_KEY_STARS = 15


def mask_key(key: "str | Secret") -> str:
    """Mask a key for display: ``sk-proj-abc***************yz``, ``sk-abc***************23``.

    The prefix ``sk-proj-`` or ``sk-`` is kept with 3 more characters, other keys keep their
    first 3; then exactly 15 ``*`` and the last 2 characters.  A key too short to keep anything
    without showing most of it becomes 15 ``*`` alone.
    """
    plain = key.reveal() if isinstance(key, Secret) else key
    prefix = next((p for p in _KEY_PREFIXES if plain.startswith(p)), "")
    first = len(prefix) + 3
    # At least as many hidden characters as shown ones, or nothing is shown.
    if len(plain) < (first + 2) * 2:
        return "*" * _KEY_STARS
    return plain[:first] + "*" * _KEY_STARS + plain[-2:]


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

    :func:`psopenai_py.scrub.scrub` does the work: each given key and every key in play is
    replaced by ``<OpenAI API Key>`` in any raw, JSON-escaped or percent-encoded form, any bearer
    token or ``api-key`` header value by ``********``, any URL's user-info too; then each
    organization becomes ``<OpenAI Organization ID>``.
    """
    text = scrub(text, keys)
    for org in organizations:
        if org and org.strip():
            text = re.sub(re.escape(org.strip()), ORG_PLACEHOLDER, text, flags=re.IGNORECASE)
    return text
