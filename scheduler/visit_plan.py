"""The PM's monthly visit plan (issue 16, item 1): whom to visit this month, and why. Pure.

A visit is planned from the same reasons as a call (scheduler/builder_reasons.py): a callback or a
request owed to the organisation, financial terms ending, a debt, no login to the online version,
the contact cadence. The organisations with the most urgent reasons come first (the call plan's
tiers, then the oldest reason); when fewer than the plan's count have a reason, the organisations
whose next contact is soonest fill it. Each PM's plan is topped up, never rebuilt: a client already
on her month's plan stays there with the reasons it was planned for.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from scheduler.builder_index import PortfolioIndex, build_index
from scheduler.builder_reasons import Hit, Scope, client_hits, fill_hit
from scheduler.calendar import WorkCalendar
from scheduler.inputs import Client, PlanInputs
from scheduler.model import Reason, ReasonCode
from scheduler.rules import PlanRules


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    employee_login: str
    client_external_id: str
    reasons: tuple[Reason, ...]  # the most urgent first
    rank: int  # 1 = the first to visit


def build_visit_plan(inputs: PlanInputs, calendar: WorkCalendar, rules: PlanRules, tz: ZoneInfo,
                     counts: Mapping[str, int], planned: Mapping[str, Set[str]]) -> list[PlannedVisit]:
    """Each PM's new visits for the month that `inputs.day` opens (or is in), up to `counts[login]`
    visits in all with the `planned[login]` clients already on her plan (those are not repeated)."""
    index = build_index(inputs)
    scope = Scope(inputs.day, rules, calendar, index, tz)
    out: list[PlannedVisit] = []
    for pm in index.experts:
        have = planned.get(pm.login, frozenset())
        wanted = counts.get(pm.login, 0) - len(have)
        if wanted <= 0:
            continue
        portfolio = [c for c in index.clients_by_expert.get(pm.login, ()) if c.external_id not in have]
        ranked = _ranked(scope, index, portfolio)
        out += [PlannedVisit(pm.login, client.external_id, reasons, len(have) + n)
                for n, (client, reasons) in enumerate(ranked[:wanted], start=1)]
    return out


def _ranked(scope: Scope, index: PortfolioIndex, clients: list[Client]) -> list[tuple[Client, tuple[Reason, ...]]]:
    """Organisations with a reason first (most urgent tier, then the oldest reason, then the most reasons),
    then the others by how soon their next contact falls due."""
    with_reasons: list[tuple[tuple[int, date, int, str], Client, tuple[Reason, ...]]] = []
    others: list[tuple[tuple[int, date, int, str], Client, tuple[Reason, ...]]] = []
    for client in clients:
        hits = _hits(scope, client)
        if hits:
            first, reasons = hits[0], _reasons(hits)
            # Within a tier and age, an organisation owed more (a debt and no contact) goes first.
            with_reasons.append(((first.tier, first.since, -len(reasons), client.external_id), client, reasons))
            continue
        last = index.org_last_contact.get(client.external_id)
        if last is not None:  # no contact ever is a cadence reason: such a client has a hit already
            fill = fill_hit(scope, client, last)
            others.append(((fill.tier, fill.since, 0, client.external_id), client, _reasons([fill])))
    ordered = sorted(with_reasons, key=lambda t: t[0]) + sorted(others, key=lambda t: t[0])
    return [(client, reasons) for _, client, reasons in ordered]


def _hits(scope: Scope, client: Client) -> list[Hit]:
    found = client_hits(scope, client)
    hits = [hit for group in found.by_contact.values() for hit in group] + found.org
    return sorted(hits, key=lambda h: (h.tier, h.since, h.code.value))


def _reasons(hits: list[Hit]) -> tuple[Reason, ...]:
    """One reason per kind (a retry for each of three contacts is one reason for the visit)."""
    seen: set[ReasonCode] = set()
    reasons: list[Reason] = []
    for hit in hits:
        if hit.code not in seen:
            seen.add(hit.code)
            reasons.append(Reason(hit.code, hit.text))
    return tuple(reasons)
