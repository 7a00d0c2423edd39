"""The client brief («Сведения о Клиенте»): the organisation, its users, open signals, last contacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select, union_all

from service.db.engine import SessionMaker
from service.db.models import Call, Client, ClientContact, ClientSignal, Expert, HistoryEntry, PlannedCall, WrapUp

LAST_CONTACTS = 10


@dataclass(frozen=True, slots=True)
class ContactLine:
    external_id: str | None
    full_name: str
    position: str | None
    phone: str | None
    phone_e164: str | None
    email: str | None
    is_user: bool
    call_from: Any
    call_to: Any


@dataclass(frozen=True, slots=True)
class SignalLine:
    kind: str
    occurred_on: date
    note: str | None
    contact_name: str | None


@dataclass(frozen=True, slots=True)
class HistoryLine:
    day: date
    result: str
    topic: str | None
    comment: str | None
    contact_name: str | None


@dataclass(frozen=True, slots=True)
class CallLine:
    linkedid: str
    started_at: datetime
    direction: str
    outcome: str | None
    talk_s: float
    has_recording: bool
    wrapup_result: str | None
    topic: str | None
    comment: str | None
    logged_in: bool


@dataclass(frozen=True, slots=True)
class ClientBrief:
    id: int
    external_id: str
    name: str
    inn: str | None
    segment: str
    territory: str | None
    expert_id: int | None
    expert_name: str | None
    timezone: str | None
    version: str
    online_last_login: date | None
    online_logins_30d: int | None
    debt_rub: Decimal
    prepaid_months: int | None
    terms_end: date | None
    ds_since: date | None
    contact_every_days: int | None
    contacts: list[ContactLine]
    signals: list[SignalLine]
    history: list[HistoryLine]
    calls: list[CallLine]
    services: tuple[str, ...] = ()  # СТ, рассылка, видеосеминары, ЛК (the clients import's `services`)
    sio: str | None = None  # a КС client's СИО


class BriefRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def expert_of(self, external_id: str) -> tuple[bool, int | None]:
        """(the client exists, its assigned Expert's id): the access check before anything else."""
        async with self._sessions() as session:
            row = (await session.execute(
                select(Client.expert_id).where(Client.external_id == external_id))).first()
        return (False, None) if row is None else (True, row[0])

    async def brief(self, external_id: str, calls_of_expert: int | None,
                    all_calls: bool) -> ClientBrief | None:
        """The brief; the calls listed are the Expert's own (`calls_of_expert`) unless `all_calls`."""
        async with self._sessions() as session:
            row = (await session.execute(
                select(Client, Expert.full_name).outerjoin(Expert, Expert.id == Client.expert_id)
                .where(Client.external_id == external_id))).first()
            if row is None:
                return None
            client, expert_name = row
            contacts = await _contacts(session, client.id)
            signals = await _open_signals(session, client.id)
            history = await _history(session, client.id)
            # An Expert sees only the calls they own (and their recordings).
            calls = (await _calls(session, external_id, None) if all_calls
                     else await _calls(session, external_id, calls_of_expert)
                     if calls_of_expert is not None else [])
        return ClientBrief(
            id=client.id, external_id=client.external_id, name=client.name, inn=client.inn,
            segment=client.segment, territory=client.territory, expert_id=client.expert_id,
            expert_name=expert_name, timezone=client.timezone, version=client.version,
            online_last_login=client.online_last_login, online_logins_30d=client.online_logins_30d,
            debt_rub=client.debt_rub, prepaid_months=client.prepaid_months, terms_end=client.terms_end,
            ds_since=client.ds_since, contact_every_days=client.contact_every_days,
            contacts=contacts, signals=signals, history=history, calls=calls,
            services=tuple(client.services or ()), sio=client.sio,
        )


async def _contacts(session: Any, client_id: int) -> list[ContactLine]:
    rows = (await session.execute(
        select(ClientContact).where(ClientContact.client_id == client_id)
        .order_by(ClientContact.is_user.desc(), ClientContact.full_name))).scalars()
    return [ContactLine(c.external_id, c.full_name, c.position, c.phone, c.phone_e164, c.email,
                        c.is_user, c.call_from, c.call_to) for c in rows]


async def _last_contacts_made(session: Any, client_id: int) -> dict[int | None, date]:
    """The last day a contact was made, per contact (key None: with anyone at the client), from
    the CRM history and DS Desk's own plan items."""
    both = union_all(
        select(HistoryEntry.contact_id.label("contact_id"), func.max(HistoryEntry.date).label("day"))
        .where(HistoryEntry.client_id == client_id, HistoryEntry.result == "contact_made")
        .group_by(HistoryEntry.contact_id),
        select(PlannedCall.contact_id, func.max(PlannedCall.plan_date))
        .where(PlannedCall.client_id == client_id, PlannedCall.state == "contact_made")
        .group_by(PlannedCall.contact_id),
    ).subquery()
    rows = (await session.execute(
        select(both.c.contact_id, func.max(both.c.day)).group_by(both.c.contact_id))).all()
    last: dict[int | None, date] = {}
    for contact_id, day in rows:
        if day is None:
            continue
        last[contact_id] = day
        last[None] = max(last.get(None, day), day)
    return last


async def _open_signals(session: Any, client_id: int) -> list[SignalLine]:
    """Signals nobody has talked about yet: on or after the last contact made with that person
    (with anyone at the client for a signal about the organisation) — the plan's rule too."""
    last = await _last_contacts_made(session, client_id)
    rows = (await session.execute(
        select(ClientSignal.contact_id, ClientSignal.kind, ClientSignal.occurred_on, ClientSignal.note,
               ClientContact.full_name)
        .outerjoin(ClientContact, ClientContact.id == ClientSignal.contact_id)
        .where(ClientSignal.client_id == client_id)
        .order_by(ClientSignal.occurred_on.desc()))).all()
    return [SignalLine(kind, occurred_on, note, name) for contact_id, kind, occurred_on, note, name in rows
            if (since := last.get(contact_id)) is None or occurred_on >= since]


async def _history(session: Any, client_id: int) -> list[HistoryLine]:
    rows = (await session.execute(
        select(HistoryEntry.date, HistoryEntry.result, HistoryEntry.topic, HistoryEntry.comment,
               ClientContact.full_name)
        .outerjoin(ClientContact, ClientContact.id == HistoryEntry.contact_id)
        .where(HistoryEntry.client_id == client_id)
        .order_by(HistoryEntry.date.desc(), HistoryEntry.id.desc()).limit(LAST_CONTACTS))).all()
    return [HistoryLine(*row) for row in rows]


async def _calls(session: Any, client_external_id: str, expert_id: int | None) -> list[CallLine]:
    query = (select(Call.linkedid, Call.started_at, Call.direction, Call.outcome, Call.talk_s,
                    and_(Call.recording.is_not(None), Call.talk_s > 0), WrapUp.result, WrapUp.topic, WrapUp.comment,
                    func.coalesce(WrapUp.logged_in, False))
             .outerjoin(WrapUp, WrapUp.call_id == Call.id)
             .where(Call.client_id == client_external_id)
             .order_by(Call.started_at.desc()).limit(LAST_CONTACTS))
    if expert_id is not None:
        query = query.where(Call.expert_id == expert_id)
    return [CallLine(*row) for row in (await session.execute(query)).all()]
