"""The chat-completion commands under one name, for callers that import them together."""

from __future__ import annotations

from ..results import COMPLETION_TYPE_NAME, MESSAGE_TYPE_NAME, completion_object
from .get_completion import get_chat_completion
from .get_messages import get_chat_completion_message
from .remove_completion import remove_chat_completion
from .request_completion import request_chat_completion
from .set_completion import set_chat_completion, update_completion

__all__ = [
    "set_chat_completion",
    "get_chat_completion",
    "remove_chat_completion",
    "get_chat_completion_message",
    "request_chat_completion",
    "completion_object",
    "update_completion",
    "COMPLETION_TYPE_NAME",
    "MESSAGE_TYPE_NAME",
]
