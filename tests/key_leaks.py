"""A made-up key and the check that no 8-character piece of it shows in a text."""

from __future__ import annotations

KEY = "sk-Zq9XvB7wK2mT4pLr8NcYd3Hf6Jg1Ws5Ae0UbQ"
"""The key given to the library: no common word in it, and its masked form keeps only 6 + 2 characters."""


def leaks(text: str, key: str = KEY) -> list[str]:
    """Every 8-character piece of ``key`` found in ``text`` (case-insensitively)."""
    low = text.lower()
    return sorted({key[i : i + 8] for i in range(len(key) - 7) if key[i : i + 8].lower() in low})
