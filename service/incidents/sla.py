"""Service-level deadlines: when an incident of a given category must be dealt with.

Pure: an opening time and a rule in, an aware UTC deadline out. Three kinds of clock:

- ``calendar_hours`` — plain elapsed time, day and night (fire, police calls, noise).
- ``working_hours`` — only time inside the office's working periods on working days counts
  (default 09:00–12:00 and 13:00–17:30 Asia/Shanghai, see ``WorkingHours``).
- ``working_days`` — the deadline is the close of business (end of the last working period) of
  the Nth working day *after* the opening day. The opening day is day 0 and never counts,
  whatever the hour and whether or not it is a working day — the usual reading of "N 个工作日内"
  and of the rule that the day a period starts is not counted in it (期间开始的日不计算在期间内).
  So a case opened Friday 08:00 or Saturday 10:00 with 3 working days is due Wednesday 17:30.

Working days follow the Chinese statutory calendar of the maintained ``chinese_calendar``
package: public holidays are days off, make-up workdays (调休, e.g. a Sunday before National
Day) are working days. The package only knows the years it was released for; for a date
outside them (it raises ``NotImplementedError``) this module falls back to Monday–Friday, so
deadlines in a not-yet-published year are approximate rather than a crash. Upgrade the
package each December when the State Council publishes the next year's calendar.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

from service.vocabulary import CATEGORY_NAMES, Category

SlaUnit = Literal["calendar_hours", "working_hours", "working_days"]
SLA_UNITS: tuple[str, ...] = get_args(SlaUnit)


@dataclass(frozen=True, slots=True)
class SlaRule:
    """A category's deadline: ``amount`` of ``unit`` after the incident opens."""

    category: Category
    amount: int
    unit: SlaUnit

    def __post_init__(self) -> None:
        if self.category not in CATEGORY_NAMES:
            raise ValueError(f"SLA rule for unknown category {self.category!r}; known: {', '.join(CATEGORY_NAMES)}")
        if self.unit not in SLA_UNITS:
            raise ValueError(
                f"SLA rule for {self.category!r}: unknown unit {self.unit!r}; known: {', '.join(SLA_UNITS)}"
            )
        # bool is an int subclass; "amount": true in JSON is a typo, not 1.
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise ValueError(
                f"SLA rule for {self.category!r}: amount must be a positive whole number, got {self.amount!r}"
            )


def _rules(*rules: SlaRule) -> Mapping[str, SlaRule]:
    return MappingProxyType({rule.category: rule for rule in rules})


# The default table. Hazards to life and public order run on the clock day and night; the
# regulators' paperwork runs on office days.
#   fire          2 calendar hours  — hazard to life, includes blocked fire lanes
#   order         2 calendar hours  — police calls: theft, disputes, drunken trouble
#   traffic       2 calendar hours  — accidents and parking that blocks a road
#   street_order  4 calendar hours  — street vending, goods outside the shop
#   noise         4 calendar hours  — mostly at night, so it cannot wait for office hours
#   appearance   24 calendar hours  — litter, oil fumes, illegal signs
#   waste        24 calendar hours  — overflowing bins, unsorted waste
#   other        24 calendar hours  — requests for help
#   food         72 calendar hours  — failed food-safety inspection: re-inspection within 3 days
#   price         3 working days    — price and weights complaints, handled by the regulator's office
#   licence       5 working days    — licence display and unlicensed business: paperwork
DEFAULT_SLA_RULES: Mapping[str, SlaRule] = _rules(
    SlaRule(Category.FIRE, 2, "calendar_hours"),
    SlaRule(Category.ORDER, 2, "calendar_hours"),
    SlaRule(Category.TRAFFIC, 2, "calendar_hours"),
    SlaRule(Category.STREET_ORDER, 4, "calendar_hours"),
    SlaRule(Category.NOISE, 4, "calendar_hours"),
    SlaRule(Category.APPEARANCE, 24, "calendar_hours"),
    SlaRule(Category.WASTE, 24, "calendar_hours"),
    SlaRule(Category.OTHER, 24, "calendar_hours"),
    SlaRule(Category.FOOD, 72, "calendar_hours"),
    SlaRule(Category.PRICE, 3, "working_days"),
    SlaRule(Category.LICENCE, 5, "working_days"),
)


def parse_sla_rules(json_text: str, *, defaults: Mapping[str, SlaRule] = DEFAULT_SLA_RULES) -> dict[str, SlaRule]:
    """Read rules from configuration and lay them over ``defaults``.

    The JSON is an object keyed by category: ``{"noise": {"amount": 2, "unit": "calendar_hours"}}``.
    Categories it does not name keep their default rule. Raises ``ValueError`` naming the
    offending category, unit or field.
    """
    try:
        raw: Any = json.loads(json_text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"SLA rules are not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError('SLA rules must be a JSON object: {"<category>": {"amount": N, "unit": "..."}}')
    rules = dict(defaults)
    for category, spec in raw.items():
        if category not in CATEGORY_NAMES:
            raise ValueError(f"SLA rules name unknown category {category!r}; known: {', '.join(CATEGORY_NAMES)}")
        if not isinstance(spec, dict):
            raise ValueError(f'SLA rule for {category!r} must be an object {{"amount": N, "unit": "..."}}')
        unexpected = set(spec) - {"amount", "unit"}
        missing = {"amount", "unit"} - set(spec)
        if unexpected or missing:
            raise ValueError(
                f"SLA rule for {category!r} needs exactly the fields amount and unit"
                f" (missing: {sorted(missing)}, unexpected: {sorted(unexpected)})"
            )
        rules[category] = SlaRule(Category(category), spec["amount"], spec["unit"])
    return rules


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """The office's working periods on a working day, in wall-clock time of ``timezone``."""

    periods: tuple[tuple[time, time], ...] = ((time(9, 0), time(12, 0)), (time(13, 0), time(17, 30)))
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("working hours need at least one period")
        previous_end: time | None = None
        for start, end in self.periods:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working periods are wall-clock times without a zone")
            if not start < end:
                raise ValueError(f"working period {start}–{end} must start before it ends")
            if previous_end is not None and start < previous_end:
                raise ValueError("working periods must be in order and must not overlap")
            previous_end = end
        self.zone()  # fail on a bad zone name at configuration time, not at the first deadline

    def zone(self) -> tzinfo:
        try:
            return ZoneInfo(self.timezone)
        except ZoneInfoNotFoundError:
            # A machine without the tz database: Shanghai has had a fixed +08:00 and no DST since
            # 1991, so its offset is safe to hard-code; any other zone must come from tzdata.
            if self.timezone == "Asia/Shanghai":
                return timezone(timedelta(hours=8), "CST")
            raise ValueError(f"unknown time zone {self.timezone!r}") from None

    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of ``day`` as aware UTC instants (whether or not it is a working day)."""
        zone = self.zone()
        return [
            (
                datetime.combine(day, start, tzinfo=zone).astimezone(UTC),
                datetime.combine(day, end, tzinfo=zone).astimezone(UTC),
            )
            for start, end in self.periods
        ]


DEFAULT_WORKING_HOURS = WorkingHours()


@lru_cache(maxsize=4096)  # a pure function of the date, asked for every incident opened
def is_working_day(day: date) -> bool:
    """True on a statutory working day in China, make-up workdays included.

    Outside the years the ``chinese_calendar`` package knows, Monday–Friday.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def compute_due_at(opened_at: datetime, rule: SlaRule, *, hours: WorkingHours = DEFAULT_WORKING_HOURS) -> datetime:
    """The deadline, as an aware UTC datetime, for an incident opened at ``opened_at`` under ``rule``."""
    if opened_at.tzinfo is None or opened_at.utcoffset() is None:
        raise ValueError("opened_at must be an aware datetime")
    opened_utc = opened_at.astimezone(UTC)
    if rule.unit == "calendar_hours":
        return opened_utc + timedelta(hours=rule.amount)
    if rule.unit == "working_hours":
        return _add_working_time(opened_utc, timedelta(hours=rule.amount), hours)
    return _end_of_nth_working_day(opened_utc, rule.amount, hours)


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    """True once ``now`` is past ``due_at``; an incident without a deadline is never overdue."""
    if due_at is None:
        return False
    if due_at.utcoffset() is None or now.utcoffset() is None:
        raise ValueError("due_at and now must be aware datetimes")
    return now > due_at


def _local_date(instant: datetime, hours: WorkingHours) -> date:
    return instant.astimezone(hours.zone()).date()


def _add_working_time(start: datetime, needed: timedelta, hours: WorkingHours) -> datetime:
    # Walk day by day from the opening day, spending the working time of each period that lies
    # after `start`. Arithmetic is done in UTC so that a zone with DST would still be exact.
    day = _local_date(start, hours)
    while True:
        if is_working_day(day):
            for period_start, period_end in hours.periods_on(day):
                from_ = max(period_start, start)
                if from_ >= period_end:
                    continue
                available = period_end - from_
                if needed <= available:
                    return from_ + needed
                needed -= available
        day += timedelta(days=1)


def _end_of_nth_working_day(opened: datetime, n: int, hours: WorkingHours) -> datetime:
    return _end_of_nth_working_day_after(_local_date(opened, hours), n, hours)


@lru_cache(maxsize=4096)  # every incident opened on one day under one rule has the same deadline
def _end_of_nth_working_day_after(day: date, n: int, hours: WorkingHours) -> datetime:
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return hours.periods_on(day)[-1][1]


__all__ = [
    "DEFAULT_SLA_RULES",
    "DEFAULT_WORKING_HOURS",
    "SLA_UNITS",
    "SlaRule",
    "SlaUnit",
    "WorkingHours",
    "compute_due_at",
    "is_overdue",
    "is_working_day",
    "parse_sla_rules",
]
