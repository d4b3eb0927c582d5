"""Engine, sessions and the unit of work: one transaction per request or batch, committed in one place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from service.kit.canonical import dumps

# Takes the unit of work rather than closing over it: a callback kept by the unit that it closes over
# would make every transaction (its session, its ledger events) a cycle only the collector frees.
CommitHook = Callable[["UnitOfWork"], Awaitable[None]]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # Statement parameters carry payloads and secret hashes: keep them out of error messages and logs.
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("json_serializer", dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_timeout", 5)
    # Fail fast when PostgreSQL is down instead of hanging requests.
    kwargs.setdefault("connect_args", {"timeout": 5, "command_timeout": 30})
    return create_async_engine(url, **kwargs)


class UnitOfWork:
    """A write transaction plus what must be written just before it commits.

    Packages keep their own per-transaction state in ``session.info`` (the ledger its lock, head
    and new events: service/ledger/service.py), so this class knows none of them.
    """

    def __init__(self, session: AsyncSession):
        self.session = session
        self._before_commit: list[CommitHook] = []

    def before_commit(self, callback: CommitHook) -> None:
        self._before_commit.append(callback)

    async def flush_before_commit(self) -> None:
        index = 0
        while index < len(self._before_commit):  # a callback may add callbacks; they run after it
            await self._before_commit[index](self)
            index += 1
        await self.session.flush()


# What cleaning up after a connection that died under us (PostgreSQL restarted, network cut) raises.
_CONNECTION_LOST = (DBAPIError, OSError)


async def _close_quietly(session: AsyncSession) -> None:
    """Close a session; if its connection died, drop the connection instead of failing a second time
    (after the caller has its answer, or over the error that explains what happened)."""
    try:
        await session.__aexit__(None, None, None)  # as `async with` does: completes even if we are cancelled
    except _CONNECTION_LOST:
        with suppress(*_CONNECTION_LOST):
            await session.invalidate()


class Database:
    def __init__(self, url: str, **engine_kwargs: Any):
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.is_sqlite = url.startswith("sqlite")
        # SQLite allows one writer; serialising writers here avoids SQLITE_BUSY on lock upgrades.
        self._sqlite_writer = asyncio.Lock()
        # Run in every transaction after its own before-commit callbacks, still inside it (the
        # webhook outbox queues the unit's new ledger events), and after it has committed (the live
        # hub publishes them). Set once when the app's database is opened (service/bootstrap.py).
        self.before_commit: list[CommitHook] = []
        self.on_commit: list[CommitHook] = []

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read session; it never commits."""
        session = self.sessionmaker()
        try:
            yield session
        finally:
            await _close_quietly(session)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """Commit on success, roll back on error; on-commit hooks run only after a commit."""
        if self.is_sqlite:
            await self._sqlite_writer.acquire()
        try:
            session = self.sessionmaker()
            try:
                uow = UnitOfWork(session)
                try:
                    yield uow
                    await uow.flush_before_commit()
                    for hook in self.before_commit:
                        await hook(uow)
                    await session.flush()
                    await session.commit()
                except BaseException:
                    with suppress(*_CONNECTION_LOST):  # the error that broke it is the one to report
                        await session.rollback()
                    raise
            finally:
                await _close_quietly(session)
        finally:
            if self.is_sqlite:
                self._sqlite_writer.release()
        for hook in self.on_commit:
            await hook(uow)

    async def dispose(self) -> None:
        await self.engine.dispose()
