"""``pip install '.[test]'`` is all the test command needs, and the README says which tests may
skip.

The ``test`` extra must hold every third-party package the suite imports (tests, benchmarks and
the contract scripts, which mypy checks too), every tool it runs as ``python -m <tool>``, and the
type stubs mypy needs for them.  Every place a test may skip belongs to a kind the README's
paragraph on skips names, so a new kind of skip cannot arrive unannounced.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = [*sorted((ROOT / "tests").glob("*.py")), *sorted((ROOT / "benchmarks").glob("*.py"))]
CHECKED += sorted((ROOT / "contract").glob("*.py"))
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
# Installed by pip itself, or the project and its own modules.
NOT_REQUIRED = {"pip", "psopenai_py", "tests", "cut_openapi", "install_prism", "openapi"}


def _array(name: str) -> set[str]:
    """The distribution names of a requirements array of pyproject.toml (``name = [...]`` at the
    start of a line).  Read with a pattern: tomllib is Python 3.11's, the project supports 3.10,
    and these arrays are plain lists of quoted requirements with comments."""
    body = re.search(rf"^{re.escape(name)} = \[\n(.*?)^\]", PYPROJECT, re.S | re.M)
    assert body is not None, name
    requirements = re.findall(r'^\s*"([^"]+)",?\s*(?:#.*)?$', body.group(1), re.M)
    return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


RUNTIME = _array("dependencies")
TEST_EXTRA = _array("test")


def _third_party_imports() -> dict[str, list[str]]:
    """Top-level modules imported by the checked files, outside the standard library: the files
    that import each."""
    found: dict[str, list[str]] = {}
    for path in CHECKED:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".", 1)[0]
                sibling = (path.parent / f"{top}.py").exists()  # a script's own helper beside it
                if top not in sys.stdlib_module_names and top not in NOT_REQUIRED and not sibling:
                    found.setdefault(top, []).append(path.name)
    return found


@functools.lru_cache(maxsize=1)
def _installed() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _distributions(module: str) -> set[str]:
    names = _installed().get(module, [])
    return {name.lower().replace("_", "-") for name in names}


def test_every_imported_package_comes_with_the_project_or_the_test_extra():
    missing = {
        module: files
        for module, files in _third_party_imports().items()
        if not _distributions(module) & (RUNTIME | TEST_EXTRA)
    }
    assert missing == {}


def _tools_run() -> set[str]:
    """What the tests run as ``python -m <tool>`` (``"-m", "ruff"`` in a subprocess's words)."""
    tools = set()
    for path in (ROOT / "tests").glob("*.py"):
        tools |= set(re.findall(r'"-m",\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    return tools - NOT_REQUIRED


def test_every_tool_the_tests_run_is_in_the_test_extra():
    tools = _tools_run()
    assert {"ruff", "mypy", "build", "pytest"} <= tools  # the finder finds them
    assert sorted(tool for tool in tools if tool not in TEST_EXTRA) == []


def test_mypy_finds_types_for_every_imported_package():
    """mypy checks tests, benchmarks and the contract scripts strictly: a package without its
    own types (py.typed) needs its stubs in the extra, or an ignore in setup.cfg."""
    config = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    ignored = set(re.findall(r"^\[mypy-([a-z_]+)\.\*\]\nignore_missing_imports = True", config, re.M))
    lacking = []
    for module in sorted(set(_third_party_imports()) - ignored):
        typed = any(
            str(f).endswith(f"{module}/py.typed")
            for name in _distributions(module)
            for f in importlib.metadata.distribution(name).files or []
        )
        stubs = _distributions(f"{module}-stubs")
        if not typed and not stubs & TEST_EXTRA:
            lacking.append(module)
    assert lacking == []


def test_the_readme_installs_the_test_extra():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = readme.split("<!-- test-command", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert "pip install -e '.[test]'" in command


# -- which tests may skip ---------------------------------------------------------------------------


def _skip_paragraph() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("- Skips are never silent")
    return " ".join(readme[start:].split("\n- ", 2)[0].split())


SKIP_KINDS = {
    "on Windows": lambda path, call: bool(
        re.search(
            r"os\.name != 'posix'|sys\.platform == 'win32'|'fcntl'|/dev/full|/dev/zero|POSIX|'link'", call
        )
    ),
    "Secret Service": lambda path, call: path == "test_secret_service.py",
    "`--user` install tests": lambda path, call: "ENABLE_USER_SITE" in call,
    "contract tests skip": lambda path, call: path == "test_contract.py",
    # The official package and the libraries it brings (its HTTP client, its models).
    "`openai` package": lambda path, call: any(name in call for name in ("openai", "httpx", "pydantic")),
}
"""Each kind of skip, the README's words for it, and how its place in a test file looks."""


def _skip_places() -> list[tuple[str, str]]:
    places = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in (
                "pytest.mark.skipif",
                "pytest.skip",
                "pytest.importorskip",
            ):
                places.append((path.name, ast.unparse(node)))
    return places


def test_every_place_a_test_may_skip_is_of_a_kind_the_readme_names():
    places = _skip_places()
    assert len(places) > 5
    unnamed = [(path, call) for path, call in places if not any(k(path, call) for k in SKIP_KINDS.values())]
    assert unnamed == []
    paragraph = _skip_paragraph()
    assert [words for words in SKIP_KINDS if words not in paragraph] == []
