"""Reference only (ingest reads shipped definitions):
城管 案件推送 (数字城管): one JSON object per case (docs/adapters.md, "City management").

Locations arrive in GCJ-02 (the default when ``crs`` is absent) and are converted to WGS-84,
the register's datum. A resent ``taskId`` with a later ``stage`` is a new revision of the
same record; deciding that is the ingest service's business, not the adapter's.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from service.feeds.adapters.severity import base_severity
from service.feeds.normalized import NormalizedRecord
from service.formats.fields import (
    FieldProblem,
    FieldReader,
    as_code,
    as_datetime,
    as_number,
    as_text,
    show,
)
from service.formats.files import describe_type
from service.matching.geo import gcj02_to_wgs84
from service.vocabulary import Category

SOURCE = "city"
ID_FIELD = "taskId"
NAME, LABEL, COLOUR = "城管", "城管", "#34c38f"  # how screens show the department

# 事项代码 (GB/T 47678.5-2026) → (categoryName, unified category)
CATEGORY_BY_CODE: dict[str, tuple[str, Category]] = {
    "06010": ("暴露垃圾", Category.APPEARANCE),
    "06027": ("油烟污染", Category.APPEARANCE),
    "06036": ("乱堆杂物", Category.APPEARANCE),
    "07001": ("非法小广告", Category.APPEARANCE),
    "07003": ("违规户外广告", Category.APPEARANCE),
    "07006": ("违规牌匾标识", Category.APPEARANCE),
    "09012": ("占用消防通道", Category.FIRE),
    "09010": ("非机动车乱停放", Category.TRAFFIC),
    "09001": ("无照经营游商", Category.STREET_ORDER),
    "09005": ("店外经营", Category.STREET_ORDER),
    "09006": ("占道经营", Category.STREET_ORDER),
    "06028": ("噪声扰民", Category.NOISE),
    "06041": ("垃圾未分类", Category.WASTE),
    "06042": ("垃圾站（箱）满溢", Category.WASTE),
    "09009": ("机动车乱停放", Category.TRAFFIC),
    "09015": ("无证餐饮", Category.LICENCE),
}
_CODE_BY_NAME = {normalise_word(name): code for code, (name, _) in CATEGORY_BY_CODE.items()}

GCJ02, WGS84 = "GCJ-02", "WGS-84"
# Spellings seen for the two datums; CGCS2000 differs from WGS-84 by centimetres.
_CRS_BY_SPELLING = {"GCJ-02": GCJ02, "GCJ02": GCJ02, "WGS-84": WGS84, "WGS84": WGS84, "CGCS2000": WGS84}
_TIME_FORMAT = "ISO 8601, e.g. 2026-09-01T23:36:00+08:00"


def parse(item: dict[str, Any], *, now: datetime | None = None) -> NormalizedRecord:
    """One city-management case as a NormalizedRecord; RecordRejected names every bad field."""
    record = require_object(item)
    payload, storage_errors = storable_copy(record)
    reader = FieldReader(record, now=now)
    reader.errors.extend(storage_errors)

    record_id = reader.read(ID_FIELD, as_record_id, required=True)
    occurred_at = reader.occurred_at(
        "discoverTime",
        reader.read("discoverTime", lambda value: as_datetime(value, _TIME_FORMAT), required=True),
    )
    deadline = reader.read("deadline", lambda value: as_datetime(value, _TIME_FORMAT))
    code = _category_code(reader)
    address = reader.text("address", max_len=MAX_ADDRESS_LEN)
    name = reader.text("shopName", max_len=MAX_NAME_LEN)
    description = reader.text("description") or ""
    status_text = reader.text("stage", max_len=MAX_STATUS_LEN)
    photos = reader.read("photos", _photo_urls)
    place = _place(reader)
    extra = {
        "category_code": code,
        "deadline": deadline.isoformat() if deadline else None,
        "info_source": reader.text("infoSource"),
        "grid_code": reader.text("gridCode"),
        "reporter": reader.text("reporter"),
        "photos": photos or [],
    }

    reader.raise_if_failed(record_id)
    assert record_id is not None and occurred_at is not None and code is not None  # guaranteed by the reader

    label, category = CATEGORY_BY_CODE[code]
    return NormalizedRecord(
        source=SOURCE,
        source_record_id=record_id,
        payload=payload,
        category=category,
        occurred_at=occurred_at,
        is_problem=True,  # every city case opens or joins an incident
        title=make_title(label, address or name),
        description=description,
        name=name,
        address=address,
        lng=place[0] if place else None,
        lat=place[1] if place else None,
        severity=base_severity(category),
        status_text=status_text,
        extra=extra,
    )


def _category_code(reader: FieldReader) -> str | None:
    """categoryCode from the table; categoryName stands in when the code is missing or not in it
    (the national standard has many more codes than this street's table)."""
    errors_before = len(reader.errors)
    code = reader.read("categoryCode", lambda value: as_code(value, 5))
    label = reader.text("categoryName")
    if len(reader.errors) > errors_before:
        return None
    if code in CATEGORY_BY_CODE:
        return code
    by_name = _CODE_BY_NAME.get(normalise_word(label) or "")
    if by_name is not None:
        return by_name
    named = f" and categoryName {show(label)} is not in the table either" if label else ""
    if code is not None:
        reader.fail("categoryCode", f"unknown 事项代码 {code!r}{named}")
    else:
        reader.fail("categoryCode", f"required, but missing or empty{named}")
    return None


def _photo_urls(value: object) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise FieldProblem(f"expected a list of photo URLs, got {describe_type(value)}")
    urls = []
    for position, url in enumerate(value, 1):
        if not isinstance(url, str):
            raise FieldProblem(f"photo {position}: expected a URL as text, got {describe_type(url)}")
        if url.strip():
            urls.append(url.strip())
    return urls


def _place(reader: FieldReader) -> tuple[float, float] | None:
    """location {lng, lat, crs} as WGS-84 (lng, lat); absent or null means not known."""
    location = reader.item.get("location")
    if location is None or location == "":
        return None
    if not isinstance(location, Mapping):
        reader.fail("location", f"expected an object {{lng, lat, crs}}, got {describe_type(location)}")
        return None
    errors_before = len(reader.errors)
    lng = reader.read("location.lng", as_number, value=location.get("lng"), use_value=True)
    lat = reader.read("location.lat", as_number, value=location.get("lat"), use_value=True)
    crs = reader.read("location.crs", _crs, value=location.get("crs"), use_value=True)
    if len(reader.errors) > errors_before:
        return None
    place = reader.coordinates("location.lng", "location.lat", lng, lat)
    if place is None or crs == WGS84:
        return place
    return gcj02_to_wgs84(*place)


def _crs(value: object) -> str:
    text = as_text(value)
    if text is None:
        return GCJ02  # the documented default
    crs = _CRS_BY_SPELLING.get(normalise_word(text.upper()) or "")
    if crs is None:
        raise FieldProblem(f"unknown coordinate system {show(text)}; expected GCJ-02 or WGS-84")
    return crs
