"""Text whose encoding a byte-order mark names, as Windows writes it: PowerShell 5's ``>`` and
``Out-File`` write UTF-16 with a mark, ``Out-File -Encoding utf8`` UTF-8 with one.  Unmarked
bytes are UTF-8.  Pure functions of the bytes, shared by every reader of piped input."""

from __future__ import annotations

__all__ = ["MarkedEncoding", "marked_encoding", "decode_marked", "looks_binary"]


class MarkedEncoding:
    """An encoding read from the start of the bytes: the codec, the name a message gives it, the
    length of its mark and the bytes of a line end in it (a line ends where they start at a
    multiple of ``unit``)."""

    __slots__ = ("codec", "mark", "name", "newline", "unit")

    def __init__(self, codec: str, name: str, mark: int, unit: int) -> None:
        self.codec = codec
        self.name = name
        self.mark = mark
        self.unit = unit
        self.newline = "\n".encode(codec)


# Longest marks first: the UTF-32 LE mark begins with the UTF-16 LE one.
_MARKS = (
    (b"\xff\xfe\x00\x00", MarkedEncoding("utf-32-le", "UTF-32", 4, 4)),
    (b"\x00\x00\xfe\xff", MarkedEncoding("utf-32-be", "UTF-32", 4, 4)),
    (b"\xef\xbb\xbf", MarkedEncoding("utf-8", "UTF-8", 3, 1)),
    (b"\xff\xfe", MarkedEncoding("utf-16-le", "UTF-16", 2, 2)),
    (b"\xfe\xff", MarkedEncoding("utf-16-be", "UTF-16", 2, 2)),
)
UTF8 = MarkedEncoding("utf-8", "UTF-8", 0, 1)


def marked_encoding(data: bytes) -> MarkedEncoding:
    """The encoding the bytes' byte-order mark names; UTF-8 (mark length 0) without one."""
    for mark, encoding in _MARKS:
        if data.startswith(mark):
            return encoding
    return UTF8


def looks_binary(data: bytes) -> bool:
    """Whether unmarked bytes cannot be text a user meant: they hold a NUL, which no id, JSON or
    YAML text does (UTF-16 saved without its mark, or a binary file given by mistake)."""
    return b"\x00" in data


def decode_marked(data: bytes) -> str:
    """The bytes as text, decoded by their byte-order mark (which is dropped).  Raises
    ``ValueError`` with a message naming the encoding and the byte where the bytes are not text
    in it (counted from 1, the mark included)."""
    encoding = marked_encoding(data)
    if encoding.mark == 0 and looks_binary(data):
        raise ValueError(f"it holds a NUL byte (byte {data.index(0) + 1}): it is not UTF-8 text")
    try:
        return data[encoding.mark :].decode(encoding.codec)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"it is not valid {encoding.name} text (byte {encoding.mark + exc.start + 1})"
        ) from None
