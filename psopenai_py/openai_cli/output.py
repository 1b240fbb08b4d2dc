"""Output formats of the openai CLI dialect: one document per API object.

``json``: indented by two spaces in the API's key order, with arrays that hold no objects kept on
one line when they fit in 80 columns (as the official CLI prints them).  ``jsonl``: one compact
line per object.  ``text`` (also ``auto``): readable ``key: value`` lines, nested values indented.
``pretty``: the text view in a box.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["Printer", "render", "render_json", "visible", "ScrubbedStream"]

WIDTH = 80
# C0 controls but tab and line feed, DEL and the C1 controls: a terminal acts on them (ESC starts
# a control sequence that can recolour, retitle or rewrite the screen), so readable output shows
# them as escapes.  JSON output escapes them already.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """``text`` with terminal control characters shown as ``\\xNN`` escapes."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class ScrubbedStream:
    """A text stream that passes every write through ``scrub`` (to take key fragments out)."""

    def __init__(self, stream: TextIO, scrub: Callable[[str], str]) -> None:
        self.stream = stream
        self.scrub = scrub
        self.encoding = getattr(stream, "encoding", None)

    def write(self, text: str) -> int:
        return self.stream.write(self.scrub(text))

    def flush(self) -> None:
        self.stream.flush()


def _scalar(value: Any, ascii_only: bool = False) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)


def render_json(value: Any, indent: int = 0, *, ascii_only: bool = False) -> str:
    """The official CLI's indented JSON (``ascii_only``: non-ASCII as ``\\uXXXX`` escapes)."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{pad}  {_scalar(str(k), ascii_only)}: {render_json(v, indent + 2, ascii_only=ascii_only)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if not any(isinstance(v, (dict, list)) for v in value):
            one_line = "[" + ", ".join(_scalar(v, ascii_only) for v in value) + "]"
            if indent + len(one_line) <= WIDTH:
                return one_line
        items = [f"{pad}  {render_json(v, indent + 2, ascii_only=ascii_only)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return _scalar(value, ascii_only)


def _text_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return visible(value)
    return _scalar(value)


def render_text(value: Any, indent: int = 0) -> list[str]:
    """Readable lines: ``key: value``; mappings and lists below their key, indented."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        for key, item in value.items():
            key = visible(str(key))
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(render_text(item, indent + 2))
            else:
                lines.extend(
                    _with_continuation(
                        f"{pad}{key}: ",
                        _text_scalar(item)
                        if not isinstance(item, (dict, list))
                        else ("{}" if isinstance(item, dict) else "[]"),
                        pad,
                    )
                )
        return lines
    if isinstance(value, list):
        for item in value:
            sub = render_text(item, indent + 2)
            first = sub[0][indent + 2 :] if sub else ""
            lines.append(f"{pad}- {first}")
            lines.extend(sub[1:])
        return lines or [pad + "[]"]
    return _with_continuation(pad, _text_scalar(value), pad)


def _with_continuation(head: str, text: str, pad: str) -> list[str]:
    parts = text.splitlines() or [""]
    return [head + parts[0]] + [f"{pad}  {p}" for p in parts[1:]]


def _boxed(lines: list[str]) -> list[str]:
    width = max((len(line) for line in lines), default=0)
    edge = "+" + "-" * (width + 2) + "+"
    return [edge, *(f"| {line:<{width}} |" for line in lines), edge]


def render(value: Any, fmt: str, *, ascii_only: bool = False) -> str:
    """One document in a format, with its final newline."""
    if fmt == "json":
        return render_json(value, ascii_only=ascii_only) + "\n"
    if fmt == "jsonl":
        return json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":")) + "\n"
    lines = render_text(value)
    if fmt == "pretty":
        lines = _boxed(lines)
    return "\n".join(lines) + "\n"


class Printer:
    """Writes documents to a stream; readable formats get a blank line between documents."""

    def __init__(self, out: Any, fmt: str) -> None:
        self.out = out
        self.fmt = "text" if fmt == "auto" else fmt
        self.count = 0
        # A stream that cannot carry every character (a Windows pipe in a legacy code page) gets
        # escapes instead of an encoding error halfway through a list.
        encoding = getattr(out, "encoding", None) or "utf-8"
        try:
            self.encoding = None if codecs.lookup(encoding).name.startswith("utf") else encoding
        except LookupError:
            self.encoding = "ascii"

    def document(self, value: Any) -> None:
        if self.count and self.fmt in ("text", "pretty"):
            self.out.write("\n")
        text = render(value, self.fmt)
        if self.encoding is not None:
            if self.fmt in ("json", "jsonl"):
                text = render(value, self.fmt, ascii_only=True)
            else:
                text = text.encode(self.encoding, "backslashreplace").decode(self.encoding)
        self.out.write(text)
        self.out.flush()
        self.count += 1
