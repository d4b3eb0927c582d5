"""Alerta 9.1 as the peer bench_vs_alerta.py measures against; a helper, not a benchmark of its own.

Alerta (alerta-server) is an open-source alert ingest and de-duplication server on Flask and
PostgreSQL. `AlertaPeer` installs it into a venv of its own under the system temp directory (pip,
from the package index this machine is set up with; psycopg2 builds against libpq-dev), gives it a
PostgreSQL role and database of its own, and serves it with gunicorn and two sync workers as its
docs deploy it. Leaving the block stops it and drops the database and the role; the venv goes too
unless it is kept (or was given).

A department record maps to an alert the way an operator would configure it: resource = the
department's record id, event = source:category code, environment Production, one severity per
record. Alerta de-duplicates on (environment, resource, event, severity), so a resent record
counts as a duplicate of its alert and a revision (new status, new text) updates the alert's
value and text as a duplicate too. Stored once means: one alert per record, duplicateCount =
resends + revisions.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
from bench_ingest_batch import ADMIN_DSN, free_port

ALERTA_REQUIREMENTS = ("alerta-server[postgres]==9.1.0", "gunicorn==27.0.1")
ENVIRONMENT = "Production"
SEVERITY = "minor"  # one severity for every record: a change of severity would be a correlation, not a revision
DEPARTMENTS = {"police": "Police 110", "city": "City management", "market": "Market supervision"}
# Alertmanager's "no end yet"
OPEN_END = "0001-01-01T00:00:00Z"


class PrerequisiteMissing(RuntimeError):
    """Something the peer needs is not on this machine; the message says what and how to get it."""


# --- department records as alerts -----------------------------------------------------------------


def alert_for(source: str, body: dict[str, Any]) -> dict[str, Any]:
    """The Alerta alert (POST /alert) that reports the same thing as this police call or city case."""
    if source == "police":
        resource, code, label = body["jjdbh"], body["bjlbdm"], body["bjlb"]
        text, value, address, name, at = body["bjnr"], body["jqzt"], body["afdz"], body["dwmc"], body["bjsj"]
    elif source == "city":
        resource, code, label = body["taskId"], body["categoryCode"], body["categoryName"]
        text, value, address = body["description"], body["stage"], body["address"]
        name, at = body.get("shopName") or "", body["discoverTime"]
    else:
        raise ValueError(f"no alert mapping for {source} records")
    return {
        "resource": resource,
        "event": f"{source}:{code}",
        "environment": ENVIRONMENT,
        "severity": SEVERITY,
        "service": [DEPARTMENTS[source]],
        "group": label,
        "value": value,
        "text": text,
        "origin": f"{source}-feed",
        "type": "communityReport",
        "attributes": {"address": address, "name": name, "occurredAt": at},
    }


def prometheus_alert(alert: dict[str, Any]) -> dict[str, Any]:
    """The same alert as Alertmanager sends it to Alerta's Prometheus webhook (its only many-alert intake)."""
    return {
        "status": "firing",
        "labels": {
            "alertname": alert["event"],
            "instance": alert["resource"],
            "environment": alert["environment"],
            "severity": alert["severity"],
            "service": ",".join(alert["service"]),
            "group": alert["group"],
        },
        "annotations": {"value": alert["value"], "description": alert["text"], **alert["attributes"]},
        "startsAt": alert["attributes"]["occurredAt"],
        "endsAt": OPEN_END,
    }


# --- the server -----------------------------------------------------------------------------------


def _admin_dsn_part(name: str) -> str:
    parts = urlsplit(ADMIN_DSN)
    return {"host": parts.hostname or "127.0.0.1", "port": str(parts.port or 5432)}[name]


@dataclass
class AlertaPeer:
    """Alerta on a PostgreSQL database and role of its own, served by gunicorn on a free port."""

    workers: int = 2
    venv: Path | None = None  # an existing venv with Alerta installed (kept); None installs a new one
    keep: bool = False  # keep the venv installed here (its path is printed)
    port: int = field(default_factory=free_port)
    name: str = field(default_factory=lambda: f"cb_bench_alerta_{secrets.token_hex(5)}")
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    workdir: Path = field(init=False)  # made on entering: the venv (when installed here), config and log
    install_s: float = 0.0
    process: subprocess.Popen[bytes] | None = None
    _installed_here: bool = False
    _database_made: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bin(self) -> Path:
        assert self.venv is not None
        return self.venv / "bin"

    def install(self) -> None:
        """A new venv under the temp directory with Alerta 9.1 and gunicorn in it."""
        self.venv = self.workdir / "venv"
        self._installed_here = True
        started = time.perf_counter()
        steps = [
            [sys.executable, "-m", "venv", str(self.venv)],
            [str(self.bin / "pip"), "install", "--quiet", "--disable-pip-version-check", *ALERTA_REQUIREMENTS],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                said = (done.stdout + done.stderr).strip().splitlines()
                said = [line for line in said if "is ignored: it is neither a file nor a directory" not in line]
                hint = ""
                if any("pg_config" in line or "libpq" in line for line in said):
                    hint = "\npsycopg2 builds from source against libpq: apt-get install -y libpq-dev"
                raise PrerequisiteMissing(
                    f"could not install Alerta ({' '.join(ALERTA_REQUIREMENTS)}) into {self.venv}:\n"
                    + "\n".join(said[-15:])
                    + hint
                )
        self.install_s = time.perf_counter() - started

    async def __aenter__(self) -> AlertaPeer:
        self.workdir = Path(tempfile.mkdtemp(prefix="cb-bench-alerta-"))
        try:
            if self.venv is None:
                await asyncio.to_thread(self.install)
            elif not (self.bin / "gunicorn").exists():
                raise PrerequisiteMissing(f"{self.venv} has no gunicorn: not a venv with Alerta installed")
            await self._create_database()
            self._start()
            await self._wait_ready()
        except BaseException:
            await self._stop(keep_log=True)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stop(keep_log=exc[0] is not None)

    async def _admin(self, *statements: str) -> None:
        try:
            admin = await asyncpg.connect(ADMIN_DSN)
        except (OSError, asyncpg.PostgresError) as exc:
            raise PrerequisiteMissing(
                f"PostgreSQL at {ADMIN_DSN} (CB_BENCH_POSTGRES_DSN) is not reachable: {exc}"
            ) from exc
        try:
            for statement in statements:
                await admin.execute(statement)
        finally:
            await admin.close()

    async def _create_database(self) -> None:
        # Password authentication over TCP, as a deployment would have it; not a superuser.
        await self._admin(
            f"CREATE ROLE \"{self.name}\" LOGIN PASSWORD '{self.password}'",
            f'CREATE DATABASE "{self.name}" OWNER "{self.name}"',
        )
        self._database_made = True

    @property
    def database_url(self) -> str:
        host, port = _admin_dsn_part("host"), _admin_dsn_part("port")
        return f"postgres://{self.name}:{self.password}@{host}:{port}/{self.name}"

    def _start(self) -> None:
        config = self.workdir / "alertad.conf"
        config.write_text(
            "DEBUG = False\n"
            f"DATABASE_URL = {self.database_url!r}\n"
            f"DATABASE_NAME = {self.name!r}\n"
            "AUTH_REQUIRED = False\n"
            f"SECRET_KEY = {secrets.token_hex(16)!r}\n"
            "LOG_LEVEL = 'WARNING'\n"
            "PLUGINS = ['remote_ip', 'reject', 'heartbeat', 'blackout']\n"
            f"ALLOWED_ENVIRONMENTS = [{ENVIRONMENT!r}]\n"
        )
        env = {**os.environ, "ALERTA_SVR_CONF_FILE": str(config)}
        # Alerta creates its schema when the app first starts; two workers doing it at once on a new
        # database collide (duplicate key on its composite type), so start it once alone first.
        done = subprocess.run(
            [str(self.bin / "python"), "-c", "from alerta import create_app; create_app()"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.workdir,
        )
        if done.returncode != 0:
            raise RuntimeError(f"Alerta could not create its schema:\n{done.stderr[-2000:]}")
        command = [
            str(self.bin / "gunicorn"), "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
            "--no-control-socket", "alerta:create_app()",
        ]  # fmt: skip
        with (self.workdir / "gunicorn.log").open("wb") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )

    async def _wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"Alerta exited; see {self.workdir / 'gunicorn.log'}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/_")).status_code == 200:
                        await asyncio.sleep(1.0)  # the other workers too
                        if self.process.poll() is None and len(self.worker_pids()) == self.workers:
                            return
                await asyncio.sleep(0.3)
        raise RuntimeError(f"Alerta did not answer GET /_; see {self.workdir / 'gunicorn.log'}")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False).stdout
        return [int(pid) for pid in out.split()]

    async def stored(self) -> tuple[int, int]:
        """(alerts stored, their duplicateCount added up)."""
        connection = await asyncpg.connect(ADMIN_DSN.rsplit("/", 1)[0] + "/" + self.name)
        try:
            row = await connection.fetchrow("SELECT count(*), coalesce(sum(duplicate_count), 0) FROM alerts")
            return int(row[0]), int(row[1])
        finally:
            await connection.close()

    async def analyze(self) -> None:
        connection = await asyncpg.connect(ADMIN_DSN.rsplit("/", 1)[0] + "/" + self.name)
        try:
            await connection.execute("ANALYZE")
        finally:
            await connection.close()

    async def _stop(self, keep_log: bool) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop takes its workers with it
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in self.worker_pids():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.process.kill()
                self.process.wait()
        if self._database_made:
            await self._admin(
                f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', f'DROP ROLE IF EXISTS "{self.name}"'
            )
        if self.keep and self._installed_here:
            print(f"Alerta's venv kept in {self.venv} (--alerta-venv reuses it)", file=sys.stderr)
        elif self._installed_here and self.venv is not None:
            shutil.rmtree(self.venv, ignore_errors=True)
        log = self.workdir / "gunicorn.log"
        keep_log = keep_log and log.exists()
        if keep_log:
            print(f"Alerta's log kept in {log}", file=sys.stderr)
        elif not (self.keep and self._installed_here):
            shutil.rmtree(self.workdir, ignore_errors=True)
