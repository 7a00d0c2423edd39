"""An event as the PBX sends it: wire text plus what the PBX itself needs to know about it. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from dialer.simulator.frames import Headers, event_classes, format_frame, parse_headers

SNAPSHOT_PREFIXES = ("", "Dest", "LocalOne", "LocalTwo", "Spyer", "Spyee")


@dataclass(slots=True, eq=False)
class OutEvent:
    """Rendered once, offered to every session; headers are parsed only when someone asks."""

    name: str
    ts: float
    text: str  # the whole frame, blank line included
    classes: frozenset[str]
    refs: tuple[tuple[str, str], ...] = ()  # (snapshot prefix, Uniqueid) of each channel snapshot inside
    truth: bool = False  # carries something the truth record needs (DialEnd, Hangup, MIXMONITOR_FILENAME)
    _data: bytes | None = field(default=None, repr=False)
    _headers: Headers | None = field(default=None, repr=False)

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self.text.encode("utf-8")
        return self._data

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = parse_headers(self.text.encode("utf-8"))
        return self._headers

    @classmethod
    def from_headers(cls, headers: Headers, ts: float) -> OutEvent:
        """Slow path for hand-built events (ChanSpy, login): work out refs and classes by reading them."""
        d = dict(headers)
        event = cls(
            d.get("Event", ""), ts, format_frame(headers), event_classes(d.get("Privilege", "")),
            snapshot_refs(d), truth=True,
        )
        event._headers = list(headers)
        return event


def snapshot_refs(d: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Channel snapshots in an event: Channel…Linkedid under each prefix (OriginateResponse is not one)."""
    refs = []
    for prefix in SNAPSHOT_PREFIXES:
        uid = d.get(prefix + "Uniqueid")
        if uid and (prefix + "Linkedid") in d and (prefix + "Channel") in d:
            refs.append((prefix, uid))
    return tuple(refs)
