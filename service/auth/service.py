"""Principals: creating users and keys, and telling who a bearer token belongs to."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
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
from service.auth.tokens import mint_token, password_stamp, read_token
from service.db.database import Database
from service.errors import BadRequest, Conflict, NotFound, Unprocessable
from service.kit.clock import utcnow
from service.vocabulary import Role

log = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MIN_PASSWORD_LENGTH = 8


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

    def forget_principal(self, principal_id: int) -> None:
        """Trust none of a principal's keys any longer (this process revoked it, or one of its live
        streams found it revoked): its next request here reads the database. Other processes notice
        within ``ttl_s``."""
        for fingerprint in [f for f, e in self._entries.items() if e.caller.principal_id == principal_id]:
            del self._entries[fingerprint]

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
    _check_password(password)
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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(
            f"password: at least {MIN_PASSWORD_LENGTH} characters",
            [{"field": "password", "reason": f"shorter than {MIN_PASSWORD_LENGTH} characters"}],
        )


async def list_users(
    session: AsyncSession, role: str | None = None, *, inactive_too: bool = False
) -> Sequence[Principal]:
    """The users (not keys) by name, of one role or all: the active ones, or deactivated ones too."""
    stmt = select(Principal).where(Principal.kind == "user").order_by(Principal.name)
    if not inactive_too:
        stmt = stmt.where(Principal.active)
    if role:
        stmt = stmt.where(Principal.role == role)
    return (await session.scalars(stmt)).all()


async def update_user(
    session: AsyncSession,
    username: str,
    *,
    active: bool | None = None,
    password: str | None = None,
    by: Caller | None = None,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> Principal:
    """Deactivate or reactivate a user, and/or give them a new password (``by``: the admin doing it
    over HTTP; None from the command line).

    Nobody deactivates themself, and the last active admin stays: someone must be left to undo it.
    A deactivated user can neither log in nor use a token issued before; a new password ends every
    token issued before it (tokens.password_stamp).
    """
    principal = await session.scalar(select(Principal).where(Principal.kind == "user", Principal.name == username))
    if principal is None:
        raise NotFound(f"no user {username!r}", [{"field": "username", "reason": "no such user"}])
    if password is not None:
        _check_password(password)
    if active is False and principal.active:
        if by is not None and by.principal_id == principal.id:
            raise Unprocessable(
                "active: you cannot deactivate yourself; another admin (or the command line) can",
                [{"field": "active", "reason": "the caller's own account"}],
            )
        if principal.role == Role.ADMIN:
            await _keep_an_admin(session, principal)
    if password is not None:
        principal.secret_hash = await hash_secret_off_loop(password, hasher)
    if active is not None:
        principal.active = active
    await session.flush()
    changes = [
        *(["activated" if active else "deactivated"] if active is not None else []),
        *(["password set"] if password is not None else []),
    ]
    if changes:
        log.info("user %s: %s by %s", principal.name, ", ".join(changes), by.actor if by else "the command line")
    return principal


async def _keep_an_admin(session: AsyncSession, leaving: Principal) -> None:
    """Refuse to deactivate the last active admin user. The rows are locked (PostgreSQL), so two
    admins deactivating each other at once cannot both succeed."""
    admins = (
        await session.scalars(
            select(Principal.id)
            .where(Principal.kind == "user", Principal.role == Role.ADMIN, Principal.active)
            .with_for_update()
        )
    ).all()
    if not set(admins) - {leaving.id}:
        raise Unprocessable(
            f"active: {leaving.name!r} is the last active admin; make or activate another admin first",
            [{"field": "active", "reason": "the last active admin"}],
        )


async def all_keys(session: AsyncSession) -> Sequence[Principal]:
    """Every API key, revoked ones too, oldest first."""
    stmt = select(Principal).where(Principal.kind == "key").order_by(Principal.created_at, Principal.id)
    return (await session.scalars(stmt)).all()


async def revoke_key(session: AsyncSession, key_id: str, by: Caller | None = None) -> tuple[Principal, bool]:
    """Deactivate an API key for good (a revoked key stays listed, and is never active again), and
    say whether this call revoked it: revoking a revoked key changes nothing. The caller drops it
    from its process's KeyCache after the commit; every other process refuses it within the
    cache's ``ttl_s``."""
    principal = await session.scalar(select(Principal).where(Principal.kind == "key", Principal.key_id == key_id))
    if principal is None:
        raise NotFound(f"no key {key_id!r}", [{"field": "key_id", "reason": "no such key"}])
    if principal.active:
        principal.active = False
        await session.flush()
        log.info("key %s (%s): revoked by %s", key_id, principal.name, by.actor if by else "the command line")
        return principal, True
    return principal, False


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
    principal = await _active_principal(db, claims.principal_id)
    if principal is None:
        return None
    # Issued for an earlier password: ended by the new one. (A token without a stamp was issued
    # before tokens carried one; it is good until it expires.)
    if claims.stamp is not None and not hmac.compare_digest(
        claims.stamp, password_stamp(signing_key, principal.secret_hash)
    ):
        return None
    return caller_of(principal)


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
    principal = await _active_principal(db, claims.principal_id)
    if principal is None or not await tickets.redeem(claims.token_id, claims.expires_at):
        return None
    return caller_of(principal)


async def _active_principal(db: Database, principal_id: int) -> Principal | None:
    """The principal a token or ticket was issued to, read afresh: None once deactivated."""
    async with db.session() as session:
        principal = await session.get(Principal, principal_id)
    if principal is None or not principal.active:
        return None
    return principal


async def current_secret(db: Database, principal_id: int) -> str | None:
    """The principal's secret hash while it is active; None once revoked or deactivated. A live
    stream compares it with the one it began with: a new password ends the stream as it ends the
    tokens issued before it."""
    principal = await _active_principal(db, principal_id)
    return None if principal is None else principal.secret_hash


def access_token(signing_key: str, principal: Principal, ttl_s: int) -> str:
    """A user's access token after login, bound to their password of the moment."""
    return mint_token(signing_key, principal.id, "access", ttl_s, password_stamp(signing_key, principal.secret_hash))
