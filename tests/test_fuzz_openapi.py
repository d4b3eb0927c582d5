"""Schemathesis against /openapi.json: no generated request, valid or not, gets a 5xx (docs/http-api.md, "Errors").

Bounded for CI: a few dozen cases per operation (CB_FUZZ_EXAMPLES raises it), every phase that
Schemathesis runs from the schema alone (explicit examples, coverage of boundaries, fuzzing), and
a fixed seed so that a failure reproduces; CB_FUZZ_SEED picks another one.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.python.asgi import shutdown_lifespans

from service.auth import service as auth_service
from service.auth.secrets import make_hasher
from service.db.database import Database
from service.main import create_app
from service.settings import Settings
from tests.support.databases import create_postgres_database, drop_postgres_database, sqlite_database

EXAMPLES = int(os.environ.get("CB_FUZZ_EXAMPLES", "40"))
SEED = int(os.environ.get("CB_FUZZ_SEED", "20261128"))
SOURCES = ("police", "market", "city")
SOURCE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass
class FuzzKeys:
    admin: str
    departments: dict[str, str]

    def for_case(self, case: schemathesis.Case) -> str:
        """Department routes are called with that department's key, everything else as admin."""
        source = case.path_parameters.get("source") if case.path_parameters else None
        if isinstance(source, str) and SOURCE_PATTERN.match(source):
            source = SOURCES[len(source) % len(SOURCES)]
            case.path_parameters["source"] = source  # a known source, so the request reaches the adapter
            return self.departments[source]
        return self.admin


async def _prepare(url: str) -> FuzzKeys:
    db = Database(url)
    hasher = make_hasher(1, 8192)
    keys: dict[str, str] = {}
    try:
        async with db.transaction() as uow:
            for role, source in (("admin", None), *(("department", s) for s in SOURCES)):
                _, keys[source or role] = await auth_service.create_key(
                    uow.session, role, source, None, set(SOURCES), hasher
                )
    finally:
        await db.dispose()
    return FuzzKeys(keys.pop("admin"), keys)


def _settings(directory: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=directory,
        database_url=database_url,
        redis_url="",
        sla_check_interval_s=0,
        secret_key="fuzz-secret-key-of-at-least-32-bytes!",
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        login_rate_per_ip=1_000_000,  # the fuzzer logs in and pushes far more than anyone may
        login_rate_per_user=1_000_000,
        ingest_rate_per_key=100_000_000,
        ingest_rate_per_ip=100_000_000,
    )


# The schema the app serves at /openapi.json, built when the module is collected: Schemathesis
# makes one test per operation from it (its lazy `from_fixture` loader does not work with pytest 9).
# Building an app object touches no database; the fixture checks the running app serves this schema.
CONFIG = SchemathesisConfig.from_dict({"seed": SEED, "generation": {"max-examples": EXAMPLES, "mode": "all"}})
OPENAPI = create_app(_settings(Path("unused"), "sqlite+aiosqlite://")).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI, config=CONFIG)


@dataclass
class FuzzTarget:
    app: FastAPI
    keys: FuzzKeys


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzz_target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """The app on a fresh database of each kind, its lifespan run by Schemathesis's own event loop."""
    directory: Path = tmp_path_factory.mktemp("fuzz")
    postgres_name = None
    if request.param == "sqlite":
        url = asyncio.run(sqlite_database(directory))
    else:
        postgres_name, url = asyncio.run(create_postgres_database())
    try:
        keys = asyncio.run(_prepare(url))
        app = create_app(_settings(directory, url))
        try:
            served = schemathesis.openapi.from_asgi("/openapi.json", app)  # also starts the app's lifespan
            assert served.raw_schema == OPENAPI
            yield FuzzTarget(app, keys)
        finally:
            shutdown_lifespans()
    finally:
        if postgres_name:
            asyncio.run(drop_postgres_database(postgres_name))


@schema.parametrize()
def test_no_request_gets_a_server_error(case: schemathesis.Case, fuzz_target: FuzzTarget) -> None:
    """Valid and invalid requests alike (mode "all"), as admin or as the department of the route."""
    token = fuzz_target.keys.for_case(case)
    case.call_and_validate(
        app=fuzz_target.app, headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
    )
