"""The README's Install section works as written: its install lines, run by a shell in a copy of
the project, make a new virtual environment where ``psopenai`` runs.

The lines run as a user runs them, with the network left out: pip is told to use no index
(``PIP_NO_INDEX``) and to build without an isolated build environment, and the packages the
project needs (and setuptools, its build backend) are lent from this interpreter's installation
on ``PYTHONPATH``, so pip finds every requirement met and fetches nothing.  The project itself
is built and installed into the new environment from the copy.  pipx cannot be run offline (it
fetches its own shared packages), so for the pipx line what pipx relies on is checked: the
installed distribution declares the ``psopenai`` console script, which pipx puts on the PATH.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from .test_packaging import LEFTOVERS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _install_block() -> str:
    """The code block after the ``install-command`` marker, as .ci/run finds the test command."""
    after = README.split("<!-- install-command", 1)[1]
    return after.split("```sh\n", 1)[1].split("```", 1)[0]


def _requirements(name: str) -> list[str]:
    """The names ``name`` requires here (markers evaluated, no extras)."""
    from packaging.requirements import Requirement

    needed = []
    for text in importlib.metadata.distribution(name).requires or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            needed.append(requirement.name)
    return needed


def _lend_dependencies(target: Path) -> None:
    """Put what the project needs to build and run into ``target``, as links into this
    interpreter's installation (each distribution's top-level files, its metadata included)."""
    todo = [*_requirements("psopenai_py"), "setuptools"]
    seen: set[str] = set()
    target.mkdir()
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        distribution = importlib.metadata.distribution(name)
        todo += _requirements(name)
        base = Path(str(distribution.locate_file("")))
        for top in {PurePosixPath(str(f)).parts[0] for f in distribution.files or []}:
            if top in ("..", "__pycache__") or top.endswith(".pth") or (target / top).exists():
                continue
            if (base / top).exists():
                (target / top).symlink_to(base / top)


def test_the_install_section_comes_first_and_says_what_to_do_on_debian():
    titles = re.findall(r"^## (.+)$", README, re.M)
    assert titles.index("Install") == titles.index("Two commands") - 1
    section = " ".join(_section("Install").split())
    for needed in (
        "python3 -m venv .venv",
        "py -m venv .venv",  # Windows
        "pipx install .",
        "externally-managed-environment",
        "sudo apt install python3-venv",
        "sudo apt install pipx",
    ):
        assert needed in section, needed
    # The Two commands section keeps its two commands, the test command after its marker.
    two = _section("Two commands")
    assert two.count("```sh\n") == 2
    assert "<!-- test-command" in two


@pytest.mark.packaging
@pytest.mark.skipif(sys.platform == "win32", reason="the README's install lines are sh (POSIX)")
def test_the_readme_install_lines_make_a_working_environment(tmp_path: Path):
    tree = tmp_path / "psopenai_py-checkout"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(*LEFTOVERS))
    lent = tmp_path / "lent"
    _lend_dependencies(lent)
    # `python3` on the PATH is this interpreter's base Python, as a user's would be.
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "python3").symlink_to(Path(getattr(sys, "_base_executable", sys.executable)).resolve())
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "OPENAI_", "CONDA"))
    }
    env.update(
        PATH=f"{tools}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(lent),
        PYTHONNOUSERSITE="1",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",  # pip reads a "no-" option's variable inverted: 0 turns it on
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_CONFIG_FILE=os.devnull,  # no machine's pip settings (an index, find-links)
    )
    block = _install_block()
    done = subprocess.run(
        ["sh", "-e", "-c", block], cwd=tree, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Successfully installed psopenai_py" in done.stdout

    venv = tree / ".venv"
    python, psopenai = venv / "bin" / "python", venv / "bin" / "psopenai"

    def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
        # From elsewhere: the checkout's own package directory must not be what is imported.
        return subprocess.run(
            [str(a) for a in argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )

    where = run(python, "-c", "import psopenai_py; print(psopenai_py.__file__)")
    assert where.stdout.startswith(str(venv / "lib")), where.stdout + where.stderr
    assert "site-packages" in where.stdout
    version = run(psopenai, "--version")
    assert version.returncode == 0 and version.stdout.startswith("psopenai_py "), version.stderr
    demo = run(psopenai, "demo")
    assert demo.returncode == 0, demo.stderr
    assert '"reviewed":"yes"' in demo.stdout.replace(" ", "")
    # What pipx installs and puts on the PATH: the console script the distribution declares.
    scripts = run(
        python,
        "-c",
        "import importlib.metadata as m; "
        "print([e.value for e in m.entry_points(group='console_scripts') if e.name == 'psopenai'])",
    )
    assert scripts.stdout.strip() == "['psopenai_py.__main__:main']", scripts.stderr
