"""What the tests of the openai CLI dialect and the SDK-shaped client share: a made-up key, the
leak check for the canary key, and the wrong bodies and key echoes a misbehaving server answers."""

from __future__ import annotations

import json

from .conftest import CANARY_KEY
from .scripted_server import Answer, json_answer

KEY = "sk-dialect-00000000000000000000000"
"""A made-up key for the calls that are meant to succeed."""

# Every run of 8 characters of the canary beyond what its masked form shows on purpose.
FRAGMENTS = [CANARY_KEY[i : i + 8] for i in range(len("sk-proj-") + 3, len(CANARY_KEY) - 7)]


def leaked(text: str) -> list[str]:
    return [f for f in FRAGMENTS if f in text]


WRONG_BODIES = {
    "string": b'"hello"',
    "number": b"42",
    "null": b"null",
    "true": b"true",
    "array": b"[]",
}
WRONG_PAGES = {
    **WRONG_BODIES,
    "no-data": b'{"object": "list"}',
    "data-string": b'{"data": "abc", "has_more": false}',
    "data-numbers": b'{"data": [1, 2], "has_more": false}',
    "more-without-id": b'{"data": [{"x": 1}], "has_more": true}',
}

# The canary as a server might echo it: JSON-escaped in part or in full, raw, in pieces, in headers.
ESCAPED = json.dumps(CANARY_KEY).strip('"').replace("-", "\\u002d").replace("C", "\\u0043")
FULLY_ESCAPED = "".join(f"\\u{ord(c):04x}" for c in CANARY_KEY)
ECHOES = {
    "fully-escaped-error": Answer(401, ('{"error": {"message": "bad key ' + FULLY_ESCAPED + '"}}').encode()),
    "raw-error": json_answer({"error": {"message": f"Incorrect API key provided: {CANARY_KEY}"}}, 401),
    "escaped-error": Answer(401, ('{"error": {"message": "bad key ' + ESCAPED + '"}}').encode()),
    "fragment-error": json_answer({"error": {"message": "bad key ..." + CANARY_KEY[14:40]}}, 401),
    "error-in-a-nested-field": json_answer(
        {"error": {"message": "x", "param": {"k": CANARY_KEY[9:30]}}}, 400
    ),
    "escaped-success": Answer(200, ('{"id": "c1", "metadata": {"k": "' + ESCAPED + '"}}').encode()),
    "fragment-success": json_answer({"id": "c1", "note": CANARY_KEY[20:]}),
    "header-success": Answer(
        200, b'{"id": "c1"}', {"X-Echo": "Bearer " + CANARY_KEY, "X-Part": CANARY_KEY[12:40]}
    ),
    "header-error": Answer(500, b'{"error": {"message": "x"}}', {"X-Part": CANARY_KEY[12:40]}),
}
