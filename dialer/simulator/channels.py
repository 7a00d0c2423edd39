"""Live channels as the PBX would list them (CoreShowChannels, CoreCurrentCalls), kept from emitted events. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from dialer.simulator.events import OutEvent
from dialer.simulator.frames import Headers

SNAPSHOT_KEYS = (
    "Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName", "ConnectedLineNum",
    "ConnectedLineName", "Language", "AccountCode", "Context", "Exten", "Priority", "Uniqueid", "Linkedid",
)


@dataclass(slots=True, eq=False)
class LiveChannel:
    """A channel that is up. Its fields are read from the last event that carried its snapshot,
    only when someone asks (CoreShowChannels, Hangup, ChanSpy): emitting stays cheap."""

    uniqueid: str
    created: float
    owner: object  # the call (or ChanSpy session) that created it
    source: tuple[OutEvent, str]  # the latest event with its snapshot, and the snapshot's prefix
    exten_event: OutEvent | None = None  # the latest Newexten: Application / AppData
    bridge_event: OutEvent | None = None  # the BridgeEnter while it is in a bridge
    app_override: tuple[str, str] | None = None  # an application run without a Newexten (ChanSpy)
    variables: dict[str, str] = field(default_factory=dict)  # from its VarSets, for Status AllVariables
    _snapshot: dict[str, str] | None = field(default=None, repr=False)
    _snapshot_of: OutEvent | None = field(default=None, repr=False)

    @property
    def snapshot(self) -> dict[str, str]:
        event, prefix = self.source
        if self._snapshot is None or self._snapshot_of is not event:
            d = dict(event.headers)
            self._snapshot = {key: d.get(prefix + key, "") for key in SNAPSHOT_KEYS}
            self._snapshot_of = event
        return self._snapshot

    @property
    def name(self) -> str:
        return self.snapshot["Channel"]

    @property
    def application(self) -> tuple[str, str]:
        if self.app_override is not None:
            return self.app_override
        if self.exten_event is None:
            return "", ""
        d = dict(self.exten_event.headers)
        return d.get("Application", ""), d.get("AppData", "")

    @property
    def bridge_id(self) -> str:
        return "" if self.bridge_event is None else dict(self.bridge_event.headers).get("BridgeUniqueid", "")

    def headers(self, prefix: str = "") -> Headers:
        """The channel snapshot as Asterisk prints it, optionally prefixed (Dest…, Spyer…, Spyee…)."""
        snapshot = self.snapshot
        return [(prefix + key, snapshot[key]) for key in SNAPSHOT_KEYS]


@dataclass(slots=True)
class ChannelTable:
    _live: dict[str, LiveChannel] = field(default_factory=dict)  # Uniqueid → channel, in creation order
    _dead: dict[str, object] = field(default_factory=dict)  # hung-up Uniqueid → owner, until the owner ends

    def observe(self, event: OutEvent, owner: object) -> None:
        """Update from one emitted event: snapshots, application, bridge, hangup."""
        for prefix, uid in event.refs:
            if uid in self._dead:
                continue
            channel = self._live.get(uid)
            if channel is None:
                self._live[uid] = LiveChannel(uid, event.ts, owner, (event, prefix))
            else:
                channel.source = (event, prefix)
        if not event.refs or event.refs[0][0] != "":
            return
        channel = self._live.get(event.refs[0][1])
        if channel is None:
            return
        name = event.name
        if name == "Newexten":
            channel.exten_event = event
        elif name == "BridgeEnter":
            channel.bridge_event = event
        elif name == "BridgeLeave":
            channel.bridge_event = None
        elif name == "VarSet":
            d = dict(event.headers)
            channel.variables[d.get("Variable", "")] = d.get("Value", "")
        elif name == "Hangup":
            del self._live[channel.uniqueid]
            self._dead[channel.uniqueid] = owner

    def set_application(self, uid: str, application: str, data: str) -> None:
        channel = self._live.get(uid)
        if channel is not None:
            channel.app_override = (application, data)

    def channels(self) -> list[LiveChannel]:
        return list(self._live.values())

    def by_name(self, name: str) -> LiveChannel | None:
        return next((c for c in self._live.values() if c.name == name), None)

    def by_uniqueid(self, uid: str) -> LiveChannel | None:
        return self._live.get(uid)

    def forget(self, owner: object) -> None:
        """Drop every channel of an ended (or killed) call: it will send nothing more."""
        for uid in [u for u, c in self._live.items() if c.owner is owner]:
            del self._live[uid]
        for uid in [u for u, o in self._dead.items() if o is owner]:
            del self._dead[uid]

    def clear(self) -> None:
        self._live.clear()
        self._dead.clear()

    def __len__(self) -> int:
        return len(self._live)


def core_show_channel(channel: LiveChannel, now: float, action_id: str | None) -> Headers:
    """One `Event: CoreShowChannel` list item, shaped like status-probe.ami (no Privilege header)."""
    headers: Headers = [("Event", "CoreShowChannel")]
    if action_id is not None:
        headers.append(("ActionID", action_id))
    application, data = channel.application
    headers += channel.headers()
    headers += [
        ("Application", application),
        ("ApplicationData", data),
        ("Duration", format_duration(now - channel.created)),
        ("BridgeId", channel.bridge_id),
    ]
    return headers


def format_duration(seconds: float) -> str:
    total = max(0, int(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def status_item(channel: LiveChannel, now: float, action_id: str | None, all_variables: bool) -> Headers:
    """One `Event: Status` list item, shaped like status-probe.ami (Local channels, slin)."""
    snapshot = channel.snapshot
    application, data = channel.application
    headers: Headers = [("Event", "Status"), ("Privilege", "Call")]
    headers += channel.headers()
    headers += [
        ("Type", snapshot["Channel"].partition("/")[0]), ("DNID", ""),
        ("EffectiveConnectedLineNum", snapshot["ConnectedLineNum"]),
        ("EffectiveConnectedLineName", snapshot["ConnectedLineName"]),
        ("TimeToHangup", "0"), ("BridgeID", channel.bridge_id), ("Application", application), ("Data", data),
        ("Nativeformats", "(slin)"), ("Readformat", "slin"), ("Readtrans", ""), ("Writeformat", "slin"),
        ("Writetrans", ""), ("Callgroup", "0"), ("Pickupgroup", "0"),
        ("Seconds", str(max(0, int(now - channel.created)))),
    ]
    if all_variables:
        headers += [("Variable", f"{name}={value}") for name, value in channel.variables.items() if name]
    if action_id is not None:
        headers.append(("ActionID", action_id))
    return headers
