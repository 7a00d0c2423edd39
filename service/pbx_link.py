"""The PBX's troubles as the screens get them: the AMI link's state and a failed Originate, as JSON. Pure.

The desk and the board show a bar «нет связи с АТС с 10:42 — звонки не записываются» while the
link is down (the `pbx` live event and the snapshot's `pbx` field, docs/live.md), and the person
who clicked «Позвонить» or «Слушать» is told why the PBX could not ring their phone
(`originate_failed`). Times are shown in the organisation's zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dialer.link import LinkState
from dialer.originate_watch import OriginateFailure
from dialer.records import iso_ms
from texts.pbx import LINK_STATUS_LABELS, link_down_text, originate_failure_text

Payload = dict[str, Any]


def link_payload(state: LinkState, tz: ZoneInfo, now: datetime) -> Payload:
    """`{"status", "connected", "since", "text", "detail"}`: `text` is the bar's, None while connected."""
    since = None if state.since is None else state.since.astimezone(tz)
    return {
        "status": str(state.status),
        "connected": state.connected,
        "since": iso_ms(state.since),
        "text": None if state.connected else link_down_text(since, now.astimezone(tz)),
        "detail": LINK_STATUS_LABELS.get(str(state.status), str(state.status)),
    }


def failure_payload(failure: OriginateFailure) -> Payload:
    """`{"kind", "ext", "target", "linkedid", "reason", "text", "at"}` for the one who clicked."""
    return {
        "kind": failure.kind, "ext": failure.ext, "target": failure.target, "linkedid": failure.linkedid,
        "reason": failure.reason, "text": originate_failure_text(failure.kind, failure.reason, failure.ext),
        "at": iso_ms(_moment(failure.at)),
    }


def _moment(epoch: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, OSError, ValueError):  # a PBX's garbage Timestamp
        return None
