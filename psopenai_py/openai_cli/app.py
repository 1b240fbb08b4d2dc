"""Running a parsed dialect command line over the core: settings, requests, output, errors.

Exit status as the official CLI's: 0 for success, help and version; 1 for a bad command line
(nothing is sent), an API error, a network error, a missing key or an output that cannot be
written (a standard output closed before the start is refused before anything is sent); 3 for
an unknown command word; 130 on Ctrl-C and 143 on SIGTERM, after the export's clean-up.  The
process shell is :mod:`psopenai_py.cli_shell`'s; the words and codes are this module's.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .._version import __version__
from ..cli_shell import EXIT_TERMINATED, OutputError, Shell
from . import grammar
from .grammar import ERROR_FORMATS, GLOBAL_FLAGS, RESOURCES, VERBS, Flag, Parsed, Verb
from .output import Printer, ScrubbedStream, visible

if TYPE_CHECKING:  # the core loads when a command runs, not for --help
    from ..commands.paging import Page

__all__ = ["main", "EXIT_OK", "EXIT_FAILURE", "EXIT_UNKNOWN_COMMAND"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_UNKNOWN_COMMAND = 3
DEFAULT_TIMEOUT = 600.0  # the SDK's, per attempt
DEFAULT_MAX_RETRIES = 2  # the official CLI's (through its Go SDK)
MISSING_KEY = (
    "Missing API key: pass --api-key, set OPENAI_API_KEY, or store one in the OS "
    "keyring with 'psopenai Set-OpenAISecret'."
)


def main(argv: Sequence[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run one dialect command line; returns the exit status.  Nothing here raises."""
    shell = _DialectShell(stdout, stderr)
    return shell.run(lambda: _main(argv, shell))


class _DialectShell(Shell):
    """The process shell (:mod:`psopenai_py.cli_shell`), in the official CLI's words and codes."""

    closed_output_status = EXIT_FAILURE

    def interrupted_line(self, status: int) -> str:
        return "Terminated." if status == EXIT_TERMINATED else "Interrupted."

    def closed_output_line(self) -> str:
        return "psopenai: cannot write the output (standard output is closed); nothing was sent."

    def output_failed_line(self, failure: OutputError) -> str:
        # The reader went away (| head): stop quietly, as the official CLI does.
        return "" if failure.closed else f"psopenai: cannot write the output ({failure.reason})."

    def unexpected_line(self, exc: BaseException) -> str:
        # Only the class name: the message of an unforeseen error could quote a header.
        return f"psopenai: unexpected error ({type(exc).__name__}); nothing more is shown."


def _main(argv: Sequence[str], shell: Shell) -> int:
    err = shell.err
    try:
        parsed = grammar.parse(argv)
    except grammar.UnknownCommand as exc:
        err.write(f"{visible(str(exc))}\n")
        return EXIT_UNKNOWN_COMMAND
    except grammar.UsageError as exc:
        err.write(f"{visible(str(exc))}\n")
        return EXIT_FAILURE
    out = shell.output()  # refused here when closed: nothing could be reported
    if parsed.help or (parsed.verb is None and not parsed.version):
        out.write(help_text(parsed.resource, parsed.verb))
        out.flush()
        return EXIT_OK
    if parsed.version:
        out.write(f"psopenai version {__version__} (openai CLI dialect)\n")
        out.flush()
        return EXIT_OK
    with _logging(parsed, err) as logs, shell.stopping():
        try:
            return _run(parsed, out, err, logs)
        except OSError as exc:  # writing the export's file failed: an output, as stdout is
            raise OutputError(exc) from None


class _logging:
    """Debug lines to stderr with --debug (header values given with -H hidden); otherwise the
    package's warnings (retries) stay quiet, as the official CLI is."""

    def __init__(self, parsed: Parsed, err: TextIO) -> None:
        self.logger = logging.getLogger("psopenai_py")
        self.debug = bool(parsed.get("debug"))
        # A value is hidden where the header dump shows it ('Name': 'value'), and anywhere else
        # when it is long enough to be told apart from other text (a short one, such as "1",
        # would blank out every digit of the log).
        self.hidden: list[tuple[str, str]] = []
        for name, value in parsed.get("header") or []:
            if value:
                self.hidden.append((f"{name!r}: {value!r}", f"{name!r}: '********'"))
                if len(value) >= 6:
                    self.hidden.append((value, "********"))
        self.handler: logging.Handler = logging.StreamHandler(err) if self.debug else logging.NullHandler()
        self.level = self.logger.level

    def scrub_with(self, stream: Any) -> None:
        """Send the log lines through ``stream`` (the scrubbed stderr) from now on."""
        if isinstance(self.handler, logging.StreamHandler):
            self.handler.setStream(stream)

    def __enter__(self) -> _logging:
        hidden = self.hidden

        class _Hide(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                text = super().format(record)
                for shown, masked in hidden:
                    text = text.replace(shown, masked)
                return text

        self.handler.setFormatter(_Hide("%(levelname)s: %(message)s"))
        self.logger.addHandler(self.handler)
        if self.debug:
            self.logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)


def _run(parsed: Parsed, out: Any, err: Any, logs: _logging) -> int:
    from ..commands import stored
    from ..errors import MissingSettingError, PSOpenAIError

    verb = parsed.verb
    assert verb is not None
    error_format = parsed.get("format-error") or "auto"
    try:
        request = _checked_request(parsed, verb)  # every value checked before any lookup
        invocation = stored.open_invocation(
            api_key=parsed.get("api-key"),
            base_url=parsed.get("base-url"),
            organization=parsed.get("organization"),
            max_retries=parsed.get("max-retries", DEFAULT_MAX_RETRIES),
            headers=_headers(parsed),
            api_key_label="--api-key" if parsed.get("api-key") else "OPENAI_API_KEY",
        )
    except grammar.UsageError as exc:
        err.write(f"{visible(str(exc))}\n")
        return EXIT_FAILURE
    except MissingSettingError:
        _report(err, out, error_format, MISSING_KEY, None)
        return EXIT_FAILURE
    except PSOpenAIError as exc:
        _report(err, out, error_format, _one_line(str(exc)), None)
        return EXIT_FAILURE
    # From here on every line written may quote the server, which may echo the key whole,
    # JSON-escaped or in part: all of it goes through the key scrubber.
    # (A base URL with user-info never gets this far: the settings refuse it.)
    scrub = stored.KeyScrubber(invocation.settings.api_key)
    out, err = ScrubbedStream(out, scrub.data), ScrubbedStream(err, scrub)  # data, diagnostics
    logs.scrub_with(err)
    timeout = parsed.get("timeout", DEFAULT_TIMEOUT)
    printer = Printer(out, parsed.get("format") or "auto")
    try:
        request(invocation, timeout, printer, err)
    except PSOpenAIError as exc:
        line, body = _describe(exc, invocation.settings.redact)
        _report(err, out, error_format, line, body)
        return EXIT_FAILURE
    return EXIT_OK


_Request = Callable[[Any, float, Printer, TextIO], None]


def _headers(parsed: Parsed) -> dict[str, str]:
    """The -H headers (the last of a name wins), with OpenAI-Project from --project or
    OPENAI_PROJECT_ID unless a -H names it (each value checked by the grammar, or here)."""
    from .. import checks

    headers: dict[str, str] = {}
    for name, value in parsed.get("header") or []:
        for known in [k for k in headers if k.lower() == name.lower()]:
            del headers[known]
        headers[name] = value
    project = parsed.get("project") or os.environ.get("OPENAI_PROJECT_ID") or None
    if project and not any(k.lower() == "openai-project" for k in headers):
        try:
            headers["OpenAI-Project"] = checks.header_value(project, "The project id")
        except checks.Invalid as exc:  # only the environment's can fail: --project is checked
            raise grammar.UsageError(f"OPENAI_PROJECT_ID: {exc.problem}") from None
    return headers


def _metadata(parsed: Parsed) -> dict[str, str] | None:
    """--metadata checked (:func:`psopenai_py.checks.metadata`); null (or none given) passes:
    an update with null clears the metadata."""
    from .. import checks

    value = parsed.get("metadata")
    if value is None:
        return None
    try:
        hint = _metadata_hint(value)
        if hint:
            raise checks.Invalid(hint)
        return checks.metadata(value)
    except checks.Invalid as exc:
        raise grammar.UsageError(
            f"Incorrect Usage: invalid value for flag --metadata: {exc.problem.rstrip('.')}"
        ) from None


def _metadata_hint(value: dict[str, Any]) -> str | None:
    """What to write instead, for the YAML values that are not strings."""
    from .flow import dumps_compact

    for key, item in value.items():
        if item is None and ":" in key:
            left, _, right = key.partition(":")
            return f"the key '{key}' has no value; write '{{{left}: {right}}}' (a space after the colon)"
        if item is None:
            return (
                f"the value of key '{key}' is null; metadata values are strings. An update "
                "replaces the whole metadata: leave a key out to remove it, or pass null to clear all"
            )
        if isinstance(item, (bool, int, float)):
            text = dumps_compact(item)
            return (
                f"the value of key '{key}' is the {'boolean' if isinstance(item, bool) else 'number'} "
                f"{text}; metadata values are strings: quote it, '{{{key}: \"{text}\"}}'"
            )
        if isinstance(item, (dict, list)):
            kind = "a mapping" if isinstance(item, dict) else "a list"
            return f"the value of key '{key}' is {kind}; metadata values are strings"
    return None


def _list_query(parsed: Parsed, *, filters: bool) -> list[tuple[str, Any]]:
    """Only the flags the user set, in the SDK's order (after, limit, metadata, model, order)."""
    query: list[tuple[str, Any]] = []
    for name in ("after", "limit"):
        if parsed.get(name) is not None:
            query.append((name, parsed.get(name)))
    if filters:
        query += [(f"metadata[{k}]", v) for k, v in (_metadata(parsed) or {}).items()]
        if parsed.get("model") is not None:
            query.append(("model", parsed.get("model")))
    if parsed.get("order") is not None:
        query.append(("order", parsed.get("order")))
    return query


def _checked_request(parsed: Parsed, verb: Verb) -> _Request:
    """Check the verb's values and return what sends it (called after the settings)."""
    from ..commands import stored

    ident = parsed.get("completion-id")
    if verb.resource == "chat:completions:messages":
        return _list_request(parsed, verb, ident)
    if verb.name == "retrieve":
        return lambda inv, t, printer, err: printer.document(stored.retrieve(inv, ident, timeout=t))
    if verb.name == "delete":
        return lambda inv, t, printer, err: printer.document(stored.delete(inv, ident, timeout=t))
    if verb.name == "update":
        metadata = _metadata(parsed)
        return lambda inv, t, printer, err: printer.document(stored.update(inv, ident, metadata, timeout=t))
    if verb.name == "create":
        body = _create_body(parsed)
        return lambda inv, t, printer, err: printer.document(stored.create(inv, body, timeout=t))
    return _list_request(parsed, verb, ident)


def _create_body(parsed: Parsed) -> dict[str, Any]:
    messages = list(parsed.get("messages") or [])
    for group in parsed.get("message") or []:
        messages.extend(group)
    if not messages:
        raise grammar.UsageError(
            'Required flag "message" not set. Run \'psopenai '
            "chat:completions create --help' for usage information."
        )
    body: dict[str, Any] = {"messages": messages, "model": parsed.get("model")}
    # The rest by name, as the SDK orders them; only what was given is sent.
    for name, value in (
        ("max_completion_tokens", parsed.get("max-completion-tokens")),
        ("metadata", _metadata(parsed)),
        ("store", parsed.get("store")),
        ("temperature", parsed.get("temperature")),
    ):
        if value is not None:
            body[name] = value
    return body


def _list_request(parsed: Parsed, verb: Verb, ident: Any) -> _Request:
    """``list``, ``messages list`` or ``export``: the values checked now; when sent, every page
    through the one page loop by the SDK's rule (the query as given, then ``after=<last id>``)."""
    from ..commands import stored
    from ..commands.paging import cursor_pager

    messages = verb.resource == "chat:completions:messages"
    query = _list_query(parsed, filters=not messages)
    exporting = verb.name == "export"
    destination = _export_destination(parsed.get("output")) if exporting else None
    max_items = parsed.get("max-items", -1)

    def send(invocation: Any, timeout: float, printer: Printer, err: TextIO) -> None:
        tally = _Tally(max_items)

        def fetch(q: Sequence[tuple[str, Any]]) -> Any:
            if messages:
                return stored.messages_page(invocation, ident, q, timeout=timeout)
            return stored.list_page(invocation, q, timeout=timeout)

        # An export must reach the list's end: a page that says there is more but gives nothing
        # to continue after is an error there, where a list stops as the SDK does.
        pages = cursor_pager(fetch, query).pages(to_the_end=exporting)
        if exporting:
            _export(pages, destination, printer, err, tally)
        else:
            _print_items(pages, printer, tally)

    return send


class _Tally:
    """What a list run delivered: how many items, and whether --max-items (-1: no cap) left
    some unfetched."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self.count = 0
        self.capped = False

    def full(self) -> bool:
        return self.max_items != -1 and self.count >= self.max_items

    def receipt(self) -> str:
        if self.capped:
            return (
                f"Stored completions: {self.count}\n"
                f"Stopped at --max-items {self.max_items}; later items were not fetched.\n"
            )
        return f"Stored completions: {self.count}\nAll pages fetched.\n"


def _items(pages: Iterator[Page], tally: _Tally) -> Iterator[Any]:
    """The items of every page, stopping after --max-items without fetching further pages; with
    0 the first page is still requested, as in the official CLI.  Each id comes once: the page
    loop stops a list that goes back before any item of the page that does."""
    for page in pages:
        for item in page.data:
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


def _export_destination(output: str | None) -> str | None:
    """The export's file (None: stdout); refused before anything is sent when it exists."""
    if output in (None, "-"):
        return None
    assert output is not None
    if not output.strip():
        raise grammar.UsageError(
            "Incorrect Usage: invalid value for flag --output: it is empty (use - for stdout)"
        )
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        raise grammar.UsageError(
            f'Incorrect Usage: invalid value "{output}" for flag --output: '
            "it names a folder; give a file name"
        )
    if os.path.lexists(output):
        raise grammar.UsageError(
            f'Incorrect Usage: invalid value "{output}" for flag '
            "--output: the file exists (export writes a new file only)"
        )
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise grammar.UsageError(
            f'Incorrect Usage: invalid value "{output}" for flag --output: the folder {folder} does not exist'
        )
    return output


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


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _describe(exc: Exception, redact: Callable[[str], str]) -> tuple[str, Any]:
    """The one-line summary and the error object of a failure (already free of keys)."""
    from ..errors import APIConnectionException, APIRequestException, InvalidResponseException

    if (
        isinstance(exc, APIRequestException)
        and not isinstance(exc, (APIConnectionException, InvalidResponseException))
        and exc.response is not None
        and exc.status_code
    ):
        request = getattr(exc.response, "request", None)
        method = getattr(request, "method", "") or ""
        url = getattr(request, "url", "") or ""
        content = exc.content if isinstance(exc.content, Mapping) else {}
        error = content.get("error") if isinstance(content.get("error"), Mapping) else None
        detail = error.get("message") if error else None
        line = f'{method} "{url}": {exc.status_code} {exc.response.reason or ""}'.rstrip()
        if detail:
            line += f": {detail}"
        return redact(_one_line(line)), error
    return redact(_one_line(str(exc))), None


def _report(err: Any, out: Any, error_format: str, line: str, body: Any) -> None:
    err.write(visible(line) + "\n")
    err.flush()
    if error_format == "json":
        # Through a Printer: a legacy code page gets escapes rather than an encoding error.
        Printer(out, "json").document(body if body is not None else {"message": line})


# -- help ---------------------------------------------------------------------------------------


def _flag_lines(flags: Sequence[Flag]) -> list[str]:
    rows = []
    for flag in flags:
        names = f"--{flag.name}" + (f", -{flag.short}" if flag.short else "")
        if flag.takes_value:
            names += " " + ("value" if flag.kind in ("string", "url", "header") else flag.kind)
        text = flag.help + (" (required)" if flag.required else "")
        rows.append((names, text))
    width = max(len(n) for n, _ in rows)
    return [f"  {n:<{width}}  {t}" for n, t in rows]


def help_text(resource: str | None, verb: Verb | None) -> str:
    """The help of the dialect, a resource or one command; no key or network involved."""
    lines: list[str] = []
    if verb is not None:
        takes = " [ID]" if verb.takes_id else ""
        spaced = verb.resource.replace(":", " ")
        lines += [
            f"psopenai {verb.resource} {verb.name}: {verb.summary}",
            "",
            f"usage: psopenai {verb.resource} {verb.name} [flags]{takes}",
            f"       psopenai {spaced} {verb.name} [flags]{takes}",
            "",
            "flags:",
        ]
        lines += _flag_lines(verb.flags)
    else:
        lines += [
            "psopenai chat:completions: stored chat completions, in the openai CLI's words",
            "",
            "usage: psopenai [global flags] chat:completions <command> [flags] [ID]",
            "       psopenai chat completions <command> [flags] [ID]   (the same)",
            "",
            "commands:",
        ]
        shown = [
            (f"{v.resource} {v.name}", v.summary)
            for v in VERBS
            if resource in (None, "chat:completions") or v.resource == resource
        ]
        width = max(len(n) for n, _ in shown)
        lines += [f"  {n:<{width}}  {s}" for n, s in shown]
        lines += ["", "resources: " + "; ".join(f"{k} ({v})" for k, v in RESOURCES.items())]
        lines += ["", "Run 'psopenai chat:completions <command> --help' for a command's flags."]
    lines += ["", "global flags (anywhere on the line):"]
    lines += _flag_lines(GLOBAL_FLAGS)
    lines += [
        "",
        "Output: --format auto|json|jsonl|pretty|text (auto is text). Errors: one line "
        "on stderr; --format-error json also writes the API's error object to stdout.",
        f"Exit status: {EXIT_OK} success, {EXIT_FAILURE} failure or bad command line "
        f"(nothing sent), {EXIT_UNKNOWN_COMMAND} unknown command.",
        f"Error formats: {', '.join(ERROR_FORMATS)}.",
        "",
    ]
    return "\n".join(lines)
