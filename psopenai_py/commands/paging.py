"""Following the API's list pages: one loop, read by two rules.

Every list this package follows goes through :class:`Pager`: Get-ChatCompletion and
Get-ChatCompletionMessage (:func:`pages`), Export-ChatCompletion, the openai CLI dialect's
``list``, ``messages list`` and ``export``, and the SDK client's cursor pages.  Each page is
checked by :func:`check_page` and held against the ids the run has already read (:class:`SeenIds`)
before any of its items is handed on, so a malformed page or a list that goes back stops the run
with an :class:`~psopenai_py.errors.InvalidResponseException` the same way everywhere: items of
earlier pages stay delivered, the bad page delivers nothing, and nothing loops.

The two rules (:class:`Policy`) differ only in how they read a page's ``has_more``:
:data:`PSOPENAI` as PowerShell does (absent is false), :data:`SDK` as the official SDK and CLI do
(absent pages on until a page is empty).  What each front-end sends (PSOpenAI's ``limit=100``
with -All, the SDK's query as the caller gave it with ``after`` replaced) is the ``fetch``
function it gives the loop; the more-data warning and the one deadline over a paging loop are
PSOpenAI's, in :func:`pages`.
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidResponseException, TimeoutException
from ..parameters import Command
from ..transport import encode_path, json_type
from ..validation import check_choice, check_int, check_optional_str, check_switch
from .common import Invocation

__all__ = [
    "MORE_DATA_WARNING",
    "PSOPENAI",
    "SDK",
    "Page",
    "Pager",
    "Paging",
    "Policy",
    "SeenIds",
    "all_messages",
    "check_page",
    "cursor_pager",
    "json_kind",
    "pages",
    "with_after",
]

log = logging.getLogger("psopenai_py")

MORE_DATA_WARNING = "There is more data that has not been retrieved."

Query = Sequence[tuple[str, Any]]


# -- the two rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """How a loop reads a page's ``has_more``: the one point where the two rules differ."""

    name: str
    absent_has_more: bool
    """What a page without ``has_more`` (or with null) says about the list."""


PSOPENAI = Policy("PSOpenAI", absent_has_more=False)
"""PSOpenAI's rule: PowerShell reads a missing ``has_more`` as false."""

SDK = Policy("SDK", absent_has_more=True)
"""The SDK's and the CLI's rule: only ``has_more: false`` or an empty page ends the list."""


# -- the one check of a page ------------------------------------------------------------------


def json_kind(value: Any) -> str:
    """The JSON type of a parsed value, as a message names it (``a string``, ``null``, ...)."""
    name = json_type(value)
    return name if name == "null" else f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _unreadable(problem: str) -> InvalidResponseException:
    return InvalidResponseException(f"The API returned a list page that cannot be followed: {problem}.")


def check_page(page: Any, policy: Policy) -> tuple[list[dict[str, Any]], bool]:
    """A page's items and whether the list goes on (``has_more`` as ``policy`` reads it), or
    :class:`~psopenai_py.errors.InvalidResponseException` for a page that cannot be followed.

    One rule for every view, where the rules used to differ:

    - ``data`` must be a list; a page without one is a server fault, not an empty list (read as
      empty, an export would report a short file as complete);
    - every item must be an object with a non-empty string id: the guard against a list that
      goes back tells items apart by id, and the next page starts after the last one's;
    - ``has_more`` must be true, false, or absent/null; any other value ("yes", 1) is refused
      rather than guessed at, as neither rule can say what it means.
    """
    if not isinstance(page, Mapping):
        raise _unreadable(f"it is {json_kind(page)}, not an object")
    data = page.get("data")
    if not isinstance(data, list):
        raise _unreadable("it has no data" if data is None else f"its data is {json_kind(data)}, not a list")
    for position, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise _unreadable(f"its item {position} is {json_kind(item)}, not an object")
        ident = item.get("id")
        if not isinstance(ident, str) or not ident:
            raise _unreadable(f"its item {position} has no id")
    has_more = page.get("has_more")
    if has_more is None:
        has_more = policy.absent_has_more
    if not isinstance(has_more, bool):
        raise _unreadable(f"its has_more is {has_more!r}, not true or false")
    return data, has_more


# -- the one guard --------------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


class SeenIds:
    """The ids a run has read, to stop a list that goes back: an id read again, on the same page
    or any later one, or the id the caller asked to start after.

    Held as 64-bit fingerprints of the ids (Python's string hash) in an open-addressing table of
    machine words: a ``set`` of 20,000 ids takes about 2.5 MB as Python objects, this about
    0.25 MB, so a long export stays close to one page of memory.  Two different ids share a
    fingerprint with a chance of about n**2 / 2**65 (one in 10**11 for 20,000 ids).

    ``forkable`` keeps the fingerprints in the order they came too (8 bytes more each), so that
    :meth:`upto` can go back to an earlier point of the run: the SDK's pages can be followed again
    from any page that was already followed.
    """

    __slots__ = ("_log", "_mask", "_slots", "count")

    def __init__(self, *, forkable: bool = False) -> None:
        self._slots = _zeros(64)
        self._mask = 63
        self.count = 0
        """How many ids were added."""
        self._log: array[int] | None = array("Q") if forkable else None

    def __contains__(self, ident: object) -> bool:
        if not isinstance(ident, str):
            return False
        fingerprint = _fingerprint(ident)
        return self._slots[self._find(fingerprint)] == fingerprint

    def add(self, ident: str) -> None:
        """Count ``ident`` as read (adding it twice is harmless)."""
        self._insert(_fingerprint(ident))

    def upto(self, mark: int) -> SeenIds:
        """A new guard holding the first ``mark`` ids of this one (forkable guards only)."""
        if self._log is None:
            raise RuntimeError("this guard does not keep its order; it cannot go back")
        earlier = SeenIds(forkable=True)
        for fingerprint in self._log[:mark]:
            earlier._insert(fingerprint)
        return earlier

    def _find(self, fingerprint: int) -> int:
        # Linear probing: the slot holding the fingerprint, or the empty slot where it belongs.
        index = fingerprint & self._mask
        while self._slots[index] not in (0, fingerprint):
            index = (index + 1) & self._mask
        return index

    def _insert(self, fingerprint: int) -> None:
        index = self._find(fingerprint)
        if self._slots[index]:
            return
        self._slots[index] = fingerprint
        self.count += 1
        if self._log is not None:
            self._log.append(fingerprint)
        if 3 * self.count > 2 * len(self._slots):  # at most two thirds full: probes stay short
            old = self._slots
            self._slots = _zeros(2 * len(old))
            self._mask = len(self._slots) - 1
            for value in old:
                if value:
                    self._slots[self._find(value)] = value


def _zeros(size: int) -> array[int]:
    # Repeating a one-word array allocates the words once (array(bytes(...)) would hold a copy).
    return array("Q", [0]) * size


def _fingerprint(ident: str) -> int:
    return (hash(ident) & _MASK64) or 1  # 0 marks an empty slot


def _read_again(ident: str) -> InvalidResponseException:
    return InvalidResponseException(
        f"The API listed {ident!r} a second time (the list went back to an item already read); "
        "stopped instead of repeating it."
    )


# -- the one loop ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page, checked and guarded, and where its run stands after it."""

    raw: Mapping[str, Any]
    """The page as the API sent it."""
    data: list[dict[str, Any]]
    more: bool
    """``has_more``, as the run's policy reads it."""
    seen: SeenIds
    mark: int
    """How many ids the run had read with this page: where a run from here goes on from."""

    @property
    def cursor(self) -> str | None:
        """The id the next page starts after; None where the list ends here."""
        return str(self.data[-1]["id"]) if self.more and self.data else None

    @property
    def unfinished(self) -> bool:
        """The page says there is more, but gives no item to continue after."""
        return self.more and not self.data


class Pager:
    """One run over a list.

    ``fetch(after)`` sends one list request (``after`` None for the caller's own first page) and
    returns the page as parsed; ``after`` is the caller's starting cursor, counted as read.
    """

    def __init__(
        self,
        fetch: Callable[[str | None], Any],
        policy: Policy,
        *,
        after: str | None = None,
        forkable: bool = False,
    ) -> None:
        self._fetch = fetch
        self._policy = policy
        self._after = after or None
        self._forkable = forkable

    def first(self) -> Page:
        """The first page (one request)."""
        seen = SeenIds(forkable=self._forkable)
        if self._after is not None:
            seen.add(self._after)
        return self._read(self._fetch(self._after), seen)

    def next(self, page: Page) -> Page:
        """The page after ``page`` (one request); ``page.cursor`` must not be None."""
        if page.cursor is None:
            raise ValueError("the list ends with this page")
        seen = page.seen if page.seen.count == page.mark else page.seen.upto(page.mark)
        return self._read(self._fetch(page.cursor), seen)

    def pages(self, *, follow: bool = True, to_the_end: bool = False) -> Iterator[Page]:
        """The first page, then (``follow``) each later one, fetched as the caller asks for it.

        ``to_the_end``: a page that says there is more but holds no item to continue after is
        an error instead of the end (an export must not claim a list it could not finish).
        """
        page = self.first()
        while True:
            if to_the_end and page.unfinished:
                raise _unreadable("it says there is more but holds no item to continue after")
            yield page
            if not follow or page.cursor is None:
                return
            page = self.next(page)

    def _read(self, raw: Any, seen: SeenIds) -> Page:
        data, more = check_page(raw, self._policy)
        # The whole page is held against the run first, then counted: a refused page leaves the
        # run as it was (the SDK's pages may ask for it again).
        fresh: set[str] = set()
        for item in data:
            ident = item["id"]
            if ident in fresh or ident in seen:
                raise _read_again(ident)
            fresh.add(ident)
        for item in data:
            seen.add(item["id"])
        return Page(raw, data, more, seen, seen.count)


# -- the SDK's and the CLI's view --------------------------------------------------------------


def with_after(query: Query, after: str) -> list[tuple[str, Any]]:
    """The query with ``after`` replaced in place, or added at the end (as the SDK does)."""
    replaced = [(k, after if k == "after" else v) for k, v in query]
    if not any(k == "after" for k, _ in query):
        replaced.append(("after", after))
    return replaced


def cursor_pager(fetch: Callable[[Query], Any], query: Query, *, forkable: bool = False) -> Pager:
    """The SDK's and the CLI's loop: the caller's query as given, then the same query with
    ``after=<last id>`` replacing the caller's ``after``; the SDK's reading of ``has_more``."""
    after = next((str(v) for k, v in reversed(query) if k == "after" and v), None)
    return Pager(
        lambda cursor: fetch(query if cursor is None else with_after(query, cursor)),
        SDK,
        after=after,
        forkable=forkable,
    )


# -- PSOpenAI's view ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paging:
    """The list parameters of one invocation: Limit, All, After, Order."""

    limit: int | None
    all_pages: bool
    after: str | None
    order: str | None

    @classmethod
    def from_kwargs(cls, command: Command, kwargs: Mapping[str, Any]) -> Paging:
        p = command.parameter
        return cls(
            limit=check_int(p("Limit"), kwargs.get("limit")),
            all_pages=check_switch(p("All"), kwargs.get("all_pages")),
            after=check_optional_str(p("After"), kwargs.get("after")),
            order=check_choice(p("Order"), kwargs.get("order")),
        )


ALL_OLDEST_FIRST = Paging(None, True, None, "asc")
"""Every item, oldest first (how the stored messages of a completion are read)."""


def pages(
    invocation: Invocation, path: str, paging: Paging, filters: Sequence[tuple[str, Any]] = ()
) -> Iterator[Any]:
    """Every item of a paged list, as PSOpenAI pages it: ``limit`` (100 with -All, else the
    given one or 20), ``order``, ``after`` and the filters; with -All, ``after=<last id>`` while
    ``has_more``; TimeoutSec > 0 is one deadline over the whole loop.  When the list has more
    and neither -All nor -Limit was given, PSOpenAI's warning is written before the items."""
    limit = 100 if paging.all_pages else (paging.limit or 20)
    order = paging.order or "asc"
    timeout = invocation.settings.timeout_sec
    deadline = time.monotonic() + timeout if timeout > 0 else None

    def fetch(after: str | None) -> Any:
        left = None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutException()
        query = [("limit", limit), ("order", order), *([("after", after)] if after else []), *filters]
        return invocation.request("GET", path, query=query, timeout_override=left)

    for page in Pager(fetch, PSOPENAI, after=paging.after).pages(follow=paging.all_pages):
        if page.more and (page.cursor is None or not paging.all_pages) and paging.limit is None:
            log.warning(MORE_DATA_WARNING)
        yield from page.data


def all_messages(invocation: Invocation, completion_id: str) -> Iterator[Any]:
    """Every stored message of a completion, oldest first, as PSOpenAI reads them."""
    path = encode_path("chat/completions/{}/messages", completion_id)
    return pages(invocation, path, ALL_OLDEST_FIRST)
