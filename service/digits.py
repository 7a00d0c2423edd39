"""A small whole number typed by a person or sent in a form: ASCII digits only, and not too many of them. Pure.

`str.isdigit()` alone lets «²» and «٣» through (int() then refuses «²»), and 5,000 digits exceed int()'s limit:
the hostile-request sweep found both as 500s. Every form value that names a place, a version or a number of
seconds goes through here.
"""

from __future__ import annotations


def small_int(text: object, max_digits: int) -> int | None:
    """`text` as an int when it is 1..max_digits ASCII digits, else None."""
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()) or len(text) > max_digits:
        return None
    return int(text)
