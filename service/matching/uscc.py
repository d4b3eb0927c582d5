"""Unified social credit code (统一社会信用代码, GB 32100-2015): normalisation and check character."""

from __future__ import annotations

from service.kit.text import remove_spaces, to_halfwidth

# No I, O, S, V, Z: they are too easily confused with 1, 0, 5, U, 2.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_LENGTH = 18
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {char: value for value, char in enumerate(USCC_ALPHABET)}


def normalize_uscc(raw: str) -> str:
    """The code as it should be compared: spaces removed, full-width folded to ASCII, upper case."""
    return remove_spaces(to_halfwidth(raw)).upper()


def uscc_check_character(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a code.

    Raises ValueError when the input is not 17 characters of the code alphabet.
    """
    if len(first17) != USCC_LENGTH - 1:
        raise ValueError(f"expected 17 characters, got {len(first17)}")
    try:
        total = sum(_VALUE[char] * weight for char, weight in zip(first17, _WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the code alphabet") from None
    return USCC_ALPHABET[(31 - total % 31) % 31]


def malformed_uscc(code: str) -> str | None:
    """Why ``code`` (already normalised) cannot be a credit code at all, or None when it has the form of one."""
    if len(code) != USCC_LENGTH:
        return f"a unified social credit code has {USCC_LENGTH} characters; this one has {len(code)}"
    wrong = sorted({char for char in code if char not in _VALUE})
    if wrong:
        return f"not in the credit code alphabet: {', '.join(wrong)}"
    return None


def uscc_problem(code: str) -> str | None:
    """What is wrong with ``code`` (already normalised): its form, else its check character; None when valid."""
    return malformed_uscc(code) or (None if _check_character_right(code) else "the check character is wrong")


def is_valid_uscc(code: str) -> bool:
    """True when ``code`` (already normalised) is 18 characters of the alphabet with the right check character."""
    if len(code) != USCC_LENGTH or any(char not in _VALUE for char in code):
        return False
    return _check_character_right(code)


def _check_character_right(code: str) -> bool:
    return uscc_check_character(code[:17]) == code[17]


def valid_uscc_or_none(raw: str | None) -> str | None:
    """The normalised code when it is valid, otherwise None (empty, mistyped or malformed)."""
    if not raw:
        return None
    code = normalize_uscc(raw)
    return code if is_valid_uscc(code) else None
