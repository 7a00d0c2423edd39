"""Asterisk's own CDR, as `cdr_custom` writes it with DS Desk's documented mapping (docs/asterisk.md).

Every `Cdr` event the simulated PBX emits (cdr_manager) becomes one CSV row, the way the real
PBX writes the same record to `cdr_custom`: times in whole seconds, UTC (the lab ran in UTC), the
linkedid of the call and the dialplan's `CDR(recording)` on the first channel's rows. A call a
PBX restart kills writes no CDR, as Asterisk's kill -9 loses it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from dialer.cdr import CDR_COLUMNS
from dialer.simulator.events import OutEvent

# Cdr event header → column of the mapping (the rest come from the call itself).
_FROM_EVENT = {
    "uniqueid": "UniqueID", "channel": "Channel", "dstchannel": "DestinationChannel", "src": "Source",
    "dst": "Destination", "dcontext": "DestinationContext", "lastapp": "LastApplication", "start": "StartTime",
    "answer": "AnswerTime", "end": "EndTime", "duration": "Duration", "billsec": "BillableSeconds",
    "disposition": "Disposition", "client_id": "ClientId", "planned_call_id": "PlannedCallId",
}


class CdrFile:
    """Appends one row per Cdr event; flushed at once (cdr.conf `batch = no`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    def write(self, event: OutEvent, linkedid: str, recording: str | None) -> None:
        headers = dict(event.headers)
        row = {column: headers.get(header, "") for column, header in _FROM_EVENT.items()}
        row["linkedid"] = linkedid
        row["recording"] = (recording or "") if row["uniqueid"] == linkedid else ""
        with self.path.open("a", encoding="utf-8", newline="") as out:
            csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow([row[c] for c in CDR_COLUMNS])
