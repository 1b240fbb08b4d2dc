"""Running a parsed dialect command line over the core: settings, requests, output, errors.

Exit status as the official CLI's: 0 for success, help and version; 1 for a bad command line
(nothing is sent), an API error, a network error, a missing key or an output that cannot be
written (a standard output closed before the start is refused before anything is sent); 3 for
an unknown command word; 130 on Ctrl-C and 143 on SIGTERM, after the export's clean-up.  The
process shell is :mod:`psopenai_py.cli_shell`'s; the words and codes are this module's.  The
lists and the export are :mod:`.lists`', failures are reported by :mod:`.report`, and the help
is :mod:`.helptext`'s.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from .._version import __version__
from ..cli_shell import EXIT_TERMINATED, OutputError, Shell
from . import arguments, grammar
from .grammar import EXIT_FAILURE, EXIT_OK, EXIT_UNKNOWN_COMMAND, PROGRAM, Parsed, Verb
from .helptext import help_text
from .output import Printer, ScrubbedStream, text_of, visible
from .report import one_line, report, shown_usage, unkeyed

if TYPE_CHECKING:  # the core loads when a command runs, not for --help
    from .inputs import Request

__all__ = ["run", "Run", "EXIT_OK", "EXIT_FAILURE", "EXIT_UNKNOWN_COMMAND"]

DEFAULT_TIMEOUT = 600.0  # the SDK's, per attempt
DEFAULT_MAX_RETRIES = 2  # the official CLI's (through its Go SDK)
MISSING_KEY = (
    "Missing API key: pass --api-key, set OPENAI_API_KEY, or store one in the OS "
    "keyring with 'psopenai Set-OpenAISecret'."
)


def run(argv: Sequence[str], stdout: TextIO | None, stderr: TextIO | None, stdin: Any) -> int:
    """Run one dialect command line (:func:`psopenai_py.openai_cli.main`); returns the exit
    status.  Nothing here raises.  ``stdin`` is where piped YAML or JSON is read from (None:
    the process's standard input)."""
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
        problem = f'OPENAI_BASE_URL "{base}" is missing a scheme (expected http:// or https://)\n'
        err.write(unkeyed(problem, argv))
        return EXIT_FAILURE
    try:
        parsed = grammar.parse(argv)
    except grammar.UnknownCommand as exc:
        err.write(unkeyed(f"{exc}\n", argv))  # it quotes the word: a key pasted there is masked
        return EXIT_UNKNOWN_COMMAND
    except grammar.UsageError as exc:
        err.write(shown_usage(exc, argv))
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


def _run(parsed: Parsed, out: Any, err: Any, logs: _logging, stdin: Any, argv: Sequence[str]) -> int:
    from ..commands import stored
    from ..errors import MissingSettingError, PSOpenAIError
    from ..scrub import scrub
    from .inputs import InputError, Stdin, build
    from .lists import export_destination

    verb = parsed.verb
    assert verb is not None
    try:
        arguments.take_positionals(parsed)
        request = build(verb, parsed, Stdin(stdin))
        arguments.check_request(verb, parsed, request)
        destination = export_destination(parsed.get("output")) if verb.name == "export" else None
        invocation = stored.open_invocation(
            api_key=parsed.get("api-key"),
            base_url=parsed.get("base-url"),
            organization=parsed.get("organization"),
            max_retries=parsed.get("max-retries", DEFAULT_MAX_RETRIES),
            headers=arguments.request_headers(parsed),
            api_key_label="--api-key" if parsed.get("api-key") else "OPENAI_API_KEY",
        )
    except grammar.UsageError as exc:
        err.write(shown_usage(exc, argv))
        return EXIT_FAILURE
    except InputError as exc:
        err.write(unkeyed(f"{exc}\n", argv))
        return EXIT_FAILURE
    except MissingSettingError:
        err.write(MISSING_KEY + "\n")
        return EXIT_FAILURE
    except PSOpenAIError as exc:
        err.write(visible(one_line(str(exc))) + "\n")
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
    printer = Printer(
        out,
        parsed.get("format") or "auto",
        explicit=parsed.is_set("format"),
        transform=parsed.get("transform") or "",
        raw_output=bool(parsed.get("raw-output")),
        title=verb.title,
        err=err,
    )
    command = Run(verb, parsed, request, invocation, parsed.get("timeout", DEFAULT_TIMEOUT), printer, err)
    try:
        command.send(destination)
    except PSOpenAIError as exc:
        report(exc, parsed, out, err, invocation.settings.redact)
        return EXIT_FAILURE
    return EXIT_OK


@dataclass(frozen=True)
class Run:
    """One command line's run once its request is built and checked: the request, the
    invocation it goes through (settings resolved, transport), each attempt's timeout, and
    where the documents and the diagnostics go."""

    verb: Verb
    parsed: Parsed
    request: Request
    invocation: Any
    timeout: float
    printer: Printer
    err: Any

    def send(self, destination: str | None) -> None:
        """Make the command's request(s) and print the answer(s); ``destination`` is the
        export's file (None: stdout)."""
        from ..commands import stored

        verb, body, ident = self.verb, self.request.body, str(self.request.completion_id)
        invocation, timeout, document = self.invocation, self.timeout, self.printer.document
        if verb.resource == "chat:completions" and verb.name == "retrieve":
            document(text_of(stored.retrieve(invocation, ident, timeout=timeout)))
        elif verb.resource == "chat:completions" and verb.name == "delete":
            document(text_of(stored.delete(invocation, ident, timeout=timeout)))
        elif verb.resource == "chat:completions" and verb.name == "update":
            document(text_of(self._update(ident, body)))
        elif verb.name == "create" and isinstance(body, dict) and body.get("stream") is True:
            self._stream(body, self.parsed.get("max-items", -1))
        elif verb.name == "create":
            document(text_of(stored.create(invocation, body, timeout=timeout)))
        else:
            from .lists import list_items

            list_items(self, destination)

    def _stream(self, body: dict[str, Any], max_items: int) -> None:
        """``create --stream true``: each chunk printed as it comes, as one document of the
        format (``--max-items`` stops after as many; the connection is then let go)."""
        from ..commands import stored

        with stored.create_stream(self.invocation, body, timeout=self.timeout) as chunks:
            for count, chunk in enumerate(chunks):
                if 0 <= max_items <= count:
                    break
                # The original's event decoder ends each data line with a newline: raw shows it.
                self.printer.document(text_of(chunk) + "\n")

    def _update(self, ident: str, body: Any) -> Any:
        """``POST /chat/completions/{id}`` with the body as built (the metadata, or what was
        piped)."""
        from ..commands import stored

        if isinstance(body, dict) and set(body) == {"metadata"}:
            return stored.update(self.invocation, ident, body["metadata"], timeout=self.timeout)
        from ..transport import encode_path

        path = encode_path("chat/completions/{}", stored.check_text(ident, "completion_id"))
        answer = self.invocation.request("POST", path, body=body, timeout_override=self.timeout)
        return stored.check_object(answer, "a chat.completion")
