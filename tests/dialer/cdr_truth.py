"""An independent reader of a capture's own Cdr events: Asterisk's billing is the ground truth.

Deliberately shares no code with the tracker, so a pasted tracker output cannot pass the
cross-check in test_tracker_captures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FIELD = re.compile(r"^([A-Za-z]+): (.*)$", re.M)


@dataclass(frozen=True)
class CdrTruth:
    duration_s: int
    talk_s: int


def _frames(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n")
    return [dict(_FIELD.findall(block)) for block in text.split("\n\n")]


def cdr_truth_by_linkedid(path: Path) -> dict[str, CdrTruth]:
    frames = _frames(path)
    linked = {f["Uniqueid"]: f["Linkedid"] for f in frames if f.get("Event") == "Newchannel"}
    by_call: dict[str, list[dict[str, str]]] = {}
    for f in frames:
        if f.get("Event") == "Cdr" and f.get("UniqueID") in linked:
            by_call.setdefault(linked[f["UniqueID"]], []).append(f)
    return {linkedid: _truth(cdrs) for linkedid, cdrs in by_call.items()}


def _truth(cdrs: list[dict[str, str]]) -> CdrTruth:
    duration = max(int(c["Duration"]) for c in cdrs)
    client = [c for c in cdrs if "@ds-clients-" in c["Channel"] and c["Channel"].endswith(";2")]
    inbound_expert = [c for c in cdrs if "@ds-agents-" in c["Channel"] and c["Channel"].endswith(";2")
                      and any("@ds-pstn-phone-" in x["Channel"] for x in cdrs)]
    talk_source = client or inbound_expert
    talk = max((int(c["BillableSeconds"]) for c in talk_source), default=0)
    return CdrTruth(duration_s=duration, talk_s=talk)
