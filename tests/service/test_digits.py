"""service/digits.py: a small number typed in a form, never «²» or 5,000 digits."""

from __future__ import annotations

import pytest

from service.digits import small_int


@pytest.mark.parametrize(("text", "digits", "expected"), [
    ("0", 1, 0), ("42", 2, 42), ("007", 3, 7), ("123", 2, None), ("", 3, None), ("²", 3, None), ("٣", 3, None),
    ("-1", 3, None), ("1.5", 3, None), (" 1", 3, None), ("1" * 5000, 9, None), (None, 3, None), (12, 3, None),
])
def test_only_ascii_digits_within_the_limit_are_a_number(text: object, digits: int, expected: int | None) -> None:
    assert small_int(text, digits) == expected
