"""The console commands a newcomer and an admin use."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.data import DEMO_DATA
from tests.support.new_departments import generate

HOTLINE = """
source = "hotline"
name = "12345热线"
label = "热线"
colour = "#845ef7"

[transport]
kinds = ["json"]

[record]
id = "gdbh"

[fields.time]
field = "ldsj"

[category]
field = "gdlx"
map = { "噪音扰民" = "noise" }
"""


def run(args: list[str], data_dir: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CB_DATA_DIR": str(data_dir), "CB_DATABASE_URL": "", "CB_REDIS_URL": "", **extra_env}
    return subprocess.run(
        [sys.executable, "-m", "service", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_migrate_import_keys_users_and_verify(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    imported = run(["registry", "import", str(DEMO_DATA / "registry.csv")], tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines()[-1] == "rows read 850 = created 850"
    key = run(["keys", "create", "--role", "department", "--source", "police"], tmp_path)
    assert key.returncode == 0, key.stderr
    assert key.stdout.splitlines()[-1].startswith("cbk_")
    bad = run(["keys", "create", "--role", "department", "--source", "nowhere"], tmp_path)
    assert bad.returncode == 2 and "source" in bad.stderr
    user = run(["users", "create", "--username", "li", "--role", "inspector", "--password", "long-enough-1"], tmp_path)
    assert user.returncode == 0, user.stderr
    market = run(["import", "--source", "market", str(DEMO_DATA / "market.csv")], tmp_path)
    assert market.returncode == 0, market.stderr
    assert market.stdout.splitlines()[-1].startswith("rows read 1300 = created 1300")
    verified = run(["ledger", "verify"], tmp_path)
    assert verified.returncode == 0 and '"ok": true' in verified.stdout


def test_a_department_defined_by_a_file_gets_keys_and_imports(tmp_path: Path) -> None:
    generate(DEMO_DATA / "registry.csv").write(tmp_path / "samples")
    assert run(["migrate"], tmp_path).returncode == 0
    for source in ("fire", "health"):
        key = run(["keys", "create", "--role", "department", "--source", source], tmp_path)
        assert key.returncode == 0, key.stderr
        assert key.stdout.splitlines()[0].endswith(f" for {source}")
        assert key.stdout.splitlines()[-1].startswith("cbk_")
    fire = run(["import", "--source", "fire", str(tmp_path / "samples" / "fire.xlsx")], tmp_path)
    assert fire.returncode == 0, fire.stderr
    assert fire.stdout.splitlines()[-1].endswith("+ rejected 0")


def test_feeds_add_installs_a_definition_and_restore_brings_one_back(tmp_path: Path) -> None:
    definition = tmp_path / "hotline.toml"
    definition.write_text(HOTLINE, "utf-8")
    assert run(["migrate"], tmp_path).returncode == 0
    added = run(["feeds", "add", str(definition)], tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[-1] == "installed hotline (12345热线, 热线) as version 1"
    key = run(["keys", "create", "--role", "department", "--source", "hotline"], tmp_path)
    assert key.returncode == 0, key.stderr
    definition.write_text(HOTLINE.replace("#845ef7", "#123456"), "utf-8")
    assert run(["feeds", "add", str(definition)], tmp_path).stdout.splitlines()[-1].endswith("as version 2")
    restored = run(["feeds", "restore", "hotline", "1"], tmp_path)
    assert restored.stdout.splitlines()[-1] == "restored hotline version 1 as version 3", restored.stderr
    definition.write_text(HOTLINE.replace('"noise"', '"noize"'), "utf-8")
    wrong = run(["feeds", "add", str(definition)], tmp_path)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert "  category.map.噪音扰民: unknown category 'noize'" in wrong.stderr


def test_data_commands_open_the_database_alone(tmp_path: Path) -> None:
    """keys, users and the ledger work on the data: no broker, hub, ingest writer or webhook worker
    is started for them, so they never reach for Redis (here a listener that only counts callers)."""
    assert run(["migrate"], tmp_path).returncode == 0
    with socket.socket() as redis_stand_in:
        redis_stand_in.bind(("127.0.0.1", 0))
        redis_stand_in.listen(8)
        redis_url = f"redis://127.0.0.1:{redis_stand_in.getsockname()[1]}/0"
        for args in (
            ["keys", "create", "--role", "display"],
            ["users", "create", "--username", "wang", "--role", "operator", "--password", "long-enough-1"],
            ["ledger", "verify"],
        ):
            done = run(args, tmp_path, CB_REDIS_URL=redis_url)
            assert done.returncode == 0 and done.stderr == "", (args, done.stderr)
        redis_stand_in.setblocking(False)
        with pytest.raises(BlockingIOError):  # nobody knocked
            redis_stand_in.accept()
