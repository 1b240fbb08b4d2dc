"""OpenAI's OpenAPI description, cut to the chat-completions paths (contract/cut_openapi.py), for
checking requests and the emulator's answers.  The file is part of the repository, so these checks
never depend on anything outside it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parents[1] / "contract/openapi.chat-completions.yaml"


@functools.lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The committed description, parsed once."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return dict(yaml.load(handle, Loader=loader))


def validate(schema_name: str, instance: Any) -> None:
    """Raise jsonschema.ValidationError when ``instance`` does not match the named schema."""
    from jsonschema import Draft202012Validator

    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document()["components"]}
    Draft202012Validator(schema).validate(instance)
