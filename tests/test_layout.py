"""The layers stay apart: arrows point from a front-end to the core, never back.

Every import statement of the package (also those inside functions) is read with ``ast`` and
resolved to an absolute module name, then held against the rules of the README's Layout section.
"""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path
from typing import Any

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "psopenai_py"

FRONT_ENDS = (
    "psopenai_py.powershell",
    "psopenai_py.compat",
    "psopenai_py.openai_cli",
    "psopenai_py.client",
    "psopenai_py.__main__",
    "psopenai_py.cli_shell",
)
"""How a user speaks to the package; the core never imports them."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, absolute; ``from . import x`` counts as ``package.x``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def is_front_end(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FRONT_ENDS)


def imports_any(imported: set[str], prefix: str) -> bool:
    return any(i == prefix or i.startswith(prefix + ".") for i in imported)


def test_the_rules_see_every_layer():
    # The rules below are vacuous if the walk finds nothing: make sure it sees each layer.
    assert "psopenai_py.transport.session" in MODULES
    assert "psopenai_py.powershell.cli" in MODULES
    assert "psopenai_py.emulator.server" in MODULES
    assert imports_any(MODULES["psopenai_py.transport.session"], "requests")
    assert imports_any(MODULES["psopenai_py.powershell.pipeline"], "psopenai_py.powershell.binding")


@pytest.mark.parametrize(
    "name", [n for n in MODULES if not is_front_end(n) and not n.startswith("psopenai_py.emulator")]
)
def test_the_core_never_imports_a_front_end(name: str):
    offending = sorted(i for i in MODULES[name] if is_front_end(i))
    assert offending == [], f"{name} imports the front-end {offending}"


@pytest.mark.parametrize("name", [n for n in MODULES if n != "psopenai_py"])
def test_no_module_imports_the_package_root(name: str):
    # The root is the public facade; a module below it that imports it (for __version__, say)
    # would load the facade and make import order matter.  The version lives in _version.
    # ``from . import scrub`` names a submodule and is fine; a name that is no module is not.
    rooted = sorted(i for i in MODULES[name] if i.count(".") == 1 and i.startswith("psopenai_py."))
    rooted = [i for i in rooted if i not in MODULES and not (PACKAGE / i.split(".")[1]).is_dir()]
    assert rooted == [], f"{name} imports names of the package root: {rooted}"


@pytest.mark.parametrize(
    ("library", "owner"),
    [
        ("requests", "psopenai_py.transport"),
        ("urllib3", "psopenai_py.transport"),
        ("keyring", "psopenai_py.keyring_store"),
    ],
)
def test_one_part_touches_each_library(library: str, owner: str):
    # The owner is a module or a package: its modules may import the library, nothing else may.
    users = sorted(n for n, imported in MODULES.items() if imports_any(imported, library))
    strangers = [n for n in users if not imports_any({n}, owner)]
    assert users and strangers == [], f"{library} is imported by {strangers}; only {owner} may"


@pytest.mark.parametrize("library", ["requests", "urllib3"])
def test_the_wire_format_needs_no_http_library(library: str):
    # URL, headers and body are pure functions, tested as tables and properties on their own.
    assert not imports_any(MODULES["psopenai_py.transport.wire"], library)


@pytest.mark.parametrize("name", [n for n in MODULES if n.startswith("psopenai_py.emulator")])
def test_the_emulator_imports_nothing_of_the_runtime(name: str):
    offending = sorted(
        i
        for i in MODULES[name]
        if imports_any({i}, "psopenai_py") and not i.startswith("psopenai_py.emulator")
    )
    assert offending == [], f"{name} imports {offending}"


def test_every_registered_command_resolves_to_its_own_unit():
    from psopenai_py.commands import REGISTRY, find_unit

    for name, module in REGISTRY.items():
        unit = find_unit(name.upper())
        assert unit.table.name == name
        assert unit.begin.__module__.startswith("psopenai_py.commands")
        assert unit.begin.__module__ in (f"psopenai_py.commands.{module}", "psopenai_py.commands.unit")


def test_every_unit_in_commands_is_registered():
    import importlib

    from psopenai_py.commands import REGISTRY

    listed = set(REGISTRY)
    for path in sorted((PACKAGE / "commands").glob("*.py")):
        module = importlib.import_module(f"psopenai_py.commands.{path.stem}")
        for unit in (*getattr(module, "UNITS", ()), *([module.UNIT] if hasattr(module, "UNIT") else [])):
            assert unit.table.name in listed, f"{unit.table.name} ({path.name}) is not in REGISTRY"
            assert REGISTRY[unit.table.name] == path.stem


def test_settings_keywords_come_from_one_place_and_match_every_api_command():
    from psopenai_py.commands import units
    from psopenai_py.commands.common import SETTINGS_KEYWORDS
    from psopenai_py.parameters import settings_parameters

    assert tuple(p.python_name for p in settings_parameters()) == SETTINGS_KEYWORDS
    api_commands = [u.table for u in units() if any(p.name == "AdditionalBody" for p in u.table.parameters)]
    assert len(api_commands) >= 5
    for table in api_commands:
        names = {p.python_name for p in table.parameters}
        assert set(SETTINGS_KEYWORDS) <= names, table.name


def test_every_command_keyword_dictionary_names_exactly_its_table():
    """The typed hand-off from a library function to its command names the same keywords as the
    command's parameter table (the binder's side of the hand-off)."""
    import importlib

    from psopenai_py.commands import REGISTRY
    from psopenai_py.commands.common import SettingsKwargs

    checked = 0
    for name, module_name in REGISTRY.items():
        module = importlib.import_module(f"psopenai_py.commands.{module_name}")
        typed = [
            value
            for key, value in vars(module).items()
            if key.endswith("Kwargs")
            and isinstance(value, type)
            and issubclass(value, dict)
            and value is not SettingsKwargs
            and value.__module__ == module.__name__
        ]
        if not typed:
            continue
        (kwargs_type,) = typed
        from psopenai_py.commands import find_unit

        table = find_unit(name).table
        keys = kwargs_type.__required_keys__ | kwargs_type.__optional_keys__  # type: ignore[attr-defined]
        assert keys == {p.python_name for p in table.parameters}, name
        checked += 1
    assert checked == 7


def settings_problems(signature: inspect.Signature, namespace: dict[str, Any]) -> list[str]:
    """How a library function's settings keywords differ from :class:`SettingsKwargs`: they close
    its signature, keyword-only, in the defined order, each defaulting to None and annotated with
    the defined type (annotations compared as types evaluated in the function's ``namespace``)."""
    from psopenai_py.commands.common import SETTINGS_KEYWORDS, SettingsKwargs

    defined = typing.get_type_hints(SettingsKwargs)
    tail = list(signature.parameters)[-len(SETTINGS_KEYWORDS) :]
    if tail != list(SETTINGS_KEYWORDS):
        return [f"the signature ends with {tail}, not {list(SETTINGS_KEYWORDS)}"]
    problems = []
    for name in SETTINGS_KEYWORDS:
        parameter = signature.parameters[name]
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            problems.append(f"{name} is not keyword-only")
        if parameter.default is not None:
            problems.append(f"{name} defaults to {parameter.default!r}")
        annotation = parameter.annotation
        while isinstance(annotation, str):  # postponed, and perhaps quoted as well
            annotation = eval(annotation, namespace)
        if annotation != defined[name]:
            problems.append(f"{name} is annotated {parameter.annotation!r}, not {defined[name]}")
    return problems


def _library_functions() -> list[Any]:
    """Every API command's library function as the package exports it, and its overloads."""
    import psopenai_py
    from psopenai_py.commands import units

    found = []
    for unit in units():
        if any(p.name == "AdditionalBody" for p in unit.table.parameters):
            function = getattr(psopenai_py, unit.table.python_name)
            found += [function, *getattr(typing, "get_overloads", lambda f: [])(function)]
    return found


def test_every_library_function_spells_the_settings_keywords_as_defined():
    functions = _library_functions()
    assert len({f.__name__ for f in functions}) == 7
    for function in functions:
        assert settings_problems(inspect.signature(function), function.__globals__) == [], function.__name__


def test_every_library_function_annotates_its_keywords_as_its_command_types_them():
    """The package's API functions and their commands' keyword TypedDicts spell each keyword's
    type twice (the signature for help() and editors, the TypedDict for the begin step): the
    two agree, compared as evaluated types."""
    import importlib
    import typing

    import psopenai_py
    from psopenai_py.commands import REGISTRY, find_unit

    checked = 0
    for name, module_name in REGISTRY.items():
        module = importlib.import_module(f"psopenai_py.commands.{module_name}")
        typed = [
            v
            for k, v in vars(module).items()
            if k.endswith("Kwargs") and getattr(v, "__module__", "") == module.__name__
        ]
        if not typed:
            continue
        (kwargs_type,) = typed
        function = getattr(psopenai_py, find_unit(name).table.python_name)
        hints = typing.get_type_hints(kwargs_type)
        for parameter in inspect.signature(function).parameters.values():
            annotation = parameter.annotation
            while isinstance(annotation, str):
                annotation = eval(annotation, function.__globals__)
            assert annotation == hints[parameter.name], (function.__name__, parameter.name)
        checked += 1
    assert checked == 7


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("timeout_sec", {"default": 0}),
        ("api_key", {"annotation": "str | None"}),
        ("additional_body", {"annotation": "Mapping[str, Any] | None"}),
        ("organization", {"default": inspect.Parameter.empty}),
    ],
)
def test_the_settings_check_catches_drift(name: str, change: dict[str, Any]):
    import psopenai_py

    function = psopenai_py.remove_chat_completion
    signature = inspect.signature(function)
    parameters = {**signature.parameters}
    parameters[name] = parameters[name].replace(**change)
    drifted = signature.replace(parameters=list(parameters.values()))
    assert settings_problems(signature, function.__globals__) == []
    assert settings_problems(drifted, function.__globals__) != []


def test_the_settings_check_catches_a_keyword_out_of_order():
    import psopenai_py

    function = psopenai_py.remove_chat_completion
    signature = inspect.signature(function)
    names = list(signature.parameters)
    names[-1], names[-2] = names[-2], names[-1]
    drifted = signature.replace(parameters=[signature.parameters[n] for n in names])
    assert settings_problems(drifted, function.__globals__) != []


_LOADING_PROBE = """
import importlib, json, sys

def loaded():
    return sorted(m for m in sys.modules if m.startswith("psopenai_py.commands.") or m == "requests")

door, spec = sys.argv[1], json.loads(sys.argv[2])
module = importlib.import_module(door)
steps = [["import", loaded()]]
for name, args in spec:
    value = getattr(module, name)
    steps.append([name, loaded()])
    if args is not None:
        try:
            value(*args, timeout_sec=-1)
        except ValueError as error:  # the out-of-range timeout, before any lookup or request
            assert "TimeoutSec" in str(error), error
        steps.append([name + "()", loaded()])
print(json.dumps(steps))
"""

_CALLS = {
    "set_chat_completion": ["chatcmpl-1", {}],
    "get_chat_completion": ["chatcmpl-1"],
    "remove_chat_completion": ["chatcmpl-1"],
    "get_chat_completion_message": ["chatcmpl-1"],
    "request_chat_completion": ["hi"],
    "restore_chat_completion_metadata": ["changes.jsonl"],
    "export_chat_completion": ["export.jsonl"],
}
"""Arguments each API function of the package takes (with an out-of-range timeout) to fail at
once, after its command's module is loaded."""


@pytest.mark.parametrize("door", ["psopenai_py", "psopenai_py.compat"])
def test_asking_for_a_command_loads_its_module_alone(door: str, tmp_path: Path):
    """A fresh interpreter: importing the package (or the PowerShell-named shims) loads no
    command module and no HTTP stack.  Then each public command in turn: asking for it loads
    its own module and no other command's; an API function of the package loads nothing until
    it is called, then its own module alone."""
    import json
    import subprocess
    import sys

    from psopenai_py.commands import REGISTRY, find_unit

    modules = {name: f"psopenai_py.commands.{module}" for name, module in REGISTRY.items()}
    if door == "psopenai_py":
        own = {find_unit(name).table.python_name: module for name, module in modules.items()}
        spec = [[name, _CALLS.get(name)] for name in own]
    else:
        own = {name.replace("-", "_"): module for name, module in modules.items()}
        spec = [[name, None] for name in own]
    result = subprocess.run(
        [sys.executable, "-c", _LOADING_PROBE, door, json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    (_, loaded), *steps = json.loads(result.stdout)
    command_modules = set(own.values())
    assert [m for m in loaded if m in command_modules or m == "requests"] == []
    before = set(loaded)
    for step, loaded in steps:
        name = step.removesuffix("()")
        new = (set(loaded) - before) & command_modules
        if step in _CALLS:
            assert new == set(), f"asking for {step} loaded {sorted(new)}"
        else:
            assert new <= {own[name]}, f"{step} loaded {sorted(new)}"
            assert own[name] in loaded, step
        before = set(loaded)
    assert len(own) == len(REGISTRY) == 13
    assert sum(step.endswith("()") for step, _ in steps) == (len(_CALLS) if door == "psopenai_py" else 0)


@pytest.mark.parametrize(("door", "least"), [("psopenai_py", 40), ("psopenai_py.compat", 16)])
def test_dir_and_star_import_show_every_public_name_before_it_is_loaded(door: str, least: int):
    import json
    import subprocess
    import sys

    probe = (
        f"import importlib, json; module = importlib.import_module({door!r})\n"
        "listed = dir(module)\n"
        "names = {}\n"
        f"exec('from {door} import *', names)\n"
        "print(json.dumps([module.__all__, listed, sorted(n for n in names if n != '__builtins__')]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    public, listed, star = json.loads(result.stdout)
    assert len(public) == len(set(public)) >= least
    assert set(public) <= set(listed)
    assert sorted(star) == sorted(public)


def test_the_root_exports_every_exception_and_nothing_else_of_errors():
    import psopenai_py
    from psopenai_py import errors

    exceptions = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
    }
    assert set(errors.__all__) == exceptions
    assert exceptions <= set(psopenai_py.__all__)
    assert all(getattr(psopenai_py, name) is getattr(errors, name) for name in exceptions)
    assert not hasattr(psopenai_py, "exception_from_response")
