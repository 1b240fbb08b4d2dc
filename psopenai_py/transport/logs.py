"""What the transport writes to the log, as PSOpenAI's -Verbose (INFO) and -Debug (DEBUG) show a
request and its answer.  Every line goes through the settings' redaction, and credential headers
are masked by name, so no key reaches a log record."""

from __future__ import annotations

import logging

import requests

from ..settings import Settings
from .wire import masked_headers

__all__ = ["log", "log_request", "log_response", "DEBUG_BODY_LIMIT"]

log = logging.getLogger("psopenai_py")

DEBUG_BODY_LIMIT = 32768
"""The longest body text a DEBUG line shows; the rest is cut with a marker."""


def log_request(settings: Settings, prepared: requests.PreparedRequest, *, streaming: bool = False) -> None:
    """-Verbose: the request's method and URL (and ``Streaming = True`` for a stream, as the
    original says it); -Debug: its headers (credentials masked) and body."""
    debug = log.isEnabledFor(logging.DEBUG)
    if not (debug or log.isEnabledFor(logging.INFO)):  # -Debug alone shows the debug lines
        return
    log.info("Request to %s API", settings.service)
    line = f"Method = {str(prepared.method).capitalize()}, Path = {prepared.url}"
    log.info("%s", settings.redact(line + (", Streaming = True" if streaming else "")))
    if debug:
        shown = masked_headers(prepared.headers)
        log.debug(
            "%s",
            settings.redact(
                f"Request parameters: Method = {prepared.method}, Uri = {prepared.url}, Headers = {shown}"
            ),
        )
        if prepared.body is not None:
            body = prepared.body.decode("utf-8") if isinstance(prepared.body, bytes) else str(prepared.body)
            log.debug("%s", settings.redact("Post body: " + _truncate(body)))


def log_response(settings: Settings, response: requests.Response, *, streamed: bool = False) -> None:
    """-Verbose: the answer's status and request id; -Debug: its headers and body (a streamed
    answer's body is not read here: its events are logged one by one as they come)."""
    debug = log.isEnabledFor(logging.DEBUG)
    if not (debug or log.isEnabledFor(logging.INFO)):
        return
    log.info(
        "%s API response: StatusCode = %d, processing_ms = %s, request_id = %s",
        settings.service,
        response.status_code,
        response.headers.get("openai-processing-ms"),
        response.headers.get("x-request-id"),
    )
    if debug:
        log.debug("%s", settings.redact(f"API response header: {dict(response.headers)}"))
        if streamed:
            return
        text = response.content[: DEBUG_BODY_LIMIT * 4].decode("utf-8", "replace")
        log.debug("%s", settings.redact("API response body: " + _truncate(text)))


def _truncate(text: str) -> str:
    if len(text) > DEBUG_BODY_LIMIT:
        return text[:DEBUG_BODY_LIMIT] + " ...<truncated>"
    return text
