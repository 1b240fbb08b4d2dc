"""Following the API's list pages, as PSOpenAI pages them."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import TimeoutException
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
    ``has_more`` with -All; TimeoutSec > 0 is one deadline over the whole loop."""
    limit = 100 if paging.all_pages else (paging.limit or 20)
    after = paging.after
    timeout = invocation.settings.timeout_sec
    deadline = time.monotonic() + timeout if timeout > 0 else None
    while True:
        left = None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutException()
        query: list[tuple[str, Any]] = [("limit", limit), ("order", paging.order or "asc")]
        if after:
            query.append(("after", after))
        page = invocation.request("GET", path, query=[*query, *filters], timeout_override=left)
        data = (page.get("data") or []) if isinstance(page, Mapping) else []
        has_more = bool(page.get("has_more")) if isinstance(page, Mapping) else False
        more = paging.all_pages and has_more and bool(data)
        if has_more and not more and paging.limit is None:
            # Written before the page's items, as the original writes it.
            log.warning(MORE_DATA_WARNING)
        yield from data
        if not more:
            return
        after = str(data[-1].get("id"))
