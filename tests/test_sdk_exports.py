"""The SDK-shaped client exports the SDK's exceptions by the one list of them in errors."""

from __future__ import annotations

import openai

from psopenai_py import client, errors


def test_the_client_exports_exactly_the_sdk_exceptions_of_errors():
    exported = tuple(name for name in client.__all__ if name in errors.__all__)
    assert exported == errors.SDK_EXCEPTIONS
    assert {"OpenAIError", "NotFoundError", "APITimeoutError"} <= set(exported)
    assert not {"PSOpenAIError", "NotFoundException"} & set(exported)


def test_every_exported_name_of_the_client_resolves():
    # A star import fails on a name in __all__ that the package does not bind.
    namespace: dict[str, object] = {}
    exec("from psopenai_py.client import *", namespace)
    assert all(name in namespace for name in client.__all__)
    assert namespace["NotFoundError"] is errors.NotFoundError


def test_each_sdk_exception_has_the_official_packages_name():
    assert all(hasattr(openai, name) for name in errors.SDK_EXCEPTIONS)
