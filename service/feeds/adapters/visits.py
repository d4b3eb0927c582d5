"""人民情感日志 visit logs: one JSON object per visit a cadre made to a household or a unit, pushed by
the visit log's system with its department key (docs/adapters.md, "Visit logs").

A visit is not a department record: it is kept whole, in its own table (service/visits), and read
only by operators and admins, for it is about a household. What reaches the ledger is only a need
marked 急: one problem report per urgent need, with the need, its community and the visit's date
and none of the household's detail (``urgent_reports``), placed into incidents like every other
report. The caller of ``read_visit`` stores the visit; ``parse``, which the generic feed path would
call, refuses every visit (a file of visits is not read here yet: send them as JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from service.feeds.adapters.base import (
    MAX_ADDRESS_LEN,
    MAX_NAME_LEN,
    RECORD_FIELD,
    as_record_id,
    make_title,
    normalise_word,
    require_object,
)
from service.feeds.normalized import NormalizedRecord
from service.formats.fields import (
    FieldError,
    FieldProblem,
    FieldReader,
    RecordRejected,
    as_date,
    as_text,
    local_midnight_utc,
    show,
)
from service.formats.files import describe_type
from service.kit.clock import SHANGHAI
from service.kit.personal import MASK, mask_phone, mask_phone_numbers
from service.residents.needs import NEED_NAMES, theme_of_need
from service.residents.themes import category_of_theme
from service.vocabulary import Severity

SOURCE = "visits"
ID_FIELD = "走访编号"
NAME, LABEL, COLOUR = "人民情感日志", "走访", "#20c997"  # how screens show the source

# The visit log's fields, in its own names.
DATE = "走访日期"
COMMUNITY = "居委"
KIND = "走访对象类型"
VISITEE = "走访对象"
CONTACT = "联系人"
PHONE = "联系电话"
CADRE = "走访干部"
NEEDS = "需求"
NOTE = "需求说明"
SATISFACTION = "满意度"
NEED_ITEM = "项目"
URGENT = "急"

HOUSEHOLD, UNIT = "住户", "单位"
KINDS = (HOUSEHOLD, UNIT)
SATISFACTIONS = ("非常满意", "满意", "基本满意", "不满意")
MAX_COMMUNITY_LEN = 100
MAX_NOTE_LEN = 2000
MAX_NEEDS = len(NEED_NAMES)


@dataclass(frozen=True, slots=True)
class VisitRow:
    """One visit as it is stored: the contact's name and phone already masked, the needs checked."""

    visit_id: str
    visited_on: date
    community: str
    visitee_kind: str
    visitee: str
    contact_name: str | None
    contact_phone: str | None
    cadre: str
    needs: list[str]
    urgent_needs: list[str]
    note: str
    satisfaction: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def stored(self) -> dict[str, Any]:
        """The visit's values as JSON (what its content hash is taken over)."""
        return {
            "visit_id": self.visit_id,
            "visited_on": self.visited_on.isoformat(),
            "community": self.community,
            "visitee_kind": self.visitee_kind,
            "visitee": self.visitee,
            "contact_name": self.contact_name,
            "contact_phone": self.contact_phone,
            "cadre": self.cadre,
            "needs": self.needs,
            "urgent_needs": self.urgent_needs,
            "note": self.note,
            "satisfaction": self.satisfaction,
        }


def read_visit(item: object, *, now: datetime | None = None) -> VisitRow:
    """One pushed visit, checked field by field; RecordRejected names every bad field.

    The contact's name and phone are masked here, before anything stores or answers them, and no
    error quotes them; phone numbers written in the other texts are masked too.
    """
    record = require_object(item)
    reader = FieldReader(record, now=now)
    visit_id = reader.read(ID_FIELD, as_record_id, required=True)
    visited_on = reader.read(DATE, lambda value: as_date(value, "YYYY-MM-DD"), required=True)
    if visited_on is not None and visited_on > reader.now.astimezone(SHANGHAI).date():
        reader.fail(DATE, f"lies in the future: {visited_on.isoformat()}")
    community = reader.text(COMMUNITY, required=True, max_len=MAX_COMMUNITY_LEN)
    kind = normalise_word(reader.text(KIND, max_len=8)) or KINDS[0]
    if kind not in KINDS:
        reader.fail(KIND, f"expected one of {', '.join(KINDS)}, got {show(kind)}")
    visitee = reader.text(VISITEE, required=True, max_len=MAX_ADDRESS_LEN)
    contact = _personal(reader, record, CONTACT)
    phone = _personal(reader, record, PHONE)
    cadre = reader.text(CADRE, required=True, max_len=MAX_NAME_LEN)
    needs, urgent = _needs(reader, record.get(NEEDS))
    note = reader.text(NOTE, max_len=MAX_NOTE_LEN) or ""
    satisfaction = normalise_word(reader.text(SATISFACTION, max_len=8))
    if satisfaction is not None and satisfaction not in SATISFACTIONS:
        reader.fail(SATISFACTION, f"expected one of {', '.join(SATISFACTIONS)}, got {show(satisfaction)}")
    reader.raise_if_failed(visit_id)
    assert visit_id is not None and visited_on is not None and community is not None
    assert visitee is not None and cadre is not None

    def masked(text: str) -> str:
        text = mask_phone_numbers(text)
        return text.replace(contact, MASK) if contact and len(contact) >= 2 else text

    return VisitRow(
        visit_id=visit_id,
        visited_on=visited_on,
        community=community,
        visitee_kind=kind,
        visitee=masked(visitee),
        contact_name=MASK if contact else None,
        contact_phone=mask_phone(phone) if phone else None,
        cadre=mask_phone_numbers(cadre),
        needs=needs,
        urgent_needs=urgent,
        note=masked(note),
        satisfaction=satisfaction,
    )


def _personal(reader: FieldReader, record: Mapping[str, Any], name: str) -> str | None:
    """A personal field's text; an error never quotes its value."""
    value = record.get(name)
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        text = as_text(value) if value is not None else None
        if text is not None and len(text) > MAX_NAME_LEN:
            reader.fail(name, f"longer than {MAX_NAME_LEN} characters")
            return None
        return text
    reader.fail(name, f"expected text, got {describe_type(value)}")
    return None


def _needs(reader: FieldReader, value: object) -> tuple[list[str], list[str]]:
    """The ticked needs and those marked 急: each item a name from the fixed list, or
    ``{"项目": name, "急": true}``. Errors name the item: 需求[2]."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        reader.fail(NEEDS, f"expected a list of needs, got {describe_type(value)}")
        return [], []
    if len(value) > MAX_NEEDS:
        reader.fail(NEEDS, f"at most {MAX_NEEDS} needs, got {len(value)}")
        return [], []
    needs: list[str] = []
    urgent: list[str] = []
    for index, item in enumerate(value):
        where = f"{NEEDS}[{index}]"
        is_urgent = False
        if isinstance(item, Mapping):
            name_value = item.get(NEED_ITEM)
            flag = item.get(URGENT, False)
            if not isinstance(flag, bool):
                reader.fail(f"{where}.{URGENT}", f"expected true or false, got {describe_type(flag)}")
            is_urgent = flag is True
            unknown = sorted(set(item) - {NEED_ITEM, URGENT})
            if unknown:
                reader.fail(where, f"unknown keys {unknown}: a need is {{{NEED_ITEM!r}, {URGENT!r}}}")
            where = f"{where}.{NEED_ITEM}"
        else:
            name_value = item
        try:
            name = normalise_word(as_text(name_value, 32))
        except FieldProblem as problem:
            reader.fail(where, problem.reason)
            continue
        if name is None:
            reader.fail(where, "required, but missing or empty")
            continue
        if name not in NEED_NAMES:
            reader.fail(where, f"not on the list of needs: {show(name)}; the list: {'、'.join(NEED_NAMES)}")
            continue
        if name in needs:
            reader.fail(where, f"{name} is ticked twice")
            continue
        needs.append(name)
        if is_urgent:
            urgent.append(name)
    return needs, urgent


def urgent_reports(visit: VisitRow) -> list[NormalizedRecord]:
    """One problem report for each need marked 急, carrying no household detail: the need, its theme's
    category, the community and the day. Its id is the visit's id and the need (走访编号/需求).

    A unit (a shop, a school) is no household: its name goes with the report, so that the matcher
    may link it to the register like any department's record naming a shop.
    """
    unit = visit.visitee if visit.visitee_kind == UNIT else None
    reports = []
    for need in visit.urgent_needs:
        theme = theme_of_need(need)
        payload = {
            ID_FIELD: visit.visit_id,
            DATE: visit.visited_on.isoformat(),
            COMMUNITY: visit.community,
            "急需": need,
            **({VISITEE: unit} if unit else {}),
        }
        reports.append(
            NormalizedRecord(
                source=SOURCE,
                source_record_id=f"{visit.visit_id}/{need}",
                payload=payload,
                category=category_of_theme(theme),
                occurred_at=local_midnight_utc(visit.visited_on),
                is_problem=True,
                title=make_title("走访急需", need, unit or visit.community),
                name=unit[:MAX_NAME_LEN] if unit else None,
                severity=Severity.HIGH,
            )
        )
    return reports


def parse(item: dict[str, Any], *, now: datetime | None = None) -> NormalizedRecord:
    """Visits are stored by POST /api/v1/feeds/visits/records (service/visits), never as department
    records: the generic feed path refuses each one, naming the route to use."""
    raw_id = item.get(ID_FIELD) if isinstance(item, Mapping) else None
    shown = raw_id if isinstance(raw_id, str) else None
    raise RecordRejected(
        shown, [FieldError(RECORD_FIELD, "visit logs are pushed as JSON to POST /api/v1/feeds/visits/records")]
    )
