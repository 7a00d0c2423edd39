"""Fill a template burst for one call: fresh ids and channel names, its people, simulated times. Pure."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from dialer.simulator.events import OutEvent
from dialer.simulator.templates import Burst, CallTemplate, Slot, TemplateEvent
from dialer.simulator.timeline import TimeMap


class IdSource(Protocol):
    """The PBX-wide counters: Asterisk numbers channels and Local pairs across all calls."""

    def uniqueid(self, at: float) -> str: ...

    def local_suffix(self) -> str: ...

    def bridge_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class CallParams:
    """Who and what one call is about; `name` is the Expert's caller name (outbound) or the client's (inbound)."""

    ext: str
    number: str
    name: str = ""
    cid_num: str = ""
    variables: tuple[tuple[str, str], ...] = ()
    action_id: str | None = None
    requested_channel: str = ""
    dial_timeout: int = 25
    monitor_dir: str = "/var/spool/asterisk/monitor/"

    def variable(self, name: str) -> str:
        for key, value in self.variables:
            if key == name:
                return value
        return ""


@dataclass(slots=True)
class CallIds:
    """Ids of one call, taken from the PBX counters when a channel/bridge first appears (as Asterisk does)."""

    source: IdSource
    uids: dict[str, str] = field(default_factory=dict)  # role (agent1, client2, pstn1…) → Uniqueid
    suffixes: dict[str, str] = field(default_factory=dict)  # pair kind → "-0000001a"
    bridge: str | None = None

    def uid(self, role: str, at: float) -> str:
        if role not in self.uids:
            self.uids[role] = self.source.uniqueid(at)
        return self.uids[role]

    def suffix(self, pair: str) -> str:
        if pair not in self.suffixes:
            self.suffixes[pair] = self.source.local_suffix()
        return self.suffixes[pair]

    def bridge_id(self) -> str:
        if self.bridge is None:
            self.bridge = self.source.bridge_id()
        return self.bridge


class CallRenderer:
    """Renders a call's template events; what is fixed for the call is worked out once and cached."""

    __slots__ = ("params", "ids", "_cache", "_ts", "_times", "_override")

    def __init__(self, params: CallParams, ids: CallIds) -> None:
        self.params = params
        self.ids = ids
        self._cache: dict[Slot, str] = {}
        self._ts = 0.0
        self._times: TimeMap | None = None
        self._override: tuple[str, str] = ("", "")

    def burst(self, template: CallTemplate, index: int, new_start: float, times: TimeMap) -> list[OutEvent]:
        """Every event of burst `index`, played at `new_start`."""
        burst = template.bursts[index]
        self._times = times
        out = []
        for event, override in _expand_variables(burst, self.params):
            self._ts = new_start + (event.ts - burst.start)
            self._override = override or ("", "")
            out.append(self._event(event))
        return out

    def _event(self, event: TemplateEvent) -> OutEvent:
        text = "".join([p if isinstance(p, str) else self._resolve(p) for p in event.frame])
        refs = tuple((prefix, self.ids.uid(role, self._ts)) for prefix, role in event.refs)
        return OutEvent(event.name, self._ts, text, event.classes, refs, event.truth)

    def _resolve(self, slot: Slot) -> str:
        cached = self._cache.get(slot)
        if cached is not None:
            return cached
        if slot.timed:
            return self._timed(slot)
        value = self._fixed(slot)
        self._cache[slot] = value
        return value

    def _fixed(self, slot: Slot) -> str:
        kind, params = slot.kind, self.params
        if kind in _SIMPLE:
            return _SIMPLE[kind](params)
        if kind == "uid":
            return self.ids.uid(str(slot.arg), self._ts)
        if kind == "suffix":
            return self.ids.suffix(str(slot.arg))
        if kind == "bridge":
            return self.ids.bridge_id()
        if kind == "var":
            return params.variable(str(slot.arg))
        if kind == "clid":  # Asterisk's ast_callerid_merge: a number alone has no quotes or brackets
            number = _SIMPLE[str(slot.arg)](params)
            return f'"{params.name}" <{number}>' if params.name else number
        if kind == "action_id_line":
            return "" if params.action_id is None else f"ActionID: {params.action_id}\r\n"
        raise ValueError(f"unknown template slot {kind!r}")

    def _timed(self, slot: Slot) -> str:
        kind, ts, times = slot.kind, self._ts, self._times
        assert times is not None
        if kind == "ts":
            return f"{ts:.6f}"
        if kind == "eventtime":
            return format_seconds(ts)
        if kind == "ovar_variable":
            return self._override[0]
        if kind == "ovar_value":
            return self._override[1]
        if kind == "at":
            return format_seconds(times(float(slot.arg)))  # type: ignore[arg-type]  # timed slots carry args
        if kind == "span":
            return str(max(0, int(times(float(slot.arg2)) - times(float(slot.arg)))))  # type: ignore[arg-type]  # timed slots carry args
        if kind == "elapsed":
            millis = max(0, int((ts - times(float(slot.arg2))) * 1000))  # type: ignore[arg-type]  # timed slots carry args
            return str(millis if slot.arg == "ms" else millis // 1000)
        raise ValueError(f"unknown template slot {kind!r}")


def _expand_variables(burst: Burst, params: CallParams) -> Iterator[tuple[TemplateEvent, tuple[str, str] | None]]:
    """Replace the capture's PLANNED_CALL_ID/CLIENT_ID VarSets with this Originate's variables.

    Asterisk sets them on the `;1` Local channel in reverse order and on `;2` in order.
    """
    events = burst.events
    i = 0
    while i < len(events):
        role = events[i].var_role
        if role is None:
            yield events[i], None
            i += 1
            continue
        group = []
        while i < len(events) and events[i].var_role == role:
            group.append(events[i])
            i += 1
        ordered = reversed(params.variables) if role.endswith("1") else iter(params.variables)
        for n, pair in enumerate(ordered):
            yield group[min(n, len(group) - 1)], pair


_SIMPLE: dict[str, Callable[[CallParams], str]] = {
    "ext": lambda p: p.ext,
    "cid_num": lambda p: p.cid_num or p.ext,
    "number": lambda p: p.number,
    "name": lambda p: p.name,
    "name_snap": lambda p: p.name or "<unknown>",
    "monitor_dir": lambda p: p.monitor_dir,
    "dial_timeout": lambda p: str(p.dial_timeout),
    "action_id": lambda p: p.action_id or "",
    "requested_channel": lambda p: p.requested_channel or f"Local/{p.ext}@ds-agents",
}


def format_seconds(t: float) -> str:
    """CEL EventTime and CDR times: whole seconds, UTC (the lab PBX ran in UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
