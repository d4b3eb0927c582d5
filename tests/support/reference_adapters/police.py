"""Reference only (ingest reads shipped definitions):
公安 警情推送: one JSON object per incident call (docs/adapters.md, "Police").

The caller's phone (``bjrdh``) is personal data: the record keeps only a masked form, and the
raw number is scrubbed from every other text of the record and from error messages too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.feeds.adapters.base import (
    MAX_ADDRESS_LEN,
    MAX_NAME_LEN,
    MAX_STATUS_LEN,
    as_record_id,
    make_title,
    normalise_word,
    require_object,
    storable_copy,
)
from service.feeds.adapters.phone import PhoneScrubber, _raw_phone_text, mask_phone_value
from service.feeds.adapters.severity import at_least, base_severity
from service.feeds.normalized import NormalizedRecord
from service.formats.fields import (
    FieldError,
    FieldReader,
    RecordRejected,
    as_code,
    as_datetime,
    as_number,
    show,
)
from service.kit.personal import mask_phone
from service.vocabulary import Category, Severity

__all__ = [
    "CATEGORY_BY_CODE",
    "ID_FIELD",
    "PHONE_FIELD",
    "SOURCE",
    "PhoneScrubber",
    "mask_phone",
    "mask_phone_value",
    "parse",
]

SOURCE = "police"
ID_FIELD = "jjdbh"
NAME, LABEL, COLOUR = "公安", "公安", "#3d7eff"  # how screens show the department
PHONE_FIELD = "bjrdh"

# 报警类别代码 → (报警类别, unified category)
CATEGORY_BY_CODE: dict[str, tuple[str, str]] = {
    "0101": ("盗窃", "order"),
    "0201": ("酗酒滋事", "order"),
    "0202": ("噪声扰民", "noise"),
    "0301": ("交通事故", "traffic"),
    "0302": ("违法停车", "traffic"),
    "0401": ("火灾", "fire"),
    "0402": ("火灾隐患", "fire"),
    "0501": ("群众求助", "other"),
    "0601": ("邻里纠纷", "order"),
    "0602": ("消费纠纷", "price"),
}
_CODE_BY_NAME = {normalise_word(name): code for code, (name, _) in CATEGORY_BY_CODE.items()}

FIRE_BURNING = "0401"  # 火灾: a fire now, not a hazard — the one police code that is critical
_TIME_FORMAT = "YYYY-MM-DD HH:MM:SS"


def parse(item: dict[str, Any], *, now: datetime | None = None) -> NormalizedRecord:
    """One police call as a NormalizedRecord; RecordRejected names every bad field."""
    item = dict(require_object(item))
    scrub = PhoneScrubber(_raw_phone_text(item.get(PHONE_FIELD)))
    try:
        return _parse(item, now, scrub)
    except RecordRejected as rejected:
        raise RecordRejected(
            rejected.source_record_id,
            [FieldError(error.field, scrub(error.reason)) for error in rejected.errors],
        ) from None


def _parse(item: dict[str, Any], now: datetime | None, scrub: PhoneScrubber) -> NormalizedRecord:
    payload, storage_errors = storable_copy(item)
    reader = FieldReader(item, now=now)
    reader.errors.extend(storage_errors)

    record_id = reader.read(ID_FIELD, as_record_id, required=True)
    occurred_at = reader.occurred_at(
        "bjsj", reader.read("bjsj", lambda value: as_datetime(value, _TIME_FORMAT), required=True)
    )
    code = _category_code(reader)
    address = reader.text("afdz", max_len=MAX_ADDRESS_LEN)
    name = reader.text("dwmc", max_len=MAX_NAME_LEN)
    description = reader.text("bjnr") or ""
    status_text = reader.text("jqzt", max_len=MAX_STATUS_LEN)
    channel = reader.text("bjtj")
    station = reader.text("gxdw")
    masked_phone = reader.read(PHONE_FIELD, mask_phone_value)
    place = _place(reader)

    reader.raise_if_failed(record_id)
    assert record_id is not None and occurred_at is not None and code is not None  # guaranteed by the reader

    if PHONE_FIELD in payload:
        payload[PHONE_FIELD] = masked_phone if masked_phone is not None else payload[PHONE_FIELD]
    payload = scrub.payload(payload)
    label, category_word = CATEGORY_BY_CODE[code]
    category = Category(category_word)
    severity = Severity.CRITICAL if code == FIRE_BURNING else at_least(base_severity(category), Severity.MEDIUM)
    return NormalizedRecord(
        source=SOURCE,
        source_record_id=record_id,
        payload=payload,
        category=category,
        occurred_at=occurred_at,
        is_problem=True,  # every police call opens or joins an incident
        title=scrub(make_title(label, address or name)),
        description=scrub(description),
        name=scrub(name) if name else None,
        address=scrub(address) if address else None,
        lng=place[0] if place else None,
        lat=place[1] if place else None,
        severity=severity,
        status_text=scrub(status_text) if status_text else None,
        extra=scrub.payload({"category_code": code, "report_channel": channel, "police_station": station}),
    )


def _category_code(reader: FieldReader) -> str | None:
    """The bjlbdm code from the table; bjlb's text stands in only when the code is missing."""
    errors_before = len(reader.errors)
    code = reader.read("bjlbdm", lambda value: as_code(value, 4))
    label = reader.text("bjlb")
    if len(reader.errors) > errors_before:
        return None
    if code is not None:
        if code in CATEGORY_BY_CODE:
            return code
        reader.fail("bjlbdm", f"unknown 报警类别代码 {code!r}; known codes: {', '.join(CATEGORY_BY_CODE)}")
        return None
    by_name = _CODE_BY_NAME.get(normalise_word(label) or "")
    if by_name is not None:
        return by_name
    if label is not None:
        reader.fail("bjlb", f"unknown 报警类别 {show(label)} and no bjlbdm code was sent")
    else:
        reader.fail("bjlbdm", "required, but missing or empty (and no known bjlb text either)")
    return None


def _place(reader: FieldReader) -> tuple[float, float] | None:
    errors_before = len(reader.errors)
    lng = reader.read("jd", as_number)
    lat = reader.read("wd", as_number)
    if len(reader.errors) > errors_before:
        return None
    return reader.coordinates("jd", "wd", lng, lat)
