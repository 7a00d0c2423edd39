"""SQLAlchemy models: the call ledger and the minimal client directory."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from service.db.types import UTCDateTime

# Fixed constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class Call(Base):
    """One call (one Asterisk Linkedid); `ended_at`/`outcome` are null while it is up."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_expert_ext_started_at", "expert_ext", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(16))
    expert_ext: Mapped[str | None] = mapped_column(String(32))
    client_number: Mapped[str | None] = mapped_column(String(32))
    client_name: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ringing_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    talk_s: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[str | None] = mapped_column(String(24))
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_by: Mapped[str | None] = mapped_column(String(16))
    recording: Mapped[str | None] = mapped_column(Text)
    planned_call_id: Mapped[str | None] = mapped_column(String(32))
    client_id: Mapped[str | None] = mapped_column(String(32), index=True)
    quality: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Client(Base):
    """A client organisation, known by its CRM external id (e.g. `C-501`)."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    contacts: Mapped[list[ClientContact]] = relationship(
        back_populates="client", lazy="raise_on_sql", cascade="all, delete-orphan"
    )


class ClientContact(Base):
    """A person at a client organisation, with the phone an inbound call is matched by."""

    __tablename__ = "client_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(255))
    phone_e164: Mapped[str | None] = mapped_column(String(32), index=True)
    client: Mapped[Client] = relationship(back_populates="contacts", lazy="raise_on_sql")
