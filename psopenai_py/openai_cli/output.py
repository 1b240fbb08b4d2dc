"""Printing documents as the official CLI does: ``--format``, ``--transform``, ``-r``.

Every document is the JSON text as received (a response body, a list item, a stream chunk, an
error object).  The transform (a GJSON path, :mod:`.transform`) applies first, and a path that
matches nothing leaves the document as it is; then ``-r`` prints a string result as bare text;
otherwise the format (:mod:`.formats`):

- ``auto`` and ``json``: indented JSON, coloured only on a terminal (``FORCE_COLOR=1`` forces
  colour, ``0`` forbids it);
- ``jsonl``: one line per document; ``raw``: the text as received; ``yaml``: YAML;
- ``pretty``: the human view (a title and a box of ``key: value`` lines);
- ``explore``: the original's interactive viewer, which psopenai does not have: JSON, with the
  original's warning on stderr when the format was asked for by name.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["Printer", "visible", "ScrubbedStream", "EXPLORE_WARNING", "colour_wanted", "text_of"]

# C0 controls but tab and line feed, DEL and the C1 controls: a terminal acts on them (ESC starts
# a control sequence that can recolour, retitle or rewrite the screen), so messages show them as
# escapes.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
EXPLORE_WARNING = (
    "Warning: Output format 'explore' not supported for non-terminal output; falling back to 'json'\n"
)
EXPLORE_ON_TERMINAL = (
    "Warning: Output format 'explore' is not available in psopenai; falling back to 'json'\n"
)


def text_of(answer: Any) -> str:
    """An answer's JSON as received (the transport keeps its body), or as parsed when none."""
    import json

    body = getattr(answer, "body", None)
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return json.dumps(answer, ensure_ascii=False)


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

    def isatty(self) -> bool:
        """The wrapped stream's answer (colours and the pretty view's width follow it)."""
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty()) if isatty is not None else False

    def fileno(self) -> int:
        """The wrapped stream's descriptor (for the terminal's size)."""
        return int(self.stream.fileno())


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (a closed or odd stream is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def colour_wanted(stream: Any) -> bool:
    """The original's rule: ``FORCE_COLOR=1`` colours, ``FORCE_COLOR=0`` does not, else colour
    only on a terminal (a Windows console that cannot be switched to escape sequences gets
    none)."""
    force = os.environ.get("FORCE_COLOR")
    if force in ("0", "1"):
        return force == "1"
    if not is_terminal(stream):
        return False
    if os.name == "nt":
        # The terminal helper the PowerShell layer draws its progress line with (a stdlib-only
        # module): it switches a Windows console to escape sequences, or says it cannot.
        from ..powershell.terminal import enable_virtual_terminal

        return enable_virtual_terminal(stream)
    return True


def _width(stream: Any) -> int:
    from .formats import WIDTH

    if not is_terminal(stream):
        return WIDTH
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return WIDTH


class Printer:
    """Writes documents to a stream in one format, with the transform and ``-r``.

    ``explicit``: the format was given on the command line (the explore warning only then).
    ``err`` receives the warnings.
    """

    def __init__(
        self,
        out: Any,
        fmt: str = "auto",
        *,
        explicit: bool = False,
        transform: str = "",
        raw_output: bool = False,
        title: str = "",
        err: Any = None,
    ) -> None:
        self.out = out
        self.transform = transform
        self.raw_output = raw_output
        self.title = title
        self.terminal = is_terminal(out)
        self.colour = colour_wanted(out)
        fmt = fmt.lower()
        if fmt == "explore":
            if err is not None and explicit:
                err.write(EXPLORE_ON_TERMINAL if self.terminal else EXPLORE_WARNING)
            fmt = "json"
        self.fmt = "json" if fmt == "auto" else fmt
        self.count = 0
        encoding = getattr(out, "encoding", None) or "utf-8"
        try:
            self.encoding: str | None = None if codecs.lookup(encoding).name.startswith("utf") else encoding
        except LookupError:
            self.encoding = "ascii"

    def render(self, text: str) -> str:
        """One document's output, final newline included."""
        from . import formats, transform
        from .jsontext import STRING, parse_or_none

        node = parse_or_none(text)
        if node is None:
            # Not one JSON document (a truncated or mixed body): shown as received.
            return text.rstrip("\n") + "\n"
        # raw is the text from the value's first character to the end, trailing white space
        # (a body's final newline) included, as the original prints it.
        raw = text.lstrip(" \t\r\n")
        if self.transform:
            found = transform.get(node, self.transform)
            if found is not None:
                node, raw = found, found.text
        if self.raw_output and node.kind == STRING:
            value = node.string()
            return (formats.sanitize_terminal(value) if self.terminal else value) + "\n"
        fmt = self.fmt
        if fmt == "json":
            body = formats.indented(node)
            return formats.coloured(body) if self.colour else body
        if fmt == "jsonl":
            from .jsontext import compact_node

            line = compact_node(node)
            return (formats.coloured(line) if self.colour else line) + "\n"
        if fmt == "raw":
            return raw + "\n"
        if fmt == "yaml":
            return formats.to_yaml(node)
        return formats.human_view(self.title, node, width=_width(self.out), colour=self.colour)

    def document(self, text: str) -> None:
        """Print one document (its JSON text as received)."""
        shown = self.render(text)
        if self.encoding is not None:
            shown = _encodable(shown, self.encoding, json_escapes=self.fmt in ("json", "jsonl", "raw"))
        self.out.write(shown)
        self.out.flush()
        self.count += 1


def _encodable(text: str, encoding: str, *, json_escapes: bool) -> str:
    """``text`` for a stream that cannot carry every character (a legacy code page): what it
    cannot carry as ``\\u`` escapes in JSON (inside a string, where alone it can occur, that is
    still the same JSON), as backslash escapes elsewhere."""
    if not json_escapes:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    pieces = []
    for char in text:
        try:
            char.encode(encoding)
            pieces.append(char)
        except UnicodeEncodeError:
            code = ord(char)
            if code > 0xFFFF:
                code -= 0x10000
                pieces.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                pieces.append(f"\\u{code:04x}")
    return "".join(pieces)
