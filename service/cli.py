"""The community-brain command (README.md, "Running it for real")."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from service.auth import service as auth_service
from service.auth.roles import KEY_ROLES, USER_ROLES
from service.auth.secrets import make_hasher
from service.bootstrap import open_database, start_services, stop_services
from service.db.database import Database
from service.db.migrate import schema_problem, upgrade
from service.demo.setup import prepare_demo
from service.errors import AppError
from service.feeds.adapters import AdapterRegistry, UnknownSourceError
from service.feeds.bootstrap import build_adapters
from service.feeds.definitions import DefinitionError, load_definition, parse_definition
from service.feeds.definitions.check import check_sample, read_sample, register_from_file, render_check
from service.feeds.definitions.store import DefinitionCatalog, install_definition, restore_definition
from service.feeds.resolver import entity_ref
from service.feeds.service import ingest_file
from service.formats.files import FileFormatError
from service.ledger.service import start_new_epoch, verify_ledger
from service.matching.contract import EntityRef
from service.metrics import Metrics
from service.registry.importer import import_registry_file
from service.registry.models import Entity
from service.settings import Settings
from service.state import AppState

# Exit statuses of the file imports: 0 every row stored, 1 some rows rejected (the rest stored, each
# rejected line printed with its reason), 2 the command could not run (an unknown source, no database).
REJECTED_ROWS = 1


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[AppState]:
    """The app's services without the HTTP server (ingest writer, register index, broker, hub,
    webhooks), for the commands that ingest records: a file import, the demo's preparation."""
    await _require_schema(settings)
    quiet = settings.model_copy(update={"sla_check_interval_s": 0, "demo_pace": 0})
    state = await start_services(quiet, Metrics())
    try:
        yield state
    finally:
        await stop_services(state)


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The app's database and nothing else, for the commands that only read or write data (keys,
    users, the register, the ledger, masking): no broker, hub, ingest writer or webhook worker, so
    they work while Redis is down. Its transactions queue webhook notices as the app's do."""
    await _require_schema(settings)
    db = open_database(settings)
    try:
        yield db
    finally:
        await db.dispose()


async def _require_schema(settings: Settings) -> None:
    """Refuse, saying what to do, a database that `migrate` has not prepared: run from another
    directory, the embedded default would otherwise find (and make) an empty one under ./var."""
    try:
        problem = await schema_problem(settings.effective_database_url)
    except (OSError, DBAPIError) as exc:
        reason = getattr(exc, "orig", None) or exc  # the driver's words, without SQLAlchemy's wrapping
        raise AppError(f"cannot reach the database at {_safe_url(settings)}: {reason}") from None
    if problem:
        where = "CB_DATABASE_URL" if settings.database_url else f"CB_DATA_DIR (now {settings.data_dir.resolve()})"
        raise AppError(f"{problem}: run `community-brain migrate` first, or point {where} at the service's data")


def _run(settings: Settings, work: Callable[[AppState], Awaitable[int]]) -> int:
    async def main() -> int:
        async with running(settings) as state:
            return await work(state)

    return asyncio.run(main())


def _run_on_data(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    async def main() -> int:
        async with database(settings) as db:
            return await work(db)

    return asyncio.run(main())


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    print(f"schema is at the newest revision ({_safe_url(settings)})")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from service.asgi import build_app

    if not args.no_migrate:
        cmd_migrate(settings, args)
    workers = getattr(args, "workers", 1)
    if settings.is_sqlite and workers > 1:
        print("SQLite serves one worker; use PostgreSQL (CB_DATABASE_URL) for several", file=sys.stderr)
        return 2
    # One worker serves these settings; several are processes of their own, each reading its
    # settings from the environment as this one did.
    uvicorn.run(
        build_app(settings) if workers == 1 else "service.asgi:app_factory",
        factory=workers > 1,
        host=args.host,
        port=args.port,
        workers=workers,
        log_config=None,
        # Only the listed proxies may say who the client is (uvicorn otherwise believes 127.0.0.1).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        ws_ping_interval=None,  # the app pings after 15 s of silence itself
        ws_per_message_deflate=False,  # compression per client would undo the encode-once fan-out
    )
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    cmd_migrate(settings, args)
    code = _run(settings, lambda state: prepare_demo(state, preload=not args.no_preload, port=args.port))
    if code:
        return code
    args.no_migrate = True
    return cmd_serve(settings.model_copy(update={"demo_pace": args.pace}), args)  # one worker: the replay runs there


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    data = path.read_bytes()

    async def work(state: AppState) -> int:
        report = await ingest_file(state, args.source, "import:cli", data, path.name, None)
        for result in report.results:
            reason = "; ".join(f"{e['field']}: {e['reason']}" for e in result.errors)
            print(
                f"line {result.line}\t{result.source_record_id or '-'}\t{result.status}"
                f"{chr(9) + reason if reason else ''}"
            )
        s = report.summary
        print(
            f"rows read {s.read} = created {s.created} + updated {s.updated} + unchanged {s.unchanged}"
            f" + rejected {s.rejected}"
        )
        for note in report.notes:
            print(note)
        return REJECTED_ROWS if s.rejected else 0

    return _run(settings, work)


def cmd_registry_import(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    data = path.read_bytes()

    async def work(db: Database) -> int:
        outcomes = await import_registry_file(db, data, path.name)
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
            notes = "; ".join([*(f"{e['field']}: {e['reason']}" for e in o.errors), *o.warnings])
            print(f"line {o.line}\t{o.entity_id or '-'}\t{o.status}{chr(9) + notes if notes else ''}")
        print("rows read {} = {}".format(len(outcomes), " + ".join(f"{k} {v}" for k, v in sorted(counts.items()))))
        return REJECTED_ROWS if counts.get("rejected") else 0

    return _run_on_data(settings, work)


def _hasher(settings: Settings) -> PasswordHasher:
    return make_hasher(settings.argon2_time_cost, settings.argon2_memory_kib)


async def _adapters(settings: Settings, db: Database) -> AdapterRegistry:
    """Every source this deployment knows, as a worker knows it: shipped and installed definitions too."""
    adapters = build_adapters(settings)
    await DefinitionCatalog(db, adapters).refresh(force=True)
    return adapters


def cmd_keys_create(settings: Settings, args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        sources = set((await _adapters(settings, db)).known_sources())
        async with db.transaction() as uow:
            principal, key = await auth_service.create_key(
                uow.session, args.role, args.source, args.label, sources, _hasher(settings)
            )
        print(
            f"created {principal.role} key {principal.name!r}"
            + (f" for {principal.source}" if principal.source else "")
        )
        print(key)
        return 0

    return _run_on_data(settings, work)


def cmd_users_create(settings: Settings, args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        async with db.transaction() as uow:
            principal = await auth_service.create_user(
                uow.session, args.username, args.role, args.password, _hasher(settings)
            )
        print(f"created {principal.role} {principal.name!r}")
        return 0

    return _run_on_data(settings, work)


def cmd_keys_list(settings: Settings, _args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        async with db.session() as session:
            keys = await auth_service.all_keys(session)
        print("key_id\trole\tsource\tstate\tcreated_at\tname")
        for k in keys:
            state = "active" if k.active else "revoked"
            created = k.created_at.isoformat(timespec="seconds")
            print(f"{k.key_id}\t{k.role}\t{k.source or '-'}\t{state}\t{created}\t{k.name}")
        return 0

    return _run_on_data(settings, work)


def cmd_keys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from service.auth.secrets import split_api_key

    whole_key = split_api_key(args.key_id)  # the leaked key itself will do: its id is its public part
    key_id = whole_key[0] if whole_key else args.key_id

    async def work(db: Database) -> int:
        async with db.transaction() as uow:
            principal, revoked_now = await auth_service.revoke_key(uow.session, key_id)
        if revoked_now:
            print(
                f"revoked {principal.role} key {principal.name!r} ({key_id}); running workers refuse it within a minute"
            )
        else:
            print(f"{principal.role} key {principal.name!r} ({key_id}) was revoked already")
        return 0

    return _run_on_data(settings, work)


def cmd_users_list(settings: Settings, _args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        async with db.session() as session:
            users = await auth_service.list_users(session, inactive_too=True)
        print("username\trole\tstate\tcreated_at")
        for u in users:
            state = "active" if u.active else "deactivated"
            print(f"{u.name}\t{u.role}\t{state}\t{u.created_at.isoformat(timespec='seconds')}")
        return 0

    return _run_on_data(settings, work)


def cmd_users_activate(settings: Settings, args: argparse.Namespace) -> int:
    active = args.action == "activate"

    async def work(db: Database) -> int:
        async with db.transaction() as uow:
            principal = await auth_service.update_user(uow.session, args.username, active=active)
        if active:
            print(f"{principal.role} {principal.name!r} is active")
        else:
            print(f"{principal.role} {principal.name!r} is deactivated: no login, and their tokens no longer work")
        return 0

    return _run_on_data(settings, work)


def _read_new_password(from_stdin: bool) -> str | None:
    """The new password, from stdin (one line) or asked twice at the terminal; None after printing why not."""
    import getpass

    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        print(
            "error: no terminal to ask for the password on; pass --password-stdin and write it to stdin",
            file=sys.stderr,
        )
        return None
    password = getpass.getpass("new password: ")
    if getpass.getpass("the same again: ") != password:
        print("error: password: the two entries differ", file=sys.stderr)
        return None
    return password


def cmd_users_set_password(settings: Settings, args: argparse.Namespace) -> int:
    password = _read_new_password(args.password_stdin)
    if password is None:
        return 2

    async def work(db: Database) -> int:
        async with db.transaction() as uow:
            principal = await auth_service.update_user(
                uow.session, args.username, password=password, hasher=_hasher(settings)
            )
        print(f"password set for {principal.name!r}; tokens issued before it no longer work")
        return 0

    return _run_on_data(settings, work)


def cmd_ledger_verify(settings: Settings, _args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        async with db.session() as session:
            check, position = await verify_ledger(session)
        print(
            json.dumps(
                {
                    "ok": check.ok,
                    "events": check.events,
                    "head_seq": position.seq,
                    "head_hash": position.hash,
                    "problems": check.problems,
                },
                ensure_ascii=False,
            )
        )
        return 0 if check.ok else 1

    return _run_on_data(settings, work)


def cmd_ledger_new_epoch(settings: Settings, _args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        async with db.transaction() as uow:
            old, new = await start_new_epoch(uow)
        print(json.dumps({"old_epoch": old, "epoch": new}))
        return 0

    return _run_on_data(settings, work)


def cmd_mask_personal_data(settings: Settings, _args: argparse.Namespace) -> int:
    from service.personal_data import mask_stored_personal_data

    async def work(db: Database) -> int:
        adapters = await _adapters(settings, db)
        async with db.transaction() as uow:
            masked = await mask_stored_personal_data(uow, adapters)
        ledger = masked.ledger
        print(
            json.dumps(
                {
                    "rows_changed": masked.rows_changed,
                    "events_changed": ledger.events_changed,
                    "rewritten_from_seq": ledger.from_seq,
                    "old_head_seq": ledger.old_head[0],
                    "old_head_hash": ledger.old_head[1],
                    "head_seq": ledger.head[0],
                    "head_hash": ledger.head[1],
                    "old_epoch": ledger.old_epoch,
                    "epoch": ledger.epoch,
                }
            )
        )
        return 0

    return _run_on_data(settings, work)


def cmd_feeds_check(settings: Settings, args: argparse.Namespace) -> int:
    """Dry run: how a definition reads a sample, row by row; writes nothing."""
    try:
        definition = load_definition(Path(args.definition))
    except DefinitionError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    sample = Path(args.sample)
    try:
        items, notes, by_line = read_sample(definition, sample.read_bytes(), sample.name)
    except FileFormatError as exc:
        print(f"{sample}: the sample cannot be read: {exc}", file=sys.stderr)
        return 2
    register: list[EntityRef] | None = None
    if args.registry:
        registry_file = Path(args.registry)
        try:
            register, problems = register_from_file(registry_file.read_bytes(), registry_file.name)
        except FileFormatError as exc:
            print(f"{registry_file}: the register cannot be read: {exc}", file=sys.stderr)
            return 2
        notes += problems[:20]
    else:
        register = asyncio.run(_stored_register(settings))
        if register is None:
            notes.append("no register in the database: links are not shown (pass --registry FILE)")
    print(render_check(check_sample(definition, items, by_line=by_line, register=register, notes=notes)))
    return 0


def cmd_feeds_add(settings: Settings, args: argparse.Namespace) -> int:
    """Install a definition (or its next version); running workers read by it within a second."""
    path = Path(args.definition)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        print(f"{path}: not UTF-8 (byte {exc.start}); save the definition as UTF-8", file=sys.stderr)
        return 2
    try:
        parse_definition(text, str(path))
    except DefinitionError as exc:
        print(exc.report(), file=sys.stderr)
        return 2

    async def work(db: Database) -> int:
        adapters = await _adapters(settings, db)
        async with db.transaction() as uow:
            installed = await install_definition(uow, text, "cli", adapters)
        d = installed.definition
        if installed.unchanged:
            print(f"{d.source} unchanged: this is version {installed.row.version}, in force already")
        else:
            print(f"installed {d.source} ({d.name}, {d.label}) as version {installed.row.version}")
        return 0

    return _run_on_data(settings, work)


def cmd_feeds_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Bring back an earlier version of a source's definition, as its next version."""

    async def work(db: Database) -> int:
        adapters = await _adapters(settings, db)
        async with db.transaction() as uow:
            installed = await restore_definition(uow, args.source, args.version, "cli", adapters)
        if installed.unchanged:
            print(
                f"{args.source} unchanged: version {installed.row.version}, in force, "
                f"has the text of version {args.version} already"
            )
        else:
            print(f"restored {args.source} version {args.version} as version {installed.row.version}")
        return 0

    return _run_on_data(settings, work)


async def _stored_register(settings: Settings) -> list[EntityRef] | None:
    """The register as the matcher sees it, read only; None when there is no database with one."""
    if settings.is_sqlite and not (settings.data_dir / "community-brain.db").exists() and not settings.database_url:
        return None
    db = Database(settings.effective_database_url)
    try:
        async with db.session() as session:
            entities = (await session.scalars(select(Entity).where(Entity.status != "closed"))).all()
            return [entity_ref(entity) for entity in entities]
    except DBAPIError:
        return None
    finally:
        await db.dispose()


def _safe_url(settings: Settings) -> str:
    url = settings.effective_database_url
    return url.split("@")[-1] if "@" in url else url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="community-brain", description="社区大脑 Community Brain")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Callable[[Settings, argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.set_defaults(handler=handler)
        return p

    def serve_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--workers", type=int, default=1)

    serve = add("serve", cmd_serve, "run the HTTP and WebSocket server")
    serve_options(serve)
    serve.add_argument("--no-migrate", action="store_true", help="do not run migrations first")
    add("migrate", cmd_migrate, "bring the database schema to the newest revision")
    demo = add("demo", cmd_demo, "load the sample register and replay the sample feeds while serving (one worker)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--pace", type=float, default=2.0, help="records a second (default 2)")
    demo.add_argument("--no-preload", action="store_true", help="start with no history")
    imp = add("import", cmd_import, "import a department's export file (CSV in GBK/UTF-8, or XLSX)")
    imp.add_argument("--source", required=True)
    imp.add_argument("file")

    registry = sub.add_parser("registry", help="the register of entities").add_subparsers(dest="action", required=True)
    reg_import = registry.add_parser("import", help="import registry.csv (idempotent on entity_id)")
    reg_import.set_defaults(handler=cmd_registry_import)
    reg_import.add_argument("file")

    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    keys_create = keys.add_parser("create", help="create a key; it is printed alone on the last line")
    keys_create.set_defaults(handler=cmd_keys_create)
    keys_create.add_argument("--role", required=True, choices=KEY_ROLES)
    keys_create.add_argument("--source")
    keys_create.add_argument("--label")
    keys.add_parser("list", help="every key, revoked ones too (never a secret)").set_defaults(handler=cmd_keys_list)
    keys_revoke = keys.add_parser("revoke", help="revoke a key for good; running workers refuse it within a minute")
    keys_revoke.set_defaults(handler=cmd_keys_revoke)
    keys_revoke.add_argument("key_id", help="the key's id (cbk_<key_id>_…, as `keys list` shows it), or the key")

    users = sub.add_parser("users", help="people who log in").add_subparsers(dest="action", required=True)
    users_create = users.add_parser("create")
    users_create.set_defaults(handler=cmd_users_create)
    users_create.add_argument("--username", required=True)
    users_create.add_argument("--role", required=True, choices=USER_ROLES)
    users_create.add_argument("--password", required=True)
    users.add_parser("list", help="every user, deactivated ones too").set_defaults(handler=cmd_users_list)
    for action, help_text in (
        ("deactivate", "no more login, and the user's tokens stop working"),
        ("activate", "let a deactivated user log in again"),
    ):
        users_state = users.add_parser(action, help=help_text)
        users_state.set_defaults(handler=cmd_users_activate)
        users_state.add_argument("username")
    users_password = users.add_parser(
        "set-password", help="set a user's password (asked at the terminal); ends their tokens issued before"
    )
    users_password.set_defaults(handler=cmd_users_set_password)
    users_password.add_argument("username")
    users_password.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin"
    )

    ledger = sub.add_parser("ledger", help="the tamper-evident ledger").add_subparsers(dest="action", required=True)
    ledger.add_parser("verify", help="walk the hash chain; exit 1 if it is broken").set_defaults(
        handler=cmd_ledger_verify
    )
    ledger.add_parser(
        "new-epoch", help="give a restored database's ledger a new epoch, so no client resumes into it"
    ).set_defaults(handler=cmd_ledger_new_epoch)
    add(
        "mask-personal-data",
        cmd_mask_personal_data,
        "mask phone numbers already stored (records, incidents, notes, ledger: re-hashed, new epoch)",
    )

    feeds = sub.add_parser("feeds", help="department feed definitions").add_subparsers(dest="action", required=True)
    feeds_check = feeds.add_parser(
        "check", help="dry run: how a definition reads a sample file, row by row, and what it links to (writes nothing)"
    )
    feeds_check.set_defaults(handler=cmd_feeds_check)
    feeds_check.add_argument("definition", help="the definition (TOML)")
    feeds_check.add_argument("sample", help="a sample: JSON (array, object or lines), CSV or XLSX")
    feeds_add = feeds.add_parser("add", help="install a definition, or the next version of one (a ledger event)")
    feeds_add.set_defaults(handler=cmd_feeds_add)
    feeds_add.add_argument("definition", help="the definition (TOML)")
    feeds_restore = feeds.add_parser("restore", help="bring back an earlier version of a source's definition")
    feeds_restore.set_defaults(handler=cmd_feeds_restore)
    feeds_restore.add_argument("source")
    feeds_restore.add_argument("version", type=int)
    feeds_check.add_argument("--registry", help="a register CSV to link against (default: the database's register)")

    # Listed for --help only: main() hands `watch` its arguments before parsing them.
    sub.add_parser("watch", help="print the live stream (reference client; reconnects with since): watch --help")
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["watch"]:  # its options are its own (argparse's REMAINDER refuses a leading --url)
        from service.live.watch import main as watch_main

        sys.exit(watch_main(argv[1:]))
    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        code = args.handler(settings, args)
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        for detail in exc.details:
            if isinstance(detail, str):  # a {field, reason} detail is for programs: the message says it
                print(f"  {detail}", file=sys.stderr)
        code = 2
    except (FileNotFoundError, UnknownSourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 2
    sys.exit(code)
