"""Pipeline items from standard input, as ``cat ids.txt | psopenai Set-ChatCompletion ...`` gives
them: one item a line, read lazily and bounded, so that one bad line fails alone."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["StdinItems", "MAX_LINE_BYTES"]

MAX_JSON_DEPTH = 64
MAX_LINE_BYTES = 1 << 20
"""The longest stdin line read (1 MiB): an id is a few dozen bytes and a JSON object a few KB;
a longer line (a file given by mistake, a hostile stream) fails as one item, never read whole."""


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
    not UTF-8, not JSON, too deeply nested or not an object fails that item alone.  A UTF-8
    byte-order mark at the start is dropped and CRLF line ends are accepted."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._binary = getattr(stream, "buffer", None)
        self.line_number = 0
        self.reading = False
        """True while blocked reading (an interrupt then ends the input)."""
        self.interrupted = False
        """An interrupt ended the input (rather than its end)."""
        self._items: Iterator[Any] | None = None
        self._ahead: list[Any] = []

    def _lines(self) -> Iterator[str | bytes | _TooLong]:
        source: IO[Any] = self._binary if self._binary is not None else self._stream
        in_main = threading.current_thread() is threading.main_thread()
        while True:
            self.reading = in_main  # only a read in the main thread can be interrupted
            try:
                line = source.readline(MAX_LINE_BYTES + 1)
                newline = b"\n" if isinstance(line, bytes) else "\n"
                if len(line) > MAX_LINE_BYTES and not line.endswith(newline):
                    # Skip the rest of the line in bounded reads: memory stays flat.
                    rest = line
                    while rest and not rest.endswith(newline):
                        rest = source.readline(MAX_LINE_BYTES)
                    line = _TooLong()
            except KeyboardInterrupt:
                self.interrupted = True
                return
            finally:
                self.reading = False
            if not line:
                return
            yield line

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
                if self.line_number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield _line_error(where, f"The input {where} is not valid UTF-8 (byte {exc.start + 1}).")
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
                if isinstance(raw, _TooLong) or raw.strip():
                    counted[0] += 1

        reader = threading.Thread(target=count, daemon=True)
        reader.start()
        reader.join(0.5)
        return counted[0]


def _line_error(where: str, message: str) -> Any:
    from ..errors import ParameterBindingError

    error = ParameterBindingError("InputObject", message)
    error.TargetObject = where  # type: ignore[attr-defined]
    return error
