"""The list commands: ``list``, ``messages list`` and ``export``, every page through the core's
one page loop, the items printed as received (``--max-items`` stops early), and the export's
file written under a temporary name and moved into place only when every page has arrived."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .grammar import UsageError
from .output import Printer, ScrubbedStream, text_of

if TYPE_CHECKING:
    from ..commands.paging import Page
    from .app import Run

__all__ = ["list_items", "export_destination"]


def list_items(run: Run, destination: str | None) -> None:
    """``list``, ``messages list`` or ``export``: every page through the one page loop by the
    SDK's rule (the query as given, then ``after=<last id>``); with ``--format raw`` (written
    so) one request, its page printed whole, as the original does.  ``destination`` is the
    export's file (None: stdout)."""
    from ..commands import stored
    from ..commands.paging import cursor_pager

    ident = str(run.request.completion_id)

    def fetch(query: Sequence[tuple[str, Any]]) -> Any:
        if run.verb.resource == "chat:completions:messages":
            return stored.messages_page(run.invocation, ident, query, timeout=run.timeout)
        return stored.list_page(run.invocation, query, timeout=run.timeout)

    exporting = run.verb.name == "export"
    if run.parsed.get("format") == "raw" and not exporting:
        run.printer.document(text_of(fetch(run.request.query)))
        return
    tally = _Tally(run.parsed.get("max-items", -1))
    # An export must reach the list's end: a page that says there is more but gives nothing
    # to continue after is an error there, where a list stops as the SDK does.
    pages = cursor_pager(fetch, run.request.query).pages(to_the_end=exporting)
    if exporting:
        _export(pages, destination, run.printer, run.err, tally)
    else:
        _print_items(pages, run.printer, tally)


class _Tally:
    """What a list run delivered: how many items, and whether --max-items (negative: no cap)
    left some unfetched."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self.count = 0
        self.capped = False

    def full(self) -> bool:
        return self.max_items >= 0 and self.count >= self.max_items

    def receipt(self) -> str:
        if self.capped:
            return (
                f"Stored completions: {self.count}\n"
                f"Stopped at --max-items {self.max_items}; later items were not fetched.\n"
            )
        return f"Stored completions: {self.count}\nAll pages fetched.\n"


def _page_items(page: Page) -> list[str]:
    """The texts of a page's items as received (as parsed, re-encoded, when the page's text is
    not at hand or not one JSON document)."""
    import json

    from .jsontext import parse_or_none

    node = parse_or_none(text_of(page.raw))
    if node is not None and node.kind == "object":
        data = next((value for key, value in node.members if key == '"data"'), None)
        if data is not None and data.kind == "array" and len(data.items) == len(page.data):
            return [item.text for item in data.items]
    return [json.dumps(item, ensure_ascii=False) for item in page.data]


def _items(pages: Iterator[Page], tally: _Tally) -> Iterator[str]:
    """The items of every page (their JSON text), stopping after --max-items without fetching
    further pages; with 0 the first page is still requested, as in the official CLI.  Each id
    comes once: the page loop stops a list that goes back before any item of the page that
    does."""
    for page in pages:
        for item in _page_items(page):
            if tally.full():
                tally.capped = True
                return
            tally.count += 1
            yield item
        if tally.full():
            tally.capped = page.cursor is not None
            return


def _print_items(pages: Iterator[Page], printer: Printer, tally: _Tally) -> None:
    for item in _items(pages, tally):
        printer.document(item)


def export_destination(output: str | None) -> str | None:
    """The export's file (None: stdout); refused before anything is sent when it exists."""
    if output is None or output == "-":
        return None
    if not output.strip():
        raise _bad_output("", "it is empty (use - for stdout)")
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        raise _bad_output(output, "it names a folder; give a file name")
    if os.path.lexists(output):
        raise _bad_output(output, "the file exists (export writes a new file only)")
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise _bad_output(output, f"the folder {folder} does not exist")
    return output


def _bad_output(output: str, problem: str) -> UsageError:
    shown = f' "{output}"' if output else ""
    return UsageError(f"Incorrect Usage: invalid value{shown} for flag --output: {problem}")


def _export(
    pages: Iterator[Page], destination: str | None, printer: Printer, err: TextIO, tally: _Tally
) -> None:
    """JSON Lines of every item; a file is written beside its destination under a temporary
    name and moved into place only when every page has arrived, so a failure leaves no file."""
    from ..errors import PSOpenAIError

    if destination is None:
        _print_items(pages, Printer(printer.out, "jsonl"), tally)
        err.write(tally.receipt())
        return
    # The staging file is Export-ChatCompletion's: created inside the clean-up, locked while the
    # export runs, removed by the next export when a killed one left it.
    from ..commands.export_completion import StagedFile

    folder = os.path.dirname(os.path.abspath(destination))
    scrub: Callable[[str], str] = getattr(printer.out, "scrub", str)
    staged = StagedFile(destination)
    try:
        try:
            stream = staged.open()
        except OSError as exc:
            # Before the first request: nothing was sent.
            reason = exc.strerror or type(exc).__name__
            raise PSOpenAIError(f"Cannot write the export in {folder}: {reason}. Nothing was sent.") from None
        _print_items(pages, Printer(ScrubbedStream(stream, scrub), "jsonl"), tally)
        try:
            staged.publish()
        except FileExistsError:
            raise PSOpenAIError(
                f"{destination} was created by something else during the export; nothing was replaced."
            ) from None
    except BaseException:
        staged.discard()
        raise
    err.write(f"Saved {destination}\n" + tally.receipt())
