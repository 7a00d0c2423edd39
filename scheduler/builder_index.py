"""The builder's inputs indexed once by Expert, organisation and contact.

Every list is sorted by external ids before it is grouped, so the plan does not depend on the
order the shell loaded rows in, and per-Expert work touches only that Expert's portfolio.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from scheduler.builder_slots import zone
from scheduler.inputs import (
    Callback,
    Client,
    Contact,
    ContactSummary,
    ExistingItem,
    Expert,
    PlanInputs,
    Signal,
    Transition,
)
from scheduler.model import PlanState

_EMPTY_SUMMARY = ContactSummary(contact_external_id="")
T = TypeVar("T")


@dataclass(slots=True)
class PortfolioIndex:
    experts: list[Expert]  # by login
    clients_by_expert: dict[str, list[Client]]  # by external id
    contacts_by_client: dict[str, list[Contact]]  # best first: users, then by external id
    contact_by_id: dict[str, Contact]
    summary_by_contact: dict[str, ContactSummary]
    org_last_contact: dict[str, date]  # the latest `contact_made` over the org's contacts
    signals_by_client: dict[str, list[Signal]]
    callbacks_by_client: dict[str, list[Callback]]
    existing_by_expert: dict[str, list[ExistingItem]]  # today's items, any state
    busy_contacts: frozenset[str]  # contacts with an item today (any Expert, any state)
    busy_orgs: frozenset[str]  # their organisations
    rolled_by_client: dict[str, list[ExistingItem]]  # unfinished items of earlier days
    client_by_id: dict[str, Client] = field(default_factory=dict)
    # The campaign for ДС: each Expert's clients not decided yet (in her portfolio or not), by client id.
    transitions_by_expert: dict[str, list[Transition]] = field(default_factory=dict)

    def summary(self, contact_id: str) -> ContactSummary:
        return self.summary_by_contact.get(contact_id, _EMPTY_SUMMARY)


def build_index(inputs: PlanInputs) -> PortfolioIndex:
    experts_sorted = sorted(inputs.experts, key=lambda e: e.login)
    expert_by_login = {e.login: e for e in experts_sorted}
    clients_sorted = sorted(inputs.clients, key=lambda c: c.external_id)
    client_by_id = {c.external_id: c for c in clients_sorted}
    contacts_by_client = _contacts_by_client(inputs.contacts, client_by_id)
    contact_by_id = {k.external_id: k for group in contacts_by_client.values() for k in group}
    summary_by_contact = _summaries(inputs.summaries)
    today, rolled = _split_existing(inputs.day, inputs.existing, expert_by_login, contact_by_id)
    busy_contacts = frozenset(item.contact_external_id for items in today.values() for item in items)
    return PortfolioIndex(
        experts=experts_sorted,
        clients_by_expert=_group(clients_sorted, lambda c: c.expert_login),
        contacts_by_client=contacts_by_client,
        contact_by_id=contact_by_id,
        summary_by_contact=summary_by_contact,
        org_last_contact=_org_last_contact(summary_by_contact, contact_by_id),
        signals_by_client=_group(sorted(inputs.signals, key=_signal_key), lambda s: s.client_external_id),
        callbacks_by_client=_group(
            sorted(inputs.callbacks, key=lambda b: (b.at, b.contact_external_id, b.expert_login)),
            lambda b: b.client_external_id,
        ),
        existing_by_expert=today,
        busy_contacts=busy_contacts,
        busy_orgs=frozenset(contact_by_id[c].client_external_id for c in busy_contacts if c in contact_by_id),
        rolled_by_client=_group(rolled, lambda i: contact_by_id[i.contact_external_id].client_external_id),
        client_by_id=client_by_id,
        transitions_by_expert=_group(
            sorted((t for t in inputs.transitions if t.client_external_id in client_by_id),
                   key=lambda t: (t.client_external_id, t.expert_login, t.since, t.status)),
            lambda t: t.expert_login,
        ),
    )


def _group(rows: Iterable[T], key_of: Callable[[T], str | None]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = defaultdict(list)
    for row in rows:
        key = key_of(row)
        if key is not None:
            grouped[key].append(row)
    return dict(grouped)  # a plain dict: a lookup of an absent key must not insert it


def _contacts_by_client(
    contacts: Iterable[Contact], client_by_id: dict[str, Client]
) -> dict[str, list[Contact]]:
    grouped: dict[str, list[Contact]] = defaultdict(list)
    for contact in contacts:
        if contact.client_external_id in client_by_id:
            grouped[contact.client_external_id].append(contact)
    for group in grouped.values():
        # Users first: "the org's best contact" is a user of ConsultantPlus, then the lowest id.
        group.sort(key=lambda k: (not k.is_user, k.external_id, k.full_name))
    return dict(grouped)


def _summaries(summaries: Iterable[ContactSummary]) -> dict[str, ContactSummary]:
    found: dict[str, ContactSummary] = {}
    for summary in summaries:
        known = found.get(summary.contact_external_id)
        # Duplicates are a loader bug; the same one wins whatever the input order.
        if known is None or _summary_key(summary) > _summary_key(known):
            found[summary.contact_external_id] = summary
    return found


def _org_last_contact(
    summaries: dict[str, ContactSummary], contact_by_id: dict[str, Contact]
) -> dict[str, date]:
    last: dict[str, date] = {}
    for contact_id, summary in summaries.items():
        contact = contact_by_id.get(contact_id)
        if contact is None or summary.last_contact_on is None:
            continue
        org = contact.client_external_id
        if org not in last or summary.last_contact_on > last[org]:
            last[org] = summary.last_contact_on
    return last


def _split_existing(
    day: date,
    existing: Iterable[ExistingItem],
    expert_by_login: dict[str, Expert],
    contact_by_id: dict[str, Contact],
) -> tuple[dict[str, list[ExistingItem]], list[ExistingItem]]:
    """Today's items per Expert, and earlier unfinished items to roll into today."""
    today: dict[str, list[ExistingItem]] = defaultdict(list)
    rolled: list[ExistingItem] = []
    for item in sorted(existing, key=lambda i: (i.slot, i.contact_external_id, i.public_id)):
        expert = expert_by_login.get(item.expert_login)
        # An item's day is the date of its slot where its Expert works.
        item_day = item.slot.astimezone(zone(expert.timezone)).date() if expert else item.slot.date()
        if item_day == day:
            today[item.expert_login].append(item)
        elif (
            item_day < day
            and item.state == PlanState.ROLLED_OVER
            and item.contact_external_id in contact_by_id
        ):
            rolled.append(item)
    return dict(today), rolled


def _summary_key(s: ContactSummary) -> tuple[date, int, str, str]:
    return (
        s.last_contact_on or date.min,
        s.attempts_since_contact,
        s.last_result or "",
        s.last_comment or "",
    )


def _signal_key(s: Signal) -> tuple[str, date, str, str, str]:
    return (s.client_external_id, s.occurred_on, s.contact_external_id or "", s.kind.value, s.note)
