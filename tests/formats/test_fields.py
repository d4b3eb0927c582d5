"""Field converters every adapter shares."""

from __future__ import annotations

import pytest

from service.formats.fields import FieldProblem, as_code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0402", "0402"),
        (402, "0402"),  # a JSON or XLSX number
        ("402", "0402"),  # a CSV saved by a spreadsheet, which drops leading zeros
        ("０４０２", "0402"),  # full-width digits
        ("", None),
    ],
)
def test_a_code_that_lost_its_leading_zeros_is_padded(value: object, code: str | None) -> None:
    assert as_code(value, 4) == code


@pytest.mark.parametrize("value", ["04021", "4o2", "-402", 10_000, "40.2"])
def test_what_is_no_code_is_refused(value: object) -> None:
    with pytest.raises(FieldProblem, match="not a 4-digit code"):
        as_code(value, 4)
