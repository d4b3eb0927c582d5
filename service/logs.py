"""Structured JSON logs with request ids, and a filter that keeps secrets and personal data out."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime

from service.kit.personal import mask_phone_numbers

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# What must never reach a log line, whatever code wrote it. These run on each field's text before
# the line is serialised: on the JSON line they would also eat the backslash of an escaped quote.
_REDACTIONS = [
    (re.compile(r"cbk_[0-9a-f]{12}_[A-Za-z0-9_\-]+"), "cbk_[REDACTED]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-.=]+"), r"\1[REDACTED]"),
    (re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"), "[REDACTED-TOKEN]"),
    (
        re.compile(r"(?i)((?:password|secret|ticket|token|key)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,}]+"),
        r"\1[REDACTED]",
    ),
    (re.compile(r"(://[^:/\s@]+:)[^@\s/]+@"), r"\1[REDACTED]@"),  # a password in a database URL
]
# What every one of them needs to find something: one search lets most texts (an access line's
# "request", method and path) skip the five.
_MAY_HOLD_A_SECRET = re.compile(r"cbk_|eyJ|://|(?i:bearer|password|secret|ticket|token|key)")
_FIELDS = ("method", "path", "status", "duration_ms", "client", "event")


def redact(text: str) -> str:
    """Secrets and phone numbers (in any spelling, see service/kit/personal.py) scrubbed from one text."""
    if _MAY_HOLD_A_SECRET.search(text):
        for pattern, replacement in _REDACTIONS:
            text = pattern.sub(replacement, text)
    return mask_phone_numbers(text)


def _redacted(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    """One JSON object per line; every text is scrubbed as a field, then the line is serialised."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = redact(request_id)
        for key in _FIELDS:
            value = record.__dict__.get(key)
            if value is not None:
                entry[key] = _redacted(value)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=lambda value: redact(str(value)))


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs requests without query strings
    install_redaction()


def install_redaction() -> None:
    """Scrub every record at the source, so no handler anywhere sees a secret."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_cb_redacting", False):
        return

    def redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            record.msg = redact(record.getMessage())
            record.args = None
        except Exception:  # a broken format string must not lose the log line
            record.msg = redact(str(record.msg))
            record.args = None
        return record

    redacting_factory._cb_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)
