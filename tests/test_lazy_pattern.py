"""A pattern compiled on first use answers as the compiled pattern does, and compiles once."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from psopenai_py.lazy_pattern import LazyPattern

SOURCES = [
    (r"(?i)(bearer\s+)([^\s'\",;]+)", 0),
    (r"(?P<num>[+-]?0x[0-9a-f]+)(?![\w.])", re.I),
    (r"\s*[+-]?(?:\d+\.?\d*|\.\d+)\s*", re.ASCII),
    (r"\d", 0),
]
TEXTS = st.text(alphabet=st.sampled_from("Bearer x0X1a2F.+- \t'\",;٣"), max_size=30)


def test_nothing_is_compiled_before_the_first_use():
    lazy = LazyPattern(r"(?i)never-used-\d+")
    assert lazy._compiled is None
    assert lazy.pattern == r"(?i)never-used-\d+"
    assert lazy.search("x NEVER-USED-7") is not None
    compiled = lazy.compiled
    assert lazy.compiled is compiled  # kept: compiled once


@given(st.sampled_from(SOURCES), TEXTS, st.integers(0, 5))
def test_every_method_answers_as_the_compiled_pattern(source, text, pos):
    lazy, eager = LazyPattern(*source), re.compile(*source)

    def same(a: re.Match[str] | None, b: re.Match[str] | None) -> bool:
        return (a is None and b is None) or (a is not None and b is not None and a.span() == b.span())

    assert same(lazy.match(text, pos), eager.match(text, pos))
    assert same(lazy.fullmatch(text), eager.fullmatch(text))
    assert same(lazy.search(text, pos), eager.search(text, pos))
    assert lazy.findall(text) == eager.findall(text)
    assert lazy.sub("<>", text) == eager.sub("<>", text)
    assert lazy.sub(lambda m: m.group().upper(), text, 1) == eager.sub(lambda m: m.group().upper(), text, 1)
