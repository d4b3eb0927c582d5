"""A wheel built from the tree carries the frontend bundle and the migrations: installed into a fresh
virtual environment, `community-brain serve` migrates a new database and serves the wall, with no
Node and no source tree at run time.

Offline: the wheel is built without build isolation (setuptools and wheel of the test's own
environment), and the fresh environment takes its dependencies from the test's site-packages
through a .pth line (which, unlike a site directory, runs none of that directory's own .pth
files, so the test environment's editable install of the service is not seen).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_MISSING = shutil.which("node") is None or shutil.which("npm") is None
NODE_MODULES = ROOT / "frontend" / "node_modules"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list the tree's files"),
]


def copy_of_the_tree(target: Path) -> Path:
    """The repository's files (tracked and new, not ignored): no bundle, no node_modules, no build/."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    assert not (target / "service" / "static" / "app").exists()
    return target


def build_wheel(tree: Path, out: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w"]
    return subprocess.run([*pip_wheel, str(out), "."], cwd=tree, env=env, capture_output=True, text=True, timeout=300)


def test_a_wheel_build_without_a_bundle_or_node_stops_and_says_why(tmp_path: Path) -> None:
    tree = copy_of_the_tree(tmp_path / "src")
    python_only = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # no node, no npm
    result = build_wheel(tree, tmp_path / "dist", python_only)
    assert result.returncode != 0
    assert "frontend bundle service/static/app is missing and Node.js" in result.stdout + result.stderr
    assert not list(tmp_path.glob("dist/*.whl"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if NODE_MISSING or not NODE_MODULES.exists():
        pytest.skip("needs Node and frontend/node_modules to build the bundle into the wheel")
    base = tmp_path_factory.mktemp("wheel")
    tree = copy_of_the_tree(base / "src")
    (tree / "frontend" / "node_modules").symlink_to(NODE_MODULES.resolve())
    result = build_wheel(tree, base / "dist")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (built,) = (base / "dist").glob("community_brain-*.whl")
    return built


def test_the_wheel_carries_the_bundle_and_the_migrations(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "service/static/app/index.html" in names
    assets = [n for n in names if n.startswith("service/static/app/assets/")]
    assert any(n.endswith(".js") for n in assets) and any(n.endswith(".css") for n in assets)
    assert "service/migrations/env.py" in names
    # The complaint classifier's model and the hotline's definition are data files the service reads.
    assert {"service/residents/theme_model.json", "service/feeds/definitions/shipped/hotline.toml"} <= set(names)
    migrations = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    assert sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("service/migrations/versions/")) == migrations


@pytest.fixture
def installed(wheel: Path, tmp_path: Path) -> Path:
    """A fresh virtual environment with the wheel installed; its bin directory."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet",
         str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run(
        [str(python), "-c", "import service; print(service.__file__)"], cwd=tmp_path,
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert where.startswith(site), f"the service was imported from {where}, not from the installed wheel"
    return venv / "bin"


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    data = tmp_path / "data"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CB_") and k != "PYTHONPATH"}
    env.update({"CB_DATA_DIR": str(data), "CB_LOG_LEVEL": "WARNING", "PATH": str(installed)})  # no node
    log = (data / "server.log").open("wb")
    server = subprocess.Popen(
        [str(installed / "community-brain"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=data, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (data / "server.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the installed server did not become ready"
            time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_installed_wheel_serves_the_wall_and_its_assets(served: str, installed: Path) -> None:
    page = httpx.get(f"{served}/wall", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "前端尚未构建" not in page.text
    referenced = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
    assert any(a.endswith(".js") for a in referenced) and any(a.endswith(".css") for a in referenced)

    # The wall's own chunks are loaded on demand: fetch every file of the installed bundle.
    site = next(installed.parent.glob("lib/python*/site-packages"))
    bundled = sorted(p.name for p in (site / "service" / "static" / "app" / "assets").iterdir())
    assert {a.removeprefix("/assets/") for a in referenced} <= set(bundled)
    assert any(name.startswith("WallPage") for name in bundled)
    kinds = {".js": "text/javascript", ".css": "text/css"}
    for name in bundled:
        suffix = Path(name).suffix
        if suffix not in kinds:
            continue
        asset = httpx.get(f"{served}/assets/{name}", timeout=10)
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].split(";")[0] in (kinds[suffix], "application/javascript"), name
        assert asset.content

    # The database was migrated from the migrations inside the wheel.
    health = httpx.get(f"{served}/readyz", timeout=10)
    assert health.status_code == 200
