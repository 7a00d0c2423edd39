"""«Что работает»: per Expert and per script step, where calls spend their time and where the client is lost.
Pure: it reads one row per logged call (the call, its steps' times, its wrap-up) and counts.

Definitions (docs/coaching.md):
- a call *reaches* a step when the Expert moved to it during the call;
- time in a step: the mean over the calls that reached it of the seconds spent in it (a step entered twice
  counts both times, added up);
- reached the login step: calls that reached any step marked «попросить зайти в систему»; of those, logged in:
  the client logged in during the call — measured where the usage data covers the call, else as ticked
  (SPEC-NOTES: share with login);
- productive duration: the mean PBX talk time of those calls marked productive.
A call whose times the product inferred (a gap in the PBX link) is left out and counted apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from service.coaching.step_times import StepTime


@dataclass(frozen=True, slots=True)
class LoggedCall:
    expert: str
    steps: Sequence[StepTime]
    talk_s: float
    productive: bool
    logged_in: bool
    guessed: bool = False


@dataclass(slots=True)
class StepFigure:
    calls: int = 0  # calls that reached the step
    seconds: float = 0.0

    @property
    def mean_s(self) -> float | None:
        return self.seconds / self.calls if self.calls else None


@dataclass(slots=True)
class ExpertFigures:
    expert: str
    calls: int = 0
    steps: dict[str, StepFigure] = field(default_factory=lambda: defaultdict(StepFigure))
    reached_login: int = 0
    logged_in: int = 0
    productive: int = 0
    productive_talk_s: float = 0.0

    def reach_share(self, key: str) -> float | None:
        return self.steps[key].calls / self.calls if self.calls and key in self.steps else (0.0 if self.calls else None)

    @property
    def login_reach_share(self) -> float | None:
        return self.reached_login / self.calls if self.calls else None

    @property
    def logged_in_share(self) -> float | None:
        return self.logged_in / self.reached_login if self.reached_login else None

    @property
    def productive_mean_s(self) -> float | None:
        return self.productive_talk_s / self.productive if self.productive else None


@dataclass(frozen=True, slots=True)
class WhatWorks:
    experts: list[ExpertFigures]  # by name
    total: ExpertFigures  # everyone's calls together
    guessed: int  # calls left out: their times were inferred


def what_works(calls: Iterable[LoggedCall], login_steps: frozenset[str]) -> WhatWorks:
    per_expert: dict[str, ExpertFigures] = {}
    total = ExpertFigures("Все")
    guessed = 0
    for call in calls:
        if call.guessed:
            guessed += 1
            continue
        for figures in (per_expert.setdefault(call.expert, ExpertFigures(call.expert)), total):
            _add(figures, call, login_steps)
    return WhatWorks(sorted(per_expert.values(), key=lambda f: f.expert), total, guessed)


def _add(figures: ExpertFigures, call: LoggedCall, login_steps: frozenset[str]) -> None:
    figures.calls += 1
    seconds: dict[str, float] = defaultdict(float)
    for step in call.steps:
        seconds[step.step_key] += step.seconds
    for key, spent in seconds.items():
        figures.steps[key].calls += 1
        figures.steps[key].seconds += spent
    if login_steps & seconds.keys():
        figures.reached_login += 1
        figures.logged_in += call.logged_in
    if call.productive:
        figures.productive += 1
        figures.productive_talk_s += call.talk_s
