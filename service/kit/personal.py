"""Phone numbers in free text, found in any spelling and masked: 139/0013/9000 → 139****9000.

A caller writes their number however they like: with spaces, dashes, slashes, dots or brackets
between any digits, in full-width digits, with +86 or 0086 in front; landlines with their area
code (021-6543 2100, (021)65432100). Text is matched after NFKC normalisation (and digits of any
script read as ASCII), but only the number itself is replaced: the rest of the text stays as it
was written.

What is not a phone is left alone: a digit run glued to Latin letters (record ids, credit codes),
anything with ``:`` between its digits (times), dates (too few digits from any group on), house
numbers. A landline must start with a real area code as its own group (or be written unbroken).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

MASK = "****"

_NOT_DIGIT = re.compile(r"\D")
_MIN_DIGITS = 11  # the shortest number we mask: a mobile, or a landline with its area code
_MAX_DIGITS = 15  # the longest: 0086 and a mobile
_MAX_SEPARATOR = 3  # characters between two digit groups of one number, as in "139 - 0013"
# Digit groups and what lies between them, in normalised text ([\W_] is any punctuation or space).
_DIGIT_RUN = re.compile(rf"[0-9]+(?:[\W_]{{1,{_MAX_SEPARATOR}}}[0-9]+)*")
_DIGIT_GROUP = re.compile(r"[0-9]+")
# A superset of what _DIGIT_RUN and _numbers_in find, for the quick test: 11 digits, at most
# _MAX_SEPARATOR characters between any two of them, none of them ':'.
# A match may start in the middle of a digit group only where one starts at the group's first digit
# too, so it is tried there alone ((?<!\d\d) after the first digit keeps the scan for a digit fast);
# no separator is a digit, so the separators are never given back (possessive).
_CANDIDATE = re.compile(rf"\d(?<!\d\d)(?:(?:[^\w:]|_){{0,{_MAX_SEPARATOR}}}+\d){{{_MIN_DIGITS - 1}}}")
# Quicker still, and only ever letting through more: an ASCII text with its separators deleted and
# every other character but a digit made a space holds a run of 11 digits wherever _CANDIDATE
# matches it; any other text holds 11 digits (after normalisation) wherever _CANDIDATE matches.
_SEPARATOR = re.compile(r"[^\w:]|_")
_ASCII_CLASSES = str.maketrans(
    {chr(c): "0" if chr(c).isdigit() else None if _SEPARATOR.fullmatch(chr(c)) else " " for c in range(128)}
)
_DIGIT_RUN_OF_CANDIDATE = "0" * _MIN_DIGITS
_ENOUGH_DIGITS = re.compile(rf"(?:\D*+\d){{{_MIN_DIGITS}}}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_AREA_CODE = re.compile(r"010|02[0-9]|0[3-9][0-9]{2}")
_SUBSCRIBER = re.compile(r"[2-9][0-9]{6,7}")
_COUNTRY_CODES = ("0086", "86")


def mask_phone(raw: str) -> str:
    """One phone number with its middle hidden: 13812341234 → 138****1234.

    Numbers of 11 digits or more (mobile, or landline with area code) keep the first 3 and last
    4 digits; shorter ones keep only the last 2; text without digits is hidden entirely.
    """
    digits = _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", raw))
    for prefix in _COUNTRY_CODES:  # a country code is not part of what we show
        if len(digits) == len(prefix) + 11 and digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if len(digits) >= 11:
        return f"{digits[:3]}{MASK}{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return MASK


def mask_phone_numbers(text: str) -> str:
    """``text`` with every mobile or landline number in it masked; the same text when it has none."""
    if not _may_hold_a_number(text):
        return text
    masked = _masked_numbers(text)
    return text if masked == text else masked  # this very text (the cache may hold an equal one)


def _may_hold_a_number(text: str) -> bool:
    """The cheap tests (in C) that let most texts through untouched: a number needs 11 digits close
    enough together. True for every text the full matcher would change (and for a few more)."""
    if len(text) < _MIN_DIGITS:
        return False
    if text.isascii():
        if _DIGIT_RUN_OF_CANDIDATE not in text.translate(_ASCII_CLASSES):
            return False
        normalised = text
    else:
        normalised = unicodedata.normalize("NFKC", text)
        if _ENOUGH_DIGITS.match(normalised) is None:
            return False
    return _CANDIDATE.search(normalised) is not None


@functools.lru_cache(maxsize=4096)  # the texts that pass the quick tests often recur (a grid code)
def _masked_numbers(text: str) -> str:
    """The full matcher: ``text`` with every number in it masked."""
    folded, origin = _fold(text)
    runs = [run for run in _DIGIT_RUN.finditer(folded) if not _glued_to_letters(folded, run)]
    spans = [span for run in runs for span in _numbers_in(run)]
    if not spans:
        return text
    pieces: list[str] = []
    end = 0
    for start_folded, end_folded, digits in spans:
        start = origin[start_folded]
        pieces.append(text[end:start])
        pieces.append(mask_phone(digits))
        end = origin[end_folded - 1] + 1
    pieces.append(text[end:])
    return "".join(pieces)


def mask_phone_numbers_in(value: Any, *, keep: Callable[[str], bool] | None = None) -> Any:
    """A JSON value with phone numbers masked in every text, and a whole number that is one; the
    value itself (not a copy) when nothing in it is masked.

    ``keep(key)`` names object keys whose values are left as they are (a record's own id).
    """
    if isinstance(value, str):
        return mask_phone_numbers(value)
    if isinstance(value, dict):
        masked_dict: dict[Any, Any] | None = None
        for key, inner in value.items():
            kind = type(inner)
            # What most values are, decided here rather than in a call: short texts hold no
            # number (see _may_hold_a_number), and None, floats and booleans are never masked.
            if (kind is str and len(inner) < _MIN_DIGITS) or inner is None or kind is float or kind is bool:
                continue
            if keep is not None and keep(key):
                continue
            masked = mask_phone_numbers_in(inner, keep=keep)
            if masked is not inner:
                if masked_dict is None:
                    masked_dict = dict(value)
                masked_dict[key] = masked
        return value if masked_dict is None else masked_dict
    if isinstance(value, list):
        masked_list = [mask_phone_numbers_in(inner, keep=keep) for inner in value]
        return value if all(new is old for new, old in zip(masked_list, value, strict=True)) else masked_list
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        masked = mask_phone_numbers(text)
        return value if masked == text else masked
    return value


def _fold(text: str) -> tuple[str, list[int]]:
    """The text normalised for matching, and for each of its characters the index it came from."""
    if text.isascii():
        return text, list(range(len(text)))
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isdecimal():  # any script's digit; NFKC leaves e.g. Arabic-Indic digits alone
            folded = str(unicodedata.decimal(char))
        else:
            folded = unicodedata.normalize("NFKC", char)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return "".join(pieces), origin


def _glued_to_letters(folded: str, run: re.Match[str]) -> bool:
    """A digit run that touches a Latin letter is part of an identifier (a record id, a credit code)."""
    before = folded[run.start() - 1] if run.start() else ""
    after = folded[run.end()] if run.end() < len(folded) else ""
    return (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha())


def _numbers_in(run: re.Match[str]) -> list[tuple[int, int, str]]:
    """Phone numbers in one run of digit groups: (start, end, national number), each from a group's start
    to a group's end; the longest one at each group, then on after it."""
    groups = list(_DIGIT_GROUP.finditer(run.string, run.start(), run.end()))
    found: list[tuple[int, int, str]] = []
    first = 0
    while first < len(groups):
        best: tuple[int, int, str] | None = None
        length = 0
        for last in range(first, len(groups)):
            if last > first and ":" in run.string[groups[last - 1].end() : groups[last].start()]:
                break  # a time of day, not a phone
            length += len(groups[last].group())
            if length > _MAX_DIGITS:
                break
            number = _national_number([group.group() for group in groups[first : last + 1]])
            if number is not None:
                best = (_opening(run.string, groups[first].start(), groups[last].end()), groups[last].end(), number)
        if best is None:
            first += 1
            continue
        found.append(best)
        while first < len(groups) and groups[first].start() < best[1]:
            first += 1
    return found


def _opening(folded: str, start: int, end: int) -> int:
    """Where a number starts with what belongs to it before its first digit: +86, (021)."""
    if start and folded[start - 1] == "+":
        return start - 1
    if start and folded[start - 1] == "(" and ")" in folded[start:end]:
        return start - 1
    return start


def _national_number(groups: list[str]) -> str | None:
    """The number these digit groups spell as written (without a country code), or None when
    they spell no mobile or landline number."""
    digits = "".join(groups)
    for prefix in _COUNTRY_CODES:
        if groups[0] == prefix and len(groups) > 1:
            groups, digits = groups[1:], digits[len(prefix) :]
            if not digits.startswith("0") and not _MOBILE.fullmatch(digits):  # +86 21 6543 2100: no 0
                groups, digits = ["0" + groups[0], *groups[1:]], "0" + digits
            break
        if digits.startswith(prefix) and _MOBILE.fullmatch(digits[len(prefix) :]):
            return digits[len(prefix) :]  # 8613900139000: a mobile with its country code, unbroken
    if _MOBILE.fullmatch(digits) or _is_landline(groups, digits):
        return digits
    return None


def _is_landline(groups: list[str], digits: str) -> bool:
    if len(groups) == 1:  # written unbroken: 02165432100
        area = _AREA_CODE.match(digits)
        return area is not None and _SUBSCRIBER.fullmatch(digits[area.end() :]) is not None
    # Broken up: the area code is the first group (021-6543 2100, (0571) 8888 8888).
    area_code, subscriber = groups[0], "".join(groups[1:])
    if not _AREA_CODE.fullmatch(area_code) or not _SUBSCRIBER.fullmatch(subscriber):
        return False
    return len(subscriber) == 8 if area_code[1] in "12" else True  # 010 and 02x have 8-digit numbers
