"""Small text helpers that know nothing about the domain."""

from __future__ import annotations

import re

# Full-width ASCII (U+FF01..U+FF5E) sits at a fixed offset from printable ASCII; U+3000 is the ideographic space.
_HALFWIDTH_TABLE: dict[int, int] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALFWIDTH_TABLE[0x3000] = 0x20

_WHITESPACE_RUN = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")


def to_halfwidth(text: str) -> str:
    """Full-width letters, digits, punctuation and the ideographic space turned into their ASCII forms."""
    return text.translate(_HALFWIDTH_TABLE)


def collapse_spaces(text: str) -> str:
    """Every run of whitespace (including no-break and ideographic spaces) becomes one space; ends trimmed."""
    return _WHITESPACE_RUN.sub(" ", text).strip()


def remove_spaces(text: str) -> str:
    """All whitespace removed, including no-break, zero-width and ideographic spaces."""
    return _WHITESPACE_RUN.sub("", text)


def is_cjk(char: str) -> bool:
    """True for a CJK unified ideograph (basic block or extension A)."""
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF


def blank_to_none(text: str | None) -> str | None:
    """None for None, empty or whitespace-only text; otherwise the text with its spaces collapsed."""
    if text is None:
        return None
    collapsed = collapse_spaces(text)
    return collapsed or None
