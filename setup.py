"""Build hook: a wheel carries the built frontend bundle and the migrations, so an installed service
serves the wall and migrates its database with no Node and no source tree at run time.

Everything else about the package is in pyproject.toml. The bundle (service/static/app) is built
with the frontend's own `npm run build` when it is missing or older than frontend/, and Node is on
PATH; a build from a tree without frontend/ (the Docker image's wheel stage, an unpacked release)
takes the bundle that is there. With neither a bundle nor Node the wheel build stops and says so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FRONTEND = ROOT / "frontend"
BUNDLE_INDEX = ROOT / "service" / "static" / "app" / "index.html"
MIGRATIONS = ROOT / "migrations"
# What the bundle is built from (the Makefile's frontend target watches the same).
FRONTEND_INPUTS = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts")


class FrontendMissing(RuntimeError):
    pass


def _newest_input() -> float:
    newest = 0.0
    for name in FRONTEND_INPUTS:
        path = FRONTEND / name
        files = path.rglob("*") if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                newest = max(newest, file.stat().st_mtime)
    return newest


def bundle_state() -> str:
    """'current', 'stale' or 'missing' (a tree without frontend/ takes its bundle as current)."""
    if not BUNDLE_INDEX.is_file():
        return "missing"
    if not (FRONTEND / "package.json").is_file():
        return "current"
    return "current" if BUNDLE_INDEX.stat().st_mtime >= _newest_input() else "stale"


def build_frontend() -> None:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise FrontendMissing(
            "community-brain: the frontend bundle service/static/app is missing and Node.js (node, npm) is "
            "not on PATH. Install Node 20 and build again, or build the bundle first (make frontend), or "
            "install a wheel that carries it."
        )
    if not (FRONTEND / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FRONTEND, check=True)
    subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)
    if not BUNDLE_INDEX.is_file():
        raise FrontendMissing(f"community-brain: `npm run build` ran but {BUNDLE_INDEX} is not there")


class BuildPyWithFrontend(build_py):
    """build_py that first makes sure the bundle is there and current, and adds the migrations."""

    def run(self) -> None:
        state = bundle_state()
        if state != "current":
            try:
                build_frontend()
            except (FrontendMissing, subprocess.CalledProcessError) as failure:
                # An editable install serves from this tree, where `make frontend` can build it
                # later; a stale bundle still works. A wheel without one would serve no screens.
                if state == "missing" and not getattr(self, "editable_mode", False):
                    raise
                self.warn(f"frontend bundle is {state} and could not be built ({failure}); keeping it as it is")
        super().run()
        if not getattr(self, "editable_mode", False):
            self._copy_migrations()

    def _copy_migrations(self) -> None:
        # Beside service/ in the source tree; inside it (service/migrations) in a wheel, where
        # service/db/migrate.py looks when there is no source tree around the package.
        target = Path(self.build_lib) / "service" / "migrations"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(MIGRATIONS, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithFrontend})
