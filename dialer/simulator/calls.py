"""One call playing out inside the simulated PBX: bursts of template events at their simulated times."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Protocol

from dialer.records import Direction, Outcome
from dialer.simulator.config import SCENARIO_HANGUP_BY, CallPlan, Scenario, SimulatorConfig
from dialer.simulator.core import SimClock
from dialer.simulator.events import OutEvent
from dialer.simulator.recording import pbx_recording_name, recording_seconds, write_recording
from dialer.simulator.render import CallIds, CallParams, CallRenderer
from dialer.simulator.templates import CallTemplate
from dialer.simulator.timeline import MIN_GAP_S, TimeMap, plan_starts
from dialer.simulator.truth import TruthRecord

# An AMI Hangup of the Expert's channel ends the call the way the capture of the matching
# phase ends: the Expert's phone still ringing, the client's ringing, or the talk.
HANGUP_TAILS: dict[tuple[Direction, str], Scenario] = {
    (Direction.OUTBOUND, "expert_ring"): Scenario.EXPERT_NO_ANSWER,
    (Direction.OUTBOUND, "client_ring"): Scenario.CANCELLED,
    (Direction.OUTBOUND, "talk"): Scenario.EXPERT_HANGS_UP,
    (Direction.INBOUND, "ring"): Scenario.INBOUND_MISSED,
    (Direction.INBOUND, "talk"): Scenario.INBOUND_ANSWERED,
}


class CallHost(Protocol):
    """What a call needs from the PBX around it."""

    clock: SimClock
    config: SimulatorConfig
    templates: Mapping[Scenario, CallTemplate]

    def emit(self, event: OutEvent, owner: object) -> None: ...

    def call_ended(self, call: CallRun) -> None: ...


class CallRun:
    """Plays a template's bursts; can be cut short by an AMI Hangup or killed by a PBX restart."""

    def __init__(self, host: CallHost, plan: CallPlan, params: CallParams, ids: CallIds, truth: TruthRecord) -> None:
        self.host = host
        self.plan = plan
        self.params = params
        self.ids = ids
        self.truth = truth
        self.template = host.templates[plan.scenario]
        self.renderer = CallRenderer(params, ids)
        self.starts = plan_starts(self.template, plan, host.clock.now())
        self.played = 0  # bursts already on the wire
        self.recording_from: float | None = None  # when MixMonitor started (its MIXMONITOR_FILENAME went out)
        self.finished = False
        self._hangup_cause_override = False
        self._task: asyncio.Task[None] | None = None

    @property
    def linkedid(self) -> str:
        return self.truth.linkedid

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"sim-call-{self.linkedid}")

    async def _run(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):  # cancelled: the canceller did the bookkeeping
            for index, start in enumerate(self.starts):
                await asyncio.sleep(self.host.clock.real_delay(start))
                self._play(self.template, index, start, self.starts)
            self._finish(self.plan.scenario.outcome, "pbx", SCENARIO_HANGUP_BY[self.plan.scenario])

    def _play(self, template: CallTemplate, index: int, start: float, starts: list[float]) -> None:
        times = TimeMap(template.starts, template.ends, starts)
        for event in self.renderer.burst(template, index, start, times):
            if self._hangup_cause_override and event.name in _CAUSE_EVENTS:
                event = _as_expert_hangup(event)
            self.truth.observe(event)
            if self.recording_from is None and self.truth.recording is not None:
                self.recording_from = event.ts
            self.host.emit(event, self)
        self.played = index + 1

    def hang_up(self) -> bool:
        """End the call now as if the Expert hung up (cause 16). False if it is not up (any more)."""
        if self.finished or self.played == 0 or self.played >= len(self.starts):
            return False
        self._cancel()
        phase = self.template.gaps[self.played - 1]
        tail = HANGUP_TAILS[(self.plan.scenario.direction, phase)]
        now = max(self.host.clock.now(), self.starts[self.played - 1] + MIN_GAP_S)
        self._hangup_cause_override = tail is Scenario.EXPERT_NO_ANSWER
        self._play(self.host.templates[tail], self.played, now, self.starts[: self.played] + [now])
        self._finish(tail.outcome, "hangup_action", "expert")
        return True

    def kill(self, reason: str) -> None:
        """The PBX died (or is stopping): the call is gone without a single further event."""
        if self.finished:
            return
        self._cancel()
        outcome = Outcome.ANSWERED if self.truth.answered_at is not None else None
        self._finish(outcome, reason, None, at=self.host.clock.now())

    def _cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _finish(self, outcome: Outcome | None, ended_by: str, hangup_by: str | None, at: float | None = None) -> None:
        self.finished = True
        self.truth.close(outcome, ended_by, hangup_by, at)
        self._write_recording()
        self.host.call_ended(self)

    def _write_recording(self) -> None:
        folder = self.host.config.recordings_dir
        if folder is None or self.truth.recording is None:
            return
        name = pbx_recording_name(self.truth.recording)
        ended = self.truth.ended_at.timestamp() if self.truth.ended_at is not None else None
        # docs/asterisk.md: ds-outbound's MixMonitor has `b` (only while bridged), an inbound call's has not.
        bridged_only = self.truth.direction is Direction.OUTBOUND
        length = recording_seconds(bridged_only, self.recording_from, ended, self.truth.talk_s)
        config = self.host.config
        # The demo load's Experts are on a call all day: their files stay short so a demo left running does not
        # fill the disk; a call a person places (any other extension) is recorded whole, for the comments on it.
        cap = min(DEMO_LOAD_CAP_S, config.recording_cap_s) if self.truth.expert_ext in config.demo_experts \
            else config.recording_cap_s
        self.truth.recording_file = write_recording(folder, name, length, self.truth.talk_s, cap)


DEMO_LOAD_CAP_S = 3.0

_CAUSE_EVENTS = frozenset({"Hangup", "HangupRequest", "SoftHangupRequest", "OriginateResponse"})


def _as_expert_hangup(event: OutEvent) -> OutEvent:
    """The not-answered tail, but ended by the Expert: Normal Clearing, Originate reason HANGUP (1)."""
    out = []
    for key, value in event.headers:
        if key == "Cause" and value == "19":
            value = "16"
        elif key == "Cause-txt" and value == "User alerting, no answer":
            value = "Normal Clearing"
        elif key == "Reason" and value == "3":
            value = "1"
        out.append((key, value))
    return OutEvent.from_headers(out, event.ts)
