"""SLA: deadlines on calendar clocks, working hours and working days on the Chinese calendar; then
through the app, deadlines from configuration, the background watch that escalates overdue incidents
once, and the overdue figure in the stats."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.incidents.bootstrap import check_deadlines
from service.incidents.sla import (
    DEFAULT_SLA_RULES,
    SlaRule,
    WorkingHours,
    compute_due_at,
    is_overdue,
    is_working_day,
    parse_sla_rules,
)
from service.incidents.workflow import escalate_overdue
from service.kit.clock import utcnow
from service.state import AppState
from service.vocabulary import CATEGORY_NAMES
from tests.conftest import Principals
from tests.support.incidents import (
    API,
    CHONGQING,
    SLA_RULES,
    XIAOZHU,
    XINYUAN,
    change_status,
    city_case,
    get,
    police_call,
    push,
)

SHANGHAI = timezone(timedelta(hours=8))


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def working_hours(amount: int) -> SlaRule:
    return SlaRule("other", amount, "working_hours")


def working_days(amount: int) -> SlaRule:
    return SlaRule("price", amount, "working_days")


# ---- the calendar ------------------------------------------------------------------------------

# What chinese_calendar 1.11 says about autumn 2026: Mid-Autumn Fri 25 – Sun 27 September,
# National Day Thu 1 – Wed 7 October, make-up workdays Sunday 20 September and Saturday 10 October.
AUTUMN_2026 = {
    date(2026, 9, 19): False,  # Saturday
    date(2026, 9, 20): True,  # Sunday, make-up workday (调休)
    date(2026, 9, 24): True,
    date(2026, 9, 25): False,  # Friday, Mid-Autumn
    date(2026, 9, 26): False,
    date(2026, 9, 27): False,
    date(2026, 9, 28): True,
    date(2026, 9, 30): True,
    **{date(2026, 10, d): False for d in range(1, 8)},  # National Day
    date(2026, 10, 8): True,
    date(2026, 10, 9): True,
    date(2026, 10, 10): True,  # Saturday, make-up workday
    date(2026, 10, 11): False,  # Sunday
    date(2026, 10, 12): True,
}


@pytest.mark.parametrize(("day", "working"), sorted(AUTUMN_2026.items()))
def test_statutory_calendar_2026_autumn(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize("year", [1990, 2003, 2090, 2100])
def test_years_the_package_does_not_know_fall_back_to_monday_to_friday(year: int) -> None:
    for offset in range(14):
        day = date(year, 10, 1) + timedelta(days=offset)
        assert is_working_day(day) is (day.weekday() < 5)


# ---- calendar hours ----------------------------------------------------------------------------


def test_calendar_hours_run_day_and_night_and_return_utc() -> None:
    due = compute_due_at(local(2026, 10, 1, 23, 30), SlaRule("fire", 2, "calendar_hours"))
    assert due == local(2026, 10, 2, 1, 30)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 10, 1, 17, 30, tzinfo=UTC)


def test_the_opening_zone_does_not_matter() -> None:
    rule = working_hours(3)
    opened_local = local(2026, 3, 11, 10)
    assert compute_due_at(opened_local, rule) == compute_due_at(opened_local.astimezone(UTC), rule)


def test_naive_opening_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        compute_due_at(datetime(2026, 3, 11, 10), DEFAULT_SLA_RULES["fire"])


# ---- working hours -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opened", "hours", "due", "why"),
    [
        (local(2026, 3, 11, 10), 4, local(2026, 3, 11, 15), "10–12 then 13–15"),
        (local(2026, 3, 11, 11, 30), 1, local(2026, 3, 11, 13, 30), "across lunch"),
        (local(2026, 3, 11, 12, 30), 1, local(2026, 3, 11, 14), "opened during lunch"),
        (local(2026, 3, 11, 11), 1, local(2026, 3, 11, 12), "ends exactly at noon"),
        (local(2026, 3, 11, 7), 2, local(2026, 3, 11, 11), "opened before office hours"),
        (local(2026, 3, 11, 22), 2, local(2026, 3, 12, 11), "opened at night"),
        (local(2026, 3, 11, 17), 1, local(2026, 3, 12, 9, 30), "half an hour today, half tomorrow"),
        (local(2026, 3, 11, 9), 8, local(2026, 3, 12, 9, 30), "a working day is 7.5 hours"),
        (local(2026, 3, 13, 16, 30), 3, local(2026, 3, 16, 11), "over the weekend"),
        (local(2026, 3, 14, 10), 2, local(2026, 3, 16, 11), "opened on a Saturday"),
        (local(2026, 9, 30, 16), 8, local(2026, 10, 8, 16, 30), "across National Day"),
        (local(2026, 10, 3, 10), 1, local(2026, 10, 8, 10), "opened during National Day"),
        (local(2026, 10, 9, 17), 2, local(2026, 10, 10, 10, 30), "into the make-up Saturday"),
        (local(2026, 9, 19, 10), 2, local(2026, 9, 20, 11), "into the make-up Sunday"),
        (local(2026, 9, 24, 17), 1, local(2026, 9, 28, 9, 30), "across Mid-Autumn and the weekend"),
    ],
)
def test_working_hours(opened: datetime, hours: int, due: datetime, why: str) -> None:
    assert compute_due_at(opened, working_hours(hours)) == due, why


def test_the_local_day_decides_not_the_utc_day() -> None:
    # Sunday 17:00 UTC is Monday 01:00 in Shanghai: Monday's working hours count.
    opened = datetime(2026, 3, 15, 17, 0, tzinfo=UTC)
    assert compute_due_at(opened, working_hours(2)) == local(2026, 3, 16, 11)
    assert compute_due_at(opened, working_days(1)) == local(2026, 3, 17, 17, 30)


def test_shanghai_has_no_daylight_saving() -> None:
    # The same local opening in January and July gives the same local deadline, +08:00 both times.
    for month in (1, 7):
        opened = local(2026, month, 14, 10)  # a Wednesday both times
        due = compute_due_at(opened, working_hours(2))
        assert due.astimezone(SHANGHAI).time() == time(12, 0)
        assert due - opened == timedelta(hours=2)


def test_configurable_working_hours() -> None:
    shift = WorkingHours(periods=((time(8, 0), time(20, 0)),))
    assert compute_due_at(local(2026, 3, 11, 19), working_hours(2), hours=shift) == local(2026, 3, 12, 9)


@given(
    opened=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20)),
    first=st.integers(min_value=1, max_value=30),
    second=st.integers(min_value=1, max_value=30),
)
def test_working_hours_add_up(opened: datetime, first: int, second: int) -> None:
    opened = opened.replace(tzinfo=SHANGHAI)
    midway = compute_due_at(opened, working_hours(first))
    assert midway > opened
    # The deadline lies inside a working period of a working day.
    due_local = midway.astimezone(SHANGHAI)
    assert is_working_day(due_local.date())
    assert time(9) < due_local.time() <= time(12) or time(13) < due_local.time() <= time(17, 30)
    # Spending a then b hours is the same as spending a + b hours.
    assert compute_due_at(midway, working_hours(second)) == compute_due_at(opened, working_hours(first + second))


# ---- working days ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opened", "days", "due", "why"),
    [
        (local(2026, 3, 11, 10), 1, local(2026, 3, 12, 17, 30), "opening day is day 0"),
        (local(2026, 3, 11, 23), 1, local(2026, 3, 12, 17, 30), "at night too"),
        (local(2026, 3, 11, 6), 1, local(2026, 3, 12, 17, 30), "before office hours too"),
        (local(2026, 3, 13, 8), 3, local(2026, 3, 18, 17, 30), "Friday, over the weekend"),
        (local(2026, 3, 14, 10), 3, local(2026, 3, 18, 17, 30), "Saturday: Monday is day 1"),
        (local(2026, 3, 15, 23, 59), 3, local(2026, 3, 18, 17, 30), "Sunday night"),
        (local(2026, 9, 30, 10), 3, local(2026, 10, 10, 17, 30), "to the make-up Saturday"),
        (local(2026, 10, 2, 10), 1, local(2026, 10, 8, 17, 30), "opened during National Day"),
        (local(2026, 9, 18, 10), 5, local(2026, 9, 24, 17, 30), "the make-up Sunday counts"),
        (local(2026, 9, 24, 10), 1, local(2026, 9, 28, 17, 30), "Mid-Autumn does not count"),
    ],
)
def test_working_days(opened: datetime, days: int, due: datetime, why: str) -> None:
    assert compute_due_at(opened, working_days(days)) == due, why


def test_years_outside_the_package_do_not_crash() -> None:
    # 2090-10-06 is a Friday; the fallback knows no holidays, only weekends.
    assert date(2090, 10, 6).weekday() == 4
    assert compute_due_at(local(2090, 10, 6, 10), working_days(1)) == local(2090, 10, 9, 17, 30)
    assert compute_due_at(local(2090, 10, 6, 17), working_hours(1)) == local(2090, 10, 9, 9, 30)
    # Crossing from an unknown year into another unknown one (2099-12-31 is a Thursday).
    assert compute_due_at(local(2099, 12, 31, 10), working_days(2)) == local(2100, 1, 4, 17, 30)


# ---- the rules ---------------------------------------------------------------------------------


def test_default_rules_cover_every_category() -> None:
    assert set(DEFAULT_SLA_RULES) == set(CATEGORY_NAMES)
    assert all(rule.category == category for category, rule in DEFAULT_SLA_RULES.items())
    assert DEFAULT_SLA_RULES["fire"] == SlaRule("fire", 2, "calendar_hours")
    assert DEFAULT_SLA_RULES["licence"] == SlaRule("licence", 5, "working_days")
    assert DEFAULT_SLA_RULES["food"] == SlaRule("food", 72, "calendar_hours")


def test_default_rules_cannot_be_changed_in_place() -> None:
    with pytest.raises(TypeError):
        DEFAULT_SLA_RULES["fire"] = SlaRule("fire", 1, "calendar_hours")  # type: ignore[index]


def test_parse_overrides_some_and_keeps_the_rest() -> None:
    rules = parse_sla_rules(
        json.dumps(
            {
                "noise": {"amount": 2, "unit": "calendar_hours"},
                "waste": {"amount": 16, "unit": "working_hours"},
            }
        )
    )
    assert rules["noise"] == SlaRule("noise", 2, "calendar_hours")
    assert rules["waste"] == SlaRule("waste", 16, "working_hours")
    assert rules["fire"] == DEFAULT_SLA_RULES["fire"]
    assert set(rules) == set(CATEGORY_NAMES)
    assert parse_sla_rules("{}") == dict(DEFAULT_SLA_RULES)
    assert parse_sla_rules('{"fire": {"amount": 1, "unit": "calendar_hours"}}', defaults={}) == {
        "fire": SlaRule("fire", 1, "calendar_hours")
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"parking": {"amount": 2, "unit": "calendar_hours"}}', "unknown category 'parking'"),
        ('{"noise": {"amount": 2, "unit": "hours"}}', "'noise': unknown unit 'hours'"),
        ('{"noise": {"amount": 0, "unit": "calendar_hours"}}', "'noise': amount must be a positive"),
        ('{"noise": {"amount": -3, "unit": "calendar_hours"}}', "'noise': amount"),
        ('{"noise": {"amount": 2.5, "unit": "calendar_hours"}}', "'noise': amount"),
        ('{"noise": {"amount": true, "unit": "calendar_hours"}}', "'noise': amount"),
        ('{"noise": {"amount": "2", "unit": "calendar_hours"}}', "'noise': amount"),
        ('{"noise": {"amount": 2}}', "'noise' needs exactly the fields amount and unit"),
        ('{"noise": {"amount": 2, "unit": "calendar_hours", "units": "x"}}', "unexpected: \\['units'\\]"),
        ('{"noise": "2 hours"}', "'noise' must be an object"),
    ],
)
def test_parse_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_sla_rules(text)


@pytest.mark.parametrize(
    "periods",
    [
        (),
        ((time(12), time(9)),),
        ((time(9), time(12)), (time(11), time(17))),
        ((time(13), time(17)), (time(9), time(12))),
    ],
)
def test_working_hours_are_checked(periods: tuple[tuple[time, time], ...]) -> None:
    with pytest.raises(ValueError):
        WorkingHours(periods=periods)


def test_unknown_zone_is_refused_when_configured() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        WorkingHours(timezone="Mars/Olympus")


# ---- overdue -----------------------------------------------------------------------------------


def test_is_overdue() -> None:
    due = datetime(2026, 3, 11, 4, tzinfo=UTC)
    assert not is_overdue(due, due - timedelta(seconds=1))
    assert not is_overdue(due, due)
    assert is_overdue(due, due + timedelta(seconds=1))
    assert is_overdue(due, local(2026, 3, 11, 12, 1))  # another zone, same instant rules
    assert not is_overdue(None, due)
    with pytest.raises(ValueError):
        is_overdue(due, datetime(2026, 3, 11, 5))


# ── through the app ───────────────────────────────────────────────────────────────────────────────


async def _escalations(client: httpx.AsyncClient, headers: dict[str, str], incident_id: int) -> list[dict[str, Any]]:
    events = (await get(client, headers, f"/incidents/{incident_id}"))["events"]
    return [e for e in events if e["type"] == "escalated"]


async def _wait_for_escalation(client: httpx.AsyncClient, headers: dict[str, str], incident_ids: list[int]) -> None:
    for _ in range(200):
        if all([await _escalations(client, headers, i) for i in incident_ids]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the SLA watch did not escalate {incident_ids}")


@pytest.mark.settings(sla_check_interval_s=0.05)
async def test_deadlines_from_configuration_and_escalation(
    client: httpx.AsyncClient, principals: Principals, registry: None, state: AppState
) -> None:
    assert SLA_RULES["order"] == {"amount": 1, "unit": "calendar_hours"}
    op, now = principals.operator, utcnow()

    # Calendar hours: a police call two hours ago under a one-hour rule is already late.
    late_call = police_call(CHONGQING, "order", at=now - timedelta(hours=2))
    # Working days: a consumer dispute on Wednesday 30 September 2026 is due at the close of the 2nd
    # working day after — the National Day holiday (1–7 October) does not count: Friday 9 October, 17:30.
    before_holiday = police_call(XIAOZHU, "price", at=datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI))
    # …and one on Thursday 8 October is due on Saturday 10 October, a make-up working day (调休).
    after_holiday = police_call(XINYUAN, "price", at=datetime(2026, 10, 8, 15, 0, tzinfo=SHANGHAI))
    # Working hours: 4 h from Wednesday 30 September 16:00 = 1.5 h that day + 2.5 h on 8 October → 11:30.
    unlicensed = city_case(CHONGQING, "09015", "无证餐饮", at=datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI))
    late, dispute_1, dispute_2 = (r["incident_id"] for r in await push(
        client, principals.police, "police", late_call, before_holiday, after_holiday
    ))  # fmt: skip
    (licence,) = (r["incident_id"] for r in await push(client, principals.city, "city", unlicensed))
    # Fresh ones, due later: noise after the default 4 calendar hours, a fire hazard after 2.
    noise, fire = (r["incident_id"] for r in await push(
        client, principals.police, "police", police_call(XINYUAN, "noise", at=now), police_call(XIAOZHU, "fire", at=now)
    ))  # fmt: skip

    async def due_at(incident_id: int) -> datetime:
        return datetime.fromisoformat((await get(client, op, f"/incidents/{incident_id}"))["due_at"])

    assert await due_at(late) == (now - timedelta(hours=1)).replace(microsecond=0)
    assert await due_at(dispute_1) == datetime(2026, 10, 9, 9, 30, tzinfo=UTC)
    assert await due_at(dispute_2) == datetime(2026, 10, 10, 9, 30, tzinfo=UTC)
    assert await due_at(licence) == datetime(2026, 10, 8, 3, 30, tzinfo=UTC)
    assert await due_at(noise) == (now + timedelta(hours=4)).replace(microsecond=0)

    # The watch escalates each late incident once, with an event saying how late it is.
    overdue_ids = [late, dispute_1, dispute_2, licence]
    await _wait_for_escalation(client, op, overdue_ids)
    (escalated,) = await _escalations(client, op, late)
    assert escalated["actor"] == "system:sla"
    assert 3600 <= escalated["data"]["overdue_by_s"] < 3600 + 60
    listed = await get(client, op, "/incidents", overdue="true")
    assert {i["id"] for i in listed["items"]} == set(overdue_ids)
    stats = await get(client, principals.display, "/stats")
    assert stats["overdue"] == 4
    assert state.metrics.registry.get_sample_value("cb_incidents_overdue") == 4

    # Running again escalates nothing new, by hand or in a round of the watch.
    async with state.db.transaction() as uow:
        assert await escalate_overdue(uow) == 0
    assert await check_deadlines(state) == 0
    for incident_id in overdue_ids:
        assert len(await _escalations(client, op, incident_id)) == 1

    # Later on, an open incident that passes its deadline is escalated; a finished one is not.
    version = (await get(client, op, f"/incidents/{fire}"))["version"]
    assert (await change_status(client, op, fire, "rejected", version, "误报")).status_code == 200
    async with state.db.transaction() as uow:
        assert await escalate_overdue(uow, now=now + timedelta(hours=5)) == 1
    noise_now = await get(client, op, f"/incidents/{noise}")
    assert noise_now["overdue"] is True
    assert [e["data"]["overdue_by_s"] for e in noise_now["events"] if e["type"] == "escalated"] == [3600]
    assert (await get(client, op, f"/incidents/{fire}"))["overdue"] is False
    assert (await get(client, principals.display, "/stats"))["overdue"] == 5
    assert (await client.get(f"{API}/ledger/verify", headers=principals.admin)).json()["ok"]
