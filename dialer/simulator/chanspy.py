"""A supervisor's ChanSpy call: `Originate Application: ChanSpy` to the supervisor's phone."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Mapping
from typing import Protocol

from dialer.simulator.channels import ChannelTable, LiveChannel
from dialer.simulator.config import CallPlan, Scenario
from dialer.simulator.core import SimClock
from dialer.simulator.events import OutEvent
from dialer.simulator.frames import Headers
from dialer.simulator.render import CallIds, CallParams, CallRenderer, format_seconds
from dialer.simulator.templates import CallTemplate
from dialer.simulator.timeline import TimeMap, plan_starts

POLL_REAL_S = 0.02  # how often a waiting ChanSpy looks for its channel (real seconds)
_TECH_EXT_RE = re.compile(r"^[A-Za-z0-9_]+/([^@/,;-]+)$")


class SpyHost(Protocol):
    clock: SimClock
    templates: Mapping[Scenario, CallTemplate]
    channels: ChannelTable

    def emit(self, event: OutEvent, owner: object) -> None: ...

    def spy_ended(self, spy: SpySession) -> None: ...


def pick_spyee(channels: list[LiveChannel], prefix: str, spy: object) -> LiveChannel | None:
    """The channel ChanSpy would pick: name starts with the prefix (Local `;1` legs first).

    `PJSIP/101` style prefixes also match the lab's `Local/101@ds-agents-…` Expert channels.
    """
    candidates = [c for c in channels if c.owner is not spy and not isinstance(c.owner, SpySession)]
    found = [c for c in candidates if c.name.startswith(prefix)]
    ext = _TECH_EXT_RE.match(prefix)
    if not found and ext:
        found = [c for c in candidates if c.name.startswith(f"Local/{ext[1]}@ds-agents-")]
    found.sort(key=lambda c: not c.name.endswith(";1"))
    return found[0] if found else None


class SpySession:
    """The supervisor's Local channel pair: rings, answers, runs ChanSpy until told to stop."""

    def __init__(self, host: SpyHost, params: CallParams, ids: CallIds, data: str, ring_s: float) -> None:
        self.host = host
        self.params = params
        self.ids = ids
        self.data = data
        self.target, _, self.options = data.partition(",")
        self.ring_s = ring_s
        self.finished = False
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.linkedid = ids.uid("agent1", host.clock.now())

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"sim-chanspy-{self.linkedid}")

    def hang_up(self) -> bool:
        self._stop.set()
        return True

    def kill(self) -> None:
        self.finished = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self.host.spy_ended(self)

    async def _run(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            template = self.host.templates[Scenario.ANSWERED]
            starts = plan_starts(template, CallPlan(Scenario.ANSWERED, self.ring_s, 1.0, 1.0), self.host.clock.now())
            times = TimeMap(template.starts, template.ends, starts)
            renderer = CallRenderer(self.params, self.ids)
            self._emit_rendered(renderer.burst(template, 0, starts[0], times))
            if not await self._stopped_within(self.host.clock.real_delay(starts[1])):
                self._emit_rendered(self._answer(renderer.burst(template, 1, starts[1], times)))
                self._emit(self._app_event("APP_START"))
                await self._spy_loop()
                self._emit(self._app_event("APP_END"))
            self._teardown()
            self.finished = True
            self.host.spy_ended(self)

    def _answer(self, burst: list[OutEvent]) -> list[OutEvent]:
        """Burst 1 of the answered capture up to the OriginateResponse, which names the application."""
        out = []
        for event in burst:
            if event.name == "OriginateResponse":
                out.append(OutEvent.from_headers(self._app_originate_response(event.headers), event.ts))
                break
            out.append(event)
        return out

    def _app_originate_response(self, headers: Headers) -> Headers:
        out: Headers = []
        for key, value in headers:
            if key == "Context":
                out.append(("Application", "ChanSpy"))
            elif key == "Exten":
                out.append(("Data", self.data))
            else:
                out.append((key, value))
        return out

    async def _spy_loop(self) -> None:
        while not self._stop.is_set():
            spyee = pick_spyee(self.host.channels.channels(), self.target, self)
            if spyee is None:
                await self._stopped_within(POLL_REAL_S)
                continue
            self._emit(self._spy_event("ChanSpyStart", spyee))
            while not self._stop.is_set() and self.host.channels.by_uniqueid(spyee.uniqueid) is not None:
                await self._stopped_within(POLL_REAL_S)
            self._emit(self._spy_event("ChanSpyStop", spyee))
            if "E" in self.options:  # E: exit when the spied-on channel hangs up
                return

    async def _stopped_within(self, real_seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=max(real_seconds, 0.0))
        except TimeoutError:
            return False
        return True

    def _own(self, leg: str) -> LiveChannel | None:
        uid = self.ids.uids.get("agent" + leg)
        return None if uid is None else self.host.channels.by_uniqueid(uid)

    def _spy_event(self, name: str, spyee: LiveChannel) -> Headers:
        spyer = self._own("1")
        headers = self._head(name)
        headers += spyer.headers("Spyer") if spyer else []
        return headers + spyee.headers("Spyee")

    def _app_event(self, cel_name: str) -> Headers:
        channel = self._own("1")
        if channel is not None:
            self.host.channels.set_application(channel.uniqueid, "ChanSpy", self.data)
        return self._cel(cel_name, channel, "ChanSpy", self.data)

    def _teardown(self) -> None:
        """The application returned: both Local legs hang up with Normal Clearing."""
        one, two = self._own("1"), self._own("2")
        if two is not None:
            self._emit(self._snapshot_event("HangupRequest", two, [("Cause", "16")]))
        if one is not None:
            self._emit(self._cel("HANGUP", one, "", "", '{"hangupcause":16,"hangupsource":"","dialstatus":""}'))
            self._emit(self._cel("CHAN_END", one, "", ""))
            self._emit(self._snapshot_event("Hangup", one, [("Cause", "16"), ("Cause-txt", "Normal Clearing")]))
        if two is not None:
            self._emit(self._snapshot_event("SoftHangupRequest", two, [("Cause", "16")]))
            self._emit(self._snapshot_event("Hangup", two, [("Cause", "16"), ("Cause-txt", "Normal Clearing")]))
            self._emit(self._cel("HANGUP", two, "", "", '{"hangupcause":16,"hangupsource":"","dialstatus":""}'))
            self._emit(self._cel("CHAN_END", two, "", ""))
            self._emit(self._cel("LINKEDID_END", two, "", ""))
        device = [("Device", f"Local/{self.params.ext}@ds-agents"), ("State", "NOT_INUSE")]
        self._emit(self._head("DeviceStateChange") + device)

    def _head(self, name: str) -> Headers:
        return [("Event", name), ("Privilege", "call,all"), ("Timestamp", f"{self.host.clock.now():.6f}")]

    def _snapshot_event(self, name: str, channel: LiveChannel, extra: Headers) -> Headers:
        return self._head(name) + channel.headers() + extra

    def _cel(self, event_name: str, channel: LiveChannel | None, app: str, data: str, extra: str = "") -> Headers:
        snap = channel.snapshot if channel is not None else {}
        num = snap.get("CallerIDNum", "")
        num = "" if num == "<unknown>" else num
        name = snap.get("CallerIDName", "")
        name = "" if name == "<unknown>" else name
        now = self.host.clock.now()
        return self._head("CEL") + [
            ("EventName", event_name), ("AccountCode", ""), ("CallerIDnum", num), ("CallerIDname", name),
            ("CallerIDani", num), ("CallerIDrdnis", ""), ("CallerIDdnid", ""), ("Exten", snap.get("Exten", "")),
            ("Context", snap.get("Context", "")), ("Channel", snap.get("Channel", "")), ("Application", app),
            ("AppData", data), ("EventTime", format_seconds(now)), ("AMAFlags", "DOCUMENTATION"),
            ("UniqueID", snap.get("Uniqueid", "")), ("LinkedID", snap.get("Linkedid", "")), ("Userfield", ""),
            ("Peer", ""), ("PeerAccount", ""), ("Extra", extra),
        ]

    def _emit(self, headers: Headers) -> None:
        self.host.emit(OutEvent.from_headers(headers, self.host.clock.now()), self)

    def _emit_rendered(self, events: list[OutEvent]) -> None:
        for event in events:
            self.host.emit(event, self)
