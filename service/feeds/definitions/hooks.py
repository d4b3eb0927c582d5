"""Code hooks: what a feed definition cannot declare, named in it (``hooks = ["…"]``).

A hook takes the record the definition made and the native record it came from, and returns the
record to keep (or raises RecordRejected). Hooks run after the definition's own reading, in the
order the definition names them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from service.feeds.adapters.base import make_title
from service.feeds.adapters.severity import base_severity
from service.feeds.normalized import NormalizedRecord
from service.kit.personal import MASK
from service.residents.classifier import shipped_classifier
from service.residents.themes import THEME_BY_KEY

Hook = Callable[[NormalizedRecord, Mapping[str, Any]], NormalizedRecord]

# 12345 work orders (hotline.toml): the fields the complaint hook reads, in the hotline's own names.
HOTLINE_TYPE = "诉求类型"
HOTLINE_CALLER = "来电人"


def classify_complaint(record: NormalizedRecord, native: Mapping[str, Any]) -> NormalizedRecord:
    """The theme of a resident's complaint from its free text (service/residents): its unified category,
    base severity and title, with the theme and the model's confidence kept in extra.

    The coarse 诉求类型, when the hotline sends one, is read with the text: it is one more clue, not
    the answer. The caller's name, masked in the payload by the definition, is also taken out of
    the texts a resident may have repeated it in ("我是张三，…").
    """
    kind = native.get(HOTLINE_TYPE)
    text = record.description + (f" {kind}" if isinstance(kind, str) else "")
    theme_key, confidence = shipped_classifier().classify(text)
    theme = THEME_BY_KEY[theme_key]
    caller = native.get(HOTLINE_CALLER)
    record = _without_name(record, caller.strip()) if isinstance(caller, str) and len(caller.strip()) >= 2 else record
    return dataclasses.replace(
        record,
        category=theme.category,
        severity=base_severity(theme.category),
        title=make_title(theme.label, record.address or record.name),
        theme=theme.key,
        extra={
            **record.extra,
            "theme": theme.key,
            "theme_label": theme.label,
            "theme_confidence": round(confidence, 3),
        },
    )


def _without_name(record: NormalizedRecord, name: str) -> NormalizedRecord:
    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(name, MASK)
        if isinstance(value, dict):
            return {key: scrub(item) for key, item in value.items()}
        if isinstance(value, list):
            return [scrub(item) for item in value]
        return value

    return dataclasses.replace(
        record,
        payload=scrub(record.payload),
        description=scrub(record.description),
        title=scrub(record.title),
        address=scrub(record.address),
        name=scrub(record.name),
        extra=scrub(record.extra),
    )


HOOKS: dict[str, Hook] = {"classify_complaint": classify_complaint}
