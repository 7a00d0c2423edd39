"""What the log's search box means: a phone number (digits) or a client's name. Pure.

Numbers are matched by their normalised digits: a whole Russian number in every form the PBX may
report it (7…, 8…, 10 digits, +7…), or a shorter run of digits as the number's beginning or end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_DIGITS = 3  # fewer digits match half the ledger and say nothing
_PHONE_CHARS = re.compile(r"^[\d\s()+\-.]+$")


@dataclass(frozen=True, slots=True)
class NumberSearch:
    digits: str  # normalised: 11 digits starting with 7 for a whole Russian number
    whole_number_forms: tuple[str, ...]  # exact client_number values that are this number

    @property
    def is_whole(self) -> bool:
        return bool(self.whole_number_forms)


@dataclass(frozen=True, slots=True)
class NameSearch:
    text: str  # matched case-insensitively anywhere in the client's name


def classify_search(text: str) -> NumberSearch | NameSearch:
    """A number when the text is made of phone characters with enough digits, else a name."""
    digits = re.sub(r"\D", "", text)
    if _PHONE_CHARS.match(text) and len(digits) >= MIN_DIGITS:
        return number_search(digits)
    return NameSearch(text.strip())


def number_search(digits: str) -> NumberSearch:
    """`8 (911) 555-00-01`, `+79115550001` and `9115550001` are the same number."""
    if len(digits) == 11 and digits[0] in "78":
        digits = "7" + digits[1:]
    elif len(digits) == 10 and digits[0] == "9":
        digits = "7" + digits
    if len(digits) == 11 and digits[0] == "7":
        local = digits[1:]
        return NumberSearch(digits, (digits, "8" + local, local, "+" + digits))
    return NumberSearch(digits, ())
