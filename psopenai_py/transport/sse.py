"""Server-sent events: the bytes of a ``text/event-stream`` body, parsed into events.

A pure, incremental parser, fed whatever each read of the body returns, in the rules of the
WHATWG HTML standard's "Interpreting an event stream":

- lines end in CRLF, LF or CR, and a CRLF may be cut between two reads;
- a line starting with ``:`` is a comment; any other line is ``field:value`` (one space after the
  colon is dropped; a line without a colon is a field with an empty value);
- ``data`` lines are joined with line feeds, ``event`` names the event (``message`` when not
  given), ``id`` sets the last event id (ignored when it holds a NUL), ``retry`` is a number of
  milliseconds (ignored unless all digits); other fields are ignored;
- a blank line dispatches the event, unless no data was collected;
- the text is UTF-8 (invalid bytes read as U+FFFD), a byte-order mark at the very start is
  dropped, and a character cut between two reads is put together again (lines are cut at CR and
  LF bytes, which never occur inside a UTF-8 sequence, and each line is decoded whole).

One rule is looser than the standard's, on purpose: at the end of the body an event whose lines
all ended but which lacks its blank line is dispatched (:meth:`SSEParser.close`); the standard
drops it.  Nothing is lost by it, and a server that ends with ``data: [DONE]`` and no blank line
is then understood.  A line cut off by the end of the body is never dispatched.

Hand-written: no library of the three runtime dependencies parses event streams, and what the
transport needs besides the events (a count of whole lines, to tell a server that is still
sending from one that drips a byte at a time; a bound on an event's size) is part of it.
Nothing here imports the HTTP stack, so the rules are tested as tables and properties.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Event", "SSEParser", "SSEFormatError", "DEFAULT_MAX_EVENT_BYTES"]

DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024
"""The largest event (or line) a parser keeps by default; the transport gives its own limit."""

_BOM = b"\xef\xbb\xbf"


class SSEFormatError(ValueError):
    """The body cannot be an event stream this parser will hold: an event or a line beyond the
    size limit."""


@dataclass(frozen=True)
class Event:
    """One dispatched event: its name (``message`` unless an ``event`` field named it), its data
    (the ``data`` lines joined with ``\\n``), the last event id seen and the retry time asked
    for, if any."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEParser:
    """Feed it the body's bytes as they come (:meth:`feed`), then :meth:`close` at the end of the
    body; each returns the events completed by what it was given, in order.

    ``lines`` counts the whole lines read so far (comments and blank lines included): a sign that
    the server is still sending, which a byte that completes nothing is not.
    """

    def __init__(self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self.max_event_bytes = max_event_bytes
        self.lines = 0
        self._pending = bytearray()
        """The start of a line whose end has not come yet."""
        self._after_cr = False
        """The last line ended with CR: an LF first in the next read belongs to it."""
        self._started = False
        """Any byte seen (a byte-order mark counts only at the very start)."""
        self._data: list[str] = []
        self._data_size = 0
        self._event = ""
        self._last_id: str | None = None
        self._retry: int | None = None
        self._open_event = False
        """A field line arrived since the last dispatch (for :meth:`close`)."""

    def feed(self, chunk: bytes) -> list[Event]:
        """The events completed by ``chunk`` (the next bytes of the body)."""
        events: list[Event] = []
        if not chunk:
            return events
        view = memoryview(chunk)
        start = 0
        if self._after_cr:
            self._after_cr = False
            if chunk[:1] == b"\n":
                start = 1  # the LF of a CRLF cut between two reads
        size = len(chunk)
        position = start
        # The next CR and LF, each looked for again only once passed: a body without CRs is
        # then searched once, not once per line.
        cr = lf = -1
        while position < size:
            if cr < position:
                cr = chunk.find(b"\r", position)
                cr = size if cr < 0 else cr
            if lf < position:
                lf = chunk.find(b"\n", position)
                lf = size if lf < 0 else lf
            end = min(cr, lf)
            if end == size:
                break
            self._pending += view[position:end]
            self._line(events)
            if chunk[end : end + 1] == b"\r":
                if end + 1 < size:
                    position = end + 2 if chunk[end + 1 : end + 2] == b"\n" else end + 1
                else:
                    self._after_cr = True
                    position = size
            else:
                position = end + 1
        if position < size:
            self._pending += view[position:]
            if len(self._pending) > self.max_event_bytes:
                raise SSEFormatError(f"a line of the stream is longer than {self.max_event_bytes} bytes")
        return events

    def close(self) -> list[Event]:
        """The end of the body: an event whose lines all ended but whose blank line never came
        (see the module's note); a line cut off by the end is dropped."""
        events: list[Event] = []
        self._pending.clear()
        if self._open_event:
            self._dispatch(events)
        return events

    # -- one line ---------------------------------------------------------------------------------

    def _line(self, events: list[Event]) -> None:
        raw = bytes(self._pending)
        self._pending.clear()
        if not self._started:
            self._started = True
            if raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
        self.lines += 1
        if not raw:
            self._dispatch(events)
            return
        if raw[:1] == b":":
            return  # a comment (a keep-alive, usually)
        name, colon, value = raw.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        field = name.decode("utf-8", "replace")
        self._open_event = True
        if field == "data":
            text = value.decode("utf-8", "replace")
            self._data_size += len(value) + 1
            if self._data_size > self.max_event_bytes:
                raise SSEFormatError(f"an event of the stream is larger than {self.max_event_bytes} bytes")
            self._data.append(text)
        elif field == "event":
            self._event = value.decode("utf-8", "replace")
        elif field == "id":
            if b"\x00" not in value:
                self._last_id = value.decode("utf-8", "replace")
        elif field == "retry" and value.isdigit():
            self._retry = int(value)
        # Any other field is ignored, as the standard says.

    def _dispatch(self, events: list[Event]) -> None:
        data, name = self._data, self._event
        self._data, self._data_size, self._event, self._open_event = [], 0, "", False
        if not data:
            return  # nothing collected: no event (the name is forgotten too)
        events.append(Event("\n".join(data), name or "message", self._last_id, self._retry))
