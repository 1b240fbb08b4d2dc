"""The official CLI's output formats, over JSON as received (:mod:`.jsontext`).

Each renderer follows the library the official CLI uses for that format, rule for rule, but is
written here (the runtime dependencies stay three):

- :func:`indented` is tidwall/pretty's layout at its defaults (the ``json`` and ``auto`` formats):
  objects one member a line, an array on one line when it holds no object and fits in what is
  left of the 80 columns, otherwise one element a line;
- :func:`coloured` is tidwall/pretty's terminal colouring of that text;
- :func:`to_yaml` is itchyny/json2yaml (the ``yaml`` format);
- :func:`human_view` is the CLI's static ``pretty`` view: a title and a rounded box of
  ``key: value`` lines.

Scalars are copied as received: numbers keep their spelling and strings their escapes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from .jsontext import ARRAY, FALSE, NULL, NUMBER, OBJECT, STRING, TRUE, Node

__all__ = [
    "WIDTH",
    "indented",
    "coloured",
    "to_yaml",
    "human_view",
    "sanitize_terminal",
    "display_width",
]

WIDTH = 80
"""The indenter's line width, and the pretty view's when the output is no terminal."""


# -- json: the indenter -------------------------------------------------------------------------


def indented(node: Node, width: int = WIDTH) -> str:
    """The document laid out as the official ``json`` format prints it, with its final newline."""
    out: list[str] = []
    _indent(node, 0, 0, width, out)
    return "".join(out) + "\n"


def _indent(node: Node, depth: int, lead: int, width: int, out: list[str]) -> None:
    """Write ``node`` whose first character goes where ``lead`` bytes of the line are used.

    ``lead`` counts as the original does: after a line break it writes itself (an object member,
    an array's first element) the break is counted too; after one it turned a separator's space
    into (an array's later elements) it is not.  So a one-line array may end at column 79 as an
    object member and at column 80 as a later array element.
    """
    if node.kind == ARRAY:
        room = width - lead
        if room > 3:
            one_line = _one_line(node)
            if one_line is not None and len(one_line.encode("utf-8")) <= room:
                out.append(one_line)
                return
        if not node.items:
            out.append("[]")
            return
        pad = "  " * (depth + 1)
        out.append("[")
        for position, item in enumerate(node.items):
            out.append((",\n" if position else "\n") + pad)
            _indent(item, depth + 1, len(pad) + (0 if position else 1), width, out)
        out.append("\n" + "  " * depth + "]")
    elif node.kind == OBJECT:
        if not node.members:
            out.append("{}")
            return
        pad = "  " * (depth + 1)
        out.append("{")
        for position, (key, value) in enumerate(node.members):
            out.append((",\n" if position else "\n") + pad + key + ": ")
            _indent(value, depth + 1, 1 + len(pad) + len(key.encode("utf-8")) + 2, width, out)
        out.append("\n" + "  " * depth + "}")
    else:
        out.append(node.text)


def _one_line(node: Node) -> str | None:
    """An array on one line (``[1, [2, 3], "a"]``), or None when an object is inside it."""
    if node.kind == OBJECT:
        return None
    if node.kind != ARRAY:
        return node.text
    parts = []
    for item in node.items:
        part = _one_line(item)
        if part is None:
            return None
        parts.append(part)
    return "[" + ", ".join(parts) + "]"


# -- json, jsonl: terminal colours ----------------------------------------------------------------


def _sgr(*codes: int | str) -> str:
    """The terminal's select-graphic-rendition sequences for ``codes`` (``1`` bold, ``32`` green,
    ``"38;5;75"`` colour 75 of 256), one sequence each."""
    return "".join(f"\x1b[{code}m" for code in codes)


_RESET = _sgr(0)
_KEY = _sgr(1, 94)  # bold bright blue
# strings green, numbers yellow, booleans cyan, null faint, escapes magenta, brackets bold
_STRING_ON, _NUMBER_ON, _BOOLEAN_ON, _NULL_ON, _ESCAPE_ON, _BRACKET_ON = (
    _sgr(c) for c in (32, 33, 36, 2, 35, 1)
)
_SCALAR_END = re.compile(r"[\x00- ,:\]}]")
_STRING_BODY = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)


def coloured(text: str) -> str:
    """JSON text (indented or one line) with the official terminal colours: keys bold bright
    blue, strings green, numbers yellow, booleans cyan, null faint, escapes magenta, and the
    brackets (and an object's ``:`` and ``,``) bold."""
    out: list[str] = []
    # Each open container and, for an object, whether a key comes next.
    stack: list[list[object]] = []
    pos, end = 0, len(text)
    while pos < end:
        char = text[pos]
        if char == '"':
            on = _KEY if stack and stack[-1][1] else _STRING_ON
            match = _STRING_BODY.match(text, pos + 1)
            stop = match.end() if match else end
            out.append(on + _escapes_marked(text[pos:stop], on) + _RESET)
            pos = stop
            continue
        if char in "{[":
            stack.append([char, char == "{"])
            out.append(_BRACKET_ON + char + _RESET)
        elif char in "}]" and stack:
            stack.pop()
            out.append(_BRACKET_ON + char + _RESET)
        elif char in ":," and stack and stack[-1][0] == "{":
            stack[-1][1] = not stack[-1][1]
            out.append(_BRACKET_ON + char + _RESET)
        elif char in "-0123456789tfnNIi+":
            match = _SCALAR_END.search(text, pos)
            stop = match.start() if match else end
            on = {"t": _BOOLEAN_ON, "f": _BOOLEAN_ON}.get(char, _NUMBER_ON)
            if char == "n" and text.startswith("nu", pos):
                on = _NULL_ON
            out.append(on + text[pos:stop] + _RESET)
            pos = stop
            continue
        else:
            out.append(char)
        pos += 1
    return "".join(out)


def _escapes_marked(literal: str, on: str) -> str:
    """A string literal with each escape (``\\n``, ``\\u00e9``) in the escape colour."""

    def mark(match: re.Match[str]) -> str:
        return _RESET + _ESCAPE_ON + match.group() + _RESET + on

    return re.sub(r"\\(?:u[0-9a-fA-F]{4}|.)", mark, literal, flags=re.DOTALL)


# -- yaml ---------------------------------------------------------------------------------------

# The strings json2yaml quotes, because a YAML reader would take them for something else (or
# lose a character).  The first group must match the whole string (null, booleans, numbers in
# YAML 1.1's forms, dates, merge and value keys); the rest anywhere.  \Z is Go's $ here.
_QUOTE_ONE_LINE = re.compile(
    r"^(?:"
    r"(?i:|~|null|true|false|y(?:es)?|no?|o(?:n|ff)"
    r"|[-+]?(?:0(?:b[01_]+|o[0-7_]+|x[0-9a-f_]+)"
    r"|(?:[0-9][0-9_]*(?::[0-5]?[0-9])*(?:\.[0-9_]*)?|\.[0-9_]+)(?:E[-+]?[0-9]+)?"
    r"|\.inf)|\.nan"
    r"|[0-9]{4}-[0-9][0-9]?-[0-9][0-9]?"
    r"(?:(?:T|[ \t\n\f\r]+)[0-9][0-9]?:[0-9][0-9]?:[0-9][0-9]?(?:\.[0-9]*)?"
    r"(?:[ \t\n\f\r]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9]?)?))?)?"
    r"|<<|=)\Z"
    r"|[,\[\]{}#&*!|>'\"%@` \t]"
    r"|(?:-(?:--)?|\.\.\.|\?)(?:[ \t]|\Z))"
    r"|:(?:[ \t]|\Z)"
    r"|[ \t](?:#|\Z)"
    "|[\x00-\x09\x0b-\x1f\x7f\x80-\x9f\u2028\u2029\ufeff\ufdd0-\ufdef\ufffe\uffff]"
)
_QUOTE_MULTI_LINE = re.compile(
    r"^\n*(?:[ \t]|\Z)" "|[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u2028\u2029\ufeff\ufdd0-\ufdef\ufffe\uffff]"
)
_YAML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _double_quoted(text: str) -> str:
    pieces = ['"']
    for char in text:
        code = ord(char)
        if " " <= char <= "~" and char not in '"\\':
            pieces.append(char)
        elif char in _YAML_ESCAPES:
            pieces.append(_YAML_ESCAPES[char])
        elif code <= 0x9F:
            pieces.append(f"\\x{code:02X}")
        elif code in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF) or 0xFDD0 <= code <= 0xFDEF:
            pieces.append(f"\\u{code:04X}")
        else:
            pieces.append(char)
    pieces.append('"')
    return "".join(pieces)


_OPEN, _CLOSE = "open", "close"


def _tokens(node: Node) -> Iterator[tuple[str, Node | str]]:
    """The document as a decoder's token stream: opening and closing brackets, keys, scalars."""
    if node.kind in (OBJECT, ARRAY):
        bracket = "{" if node.kind == OBJECT else "["
        yield _OPEN, bracket
        if node.kind == OBJECT:
            for key, value in node.members:
                yield "key", key
                yield from _tokens(value)
        else:
            for item in node.items:
                yield from _tokens(item)
        yield _CLOSE, bracket
    else:
        yield "scalar", node


class _YamlWriter:
    """json2yaml's state: the open containers (``{`` before a key, ``:`` before its value, ``[``)
    under a ``.`` for the top level, and the indentation."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.stack = ["."]
        self.indent = 0

    def pad(self) -> None:
        self.out.append(" " * self.indent)

    def string(self, text: str) -> None:
        if "\n" in text and not _QUOTE_MULTI_LINE.search(text):
            self.block(text)
        elif "\n" in text or _QUOTE_ONE_LINE.search(text):
            self.out.append(_double_quoted(text))
        else:
            self.out.append(text)

    def block(self, text: str) -> None:
        as_key = self.stack[-1] == "{"
        if as_key:
            self.out.append("? ")
        self.out.append("|" + ("-" if not text.endswith("\n") else "+" if text.endswith("\n\n") else ""))
        self.indent += 2
        rest = text
        while rest:
            line, _, rest = rest.partition("\n")
            self.out.append("\n")
            if line:
                self.pad()
                self.out.append(line)
        self.indent -= 2
        if as_key:
            self.out.append("\n")
            self.pad()

    def scalar(self, node: Node) -> None:
        if node.kind == STRING:
            self.string(node.string())
        elif node.kind in (TRUE, FALSE, NULL):
            self.out.append(node.kind)
        else:
            self.out.append(node.text)


def to_yaml(node: Node) -> str:
    """The document as json2yaml writes it (two-space indentation, key order kept, strings
    quoted only where YAML would read them otherwise, multi-line strings as ``|`` blocks)."""
    tokens = list(_tokens(node))
    writer = _YamlWriter()
    stack, out = writer.stack, writer.out
    for position, (kind, value) in enumerate(tokens):
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        more = following is not None and following[0] != _CLOSE
        if kind == _OPEN:
            assert isinstance(value, str)
            if len(stack) > 1:
                writer.indent += 2
            stack.append(value)
            if more:
                if stack[-2] == ":":
                    out.append("\n")
                    writer.pad()
                if value == "[":
                    out.append("- ")
            else:
                if stack[-2] == ":":
                    out.append(" ")
                out.append("{}\n" if value == "{" else "[]\n")
            continue
        if kind == _CLOSE:
            stack.pop()
            if len(stack) > 1:
                writer.indent -= 2
        elif kind == "key":
            assert isinstance(value, str)
            writer.string(Node(STRING, value).string())
            out.append(":")
            stack[-1] = ":"
            continue
        else:
            assert isinstance(value, Node)
            if stack[-1] == ":":
                out.append(" ")
            writer.scalar(value)
            out.append("\n")
        if more:
            writer.pad()
            if stack[-1] == ":":
                stack[-1] = "{"
            elif stack[-1] == "[":
                out.append("- ")
    return "".join(out)


# -- pretty: the human view -----------------------------------------------------------------------

# Of the 256 colours: keys blue, strings green, numbers orange, booleans pink, null grey and
# italic, bullets dark grey, the border violet; the title bold.
_C_KEY, _C_STRING, _C_NUMBER, _C_BOOLEAN, _C_BULLET, _C_BORDER = (
    _sgr(f"38;5;{c}") for c in (75, 113, 215, 207, 242, 63)
)
_C_NULL = _sgr("38;5;245", 3)
_C_TITLE = _sgr(1)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TERMINAL_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def sanitize_terminal(text: str) -> str:
    """``text`` with the characters a terminal would act on escaped (``\\n``, ``\\u001b``): C0
    controls, DEL and C1 controls."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return _TERMINAL_ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return re.sub("[\x00-\x1f\x7f-\x9f]", escape, text)


def display_width(text: str) -> int:
    """Terminal cells ``text`` takes (escape sequences none, wide East Asian characters two,
    combining marks none)."""
    text = _ANSI.sub("", text)
    if text.isascii():
        return len(text)
    cells = 0
    for char in text:
        if unicodedata.combining(char) or char in "\u200b\u200c\u200d\ufeff":
            continue
        wide = unicodedata.east_asian_width(char) in ("W", "F") and unicodedata.category(char) != "Cn"
        cells += 2 if wide else 1
    return cells


def _truncated(text: str, cells: int) -> str:
    kept, used = [], 0
    for char in text:
        used += display_width(char)
        if used > cells:
            break
        kept.append(char)
    return "".join(kept)


class _View:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def paint(self, style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if self.colour and text else text

    def value(self, node: Node, indent: int, width: int) -> str:
        kind = node.kind
        if kind == STRING:
            text = sanitize_terminal(node.string())
            if not text:
                return self.paint(_C_NULL, "(empty)")
            if display_width(text) > width:
                # The original truncates to width - 1 cells; below one cell it keeps everything.
                text = (_truncated(text, width - 1) if width >= 1 else text) + "…"
            return self.paint(_C_STRING, text)
        if kind == NUMBER:
            return self.paint(_C_NUMBER, node.text)
        if kind in (TRUE, FALSE):
            return self.paint(_C_BOOLEAN, "yes" if kind == TRUE else "no")
        if kind == NULL:
            return self.paint(_C_NULL, "null")
        if kind == ARRAY:
            return self.array(node, indent, width)
        return self.object(node, indent, width)

    def array(self, node: Node, indent: int, width: int) -> str:
        if not node.items:
            return self.paint(_C_NULL, " (none)")
        number_width = len(f"{len(node.items)}. ")
        rows = []
        for position, item in enumerate(node.items, start=1):
            number = f"{position}."
            numbering = "  " * indent + self.paint(_C_BULLET, number)
            item_width = width
            if not item.is_container:
                numbering += " " * (number_width - len(number))
                item_width = width - display_width(numbering)
            rows.append(numbering + self.value(item, indent + 1, item_width))
        return "\n" + "\n".join(rows)

    def object(self, node: Node, indent: int, width: int) -> str:
        if not node.members:
            return self.paint(_C_NULL, "(empty)")
        rows = []
        for key, value in node.members:
            label = "  " * indent + self.paint(_C_KEY, sanitize_terminal(Node(STRING, key).string()) + ":")
            item_width = width
            if not value.is_container:
                label += " "
                item_width = width - display_width(label)
            rows.append(label + self.value(value, indent + 1, item_width))
        return "\n" + "\n".join(rows)


def human_view(title: str, node: Node, *, width: int = WIDTH, colour: bool = False) -> str:
    """The ``pretty`` format: two spaces and the title, then the document in a rounded box as
    ``key: value`` lines (arrays numbered, ``yes``/``no``, ``(empty)``, ``(none)``), the content
    ``width - 4`` cells wide at most for strings, which are cut with ``…``."""
    view = _View(colour)
    lines = view.value(node, 0, width - 4).lstrip("\n").split("\n")
    inner = max(display_width(line) for line in lines)

    def border(text: str) -> str:
        return view.paint(_C_BORDER, text)

    box = [border("╭" + "─" * (inner + 2) + "╮")]
    for line in lines:
        box.append(border("│") + " " + line + " " * (inner - display_width(line)) + " " + border("│"))
    box.append(border("╰" + "─" * (inner + 2) + "╯"))
    return "  " + view.paint(_C_TITLE, title) + "\n" + "\n".join(box) + "\n"
