"""Writes of the comparison's imported rows (issue 17; service/db/models_compare.py), each by its
natural key: a new key is inserted, a known one updated only when something differs, so the same
file imported twice changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any, cast

from sqlalchemy import Table, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.base import Base
from service.db.bulk import chunks, ids_by
from service.db.models import Act, Client, ClientRequest, Mailing, SeminarVisit, SurveyResponse, Training
from service.db.records import Counts
from service.errors import UnknownClientError

_CLIENTS = cast(Table, Client.__table__)
_BATCH = 1000  # up to four key values each in the IN list of existing rows


async def write_keyed(session: AsyncSession, model: type[Base], key: tuple[str, ...],
                      rows: Sequence[Mapping[str, Any]]) -> Counts:
    """Insert the rows whose `key` columns are new, update those that differ; the same key twice in
    `rows`: the later one counts."""
    counts = Counts()
    table = cast(Table, model.__table__)
    for chunk in chunks(rows, _BATCH):
        wanted = {tuple(row[name] for name in key): row for row in chunk}
        counts += Counts(unchanged=len(chunk) - len(wanted))
        columns = [table.c[name] for name in key]
        values = [name for name in chunk[0] if name not in key]
        existing = {tuple(found[:len(key)]): (found[len(key)], dict(zip(values, found[len(key) + 1:], strict=True)))
                    for found in await session.execute(
                        select(*columns, table.c.id, *(table.c[name] for name in values))
                        .where(tuple_(*columns).in_(list(wanted))))}
        new = [row for k, row in wanted.items() if k not in existing]
        changed = [{"id": existing[k][0], **{name: row[name] for name in values}} for k, row in wanted.items()
                   if k in existing and any(existing[k][1][name] != row[name] for name in values)]
        if new:
            await session.execute(insert(table), new)
        if changed:  # the ORM's bulk UPDATE by primary key (a Core update() would match every row)
            await session.execute(update(model), changed)
        counts += Counts(new=len(new), updated=len(changed), unchanged=len(wanted) - len(new) - len(changed))
    return counts


async def _with_client_ids(session: AsyncSession, records: Sequence[Any]) -> list[dict[str, Any]]:
    codes = {r.client_external_id for r in records if r.client_external_id}
    ids = await ids_by(session, _CLIENTS, "external_id", codes)
    unknown = sorted(codes - ids.keys())
    if unknown:  # the import checked them: a client deleted since
        raise UnknownClientError("нет клиента " + ", ".join(f"«{code}»" for code in unknown[:10]))
    rows = []
    for record in records:
        row = asdict(record)
        code = row.pop("client_external_id")
        row["client_id"] = ids[code] if code else None
        rows.append(row)
    return rows


def _client_kind(model: type[Base], key: tuple[str, ...]) -> Callable[[AsyncSession, Sequence[Any]], Any]:
    async def write(session: AsyncSession, records: Sequence[Any]) -> Counts:
        return await write_keyed(session, model, key, await _with_client_ids(session, records))
    return write


write_trainings = _client_kind(Training, ("client_id", "contact_external_id", "day", "kind"))
write_seminar_visits = _client_kind(SeminarVisit, ("client_id", "contact_external_id", "day", "seminar"))
write_acts = _client_kind(Act, ("client_id", "period"))
write_requests = _client_kind(ClientRequest, ("client_id", "channel", "created_at"))


async def write_mailings(session: AsyncSession, records: Sequence[Any]) -> Counts:
    return await write_keyed(session, Mailing, ("campaign", "sent_on", "audience"), [asdict(r) for r in records])


async def write_survey(session: AsyncSession, records: Sequence[Any]) -> Counts:
    return await write_keyed(session, SurveyResponse, ("respondent", "answered_on"),
                             await _with_client_ids(session, records))
