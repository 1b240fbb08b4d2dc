"""The package installs and works the same from every install.

The fast tests keep the installed help pages (``psopenai_py/docs``) byte-equal to their source
``Docs/`` and check that an install without its pages says so. The ``packaging`` tests build the
sdist and the wheel (from the sdist, as a release does) from a copy of this tree, install the wheel
with ``pip --target`` and ``--user`` and as a zip on ``sys.path``, run ``psopenai help`` from each,
and run a subset of the suite from the unpacked sdist. They build without network
(``--no-isolation``), so the build requirements come from the ``test`` extra.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest

from psopenai_py.commands import units
from psopenai_py.powershell.helpdoc import read_page

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "Docs"
PACKAGED = ROOT / "psopenai_py" / "docs"
HELP = ["help", "Set-ChatCompletion", "-Examples"]

# What a working tree may hold that is not source: never copied, never packaged.
LEFTOVERS = (
    ".git",
    "node_modules",
    "__pycache__",
    "*.py[cod]",
    ".hypothesis",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
)


def _env(**extra: str) -> dict[str, str]:
    """The environment for a child Python: nothing of this tree on its path unless asked."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONUSERBASE")}
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


# `python -m X` with every editable-install finder taken out first: an editable install of the
# checkout that runs these tests would otherwise fill in any module missing from the copy under
# test (its finder comes after the PYTHONPATH entries), and the copy would look complete.
_WITHOUT_EDITABLE = (
    "import runpy, sys; "
    "gone = lambda f: 'editable' in getattr(f, '__name__', '').lower(); "
    "sys.meta_path[:] = [f for f in sys.meta_path if not gone(f)]; "
    "sys.path_hooks[:] = [h for h in sys.path_hooks if not gone(h)]; "
    "sys.path_importer_cache.clear(); "
    "module = sys.argv[1]; sys.argv = [module, *sys.argv[2:]]; "
    "runpy.run_module(module, run_name='__main__', alter_sys=True)"
)


def _python(
    args: list[str], cwd: Path, timeout: float = 60, keep_editable: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    # cwd is never the tree: `python -m` puts the working directory first on sys.path.
    if args[:1] == ["-m"] and not keep_editable:
        args = ["-c", _WITHOUT_EDITABLE, *args[1:]]
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


# -- the pages: Docs/ is the source, psopenai_py/docs/ the installed copy ----------------------------


def test_packaged_pages_are_byte_equal_to_docs():
    source = {p.name: p.read_bytes() for p in DOCS.glob("*.md")}
    packaged = {p.name: p.read_bytes() for p in PACKAGED.glob("*.md")}
    assert source, "Docs/ has no pages"
    fix = "copy the pages: cp Docs/*.md psopenai_py/docs/ (and delete those gone from Docs/)"
    assert sorted(packaged) == sorted(source), fix
    differing = sorted(name for name in source if packaged[name] != source[name])
    assert differing == [], f"{differing} differ from Docs/: {fix}"


def test_every_command_page_reads_through_importlib_resources():
    for unit in units():
        name = unit.table.name
        assert read_page(name) == (DOCS / f"{name}.md").read_text(encoding="utf-8"), name


TOPICS = sorted(p.stem for p in DOCS.glob("about_*.md"))


@pytest.mark.parametrize("topic", TOPICS)
def test_about_topics_show_every_line_of_their_page(topic: str):
    from psopenai_py.powershell.cli import main

    out, err = io.StringIO(), io.StringIO()
    assert main(["help", topic.upper()], stdout=out, stderr=err) == 0, err.getvalue()
    shown = {line.strip() for line in out.getvalue().splitlines()}
    assert out.getvalue().startswith(f"TOPIC\n    {topic}\n")
    for line in (DOCS / f"{topic}.md").read_text(encoding="utf-8").splitlines():
        # A link to another page shows as the page's name, as Get-Help shows related links.
        text = re.sub(r"\[([^\]]+)\]\([^)]+\.md\)", r"\1", line.lstrip("#").strip())
        if text and not line.startswith("```") and line != f"# {topic}":
            assert text in shown, line


def test_an_unknown_topic_is_an_error():
    from psopenai_py.powershell.cli import main

    out, err = io.StringIO(), io.StringIO()
    assert main(["help", "about_Nothing"], stdout=out, stderr=err) == 2
    assert out.getvalue() == "" and "about_Nothing" in err.getvalue()


@pytest.mark.parametrize("pages", ["no docs package", "no page in it"])
def test_an_install_without_pages_is_a_one_line_error(tmp_path: Path, pages: str):
    target = tmp_path / "site"
    shutil.copytree(ROOT / "psopenai_py", target / "psopenai_py", ignore=shutil.ignore_patterns(*LEFTOVERS))
    docs = target / "psopenai_py" / "docs"
    for page in docs.glob("*.md"):
        page.unlink()
    if pages == "no docs package":
        shutil.rmtree(docs)
    done = _python(["-m", "psopenai_py", *HELP], cwd=tmp_path, PYTHONPATH=str(target))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "Set-ChatCompletion.md is not installed" in done.stderr
    # One parameter's help comes from the table alone and still works.
    one = _python(
        ["-m", "psopenai_py", "help", "Set-ChatCompletion", "-Parameter", "MetaData"],
        cwd=tmp_path,
        PYTHONPATH=str(target),
    )
    assert one.returncode == 0 and "-MetaData <IDictionary>" in one.stdout, one.stderr


# -- build, install, run ------------------------------------------------------------------------------


@dataclass
class Built:
    tree: Path
    """The copy of the project the distributions were built from."""
    sdist: Path
    wheel: Path
    log: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    work = tmp_path_factory.mktemp("packaging")
    tree = work / "tree"
    # A copy, so the build's egg-info and build/ never land in the working tree.
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(*LEFTOVERS))
    # Leftovers a developer's tree has, planted so the sdist test sees the manifest keep them out.
    for junk in (
        "tests/__pycache__/x.cpython-311.pyc",
        "contract/node_modules/x/package.json",
        ".hypothesis/x",
    ):
        (tree / junk).parent.mkdir(parents=True, exist_ok=True)
        (tree / junk).write_text("{}", encoding="utf-8")
    dist = work / "dist"
    # Bytecode on, as on a user's machine: the bytecode steps must not warn either.
    env = {k: v for k, v in _env().items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(tree)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    yield Built(tree, sdist, wheel, log)


def _reference_help() -> str:
    done = _python(["-m", "psopenai_py", *HELP], cwd=ROOT.parent, PYTHONPATH=str(ROOT))
    assert done.returncode == 0, done.stderr
    return done.stdout


def _assert_examples(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    examples = done.stdout.split("\nEXAMPLES\n", 1)[1]
    assert re.search(r"^\s+Example 1: \S", examples, re.M), done.stdout
    assert done.stdout == _reference_help()


def _imported_from(cwd: Path, **env: str) -> str:
    code = "import psopenai_py; print(psopenai_py.__file__)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.packaging
def test_build_has_no_warnings(built: Built):
    noisy = [line for line in built.log.splitlines() if re.search(r"warn|deprecat", line, re.I)]
    assert noisy == []


@pytest.mark.packaging
def test_wheel_metadata_license_and_pages(built: Built):
    with zipfile.ZipFile(built.wheel) as wheel:
        names = wheel.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = wheel.read(metadata_name).decode("utf-8")
    assert "License-Expression: MIT" in metadata.splitlines()
    assert "License-File: LICENSE" in metadata.splitlines()
    assert not any(line.startswith("License: ") for line in metadata.splitlines())
    for classifier in (
        "Environment :: Console",
        "Operating System :: OS Independent",
        "Topic :: System :: Systems Administration",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.13",
        "Typing :: Typed",
    ):
        assert f"Classifier: {classifier}" in metadata.splitlines()
    assert any(line.startswith("Project-URL: ") for line in metadata.splitlines())
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    pages = sorted(n.rsplit("/", 1)[1] for n in names if re.fullmatch(r"psopenai_py/docs/[^/]+\.md", n))
    assert pages == sorted(p.name for p in DOCS.glob("*.md"))
    assert "psopenai_py/py.typed" in names
    # Nothing lands outside the package: the pages are package data, not data files.
    assert not any(n.startswith(("share/", "Docs/")) or ".data/" in n for n in names)


@pytest.mark.packaging
def test_help_from_a_target_install_and_from_a_zip(built: Built, tmp_path: Path):
    target = tmp_path / "target"
    pip = _python(
        [
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            "--target",
            str(target),
            str(built.wheel),
        ],
        cwd=tmp_path,
        timeout=120,
    )
    assert pip.returncode == 0, pip.stderr
    assert _imported_from(tmp_path, PYTHONPATH=str(target)).startswith(str(target))
    _assert_examples(_python(["-m", "psopenai_py", *HELP], cwd=tmp_path, PYTHONPATH=str(target)))

    # The installed package as a zip on sys.path: read by zipimport, pages through importlib.resources.
    archive = tmp_path / "psopenai_py.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((target / "psopenai_py").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zipped.write(path, path.relative_to(target).as_posix())
    assert _imported_from(tmp_path, PYTHONPATH=str(archive)).startswith(str(archive))
    _assert_examples(_python(["-m", "psopenai_py", *HELP], cwd=tmp_path, PYTHONPATH=str(archive)))
    for topic in TOPICS:  # an about_ topic is found by listing the pages: in a zip too
        done = _python(["-m", "psopenai_py", "help", topic.lower()], cwd=tmp_path, PYTHONPATH=str(archive))
        assert done.returncode == 0 and done.stdout.startswith(f"TOPIC\n    {topic}\n"), done.stderr


NO_USER_SITE = pytest.mark.skipif(
    sys.prefix != sys.base_prefix or not site.ENABLE_USER_SITE,
    reason="a virtual environment (or -s) has no user site-packages to install into",
)


def _user_install(tmp_path: Path, *what: str) -> Path:
    """``pip install --user`` into a fresh user base of its own; the base's path."""
    base = tmp_path / "userbase"
    pip = _python(
        [
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--quiet",
            "--user",
            *what,
        ],
        cwd=tmp_path,
        timeout=120,
        PYTHONUSERBASE=str(base),
    )
    assert pip.returncode == 0, pip.stderr
    return base


@pytest.mark.packaging
@NO_USER_SITE
def test_help_from_a_user_install(built: Built, tmp_path: Path):
    base = _user_install(tmp_path, str(built.wheel))
    assert _imported_from(tmp_path, PYTHONUSERBASE=str(base)).startswith(str(base))
    _assert_examples(
        _python(["-m", "psopenai_py", *HELP], cwd=tmp_path, keep_editable=True, PYTHONUSERBASE=str(base))
    )


@pytest.mark.packaging
@NO_USER_SITE
def test_help_from_an_editable_install(built: Built, tmp_path: Path):
    # Editable into a user base of its own: a site directory, so its .pth and finder are honoured.
    base = _user_install(tmp_path, "--editable", str(built.tree))
    assert _imported_from(tmp_path, PYTHONUSERBASE=str(base)).startswith(str(built.tree))
    _assert_examples(
        _python(["-m", "psopenai_py", *HELP], cwd=tmp_path, keep_editable=True, PYTHONUSERBASE=str(base))
    )


def _is_leftover(relative: str) -> bool:
    return any(fnmatch(part, pattern) for part in relative.split("/") for pattern in LEFTOVERS)


def _source_files(tree: Path) -> set[str]:
    """The files of the tree that the sdist must carry (not the package: pyproject.toml names it)."""
    found = {"LICENSE", "README.md", "pyproject.toml", "setup.cfg", "MANIFEST.in", ".ci/run"}
    for folder in ("Docs", "tests", "benchmarks"):
        found |= {p.relative_to(tree).as_posix() for p in (tree / folder).rglob("*") if p.is_file()}
    found |= {p.relative_to(tree).as_posix() for p in (tree / "contract").iterdir() if p.is_file()}
    return {name for name in found if not _is_leftover(name)}


@pytest.mark.packaging
def test_sdist_is_complete_and_its_tests_pass(built: Built, tmp_path: Path):
    with tarfile.open(built.sdist) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if m.isfile()}
        top = sdist.getmembers()[0].name.split("/", 1)[0]
        if hasattr(tarfile, "data_filter"):  # the safe extraction filter (3.10.12+, 3.11.4+)
            sdist.extractall(tmp_path, filter="data")
        else:  # pragma: no cover - older patch releases
            sdist.extractall(tmp_path)
    missing = sorted(_source_files(built.tree) - members)
    assert missing == []
    for needed in ("tests/conftest.py", "tests/__init__.py", "contract/package.json", "LICENSE"):
        assert needed in members
    # The planted leftovers stayed out (an sdist carries its own egg-info, though).
    assert [m for m in members if _is_leftover(m) and not m.startswith("psopenai_py.egg-info/")] == []

    unpacked = tmp_path / top
    done = _python(
        [
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "-m",
            "not packaging",
            "tests/test_docs.py",
            "tests/test_validation.py",
            "tests/test_layout.py",
            "tests/test_packaging.py",
        ],
        cwd=unpacked,
        timeout=120,
        PYTHONPATH=str(unpacked),
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.fullmatch(r"\d+ passed, \d+ deselected in [\d.]+s", summary), summary
    assert "skipped" not in done.stdout
    # The tests ran against the unpacked tree, not this one.
    assert _imported_from(unpacked, PYTHONPATH=str(unpacked)).startswith(str(unpacked))
