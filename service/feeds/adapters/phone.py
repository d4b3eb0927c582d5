"""A caller's phone number in a record: masked where it is written, and scrubbed from every other text."""

from __future__ import annotations

import re
from typing import Any

from service.formats.fields import FieldProblem, as_text
from service.kit.personal import mask_phone

_SCRUB_MIN_DIGITS = 7  # shorter "phones" are too likely to be part of an address to scrub everywhere


def mask_phone_value(value: object) -> str | None:
    """bjrdh as it may be stored: masked text, or None when empty. Errors never echo the value."""
    text = as_text(value)
    return mask_phone(text) if text is not None else None


def _raw_phone_text(value: object) -> str | None:
    try:
        return as_text(value)
    except FieldProblem:
        return None  # not text at all: bjrdh is rejected, and there is nothing to scrub


_NON_DIGITS = re.compile(r"\D")
# What every number a scrubber looks for contains (at least _SCRUB_MIN_DIGITS digits, at most one
# separator between two): a text without it holds no number to scrub, told by one search in C.
PHONE_LIKE = re.compile(rf"\d(?:[\s\-.]?\d){{{_SCRUB_MIN_DIGITS - 1}}}")


class PhoneScrubber:
    """Replaces the caller's number wherever it is written (with spaces, dashes, +86) by its mask."""

    def __init__(self, raw_phone: str | None):
        digits = _NON_DIGITS.sub("", raw_phone or "")
        for prefix in ("0086", "86"):
            if len(digits) == len(prefix) + 11 and digits.startswith(prefix):
                digits = digits[len(prefix) :]
        self._digits = digits if len(digits) >= _SCRUB_MIN_DIGITS else None
        self._pattern: re.Pattern[str] | None = None
        self.digits = self._digits  # the number's digits, None when too short to scrub (then every text stays)
        self.active = self._digits is not None

    def __call__(self, text: str) -> str:
        # Cheap test first: most texts hold no digits at all, and compiling costs more than checking.
        if self._digits is None or not PHONE_LIKE.search(text) or self._digits not in _NON_DIGITS.sub("", text):
            return text
        if self._pattern is None:
            separators = r"[\s\-.]?"
            self._pattern = re.compile(r"(?:(?:\+|00)?86[\s-]?)?" + separators.join(self._digits))
        return self._pattern.sub(lambda match: mask_phone(match.group()), text)

    def payload(self, value: Any) -> Any:
        """A JSON value with the number scrubbed from every text (and from a number that is it)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return mask_phone(str(value)) if self(str(value)) != str(value) else value
        if isinstance(value, dict):
            return {key: self.payload(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [self.payload(inner) for inner in value]
        return value
