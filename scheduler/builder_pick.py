"""One Expert's day: which contacts get a call, which roll over, and at what time.

Order of work: promised callbacks take their fixed times; the rest of the grid is what is free;
owed and due calls are taken in rank order up to the maximum (what does not fit is deferred);
then the organisations closest to their cadence fill the day up to the target; finally the
chosen calls are spread over the free slots inside every contact's call window. The campaign for
ДС adds its owed calls to the Expert's own, for its clients outside her portfolio too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from scheduler.builder_reasons import ClientHits, Hit, Scope, campaign_hits, client_hits, fill_hit, transition_hit
from scheduler.builder_slots import DayGrid, SlotBook, SlotMatcher, free_grid, spread
from scheduler.inputs import Client, Contact, Expert
from scheduler.model import PlanState

_NOT_COUNTED = frozenset({PlanState.CANCELLED, PlanState.ROLLED_OVER})


@dataclass(slots=True)
class Candidate:
    """A contact that may be called today, with every reason found for it."""

    client: Client
    contact: Contact
    hits: list[Hit]
    fixed_slot: datetime | None = None  # a promised callback
    avoid_morning: bool | None = None  # a retry: True after a morning miss, False after an afternoon one

    def key(self) -> tuple[int, date, str, str]:
        """Rank, then the oldest reason of that rank, then ids: the order of taking."""
        tier = min(h.tier for h in self.hits)
        since = min(h.since for h in self.hits if h.tier == tier)
        return (tier, since, self.client.external_id, self.contact.external_id)


@dataclass(slots=True)
class Picked:
    placed: list[tuple[Candidate, datetime]]
    deferred: list[Candidate]
    total: int  # calls for the day: the existing ones that count plus the placed ones
    aim: int
    short_of_time: bool  # something due or a fill did not fit the free slots
    unreachable: int  # organisations with nobody callable inside working hours


@dataclass(slots=True)
class ExpertDay:
    scope: Scope
    expert: Expert
    book: SlotBook
    now: datetime
    grid: DayGrid = field(init=False)
    clients: Sequence[Client] = field(init=False)  # her portfolio
    calling: list[Client] = field(init=False)  # the portfolio and the campaign's clients outside it
    aim: int = field(init=False)
    ceiling: int = field(init=False)
    count: int = field(init=False)
    taken_times: list[datetime] = field(init=False)
    by_org: dict[str, list[Candidate]] = field(default_factory=dict)
    by_contact: dict[str, Candidate] = field(default_factory=dict)
    fixed: list[tuple[Candidate, datetime]] = field(default_factory=list)
    flexible: list[tuple[Candidate, list[int]]] = field(default_factory=list)
    deferred: list[Candidate] = field(default_factory=list)
    matcher: SlotMatcher = field(default_factory=SlotMatcher)
    short_of_time: bool = False
    unreachable: set[str] = field(default_factory=set)  # orgs nobody of which is callable today

    def __post_init__(self) -> None:
        rules, index = self.scope.rules, self.scope.index
        self.clients = index.clients_by_expert.get(self.expert.login, ())
        own = {c.external_id for c in self.clients}
        campaign = index.transitions_by_expert.get(self.expert.login, ())
        self.calling = [*self.clients, *(index.client_by_id[t.client_external_id] for t in campaign
                                          if t.client_external_id not in own)]
        live = [i for i in index.existing_by_expert.get(self.expert.login, ()) if i.state not in _NOT_COUNTED]
        self.aim = self.expert.daily_target or rules.target_min
        self.ceiling = max(self.aim, rules.target_max)
        self.count = len(live)  # existing items count towards the target: a rebuild tops up
        self.taken_times = [i.slot for i in live]

    def run(self) -> Picked:
        hits = {c.external_id: client_hits(self.scope, c) for c in self.clients}
        self._campaign(hits)
        self._owed(hits)
        self._take_fixed()
        self.grid = free_grid(
            self.scope.day, self.expert.timezone, self.scope.rules, self.taken_times, self.now
        )
        self._retarget_unreachable()
        self._merge_org_hits(hits)
        self._take_in_order()
        self._fill()
        seats = spread([allowed for _, allowed in self.flexible], len(self.grid.slots))
        placed = [(c, self.grid.slots[s]) for (c, _), s in zip(self.flexible, seats, strict=True)]
        return Picked(
            placed + self.fixed,
            self.deferred,
            self.count,
            self.aim,
            self.short_of_time,
            len(self.unreachable),
        )

    # -- candidates ---------------------------------------------------------------------------

    def _busy(self, contact_id: str) -> bool:
        return contact_id in self.scope.index.busy_contacts

    def _add(self, candidate: Candidate) -> Candidate:
        self.by_contact[candidate.contact.external_id] = candidate
        self.by_org.setdefault(candidate.client.external_id, []).append(candidate)
        return candidate

    def _campaign(self, hits: dict[str, ClientHits]) -> None:
        """The campaign for ДС: its call is owed like a signal, to the organisation as a whole."""
        index, login = self.scope.index, self.expert.login
        for transition in index.transitions_by_expert.get(login, ()):
            cid = transition.client_external_id
            if cid not in hits:  # outside her portfolio: only what the campaign made hers
                hits[cid] = campaign_hits(self.scope, index.client_by_id[cid], login)
            hit = transition_hit(self.scope, transition)
            if hit is not None:
                hits[cid].org.append(hit)

    def _owed(self, hits: dict[str, ClientHits]) -> None:
        """One candidate per contact something is owed to (each contact at most once a day)."""
        index = self.scope.index
        for client in self.calling:
            found = hits[client.external_id]
            for contact_id in sorted(found.by_contact):
                if self._busy(contact_id):
                    continue  # already on today's list: a rebuild never plans it twice
                self._add(
                    Candidate(
                        client,
                        index.contact_by_id[contact_id],
                        found.by_contact[contact_id],
                        found.callback_at.get(contact_id),
                        found.avoid_morning.get(contact_id),
                    )
                )

    def _take_fixed(self) -> None:
        promised = sorted(
            (c for c in self.by_contact.values() if c.fixed_slot is not None),
            key=lambda c: (c.fixed_slot, c.client.external_id, c.contact.external_id),
        )
        exact = set(self.taken_times)
        for candidate in promised:
            if self.count >= self.ceiling:
                self.deferred.append(candidate)
                continue
            slot = candidate.fixed_slot
            assert slot is not None
            while slot in exact:  # two promises for one minute: the later (by id) moves on
                slot += self.scope.rules.slot_length
            exact.add(slot)
            self.taken_times.append(slot)
            self.fixed.append((candidate, slot))
            self.count += 1

    def _allowed(self, client: Client, contact: Contact, avoid_morning: bool | None = None) -> list[int]:
        window = self.book.window(self.expert.timezone, client.timezone, contact.call_from, contact.call_to)
        allowed = self.grid.inside(window)
        if avoid_morning is not None:
            other_half = [i for i in allowed if self.grid.is_morning(i) != avoid_morning]
            if other_half:  # else any time inside the window is better than no retry at all
                return other_half
        return allowed

    def _callable(self, client: Client, prefer: Sequence[str] = ()) -> Contact | None:
        """The org's best contact callable today: those the reasons name, then users, then id."""
        contacts = self.scope.index.contacts_by_client.get(client.external_id, ())
        ordered = [k for k in contacts if k.external_id in prefer] + [
            k for k in contacts if k.external_id not in prefer
        ]
        for contact in ordered:
            if not self._busy(contact.external_id) and self._allowed(client, contact):
                return contact
        return None

    def _retarget_unreachable(self) -> None:
        """A person whose window is outside working hours: the org's next callable contact."""
        for candidate in sorted(self.by_contact.values(), key=Candidate.key):
            if candidate.fixed_slot is not None or self._allowed(candidate.client, candidate.contact):
                continue
            self._drop(candidate)
            other = self._callable(candidate.client)
            if other is None:
                self.unreachable.add(candidate.client.external_id)
            elif other.external_id in self.by_contact:
                self.by_contact[other.external_id].hits.extend(candidate.hits)
            else:
                self._add(Candidate(candidate.client, other, list(candidate.hits)))

    def _drop(self, candidate: Candidate) -> None:
        del self.by_contact[candidate.contact.external_id]
        self.by_org[candidate.client.external_id].remove(candidate)

    def _merge_org_hits(self, hits: dict[str, ClientHits]) -> None:
        """Due reasons go to the org's one call today: an owed one if there is, else a new one."""
        for client in self.calling:
            org_hits = hits[client.external_id].org
            if not org_hits or client.external_id in self.scope.index.busy_orgs:
                continue
            owed = self.by_org.get(client.external_id)
            if owed:
                min(owed, key=Candidate.key).hits.extend(org_hits)
                continue
            contact = self._callable(client, prefer=[h.subject for h in org_hits if h.subject])
            if contact is None:
                self.unreachable.add(client.external_id)
            else:
                self._add(Candidate(client, contact, list(org_hits)))

    # -- taking -------------------------------------------------------------------------------

    def _take_in_order(self) -> None:
        for candidate in sorted(
            (c for c in self.by_contact.values() if c.fixed_slot is None), key=Candidate.key
        ):
            if self.count >= self.ceiling:
                self.deferred.append(candidate)
            elif not self._try_take(candidate):
                self.deferred.append(candidate)
                self.short_of_time = True

    def _try_take(self, candidate: Candidate) -> bool:
        allowed = self._allowed(candidate.client, candidate.contact, candidate.avoid_morning)
        if not allowed or not self.matcher.try_add(allowed):
            return False
        self.flexible.append((candidate, allowed))
        self.count += 1
        return True

    def _fill(self) -> None:
        """Up to the target with the organisations closest to due (none is due yet)."""
        if self.count >= self.aim:
            return
        last_contact = self.scope.index.org_last_contact
        busy_orgs = self.scope.index.busy_orgs
        pool = sorted(
            (
                (fill_hit(self.scope, c, last_contact[c.external_id]), c)
                for c in self.clients
                if c.external_id in last_contact
                and c.external_id not in self.by_org
                and c.external_id not in busy_orgs
                and c.external_id not in self.unreachable
            ),
            key=lambda pair: (pair[0].since, pair[1].external_id),  # the soonest due first
        )
        for hit, client in pool:
            if self.count >= self.aim:
                return
            if len(self.matcher) >= len(self.grid.slots):
                self.short_of_time = True
                return
            contact = self._callable(client)
            if contact is None:
                self.unreachable.add(client.external_id)
            elif not self._try_take(self._add(Candidate(client, contact, [hit]))):
                self.short_of_time = True
