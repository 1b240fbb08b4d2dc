"""Every exception the package raises, and the one place a response becomes an exception.

Two trees, each as its users know it:

- PSOpenAI's, for the PowerShell commands and the Python functions: all API failures derive from
  :class:`APIRequestException`, and the class is chosen from the status code and the body's
  ``error`` object (:func:`exception_from_response`), with PSOpenAI's messages;
- the official SDK's, for the SDK-shaped client (``psopenai_py.OpenAI``): :class:`OpenAIError` >
  :class:`APIError` > :class:`APIStatusError` (one class per status, :class:`InternalServerError`
  for 5xx), :class:`APIConnectionError` > :class:`APITimeoutError`, and
  :class:`APIResponseValidationError`, with the SDK's attributes and messages
  (:func:`sdk_exception` makes one from the PSOpenAI exception of the same failure).

Each SDK class also sits at exactly one place of PSOpenAI's tree, so code written against either
catches what the client raises: :class:`NotFoundError` is a :class:`NotFoundException`,
:class:`APITimeoutError` a :class:`TimeoutException`, :class:`APIResponseValidationError` an
:class:`InvalidResponseException`, and every :class:`APIError` an :class:`APIRequestException`.
:class:`APIConnectionError` is not an :class:`APIConnectionException`: the SDK puts timeouts
under connection errors, PSOpenAI does not, and a class may not sit in two places of one tree.

Input problems are :class:`ParameterBindingError` (a ``ValueError``) or
:class:`ParameterTypeError` (a ``TypeError``), raised before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .scrub import scrub_value

__all__ = [
    "PSOpenAIError",
    "ParameterBindingError",
    "ParameterTypeError",
    "MissingSettingError",
    "SecretStoreError",
    "PowerShellSyntaxError",
    "ActionPreferenceStopException",
    "RunStoppedError",
    "UnexpectedItemError",
    "APIRequestException",
    "BadRequestException",
    "ContentFilteredException",
    "UnauthorizedException",
    "PermissionDeniedException",
    "NotFoundException",
    "ConflictException",
    "UnprocessableEntityException",
    "RateLimitExceededException",
    "QuotaLimitExceededException",
    "APIConnectionException",
    "TimeoutException",
    "InvalidResponseException",
    "RedirectException",
    "JournalError",
    "ExportFileError",
    "MetadataConflictError",
    "OpenAIError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "APIResponseValidationError",
]
"""The exceptions: the package root exports exactly these.  The response helpers below
(:func:`exception_from_response` and the message builders) serve the transport alone."""


class PSOpenAIError(Exception):
    """Root of every exception raised by psopenai_py.

    Its arguments pass through the scrubber (:func:`psopenai_py.scrub.scrub_value`) when it is
    made, so no secret in play reaches its text, ``args`` or ``repr``.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*scrub_value(args))


class ParameterBindingError(PSOpenAIError, ValueError):
    """A parameter's value was rejected before any request was sent.

    ``parameter`` is the PowerShell name of the parameter (``MaxRetryCount``).
    """

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class ParameterTypeError(PSOpenAIError, TypeError):
    """A parameter's value had the wrong type; nothing was sent."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class MissingSettingError(PSOpenAIError, LookupError):
    """A required setting (API key, Azure endpoint) was found nowhere in the resolution order."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting


class SecretStoreError(PSOpenAIError, RuntimeError):
    """The OS keyring cannot store, read or delete a secret; the message says what to do."""


class PowerShellSyntaxError(PSOpenAIError, ValueError):
    """A literal could not be parsed; ``position`` is the 0-based offset of the problem."""

    def __init__(self, message: str, text: str, position: int) -> None:
        pointer = f"\n    {text}\n    {' ' * position}^" if "\n" not in text else ""
        super().__init__(f"{message} (at position {position}){pointer}")
        self.position = position
        self.text = text


class JournalError(PSOpenAIError, OSError):
    """A change journal cannot be used: in use by another process, already recording a run
    (without -Resume), unreadable, damaged, or not writable.  ``path`` is the journal's path.

    A change that cannot be journaled is not sent: at the start the command stops; during a run
    the item fails, and so does every later item, at once, with nothing read or sent for it.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0])


class ExportFileError(PSOpenAIError, OSError):
    """Export-ChatCompletion cannot write its file: the directory refuses it, the disk is full.
    ``path`` is the destination; nothing is left under its name."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0])


class ActionPreferenceStopException(PSOpenAIError):
    """A warning met ``WarningAction Stop`` (PowerShell's ActionPreferenceStopException)."""


class RunStoppedError(PSOpenAIError):
    """An item whose retry wait was cut short because the run was stopped (ErrorAction Stop or
    an interrupt).  The server had answered that item with a retryable error, so it was not
    applied.  ``sent`` is False when the wait was the shared rate-limit pause before the item's
    first attempt: then it was never sent, and is counted so."""

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


class UnexpectedItemError(PSOpenAIError):
    """Something unexpected went wrong with one item; the run went on with the next."""


class APIRequestException(PSOpenAIError):
    """A request to the API failed: it answered with an error status (most subclasses), or gave no
    usable answer at all (:class:`APIConnectionException`, :class:`TimeoutException`,
    :class:`InvalidResponseException`), in which case ``status_code`` and ``response`` may be None.

    Attributes follow PSOpenAI's: ``status_code``, ``response`` (the ``requests.Response``, or None),
    ``type``, ``code`` and ``param`` from the body's ``error`` object, ``content`` (the whole parsed
    error body, or None when it was not JSON) and ``error_id`` (``PSOpenAI.APIRequest.<ClassName>``);
    ``request`` is the request as sent, its credentials masked (None before one was made).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        response: Any = None,
        content: Any = None,
    ) -> None:
        super().__init__(message)
        self.message: str = self.args[0] if self.args else message
        self.status_code = status_code
        self.response = response
        self.request: Any = None
        self.content = scrub_value(content)
        content = self.content
        error = _error_object(content)
        # As the original's exception class: Code becomes a string (from a string or an
        # integer), Type and Param are kept only when they are strings.
        code = error.get("code")
        self.type: str | None = error["type"] if isinstance(error.get("type"), str) else None
        self.code: str | None = (
            str(code)
            if isinstance(code, str) or (isinstance(code, int) and not isinstance(code, bool))
            else None
        )
        self.param: str | None = error["param"] if isinstance(error.get("param"), str) else None

    @property
    def error_id(self) -> str:
        """PSOpenAI's fully qualified error id, ``PSOpenAI.APIRequest.<ClassName>``."""
        return f"PSOpenAI.APIRequest.{type(self).__name__}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r})"


class BadRequestException(APIRequestException):
    """HTTP 400."""


class ContentFilteredException(APIRequestException):
    """HTTP 400 whose ``error.code`` is ``content_filter``.

    It derives from :class:`APIRequestException`, not :class:`BadRequestException`, as in the
    original: ``except BadRequestException`` does not catch it.
    """


class UnauthorizedException(APIRequestException):
    """HTTP 401."""


class PermissionDeniedException(APIRequestException):
    """HTTP 403."""


class NotFoundException(APIRequestException):
    """HTTP 404."""


class ConflictException(APIRequestException):
    """HTTP 409."""


class MetadataConflictError(ConflictException):
    """The stored metadata is not what a restore expects: another writer changed the completion
    since the journaled change.  Nothing was written for that id; ``completion_id`` names it."""

    def __init__(self, completion_id: str, message: str) -> None:
        super().__init__(message)
        self.completion_id = completion_id


class UnprocessableEntityException(APIRequestException):
    """HTTP 422."""


class RateLimitExceededException(APIRequestException):
    """HTTP 429 (retried when MaxRetryCount allows)."""


class QuotaLimitExceededException(RateLimitExceededException):
    """HTTP 429 whose ``error.code`` mentions ``quota`` (never retried)."""


class APIConnectionException(APIRequestException, ConnectionError):
    """The request could not be completed: refused, reset or dropped connection, TLS failure.

    Transport failures are never retried (as in the original).
    """


class TimeoutException(APIRequestException, TimeoutError):
    """An attempt or a paging loop ran past TimeoutSec."""

    DEFAULT_MESSAGE = "The operation was canceled due to timeout."

    def __init__(self, message: str = DEFAULT_MESSAGE) -> None:
        super().__init__(message)


_BY_STATUS: dict[int, type[APIRequestException]] = {
    400: BadRequestException,
    401: UnauthorizedException,
    403: PermissionDeniedException,
    404: NotFoundException,
    409: ConflictException,
    422: UnprocessableEntityException,
    429: RateLimitExceededException,
}


def _error_object(content: Any) -> Mapping[str, Any]:
    if isinstance(content, Mapping):
        error = content.get("error")
        if isinstance(error, Mapping):
            return error
    return {}


def format_api_error_message(service: str, status_code: int, reason: str, detail: str) -> str:
    """The original's message: ``OpenAI API returned an 404 (Not Found) Error: <detail>``."""
    return f"{service} API returned an {status_code} ({reason}) Error: {detail}"


def dotnet_status_message(status_code: int, reason: str) -> str:
    """The message .NET's HttpClient gives a failed status, which the original shows when the
    body has no ``error.message``."""
    return f"Response status code does not indicate success: {status_code} ({reason})."


def exception_from_response(
    service: str, status_code: int, reason: str, content: Any, response: Any = None
) -> APIRequestException:
    """Choose the exception class for an error response and build its message.

    ``content`` is the parsed body (None when it was not JSON).  When the body carries no
    ``error.message``, the HTTP client's own message stands in (.NET's ``Response status code
    does not indicate success: 404 (Not Found).``), as in the original.
    """
    error = _error_object(content)
    detail = error.get("message") or dotnet_status_message(status_code, reason)
    message = format_api_error_message(service, status_code, reason, str(detail))
    code = error.get("code")
    cls = _BY_STATUS.get(status_code, APIRequestException)
    # PowerShell's -eq and -match compare text without regard to case (Parse-WebExceptionResponse.ps1).
    if status_code == 400 and isinstance(code, str) and code.lower() == "content_filter":
        cls = ContentFilteredException
    elif status_code == 429 and isinstance(code, str) and "quota" in code.lower():
        cls = QuotaLimitExceededException
    return cls(message, status_code=status_code, response=response, content=content)


class InvalidResponseException(APIRequestException):
    """A successful status whose body is not what the API sends: not JSON, not a JSON object, or
    a list page that is malformed or repeats itself."""


class RedirectException(InvalidResponseException):
    """A 3xx answer to an API call, which is never followed (the API does not redirect, so it
    means a wrong base URL or a captive portal); ``location`` is where it pointed, and the key
    was not sent there."""

    def __init__(self, message: str, *, location: str | None, status_code: int, response: Any = None) -> None:
        super().__init__(message, status_code=status_code, response=response)
        self.location = scrub_value(location)


# -- the official SDK's tree ------------------------------------------------------------------------


class OpenAIError(PSOpenAIError):
    """The official SDK's root: every failure of a call of the SDK-shaped client."""


class APIError(OpenAIError, APIRequestException):
    """The SDK's API failure: ``message`` (also ``str(e)``), ``request`` (credentials masked),
    ``body`` (the answer's ``error`` member, or the whole parsed body, or its text; None without
    an answer), and ``code`` (as text), ``param`` and ``type`` read from ``body`` when it is an
    object.  Also raised by itself for an error object inside a stream."""

    def __init__(self, message: str, request: Any, *, body: object | None) -> None:
        APIRequestException.__init__(self, message)
        self.request = request
        self.body: object | None = scrub_value(body)
        if isinstance(self.body, Mapping):
            code = self.body.get("code")
            self.code = None if code is None else str(code)
            # As the SDK: kept as sent, whatever their JSON type (typed as the SDK types them).
            self.param = self.body.get("param")
            self.type = self.body.get("type")
        else:
            self.code = self.param = self.type = None

    def __repr__(self) -> str:
        return Exception.__repr__(self)  # NotFoundError('Error code: 404 - ...'), as the SDK's


class APIStatusError(APIError):
    """An error status (4xx, 5xx): ``status_code``, ``response`` and ``request_id`` (the
    ``x-request-id`` header) too.  A status with no class of its own is this class."""

    def __init__(self, message: str, *, response: Any, body: object | None) -> None:
        APIError.__init__(self, message, getattr(response, "request", None), body=body)
        self.response = response
        self.status_code: int | None = getattr(response, "status_code", None)
        headers = getattr(response, "headers", None)
        self.request_id: str | None = headers.get("x-request-id") if headers is not None else None


class BadRequestError(APIStatusError, BadRequestException):
    """HTTP 400 (content filtering included, which PSOpenAI tells apart)."""


class AuthenticationError(APIStatusError, UnauthorizedException):
    """HTTP 401."""


class PermissionDeniedError(APIStatusError, PermissionDeniedException):
    """HTTP 403."""


class NotFoundError(APIStatusError, NotFoundException):
    """HTTP 404."""


class ConflictError(APIStatusError, ConflictException):
    """HTTP 409 (retried by the SDK's rules)."""


class UnprocessableEntityError(APIStatusError, UnprocessableEntityException):
    """HTTP 422."""


class RateLimitError(APIStatusError, RateLimitExceededException):
    """HTTP 429 (quota errors included, which PSOpenAI tells apart)."""


class InternalServerError(APIStatusError):
    """Any status from 500 up."""


class APIConnectionError(APIError):
    """No answer: the connection was refused, reset or dropped (``Connection error.``)."""

    def __init__(self, *, message: str = "Connection error.", request: Any) -> None:
        APIError.__init__(self, message, request, body=None)


class APITimeoutError(APIConnectionError, TimeoutException):
    """No answer in time (``Request timed out.``)."""

    def __init__(self, request: Any) -> None:
        APIConnectionError.__init__(self, message="Request timed out.", request=request)


class APIResponseValidationError(APIError, InvalidResponseException):
    """An answer that is not what the API sends for this call (not an object where one belongs,
    a list page that cannot be followed); ``response`` and ``status_code`` as received."""

    def __init__(self, response: Any, body: object | None, *, message: str | None = None) -> None:
        APIError.__init__(
            self,
            message or "Data returned by API invalid for expected schema.",
            getattr(response, "request", None),
            body=body,
        )
        self.response = response
        self.status_code = getattr(response, "status_code", None)


SDK_EXCEPTIONS: tuple[str, ...] = tuple(name for name in __all__ if issubclass(globals()[name], OpenAIError))
"""The official SDK's exceptions (:class:`OpenAIError` and below), in :data:`__all__`'s order:
the SDK-shaped client exports these names too."""

_SDK_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def sdk_status_error(response: Any) -> APIStatusError:
    """The SDK's exception for an error status: its class, its ``body`` (the parsed text's
    ``error`` member, else the whole JSON, else the stripped text) and its message (``Error code:
    404``, with `` - <error.message>`` when the body has a non-empty one)."""
    status = int(response.status_code)
    text = str(getattr(response, "text", "") or "").strip()
    body: object = text
    message = f"Error code: {status}"
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        pass
    else:
        body = parsed.get("error", parsed) if isinstance(parsed, Mapping) else parsed
        said = body.get("message") if isinstance(body, Mapping) else None
        if isinstance(said, str) and said:
            message += f" - {said}"
    cls = _SDK_BY_STATUS.get(status, InternalServerError if status >= 500 else APIStatusError)
    error = cls(message, response=response, body=body)
    error.content = scrub_value(_parsed_or_none(text))  # PSOpenAI's view of the same answer
    return error


def _parsed_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def sdk_exception(error: APIRequestException) -> APIError:
    """The SDK's exception for a failure the transport reported in PSOpenAI's tree (one already
    of the SDK's tree is returned as it is)."""
    if isinstance(error, APIError):
        return error
    if isinstance(error, TimeoutException):
        return APITimeoutError(error.request)
    if isinstance(error, APIConnectionException):
        return APIConnectionError(request=error.request)
    if isinstance(error, InvalidResponseException):
        failed = APIResponseValidationError(error.response, None, message=error.message)
        failed.request = failed.request or error.request
        return failed
    if error.response is not None and error.status_code is not None and error.status_code >= 400:
        return sdk_status_error(error.response)
    said = error.content.get("error") if isinstance(error.content, Mapping) else None
    if error.status_code is None and said:
        # An error the server sent inside a successful stream: the SDK's message is the error's
        # own, its body the error member.
        message = said.get("message") if isinstance(said, Mapping) else None
        if not isinstance(message, str) or not message:
            message = "An error occurred during streaming"
        return APIError(message, error.request, body=said)
    return APIError(error.message, error.request, body=None)
