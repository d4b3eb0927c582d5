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
    unchanged = run(["feeds", "restore", "hotline", "1"], tmp_path)
    assert unchanged.returncode == 0, unchanged.stderr
    assert unchanged.stdout.splitlines()[-1] == (
        "hotline unchanged: version 3, in force, has the text of version 1 already"
    )
    definition.write_text(HOTLINE, "utf-8")
    resent = run(["feeds", "add", str(definition)], tmp_path).stdout.splitlines()[-1]
    assert resent == "hotline unchanged: this is version 3, in force already"
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


def run_fed(args: list[str], data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`run` with cheap argon2 and ``stdin`` for standard input (never a terminal)."""
    env = {
        **os.environ,
        "CB_DATA_DIR": str(data_dir),
        "CB_DATABASE_URL": "",
        "CB_REDIS_URL": "",
        "CB_ARGON2_TIME_COST": "1",
        "CB_ARGON2_MEMORY_KIB": "8192",
    }
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _answers_over_http(data_dir: Path, calls: list[tuple[str, str, dict[str, str]]]) -> list[int]:
    """The statuses a worker on this data directory gives: (method, path, form or bearer) each."""
    import asyncio

    import httpx

    from service.main import create_app
    from service.settings import Settings

    async def ask() -> list[int]:
        app = create_app(Settings(data_dir=data_dir, database_url="", redis_url="", sla_check_interval_s=0))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://cli-test") as http:
                statuses = []
                for method, path, sent in calls:
                    if "bearer" in sent:
                        answer = await http.request(method, path, headers={"Authorization": f"Bearer {sent['bearer']}"})
                    else:
                        answer = await http.request(method, path, data=sent)
                    statuses.append(answer.status_code)
                return statuses

    return asyncio.run(ask())


def test_keys_and_users_are_listed_revoked_deactivated_and_given_passwords(tmp_path: Path) -> None:
    assert run_fed(["migrate"], tmp_path).returncode == 0
    made = run_fed(["keys", "create", "--role", "display", "--label", "wall-1"], tmp_path)
    assert made.returncode == 0, made.stderr
    key = made.stdout.splitlines()[-1]
    key_id = key.split("_")[1]
    kept = run_fed(["keys", "create", "--role", "display", "--label", "wall-2"], tmp_path).stdout.splitlines()[-1]
    for name, role in (("boss", "admin"), ("wang", "operator")):
        user = run_fed(["users", "create", "--username", name, "--role", role, "--password", "long-enough-1"], tmp_path)
        assert user.returncode == 0, user.stderr

    listed = run_fed(["keys", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "key_id\trole\tsource\tstate\tcreated_at\tname"
    assert lines[1].startswith(f"{key_id}\tdisplay\t-\tactive\t") and lines[1].endswith("\twall-1")
    assert key.split("_", 2)[2] not in listed.stdout and kept.split("_", 2)[2] not in listed.stdout

    revoked = run_fed(["keys", "revoke", key_id], tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.startswith("revoked display key 'wall-1'")
    again = run_fed(["keys", "revoke", key], tmp_path)  # the whole key will do too
    assert again.returncode == 0 and "revoked already" in again.stdout
    assert f"{key_id}\tdisplay\t-\trevoked\t" in run_fed(["keys", "list"], tmp_path).stdout
    unknown = run_fed(["keys", "revoke", "0123456789ab"], tmp_path)
    assert unknown.returncode == 2 and unknown.stderr == "error: no key '0123456789ab'\n"

    deactivated = run_fed(["users", "deactivate", "wang"], tmp_path)
    assert deactivated.returncode == 0, deactivated.stderr
    users = run_fed(["users", "list"], tmp_path).stdout.splitlines()
    assert users[0] == "username\trole\tstate\tcreated_at"
    assert users[1].startswith("boss\tadmin\tactive\t") and users[2].startswith("wang\toperator\tdeactivated\t")
    last_admin = run_fed(["users", "deactivate", "boss"], tmp_path)
    assert last_admin.returncode == 2 and last_admin.stderr.count("\n") == 1
    assert "last active admin" in last_admin.stderr
    nobody = run_fed(["users", "deactivate", "nobody"], tmp_path)
    assert nobody.returncode == 2 and nobody.stderr == "error: no user 'nobody'\n"

    assert _answers_over_http(
        tmp_path,
        [
            ("GET", "/api/v1/stats", {"bearer": key}),
            ("GET", "/api/v1/stats", {"bearer": kept}),
            ("POST", "/api/v1/auth/token", {"username": "wang", "password": "long-enough-1"}),
        ],
    ) == [401, 200, 401]

    assert run_fed(["users", "activate", "wang"], tmp_path).returncode == 0
    short = run_fed(["users", "set-password", "wang", "--password-stdin"], tmp_path, stdin="short\n")
    assert short.returncode == 2 and short.stderr == "error: password: at least 8 characters\n"
    no_terminal = run_fed(["users", "set-password", "wang"], tmp_path, stdin="a-new-password\n")
    assert no_terminal.returncode == 2 and "--password-stdin" in no_terminal.stderr
    changed = run_fed(["users", "set-password", "wang", "--password-stdin"], tmp_path, stdin="a-new-password\n")
    assert changed.returncode == 0, changed.stderr
    assert "a-new-password" not in changed.stdout + changed.stderr
    assert _answers_over_http(
        tmp_path,
        [
            ("POST", "/api/v1/auth/token", {"username": "wang", "password": "long-enough-1"}),
            ("POST", "/api/v1/auth/token", {"username": "wang", "password": "a-new-password"}),
        ],
    ) == [401, 200]


def test_commands_on_data_refuse_a_database_not_migrated_and_create_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "elsewhere"
    for args in (["keys", "list"], ["registry", "import", str(DEMO_DATA / "registry.csv")]):
        refused = run(args, data_dir)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr == (
            f"error: there is no database at {data_dir.resolve() / 'community-brain.db'}: run `community-brain migrate`"
            f" first, or point CB_DATA_DIR (now {data_dir.resolve()}) at the service's data\n"
        )
    assert not data_dir.exists()


def test_imports_exit_1_when_rows_are_rejected_and_2_for_an_unknown_source(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    register = tmp_path / "registry.csv"
    register.write_text(
        "entity_id,kind,name\nLF-1,shop,一号店\nLF-2,castle,城堡\n",
        encoding="utf-8",
    )
    partly = run(["registry", "import", str(register)], tmp_path)
    assert partly.returncode == 1, partly.stderr
    assert partly.stdout.splitlines()[-1] == "rows read 2 = created 1 + rejected 1"
    unknown = run(["import", "--source", "nosuch", str(register)], tmp_path)
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: unknown source 'nosuch'; known sources: ")
    assert "Traceback" not in unknown.stderr


def test_watch_takes_its_own_options() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "service", "watch", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert shown.returncode == 0 and shown.stdout.startswith("usage: community-brain watch")
    no_key = subprocess.run(
        [sys.executable, "-m", "service", "watch", "--url", "http://127.0.0.1:9"],
        env={k: v for k, v in os.environ.items() if k != "CB_WATCH_KEY"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert no_key.returncode == 2 and no_key.stderr == "community-brain watch: --key (or CB_WATCH_KEY) is required\n"
