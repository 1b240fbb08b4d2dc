"""Pipeline items from standard input, as ``cat ids.txt | psopenai Set-ChatCompletion ...`` gives
them: one item a line, read lazily and bounded, so that one bad line fails alone."""

from __future__ import annotations

import io
import itertools
import json
import threading
from collections.abc import Iterator
from typing import IO, Any

from ..errors import ParameterBindingError
from ..text_marks import UTF8, MarkedEncoding, looks_binary, marked_encoding

__all__ = ["StdinItems", "MAX_LINE_BYTES"]

MAX_JSON_DEPTH = 64
MAX_LINE_BYTES = 1 << 20
"""The longest stdin line read (1 MiB): an id is a few dozen bytes and a JSON object a few KB;
a longer line (a file given by mistake, a hostile stream) fails as one item, never read whole."""


_NOT_TEXT = (
    "Standard input is not text: its first line holds a NUL byte (byte {}), as UTF-16 saved "
    "without its byte-order mark or a binary file does. Give one id or JSON object a line, in "
    "UTF-8 or in UTF-16 with its byte-order mark (as PowerShell's Out-File writes it). Nothing "
    "was sent."
)


class _TooLong:
    """Stands for a stdin line longer than :data:`MAX_LINE_BYTES` (its rest was skipped)."""


def _json_depth(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


class StdinItems:
    """Pipeline items from standard input, one per line: a bare id, a JSON object (bound by
    property) or a JSON string.  Read as bytes and decoded line by line, so one line that is
    not UTF-8, not JSON, too deeply nested or not an object fails that item alone.  A byte-order
    mark at the start names the encoding (UTF-8, UTF-16 or UTF-32, little or big end first, as
    Windows writes them) and is dropped; CRLF line ends are accepted.  Unmarked input whose first
    line holds a NUL byte is not text (UTF-16 without its mark, a binary file): reading it
    raises one ParameterBindingError before any item, so nothing is sent."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._binary = getattr(stream, "buffer", None)
        if self._binary is None and isinstance(stream, (io.RawIOBase, io.BufferedIOBase)):
            self._binary = stream  # a byte stream itself (a file opened "rb")
        self.line_number = 0
        self.reading = False
        """True while blocked reading (an interrupt then ends the input)."""
        self.interrupted = False
        """An interrupt ended the input (rather than its end)."""
        self.encoding = UTF8
        """The input's encoding, as its byte-order mark names it (UTF-8 without one)."""
        self._in_main = False
        self._items: Iterator[Any] | None = None
        self._ahead: list[Any] = []

    def _chunk(self, source: IO[Any], limit: int) -> Any:
        """One bounded ``readline`` of the source; None when an interrupt ended the input."""
        self.reading = self._in_main  # only a read in the main thread can be interrupted
        try:
            return source.readline(limit)
        except KeyboardInterrupt:
            self.interrupted = True
            return None
        finally:
            self.reading = False

    def _lines(self) -> Iterator[str | bytes | _TooLong]:
        """The input's lines: text from a text stream, else bytes in :attr:`encoding` (the
        byte-order mark dropped), or :class:`_TooLong` for a line past the limit."""
        source: IO[Any] = self._binary if self._binary is not None else self._stream
        self._in_main = threading.current_thread() is threading.main_thread()
        if self._binary is None:
            yield from self._plain_lines(source, "\n", first=None)
            return
        first = self._chunk(source, MAX_LINE_BYTES + 1)
        if not first:
            return
        encoding = self.encoding = marked_encoding(first)
        first = first[encoding.mark :]
        if encoding.unit == 1:
            if looks_binary(first):
                raise ParameterBindingError("InputObject", _NOT_TEXT.format(first.index(0) + 1))
            yield from self._plain_lines(source, b"\n", first)
        else:
            yield from self._wide_lines(source, first, encoding)

    def _plain_lines(self, source: IO[Any], newline: Any, first: Any) -> Iterator[str | bytes | _TooLong]:
        """Lines that end in one newline byte (UTF-8) or character (a text stream)."""
        line = first
        while True:
            if line is None:
                line = self._chunk(source, MAX_LINE_BYTES + 1)
                if line is None or not line:
                    return
            if len(line) > MAX_LINE_BYTES and not line.endswith(newline):
                # Skip the rest of the line in bounded reads: memory stays flat.
                rest = line
                while rest and not rest.endswith(newline):
                    rest = self._chunk(source, MAX_LINE_BYTES)
                    if rest is None:
                        return
                line = _TooLong()
            yield line
            line = None

    def _wide_lines(
        self, source: IO[Any], pending: bytes, encoding: MarkedEncoding
    ) -> Iterator[bytes | _TooLong]:
        """Lines of UTF-16 or UTF-32 bytes: a line ends where the newline's code unit starts at a
        whole unit (its bytes elsewhere are parts of other characters).  Read with the same
        bounded ``readline``, which returns at each newline byte, so a slow pipe's lines come
        as they are written."""
        skipping = False
        start = 0  # where the search for the line end goes on: the bytes before hold none
        while True:
            end = pending.find(encoding.newline, start)
            while end >= 0 and end % encoding.unit:
                end = pending.find(encoding.newline, end + 1)
            if end >= 0:
                line, pending, start = pending[: end + encoding.unit], pending[end + encoding.unit :], 0
                if skipping:
                    skipping = False
                else:
                    yield line
                continue
            if len(pending) > MAX_LINE_BYTES:
                if not skipping:
                    yield _TooLong()
                skipping = True
                keep = len(pending) % encoding.unit  # a unit's first bytes, whose rest is to come
                pending = pending[len(pending) - keep :]
            start = max(0, len(pending) - encoding.unit + 1)
            start -= start % encoding.unit
            chunk = self._chunk(source, MAX_LINE_BYTES + 1)
            if chunk is None:
                return
            if not chunk:
                if pending and not skipping:
                    yield pending
                return
            pending += chunk

    def empty(self) -> bool:
        """Whether the input holds no item at all: reads ahead to the first item (which iteration
        then yields first), so it waits for the writer's first line or its end."""
        if not self._ahead:
            self._ahead = list(itertools.islice(self._started(), 1))
        return not self._ahead

    def __iter__(self) -> Iterator[Any]:
        while self._ahead:
            yield self._ahead.pop(0)
        yield from self._started()

    def _started(self) -> Iterator[Any]:
        """The one reader of the items, shared by :meth:`empty` and iteration."""
        if self._items is None:
            self._items = self._read()
        return self._items

    def _read(self) -> Iterator[Any]:
        for raw in self._lines():
            self.line_number += 1
            where = f"line {self.line_number}"
            if isinstance(raw, _TooLong):
                yield _line_error(
                    where,
                    f"The input {where} is longer than {MAX_LINE_BYTES} bytes: give one id or "
                    "one JSON object per line.",
                )
                continue
            if isinstance(raw, bytes):
                try:
                    line = raw.decode(self.encoding.codec)
                except UnicodeDecodeError as exc:
                    yield _line_error(
                        where, f"The input {where} is not valid {self.encoding.name} (byte {exc.start + 1})."
                    )
                    continue
            else:
                line = raw.lstrip("\ufeff") if self.line_number == 1 else raw
            text = line.strip()
            if not text:
                continue
            if text[0] not in '{["':
                yield text
                continue
            if _json_depth(text) > MAX_JSON_DEPTH:
                yield _line_error(
                    where, f"The input {where} is JSON nested deeper than {MAX_JSON_DEPTH} levels."
                )
                continue
            try:
                value = json.loads(text)
            except (ValueError, RecursionError) as exc:
                yield _line_error(where, f"The input {where} {text[:60]!r} is not valid JSON: {exc}.")
                continue
            if (isinstance(value, str) and value) or isinstance(value, dict):
                yield value
            else:
                yield _line_error(
                    where,
                    f"The input {where} is JSON but not an object or a string: give one id or "
                    "one JSON object per line.",
                )

    def count_rest(self) -> int:
        """How many non-empty lines are left (as far as can be read in half a second)."""
        counted = [0]

        def count() -> None:
            for raw in self._lines():
                if isinstance(raw, _TooLong) or _text(raw, self.encoding.codec).strip():
                    counted[0] += 1

        reader = threading.Thread(target=count, daemon=True)
        reader.start()
        reader.join(0.5)
        return counted[0]


def _text(raw: str | bytes, codec: str) -> str:
    return raw if isinstance(raw, str) else raw.decode(codec, "replace")


def _line_error(where: str, message: str) -> Any:
    error = ParameterBindingError("InputObject", message)
    error.TargetObject = where  # type: ignore[attr-defined]
    return error
