"""The emulator's state: stored chat completions and their messages, in creation order."""

from __future__ import annotations

import itertools
import random
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CompletionStore", "StoredCompletion", "StoreFull", "CANNED_REPLY", "page"]

CANNED_REPLY = "This is a stored reply from the psopenai_py emulator."
_ID_ALPHABET = string.ascii_letters + string.digits


class StoreFull(Exception):
    """The store holds its limit of completions; nothing was added."""


@dataclass
class StoredCompletion:
    """One stored completion: the API object and the request messages behind it."""

    completion: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    sequence: int = 0


class CompletionStore:
    """Thread-safe in-memory store with the API's ordering (created, then insertion)."""

    def __init__(
        self, *, seed: int | None = None, clock: Callable[[], float] = time.time, max_items: int | None = None
    ) -> None:
        self._lock = threading.Lock()
        self.max_items = max_items
        """At most this many completions are kept (None: no limit); more is :class:`StoreFull`."""
        self._items: dict[str, StoredCompletion] = {}
        self._sequence = itertools.count()
        self._random = random.Random(seed)
        self._clock = clock

    def new_id(self, prefix: str = "chatcmpl-") -> str:
        with self._lock:
            return prefix + "".join(self._random.choice(_ID_ALPHABET) for _ in range(29))

    def create(
        self,
        *,
        model: str,
        messages: Iterable[dict[str, Any]],
        metadata: dict[str, str] | None = None,
        reply: str = CANNED_REPLY,
        store: bool = True,
        completion_id: str | None = None,
        created: int | None = None,
    ) -> dict[str, Any]:
        """Make a completion with a canned assistant reply; keep it when ``store`` is true."""
        messages = list(messages)
        ident = completion_id or self.new_id()
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages) + 8
        completion_tokens = len(reply.split())
        completion: dict[str, Any] = {
            "id": ident,
            "object": "chat.completion",
            "created": int(self._clock()) if created is None else created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "service_tier": "default",
            "system_fingerprint": "fp_emulator",
            "metadata": dict(metadata or {}),
        }
        if store:
            stored_messages = [
                {
                    "id": f"{ident}-{index}",
                    "role": m.get("role", "user"),
                    "content": m.get("content"),
                    "refusal": None,
                    "content_parts": None,
                    **({"name": m["name"]} if "name" in m else {}),
                }
                for index, m in enumerate(messages)
            ]
            with self._lock:
                if ident not in self._items:
                    self._check_room(1)
                self._items[ident] = StoredCompletion(completion, stored_messages, next(self._sequence))
        return _copy(completion)

    def seed(
        self,
        count: int,
        *,
        prefix: str = "chatcmpl-seed-",
        model: str = "gpt-4o-mini",
        metadata: dict[str, str] | None = None,
    ) -> list[str]:
        """Store ``count`` completions with ids ``<prefix>000000``...; returns the ids."""
        ids = [f"{prefix}{index:06d}" for index in range(count)]
        with self._lock:  # all or nothing: a seed that cannot fit adds none
            self._check_room(len(set(ids) - self._items.keys()))
        for ident in ids:
            self.create(
                model=model,
                messages=[{"role": "user", "content": ident}],
                metadata=metadata,
                completion_id=ident,
            )
        return ids

    def _check_room(self, more: int) -> None:
        """Raise StoreFull unless ``more`` completions fit (the caller holds the lock)."""
        if self.max_items is not None and len(self._items) + more > self.max_items:
            raise StoreFull(
                f"The emulator stores at most {self.max_items} completions; it holds "
                f"{len(self._items)} and {more} more do not fit."
            )

    def get(self, ident: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(ident)
            return _copy(item.completion) if item else None

    def update_metadata(self, ident: str, metadata: dict[str, str] | None) -> dict[str, Any] | None:
        """Replace the metadata (the API replaces, it does not merge)."""
        with self._lock:
            item = self._items.get(ident)
            if item is None:
                return None
            item.completion["metadata"] = dict(metadata) if metadata is not None else None
            return _copy(item.completion)

    def delete(self, ident: str) -> bool:
        with self._lock:
            return self._items.pop(ident, None) is not None

    def messages(self, ident: str) -> list[dict[str, Any]] | None:
        with self._lock:
            item = self._items.get(ident)
            return [dict(m) for m in item.messages] if item else None

    def list(
        self, *, model: str | None = None, metadata: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Every stored completion matching the filters, oldest first."""
        with self._lock:
            items = sorted(self._items.values(), key=lambda i: (i.completion["created"], i.sequence))
            result = []
            for item in items:
                c = item.completion
                if model is not None and c["model"] != model:
                    continue
                stored = c.get("metadata") or {}
                if metadata and any(stored.get(k) != v for k, v in metadata.items()):
                    continue
                result.append(_copy(c))
            return result

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def page(items: list[dict[str, Any]], *, after: str | None, limit: int, order: str) -> dict[str, Any]:
    """One list page in the API's shape, ``after`` counted in the requested order."""
    ordered = items if order == "asc" else list(reversed(items))
    if after is not None:
        ids = [i["id"] for i in ordered]
        ordered = ordered[ids.index(after) + 1 :] if after in ids else []
    chunk = ordered[:limit]
    return {
        "object": "list",
        "data": chunk,
        # The schema requires strings here, also for an empty page.
        "first_id": chunk[0]["id"] if chunk else "",
        "last_id": chunk[-1]["id"] if chunk else "",
        "has_more": len(ordered) > limit,
    }


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON object, so callers never share the store's state."""
    return {k: _copy_value(v) for k, v in value.items()}


def _copy_value(value: Any) -> Any:
    if isinstance(value, dict):
        return _copy(value)
    if isinstance(value, list):
        return [_copy_value(v) for v in value]
    return value
