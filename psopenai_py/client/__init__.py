"""An SDK-shaped client: the official Python SDK's stored-completions calls over this package's core.

Code written for ``openai.OpenAI`` keeps working::

    from psopenai_py import OpenAI
    with OpenAI() as client:               # key: argument, OPENAI_API_KEY, ..., the OS keyring
        done = client.chat.completions.update("chatcmpl-abc123", metadata={"reviewed": "yes"})
        done.metadata["reviewed"]          # 'yes'
        for c in client.chat.completions.list(metadata={"team": "ops"}):   # every page
            print(c.id, c.choices[0].message.content)
        raw = client.chat.completions.with_raw_response.retrieve("chatcmpl-abc123")
        raw.headers["x-request-id"], raw.parse().id

and ``AsyncOpenAI`` is the same with ``await`` and ``async for``.  Results are the SDK's types
(:mod:`.types`: every declared field reads ``None`` when the server left it out; ``model_dump``,
``to_dict``, ``to_json`` as the SDK's), errors the SDK's classes (:mod:`psopenai_py.errors`, each
also this package's class of the same failure), retries the SDK's rules
(:data:`psopenai_py.retry.SDK`).  Underneath are this package's settings resolution, checks,
transport and masking, as for every other command.
"""

from __future__ import annotations

# The SDK's exceptions, re-exported by name (``X as X``) so that type checkers see them; the
# list of them is errors.SDK_EXCEPTIONS.
from ..errors import SDK_EXCEPTIONS
from ..errors import APIConnectionError as APIConnectionError
from ..errors import APIError as APIError
from ..errors import APIResponseValidationError as APIResponseValidationError
from ..errors import APIStatusError as APIStatusError
from ..errors import APITimeoutError as APITimeoutError
from ..errors import AuthenticationError as AuthenticationError
from ..errors import BadRequestError as BadRequestError
from ..errors import ConflictError as ConflictError
from ..errors import InternalServerError as InternalServerError
from ..errors import NotFoundError as NotFoundError
from ..errors import OpenAIError as OpenAIError
from ..errors import PermissionDeniedError as PermissionDeniedError
from ..errors import RateLimitError as RateLimitError
from ..errors import UnprocessableEntityError as UnprocessableEntityError
from . import types
from ._client import AsyncOpenAI, OpenAI
from ._models import BaseModel
from ._options import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    NotGiven,
    Omit,
    Timeout,
    not_given,
    omit,
)
from ._pages import AsyncCursorPage, AsyncPaginator, PageInfo, SyncCursorPage
from ._resources import AsyncCompletions, AsyncMessages, Completions, Messages
from ._response import APIResponse, AsyncAPIResponse, LegacyAPIResponse
from ._streaming import AsyncStream, Stream

__all__ = [
    "OpenAI",
    "AsyncOpenAI",
    "types",
    "BaseModel",
    "SyncCursorPage",
    "AsyncCursorPage",
    "AsyncPaginator",
    "PageInfo",
    "Completions",
    "Messages",
    "AsyncCompletions",
    "AsyncMessages",
    "LegacyAPIResponse",
    "APIResponse",
    "AsyncAPIResponse",
    "Stream",
    "AsyncStream",
    "Timeout",
    "NotGiven",
    "NOT_GIVEN",
    "not_given",
    "Omit",
    "omit",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    *SDK_EXCEPTIONS,
]
