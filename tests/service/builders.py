"""Test data builders for call records."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from dialer.records import CallRecord, Direction, Outcome

T0 = datetime(2026, 3, 2, 7, 30, 0, 123000, tzinfo=UTC)  # 10:30:00.123 in Moscow


def open_call(linkedid: str = "1700000000.1", **changes: Any) -> CallRecord:
    """An outbound call still ringing at the client."""
    record = CallRecord(
        linkedid=linkedid,
        direction=Direction.OUTBOUND,
        expert_ext="101",
        client_number="79115550101",
        started_at=T0,
        answered_at=None,
        ended_at=None,
        duration_s=0.0,
        talk_s=0.0,
        outcome=None,
        hangup_cause=None,
        recording="/var/spool/asterisk/monitor/ds-1700000000.1.wav",
        planned_call_id="PC-1001",
        client_id="C-501",
        ringing_at=T0 + timedelta(seconds=2),
    )
    return dataclasses.replace(record, **changes)


def closed_call(linkedid: str = "1700000000.1", **changes: Any) -> CallRecord:
    """The same call, answered after 5 s and ended after 65 s."""
    record = dataclasses.replace(
        open_call(linkedid),
        answered_at=T0 + timedelta(seconds=5),
        ended_at=T0 + timedelta(seconds=65.25),
        duration_s=65.25,
        talk_s=60.25,
        outcome=Outcome.ANSWERED,
        hangup_cause=16,
        hangup_by="client",
    )
    return dataclasses.replace(record, **changes)
