"""Phone numbers written the many ways callers write them, for property tests, and a check
that finds one however it is spelled."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from hypothesis import strategies as st

# Between two digit groups: spaces, dashes, slashes, dots, brackets, in ASCII or full width.
SEPARATORS = [" ", "-", " - ", "/", ".", "·", "—", "－", "　", "／", "．", " / ", "_", "~", ") ", "（"]
AREA_CODES = ["010", "021", "020", "025", "0571", "0755", "0351", "0931"]
MOBILE_PREFIXES = ["", "+86", "+86 ", "0086-", "86", "(+86)", "+86-", "＋８６ "]
# Chinese text around the number, and numbers in it that are not phones and must stay as written.
AROUND = [
    "报警人称",
    "家住临汾路375弄12号",
    "2026-11-03 14:20:00来电",
    "请回电",
    "联系人：王先生，电话",
    "地址闻喜路251号",
]
AROUND_AFTER = [
    "，谢谢",
    "。",
    "（本人）",
    "号楼下噪声",
    "，记录编号JJ20261103000123",
    "，统一社会信用代码91310115MA1K4ABC2X",
]
NOT_PHONES = ["临汾路375弄12号", "2026-11-03 14:20:00", "JJ20261103000123", "91310115MA1K4ABC2X", "闻喜路251号"]

_FULL_WIDTH = {ord(str(d)): chr(0xFF10 + d) for d in range(10)}


@dataclass(frozen=True)
class SpelledPhone:
    digits: str  # the number's digits as written, country code aside: 13900139000, 02165432100 (2165432100 after +86)
    written: str  # as it appears in the text


def _broken_up(digits: str, cuts: list[bool], separators: list[str]) -> str:
    out = digits[0]
    for digit, cut, separator in zip(digits[1:], cuts, separators, strict=False):
        out += (separator if cut else "") + digit
    return out


@st.composite
def spelled_phones(draw: st.DrawFn) -> SpelledPhone:
    """A mobile or landline number in one of many spellings (cuts anywhere, full-width digits…)."""
    cuts = draw(st.lists(st.booleans(), min_size=10, max_size=10))
    separators = draw(st.lists(st.sampled_from(SEPARATORS), min_size=10, max_size=10))
    if draw(st.booleans()):
        digits = "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
        if draw(st.booleans()):  # (139)00139000
            written = f"({digits[:3]}){digits[3:]}"
        else:
            written = _broken_up(digits, cuts, separators)
        written = draw(st.sampled_from(MOBILE_PREFIXES)) + written
    else:
        area = draw(st.sampled_from(AREA_CODES))
        length = 8 if area[1] in "12" else draw(st.sampled_from([7, 8]))
        subscriber = draw(st.sampled_from("23456789")) + draw(
            st.text("0123456789", min_size=length - 1, max_size=length - 1)
        )
        digits = area + subscriber
        style = draw(st.sampled_from(["dash", "brackets", "full-width brackets", "unbroken", "+86"]))
        rest = _broken_up(subscriber, cuts, separators)
        written = {
            "dash": f"{area}-{rest}",
            "brackets": f"({area}){rest}",
            "full-width brackets": f"（{area}）{rest}",
            "unbroken": digits,
            "+86": f"+86 {area[1:]} {rest}",
        }[style]
        if style == "+86":
            digits = digits[1:]
    if draw(st.booleans()):
        written = written.translate(_FULL_WIDTH)
    return SpelledPhone(digits, written)


@st.composite
def texts_with_phones(draw: st.DrawFn, max_phones: int = 3) -> tuple[str, list[SpelledPhone]]:
    """Chinese text holding one or more spelled numbers, and the numbers."""
    phones = draw(st.lists(spelled_phones(), min_size=1, max_size=max_phones))
    text = "".join(
        draw(st.sampled_from(AROUND)) + phone.written + draw(st.sampled_from(AROUND_AFTER)) for phone in phones
    )
    return text, phones


_ANY_DIGIT = re.compile(r"\d")


def readable(text: str) -> str:
    """The text as a reader takes it: NFKC, and digits of any script as 0-9."""
    if text.isascii():
        return text
    return _ANY_DIGIT.sub(lambda digit: str(unicodedata.decimal(digit.group())), unicodedata.normalize("NFKC", text))


def phone_pattern(digits: str) -> re.Pattern[str]:
    """The number's digits in order, with a few characters of anything but digits between them."""
    return re.compile(r"\D{0,5}".join(digits))


def surviving(digits: str, text: str) -> bool:
    """Whether the number can still be read in ``text``, in any spelling."""
    return phone_pattern(digits).search(readable(text)) is not None


class PhoneFinder:
    """Finds any of the given numbers, in any spelling, in many texts (one pass over each)."""

    def __init__(self, phones: list[SpelledPhone]):
        self.phones = phones
        self._either = re.compile(
            "|".join(f"(?P<p{i}>{phone_pattern(p.digits).pattern})" for i, p in enumerate(phones))
        )

    def found(self, text: str) -> list[SpelledPhone]:
        readable_text = readable(text)
        if not any(char.isdigit() for char in readable_text):
            return []
        return [
            self.phones[int(name[1:])]
            for match in self._either.finditer(readable_text)
            for name, value in match.groupdict().items()
            if value
        ]
