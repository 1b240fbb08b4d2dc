"""Cursor pages, as the SDK's ``SyncCursorPage``/``AsyncCursorPage``, over the package's one page
loop (:mod:`psopenai_py.commands.paging`).

A page is a model (``data``, ``has_more``; ``object``, ``first_id``, ``last_id`` kept as extra
keys) that knows how to fetch the next one: the same request with ``after`` = the id of its last
item.  Iterating a page yields its items and every later page's, fetched as they are reached; an
asynchronous page does the same with ``async for``, and ``await client...list()`` gives the first
page where ``async for item in client...list()`` walks them all.

The loop under the pages checks every page before any of its items is shown: a page that is not
a list page, or that lists an id already read on the way to it (a repeated cursor, a list that
goes back), raises :class:`~psopenai_py.errors.APIResponseValidationError` rather than looping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from ..commands import paging
from ..errors import APIError, InvalidResponseException
from ..transport import Exchange
from ._models import BaseModel

__all__ = ["PageInfo", "SyncCursorPage", "AsyncCursorPage", "AsyncPaginator", "PageWalk"]

_T = TypeVar("_T")
_P = TypeVar("_P", bound="BasePage[Any]")

Query = Sequence[tuple[str, Any]]
_ITEM: Any = _T  # the type variable as a value: the key a page class's item type is filed under


class PageInfo:
    """Where the next page starts: ``PageInfo(params={'after': 'chatcmpl-...'})``."""

    def __init__(self, *, params: dict[str, Any]) -> None:
        self.params = params

    def __repr__(self) -> str:
        return f"PageInfo(params={self.params!r})"


class PageWalk:
    """One walk over a list: the caller's query, how to send a page's request (one
    :class:`~psopenai_py.transport.Exchange`), and what a page that cannot be followed raises
    (``refuse(problem, exchange)``: the client's exception for it, from the answer it came in)."""

    def __init__(
        self,
        query: Query,
        send: Callable[[Query], Exchange],
        refuse: Callable[[InvalidResponseException, Exchange | None], BaseException],
    ) -> None:
        self.query = list(query)
        self._send = send
        self._refuse = refuse

    def _read(
        self, step: Callable[[paging.Pager], paging.Page], first: Exchange | None
    ) -> tuple[paging.Page, Exchange]:
        fetched: list[Exchange] = []

        def fetch(query: Query) -> Any:
            exchange = first if first is not None else self._send(query)
            fetched.append(exchange)
            return exchange.content

        try:
            page = step(paging.cursor_pager(fetch, self.query, forkable=True))
        except InvalidResponseException as problem:
            if isinstance(problem, APIError):  # the request's own failure, already the client's
                raise
            raise self._refuse(problem, fetched[-1] if fetched else None) from None
        return page, fetched[-1]

    def first(self, exchange: Exchange) -> tuple[paging.Page, Exchange]:
        """The first page, from its answer (already fetched)."""
        return self._read(lambda pager: pager.first(), exchange)

    def next(self, page: paging.Page) -> tuple[paging.Page, Exchange]:
        """The page after ``page`` (one request)."""
        return self._read(lambda pager: pager.next(page), None)


class BasePage(BaseModel, Generic[_T]):
    """What both kinds of page share: the fields, the check whether there is more, and how a
    page of the same kind is made from a fetched one."""

    __slots__ = ("_page", "_runner", "_walk")

    _item_type: ClassVar[Any] = None
    _generic_origin: ClassVar[type[BasePage[Any]] | None] = None
    _parametrised: ClassVar[dict[Any, type[BasePage[Any]]]]

    data: list[_T]
    has_more: bool | None = None

    def __class_getitem__(cls, item: Any) -> Any:
        # As pydantic's generic models: Page[Item] is a class of its own, named so in repr.
        if not isinstance(item, type):
            return super().__class_getitem__(item)  # type: ignore[misc]
        made = cls.__dict__.get("_parametrised")
        if made is None:
            made = {}
            cls._parametrised = made
        if item not in made:
            made[item] = type(
                f"{cls.__name__}[{item.__name__}]",
                (cls,),
                {
                    "__slots__": (),
                    "__module__": cls.__module__,
                    "_item_type": item,
                    "_generic_origin": cls,
                    "_type_arguments": {_ITEM: item},
                },
            )
        return made[item]

    @classmethod
    def _made(cls: type[_P], page: paging.Page, exchange: Exchange, walk: PageWalk, runner: Any) -> _P:
        built = cls.construct(**page.raw)
        object.__setattr__(built, "_page", page)
        object.__setattr__(built, "_walk", walk)
        object.__setattr__(built, "_runner", runner)
        object.__setattr__(built, "_request_id", exchange.response.headers.get("x-request-id"))
        return built

    def _get_page_items(self) -> list[_T]:
        return list(self.data or [])

    def has_next_page(self) -> bool:
        """False when this page says ``has_more`` false or is empty; True when it says more, or
        says nothing (the SDK's rule)."""
        if self.has_more is False or not self._get_page_items():
            return False
        return self.next_page_info() is not None

    def next_page_info(self) -> PageInfo | None:
        """``after`` = the id of this page's last item; None when there is none."""
        items = self._get_page_items()
        if not items:
            return None
        ident = getattr(items[-1], "id", None)
        return None if ident is None else PageInfo(params={"after": ident})

    def _no_next_page(self) -> RuntimeError:
        return RuntimeError(
            "No next page expected; please check `.has_next_page()` before calling `.get_next_page()`."
        )


class SyncCursorPage(BasePage[_T]):
    """A page of a list (``client.chat.completions.list()``); iterate it for every item."""

    __slots__ = ()

    def get_next_page(self) -> SyncCursorPage[_T]:
        """The next page (the same request with ``after`` = this page's last id)."""
        if not self.has_next_page():
            raise self._no_next_page()
        page, exchange = self._runner(lambda: self._walk.next(self._page))
        return type(self)._made(page, exchange, self._walk, self._runner)

    def iter_pages(self) -> Iterator[SyncCursorPage[_T]]:
        """This page, then each later one."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = page.get_next_page()

    def __iter__(self) -> Iterator[_T]:  # type: ignore[override]  # items, as the SDK's pages
        for page in self.iter_pages():
            yield from page._get_page_items()


class AsyncCursorPage(BasePage[_T]):
    """A page of a list of the asynchronous client; ``async for`` over it for every item."""

    __slots__ = ()

    async def get_next_page(self) -> AsyncCursorPage[_T]:
        """The next page (the same request with ``after`` = this page's last id)."""
        if not self.has_next_page():
            raise self._no_next_page()
        page, exchange = await self._runner(lambda: self._walk.next(self._page))
        return type(self)._made(page, exchange, self._walk, self._runner)

    async def iter_pages(self) -> AsyncIterator[AsyncCursorPage[_T]]:
        """This page, then each later one."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.get_next_page()

    async def __aiter__(self) -> AsyncIterator[_T]:
        async for page in self.iter_pages():
            for item in page._get_page_items():
                yield item


class AsyncPaginator(Generic[_T]):
    """What the asynchronous ``list()`` returns: ``await`` it for the first page, or ``async
    for`` over it for every item of every page."""

    def __init__(self, first: Callable[[], Awaitable[AsyncCursorPage[_T]]]) -> None:
        self._first = first

    def __await__(self) -> Generator[Any, None, AsyncCursorPage[_T]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[_T]:
        page = await self._first()
        async for item in page:
            yield item
