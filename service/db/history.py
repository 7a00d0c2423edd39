"""History of past contacts and signals: rows without ids, inserted once by their content hash."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.bulk import chunks, ids_by, insert_absent, session_scope
from service.db.engine import SessionMaker
from service.db.models import Client, ClientContact, ClientSignal, HistoryEntry
from service.db.records import Counts, HistoryRecord, SignalRecord
from service.errors import UnknownClientError

_CLIENTS = cast(Table, Client.__table__)
_CONTACTS = cast(Table, ClientContact.__table__)
_HISTORY = cast(Table, HistoryEntry.__table__)
_SIGNALS = cast(Table, ClientSignal.__table__)
# Smaller than IN_CHUNK: each row binds seven values and the statement returns ids.
_BATCH = 2000

AnyRecord = HistoryRecord | SignalRecord


class HistoryRepository:
    """Inserts history and signals if absent; a method given `session` uses the caller's transaction."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def add_history(self, records: Sequence[HistoryRecord],
                          session: AsyncSession | None = None) -> Counts:
        """Insert the rows not yet there (same content = same row); returns new/unchanged."""
        return await self._add(records, _HISTORY, _history_row, session)

    async def add_signals(self, records: Sequence[SignalRecord],
                          session: AsyncSession | None = None) -> Counts:
        """Insert the signals not yet there (same content = same signal); returns new/unchanged."""
        return await self._add(records, _SIGNALS, _signal_row, session)

    async def _add(self, records: Sequence[Any], table: Table, to_row: Any,
                   session: AsyncSession | None) -> Counts:
        counts = Counts()
        async with session_scope(self._sessions, session) as s:
            for chunk in chunks(records, _BATCH):
                clients, contacts = await _resolve(s, chunk)
                rows = {r.row_key: to_row(r, clients, contacts) for r in chunk}
                duplicates = len(chunk) - len(rows)  # the same row twice in one batch
                counts += await insert_absent(s, table, "row_key", list(rows.values()))
                counts += Counts(unchanged=duplicates)
        return counts


async def _resolve(session: AsyncSession, records: Sequence[AnyRecord],
                   ) -> tuple[dict[str, int], dict[str, int]]:
    clients = await ids_by(session, _CLIENTS, "external_id", {r.client_external_id for r in records})
    wanted = {r.contact_external_id for r in records if r.contact_external_id}
    contacts = await ids_by(session, _CONTACTS, "external_id", wanted)
    missing = sorted(({r.client_external_id for r in records} - clients.keys())
                     | (wanted - contacts.keys()))
    if missing:
        raise UnknownClientError(f"unknown client or contact {', '.join(map(repr, missing[:10]))}")
    return clients, contacts


def _history_row(record: HistoryRecord, clients: dict[str, int],
                 contacts: dict[str, int]) -> dict[str, Any]:
    return {
        "client_id": clients[record.client_external_id],
        "contact_id": contacts[record.contact_external_id] if record.contact_external_id else None,
        "date": record.date, "result": record.result,
        "topic": record.topic, "comment": record.comment, "row_key": record.row_key,
    }


def _signal_row(record: SignalRecord, clients: dict[str, int],
                contacts: dict[str, int]) -> dict[str, Any]:
    return {
        "client_id": clients[record.client_external_id],
        "contact_id": contacts[record.contact_external_id] if record.contact_external_id else None,
        "kind": record.kind, "occurred_on": record.occurred_on,
        "note": record.note, "row_key": record.row_key,
    }
