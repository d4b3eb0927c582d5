"""Signed, short-lived tokens for people (after login) and for opening a WebSocket (tickets)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt

from service.kit.clock import utcnow

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    principal_id: int
    purpose: str  # "access" | "ws"
    token_id: str  # jti: what makes a ticket single-use (tickets.py)
    expires_at: float  # Unix time


def mint_token(signing_key: str, principal_id: int, purpose: str, ttl_s: int) -> str:
    now = utcnow()
    claims = {
        "sub": str(principal_id),
        "pur": purpose,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_s),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, signing_key, algorithm=ALGORITHM)


def read_token(signing_key: str, token: str, purpose: str) -> TokenClaims | None:
    try:
        claims = jwt.decode(token, signing_key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "jti"]})
    except jwt.PyJWTError:
        return None
    if claims.get("pur") != purpose or not str(claims["sub"]).isdigit() or not isinstance(claims["jti"], str):
        return None
    return TokenClaims(int(claims["sub"]), purpose, claims["jti"], float(claims["exp"]))
