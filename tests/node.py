"""The npm packages the tests use (package-lock.json): axe-core for the accessibility checks and
lucide-static for the icon sprite's source. Installed with `npm ci` when node_modules is missing or
older than the lock file, exactly as scripts/lint-js does; never served to users (node_modules is
outside the static files)."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"


def _stale(stamp: Path) -> bool:
    lock = ROOT / "package-lock.json"
    return not stamp.exists() or lock.stat().st_mtime > stamp.stat().st_mtime


def node_modules() -> Path:
    stamp = NODE_MODULES / ".installed"
    if _stale(stamp):
        if not shutil.which("npm"):
            pytest.fail("Node.js mit npm wird für die Tests benötigt (Debian: apt-get install nodejs npm)")
        # pytest-xdist workers may get here together: one installs, the others wait for it.
        with open(ROOT / ".npm-ci.lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            if _stale(stamp):
                subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)
                stamp.touch()
    return NODE_MODULES


def axe_core() -> Path:
    return node_modules() / "axe-core" / "axe.min.js"
