"""Install Stoplight Prism, pinned in contract/package-lock.json, for the contract tests.

Run by the README's test command before pytest: ``npm ci --prefix contract`` when Prism is not
installed yet, nothing otherwise.  Without npm it stops with the one thing to do, so the contract
tests are never silently skipped on a machine that could run them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CONTRACT = Path(__file__).resolve().parent
NPM_CI = ["ci", "--prefix", str(CONTRACT), "--no-audit", "--no-fund", "--loglevel=error"]


def prism_path() -> Path:
    """Where npm puts the prism launcher (``prism.cmd`` on Windows)."""
    name = "prism.cmd" if os.name == "nt" else "prism"
    return CONTRACT / "node_modules" / ".bin" / name


def main() -> int:
    """Install Prism unless present; 0 when it is there afterwards."""
    if prism_path().exists():
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print(
            "install_prism: npm not found; the contract tests need Node.js 18 or later "
            "(https://nodejs.org), then run this again",
            file=sys.stderr,
        )
        return 1
    print("+ npm " + " ".join(NPM_CI), flush=True)
    try:
        result = subprocess.run([npm, *NPM_CI], check=False)
    except OSError as exc:
        print(f"install_prism: cannot run npm: {exc}", file=sys.stderr)
        return 1
    if result.returncode != 0 or not prism_path().exists():
        print(f"install_prism: npm ci failed (exit {result.returncode})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
