"""Webhook signatures and retry pacing: what a receiving department needs to trust a delivery.

Every delivery carries

    X-CB-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>
    X-CB-Delivery-Id: <id, the same on every retry of one delivery, for de-duplication>

Signing the timestamp together with the body lets the receiver refuse a replayed delivery once
it is older than the tolerance. Several ``v1=`` entries may appear while a secret is rotated;
one matching entry is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import random

SIGNATURE_HEADER = "X-CB-Signature"
DELIVERY_ID_HEADER = "X-CB-Delivery-Id"
SIGNATURE_SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300

# 2 ** 62 seconds is far past any cap; bounding the exponent keeps the float arithmetic finite.
_MAX_EXPONENT = 62


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}."`` followed by the body, under ``secret``."""
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: bytes, timestamp: int, body: bytes) -> str:
    """The value of ``X-CB-Signature`` for one delivery."""
    return f"t={timestamp},{SIGNATURE_SCHEME}={sign(secret, timestamp, body)}"


def _parse_header(header: str) -> tuple[int, list[str]] | None:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return None
        if key == "t":
            # ASCII digits only (int() would also take "+1_700_000_000"), and few of them: a
            # 5,000-digit "timestamp" would make int() raise.
            if timestamp is not None or not (value.isascii() and value.isdigit() and len(value) <= 15):
                return None
            timestamp = int(value)
        elif key == SIGNATURE_SCHEME:
            signatures.append(value)
        # Other keys are future schemes: ignored, as a receiver of ours should.
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures


def verify(
    secret: bytes, header: str | None, body: bytes, now: float, tolerance_s: float = DEFAULT_TOLERANCE_S
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` at a time within ``tolerance_s`` of ``now``.

    ``now`` is Unix seconds. The tolerance works both ways (clock skew); a malformed or missing
    header is simply not valid. Signatures are compared in constant time.
    """
    if not header:
        return False
    parsed = _parse_header(header)
    if parsed is None:
        return False
    timestamp, candidates = parsed
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).encode()
    # Check every candidate so the time taken does not tell which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    return matched


def backoff_delay(attempt: int, base_s: float = 2, cap_s: float = 3600, rng: random.Random | None = None) -> float:
    """Seconds to wait before retrying after the ``attempt``-th failed delivery (1, 2, 3, …).

    Exponential backoff with full jitter: a uniform draw from ``[0, min(cap_s, base_s · 2^(attempt-1))]``,
    i.e. up to 2 s after the first failure, 4 s after the second, … and never more than an hour.
    Full jitter spreads the retries of many deliveries that failed together (a receiver that was
    down) instead of sending them back in waves; the mean wait is half the ceiling.
    """
    if attempt < 1:
        raise ValueError("attempt counts failed deliveries and starts at 1")
    if base_s <= 0 or cap_s <= 0:
        raise ValueError("base_s and cap_s must be positive")
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt - 1, _MAX_EXPONENT))
    uniform = rng.uniform if rng is not None else random.uniform
    return uniform(0, ceiling)
