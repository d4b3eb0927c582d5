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


def remove_spaces(text: str) -> str:
    """All whitespace removed, including no-break, zero-width and ideographic spaces."""
    return _WHITESPACE_RUN.sub("", text)
