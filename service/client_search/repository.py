"""Finding clients: by the words of an organisation's or a contact's name, by ИНН, by a contact's phone.

Names are compared folded (service/db/search_text.py). On PostgreSQL the folded names, the ИНН and
the contacts' phones have pg_trgm GIN indexes (migration 0014): `LIKE '%…%'` on them is an index
search (a test EXPLAINs it). SQLite matches names by GLOB and scans: its deployments are small.

Each way of matching is its own SELECT of (client, matching contact), united, so that each uses its
own index; the clients are then read in name order, at most `limit` (and whether there are more).
A broad search («ооо», «иванова») stops after HITS matches: the clients shown are then in name order
among those, and the page says there are more. Without the cap it would read and sort every match
(55,000 organisations for «ооо» at 100,000: a second, bench/RESULTS.md "client_search").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, cast, func, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from service.client_search.query import LIKE_ESCAPE, ClientQuery, glob_contains, like_contains
from service.db.engine import SessionMaker
from service.db.models import Client, ClientContact, Expert
from service.db.search_text import folded, phone_digits
from service.db.upsert import dialect_name

HITS = 1000  # matches read at most: far more than the page shows (a client matches a few times at most)


@dataclass(frozen=True, slots=True)
class FoundContact:
    external_id: str | None
    full_name: str
    position: str | None
    phone: str | None  # as imported (may hold several numbers)
    phone_e164: str | None
    matched: bool  # False: the organisation matched, this is its first contact


@dataclass(frozen=True, slots=True)
class FoundClient:
    external_id: str
    name: str
    inn: str | None
    territory: str | None
    timezone: str | None  # None: the organisation's zone
    expert_name: str | None
    contact: FoundContact | None


@dataclass(frozen=True, slots=True)
class SearchResult:
    clients: list[FoundClient]
    more: bool  # more clients match than were returned


class ClientSearchRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def search(self, query: ClientQuery, expert_id: int | None, limit: int) -> SearchResult:
        """Clients matching `query` in name order; only `expert_id`'s own unless None (everyone's)."""
        if not query.searchable:
            return SearchResult([], False)
        async with self._sessions() as session:
            dialect = dialect_name(session)
            rows = (await session.execute(_found(query, dialect, expert_id, limit + 1))).all()
            shown = rows[:limit]
            contacts = await _contacts(session, [row.id for row in shown])
        clients = [FoundClient(row.external_id, row.name, row.inn, row.territory, row.timezone,
                               row.expert_name, _contact_of(contacts.get(row.id, []), row.contact_id))
                   for row in shown]
        capped = bool(rows) and int(rows[0].all_hits) >= HITS  # there may be more than were read
        return SearchResult(clients, len(rows) > limit or capped)


def _name_has_all(column: Any, words: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """Every word somewhere in the folded name (PostgreSQL: LIKE on the indexed expression)."""
    if dialect == "postgresql":
        return and_(*(folded(column).like(like_contains(word), escape=LIKE_ESCAPE) for word in words))
    return and_(*(column.op("GLOB")(glob_contains(word)) for word in words))


def _hits(query: ClientQuery, dialect: str, expert_id: int | None) -> Any:
    """(client_id, contact_id) for each way the query matches, at most HITS; contact_id null: the organisation."""
    no_contact = cast(null(), Integer).label("contact_id")
    organisations: list[ColumnElement[bool]] = []
    people: list[ColumnElement[bool]] = []
    if query.words:
        organisations.append(_name_has_all(Client.name, query.words, dialect))
        people.append(_name_has_all(ClientContact.full_name, query.words, dialect))
    if query.digits is not None:
        pattern = like_contains(query.digits)
        organisations.append(Client.inn.like(pattern, escape=LIKE_ESCAPE))
        people += [phone.like(pattern, escape=LIKE_ESCAPE)
                   for phone in (ClientContact.phone_e164, phone_digits(ClientContact.phone, dialect))]
    branches: list[Select[int, int]] = []
    for condition in organisations:
        branch = select(Client.id.label("client_id"), no_contact).where(condition)
        branches.append(branch if expert_id is None else branch.where(Client.expert_id == expert_id))
    for condition in people:
        branch = select(ClientContact.client_id, ClientContact.id.label("contact_id")).where(condition)
        branches.append(branch if expert_id is None else branch.join(Client, Client.id == ClientContact.client_id)
                        .where(Client.expert_id == expert_id))
    # The Expert's filter is in every branch, so that the cap counts only what she may see.
    return union_all(*branches).limit(HITS).subquery("hits")


def _found(query: ClientQuery, dialect: str, expert_id: int | None, limit: int) -> Select[Any]:
    hits = _hits(query, dialect, expert_id)
    matched = (select(hits.c.client_id, func.min(hits.c.contact_id).label("contact_id"),
                      func.count().label("hits"))
               .group_by(hits.c.client_id).subquery("matched"))
    return (select(Client.id, Client.external_id, Client.name, Client.inn, Client.territory, Client.timezone,
                   Expert.full_name.label("expert_name"), matched.c.contact_id,
                   func.sum(matched.c.hits).over().label("all_hits"))
            .join(matched, matched.c.client_id == Client.id)
            .outerjoin(Expert, Expert.id == Client.expert_id)
            .order_by(Client.name, Client.id).limit(limit))


async def _contacts(session: AsyncSession, client_ids: list[int]) -> dict[int, list[Any]]:
    """The contacts of the clients shown, in the brief's order."""
    if not client_ids:
        return {}
    rows = (await session.execute(
        select(ClientContact.client_id, ClientContact.id, ClientContact.external_id, ClientContact.full_name,
               ClientContact.position, ClientContact.phone, ClientContact.phone_e164)
        .where(ClientContact.client_id.in_(client_ids))
        .order_by(ClientContact.client_id, ClientContact.is_user.desc(), ClientContact.full_name))).all()
    by_client: dict[int, list[Any]] = {}
    for row in rows:
        by_client.setdefault(row.client_id, []).append(row)
    return by_client


def _contact_of(contacts: list[Any], matched_id: int | None) -> FoundContact | None:
    """The contact that matched, else the organisation's first one."""
    chosen = next((c for c in contacts if c.id == matched_id), contacts[0] if contacts else None)
    if chosen is None:
        return None
    return FoundContact(chosen.external_id, chosen.full_name, chosen.position, chosen.phone, chosen.phone_e164,
                        matched=matched_id is not None and chosen.id == matched_id)
