"""What the ДС-versus-КС comparison reads beyond the call desk (issue 17, docs/compare.md): trainings, СТ
attendance, acts, requests to chat / ЛК / hotline, SendPulse campaigns, survey responses, and the
clients' recorded segment changes.

Each imported row has a natural key, so importing a file again updates its rows, never adds them twice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class Training(Base):
    """A client's user trained on a day (the training department's export)."""

    __tablename__ = "trainings"
    __table_args__ = (UniqueConstraint("client_id", "contact_external_id", "day", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    contact_external_id: Mapped[str] = mapped_column(String(32))  # the user (a contact of the client)
    day: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(128))  # as the export names it («первичное», «ОТ»…)


class SeminarVisit(Base):
    """A client's person at a СТ (a seminar); `contact_external_id` is '' when the export names nobody."""

    __tablename__ = "seminar_visits"
    __table_args__ = (UniqueConstraint("client_id", "contact_external_id", "day", "seminar"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    contact_external_id: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date, index=True)
    seminar: Mapped[str] = mapped_column(String(255))


class Act(Base):
    """A client's act for a period (a month): when it was due back and when it came back (None: not yet)."""

    __tablename__ = "acts"
    __table_args__ = (UniqueConstraint("client_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    period: Mapped[date] = mapped_column(Date)  # the month's 1st
    due_on: Mapped[date] = mapped_column(Date, index=True)
    returned_on: Mapped[date | None] = mapped_column(Date)


class ClientRequest(Base):
    """A client's request to the chat, the ЛК (consultation line) or the hotline."""

    __tablename__ = "client_requests"
    __table_args__ = (
        UniqueConstraint("client_id", "channel", "created_at"),
        Index("ix_client_requests_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))  # chat | lk | hotline
    created_at: Mapped[datetime]


class Mailing(Base):
    """One SendPulse campaign sent to one list: its counts as SendPulse reports them, and its kind."""

    __tablename__ = "mailings"
    __table_args__ = (UniqueConstraint("campaign", "sent_on", "audience"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign: Mapped[str] = mapped_column(String(255))
    sent_on: Mapped[date] = mapped_column(Date, index=True)
    audience: Mapped[str] = mapped_column(String(255))  # the list (address book); '' when not given
    kind: Mapped[str] = mapped_column(String(16))  # reviews | informational | news | gk
    sent: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    opened: Mapped[int] = mapped_column(Integer)
    clicked: Mapped[int] = mapped_column(Integer)
    unsubscribed: Mapped[int] = mapped_column(Integer)


class SurveyResponse(Base):
    """One respondent's answers to the questions config.yaml maps to the survey's measures."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("respondent", "answered_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    respondent: Mapped[str] = mapped_column(String(255))  # the service's respondent id, e-mail or timestamp
    answered_on: Mapped[date] = mapped_column(Date, index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    answers: Mapped[dict[str, str]] = mapped_column(JSON)  # measure → the answer as written


class SegmentChange(Base):
    """A client's segment changed on a day (recorded by the clients import when it sees the change)."""

    __tablename__ = "segment_changes"
    __table_args__ = (UniqueConstraint("client_id", "since"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    since: Mapped[date] = mapped_column(Date)
    segment: Mapped[str] = mapped_column(String(8))  # from `since` on (ДС | КС | VIP)
    previous: Mapped[str] = mapped_column(String(8))  # before it
    recorded_at: Mapped[datetime]
