"""Principals: creating users and keys, and telling who a bearer token belongs to."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.models import Principal
from service.auth.roles import KEY_ROLES, USER_ROLES
from service.auth.secrets import (
    DEFAULT_HASHER,
    hash_secret_off_loop,
    new_api_key,
    split_api_key,
    verify_secret_off_loop,
)
from service.auth.tickets import TicketBook
from service.auth.tokens import read_token
from service.db.database import Database
from service.errors import BadRequest, Conflict
from service.kit.clock import utcnow
from service.vocabulary import Role

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request."""

    principal_id: int
    name: str
    role: Role
    source: str | None
    kind: str

    @property
    def assignee_scope(self) -> str | None:
        """Whose incidents alone this caller may read: an inspector's own name (docs/workflow.md §3);
        None for every other role."""
        return self.name if self.role == Role.INSPECTOR else None

    @property
    def actor(self) -> str:
        """How the caller is named in ledger events."""
        return f"{self.role}:{self.source}" if self.role == Role.DEPARTMENT else self.name


@dataclass(frozen=True)
class _VerifiedKey:
    caller: Caller
    secret_hash: str  # the stored hash the key was verified against
    fresh_until: float


class KeyCache:
    """Keys verified by this process, so that argon2 runs once per key, not once per request or minute.

    A key is trusted for ``ttl_s`` without a look at the database. After that the principal is read
    again: still active with the very hash the key was verified against, it is trusted for another
    ``ttl_s`` without argon2 (the key is the one that matched that hash); revoked or re-keyed, it is
    refused or verified again. Requests that arrive together with a key not yet verified wait for
    one verification rather than each running its own.
    """

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 10_000):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, _VerifiedKey] = {}
        self._pending: dict[str, tuple[asyncio.Lock, int]] = {}

    @staticmethod
    def fingerprint(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> Caller | None:
        """The caller behind a key trusted without a look at the database, if it is."""
        entry = self._entries.get(self.fingerprint(token))
        if entry is None or entry.fresh_until < time.monotonic():
            return None
        return entry.caller

    def verified_hash(self, token: str) -> str | None:
        """The stored hash this key was once verified against, fresh or not."""
        entry = self._entries.get(self.fingerprint(token))
        return entry.secret_hash if entry is not None else None

    def put(self, token: str, caller: Caller, secret_hash: str) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[self.fingerprint(token)] = _VerifiedKey(caller, secret_hash, time.monotonic() + self.ttl_s)

    def forget(self, token: str) -> None:
        self._entries.pop(self.fingerprint(token), None)

    @asynccontextmanager
    async def one_at_a_time(self, token: str) -> AsyncIterator[None]:
        """Held while a key is looked up and verified: one lock per key, kept while anyone holds or awaits it."""
        fingerprint = self.fingerprint(token)
        lock, users = self._pending.get(fingerprint, (asyncio.Lock(), 0))
        self._pending[fingerprint] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._pending[fingerprint]
            if users == 1:
                del self._pending[fingerprint]
            else:
                self._pending[fingerprint] = (lock, users - 1)


def caller_of(principal: Principal) -> Caller:
    return Caller(principal.id, principal.name, principal.role, principal.source, principal.kind)


async def create_user(
    session: AsyncSession, username: str, role: str, password: str, hasher: PasswordHasher = DEFAULT_HASHER
) -> Principal:
    if not USERNAME_PATTERN.match(username):
        raise BadRequest("username: 2–64 letters, digits, '_', '.' or '-'", [{"field": "username"}])
    if role not in USER_ROLES:
        raise BadRequest(f"role: must be one of {', '.join(USER_ROLES)}", [{"field": "role"}])
    if len(password) < 8:
        raise BadRequest("password: at least 8 characters", [{"field": "password"}])
    principal = Principal(
        kind="user",
        name=username,
        role=role,
        source=None,
        key_id=None,
        secret_hash=await hash_secret_off_loop(password, hasher),
        active=True,
        created_at=utcnow(),
    )
    session.add(principal)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"user {username!r} exists already") from exc
    return principal


async def active_users(session: AsyncSession, role: str | None = None) -> Sequence[Principal]:
    """The active users (not keys) by name, of one role or all."""
    stmt = select(Principal).where(Principal.kind == "user", Principal.active).order_by(Principal.name)
    if role:
        stmt = stmt.where(Principal.role == role)
    return (await session.scalars(stmt)).all()


async def create_key(
    session: AsyncSession,
    role: str,
    source: str | None,
    label: str | None,
    known_sources: set[str],
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> tuple[Principal, str]:
    """Create an API key; the clear key is returned once and never stored."""
    if role not in KEY_ROLES:
        raise BadRequest(f"role: must be one of {', '.join(KEY_ROLES)}", [{"field": "role"}])
    if role == Role.DEPARTMENT:
        if source not in known_sources:
            raise BadRequest(
                f"source: a department key needs one of {', '.join(sorted(known_sources))}",
                [{"field": "source"}],
            )
    elif source:
        raise BadRequest("source: only department keys have a source", [{"field": "source"}])
    key_id, secret, key = new_api_key()
    principal = Principal(
        kind="key",
        name=label or f"{role}-{source + '-' if source else ''}{key_id}",
        role=role,
        source=source,
        key_id=key_id,
        secret_hash=await hash_secret_off_loop(secret, hasher),
        active=True,
        created_at=utcnow(),
    )
    session.add(principal)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a principal named {principal.name!r} exists already") from exc
    return principal, key


async def login(
    session: AsyncSession, username: str, password: str, hasher: PasswordHasher = DEFAULT_HASHER
) -> Principal | None:
    principal = await session.scalar(
        select(Principal).where(Principal.name == username, Principal.kind == "user", Principal.active)
    )
    if principal is None:
        await hash_secret_off_loop(password, hasher)  # same work either way, so timing does not reveal user names
        return None
    return principal if await verify_secret_off_loop(principal.secret_hash, password, hasher) else None


async def identify(
    db: Database,
    token: str,
    signing_key: str,
    key_cache: KeyCache,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> Caller | None:
    """The caller behind a bearer token: an API key or an access token (tickets: `redeem_ticket`).

    A key seen in the last minute is answered from the cache, without touching the database; after
    that the database is read again, but argon2 runs only for a key this process has not verified.
    """
    parts = split_api_key(token)
    if parts is not None:
        cached = key_cache.get(token)
        if cached is not None:
            return cached
        async with key_cache.one_at_a_time(token):
            return await _identify_key(db, token, parts, key_cache, hasher)
    claims = read_token(signing_key, token, "access")
    if claims is None:
        return None
    return await _active_caller(db, claims.principal_id)


async def _identify_key(
    db: Database, token: str, parts: tuple[str, str], key_cache: KeyCache, hasher: PasswordHasher
) -> Caller | None:
    cached = key_cache.get(token)  # verified while this request waited for the lock
    if cached is not None:
        return cached
    async with db.session() as session:
        principal = await session.scalar(select(Principal).where(Principal.key_id == parts[0], Principal.active))
    if principal is None:
        key_cache.forget(token)
        return None
    if principal.secret_hash != key_cache.verified_hash(token):
        if not await verify_secret_off_loop(principal.secret_hash, parts[1], hasher):
            return None
    caller = caller_of(principal)
    key_cache.put(token, caller, principal.secret_hash)
    return caller


async def redeem_ticket(db: Database, ticket: str, signing_key: str, tickets: TicketBook) -> Caller | None:
    """The caller behind a WebSocket ticket, the first time it is shown within its life; None after that."""
    claims = read_token(signing_key, ticket, "ws")
    if claims is None:
        return None
    caller = await _active_caller(db, claims.principal_id)
    if caller is None or not await tickets.redeem(claims.token_id, claims.expires_at):
        return None
    return caller


async def _active_caller(db: Database, principal_id: int) -> Caller | None:
    async with db.session() as session:
        principal = await session.get(Principal, principal_id)
    if principal is None or not principal.active:
        return None
    return caller_of(principal)
