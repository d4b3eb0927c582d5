"""Webhook signatures and retry pacing."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.webhooks.signing import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    backoff_delay,
    sign,
    signature_header,
    verify,
)

SECRET = b"whsec_department_police"
BODY = '{"incident_id": "I42", "status": "closed", "note": "已整改"}'.encode()
NOW = 1_780_000_000


def test_header_names() -> None:
    assert SIGNATURE_HEADER == "X-CB-Signature"
    assert DELIVERY_ID_HEADER == "X-CB-Delivery-Id"


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET, b"1780000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == expected
    assert len(expected) == 64
    # A fixed vector, so a receiver written in another language can check itself.
    assert sign(b"secret", 1700000000, b"{}") == hmac.new(b"secret", b"1700000000.{}", "sha256").hexdigest()


def test_header_round_trip() -> None:
    header = signature_header(SECRET, NOW, BODY)
    assert header == f"t={NOW},v1={sign(SECRET, NOW, BODY)}"
    assert verify(SECRET, header, BODY, NOW)


@pytest.mark.parametrize(
    ("age", "valid"), [(0, True), (299, True), (300, True), (301, False), (-300, True), (-301, False)]
)
def test_timestamps_outside_the_tolerance_are_refused(age: int, valid: bool) -> None:
    header = signature_header(SECRET, NOW - age, BODY)
    assert verify(SECRET, header, BODY, NOW) is valid


def test_tolerance_is_a_parameter() -> None:
    header = signature_header(SECRET, NOW - 600, BODY)
    assert not verify(SECRET, header, BODY, NOW)
    assert verify(SECRET, header, BODY, NOW, tolerance_s=900)
    assert verify(SECRET, signature_header(SECRET, NOW, BODY), BODY, NOW + 0.5, tolerance_s=1)


def test_tampering_is_detected() -> None:
    header = signature_header(SECRET, NOW, BODY)
    assert not verify(b"another secret", header, BODY, NOW)
    assert not verify(SECRET, header, BODY + b" ", NOW)
    # Moving the timestamp (to replay an old delivery as fresh) breaks the signature.
    replayed = header.replace(f"t={NOW}", f"t={NOW + 100}")
    assert not verify(SECRET, replayed, BODY, NOW + 100)


def test_any_of_several_signatures_may_match_during_secret_rotation() -> None:
    old = sign(b"old secret", NOW, BODY)
    new = sign(SECRET, NOW, BODY)
    assert verify(SECRET, f"t={NOW},v1={old},v1={new}", BODY, NOW)
    assert verify(b"old secret", f"t={NOW},v1={old},v1={new}", BODY, NOW)
    assert not verify(b"third", f"t={NOW},v1={old},v1={new}", BODY, NOW)


def test_spaces_and_unknown_schemes_are_tolerated() -> None:
    sig = sign(SECRET, NOW, BODY)
    assert verify(SECRET, f"t={NOW}, v1={sig}", BODY, NOW)
    assert verify(SECRET, f"v0=abc,t={NOW},v1={sig}", BODY, NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "v1=abc",  # no timestamp
        f"t={NOW}",  # no signature
        f"t={NOW},v2=abc",  # only an unknown scheme
        f"t={NOW},t={NOW},v1=SIG",  # two timestamps
        "t=-5,v1=SIG",
        "t=+1780000000,v1=SIG",
        "t=1_780_000_000,v1=SIG",
        "t=１７８０,v1=SIG",  # full-width digits
        "t=²,v1=SIG",
        "t=" + "9" * 5000 + ",v1=SIG",
        "t=1780000000.5,v1=SIG",
        f"t={NOW},v1",
        f"t={NOW},v1=签名",
    ],
)
def test_malformed_headers_are_invalid_not_errors(header: str | None) -> None:
    if header:
        header = header.replace("SIG", sign(SECRET, NOW, BODY))
    assert verify(SECRET, header, BODY, NOW) is False


@given(
    secret=st.binary(min_size=1, max_size=64),
    body=st.binary(max_size=512),
    ts=st.integers(0, 4_000_000_000),
)
def test_sign_then_verify(secret: bytes, body: bytes, ts: int) -> None:
    assert verify(secret, signature_header(secret, ts, body), body, ts)
    assert not verify(secret, signature_header(secret, ts, body), body + b"x", ts)


# ---- backoff -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 2), (2, 4), (3, 8), (11, 2048), (12, 3600), (500, 3600)])
def test_backoff_stays_under_its_ceiling(attempt: int, ceiling: float) -> None:
    rng = random.Random(attempt)
    delays = [backoff_delay(attempt, rng=rng) for _ in range(2_000)]
    assert all(0 <= d <= ceiling for d in delays)
    # Full jitter: the draws cover the whole range, not a band near the ceiling.
    assert min(delays) < ceiling * 0.05
    assert max(delays) > ceiling * 0.95
    assert sum(delays) / len(delays) == pytest.approx(ceiling / 2, rel=0.1)


def test_backoff_is_reproducible_with_a_seeded_generator() -> None:
    first = [backoff_delay(n, rng=random.Random(7)) for n in range(1, 10)]
    assert first == [backoff_delay(n, rng=random.Random(7)) for n in range(1, 10)]


def test_backoff_parameters() -> None:
    assert 0 <= backoff_delay(3, base_s=0.5, cap_s=1) <= 1
    assert 0 <= backoff_delay(10**9) <= 3600  # no overflow for absurd attempt counts
    with pytest.raises(ValueError, match="starts at 1"):
        backoff_delay(0)
    with pytest.raises(ValueError):
        backoff_delay(1, base_s=0)
    with pytest.raises(ValueError):
        backoff_delay(1, cap_s=-1)
