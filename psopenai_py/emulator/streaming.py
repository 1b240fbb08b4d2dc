"""A created completion as the API streams it: ``chat.completion.chunk`` objects, framed as
data-only server-sent events and ended by ``data: [DONE]``.

For ``stream: true`` the API answers with one event per chunk (every chunk with the completion's
id, ``created`` and model): a first chunk with the role (``delta: {"role": "assistant",
"content": ""}``), one chunk per piece of the reply (here: each word with the white space after
it, so that the pieces joined are the stored reply exactly), a last choice chunk with an empty
delta and the ``finish_reason``; with ``stream_options.include_usage`` every chunk carries
``"usage": null`` and one more chunk, with no choices, carries the usage; each chunk carries an
``obfuscation`` string of random length unless ``stream_options.include_obfuscation`` is false.
Pure functions: the connection (:mod:`.connection`) sends what they make.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

__all__ = ["Streamed", "chunks", "event", "DONE_EVENT", "error_event"]

DONE_EVENT = b"data: [DONE]\n\n"
_PIECE = re.compile(r"\s*\S+\s*|\s+")
_OBFUSCATION_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Streamed:
    """A completion to be answered as a stream, with the request's ``stream_options``."""

    completion: dict[str, Any]
    include_usage: bool = False
    include_obfuscation: bool = True


def pieces(text: str) -> list[str]:
    """The reply cut as it is streamed: each word with the white space after it (white space
    before the first word goes with it); joined, they are ``text``."""
    return _PIECE.findall(text)


def chunks(streamed: Streamed) -> list[dict[str, Any]]:
    """The chunks of the stream, in order (the end marker is not one of them)."""
    completion = streamed.completion
    head = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": completion["model"],
        "service_tier": completion.get("service_tier"),
        "system_fingerprint": completion.get("system_fingerprint"),
    }
    choice = completion["choices"][0]
    message = choice["message"]
    deltas: list[tuple[dict[str, Any], str | None]] = [
        ({"role": message.get("role", "assistant"), "content": "", "refusal": None}, None)
    ]
    deltas += [({"content": piece}, None) for piece in pieces(message.get("content") or "")]
    deltas.append(({}, choice.get("finish_reason", "stop")))
    out: list[dict[str, Any]] = []
    for delta, finish in deltas:
        item = dict(head)
        item["choices"] = [
            {"index": choice.get("index", 0), "delta": delta, "logprobs": None, "finish_reason": finish}
        ]
        if streamed.include_usage:
            item["usage"] = None
        out.append(item)
    if streamed.include_usage:
        out.append({**head, "choices": [], "usage": completion.get("usage")})
    if streamed.include_obfuscation:
        for item in out:
            # Random padding of random length, as the API pads each chunk (clients ignore it).
            length = secrets.randbelow(16)
            item["obfuscation"] = "".join(secrets.choice(_OBFUSCATION_ALPHABET) for _ in range(length))
    return out


def event(value: Any) -> bytes:
    """One data-only event: ``data: <compact JSON>`` and a blank line."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return b"data: " + text.encode("utf-8") + b"\n\n"


def error_event(message: str, type_: str = "server_error", code: str | None = None) -> bytes:
    """An error sent inside a stream, after its successful head: an event whose data has an
    ``error`` member (no ``[DONE]`` follows it)."""
    return event({"error": {"message": message, "type": type_, "param": None, "code": code}})
