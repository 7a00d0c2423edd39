"""Phone numbers as people write them in Russia: «+7 (911) 555-11-20», not 79115551120."""

from __future__ import annotations


def phone_ru(number: str | None) -> str:
    """A Russian number (11 digits from 7 or 8, or 10 digits) as «+7 (911) 555-11-20»; anything else
    (an extension, a foreign number) as given; None as «—»."""
    if not number:
        return "—"
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    elif len(digits) != 10:
        return number
    return f"+7 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
