"""Following the API's list pages, as PSOpenAI pages them."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidResponseException, TimeoutException
from ..parameters import Command
from ..validation import check_choice, check_int, check_optional_str, check_switch
from .common import Invocation

__all__ = ["Paging", "pages", "MORE_DATA_WARNING"]

log = logging.getLogger("psopenai_py")

MORE_DATA_WARNING = "There is more data that has not been retrieved."


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


def pages(
    invocation: Invocation, path: str, paging: Paging, filters: Sequence[tuple[str, Any]] = ()
) -> Iterator[Any]:
    """Every item of a paged list, as PSOpenAI pages it: limit 100 and ``after=<last id>`` while
    ``has_more`` with -All; TimeoutSec > 0 is one deadline over the whole loop.

    A page that is malformed (``data`` not a list, an item not an object, ``has_more`` not a
    boolean, a last item without an id) or that would send the loop back where it has been (a
    cursor already used, a last id already seen) is an InvalidResponseException: items already
    yielded stay yielded, and the loop never spins.
    """
    limit = 100 if paging.all_pages else (paging.limit or 20)
    after = paging.after
    timeout = invocation.settings.timeout_sec
    deadline = time.monotonic() + timeout if timeout > 0 else None
    cursors: set[str] = set()
    seen_ids: set[str] = set()
    while True:
        left = None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutException()
        query: list[tuple[str, Any]] = [("limit", limit), ("order", paging.order or "asc")]
        if after:
            query.append(("after", after))
            cursors.add(after)
        page = invocation.request("GET", path, query=[*query, *filters], timeout_override=left)
        data, has_more = _check_page(invocation, page)
        more = paging.all_pages and has_more and bool(data)
        last_id = data[-1].get("id") if data else None
        if more:
            if not isinstance(last_id, str) or not last_id:
                raise _malformed(invocation, "its last item has no string id to continue after")
            if last_id in cursors or last_id in seen_ids:
                raise _malformed(
                    invocation,
                    f"it says has_more but ends with {last_id!r} again, which would repeat a page "
                    "already read; stopped instead of looping",
                )
        if has_more and not more and paging.limit is None:
            # Written before the page's items, as the original writes it.
            log.warning(MORE_DATA_WARNING)
        for item in data:
            ident = item.get("id")
            if isinstance(ident, str):
                seen_ids.add(ident)
        yield from data
        if not more:
            return
        after = str(last_id)


def _malformed(invocation: Invocation, problem: str) -> InvalidResponseException:
    return InvalidResponseException(
        f"{invocation.settings.service} API returned a list page that cannot be followed: {problem}."
    )


def _check_page(invocation: Invocation, page: Any) -> tuple[list[Mapping[str, Any]], bool]:
    """The page's items and has_more, or InvalidResponseException for a malformed page."""
    if not isinstance(page, Mapping):
        raise _malformed(invocation, "it is not a JSON object")
    data = page.get("data")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise _malformed(invocation, f"its data is a {type(data).__name__}, not a list")
    for index, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise _malformed(
                invocation, f"item {index} of its data is a {type(item).__name__}, not an object"
            )
    has_more = page.get("has_more", False)
    if has_more is None:
        has_more = False
    if not isinstance(has_more, bool):
        raise _malformed(invocation, f"its has_more is {has_more!r}, not true or false")
    return data, has_more
