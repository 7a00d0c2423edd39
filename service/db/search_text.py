"""SQL for text compared the way the client search compares it: folded names, phones as digits.

Folded as service.client_search.query.fold folds what is typed: lower(), then «ё» as «е». On PostgreSQL
lower() folds Cyrillic under any UTF-8 LC_CTYPE (C.UTF-8, ru_RU.UTF-8, …; migration 0014 warns when the
database's does not). translate() over the whole alphabet would not depend on it, but costs ten times
lower() per row (9 µs against 1 µs at 100,000 organisations): every row an index search rechecks pays it.
The constants are inlined (an index expression has no parameters): these are the expressions of the
pg_trgm indexes (models.py, migration 0014), so a query uses an index only when it uses them unchanged.
SQLite folds only ASCII in lower() and has no regexp_replace(): names are matched there by GLOB classes
(service/client_search/query.py `glob_contains`), and a few nested replace() make a phone's digits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, TextClause, func, text

# What people put between a phone's digits (PostgreSQL drops every non-digit but the separators).
_PHONE_PUNCTUATION = " ()-+./\u00a0"


def folded(column: Any) -> ColumnElement[str]:
    """`column` in lower case with «ё» as «е» (PostgreSQL)."""
    return func.replace(func.lower(column), quoted("ё"), quoted("е"))


def phone_digits(phone: Any, dialect: str) -> ColumnElement[str]:
    """The digits of the phones as imported (`,`/`;` kept between several, so that no run of digits
    spans two numbers); the dialled number, `phone_e164`, is digits already."""
    if dialect == "postgresql":
        return func.regexp_replace(phone, quoted("[^0-9,;]"), quoted(""), quoted("g"))
    digits = phone
    for mark in _PHONE_PUNCTUATION:
        digits = func.replace(digits, quoted(mark), quoted(""))
    return digits


def quoted(value: str) -> TextClause:
    """A string literal written into the SQL itself (text(), not literal_column(): a column without a
    table in an index expression would keep the Index from finding its table)."""
    return text("'" + value.replace("'", "''").replace(":", "\\:") + "'")
