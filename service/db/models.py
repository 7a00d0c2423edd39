"""SQLAlchemy models: the call ledger, Experts, the client directory, history and the daily plan.

The control figures' summary tables are in models_figures.py, the usage data in models_logins.py
(both re-exported here); the declarative Base is in base.py.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base
from service.db.models_api import ApiAudit, ApiToken
from service.db.models_coaching import (
    CallScore,
    CallScoreItem,
    CallStep,
    RecordingComment,
    Scorecard,
    ScorecardItem,
    StepScript,
    StepScriptVersion,
)
from service.db.models_compare import (
    Act,
    ClientRequest,
    Mailing,
    SegmentChange,
    SeminarVisit,
    SurveyResponse,
    Training,
)
from service.db.models_figures import FiguresBuiltDay, FiguresCount, FiguresDaily, FiguresState
from service.db.models_ktu import KtuEntry, KtuVersion
from service.db.models_logins import CallLogin, ClientLogin, FileImport, LoginDay
from service.db.models_month import BusinessEvent, ClosedMonth, MonthlyPlan
from service.db.models_selection import ClientTransition, SelectionScore
from service.db.models_status import ExpertStatus
from service.db.models_visits import PlannedVisit, Visit
from service.db.models_webhooks import WebhookDelivery, WebhookSubscription
from service.db.search_text import folded, phone_digits


class Call(Base):
    """One call (one Asterisk Linkedid); `ended_at`/`outcome` are null while it is up."""

    __tablename__ = "calls"
    # The call log pages by (started_at, id) under each filter (migration 0007).
    __table_args__ = (
        Index("ix_calls_started_at_id", "started_at", "id"),
        Index("ix_calls_expert_ext_started_at_id", "expert_ext", "started_at", "id"),
        Index("ix_calls_client_id_started_at_id", "client_id", "started_at", "id"),
        Index("ix_calls_client_number_started_at_id", "client_number", "started_at", "id"),
        Index("ix_calls_expert_id_started_at_id", "expert_id", "started_at", "id"),
        # The API's incremental sync (`updated_since`) pages by (updated_at, id) (migration 0023).
        Index("ix_calls_updated_at_id", "updated_at", "id"),
        Index("ix_calls_recording_due", "started_at",
              sqlite_where=text("recording IS NOT NULL AND recording_purged_at IS NULL"),
              postgresql_where=text("recording IS NOT NULL AND recording_purged_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(16))
    expert_ext: Mapped[str | None] = mapped_column(String(32))
    # Who held `expert_ext` when the call was recorded (migration 0008): the call's owner, who
    # alone (with supervisors) sees it, even after the extension passes to someone else.
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    client_number: Mapped[str | None] = mapped_column(String(32))
    client_name: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime]
    ringing_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    talk_s: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[str | None] = mapped_column(String(24))
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_by: Mapped[str | None] = mapped_column(String(16))
    recording: Mapped[str | None] = mapped_column(Text)
    # The planned call's public id (`PC-1001`), not a foreign key: the PBX may report any string.
    planned_call_id: Mapped[str | None] = mapped_column(String(32), index=True)
    client_id: Mapped[str | None] = mapped_column(String(32))
    quality: Mapped[list[str]] = mapped_column(JSON, default=list)
    # While the call is up: what the PBX side needs to resume it after a restart (dialer/resume.py).
    tracker_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Its outcome or talk time is a guess (dialer.records.GUESSED_QUALITY): out of the figures.
    guessed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Set when the retention job deleted the recording's file (the path stays: it was reported).
    recording_purged_at: Mapped[datetime | None]


class Expert(Base):
    """A user of DS Desk: an Expert (gets a daily plan), a supervisor or an admin."""

    __tablename__ = "experts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    # The display name «Фамилия Имя Отчество», always written with the parts (ExpertName.columns()).
    full_name: Mapped[str] = mapped_column(String(255))
    # The name in parts (migration 0013); "" only in a row written around the repositories.
    last_name: Mapped[str] = mapped_column(String(255), server_default="")
    first_name: Mapped[str] = mapped_column(String(255), server_default="")
    patronymic: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), server_default="expert")  # expert|supervisor|admin
    extension: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the organisation's zone
    daily_target: Mapped[int | None] = mapped_column(Integer)  # None: the configured default
    group_name: Mapped[str | None] = mapped_column(String(64))  # «Группа 1»: the РГ's group, for figures
    password_hash: Mapped[str | None] = mapped_column(String(255))  # argon2; None: cannot sign in
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    # «Выйти»: every session of this user started before this moment is over (migration 0008).
    signed_out_at: Mapped[datetime | None]


class ExpertAbsence(Base):
    """Days an Expert is away (`from_date`..`to_date`, both inclusive): no plan on them."""

    __tablename__ = "expert_absences"
    __table_args__ = (UniqueConstraint("expert_id", "from_date", "to_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date] = mapped_column(Date, index=True)


class Client(Base):
    """A client organisation, known by its CRM external id (e.g. `C-501`)."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    inn: Mapped[str | None] = mapped_column(String(12))
    segment: Mapped[str] = mapped_column(String(8), server_default="ДС")  # ДС | КС | VIP
    territory: Mapped[str | None] = mapped_column(String(64))
    # No ON DELETE action: an Expert who still has clients cannot be deleted (reassign first).
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id"), index=True)
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the organisation's zone
    version: Mapped[str] = mapped_column(String(24), server_default="other")
    online_last_login: Mapped[date | None] = mapped_column(Date)
    online_logins_30d: Mapped[int | None] = mapped_column(Integer)
    debt_rub: Mapped[Decimal] = mapped_column(Numeric(14, 2), server_default="0")
    prepaid_months: Mapped[int | None] = mapped_column(Integer)
    terms_end: Mapped[date | None] = mapped_column(Date)
    ds_since: Mapped[date | None] = mapped_column(Date)
    contact_every_days: Mapped[int | None] = mapped_column(Integer)  # None: the configured cadence
    # Moving to ДС (migration 0016, issue 15): what the selection's criteria read.
    client_since: Mapped[date | None] = mapped_column(Date)
    came_from: Mapped[str | None] = mapped_column(String(16))  # glavbukh | garant | other
    distance_km: Mapped[float | None] = mapped_column(Float)
    services: Mapped[list[str] | None] = mapped_column(JSON)  # st, mailing, video_seminars, lk
    ip_possible: Mapped[bool | None] = mapped_column(Boolean)  # internet update possible (ИП)
    sio: Mapped[str | None] = mapped_column(String(128))  # the client's СИО (service engineer), as the CRM names them
    # Полнота сбора (migration 0021, issue 17): the share of the client's installations whose usage
    # statistics were collected, 0–1, as the CRM reports it.
    collection_completeness: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
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
    # Nullable: contacts made before imports existed (demo data) have no CRM id.
    external_id: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)
    position: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))  # as imported; phone_e164 is what is dialled
    email: Mapped[str | None] = mapped_column(String(255))
    is_user: Mapped[bool] = mapped_column(Boolean, server_default=false())
    call_from: Mapped[time | None] = mapped_column(Time)  # preferred window, client's local time
    call_to: Mapped[time | None] = mapped_column(Time)
    client: Mapped[Client] = relationship(back_populates="contacts", lazy="raise_on_sql")


class HistoryEntry(Base):
    """A past contact attempt from the CRM; `row_key` hashes the whole normalised row."""

    __tablename__ = "history"
    __table_args__ = (
        # Covering (with the implicit rowid/id) for the per-contact summaries.
        Index("ix_history_contact_id_date_result", "contact_id", "date", "result"),
        Index("ix_history_client_id_date", "client_id", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_contacts.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(16))  # contact_made | not_reached
    topic: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    # The row has no id of its own: re-importing it must find it by its content.
    row_key: Mapped[str] = mapped_column(String(64), unique=True)


class ClientSignal(Base):
    """A reason to call that came from outside (hotline request, problem, new user…)."""

    __tablename__ = "signals"
    __table_args__ = (
        Index("ix_signals_client_id_occurred_on", "client_id", "occurred_on"),
        Index("ix_signals_contact_id_occurred_on", "contact_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    row_key: Mapped[str] = mapped_column(String(64), unique=True)  # as in history


class PlannedCall(Base):
    """One item of an Expert's daily plan (a «Работа»); the ledger links to it by `public_id`."""

    __tablename__ = "planned_calls"
    __table_args__ = (
        # A contact is called at most once a day; save_plan relies on this to top up safely.
        UniqueConstraint("plan_date", "contact_id"),
        Index("ix_planned_calls_expert_id_plan_date", "expert_id", "plan_date"),
        Index("ix_planned_calls_contact_id_plan_date", "contact_id", "plan_date"),
        Index("ix_planned_calls_client_id_plan_date", "client_id", "plan_date"),
        Index("ix_planned_calls_state_plan_date", "state", "plan_date"),
        Index("ix_planned_calls_figures", "plan_date", "expert_id", "state", "slot"),  # covering (0006)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # PC-<1000 + id>
    plan_date: Mapped[date] = mapped_column(Date)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("client_contacts.id"))
    slot: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), server_default="planned")
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"code": …, "text": …}]
    topic: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)  # the previous contact's comment
    result_comment: Mapped[str | None] = mapped_column(Text)  # the wrap-up's own comment
    rolled_from: Mapped[int | None] = mapped_column(
        ForeignKey("planned_calls.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CallbackPromise(Base):
    """A callback an Expert promised at a fixed time (created by the wrap-up)."""

    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_done_at", "done", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("client_contacts.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"))
    at: Mapped[datetime]
    topic: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(server_default=text("CURRENT_TIMESTAMP"))
    # Set when a wrap-up promised it: saving that wrap-up again moves this promise, never adds one.
    wrapup_id: Mapped[int | None] = mapped_column(
        ForeignKey("wrapups.id", ondelete="CASCADE"), unique=True)


class PlanNote(Base):
    """What the plan says about itself: «меньше 15: в портфеле больше некого звонить»."""

    __tablename__ = "plan_notes"
    __table_args__ = (UniqueConstraint("expert_id", "plan_date", "text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    plan_date: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)


class JobRun(Base):
    """One run of a scheduled job: start-up catch-up reads the last success; failures stay visible."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_fire_time", "job", "fire_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    fire_time: Mapped[datetime]  # the scheduled time this run stands for
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # running | ok | failed
    detail: Mapped[str | None] = mapped_column(Text)  # what was built, or the error


class WrapUp(Base):
    """What the Expert recorded after a call: one per ledger call (saving again updates it).

    Duration, times and outcome are not here: they stay in `calls`, written only by the PBX side.
    """

    __tablename__ = "wrapups"
    __table_args__ = (
        Index("ix_wrapups_expert_id_created_at", "expert_id", "created_at"),
        # The API's wrap-ups come in pages by (updated_at, id) (migration 0025).
        Index("ix_wrapups_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    planned_call_id: Mapped[int | None] = mapped_column(
        ForeignKey("planned_calls.id", ondelete="SET NULL"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_contacts.id", ondelete="SET NULL"))
    # contact_made | not_reached | callback | wrong_number | refused
    result: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(Text)
    logged_in: Mapped[bool] = mapped_column(Boolean, server_default=false())
    productive: Mapped[bool] = mapped_column(Boolean, server_default=false())
    comment: Mapped[str | None] = mapped_column(Text)
    next_contact_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RecordingAccess(Base):
    """Who played or downloaded which recording, when (every access is written)."""

    __tablename__ = "recording_access"
    __table_args__ = (Index("ix_recording_access_call_id_at", "call_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(16))  # play | download
    remote: Mapped[str | None] = mapped_column(String(64))


class ScriptVersion(Base):
    """A supervisor's edit of a call script; the latest per file overrides the shipped text.

    `source` None is "reset to the shipped text" (kept as a version so the history stays whole).
    """

    __tablename__ = "script_versions"
    __table_args__ = (Index("ix_script_versions_file_id", "file", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


# The summary's refresh finds what was written since its watermark by these (every write of a
# call, wrap-up or planned item sets its updated_at); calls and wrap-ups by their (updated_at, id) indexes.
Index("ix_planned_calls_updated_at", PlannedCall.updated_at)


def _trigram_index(name: str, expression: Any) -> None:
    """A pg_trgm GIN index: `LIKE '%…%'` on `expression` searches it (PostgreSQL only, migration 0014)."""
    Index(name, expression.label("searched"), postgresql_using="gin",
          postgresql_ops={"searched": "gin_trgm_ops"}).ddl_if(dialect="postgresql")


# The client search's (service/client_search/, service/db/search_text.py).
Index("ix_clients_expert_id_id", Client.expert_id, Client.id)  # an Expert's clients from the index alone
_trigram_index("ix_clients_name_search", folded(Client.name))
_trigram_index("ix_clients_inn_search", Client.inn)
_trigram_index("ix_client_contacts_name_search", folded(ClientContact.full_name))
_trigram_index("ix_client_contacts_phone_e164_search", ClientContact.phone_e164)
_trigram_index("ix_client_contacts_phone_search", phone_digits(ClientContact.phone, "postgresql"))

__all__ = [
    "Act", "ApiAudit", "ApiToken", "Base", "Call", "CallScore", "CallScoreItem", "CallStep", "RecordingComment",
    "Scorecard", "ScorecardItem", "StepScript", "StepScriptVersion",
    "ClientRequest", "Mailing", "SeminarVisit", "SegmentChange", "SurveyResponse",
    "Training", "CallLogin", "CallbackPromise", "Client", "ClientContact", "ClientLogin", "ClientSignal",
    "ClientTransition", "Expert", "SelectionScore", "BusinessEvent", "ClosedMonth", "MonthlyPlan",
    "ExpertAbsence", "ExpertStatus", "FileImport", "FiguresBuiltDay", "FiguresCount", "FiguresDaily", "FiguresState",
    "HistoryEntry", "JobRun", "KtuEntry", "KtuVersion", "LoginDay", "PlanNote",
    "PlannedCall", "PlannedVisit", "RecordingAccess", "ScriptVersion", "Visit", "WebhookDelivery",
    "WebhookSubscription", "WrapUp",
]
