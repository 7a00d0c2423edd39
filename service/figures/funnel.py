"""The move to ДС in figures (issue 15, item 5): the campaign's funnel and the ДС portfolio. Pure.

The funnel counts clients, not rows: a client reached a stage in the period when a step to that
status was recorded in it (service/db/models_selection.py `client_transitions`, append-only). By
Expert: the campaign's Expert of the step. Conversion is moved ÷ offered: of the clients offered the
move in the period, how many moved in it. The portfolio is the presentation's picture of ДС today:
clients on ДС, of them on the online version, their users, those using services, on prepayment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from service.figures.model import ExpertInfo

STAGES = ("candidate", "offered", "agreed", "moved", "declined", "postponed")


@dataclass(frozen=True, slots=True)
class Step:
    """One recorded step of a client's move (only what the funnel needs)."""

    client_id: int
    status: str
    expert_id: int | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class Funnel:
    """Clients per stage reached in the period, refusals by reason, and the conversion."""

    expert: ExpertInfo | None  # None: the whole scope
    reached: dict[str, int]
    declined_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def conversion(self) -> float | None:
        offered = self.reached.get("offered", 0)
        return None if offered == 0 else self.reached.get("moved", 0) / offered


def funnel(steps: Iterable[Step], expert: ExpertInfo | None = None) -> Funnel:
    """The funnel of `steps` (one scope's, one period's)."""
    seen: dict[str, set[int]] = {stage: set() for stage in STAGES}
    reasons: Counter[str] = Counter()
    declined: set[int] = set()
    for step in steps:
        if step.status in seen:
            seen[step.status].add(step.client_id)
        if step.status == "declined" and step.client_id not in declined:
            declined.add(step.client_id)
            reasons[step.reason or "причина не указана"] += 1
    return Funnel(expert, {stage: len(clients) for stage, clients in seen.items()},
                  dict(reasons.most_common()))


def funnels_by_expert(steps: Sequence[Step], experts: Sequence[ExpertInfo]) -> list[Funnel]:
    """One funnel per Expert of the scope who had a step in the period, in the experts' order."""
    return [funnel((s for s in steps if s.expert_id == e.id), e) for e in experts
            if any(s.expert_id == e.id for s in steps)]


@dataclass(frozen=True, slots=True)
class Portfolio:
    """ДС now (the presentation's «91 клиент на ДС, из них 74 онлайн (81%)»)."""

    clients: int = 0
    online: int = 0
    users: int = 0
    with_services: int = 0
    prepaid: int = 0

    @property
    def online_share(self) -> float | None:
        return None if self.clients == 0 else self.online / self.clients
