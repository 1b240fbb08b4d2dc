"""The text of a streamed reply, as the commands hand it on: piece by piece, never a key.

:func:`reply_pieces` picks the text out of a stream of chunks as PSOpenAI's
``Request-ChatCompletion -Stream`` does; :class:`KeySafeText` lets those pieces go on as they come
without ever spelling out a secret across two of them; :class:`StreamedText` marks a piece, so
that a front-end writes it as it comes rather than as a line or an object of its own.

Why :class:`KeySafeText` holds anything back: each chunk is scrubbed on its own (see
:mod:`psopenai_py.transport.stream`), but a server (or a model quoting its prompt) can spell a key
a few characters per chunk, and written one after another the pieces show it whole.  So the end
of the text is held back while it could be the start of a secret, and let go once the next piece
shows that it is not (or, scrubbed together with it, that it was).  Pure: no HTTP, no front-end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .scrub import active_secrets, scrub
from .secret import Secret

__all__ = ["StreamedText", "reply_pieces", "KeySafeText"]


class StreamedText(str):
    """One piece of a reply's text as it streamed in (a ``str``).  Front-ends write it as it
    comes, without a line of its own; joined, the pieces are the reply."""

    __slots__ = ()


def reply_pieces(chunks: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The text of each chunk whose first choice's ``delta.content`` is a string (the empty
    string of the first chunk included), as PSOpenAI writes it for -Stream
    (``Public/Chat/Request-ChatCompletion.ps1``: chunks with ``choices`` whose
    ``choices[0].delta.content -is [string]``); chunks without text (the last choice chunk, a
    usage chunk) give none."""
    for chunk in chunks:
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            continue
        delta = choices[0].get("delta")
        content = delta.get("content") if isinstance(delta, Mapping) else None
        if isinstance(content, str):
            yield content


class KeySafeText:
    """Pieces of text let go as they come, so that written one after another they never show
    a run of a secret that :func:`~psopenai_py.scrub.scrub` would take out of the whole.

    :meth:`add` takes the next piece and returns the pieces that can go now; :meth:`finish`
    returns the rest.  A piece goes on as it came unless the text's end could be the start of a
    secret in play (or of one of ``extra``): then it waits for the next piece, usually just one.
    When pieces held together turn out to hold a secret, they go on as one piece, scrubbed.
    Joined, the pieces let go are the text, scrubbed.
    """

    def __init__(self, extra: Iterable[str | Secret | None] = ()) -> None:
        self._extra = tuple(extra)
        self._held: list[str] = []

    def add(self, piece: str) -> list[str]:
        """The pieces that can go now that ``piece`` has come."""
        self._held.append(piece)
        return self._release(final=False)

    def finish(self) -> list[str]:
        """The text's end: every piece still held, scrubbed."""
        return self._release(final=True)

    def _release(self, *, final: bool) -> list[str]:
        held = self._held
        text = "".join(held)
        cleaned = scrub(text, self._extra)
        keep = 0 if final else _secret_tail(cleaned, self._secrets())
        if cleaned == text:
            # No secret: whole pieces go, but the last few that hold the text's suspect end.
            count, covered = len(held), 0
            while count and covered < keep:
                count -= 1
                covered += len(held[count])
            released, self._held = held[:count], held[count:]
            return released
        # A secret was taken out: what is sure goes as one piece; the suspect end waits.
        cut = len(cleaned) - keep
        self._held = [cleaned[cut:]] if keep else []
        return [cleaned[:cut]] if cut > 0 else []

    def _secrets(self) -> list[str]:
        values = set(active_secrets())
        for item in self._extra:
            plain = item.reveal() if isinstance(item, Secret) else item
            if plain:
                values.add(plain)
        return [value.lower() for value in values]


def _secret_tail(text: str, secrets: list[str]) -> int:
    """How many characters at the end of ``text`` could be the start of a secret's run: the
    longest end of it found in a secret (in any case, as the scrubber matches)."""
    length = 0
    # A longer end holds every shorter one: count up until an end is found in no secret.
    while length < len(text) and any(text[len(text) - length - 1 :].lower() in s for s in secrets):
        length += 1
    return length
