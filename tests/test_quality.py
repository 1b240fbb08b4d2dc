"""The code stays ruff- and mypy-clean, and the package import stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_clean():
    result = run("-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_clean():
    result = run("-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_does_not_load_the_http_stack_or_keyring():
    result = run(
        "-c",
        "import sys, psopenai_py; "
        "print(sorted(m for m in ('requests', 'urllib3', 'keyring') "
        "if m in sys.modules))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_ruff_format_clean():
    result = run("-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
