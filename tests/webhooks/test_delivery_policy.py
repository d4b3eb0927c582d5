"""What follows a delivery attempt, decided without a database or a network."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from service.settings import Settings
from service.webhooks.delivery import AttemptOutcome, DeliveryPolicy, encode_body, next_step

NOW = datetime(2026, 10, 9, 8, 0, tzinfo=UTC)
POLICY = DeliveryPolicy()  # the documented defaults: 10 s base, 1 h cap, 25 attempts


def test_defaults_match_the_settings_and_the_documented_schedule() -> None:
    assert DeliveryPolicy.from_settings(Settings()) == POLICY
    assert (POLICY.backoff_base_s, POLICY.backoff_cap_s, POLICY.max_attempts) == (10.0, 3600.0, 25)
    # The lease outlasts a whole round: every wave of sends timing out, and then some.
    assert POLICY.lease > timedelta(seconds=POLICY.timeout_s * POLICY.batch_size / POLICY.concurrency)


def test_a_2xx_delivers_whatever_the_attempt() -> None:
    for code in (200, 201, 202, 204, 299):
        assert next_step(AttemptOutcome(code, None, 5), POLICY.max_attempts, POLICY, NOW).status == "delivered"


@given(
    attempts=st.integers(min_value=1, max_value=POLICY.max_attempts - 1),
    outcome=st.sampled_from(
        [
            AttemptOutcome(None, "ConnectError: refused", 3),
            AttemptOutcome(500, "HTTP 500", 9),
            AttemptOutcome(302, "HTTP 302", 2),
            AttemptOutcome(429, "HTTP 429", 1),
        ]
    ),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_a_failure_is_retried_within_the_backoff_ceiling(attempts: int, outcome: AttemptOutcome, seed: int) -> None:
    step = next_step(outcome, attempts, POLICY, NOW, random.Random(seed))
    ceiling = min(POLICY.backoff_cap_s, POLICY.backoff_base_s * 2 ** (attempts - 1))
    assert step.status == "pending" and step.next_attempt_at is not None
    assert NOW <= step.next_attempt_at <= NOW + timedelta(seconds=ceiling)


def test_the_last_attempt_gives_up_and_an_unsendable_one_at_once() -> None:
    refused = AttemptOutcome(None, "ConnectError", 1)
    assert next_step(refused, POLICY.max_attempts, POLICY, NOW).status == "failed"
    assert next_step(refused, POLICY.max_attempts + 3, POLICY, NOW).status == "failed"
    no_webhook = AttemptOutcome(None, "no webhook is configured for 'police'", 0, retryable=False)
    assert next_step(no_webhook, 1, POLICY, NOW).status == "failed"


def test_the_body_is_stable_utf8_json() -> None:
    payload = {"source": "police", "incident": {"status": "closed", "resolution_note": "已整改"}, "seq": 7}
    body = encode_body(payload)
    assert body == encode_body(dict(reversed(payload.items())))  # key order does not matter
    assert "已整改".encode() in body and b" " not in body
    assert json.loads(body) == payload
