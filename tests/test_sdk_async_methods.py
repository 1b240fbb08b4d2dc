"""The asynchronous client's methods are the synchronous ones awaited: the same parameters in
help(), coroutines where the SDK's are, and their own return types and words."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from psopenai_py.client import AsyncCompletions, AsyncMessages, Completions, Messages

METHODS = [
    *((Completions, AsyncCompletions, name) for name in ("create", "retrieve", "update", "list", "delete")),
    (Messages, AsyncMessages, "list"),
]


@pytest.mark.parametrize(("sync", "asynchronous", "name"), METHODS)
def test_each_async_method_takes_the_parameters_of_its_sync_twin(sync, asynchronous, name):
    ours, twin = getattr(asynchronous, name), getattr(sync, name)
    assert inspect.signature(ours).parameters == inspect.signature(twin).parameters
    # list() gives a paginator at once (await it, or async for over it); the rest are coroutines.
    assert inspect.iscoroutinefunction(ours) == (name != "list")
    assert ours.__name__ == name and ours.__doc__


def test_the_async_return_types_are_the_async_clients():
    def returns(method: Any) -> object:
        return inspect.signature(method).return_annotation

    assert returns(AsyncCompletions.create) == "ChatCompletion | AsyncStream[ChatCompletionChunk]"
    assert returns(AsyncCompletions.list) == "AsyncPaginator[ChatCompletion]"
    assert returns(AsyncCompletions.retrieve) == "ChatCompletion"
    assert returns(AsyncMessages.list) == "AsyncPaginator[ChatCompletionStoreMessage]"
    assert "await" in (AsyncCompletions.list.__doc__ or "")
