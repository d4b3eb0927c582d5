"""Structured JSON logs with request ids, and a filter that keeps secrets and personal data out."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# What must never reach a log line, whatever code wrote it.
_REDACTIONS = [
    (re.compile(r"cbk_[0-9a-f]{12}_[A-Za-z0-9_\-]+"), "cbk_[REDACTED]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-.=]+"), r"\1[REDACTED]"),
    (re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"), "[REDACTED-TOKEN]"),
    (
        re.compile(r"(?i)((?:password|secret|ticket|token|key)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,}]+"),
        r"\1[REDACTED]",
    ),
    (re.compile(r"(://[^:/\s@]+:)[^@\s/]+@"), r"\1[REDACTED]@"),  # a password in a database URL
    # Phones (the police caller's is personal data): mobiles, also written with +86, spaces or dashes;
    # landlines with their area code and a dash.
    (re.compile(r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})(?!\d)"), r"\1****\2"),
    (re.compile(r"(?<!\d)(0\d{2,3})-\d{3,4}(\d{4})(?!\d)"), r"\1-****\2"),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key in ("method", "path", "status", "duration_ms", "client", "event"):
            value = record.__dict__.get(key)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


class RedactingFilter(logging.Filter):
    """For handlers that do not use JsonFormatter (pytest's caplog, third-party handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


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
