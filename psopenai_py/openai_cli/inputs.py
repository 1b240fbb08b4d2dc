"""What a dialect command line sends: its flags, piped YAML or JSON, and ``@file`` values.

As the official CLI builds a request:

1. the flags given make the path, the query and the body (only flags given are sent);
2. YAML or JSON piped on standard input, when there is any, fills what the flags left unset:
   a mapping's ``completion_id``, ``after``, ``limit``, ``metadata``, ``model``, ``order`` set
   those path and query flags, and for a command with a body the mapping is the body, the
   flags given replacing its keys;
3. the required flags are checked (a body field counts when the body holds it);
4. every string of the body and query that starts with ``@`` is a file's content: ``@path``
   (text when it reads as UTF-8 text, else base64), ``@file://path`` (text), ``@data://path``
   (base64), ``@-`` (standard input); ``\\@`` sends an ``@``; ``@name`` with no ``.`` or ``/``
   that names no file stays as written (a handle, not a file).

Standard input is read only when it is a non-empty file, or a pipe with data waiting within
10 ms (some terminals and CI runners connect an idle pipe that never ends).
"""

from __future__ import annotations

import base64
import io
import os
import stat
from dataclasses import dataclass, field
from typing import Any

from ..text_marks import decode_marked
from .arguments import missing_required
from .flag_values import convert, go_value
from .grammar import Flag, Parsed, Verb
from .yaml_values import YAMLError, parse_yaml

__all__ = ["Request", "Stdin", "build", "piped_data_waiting"]

PIPE_WAIT = 0.010
"""How long a pipe may take to show data before it is taken to be idle (the original's)."""


def piped_data_waiting(stream: Any, wait: float = PIPE_WAIT) -> bool:
    """Whether ``stream`` holds piped input: a non-empty regular file, or a pipe or socket
    with data within ``wait`` seconds.  A terminal, the null device, or a closed stream: no."""
    if stream is None:
        return False
    if isinstance(stream, io.StringIO | io.BytesIO):
        return True  # handed in by a caller (tests, an embedding program)
    try:
        fd = stream.fileno()
        mode = os.fstat(fd)
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return False
    if stat.S_ISREG(mode.st_mode):
        return mode.st_size > 0
    if not (stat.S_ISFIFO(mode.st_mode) or stat.S_ISSOCK(mode.st_mode)):
        return False
    if os.name == "nt":
        return _pipe_has_data_windows(fd)
    import select

    try:
        ready, _, _ = select.select([fd], [], [], wait)
    except (OSError, ValueError):
        return False
    return bool(ready)


def _pipe_has_data_windows(fd: int) -> bool:
    """PeekNamedPipe: bytes waiting in the pipe, without reading them (Windows has no poll on
    pipes)."""
    try:
        import ctypes
        import msvcrt

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
        handle = msvcrt.get_osfhandle(fd)  # type: ignore[attr-defined,unused-ignore]
        available = ctypes.c_ulong(0)
        ok = kernel32.PeekNamedPipe(handle, None, 0, None, ctypes.byref(available), None)
    except (OSError, ValueError, AttributeError, ImportError):
        return False
    return bool(ok) and available.value > 0


class Stdin:
    """Standard input, read at most once (for piped data, or for one ``@-``)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.consumed_by: str | None = None

    def read(self) -> bytes:
        """Everything left on the stream, as bytes."""
        buffer = getattr(self.stream, "buffer", None)
        data = (buffer or self.stream).read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)

    def piped(self) -> bytes | None:
        """The piped data, or None when nothing is piped."""
        if not piped_data_waiting(self.stream):
            return None
        data = self.read()
        if data:
            self.consumed_by = "piped YAML/JSON input"
        return data or None

    def for_file(self) -> bytes:
        """The stream's content for an ``@-`` value; refused when it was read already."""
        if self.consumed_by is not None:
            raise InputError(f"stdin was already consumed by {self.consumed_by}")
        self.consumed_by = "an @- value"
        try:
            return self.read()
        except (OSError, ValueError, AttributeError) as exc:
            raise InputError(f"read stdin: {exc}") from None


class InputError(Exception):
    """Piped data or a file that cannot be used (exit status 1, nothing sent)."""


@dataclass
class Request:
    """A command's request, built and checked: its id, query and body."""

    completion_id: str | None = None
    query: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None


def _flag_text(value: Any) -> str:
    """A piped value as the text a flag would have been given (as the original formats it)."""
    import json

    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return go_value(value) if value is not None else "null"


def _fill_from_piped(verb: Verb, parsed: Parsed, data: dict[str, Any]) -> None:
    """Piped keys set the path and query flags the command line left unset; they are then no
    body keys (whether the flag came from the line or from here)."""
    for flag in verb.flags:
        if flag.where not in ("path", "query") or flag.outer is not None:
            continue
        if not parsed.is_set(flag.name) and flag.api_field in data:
            text = _flag_text(data[flag.api_field])
            try:
                parsed.values[flag.name] = convert(flag, text)
            except ValueError as exc:
                raise InputError(f'cannot set flag "{flag.name}" from piped data: {exc}') from None
            parsed.given.add(flag.name)
        if parsed.is_set(flag.name):
            data.pop(flag.api_field, None)


def _body_of_flags(verb: Verb, parsed: Parsed) -> dict[str, Any]:
    return {
        f.api_field: parsed.values[f.name]
        for f in verb.flags
        if f.where == "body" and f.outer is None and parsed.is_set(f.name)
    }


def build(verb: Verb, parsed: Parsed, stdin: Stdin) -> Request:
    """The request of a parsed command line (after its arguments were taken), checked as the
    original checks it; UsageError or InputError before anything is sent."""
    body: Any = _body_of_flags(verb, parsed)
    raw = stdin.piped()
    if raw is not None:
        try:
            # Decoded by its byte-order mark: PowerShell 5's `>` writes UTF-16 (a tail to the
            # original, which reads UTF-8 only).
            data = parse_yaml(decode_marked(raw))
        except YAMLError as exc:
            raise InputError(f"Failed to parse piped data as YAML/JSON:\n{exc}") from None
        except ValueError as exc:
            message = f"the piped data is not text: {exc}"
            raise InputError(f"Failed to parse piped data as YAML/JSON:\n{message}") from None
        if isinstance(data, dict):
            _fill_from_piped(verb, parsed, data)
            if verb.sends_body:
                body = {**data, **body}
        elif verb.sends_body and data is not None:
            if body:
                raise InputError(f"Cannot merge flags with a body that is not a map: {go_value(data)}")
            body = data
    problem = missing_required(verb, parsed, body)
    if problem is not None:
        raise problem
    files = _Files(stdin)
    request = Request()
    if verb.takes_id:
        request.completion_id = str(parsed.get("completion-id"))
    if verb.sends_body:
        request.body = _sorted(files.embed(body))
    for flag in verb.flags:
        if flag.where == "query" and parsed.is_set(flag.name):
            request.query += _query_pairs(flag, files.embed(parsed.values[flag.name]))
    request.query.sort(key=lambda pair: pair[0])  # as Go's url.Values.Encode orders them
    return request


def _query_pairs(flag: Flag, value: Any, prefix: str | None = None) -> list[tuple[str, str]]:
    """A query value as the original encodes it: ``name=value``; a map as ``name[key]=value``;
    a list as ``name[]=value`` for each."""
    name = prefix or flag.api_field
    if isinstance(value, dict):
        pairs = []
        for key, item in value.items():
            pairs += _query_pairs(flag, item, f"{name}[{key}]")
        return pairs
    if isinstance(value, list):
        return [pair for item in value for pair in _query_pairs(flag, item, f"{name}[]")]
    if value is None:
        return []
    return [(name, _flag_text(value))]


def _sorted(value: Any) -> Any:
    """Keys in order at every level, as Go's JSON encoder writes a map."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


# Signatures of binary formats a sniffer recognises although their first bytes are printable.
_BINARY_SIGNATURES = (
    b"%PDF-",
    b"\x89PNG",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"RIFF",
    b"OggS",
)
_BINARY_BYTES = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])


def is_text(content: bytes) -> bool:
    """Whether a file's content is sent as text: no binary byte in its first 512 bytes, no
    binary format's signature, and valid UTF-8 (the original sniffs the content type)."""
    head = content[:512]
    if content.startswith(_BINARY_SIGNATURES) or any(byte in _BINARY_BYTES for byte in head):
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _Files:
    """``@file`` values: each string of a value that names a file becomes its content."""

    def __init__(self, stdin: Stdin) -> None:
        self.stdin = stdin

    def embed(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.embed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.embed(v) for v in value]
        if isinstance(value, str) and value.startswith(("@", "\\@")):
            return self.string(value)
        return value

    def read(self, name: str) -> bytes:
        if name in ("-", "/dev/stdin"):
            return self.stdin.for_file()
        try:
            with open(name, "rb") as handle:
                return handle.read()
        except OSError as exc:
            reason = (exc.strerror or type(exc).__name__).lower()
            raise InputError(f"open {name}: {reason}") from None

    def string(self, value: str) -> str:
        if value.startswith("\\@"):
            return value[1:]
        if value.startswith("@data://"):
            return base64.b64encode(self.read(value[len("@data://") :])).decode("ascii")
        if value.startswith("@file://"):
            return self.read(value[len("@file://") :]).decode("utf-8", "replace")
        name = value[1:]
        try:
            content = self.read(name)
        except InputError:
            if "." in name or "/" in name or name in ("-",):
                raise
            return value  # @username: a handle, not a file
        if is_text(content):
            return content.decode("utf-8")
        return base64.b64encode(content).decode("ascii")
