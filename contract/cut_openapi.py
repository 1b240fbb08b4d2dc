"""Cut the chat-completions part out of OpenAI's full OpenAPI description.

The contract tests (Prism) and the emulator's schema tests read ``contract/openapi.chat-completions.yaml``,
which holds the ``/chat/completions`` paths and every component they reference, transitively, copied
line for line from the upstream file (openai/openai-openapi, ``openapi.yaml``).  To update it:

    python contract/cut_openapi.py path/to/openapi.yaml --commit <upstream commit>
    git diff contract/openapi.chat-completions.yaml

The text is copied, not re-serialised, so the diff against the previous cut is the upstream diff;
the script then loads both files and checks that the cut parses to exactly the selected subset.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

UPSTREAM = "https://github.com/openai/openai-openapi"
PATHS = (
    "/chat/completions",
    "/chat/completions/{completion_id}",
    "/chat/completions/{completion_id}/messages",
)
# Top-level sections copied whole; tags, paths and components are cut; the rest (webhooks, the
# documentation navigation in x-oaiMeta) is left out.
WHOLE = ("openapi", "info", "servers", "security")
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "openapi.chat-completions.yaml"
REF = re.compile(r"^#/components/([^/]+)/([^/]+)$")
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Entry:
    """One key of a block mapping (or one item of a block sequence) with its lines in the file."""

    def __init__(self, key: str, value: yaml.Node, first: int, end: int) -> None:
        self.key, self.value, self.first, self.end = key, value, first, end


def _entries(node: yaml.Node, end: int) -> list[Entry]:
    """The entries of ``node``; each runs until the next one starts, the last until ``end``."""
    if isinstance(node, yaml.MappingNode):
        starts = [(str(k.value), v, k.start_mark.line) for k, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        # A block sequence item's mark points after "- ", on the item's first line.
        starts = [(str(i), v, v.start_mark.line) for i, v in enumerate(node.value)]
    else:
        raise ValueError(f"expected a mapping or a sequence at line {node.start_mark.line + 1}")
    if node.flow_style:
        raise ValueError(f"flow-style collection at line {node.start_mark.line + 1} cannot be cut")
    ends = [line for _, _, line in starts[1:]] + [end]
    return [Entry(key, value, first, stop) for (key, value, first), stop in zip(starts, ends, strict=True)]


def _refs(data: Any) -> Iterator[tuple[str, str]]:
    """Every ``#/components/<section>/<name>`` string inside ``data``."""
    if isinstance(data, dict):
        for value in data.values():
            yield from _refs(value)
    elif isinstance(data, list):
        for value in data:
            yield from _refs(value)
    elif isinstance(data, str):
        match = REF.match(data)
        if match:
            yield match.group(1), match.group(2)


def _security_names(data: Any) -> Iterator[str]:
    """The security scheme names required anywhere in ``data`` (they are names, not $refs)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "security" and isinstance(value, list):
                for requirement in value:
                    yield from requirement
            else:
                yield from _security_names(value)
    elif isinstance(data, list):
        for value in data:
            yield from _security_names(value)


def _closure(document: dict[str, Any], roots: list[Any]) -> dict[str, set[str]]:
    """The components reachable from ``roots``, by section."""
    components = document.get("components", {})
    wanted: dict[str, set[str]] = {}
    pending = [ref for root in roots for ref in _refs(root)]
    for root in roots:
        pending += [("securitySchemes", name) for name in _security_names(root)]
    while pending:
        section, name = pending.pop()
        if name in wanted.setdefault(section, set()):
            continue
        if name not in components.get(section, {}):
            raise ValueError(f"#/components/{section}/{name} is referenced but not defined")
        wanted[section].add(name)
        pending.extend(_refs(components[section][name]))
    return wanted


def cut(text: str, commit: str, date: str) -> str:
    """The cut description (YAML text with its header comment) from the full upstream ``text``."""
    document = yaml.load(text, Loader=_LOADER)
    root = yaml.compose(text, Loader=_LOADER)
    if root is None:
        raise ValueError("the source file is empty")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    top = {entry.key: entry for entry in _entries(root, len(lines))}
    missing = [path for path in PATHS if path not in document.get("paths", {})]
    if missing:
        raise ValueError(f"upstream has no {', '.join(missing)}")

    def span(entry: Entry) -> list[str]:
        return lines[entry.first : entry.end]

    paths = [entry for entry in _entries(top["paths"].value, top["paths"].end) if entry.key in PATHS]
    selected = [document["paths"][entry.key] for entry in paths]
    wanted = _closure(document, [*selected, {"security": document.get("security", [])}])
    tag_names = {
        tag for path in selected for op in path.values() if isinstance(op, dict) for tag in op.get("tags", [])
    }

    out = [
        "# OpenAI's OpenAPI description, cut to the chat-completions paths this package calls\n",
        *[f"#   {path}\n" for path in PATHS],
        "# and every component they reference, transitively.\n",
        f"# Upstream: {UPSTREAM} (openapi.yaml), commit {commit}, cut on {date}.\n",
        "# Re-cut with: python contract/cut_openapi.py <upstream openapi.yaml> --commit <commit>\n",
        "# Do not edit by hand: the lines below are copied verbatim from upstream.\n",
    ]
    for key in WHOLE:
        if key in top:
            out += span(top[key])
    if "tags" in top:
        out.append(lines[top["tags"].first])
        for entry in _entries(top["tags"].value, top["tags"].end):
            if (
                isinstance(document["tags"][int(entry.key)], dict)
                and document["tags"][int(entry.key)].get("name") in tag_names
            ):
                out += span(entry)
    out.append(lines[top["paths"].first])
    for entry in paths:
        out += span(entry)
    out.append(lines[top["components"].first])
    for section in _entries(top["components"].value, top["components"].end):
        names = wanted.get(section.key, set())
        kept = [entry for entry in _entries(section.value, section.end) if entry.key in names]
        if kept:
            out.append(lines[section.first])
            for entry in kept:
                out += span(entry)
    result = "".join(out)
    _check(document, result, wanted, tag_names)
    return result


def _check(document: dict[str, Any], result: str, wanted: dict[str, set[str]], tag_names: set[str]) -> None:
    """The cut text must load to exactly the selected part of the upstream document."""
    expected: dict[str, Any] = {key: document[key] for key in WHOLE if key in document}
    if "tags" in document:
        expected["tags"] = [tag for tag in document["tags"] if tag.get("name") in tag_names]
    expected["paths"] = {path: document["paths"][path] for path in document["paths"] if path in PATHS}
    expected["components"] = {
        section: {name: value for name, value in members.items() if name in wanted[section]}
        for section, members in document["components"].items()
        if wanted.get(section)
    }
    if yaml.load(result, Loader=_LOADER) != expected:
        raise ValueError("the cut text does not load to the selected subset (unexpected layout)")


def main(argv: list[str] | None = None) -> int:
    """Command line: cut SOURCE into the committed description (or ``--output``)."""
    parser = argparse.ArgumentParser(
        prog="python contract/cut_openapi.py",
        description="Cut the chat-completions part out of OpenAI's full OpenAPI description.",
    )
    parser.add_argument("source", type=Path, help="the full upstream openapi.yaml")
    parser.add_argument(
        "--commit", required=True, help="the openai/openai-openapi commit the source file comes from"
    )
    parser.add_argument(
        "--date",
        default=datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
        help="the date of the cut (default: today, UTC)",
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the cut (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    try:
        text = args.source.read_text(encoding="utf-8")
        result = cut(text, args.commit, args.date)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"cut_openapi: {exc}", file=sys.stderr)
        return 1
    args.output.write_text(result, encoding="utf-8", newline="\n")
    print(f"wrote {args.output} ({result.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
