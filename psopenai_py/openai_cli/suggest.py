"""The official parser's "Did you mean" suggestions: the nearest flag or command by Jaro-Winkler
similarity, however distant, the first of equals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from .grammar import Flag

__all__ = ["similarity", "suggest_flag", "nearest_command"]

_T = TypeVar("_T")


def similarity(a: str, b: str) -> float:
    """Jaro-Winkler similarity, 0 (nothing alike) to 1 (equal): the measure the official CLI's
    parser uses for its "Did you mean" suggestions."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(0, max(len(a), len(b)) // 2 - 1)
    used = [False] * len(b)
    matched_a: list[str] = []
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not used[j] and b[j] == char:
                used[j] = True
                matched_a.append(char)
                break
    if not matched_a:
        return 0.0
    matched_b = [char for j, char in enumerate(b) if used[j]]
    transpositions = sum(x != y for x, y in zip(matched_a, matched_b, strict=True)) / 2
    m = len(matched_a)
    jaro = (m / len(a) + m / len(b) + (m - transpositions) / m) / 3
    if jaro <= 0.7:
        return jaro
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + 0.1 * prefix * (1 - jaro)


def _nearest(provided: str, candidates: Iterable[tuple[str, _T]], default: _T) -> _T:
    """The value of the candidate whose name is nearest to ``provided`` (the first of equals);
    ``default`` when no name is alike at all."""
    best, score = default, 0.0
    for name, value in candidates:
        alike = similarity(name, provided)
        if alike > score:
            best, score = value, alike
    return best


def suggest_flag(provided: str, flags: Sequence[Flag]) -> str:
    """The original parser's flag suggestion: the nearest name among a level's own flags (and
    help), however distant, the first of equals; ``-x`` for one letter, ``--name`` otherwise."""
    names = [name for flag in flags for name in (*flag.names, "help", "h")]
    best = _nearest(provided, ((name, name) for name in names), "")
    return "" if not best else ("-" if len(best) == 1 else "--") + best


def nearest_command(provided: str, candidates: Sequence[tuple[str, str]]) -> str:
    """The original's command suggestion: always the nearest ``(word, full command path)``
    candidate's path, the first one when none is alike."""
    return _nearest(provided, candidates, candidates[0][1])
