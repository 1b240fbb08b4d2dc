"""OpenAI's OpenAPI description (from ../shared), for checking the emulator's answers."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

SPEC_PATH = Path(
    os.environ.get(
        "PSOPENAI_OPENAPI", Path(__file__).resolve().parents[2] / "shared/openapi/openai-openapi.yaml"
    )
)


@functools.lru_cache(maxsize=1)
def _components() -> dict[str, Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=loader)
    return dict(document["components"])


def validate(schema_name: str, instance: Any) -> None:
    """Raise jsonschema.ValidationError when ``instance`` does not match the named schema."""
    if not SPEC_PATH.exists():
        pytest.skip(f"OpenAPI description not found at {SPEC_PATH} (set PSOPENAI_OPENAPI)")
    from jsonschema import Draft202012Validator

    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _components()}
    Draft202012Validator(schema).validate(instance)
