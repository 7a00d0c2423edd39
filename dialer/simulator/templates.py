"""Compile the shipped Asterisk 22 captures into call templates with slots for ids, names and times. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from dialer.ami.framing import FrameSplitter, OversizedFrame, is_banner
from dialer.simulator.config import INBOUND_SCENARIOS, Scenario
from dialer.simulator.errors import TemplateError
from dialer.simulator.events import snapshot_refs
from dialer.simulator.frames import Headers, event_classes, header, parse_headers

# The captures' phases are separated by real waits of a second or more; inside a
# burst Asterisk's events are a few milliseconds apart.
GAP_THRESHOLD_S = 0.3
OUTBOUND_GAPS = ("expert_ring", "client_ring", "talk")
INBOUND_GAPS = ("ring", "talk")

SCENARIO_FILES: dict[Scenario, str] = {
    Scenario.ANSWERED: "answered.ami",
    Scenario.NO_ANSWER: "no-answer.ami",
    Scenario.REJECTED: "reject.ami",
    Scenario.BUSY: "busy.ami",
    Scenario.CONGESTION: "congestion.ami",
    Scenario.CANCELLED: "cancelled.ami",
    Scenario.EXPERT_NO_ANSWER: "expert-phone-not-answered.ami",
    Scenario.EXPERT_HANGS_UP: "expert-hangs-up-first.ami",
    Scenario.INBOUND_ANSWERED: "inbound-answered.ami",
    Scenario.INBOUND_MISSED: "inbound-missed.ami",
}

SKIPPED_EVENTS = frozenset({"FullyBooted", "SuccessfulAuth"})  # login chatter, not the call
ORIGINATE_VARS = frozenset({"PLANNED_CALL_ID", "CLIENT_ID"})
TIME_VARS = frozenset({"ANSWEREDTIME", "DIALEDTIME", "RINGTIME", "PROGRESSTIME"})
CDR_VAR_FIELDS = {"ClientId": "CLIENT_ID", "PlannedCallId": "PLANNED_CALL_ID"}
CAPTURE_MONITOR_DIR = "/var/spool/asterisk/monitor/"

_CHANNEL_RE = re.compile(
    r"Local/(?P<who>[^@;]+)@(?P<ctx>ds-agents|ds-clients|ds-pstn-phone)-(?P<suffix>[0-9a-f]{8});(?P<leg>[12])"
)
_PREFIXES = ("", "Dest", "LocalOne", "LocalTwo")
_PAIR_KIND = {"ds-agents": "agent", "ds-clients": "client", "ds-pstn-phone": "pstn"}
_DIAL_DATA_RE = re.compile(r"(Local/[^,]+),(\d+)")
_CID_KEYS = frozenset({"CallerIDnum", "CallerIDani", "Source", "CallerID"})
_CID_SUFFIXES = ("CallerIDNum", "ConnectedLineNum")
_NAME_SUFFIXES = ("CallerIDName", "ConnectedLineName")
_CDR_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_CLID_RE = re.compile(r'"(.*)" <(.*)>')


TIMED_KINDS = frozenset({"ts", "eventtime", "at", "span", "elapsed", "ovar_variable", "ovar_value"})


@dataclass(frozen=True, slots=True, eq=False)
class Slot:
    """A hole in a template value, filled per call (see render.py for the kinds).

    Compared by identity, so a call can cache what it filled in (`timed` slots change per event).
    """

    kind: str
    arg: str | float | None = None
    arg2: float | None = None

    @property
    def timed(self) -> bool:
        return self.kind in TIMED_KINDS


Part = str | Slot
Value = tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class TemplateEvent:
    name: str
    headers: tuple[tuple[str, Value], ...]
    ts: float  # the capture's Timestamp
    frame: Value  # the whole wire text, literals merged: what render.py fills in
    refs: tuple[tuple[str, str], ...]  # (snapshot prefix, channel role)
    classes: frozenset[str]
    truth: bool  # the truth record reads it (DialEnd, Hangup, MIXMONITOR_FILENAME)
    var_role: str | None = None  # an Originate-variable VarSet: the role of its channel


@dataclass(frozen=True, slots=True)
class Burst:
    start: float
    end: float
    events: tuple[TemplateEvent, ...]


@dataclass(frozen=True, slots=True)
class CallTemplate:
    """One capture's call: bursts of events separated by waits whose roles are `gaps`."""

    scenario: Scenario
    bursts: tuple[Burst, ...]
    gaps: tuple[str, ...]

    @property
    def starts(self) -> tuple[float, ...]:
        return tuple(b.start for b in self.bursts)

    @property
    def ends(self) -> tuple[float, ...]:
        return tuple(b.end for b in self.bursts)


def compile_template(scenario: Scenario, raw: bytes) -> CallTemplate:
    events = call_events(raw)
    if not events:
        raise TemplateError(f"{scenario}: no call events in capture")
    facts = _Facts(events)
    compiled = [_compile_event(i, events, facts) for i in range(len(events))]
    bursts = _split_bursts(compiled)
    roles = INBOUND_GAPS if scenario in INBOUND_SCENARIOS else OUTBOUND_GAPS
    if len(bursts) - 1 > len(roles):
        raise TemplateError(f"{scenario}: {len(bursts)} bursts, more than the phases {roles}")
    return CallTemplate(scenario, tuple(bursts), roles[: len(bursts) - 1])


def call_events(raw: bytes) -> list[Headers]:
    """Every event of the call in a capture: no responses, no login chatter."""
    out: list[Headers] = []
    for frame in FrameSplitter().feed(raw):
        if isinstance(frame, OversizedFrame) or is_banner(frame):
            continue
        headers = parse_headers(frame)
        if headers and headers[0][0] == "Event" and headers[0][1] not in SKIPPED_EVENTS:
            out.append(headers)
    return out


class _Facts:
    """What the capture's call was made of: its ext, number, caller name, ids and their roles."""

    def __init__(self, events: list[Headers]) -> None:
        self.uid_role: dict[str, str] = {}
        self.suffix_pair: dict[str, str] = {}
        self.ext = self.number = self.name = ""
        self.bridges: set[str] = set()
        for headers in events:
            self._learn(headers)
        if not self.ext:
            raise TemplateError("capture has no Expert (ds-agents) channel")
        self.number = self.number or self._originate_header(events, "Exten")
        self.name = self._originate_header(events, "CallerIDName")
        self.tokens = self._token_slots()
        self.pattern = self._token_pattern()

    def _learn(self, headers: Headers) -> None:
        d = dict(headers)
        if "BridgeUniqueid" in d:
            self.bridges.add(d["BridgeUniqueid"])
        for chan_key, uid_key in [(p + "Channel", p + "Uniqueid") for p in _PREFIXES] + [("Channel", "UniqueID")]:
            match = _CHANNEL_RE.fullmatch(d.get(chan_key, ""))
            if match and uid_key in d:
                self._learn_channel(match, d[uid_key])

    def _learn_channel(self, match: re.Match[str], uid: str) -> None:
        kind = _PAIR_KIND[match["ctx"]]
        self.uid_role.setdefault(uid, kind + match["leg"])
        self.suffix_pair.setdefault("-" + match["suffix"], kind)
        if kind == "agent":
            self.ext = self.ext or match["who"]
        else:
            self.number = self.number or match["who"]

    @staticmethod
    def _originate_header(events: list[Headers], key: str) -> str:
        for headers in events:
            if headers[0][1] == "OriginateResponse":
                return header(headers, key)
        return ""

    def _token_slots(self) -> dict[str, Slot]:
        slots: dict[str, Slot] = {uid: Slot("uid", role) for uid, role in self.uid_role.items()}
        slots.update({suffix: Slot("suffix", pair) for suffix, pair in self.suffix_pair.items()})
        slots.update({bridge: Slot("bridge") for bridge in self.bridges})
        slots[self.ext] = Slot("ext")
        if self.number:
            slots[self.number] = Slot("number")
        if self.name:
            slots[self.name] = Slot("name")
        return slots

    def _token_pattern(self) -> re.Pattern[str]:
        numeric = sorted((t for t in self.tokens if t.replace(".", "").isdigit()), key=len, reverse=True)
        literal = sorted((t for t in self.tokens if t not in numeric), key=len, reverse=True)
        # Digit boundaries keep ext 101 out of 79115550101 and uid x.1 out of x.10.
        parts = [r"(?<![\d.])(?:" + "|".join(map(re.escape, numeric)) + r")(?!\d)"]
        if literal:
            parts.append("|".join(map(re.escape, literal)))
        return re.compile("|".join(parts))

    def tokenize(self, key: str, value: str) -> Value:
        parts: list[Part] = []
        pos = 0
        for match in self.pattern.finditer(value):
            if match.start() > pos:
                parts.append(value[pos : match.start()])
            parts.append(self._slot_for(key, match.group()))
            pos = match.end()
        if pos < len(value):
            parts.append(value[pos:])
        return tuple(parts) if parts else ("",)

    def _slot_for(self, key: str, token: str) -> Slot:
        slot = self.tokens[token]
        if slot.kind == "ext" and (key in _CID_KEYS or key.endswith(_CID_SUFFIXES)):
            return Slot("cid_num")  # the Expert's caller number, which the capture had equal to the ext
        if slot.kind == "name" and key.endswith(_NAME_SUFFIXES):
            return Slot("name_snap")  # an empty name shows as <unknown> in snapshots
        return slot


def _compile_event(index: int, events: list[Headers], facts: _Facts) -> TemplateEvent:
    headers = events[index]
    name = headers[0][1]
    ts = float(header(headers, "Timestamp", "0"))
    var_role = _var_role(name, headers, facts)
    compiled = tuple((key, _compile_value(name, key, value, index, events, facts)) for key, value in headers)
    if var_role is not None:  # filled from the Originate's own variables
        compiled = tuple((k, (Slot("ovar_" + k.lower()),) if k in ("Variable", "Value") else v) for k, v in compiled)
    refs = tuple((prefix, facts.uid_role[uid]) for prefix, uid in snapshot_refs(dict(headers)) if uid in facts.uid_role)
    d = dict(headers)
    truth = name in ("DialEnd", "Hangup") or (name == "VarSet" and d.get("Variable") == "MIXMONITOR_FILENAME")
    classes = event_classes(d.get("Privilege", ""))
    return TemplateEvent(name, compiled, ts, _frame(compiled), refs, classes, truth, var_role)


def _frame(headers: tuple[tuple[str, Value], ...]) -> Value:
    """`Key: value\r\n` lines and the closing blank line, adjacent literals merged."""
    parts: list[Part] = []
    for key, value in headers:
        if len(value) == 1 and isinstance(value[0], Slot) and value[0].kind == "action_id":
            parts.append(Slot("action_id_line"))  # the whole line goes when the action had no ActionID
            continue
        parts.append(f"{key}: ")
        parts.extend(value)
        parts.append("\r\n")
    parts.append("\r\n")
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return tuple(merged)


def _var_role(name: str, headers: Headers, facts: _Facts) -> str | None:
    if name != "VarSet" or header(headers, "Variable") not in ORIGINATE_VARS:
        return None
    return facts.uid_role.get(header(headers, "Uniqueid"))


def _compile_value(name: str, key: str, value: str, index: int, events: list[Headers], facts: _Facts) -> Value:
    headers = events[index]
    if key == "Timestamp":
        return (Slot("ts"),)
    if name == "CEL" and key == "EventTime":
        return (Slot("eventtime"),)
    if name == "Cdr":
        cdr = _compile_cdr_value(key, value, headers, events, facts)
        if cdr is not None:
            return cdr
    if name == "VarSet" and key == "Value":
        special = _compile_varset_value(value, index, events, facts)
        if special is not None:
            return special
    if name == "OriginateResponse" and key == "ActionID":
        return (Slot("action_id"),)
    if name == "OriginateResponse" and key == "Channel" and not _CHANNEL_RE.fullmatch(value):
        return (Slot("requested_channel"),)  # a failed Originate names the channel as requested
    dial = _DIAL_DATA_RE.fullmatch(value)
    if dial:
        return facts.tokenize(key, dial[1]) + (",", Slot("dial_timeout"))
    return facts.tokenize(key, value)


def _compile_varset_value(value: str, index: int, events: list[Headers], facts: _Facts) -> Value | None:
    headers = events[index]
    variable = header(headers, "Variable")
    if variable == "MIXMONITOR_FILENAME" and value.startswith(CAPTURE_MONITOR_DIR):
        return (Slot("monitor_dir"),) + facts.tokenize("Value", value[len(CAPTURE_MONITOR_DIR) :])
    base, is_ms = (variable[:-3], True) if variable.endswith("_MS") else (variable, False)
    if base not in TIME_VARS or not value.isdigit():
        return None
    millis = int(value) if is_ms else _following_millis(base, index, events)
    ts = float(header(headers, "Timestamp"))
    return (Slot("elapsed", "ms" if is_ms else "s", ts - millis / 1000.0),)


def _following_millis(base: str, index: int, events: list[Headers]) -> int:
    """The `<VAR>_MS` VarSet that follows `<VAR>` on the same channel: the seconds value's origin."""
    uid = header(events[index], "Uniqueid")
    for headers in events[index + 1 : index + 40]:
        if header(headers, "Variable") == base + "_MS" and header(headers, "Uniqueid") == uid:
            return int(header(headers, "Value", "0") or 0)
    return int(header(events[index], "Value")) * 1000


def _compile_cdr_value(key: str, value: str, headers: Headers, events: list[Headers], facts: _Facts) -> Value | None:
    if key == "CallerID":
        clid = _CLID_RE.fullmatch(value)
        number = facts.tokenize(key, clid[2]) if clid else ()
        if len(number) == 1 and isinstance(number[0], Slot):
            return (Slot("clid", number[0].kind),)  # `"name" <num>`, or just `num` without a name
        return None
    if key in CDR_VAR_FIELDS:
        return (Slot("var", CDR_VAR_FIELDS[key]),) if value else ("",)
    if key in ("StartTime", "AnswerTime", "EndTime"):
        return (Slot("at", _cdr_anchor(key, headers, events)),) if value else ("",)
    if key == "Duration":
        return (Slot("span", _cdr_anchor("StartTime", headers, events), _cdr_anchor("EndTime", headers, events)),)
    if key == "BillableSeconds" and header(headers, "AnswerTime"):
        return (Slot("span", _cdr_anchor("AnswerTime", headers, events), _cdr_anchor("EndTime", headers, events)),)
    return None


def _cdr_anchor(field: str, cdr: Headers, events: list[Headers]) -> float:
    """The precise capture time behind a whole-second CDR time: the event that caused it."""
    wanted = _cdr_seconds(header(cdr, field))
    uid = header(cdr, "UniqueID")
    candidates = [float(header(h, "Timestamp")) for h in events if _cdr_cause(field, uid, h)]
    for ts in candidates:
        if int(ts) == wanted:
            return ts
    for h in events:  # any event in that second keeps the time on the right side of a gap
        ts = float(header(h, "Timestamp"))
        if int(ts) == wanted:
            return ts
    return float(wanted)


def _cdr_cause(field: str, uid: str, h: Headers) -> bool:
    if uid not in (header(h, "Uniqueid"), header(h, "UniqueID")):
        return False
    name, cel = h[0][1], header(h, "EventName")
    if field == "StartTime":
        return name == "Newchannel" or cel == "CHAN_START"
    if field == "AnswerTime":
        return (name == "Newstate" and header(h, "ChannelState") == "6") or cel == "ANSWER"
    return name == "Hangup" or cel in ("HANGUP", "CHAN_END")


def _cdr_seconds(text: str) -> int:
    stamp = datetime.strptime(text, _CDR_TIME_FORMAT).replace(tzinfo=UTC)
    return int(stamp.timestamp())


def _split_bursts(events: list[TemplateEvent]) -> list[Burst]:
    groups: list[list[TemplateEvent]] = [[events[0]]]
    for event in events[1:]:
        if event.ts - groups[-1][-1].ts > GAP_THRESHOLD_S:
            groups.append([])
        groups[-1].append(event)
    return [Burst(g[0].ts, g[-1].ts, tuple(g)) for g in groups]
