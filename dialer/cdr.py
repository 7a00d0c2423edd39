"""Asterisk's own CDR as the ledger's backstop: rows by linkedid → the call they describe. Pure.

Asterisk writes a CDR row per channel pair when a call ends (cdr_custom / cdr_csv files,
cdr_pgsql tables). Where the AMI events of a call fell into a gap (a lockout, DS Desk down),
those rows still say how it went: `correct` puts their outcome, end, answer and recording on a
record whose fields were guessed, and `record_from_rows` builds the record of a call that started
and ended inside the gap. The rows' layout is DS Desk's documented mapping (docs/asterisk.md).

What a CDR cannot say stays flagged: it has no hangup cause, so a rejected call and a cancelled
one read as NO ANSWER (DS Desk's own evidence wins when it has some), and with a real trunk the
Dial row's answer time is the Expert's pickup, not the client's: without a row of the client's
own leg, an inferred answer time stays inferred.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from dialer.call_state import to_datetime
from dialer.numbers import normalise_number
from dialer.records import (
    Q_ANSWER_INFERRED,
    Q_END_INFERRED,
    Q_FROM_CDR,
    Q_OUTCOME_INFERRED,
    Q_START_INFERRED,
    CallRecord,
    Direction,
    Outcome,
)

# The fields of the documented cdr_custom mapping, in order (a CSV file has no header line).
CDR_COLUMNS = ("linkedid", "uniqueid", "channel", "dstchannel", "src", "dst", "dcontext", "lastapp", "start",
               "answer", "end", "duration", "billsec", "disposition", "client_id", "planned_call_id", "recording")
INFERRED = frozenset({Q_END_INFERRED, Q_ANSWER_INFERRED, Q_START_INFERRED, Q_OUTCOME_INFERRED})
_DIAL_OUTCOMES = {"ANSWERED": Outcome.ANSWERED, "BUSY": Outcome.BUSY, "NO ANSWER": Outcome.NO_ANSWER,
                  "CONGESTION": Outcome.CONGESTION, "FAILED": Outcome.CONGESTION}
ExpertOf = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class CdrRow:
    linkedid: str
    uniqueid: str
    channel: str
    dstchannel: str
    src: str
    dst: str
    lastapp: str
    start: float | None
    answer: float | None
    end: float | None
    disposition: str
    client_id: str = ""
    planned_call_id: str = ""
    recording: str = ""


def row_from_fields(fields: Mapping[str, object], tz: tzinfo) -> CdrRow | None:
    """One row from its named fields (a CSV line zipped with CDR_COLUMNS, a JSON line, a table row);
    None when it names no call. Times: epoch seconds, `YYYY-MM-DD HH:MM:SS[.ffffff]` in `tz`, or a datetime."""
    linkedid = _text(fields.get("linkedid"))
    if not linkedid:
        return None
    return CdrRow(
        linkedid=linkedid, uniqueid=_text(fields.get("uniqueid")), channel=_text(fields.get("channel")),
        dstchannel=_text(fields.get("dstchannel")), src=_text(fields.get("src")), dst=_text(fields.get("dst")),
        lastapp=_text(fields.get("lastapp")), start=parse_time(fields.get("start"), tz),
        answer=parse_time(fields.get("answer"), tz), end=parse_time(fields.get("end"), tz),
        disposition=_text(fields.get("disposition")).upper(), client_id=_text(fields.get("client_id")),
        planned_call_id=_text(fields.get("planned_call_id")), recording=_text(fields.get("recording")),
    )


def parse_time(value: object, tz: tzinfo) -> float | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) and value > 0 else None
    text = _text(value)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        try:
            return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()
        except ValueError:
            return None
    return number if math.isfinite(number) and number > 0 else None


def correct(record: CallRecord, rows: Sequence[CdrRow], expert_of: ExpertOf) -> CallRecord | None:
    """The record with what the CDR says put where DS Desk had to guess, and only there (a time
    seen live stays: the CDR's whole seconds would be worse); None when it adds nothing yet."""
    flags = set(record.quality)
    if not rows or not INFERRED & flags:
        return None
    found = _read(rows, expert_of)
    if found is None or found.ended is None or _contradicts(record, found):
        return None  # rows still coming (batch mode, a failed insert): look again later
    end_guessed = Q_END_INFERRED in flags
    outcome = _outcome(record, found) if end_guessed or Q_OUTCOME_INFERRED in flags else record.outcome
    answered = _answered(record, found, outcome, flags)
    quality = flags - {Q_START_INFERRED, Q_OUTCOME_INFERRED} - ({Q_END_INFERRED} if end_guessed else set())
    if answered is None or found.answered_exact or Q_ANSWER_INFERRED not in flags:
        quality.discard(Q_ANSWER_INFERRED)
    started = found.started if Q_START_INFERRED in flags else record.started_at.timestamp()
    ended = found.ended if end_guessed else (record.ended_at or to_datetime(found.ended)).timestamp()
    return _with_times(replace(
        record, outcome=outcome, recording=record.recording or found.recording or None,
        client_number=record.client_number or found.client_number,
        planned_call_id=record.planned_call_id or found.planned_call_id or None,
        client_id=record.client_id or found.client_id or None,
        quality=tuple(sorted(quality | {Q_FROM_CDR})),
    ), min(started, ended), answered, ended)


def _contradicts(record: CallRecord, found: _Found) -> bool:
    """Rows that say less than DS Desk saw itself: an Expert-side miss where a client was dialled
    (the Dial row not written yet), or a missed inbound call DS Desk saw answered."""
    if found.outcome is Outcome.EXPERT_NO_ANSWER and record.outcome is not Outcome.EXPERT_NO_ANSWER:
        return True
    return record.answered_at is not None and Q_ANSWER_INFERRED not in record.quality and (
        found.outcome is not Outcome.ANSWERED)


def _answered(record: CallRecord, found: _Found, outcome: Outcome | None, flags: set[str]) -> float | None:
    if outcome is not Outcome.ANSWERED:
        return None
    seen = record.answered_at.timestamp() if record.answered_at is not None else None
    if seen is not None and Q_ANSWER_INFERRED not in flags:
        return seen  # seen live: exact
    if found.answered_exact or seen is None:
        return found.answered
    return seen


def record_from_rows(rows: Sequence[CdrRow], expert_of: ExpertOf) -> CallRecord | None:
    """A call DS Desk never saw (it started and ended inside a gap): None unless an Expert was in it."""
    found = _read(rows, expert_of)
    if found is None or found.ended is None or found.direction is None:
        return None
    if found.outcome is Outcome.EXPERT_NO_ANSWER:
        return None  # no Dial: a voicemail check looks the same; an unanswered click is the Expert's side
    outcome = found.outcome
    answered = found.answered if outcome is Outcome.ANSWERED else None
    quality = {Q_FROM_CDR} | ({Q_ANSWER_INFERRED} if answered is not None and not found.answered_exact else set())
    record = CallRecord(
        linkedid=rows[0].linkedid, direction=found.direction, expert_ext=found.expert_ext,
        client_number=found.client_number, started_at=to_datetime(found.started), answered_at=None, ended_at=None,
        duration_s=0.0, talk_s=0.0, outcome=outcome, hangup_cause=None, recording=found.recording or None,
        planned_call_id=found.planned_call_id or None, client_id=found.client_id or None,
        quality=tuple(sorted(quality)),
    )
    return _with_times(record, found.started, answered, found.ended)


@dataclass(frozen=True, slots=True)
class _Found:
    direction: Direction | None
    expert_ext: str | None
    client_number: str | None
    started: float
    answered: float | None
    answered_exact: bool  # from the answering leg's own row, not the Dial row (the Expert's pickup)
    ended: float | None
    outcome: Outcome
    recording: str
    planned_call_id: str
    client_id: str


def _read(rows: Sequence[CdrRow], expert_of: ExpertOf) -> _Found | None:
    starts = [r.start for r in rows if r.start is not None]
    if not starts:
        return None
    first = next((r for r in rows if r.uniqueid == r.linkedid), min(rows, key=lambda r: r.start or math.inf))
    dial = _dial_row(rows)
    direction: Direction | None
    if expert_of(first.channel) is not None:
        direction, ext = Direction.OUTBOUND, expert_of(first.channel)
        number = normalise_number(dial.dst) if dial is not None else None
        outcome = _dial_outcome(rows, dial) if dial else Outcome.EXPERT_NO_ANSWER
    else:
        callee = expert_of(dial.dstchannel) if dial is not None else None
        experts = [expert_of(r.channel) for r in rows if expert_of(r.channel)]
        ext = callee or (experts[0] if experts else None)
        direction = Direction.INBOUND if ext else None
        number = normalise_number(first.src)
        outcome = Outcome.ANSWERED if dial is not None and dial.disposition == "ANSWERED" else Outcome.MISSED
    answered, exact = _answer(rows, dial)
    ends = [r.end for r in rows if r.end is not None]
    return _Found(direction, ext, number, min(starts), answered, exact, max(ends) if ends else None, outcome,
                  _first(r.recording for r in rows), _first(r.planned_call_id for r in rows),
                  _first(r.client_id for r in rows))


def _dial_row(rows: Sequence[CdrRow]) -> CdrRow | None:
    dials = [r for r in rows if r.lastapp.lower() == "dial" and r.dstchannel]
    answered = [r for r in dials if r.disposition == "ANSWERED"]
    chosen = answered or dials
    return chosen[-1] if chosen else None


def _dial_outcome(rows: Sequence[CdrRow], dial: CdrRow) -> Outcome:
    """NO ANSWER is a cancel when the caller's dialplan went no further: the Expert hung up while
    the client rang; Dial that returned by itself (timeout, reject) leaves a later row on that channel."""
    outcome = _DIAL_OUTCOMES.get(dial.disposition, Outcome.NO_ANSWER)
    if outcome is Outcome.NO_ANSWER and not any(
            r is not dial and r.channel == dial.channel and (r.start or 0) >= (dial.start or 0) for r in rows):
        return Outcome.CANCELLED
    return outcome


def _answer(rows: Sequence[CdrRow], dial: CdrRow | None) -> tuple[float | None, bool]:
    """The answering party's own row when there is one (a Local channel's other half, or the
    callee itself); else the Dial row's answer (right for a trunk's inbound call, the Expert's
    pickup for an originated outbound one: not exact)."""
    if dial is None or dial.disposition != "ANSWERED":
        return None, False
    callee = {dial.dstchannel, _other_half(dial.dstchannel)}
    own = [r.answer for r in rows if r.channel in callee and r.answer is not None and r is not dial]
    if own:
        return min(own), True
    return dial.answer, False


def _other_half(channel: str) -> str:
    return channel[:-2] + ";2" if channel.endswith(";1") else channel


def _outcome(record: CallRecord, found: _Found) -> Outcome:
    """The CDR's outcome, except a reject DS Desk saw itself (cause 21): the CDR says NO ANSWER."""
    if record.outcome is Outcome.REJECTED and found.outcome is Outcome.NO_ANSWER:
        return record.outcome
    return found.outcome


def _with_times(record: CallRecord, started: float, answered: float | None, ended: float) -> CallRecord:
    ended = max(ended, started)
    return replace(
        record, started_at=to_datetime(started), answered_at=None if answered is None else to_datetime(answered),
        ended_at=to_datetime(ended), duration_s=round(ended - started, 3),
        talk_s=0.0 if answered is None else round(max(ended - answered, 0.0), 3),
    )


def rows_by_call(rows: Iterable[CdrRow]) -> dict[str, list[CdrRow]]:
    grouped: dict[str, list[CdrRow]] = {}
    for row in rows:
        grouped.setdefault(row.linkedid, []).append(row)
    return grouped


def _first(values: Iterable[str]) -> str:
    return next((v for v in values if v), "")


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else "" if value is None else str(value)
