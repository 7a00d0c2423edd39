"""The online-version usage data and what was measured from it (migration 0011, issue 13).

`client_logins`: one row per login of a client's user, from the usage report («Контроль
статистики использования онлайн-версии»), imported by `dsdesk import logins`. Its natural key is
(client, contact, start): re-importing a file changes nothing. `login_days`: the organisation-time
days a usage file covered (the days its logins begin on; today only up to its latest login): only
there is "logged in during the call" measured, elsewhere the Expert's tick stands. `call_logins`:
the measurement, one row per call of a covered day, rewritten whenever its day's data is imported.
`file_imports`: every import from the web or the drop folder, what it did or why it failed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class ClientLogin(Base):
    """A login of a client's user; `ended_at` None is a single login event (no session length)."""

    __tablename__ = "client_logins"
    __table_args__ = (
        UniqueConstraint("client_external_id", "contact_external_id", "started_at",
                         name="uq_client_logins_natural_key"),
        Index("ix_client_logins_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # External ids (as `calls.client_id` holds them): the match joins on them without a lookup.
    client_external_id: Mapped[str] = mapped_column(String(32))
    contact_external_id: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    imported_at: Mapped[datetime]


class LoginDay(Base):
    """An organisation-time day the usage data covers, up to `covered_until` (the day's end once a
    file came after it; a file of the day itself covers it up to its latest login)."""

    __tablename__ = "login_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    covered_until: Mapped[datetime]
    imported_at: Mapped[datetime]


class CallLogin(Base):
    """Whether a login of the call's client overlapped its talk (± grace): measured, not ticked.

    `call_id` is a call's id without a foreign key on purpose: a month is ~330,000 rows rewritten at
    once, and checking and locking each call's row cost a fifth of the measurement's time. Calls are
    never deleted (retention removes recordings, not calls); a measurement is only read joined to
    its call.
    """

    __tablename__ = "call_logins"

    call_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    measured: Mapped[bool] = mapped_column(Boolean)
    matched_at: Mapped[datetime]


class FileImport(Base):
    """One file imported from the web page or the drop folder: its outcome, for the imports page."""

    __tablename__ = "file_imports"
    __table_args__ = (Index("ix_file_imports_sha256", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(8))  # web | folder
    ok: Mapped[bool] = mapped_column(Boolean)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text)  # what was written, or the errors (the first ones)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    at: Mapped[datetime]
