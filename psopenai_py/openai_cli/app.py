"""Running a parsed dialect command line over the core: settings, requests, output, errors.

Exit status as the official CLI's: 0 for success, help and version; 1 for a bad command line
(nothing is sent), an API error, a network error, a missing key or an output that cannot be
written (a standard output closed before the start is refused before anything is sent); 3 for
an unknown command word; 130 on Ctrl-C and 143 on SIGTERM, after the export's clean-up.  The
process shell is :mod:`psopenai_py.cli_shell`'s; the words and codes are this module's.

An API error prints as the original prints it: ``GET "<url>": 404 Not Found`` on stderr, and the
body's ``error`` object on stdout in ``--format-error`` (after ``--transform-error``).
"""

from __future__ import annotations

import http
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .._version import __version__
from ..cli_shell import EXIT_TERMINATED, OutputError, Shell
from . import arguments, grammar
from .flag_values import go_quoted
from .grammar import PROGRAM, RESOURCES, ROOT_FLAGS, VERBS, Flag, Parsed, Verb
from .output import Printer, ScrubbedStream, visible

if TYPE_CHECKING:  # the core loads when a command runs, not for --help
    from ..commands.paging import Page
    from .inputs import Request

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
# Go's http.StatusText for the statuses an API answers with (the original's error line).
_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def main(
    argv: Sequence[str],
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: Any = None,
) -> int:
    """Run one dialect command line; returns the exit status.  Nothing here raises.

    ``stdin`` is where piped YAML or JSON is read from (default: the process's standard input).
    """
    shell = _DialectShell(stdout, stderr)
    source = stdin if stdin is not None else sys.stdin
    return shell.run(lambda: _main(argv, shell, source))


class _DialectShell(Shell):
    """The process shell (:mod:`psopenai_py.cli_shell`), in the official CLI's words and codes;
    output in UTF-8 whatever the locale, as the original writes it."""

    closed_output_status = EXIT_FAILURE

    def __init__(self, stdout: TextIO | None, stderr: TextIO | None) -> None:
        super().__init__(stdout, stderr, utf8=True)

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


def _main(argv: Sequence[str], shell: Shell, stdin: Any) -> int:
    err = shell.err
    base = os.environ.get("OPENAI_BASE_URL")
    if base and not base.startswith(("http://", "https://")):
        # Checked before anything else, even --help, as the original checks it.
        err.write(f'OPENAI_BASE_URL "{visible(base)}" is missing a scheme (expected http:// or https://)\n')
        return EXIT_FAILURE
    try:
        parsed = grammar.parse(argv)
    except grammar.UnknownCommand as exc:
        err.write(f"{visible(str(exc))}\n")
        return EXIT_UNKNOWN_COMMAND
    except grammar.UsageError as exc:
        err.write(_shown_usage(exc, argv))
        if exc.root_help:
            out = shell.output()
            out.write(help_text(None, None))
            out.flush()
        return EXIT_FAILURE
    out = shell.output()  # refused here when closed: nothing could be reported
    if parsed.help_for is not None:
        out.write(help_text(*parsed.help_for))
        out.flush()
        return EXIT_OK
    if parsed.version:
        out.write(f"{PROGRAM} version {__version__} (openai CLI dialect)\n")
        out.flush()
        return EXIT_OK
    with _logging(parsed, err) as logs, shell.stopping():
        try:
            return _run(parsed, out, err, logs, stdin, argv)
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


def _secret(parsed: Parsed, name: str, environment: str) -> str | None:
    return parsed.get(name) or os.environ.get(environment) or None


_SECRET_FLAG = re.compile(r"--?(api-key|admin-api-key|webhook-secret)(?:=(.*))?", re.DOTALL)
_SECRET_ENVIRONMENT = ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "OPENAI_WEBHOOK_SECRET")


def _shown_usage(exc: grammar.UsageError, argv: Sequence[str]) -> str:
    """A usage error as written: controls escaped, and no key of the command line or the
    environment in it, whole or in part (a message quotes the value it refuses, and a key may
    have been typed into the wrong flag)."""
    return _unkeyed(exc.lines(), argv)


def _unkeyed(text: str, argv: Sequence[str]) -> str:
    """``text`` with controls escaped and every key of the command line or the environment (and
    anything shaped like a key) taken out, for a message written before the settings are
    resolved."""
    from ..scrub import scrub

    secrets: list[str] = [value for name in _SECRET_ENVIRONMENT if (value := os.environ.get(name))]
    words = list(argv)
    for position, word in enumerate(words):
        match = _SECRET_FLAG.fullmatch(word)
        if match and match.group(2):
            secrets.append(match.group(2))
        elif match and position + 1 < len(words):
            secrets.append(words[position + 1])
        secrets += arguments.KEY_SHAPED.findall(word)
    return arguments.KEY_SHAPED.sub("sk-********", scrub(visible(text), secrets))


def _run(parsed: Parsed, out: Any, err: Any, logs: _logging, stdin: Any, argv: Sequence[str]) -> int:
    from ..commands import stored
    from ..errors import MissingSettingError, PSOpenAIError
    from ..scrub import scrub
    from .inputs import InputError, Stdin, build

    verb = parsed.verb
    assert verb is not None
    try:
        arguments.take_positionals(parsed)
        request = build(verb, parsed, Stdin(stdin))
        _check_request(verb, parsed, request)
        destination = _export_destination(parsed.get("output")) if verb.name == "export" else None
        invocation = stored.open_invocation(
            api_key=parsed.get("api-key"),
            base_url=parsed.get("base-url"),
            organization=parsed.get("organization"),
            max_retries=parsed.get("max-retries", DEFAULT_MAX_RETRIES),
            headers=_headers(parsed),
            api_key_label="--api-key" if parsed.get("api-key") else "OPENAI_API_KEY",
        )
    except grammar.UsageError as exc:
        err.write(_shown_usage(exc, argv))
        return EXIT_FAILURE
    except InputError as exc:
        err.write(_unkeyed(f"{exc}\n", argv))
        return EXIT_FAILURE
    except MissingSettingError:
        err.write(MISSING_KEY + "\n")
        return EXIT_FAILURE
    except PSOpenAIError as exc:
        err.write(visible(_one_line(str(exc))) + "\n")
        return EXIT_FAILURE
    # From here on every line written may quote the server, which may echo a secret whole,
    # JSON-escaped or in part: all of it goes through the scrubber, with every secret of the
    # command line in play (the admin key and webhook secret are never sent, never shown).
    # (A base URL with user-info never gets this far: the settings refuse it.)
    from ..scrub import scrub_data

    secrets = (
        invocation.settings.api_key,
        _secret(parsed, "admin-api-key", "OPENAI_ADMIN_KEY"),
        _secret(parsed, "webhook-secret", "OPENAI_WEBHOOK_SECRET"),
    )
    out, err = (  # stdout carries data, stderr diagnostics (scrub.py's contract)
        ScrubbedStream(out, lambda t: scrub_data(t, secrets)),
        ScrubbedStream(err, lambda t: scrub(t, secrets)),
    )
    logs.scrub_with(err)
    timeout = parsed.get("timeout", DEFAULT_TIMEOUT)
    fmt = parsed.get("format") or "auto"
    printer = Printer(
        out,
        fmt,
        explicit=parsed.is_set("format"),
        transform=parsed.get("transform") or "",
        raw_output=bool(parsed.get("raw-output")),
        title=verb.title,
        err=err,
    )
    try:
        _send(verb, parsed, request, invocation, timeout, printer, err, destination)
    except PSOpenAIError as exc:
        _report(exc, parsed, out, err, invocation.settings.redact)
        return EXIT_FAILURE
    return EXIT_OK


def _check_request(verb: Verb, parsed: Parsed, request: Request) -> None:
    """The checks psopenai keeps where the original leaves them to the server: a completion id
    that could not name one, metadata values that are no strings (the message says what to
    write), and the mutual-TLS flags, which it does not support.  Nothing is sent."""
    from .. import checks

    for name in ("mtls-client-cert-file", "mtls-client-key-file"):
        if parsed.get(name) or os.environ.get(f"OPENAI_{name.upper().replace('-', '_')}"):
            raise grammar.UsageError(
                f"Incorrect Usage: --{name} (mutual TLS) is not supported by {PROGRAM}; nothing was sent"
            )
    from . import transform

    for name in ("transform", "transform-error"):
        if parsed.get(name):
            try:
                transform.check(parsed.get(name))
            except transform.PathError as exc:
                shown = go_quoted(parsed.get(name))
                raise grammar.UsageError(
                    f"Incorrect Usage: invalid value {shown} for flag --{name}: {exc} "
                    "(psopenai evaluates GJSON paths itself)"
                ) from None
    for name in ("organization", "project"):
        if parsed.get(name):
            try:
                checks.header_value(parsed.get(name), f"The {name} id")
            except checks.Invalid as exc:
                raise grammar.UsageError(
                    f"Incorrect Usage: invalid value for flag --{name}: {exc.problem.rstrip('.')}"
                ) from None
    if request.completion_id is not None:
        try:
            checks.completion_id(request.completion_id, "The id")
        except checks.Invalid as exc:
            raise grammar.UsageError(
                f"Incorrect Usage: invalid value for flag --completion-id: {exc.problem.rstrip('.')}"
            ) from None
    if verb.name in ("update", "create") and isinstance(request.body, dict) and "metadata" in request.body:
        request.body["metadata"] = _metadata(request.body["metadata"], allow_null=verb.name == "update")
    if verb.lists and parsed.is_set("metadata"):
        _metadata(parsed.get("metadata"), allow_null=True)


def _headers(parsed: Parsed) -> dict[str, str]:
    """The -H headers (the last of a name wins), with OpenAI-Project from --project or
    OPENAI_PROJECT_ID unless a -H names it (each value checked)."""
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
        except checks.Invalid as exc:
            source = "--project" if parsed.get("project") else "OPENAI_PROJECT_ID"
            raise grammar.UsageError(
                f"Incorrect Usage: invalid value for {source}: {exc.problem.rstrip('.')}"
            ) from None
    return headers


def _metadata(value: Any, *, allow_null: bool) -> Any:
    """Metadata checked (:func:`psopenai_py.checks.metadata`): strings only, with what to write
    instead; null passes where it clears (an update)."""
    from .. import checks

    if value is None:
        if allow_null:
            return None
        raise grammar.UsageError("Incorrect Usage: invalid value for flag --metadata: it is null")
    try:
        if not isinstance(value, Mapping):
            raise checks.Invalid("expected a mapping such as '{team: ops}'")
        hint = _metadata_hint(value)
        if hint:
            raise checks.Invalid(hint)
        return checks.metadata(value)
    except checks.Invalid as exc:
        raise grammar.UsageError(
            f"Incorrect Usage: invalid value for flag --metadata: {exc.problem.rstrip('.')}"
        ) from None


def _metadata_hint(value: Mapping[str, Any]) -> str | None:
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


def _text_of(answer: Any) -> str:
    """An answer's JSON as received (the transport keeps its body), or as parsed when none."""
    import json

    body = getattr(answer, "body", None)
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return json.dumps(answer, ensure_ascii=False)


def _send(
    verb: Verb,
    parsed: Parsed,
    request: Request,
    invocation: Any,
    timeout: float,
    printer: Printer,
    err: Any,
    destination: str | None,
) -> None:
    from ..commands import stored

    ident = request.completion_id
    if verb.resource == "chat:completions" and verb.name == "retrieve":
        printer.document(_text_of(stored.retrieve(invocation, str(ident), timeout=timeout)))
    elif verb.resource == "chat:completions" and verb.name == "delete":
        printer.document(_text_of(stored.delete(invocation, str(ident), timeout=timeout)))
    elif verb.resource == "chat:completions" and verb.name == "update":
        printer.document(_text_of(_update(invocation, str(ident), request.body, timeout)))
    elif verb.name == "create" and isinstance(request.body, dict) and request.body.get("stream") is True:
        _stream(request.body, invocation, timeout, printer, parsed.get("max-items", -1))
    elif verb.name == "create":
        printer.document(_text_of(stored.create(invocation, request.body, timeout=timeout)))
    else:
        _list(verb, parsed, request, invocation, timeout, printer, err, destination)


def _stream(body: dict[str, Any], invocation: Any, timeout: float, printer: Printer, max_items: int) -> None:
    """``create --stream true``: each chunk printed as it comes, as one document of the format
    (``--max-items`` stops after as many; the connection is then let go)."""
    from ..commands import stored

    with stored.create_stream(invocation, body, timeout=timeout) as chunks:
        for count, chunk in enumerate(chunks):
            if 0 <= max_items <= count:
                break
            # The original's event decoder ends each data line with a newline: raw shows it.
            printer.document(_text_of(chunk) + "\n")


def _update(invocation: Any, ident: str, body: Any, timeout: float) -> Any:
    """``POST /chat/completions/{id}`` with the body as built (the metadata, or what was piped)."""
    from ..commands import stored

    if isinstance(body, dict) and set(body) == {"metadata"}:
        return stored.update(invocation, ident, body["metadata"], timeout=timeout)
    from ..transport import encode_path

    path = encode_path("chat/completions/{}", stored.check_text(ident, "completion_id"))
    answer = invocation.request("POST", path, body=body, timeout_override=timeout)
    return stored.check_object(answer, "a chat.completion")


def _list(
    verb: Verb,
    parsed: Parsed,
    request: Request,
    invocation: Any,
    timeout: float,
    printer: Printer,
    err: Any,
    destination: str | None,
) -> None:
    """``list``, ``messages list`` or ``export``: every page through the one page loop by the
    SDK's rule (the query as given, then ``after=<last id>``); with ``--format raw`` (written
    so) one request, its page printed whole, as the original does."""
    from ..commands import stored
    from ..commands.paging import cursor_pager

    messages = verb.resource == "chat:completions:messages"
    ident = request.completion_id

    def fetch(query: Sequence[tuple[str, Any]]) -> Any:
        if messages:
            return stored.messages_page(invocation, str(ident), query, timeout=timeout)
        return stored.list_page(invocation, query, timeout=timeout)

    exporting = verb.name == "export"
    if parsed.get("format") == "raw" and not exporting:
        printer.document(_text_of(fetch(request.query)))
        return
    tally = _Tally(parsed.get("max-items", -1))
    # An export must reach the list's end: a page that says there is more but gives nothing
    # to continue after is an error there, where a list stops as the SDK does.
    pages = cursor_pager(fetch, request.query).pages(to_the_end=exporting)
    if exporting:
        _export(pages, destination, printer, err, tally)
    else:
        _print_items(pages, printer, tally)


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

    node = parse_or_none(_text_of(page.raw))
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


def _report(exc: Exception, parsed: Parsed, out: Any, err: Any, redact: Callable[[str], str]) -> None:
    """A failure, as the original reports it: for an API error the request and status on
    stderr and the body's ``error`` object on stdout (``--format-error``, ``--transform-error``);
    for any other failure one line on stderr."""
    from ..errors import APIConnectionException, APIRequestException, InvalidResponseException
    from .jsontext import parse_or_none

    if not (
        isinstance(exc, APIRequestException)
        and not isinstance(exc, (APIConnectionException, InvalidResponseException))
        and exc.response is not None
        and exc.status_code
    ):
        err.write(visible(redact(_one_line(str(exc)))) + "\n")
        err.flush()
        return
    request = getattr(exc.response, "request", None)
    method = str(getattr(request, "method", "") or "").upper()
    url = redact(str(getattr(request, "url", "") or ""))
    status = int(exc.status_code)
    reason = _STATUS_TEXT.get(status) or _phrase(status)
    err.write(visible(f"{method} {go_quoted(url)}: {status} {reason}") + "\n")
    err.flush()
    body = getattr(exc.response, "content", b"") or b""
    node = parse_or_none(body.decode("utf-8", "replace")) if isinstance(body, bytes) else None
    error = None
    if node is not None and node.kind == "object":
        error = next((value for key, value in node.members if key == '"error"'), None)
    if error is None:
        return  # no error object: nothing for stdout, as the original prints nothing then
    printer = Printer(
        out,
        parsed.get("format-error") or "auto",
        explicit=parsed.is_set("format-error"),
        transform=parsed.get("transform-error") or "",
        title="Error",
        err=err,
    )
    printer.document(error.text)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


# -- help ---------------------------------------------------------------------------------------


def _value_word(flag: Flag) -> str:
    return {
        "switch": "",
        "int": "int",
        "int?": "int|null",
        "float": "number",
        "float?": "number|null",
        "bool?": "true|false|null",
        "string?": "string|null",
        "map": "yaml",
        "objects": "yaml",
        "any": "yaml",
        "format": "format",
        "url": "url",
        "header": "'Name: Value'",
        "retries": "n",
        "seconds": "seconds",
    }.get(flag.kind, "string")


def _flag_lines(flags: Sequence[Flag]) -> list[str]:
    rows = []
    for flag in flags:
        names = f"--{flag.name}" + (f", -{flag.short}" if flag.short else "")
        word = _value_word(flag)
        if word:
            names += f" {word}"
        notes = []
        if flag.required:
            notes.append("required")
        if flag.repeatable:
            notes.append("repeatable")
        if flag.default is not None and flag.kind not in ("format",):
            shown = (
                {True: "true", False: "false"}.get(flag.default, flag.default)
                if isinstance(flag.default, bool)
                else flag.default
            )
            notes.append(f"API default {shown}")
        if flag.environment:
            notes.append(f"env {flag.environment}")
        text = flag.help + (f" ({'; '.join(notes)})" if notes else "")
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
            f"{PROGRAM} {verb.title}: {verb.summary}",
            "",
            f"usage: {PROGRAM} {verb.title} [flags]{takes}",
            f"       {PROGRAM} {spaced} {verb.name} [flags]{takes}",
            "",
            "flags (yaml: a YAML or JSON value; @file embeds a file; piped YAML/JSON fills what is unset):",
        ]
        lines += _flag_lines(verb.flags)
    else:
        lines += [
            f"{PROGRAM} chat:completions: stored chat completions, in the openai CLI's words",
            "",
            f"usage: {PROGRAM} [root flags] chat:completions <command> [flags] [ID]",
            f"       {PROGRAM} chat completions <command> [flags] [ID]   (the same)",
            "",
            "commands:",
        ]
        shown = [
            (v.title, v.summary)
            for v in VERBS
            if resource in (None, "chat:completions") or v.resource == resource
        ]
        width = max(len(n) for n, _ in shown)
        lines += [f"  {n:<{width}}  {s}" for n, s in shown]
        lines += ["", "resources: " + "; ".join(f"{k} ({v})" for k, v in RESOURCES.items())]
        lines += ["", f"Run '{PROGRAM} chat:completions <command> --help' for a command's flags."]
    lines += ["", "root flags (anywhere on the line):"]
    lines += _flag_lines([f for f in ROOT_FLAGS])
    lines += [
        "",
        "Output: --format auto (indented JSON; colour on a terminal), json, jsonl, raw (as received),",
        "yaml, pretty (a readable box), explore (JSON here). --transform takes a GJSON path",
        "(choices.0.message.content, data.#.id, metadata.team); -r prints a string bare.",
        "An API error: the request and status on stderr, the error object on stdout",
        "(--format-error, --transform-error).",
        f"Exit status: {EXIT_OK} success, {EXIT_FAILURE} failure or bad command line "
        f"(nothing sent), {EXIT_UNKNOWN_COMMAND} unknown command.",
        "",
    ]
    return "\n".join(lines)
