"""Hashing and minting of secrets: passwords and API keys are stored as argon2 hashes only."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

DEFAULT_HASHER = PasswordHasher()  # argon2id with the library's recommended cost
KEY_PREFIX = "cbk"


def make_hasher(time_cost: int | None, memory_cost_kib: int | None) -> PasswordHasher:
    """The deployment's hasher; tests lower the cost, production keeps the defaults."""
    if time_cost is None and memory_cost_kib is None:
        return DEFAULT_HASHER
    return PasswordHasher(
        time_cost=time_cost or DEFAULT_HASHER.time_cost, memory_cost=memory_cost_kib or DEFAULT_HASHER.memory_cost
    )


def hash_secret(secret: str, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    return hasher.hash(secret)


def verify_secret(secret_hash: str, secret: str, hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    try:
        return hasher.verify(secret_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_secret_off_loop(secret: str, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """hash_secret in a worker thread: argon2 takes most of a second of CPU (64 MiB, 3 passes) and
    would stall every request and stream of the process while it runs; argon2-cffi releases the GIL."""
    return await asyncio.to_thread(hash_secret, secret, hasher)


async def verify_secret_off_loop(secret_hash: str, secret: str, hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    """verify_secret in a worker thread (see hash_secret_off_loop)."""
    return await asyncio.to_thread(verify_secret, secret_hash, secret, hasher)


def new_api_key() -> tuple[str, str, str]:
    """Return (key_id, secret, the whole key as handed out): cbk_<key_id>_<secret>."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key_id, secret, f"{KEY_PREFIX}_{key_id}_{secret}"


def split_api_key(token: str) -> tuple[str, str] | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1], parts[2]
