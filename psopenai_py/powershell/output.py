"""How the command line writes a command's outputs: a JSON object per line or PowerShell's list
view, streamed text as it comes (its line left open until something else is written), each
output written around the progress line on the terminal they share."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import re
from collections.abc import Iterator
from typing import Any

from ..cli_shell import Output, OutputError, Shell
from ..streaming import StreamedText
from .terminal import escape_text

__all__ = ["EndingLine", "OpenLine", "format_output", "write_outputs"]


def write_outputs(
    outputs: Iterator[Any], out: Output, fmt: str, host: Any, shell: Shell, line: OpenLine
) -> OutputError | None:
    """Write each output as it comes (streamed text as it is, no line of its own, in text
    format).  The first write that fails (the reader went away, a full disk) stops the run as
    Ctrl-C does: no new item starts, the items in flight finish and are counted, and nothing more
    is written.  Returns that failure, if any.

    An output written to the terminal the progress line is on moves it: it is erased before the
    output and drawn again after it, in the same write.  An output that goes elsewhere (a file, a
    pipe) leaves it alone, on screen.  Streamed text that leaves its line open is not followed by
    the progress line (it would land inside the reply); the next whole line brings it back."""
    from .progress import same_terminal

    on_its_terminal = same_terminal(out, host.stream)
    failure: OutputError | None = None
    try:
        for output in outputs:
            if failure is not None:
                continue  # the run is stopping: items in flight finish and are counted
            text = format_output(output, fmt)
            streamed = isinstance(output, StreamedText) and fmt == "text"
            try:
                if not streamed:
                    line.end()
                around = host.writing_output() if on_its_terminal else contextlib.nullcontext(("", ""))
                with around as (erase, draw):
                    # One write to the one terminal: the progress line erased, the output, the
                    # line drawn again; the terminal never shows a screen without it between.
                    ends_line = not streamed or text.endswith("\n")
                    out.write(erase + text + (draw if ends_line else ""))
                    out.flush()
            except OutputError as error:
                failure = error
                host.stop.set()
                shell.give_up_output()
                continue
            if streamed and text:
                line.open = not text.endswith("\n")
    finally:
        if failure is None:
            line.end()
    return failure


class OpenLine:
    """Whether streamed text (Request-ChatCompletion -Stream, in text format) left the output's
    line open; :meth:`end` ends it, before any other line and at the end of the output."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self.open = False

    def end(self) -> None:
        if self.open:
            self.open = False
            with contextlib.suppress(OutputError):  # a failed output is reported by its writer
                self.out.write("\n")
                self.out.flush()


class EndingLine:
    """The host's stream (standard error), which first ends a line that streamed text left open
    on the output: on a terminal both show on one screen, and an error, a warning or the
    progress line must not start in the middle of the text (nor overwrite its last line)."""

    def __init__(self, stream: Any, line: OpenLine) -> None:
        self.stream = stream
        self.line = line

    def write(self, text: str) -> int:
        if not isinstance(text, StreamedText):  # streamed text (information records) flows on
            self.line.end()
        return int(self.stream.write(text) or 0)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno: the stream's own
        return getattr(self.stream, name)


def _jsonable(value: Any) -> Any:
    from ..masking import mask_key
    from ..psobject import PSObject
    from ..secret import Secret

    if isinstance(value, PSObject):
        return value.to_dict(include_added=True)  # with Answer, Message, History
    if isinstance(value, Secret):
        return mask_key(value)
    pairs = _record_pairs(value)
    if pairs is not None:
        return {name: _jsonable(item) for name, item in pairs}
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return value


def _record_pairs(value: Any) -> list[tuple[str, Any]] | None:
    """The (name, value) pairs of a record output (the context Get-OpenAIContext returns, a
    dataclass such as Export-ChatCompletion's receipt), in order; None for any other value."""
    from ..settings import OpenAIContext

    if isinstance(value, OpenAIContext):
        return list(value.as_dict().items())
    if hasattr(type(value), "__dataclass_fields__"):
        # A dataclass instance: its class was made by dataclasses, so the module is loaded by
        # now; a run that writes none (a one-shot update) never loads it.
        import dataclasses

        return [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    return None


def format_output(value: Any, fmt: str) -> str:
    """One output as written: a JSON line (``json``), PowerShell's list view (``text``), or
    streamed text as it comes."""
    if isinstance(value, StreamedText) and fmt == "text":
        return escape_text(value)  # as it comes: lines and all, but no line of its own
    if fmt == "json":
        text = json.dumps(_jsonable(value), ensure_ascii=False, separators=(",", ":"))
        # json escapes C0 controls but not DEL and C1 (U+009B is a one-character CSI to many
        # terminals): escape them too, still the same JSON value.
        if not text.isascii():  # (the pattern compiles on first use: most outputs are ASCII)
            text = re.sub("[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text)
        return text + "\n"
    return _list_view(value) + "\n"


def _list_view(value: Any) -> str:
    """PowerShell's Format-List: one ``name : value`` line per property."""
    from ..psobject import PSObject

    if isinstance(value, PSObject):
        pairs = list(value.items())
    else:
        found = _record_pairs(value)
        if found is None:
            return f"{_escape(str(value))}\n"
        pairs = found
    width = max((len(k) for k, _ in pairs), default=0)
    # Values come from the server: control characters are shown, never sent to the terminal.
    return "\n".join(f"{k:<{width}} : {_escape(_short(v))}" for k, v in pairs) + "\n"


def _escape(text: str) -> str:
    from .terminal import escape_controls

    return escape_controls(text)


def _short(value: Any) -> str:
    from ..masking import mask_key
    from ..psobject import PSObject
    from ..secret import Secret

    if value is None:
        return ""
    if isinstance(value, Secret):
        return mask_key(value)
    if isinstance(value, PSObject):
        return "@{" + "; ".join(f"{k}={_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(_short(v) for v in value) + "}"
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)
