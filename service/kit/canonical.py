"""Canonical JSON: one byte string per value, so hashes and content comparisons are stable.

The canonical form is the standard library's ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` — the ledger's hashes since the first event are computed over it. orjson
writes the same bytes about ten times faster, except for floats the standard library spells with
an exponent (below 1e-4 or from 1e16 up: ``1e-05`` against orjson's ``0.00001``), non-finite
floats and values orjson does not take (integers beyond 64 bits, non-string keys). Those go the
standard way.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

import orjson

_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
# Where orjson's float spelling departs from the standard one it writes an exponent (1e-7, 1e16)
# or five leading zeros (0.00001). Text that merely looks so inside a string takes the slow way too.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _maybe_spelled_apart(text: bytes) -> bool:
    return b"0.0000" in text or b"0e" in text.translate(_DIGITS_AS_ZERO)



def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    try:
        text = orjson.dumps(value, default=_default, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        pass
    else:
        # Reading it back catches what orjson writes silently otherwise: NaN and infinities as null.
        if not _maybe_spelled_apart(text) and orjson.loads(text) == value:
            return text
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default).encode()


def dumps(value: Any) -> str:
    """Compact JSON text for storage and the wire (key order as given; not for hashing)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
