"""Phone-number normalisation to E.164 digits (Russian conventions). Pure."""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D")
_DIAL_TOKENS = re.compile(r"[/@:;]")


def normalise_number(raw: str | None) -> str | None:
    """`8XXXXXXXXXX`, `+7…` and 10 digits → `7XXXXXXXXXX`; short extensions stay as they are."""
    if not raw or raw == "<unknown>":
        return None
    digits = _NON_DIGITS.sub("", raw)
    if not digits:
        return None
    if len(digits) == 11 and digits[0] == "8":
        return "7" + digits[1:]
    if len(digits) == 10:
        return "7" + digits
    return digits


def number_from_dialstring(dialstring: str | None) -> str | None:
    """The dialled number in a Dial() string: `79115550101@ds-clients`, `trunk/7911…`, `7002/sip:…`."""
    if not dialstring:
        return None
    for token in _DIAL_TOKENS.split(dialstring):
        candidate = token.lstrip("+")
        if candidate.isdigit():
            return normalise_number(candidate)
    return None
