"""Reads for the move to ДС in figures (service/figures/funnel.py): the period's steps, the ДС portfolio."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, true

from service.db.engine import SessionMaker
from service.db.models import Client, ClientContact, ClientTransition
from service.figures.funnel import Portfolio, Step


class FunnelRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def steps(self, expert_ids: Collection[int] | None, start: datetime, end: datetime) -> list[Step]:
        """The steps recorded in [start, end) (of the campaigns of `expert_ids`; None: all)."""
        query = (select(ClientTransition.client_id, ClientTransition.status, ClientTransition.expert_id,
                        ClientTransition.reason)
                 .where(ClientTransition.at >= start, ClientTransition.at < end)
                 .order_by(ClientTransition.at, ClientTransition.id))
        if expert_ids is not None:
            query = query.where(ClientTransition.expert_id.in_(list(expert_ids)))
        async with self._sessions() as session:
            return [Step(*row) for row in await session.execute(query)]

    async def portfolio(self, expert_ids: Collection[int] | None) -> Portfolio:
        """The clients on ДС now (of `expert_ids`' portfolios; None: the department's)."""
        users = (select(ClientContact.client_id, func.count().label("users"))
                 .where(ClientContact.is_user == true()).group_by(ClientContact.client_id).subquery())
        query = (select(Client.version, Client.services, Client.prepaid_months, func.coalesce(users.c.users, 0))
                 .outerjoin(users, users.c.client_id == Client.id).where(Client.segment == "ДС"))
        if expert_ids is not None:
            query = query.where(Client.expert_id.in_(list(expert_ids)))
        clients = online = user_count = with_services = prepaid = 0
        async with self._sessions() as session:
            for version, services, prepaid_months, n_users in await session.execute(query):
                clients += 1
                online += version == "online"
                user_count += int(n_users)
                with_services += bool(services)
                prepaid += (prepaid_months or 0) > 0
        return Portfolio(clients, online, user_count, with_services, prepaid)


