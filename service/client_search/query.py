"""What the client search box means: words of a name, and perhaps a number (ИНН or phone). Pure.

Names are compared folded: lower case, «ё» as «е» (the database side folds the same way,
service/db/search_text.py). Every word must occur in the same name — the organisation's or one contact's —
so «ромашка ооо» finds ООО «Ромашка». A query made of phone characters with enough digits is also a
number: an ИНН containing them, or a phone of a contact containing them, in any spelling —
«+7 (911) 555-11-20», «8 911 555 11 20» and «9115551120» are the same ten digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHARS = 100  # longer input is refused: no name or number is longer, and the search stays cheap
MIN_CHARS = 3  # a search needs this many letters or digits in a row: fewer match half the clients
MAX_WORDS = 8
_WORD_SEPARATORS = re.compile(r"[\s«»\"'„“”‘’`,;]+")
_PHONE_CHARS = re.compile(r"^\+?[\d\s()\-.]+$")
_NON_DIGITS = re.compile(r"\D")
_RUN = re.compile(rf"[^\W_]{{{MIN_CHARS}}}")  # letters or digits in a row
LIKE_ESCAPE = "\\"
_GLOB_SPECIAL = "*?["


@dataclass(frozen=True, slots=True)
class ClientQuery:
    """A search as the repository runs it; `text` is what the page shows back in the box."""

    text: str
    words: tuple[str, ...]  # folded, each to be found in one name
    digits: str | None  # the number's digits (without the country code), when it is one
    too_long: bool = False  # longer than MAX_CHARS: refused, not searched (the box allows MAX_CHARS)

    @property
    def searchable(self) -> bool:
        """Specific enough to search: MIN_CHARS letters or digits in a row in a word, or a number of as
        many digits. Punctuation alone («%%%», «___») would match by no index and find nothing useful."""
        return any(_RUN.search(word) for word in self.words) or self.digits is not None


def read_query(raw: str | None) -> ClientQuery:
    """The box's text cleaned: NUL bytes and control characters dropped, spaces collapsed.

    Over MAX_CHARS it is refused rather than cut: the box cannot send that much, so it was pasted into
    the URL, and a search by its first 100 characters would answer a question nobody asked.
    """
    text = "".join(ch for ch in raw or "" if ch.isprintable() or ch.isspace())
    text = " ".join(text.split())
    if len(text) > MAX_CHARS:
        return ClientQuery(text[:MAX_CHARS].strip(), (), None, too_long=True)
    words = tuple(dict.fromkeys(w for w in _WORD_SEPARATORS.split(fold(text)) if w))[:MAX_WORDS]
    return ClientQuery(text, words, number_digits(text))


def fold(text: str) -> str:
    """As the database folds a name: lower case, «ё» as «е»."""
    return text.lower().replace("ё", "е")


def number_digits(text: str) -> str | None:
    """The digits to look for when `text` is a number (phone characters, MIN_CHARS digits or more).

    A whole Russian number loses its country code (7 or 8) so that it matches every spelling; so does
    «+7…», however short.
    """
    if not _PHONE_CHARS.match(text):
        return None
    digits = _NON_DIGITS.sub("", text)
    if len(digits) == 11 and digits[0] in "78" or text.startswith("+7"):
        digits = digits[1:]
    return digits if len(digits) >= MIN_CHARS else None


def like_contains(value: str) -> str:
    """A LIKE pattern matching `value` anywhere, its own `%`, `_` and `\\` taken literally."""
    escaped = value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
    return "%" + escaped.replace("_", LIKE_ESCAPE + "_") + "%"


def glob_contains(word: str) -> str:
    """A GLOB pattern matching the folded `word` anywhere in text as stored: each letter in either case,
    «е» as «е» or «ё» (SQLite's lower() folds only ASCII; its GLOB compares whole UTF-8 characters)."""
    return "*" + "".join(_glob_letter(ch) for ch in word) + "*"


def _glob_letter(ch: str) -> str:
    variants = {v for v in (ch, ch.upper(), *(("ё", "Ё") if ch == "е" else ())) if len(v) == 1}
    if len(variants) > 1:
        return "[" + "".join(sorted(variants)) + "]"
    return f"[{ch}]" if ch in _GLOB_SPECIAL else ch
