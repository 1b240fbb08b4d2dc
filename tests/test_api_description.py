"""The committed API description (contract/openapi.chat-completions.yaml) still holds every
operation the package calls, with every parameter it sends, and it stays a faithful cut of
upstream (the cut script reproduces it from the part of the file it was cut from)."""

from __future__ import annotations

import re
import sys
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

import psopenai_py
from psopenai_py.emulator import Emulator

from .openapi import SPEC_PATH, document

KEY = "sk-description-000000000000000000000"

# (method, path template) -> the query parameters the package sends there.  A request the
# package makes that is not in this table fails test_the_table_is_what_the_package_sends.
OPERATIONS: dict[tuple[str, str], set[str]] = {
    ("post", "/chat/completions"): set(),  # create
    ("get", "/chat/completions/{completion_id}"): set(),  # retrieve
    ("post", "/chat/completions/{completion_id}"): set(),  # update
    ("get", "/chat/completions"): {"after", "limit", "order", "metadata", "model"},  # list
    ("delete", "/chat/completions/{completion_id}"): set(),  # delete
    ("get", "/chat/completions/{completion_id}/messages"): {"after", "limit", "order"},
}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        match = re.fullmatch(r"#/components/(\w+)/(.+)", schema["$ref"])
        assert match, schema["$ref"]
        section, name = match.groups()
        schema = document()["components"][section][name]
    return schema


def _properties(schema: dict[str, Any]) -> set[str]:
    """Every property a request body may carry, through $ref and allOf/anyOf/oneOf."""
    schema = _resolve(schema)
    names = set(schema.get("properties", {}))
    for combinator in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(combinator, []):
            names |= _properties(part)
    return names


def _operation(method: str, template: str) -> dict[str, Any]:
    paths = document()["paths"]
    assert template in paths, f"{template} is missing from {SPEC_PATH.name}"
    assert method in paths[template], f"{method.upper()} {template} is missing"
    return dict(paths[template][method])


def _parameters(method: str, template: str) -> dict[str, dict[str, Any]]:
    """The operation's parameters, path-level ones included, by name."""
    path_item = document()["paths"][template]
    found = [
        _resolve(p)
        for p in [*path_item.get("parameters", []), *_operation(method, template).get("parameters", [])]
    ]
    return {p["name"]: p for p in found}


def _body_properties(method: str, template: str) -> set[str]:
    body = _resolve(_operation(method, template)["requestBody"])
    return _properties(body["content"]["application/json"]["schema"])


@pytest.mark.parametrize(("method", "template"), list(OPERATIONS))
def test_every_operation_and_its_query_parameters_are_described(method, template):
    parameters = _parameters(method, template)
    for name in OPERATIONS[(method, template)]:
        assert name in parameters and parameters[name]["in"] == "query", (
            f"{method.upper()} {template}: query parameter {name!r} is not described"
        )
    if "{completion_id}" in template:
        assert parameters["completion_id"]["in"] == "path"
        assert parameters["completion_id"]["required"] is True
    assert "200" in _operation(method, template)["responses"]


def test_the_list_filters_use_the_encoding_the_package_sends():
    # metadata[key]=value pairs are a string-valued map; limit an integer; order asc or desc.
    parameters = _parameters("get", "/chat/completions")
    metadata = _resolve(parameters["metadata"]["schema"])
    assert {"type": "string"} in [
        part.get("additionalProperties") for part in metadata.get("anyOf", [metadata])
    ]
    assert _resolve(parameters["limit"]["schema"])["type"] == "integer"
    assert set(_resolve(parameters["order"]["schema"])["enum"]) == {"asc", "desc"}


def test_the_update_body_requires_metadata():
    body = _resolve(_operation("post", "/chat/completions/{completion_id}")["requestBody"])
    schema = _resolve(body["content"]["application/json"]["schema"])
    assert "metadata" in schema["properties"] and "metadata" in schema.get("required", [])


def _called(request: Any) -> tuple[tuple[str, str], set[str], set[str]]:
    """(method, template), query parameter names and body keys of one recorded request."""
    parts = urlsplit(request.target)
    path = parts.path.removeprefix("/v1")
    template = re.sub(r"^/chat/completions/[^/]+", "/chat/completions/{completion_id}", path)
    names = {re.sub(r"\[.*\]$", "", unquote(k)) for k, _ in parse_qsl(parts.query)}
    body = set(request.json()) if request.body else set()
    return (request.method.lower(), template), names, body


def test_the_table_is_what_the_package_sends(emulator: Emulator):
    """Every call with every parameter it has: each request made is a described operation, its
    query names are in the table (and described), its body keys are properties of the body."""
    psopenai_py.set_openai_context(api_base=emulator.url, api_key=KEY)
    emulator.store.seed(3, prefix="chatcmpl-d-", model="m1", metadata={"team": "ops"})
    created = psopenai_py.request_chat_completion(
        "hello",
        system_message="be brief",
        model="m1",
        store=True,
        metadata={"team": "ops"},
        temperature=0.5,
        max_completion_tokens=20,
    )
    psopenai_py.get_chat_completion(created.id)  # retrieve + messages
    psopenai_py.set_chat_completion(created.id, {"team": "dev"})
    psopenai_py.get_chat_completion(
        limit=2, after="chatcmpl-d-000001", order="desc", metadata={"team": "ops"}, model="m1"
    )
    psopenai_py.get_chat_completion_message(created.id, limit=1, order="asc", after="msg-none")
    psopenai_py.remove_chat_completion(created.id)
    seen: dict[tuple[str, str], set[str]] = {}
    for request in emulator.requests:
        operation, names, body = _called(request)
        assert operation in OPERATIONS, f"the package calls {operation}, not in the table"
        assert names <= OPERATIONS[operation], f"{operation} sends {names}"
        seen.setdefault(operation, set()).update(names)
        if body:
            undescribed = body - _body_properties(*operation)
            assert not undescribed, f"{operation} sends undescribed body keys {undescribed}"
    assert seen == OPERATIONS


def test_the_committed_file_names_its_upstream():
    header = SPEC_PATH.read_text(encoding="utf-8").split("\nopenapi:", 1)[0]
    assert "https://github.com/openai/openai-openapi" in header
    assert re.search(r"commit [0-9a-f]{40}, cut on \d{4}-\d{2}-\d{2}\.", header)


def test_the_cut_script_reproduces_the_committed_file():
    """Re-cutting the committed file itself (a valid, smaller upstream) gives the same text,
    so the script and the file agree; with the full upstream file the same command updates it."""
    sys.path.insert(0, str(SPEC_PATH.parent))
    try:
        import cut_openapi
    finally:
        sys.path.pop(0)
    text = SPEC_PATH.read_text(encoding="utf-8")
    header = text.split("\nopenapi:", 1)[0]
    match = re.search(r"commit ([0-9a-f]{40}), cut on (\S+)\.", header)
    assert match, header
    commit, date = match.groups()
    assert cut_openapi.cut(text, commit, date) == text
