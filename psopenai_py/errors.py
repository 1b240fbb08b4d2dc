"""Every exception the package raises, and the one place a response becomes an exception.

The hierarchy mirrors PSOpenAI's: all API failures derive from :class:`APIRequestException`, and
the class is chosen from the status code and the body's ``error`` object (see
:func:`exception_from_response`).  Input problems are :class:`ParameterBindingError` (a
``ValueError``) or :class:`ParameterTypeError` (a ``TypeError``), raised before anything is sent.
"""

from __future__ import annotations

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
    error body, or None when it was not JSON) and ``error_id`` (``PSOpenAI.APIRequest.<ClassName>``).
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
