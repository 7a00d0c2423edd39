"""Every client scored for ДС, as the candidate list, its XLSX and `dsdesk selection list` show it (issue 15).

The shell around the pure scoring: read the clients' facts, their latest manual scores and their
transition status (three statements whatever the number of clients), then score each client once
with `today` in the organisation's zone. A department's 100,000 organisations take a few seconds
(bench/selection.py).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo

from sqlalchemy import select

from service.db.engine import SessionMaker
from service.db.models import Client
from service.db.selection import ScoreEntry, SelectionClient, SelectionRepository
from service.db.transitions import TransitionEntry, TransitionsRepository, TransitionState
from service.selection.candidates import Candidate
from service.selection.scoring import ManualScore, SelectionRules, score_client


@dataclass(frozen=True, slots=True)
class ClientSelection:
    """One client's page: its scores, the manual entries' history and the transition's steps."""

    candidate: Candidate
    manual: dict[str, ManualScore]  # the latest per criterion (recommendation included)
    history: list[ScoreEntry]  # newest first
    transitions: list[TransitionEntry]  # newest first


async def scored_candidates(sessions: SessionMaker, rules: SelectionRules, tz: tzinfo,
                            now: datetime) -> list[Candidate]:
    """Every client with its selection, in name order (case-insensitive, then by external id)."""
    repo = SelectionRepository(sessions)
    today = now.astimezone(tz).date()
    with collector_paused():
        clients = await repo.clients()
        manual = await repo.latest_manual()
        states = await TransitionsRepository(sessions, tz=tz).current()
        # A second or two of pure Python at 100,000: on a thread, so the event loop (the desks' live
        # channel, the PBX link) gets its turns meanwhile.
        return await asyncio.to_thread(score_all, clients, manual, states, rules, today, tz)


def score_all(clients: Sequence[SelectionClient], manual: Mapping[int, Mapping[str, ManualScore]],
              states: Mapping[int, TransitionState], rules: SelectionRules, today: date,
              tz: tzinfo) -> list[Candidate]:
    """Each client scored, in name order: Python's, not the database's collation, so that ties sort
    alike on SQLite and PostgreSQL."""
    rows = [candidate(client, manual.get(client.id, {}), states.get(client.id), rules, today, tz)
            for client in clients]
    rows.sort(key=lambda row: (row.name.casefold(), row.external_id))
    return rows


async def client_selection(sessions: SessionMaker, external_id: str, rules: SelectionRules, tz: tzinfo,
                           now: datetime) -> ClientSelection | None:
    """The client's selection and histories; None when there is no such client."""
    async with sessions() as session:
        client_id = await session.scalar(select(Client.id).where(Client.external_id == external_id))
    if client_id is None:
        return None
    repo = SelectionRepository(sessions)
    transitions = TransitionsRepository(sessions, tz=tz)
    [client] = await repo.clients([client_id])
    manual = (await repo.latest_manual([client_id])).get(client_id, {})
    state = (await transitions.current([client_id])).get(client_id)
    row = candidate(client, manual, state, rules, now.astimezone(tz).date(), tz)
    return ClientSelection(row, manual, await repo.history(client_id), await transitions.history(client_id))


def candidate(client: SelectionClient, manual: Mapping[str, ManualScore], state: TransitionState | None,
              rules: SelectionRules, today: date, tz: tzinfo) -> Candidate:
    """The client scored; manual entries are dated in the organisation's zone, as their explanations say."""
    local = {criterion: replace(entry, at=entry.at.astimezone(tz)) for criterion, entry in manual.items()}
    selection = score_client(client.facts, local, rules, today)
    return Candidate(client.id, client.external_id, client.name, client.territory, client.sio, selection,
                     None if state is None else state.status.value, None if state is None else state.expert_name)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a bulk pass (on again after, if it was on).

    Scoring 100,000 clients makes about a million small objects that all live until the page is
    written; each generation the collector walks them all again, which took more than half the CPU
    time of the read and the scoring (bench/RESULTS.md, "selection"). None of them forms a cycle.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
