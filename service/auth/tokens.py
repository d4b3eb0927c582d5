"""Signed, short-lived tokens for people (after login) and for opening a WebSocket (tickets)."""

from __future__ import annotations

import hashlib
import hmac
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
    stamp: str | None = None  # an access token's password_stamp; None in a ticket


def password_stamp(signing_key: str, secret_hash: str) -> str:
    """What an access token carries of the password it was issued for, so that a new password ends
    the tokens issued before it. Keyed, so the token reveals nothing of the hash."""
    return hmac.new(signing_key.encode(), secret_hash.encode(), hashlib.sha256).hexdigest()[:16]


def mint_token(signing_key: str, principal_id: int, purpose: str, ttl_s: int, stamp: str | None = None) -> str:
    now = utcnow()
    claims: dict[str, object] = {
        "sub": str(principal_id),
        "pur": purpose,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_s),
        "jti": secrets.token_hex(8),
    }
    if stamp is not None:
        claims["pst"] = stamp
    return jwt.encode(claims, signing_key, algorithm=ALGORITHM)


def read_token(signing_key: str, token: str, purpose: str) -> TokenClaims | None:
    try:
        claims = jwt.decode(token, signing_key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "jti"]})
    except jwt.PyJWTError:
        return None
    if claims.get("pur") != purpose or not str(claims["sub"]).isdigit() or not isinstance(claims["jti"], str):
        return None
    stamp = claims.get("pst")
    if stamp is not None and not isinstance(stamp, str):
        return None
    return TokenClaims(int(claims["sub"]), purpose, claims["jti"], float(claims["exp"]), stamp)
