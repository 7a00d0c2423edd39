"""The benchmark's AMI stream: the real Asterisk 22 captures repeated with fresh ids and shifted times.

Each capture becomes a template once (its event frames after login, with every id and Timestamp
turned into a slot); a repetition fills the slots with fresh values. Kept: event frames only. Dropped:
the banner, every `Response:` frame (`Response: Goodbye` would stop the bare asterisk-ami client),
and the login-time `SuccessfulAuth`/`FullyBooted` events. Rewritten per repetition, consistently
within it: Uniqueid/Linkedid values wherever they appear (UniqueID, LinkedID, DestUniqueid,
LocalOneUniqueid…, the MixMonitor file name), the `-0000000a;1` channel suffixes, Bridge UUIDs,
ActionIDs; `Timestamp` moves so repetitions follow one another in time (one second apart).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dialer.ami.framing import FrameSplitter
from dialer.ami.message import parse_frame
from dialer.records import CallClosed
from dialer.tracker import CallTracker

CAPTURES_DIR = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "ami" / "asterisk-22"
SINGLE_CALL = (
    "answered", "busy", "cancelled", "congestion", "expert-hangs-up-first", "expert-phone-not-answered",
    "inbound-answered", "inbound-missed", "no-answer", "reject",
)
MIXED = ("mixed-8",)
FRAME_END = b"\r\n\r\n"
LOGIN_EVENTS = (b"Event: SuccessfulAuth\r\n", b"Event: FullyBooted\r\n")
_ID_HEADER = re.compile(rb"^\w*(?:uniqueid|linkedid): (\d+\.\d+)\r?$", re.IGNORECASE | re.MULTILINE)
_UUID = rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SLOT_KINDS = ("ts", "id", "chan", "uuid", "aid")
_GAP_US = 1_000_000  # between one repetition's last event and the next one's first


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    name: str
    events: int  # event frames in one repetition
    calls: int  # call records the pure tracker closes for one repetition
    outcomes: Counter[str]


class Template:
    """One capture's kept frames as literal pieces and slots (kind, original value)."""

    def __init__(self, name: str, body: bytes) -> None:
        self.name = name
        self.literals: list[bytes] = []
        self.slots: list[tuple[str, bytes]] = []
        ids = sorted(set(_ID_HEADER.findall(body)), key=len, reverse=True)
        pattern = re.compile(
            rb"(?<=\nTimestamp: )(?P<ts>\d+\.\d{1,6})"
            + (rb"|(?<![\d.])(?P<id>" + b"|".join(re.escape(i) for i in ids) + rb")(?!\d)" if ids else b"")
            + rb"|(?<=-)(?P<chan>[0-9a-f]{8})(?=;[12])"
            + rb"|(?P<uuid>" + _UUID + rb")"
            + rb"|(?<=\nActionID: )(?P<aid>[^\r\n]+)"
        )
        last = 0
        for match in pattern.finditer(body):
            kind = match.lastgroup or ""
            self.literals.append(body[last:match.start()])
            self.slots.append((kind, match.group()))
            last = match.end()
        self.literals.append(body[last:])
        stamps = [_micros(v) for k, v in self.slots if k == "ts"]
        self.first_us, self.span_us = min(stamps), max(stamps) - min(stamps)
        # The distinct values of each kind, and per slot the index of its value in that list.
        self._distinct: dict[str, list[bytes]] = {kind: [] for kind in _SLOT_KINDS}
        index: dict[tuple[str, bytes], int] = {}
        self._slot_ref: list[tuple[str, int]] = []
        for kind, value in self.slots:
            key = (kind, value)
            if key not in index:
                index[key] = len(self._distinct[kind])
                self._distinct[kind].append(value)
            self._slot_ref.append((kind, index[key]))
        self.events = sum(1 for raw in body.split(FRAME_END) if raw.startswith(b"Event: "))

    def render(self, start_us: int, counter: Iterator[int], rep: int) -> bytes:
        """This capture once more, its first event at `start_us`, every id fresh (from `counter`)."""
        shift = start_us - self.first_us
        epoch = str(start_us // 1_000_000).encode()
        fresh = {
            "ts": [_fmt_micros(_micros(v) + shift) for v in self._distinct["ts"]],
            "id": [epoch + b"." + str(next(counter)).encode() for _ in self._distinct["id"]],
            "chan": [b"%08x" % (next(counter) & 0xFFFFFFFF) for _ in self._distinct["chan"]],
            "uuid": [_uuid(next(counter)) for _ in self._distinct["uuid"]],
            "aid": [v + b"-r%d" % rep for v in self._distinct["aid"]],
        }
        out = [b""] * (2 * len(self._slot_ref) + 1)
        out[0::2] = self.literals
        out[1::2] = [fresh[kind][i] for kind, i in self._slot_ref]
        return b"".join(out)


def load_body(path: Path) -> bytes:
    """The capture's event frames after login, each ending in a blank line."""
    data = path.read_bytes()
    data = data[data.index(b"\r\n") + 2:]  # the banner ends with one CRLF, not a blank line
    kept = [raw for raw in data.split(FRAME_END)
            if raw.startswith(b"Event: ") and not raw.startswith(LOGIN_EVENTS)]
    if any(b"Response: Goodbye" in raw for raw in kept):
        raise ValueError(f"{path.name}: a kept frame says Goodbye")
    return b"".join(raw + FRAME_END for raw in kept)


def load_templates(with_mixed: bool = True) -> list[Template]:
    names = SINGLE_CALL + (MIXED if with_mixed else ())
    return [Template(name, load_body(CAPTURES_DIR / f"{name}.ami")) for name in names]


def describe(template: Template) -> CaptureInfo:
    """Events and expected records of one repetition, from the pure tracker (outside any timing)."""
    body = template.render(template.first_us, itertools.count(1), 0)
    tracker, splitter = CallTracker(), FrameSplitter(expect_banner=False)
    messages = [parse_frame(raw) for raw in splitter.feed(body) if isinstance(raw, bytes)]
    closed = [e.record for e in tracker.handle_many(messages, 0.0) if isinstance(e, CallClosed)]
    return CaptureInfo(template.name, template.events, len(closed),
                       Counter(str(r.outcome) for r in closed))


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """Which captures, in which order, until at least `calls` call records."""

    templates: list[Template]
    infos: list[CaptureInfo]
    order: list[int]  # template index per repetition

    @classmethod
    def for_calls(cls, calls: int, with_mixed: bool = True) -> StreamPlan:
        templates = load_templates(with_mixed)
        infos = [describe(t) for t in templates]
        order: list[int] = []
        total = 0
        for i in itertools.cycle(range(len(templates))):
            if total >= calls:
                break
            order.append(i)
            total += infos[i].calls
        return cls(templates, infos, order)

    @property
    def events(self) -> int:
        return sum(self.infos[i].events for i in self.order)

    @property
    def calls(self) -> int:
        return sum(self.infos[i].calls for i in self.order)

    @property
    def outcomes(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for i in self.order:
            total.update(self.infos[i].outcomes)
        return total

    @property
    def first_timestamp(self) -> str:
        return _fmt_micros(self.templates[self.order[0]].first_us).decode()

    def units(self) -> Iterator[tuple[bytes, int]]:
        """(bytes, call records) per repetition, in stream order; ids never repeat."""
        counter = itertools.count(1000)
        start = self.templates[self.order[0]].first_us
        for rep, i in enumerate(self.order):
            template = self.templates[i]
            yield template.render(start, counter, rep), self.infos[i].calls
            start += template.span_us + _GAP_US


def _micros(value: bytes) -> int:
    whole, _, frac = value.partition(b".")
    return int(whole) * 1_000_000 + int(frac.ljust(6, b"0"))


def _fmt_micros(us: int) -> bytes:
    return b"%d.%06d" % divmod(us, 1_000_000)


def _uuid(n: int) -> bytes:
    return b"%08x-0000-4000-8000-%012x" % (n & 0xFFFFFFFF, n)
