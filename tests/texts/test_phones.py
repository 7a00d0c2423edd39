"""Phone numbers formatted as in Russia (issue 14)."""

from __future__ import annotations

import pytest

from texts.phones import phone_ru


@pytest.mark.parametrize(("number", "shown"), [
    ("79115551120", "+7 (911) 555-11-20"),
    ("89115551120", "+7 (911) 555-11-20"),
    ("+7 911 555-11-20", "+7 (911) 555-11-20"),
    ("9115551120", "+7 (911) 555-11-20"),
    ("101", "101"),
    ("4930123456789", "4930123456789"),
    (None, "—"),
    ("", "—"),
])
def test_phone_ru(number: str | None, shown: str) -> None:
    assert phone_ru(number) == shown
