"""The JSON guard: every JSON body the service takes is read, or refused, by ``read_json``.

Generic routes and department pushes alike (service/http.py calls it for every JSON body, before
any route runs). A refusal is an AppError, rendered like every other error: not UTF-8 (with the
hint that a department's GBK export goes to the files endpoint), not JSON (NaN and Infinity are
not), or nested deeper than MAX_JSON_DEPTH. Text no database can store (a NUL, an unpaired
surrogate) is valid JSON: ``find_unstorable_text`` names where it is, for whoever refuses it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from service.errors import BadRequest, MalformedJson

MAX_JSON_DEPTH = 32
NUL_REASON = "contains a NUL character, which cannot be stored"
# Only a body with one of these escapes can hold a NUL or a surrogate once decoded.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
NOT_UTF8_HINT = (
    "JSON must be UTF-8; a department's export file as it is (CSV in GBK or UTF-8, or XLSX) goes to "
    "POST /api/v1/feeds/{source}/files"
)


def is_json_media_type(media_type: str) -> bool:
    """application/json or any +json type, parameters and case aside."""
    media_type = media_type.split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def read_json(body: bytes) -> Any:
    """The body as a JSON value, or the AppError that says why not: not UTF-8 (pointing a GBK export
    to the files endpoint), not JSON (NaN and Infinity are not), or nested deeper than MAX_JSON_DEPTH."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"the body is not valid UTF-8 (byte {exc.start}): {NOT_UTF8_HINT}"
        raise BadRequest(message, [{"field": "body"}]) from None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in exc.msg:  # orjson stops at 1,024 levels
            raise _too_deep() from None
        value = _read_with_lone_surrogates(text, exc)
    # Cheap test first: a body with few brackets cannot nest deep.
    if body.count(b"[") + body.count(b"{") >= MAX_JSON_DEPTH and _nests_deeper_than_allowed(value):
        raise _too_deep()
    return value


def _read_with_lone_surrogates(text: str, refused: json.JSONDecodeError) -> Any:
    """orjson refuses an unpaired surrogate escape (``"\\ud800"``), which is valid JSON that no
    database stores: the standard parser reads it, so the field can be named (or the record rejected
    alone). Anything else orjson refused is not JSON."""
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=_finite_float)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise MalformedJson(
            f"the body is not valid JSON: {refused.msg} at line {refused.lineno} column {refused.colno}",
            [{"field": "body"}],
        ) from None


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large a number")
    return number


def _nests_deeper_than_allowed(value: Any) -> bool:
    """True when a value sits deeper than MAX_JSON_DEPTH (the body itself is level 1)."""
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    depth = 1
    while level:  # level by level: the JSON may be nested deeper than Python recurses
        inner: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            if children and depth >= MAX_JSON_DEPTH:
                return True
            inner.extend(child for child in children if isinstance(child, dict | list))
        level = inner
        depth += 1
    return False


def _too_deep() -> BadRequest:
    return BadRequest(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels", [{"field": "body"}])


def may_hold_unstorable_text(body: bytes) -> bool:
    """False when a JSON body cannot hold a NUL or an unpaired surrogate once decoded (most bodies)."""
    return _SUSPECT_ESCAPE.search(body) is not None


def find_unstorable_text(value: Any) -> tuple[str, str] | None:
    """(the field, why) for the first text in a JSON value that no database can store, or None."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:  # iterative: the value may be nested deeper than Python recurses
        path, item = stack.pop()
        if isinstance(item, str):
            if reason := text_problem(item):
                return path or "body", reason
        elif isinstance(item, dict):
            for key, inner in item.items():
                if reason := text_problem(key):
                    return f"{path or 'body'} (a field name)", reason
                stack.append((f"{path}.{key}" if path else key, inner))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), inner) for i, inner in enumerate(item))
    return None


def text_problem(text: str) -> str | None:
    """Why no database can store this text (a NUL character, an unpaired surrogate), or None."""
    if "\x00" in text:
        return NUL_REASON
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate, which is not valid Unicode"
    return None
