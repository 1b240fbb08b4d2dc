"""Derive the openai CLI dialect's request flags from the API description.

The official CLI's flags are generated from the OpenAPI description; so are this package's.
This script reads ``contract/openapi.chat-completions.yaml`` and writes
``psopenai_py/openai_cli/api_flags.json``, the table the package ships (a wheel carries no
``contract/``; ``api_flags.py`` reads the table), one line per command and per flag.
``tests/test_cli_flags.py`` derives the table again and holds the committed file to it, text and
data, so a field added to the description without running this script fails the suite.  To
update after a new cut of the description:

    python contract/derive_cli_flags.py
    git diff psopenai_py/openai_cli/api_flags.json

The rules, as the official CLI's generated flags show them:

- a flag per path parameter, query parameter and request-body property of each operation,
  named after it with ``_`` written ``-``; an array-typed body property takes the singular
  (``messages`` -> ``--message``, ``modalities`` -> ``--modality``);
- its kind from the schema, once a ``null`` alternative is set aside: an array of objects is
  ``objects`` (repeatable, one mapping each); an array of scalars that may be null, and a union
  of different kinds, is ``any`` (any YAML value); an object, a union of objects or a map is
  ``map``; integer, number, boolean and string are ``int``, ``float``, ``bool``, ``string``,
  each ``nullable`` when the schema allows null (a non-nullable boolean is a ``switch``);
- ``required`` as the schema says; the schema's ``default`` is shown in help, never sent;
- inner flags ``--outer.field`` for every property of an object-kind flag whose schema is one
  object with declared properties (not a union of several, not a bare map);
- order: required flags first, then by name (inner flags likewise within their flag).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "contract" / "openapi.chat-completions.yaml"
OUTPUT = ROOT / "psopenai_py" / "openai_cli" / "api_flags.json"
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The official CLI's command words for each operation (they come from its generator's
# configuration, not from the description).
OPERATIONS = (
    ("chat:completions", "create", "post", "/chat/completions"),
    ("chat:completions", "retrieve", "get", "/chat/completions/{completion_id}"),
    ("chat:completions", "update", "post", "/chat/completions/{completion_id}"),
    ("chat:completions", "list", "get", "/chat/completions"),
    ("chat:completions", "delete", "delete", "/chat/completions/{completion_id}"),
    ("chat:completions:messages", "list", "get", "/chat/completions/{completion_id}/messages"),
)
_SCALARS = {"integer": "int", "number": "float", "boolean": "bool", "string": "string"}


class Schemas:
    """The description's schemas, with ``$ref``, ``allOf`` and ``null`` alternatives resolved."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def ref(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` with a ``$ref`` followed (siblings of the ``$ref`` kept over it)."""
        while "$ref" in schema:
            target: Any = self.document
            for part in schema["$ref"].lstrip("#/").split("/"):
                target = target[part]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def merged(self, schema: dict[str, Any]) -> dict[str, Any]:
        """An ``allOf`` folded into one object schema (properties and required of each)."""
        schema = self.ref(schema)
        if "allOf" not in schema:
            return schema
        properties: dict[str, Any] = {}
        required: list[str] = []
        for part in schema["allOf"]:
            part = self.merged(part)
            properties.update(part.get("properties", {}))
            required += part.get("required", [])
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return {**rest, "type": "object", "properties": properties, "required": required}

    def unwrapped(self, schema: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        """The alternatives of a schema without its ``null`` one, and whether null is allowed."""
        schema = self.merged(schema)
        nullable = bool(schema.get("nullable")) or schema.get("type") == "null"
        union = schema.get("anyOf") or schema.get("oneOf")
        if not union:
            return [schema], nullable
        options: list[dict[str, Any]] = []
        for option in union:
            inner, inner_nullable = self.unwrapped(option)
            nullable = nullable or inner_nullable
            options += [o for o in inner if o.get("type") != "null"]
        return options, nullable

    def description(self, schema: dict[str, Any]) -> str:
        if schema.get("description"):
            return str(schema["description"])
        schema = self.ref(schema)
        if schema.get("description"):
            return str(schema["description"])
        for option in schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf") or []:
            text = self.description(option)
            if text:
                return text
        return ""


def _is_object(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" or "properties" in schema or "additionalProperties" in schema


def _kind(schemas: Schemas, schema: dict[str, Any]) -> tuple[str, bool, dict[str, Any] | None]:
    """(kind, array-typed, the one object schema inner flags come from, if any)."""
    options, nullable = schemas.unwrapped(schema)
    if len(options) == 1 and options[0].get("type") == "array":
        items, _ = schemas.unwrapped(options[0].get("items", {}))
        if items and all(_is_object(i) for i in items):
            return "objects", True, items[0] if len(items) == 1 and items[0].get("properties") else None
        return ("any" if nullable else "strings"), True, None
    if options and all(_is_object(o) for o in options):
        single = options[0] if len(options) == 1 and options[0].get("properties") else None
        return "map", False, single
    kinds = {o.get("type") for o in options}
    if len(options) == 1 and kinds <= set(_SCALARS):
        kind = _SCALARS[str(options[0].get("type"))]
        if kind == "bool" and not nullable:
            return "switch", False, None
        return (kind + "?" if nullable else kind), False, None
    if len(kinds) == 1 and kinds <= set(_SCALARS) and "string" in kinds:
        return ("string?" if nullable else "string"), False, None  # string enums written as a union
    return "any", False, None


def _default(schemas: Schemas, schema: dict[str, Any]) -> Any:
    """The schema's default, or the default of its one non-null alternative."""
    merged = schemas.merged(schema)
    if "default" in schema or "default" in merged:
        return schema.get("default", merged.get("default"))
    options, _ = schemas.unwrapped(schema)
    defaults = [o["default"] for o in options if "default" in o]
    return defaults[0] if len(options) == 1 and defaults else None


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") else name


def _summary(text: str) -> str:
    """The first sentence of a description, its Markdown links reduced to their text."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = " ".join(text.split("\n\n")[0].split())
    # A sentence ends at a stop before a capital letter or the end ("e.g. `x`" does not end one).
    match = re.match(r"(.+?[.!?])(?=\s+[A-Z]|$)", text)
    return match.group(1) if match else text


def _flag(
    schemas: Schemas, name: str, schema: dict[str, Any], where: str, required: bool, inner_of: str = ""
) -> dict[str, Any]:
    kind, is_array, single = _kind(schemas, schema)
    flag_name = _singular(name) if is_array and where == "body" and not inner_of else name
    row: dict[str, Any] = {
        "flag": (inner_of + "." if inner_of else "") + flag_name.replace("_", "-"),
        "field": name,
        "in": where,
        "kind": kind,
        "required": required,
        "default": _default(schemas, schema),
        "help": _summary(schemas.description(schema)),
        "inner": [],
    }
    if single is not None and not inner_of and where == "body":
        inner_required = set(single.get("required", []))
        properties = single.get("properties", {})
        for field in sorted(properties, key=lambda f: (f not in inner_required, f)):
            row["inner"].append(_flag(schemas, field, properties[field], where, False, inner_of=row["flag"]))
    return row


def derive(document: dict[str, Any]) -> dict[str, Any]:
    """The flag table of every operation the dialect speaks, from a parsed description."""
    schemas = Schemas(document)
    table: dict[str, Any] = {}
    for resource, verb, method, path in OPERATIONS:
        operation = document["paths"][path][method]
        flags: list[dict[str, Any]] = []
        for parameter in operation.get("parameters", []):
            parameter = schemas.ref(parameter)
            schema = parameter.get("schema", {})
            if parameter.get("description") and not schema.get("description"):
                schema = {**schema, "description": parameter["description"]}
            flags.append(
                _flag(schemas, parameter["name"], schema, parameter["in"], bool(parameter.get("required")))
            )
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body is not None:
            body = schemas.merged(body)
            required = set(body.get("required", []))
            for name, schema in body.get("properties", {}).items():
                flags.append(_flag(schemas, name, schema, "body", name in required))
        flags.sort(key=lambda f: (not f["required"], f["field"]))
        table[f"{resource} {verb}"] = {"method": method.upper(), "path": path, "flags": flags}
    return table


def load(path: Path = SPEC) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return dict(yaml.load(handle, Loader=_LOADER))


def _row(flag: dict[str, Any], indent: str, last: bool) -> list[str]:
    """A flag on one line; an outer flag's inner flags on a line each below it."""
    comma = "" if last else ","
    if not flag["inner"]:
        return [indent + json.dumps(flag, ensure_ascii=False) + comma]
    head = json.dumps({**flag, "inner": []}, ensure_ascii=False).removesuffix("[]}")
    lines = [indent + head + "["]
    for position, inner in enumerate(flag["inner"]):
        lines += _row(inner, indent + "  ", position == len(flag["inner"]) - 1)
    return [*lines, indent + "]}" + comma]


def render(table: dict[str, Any]) -> str:
    """The text of ``api_flags.json`` for ``table``: a line per command and a line per flag."""
    lines = ["{"]
    for number, (key, entry) in enumerate(table.items()):
        head = {"method": entry["method"], "path": entry["path"], "flags": []}
        lines.append(f"  {json.dumps(key)}: " + json.dumps(head).removesuffix("[]}") + "[")
        for position, flag in enumerate(entry["flags"]):
            lines += _row(flag, "    ", position == len(entry["flags"]) - 1)
        lines.append("  ]}" + ("" if number == len(table) - 1 else ","))
    return "\n".join([*lines, "}"]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=SPEC)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    args.output.write_text(render(derive(load(args.spec))), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
