"""`python -m dialer replay FILE`, `dsdesk replay FILE`: a raw AMI capture through the tracker, call records out."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from dialer.ami.framing import FrameSplitter, OversizedFrame, is_banner
from dialer.ami.message import FrameError, Message, parse_frame
from dialer.records import CallClosed, CallRecord
from dialer.tracker import CallTracker, TrackerConfig

log = logging.getLogger(__name__)
CHUNK = 64 * 1024


def iter_messages(chunks: Iterable[bytes]) -> Iterator[Message]:
    """Frames → messages; a frame that cannot be parsed is logged and skipped."""
    splitter = FrameSplitter()
    for chunk in chunks:
        for frame in splitter.feed(chunk):
            if isinstance(frame, OversizedFrame):
                log.warning("skipped an oversized AMI frame of %d bytes", frame.size)
                continue
            if is_banner(frame):
                continue
            try:
                yield parse_frame(frame)
            except FrameError as e:
                log.warning("skipped an unparsable AMI frame: %s", e)


def read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def replay_messages(messages: Iterable[Message], config: TrackerConfig | None = None) -> list[CallRecord]:
    """Closed calls in the order they ended, then calls still open at the end of the capture."""
    tracker = CallTracker(config)
    records: list[CallRecord] = []
    clock = _ReplayClock()
    for msg in messages:
        for effect in tracker.handle(msg, clock.now(msg)):
            if isinstance(effect, CallClosed):
                records.append(effect.record)
    return records + tracker.open_records()


def replay_file(path: str | Path, config: TrackerConfig | None = None) -> list[CallRecord]:
    return replay_messages(iter_messages(read_chunks(Path(path))), config)


def replay_lines(records: Iterable[CallRecord]) -> Iterator[str]:
    """One JSON line per record, the keys in REPLAY_KEYS order (Cyrillic kept as it is)."""
    for record in records:
        yield json.dumps(record.replay_dict(), ensure_ascii=False)


class _ReplayClock:
    """Receipt time for a capture: the last Timestamp seen, else the Uniqueid's epoch part."""

    def __init__(self) -> None:
        self._last = 0.0

    def now(self, msg: Message) -> float:
        stamp = msg.timestamp()
        if stamp is not None:
            self._last = stamp
        elif not self._last:
            self._last = _epoch_of_uniqueid(msg.get("Uniqueid"))
        return self._last


def _epoch_of_uniqueid(uniqueid: str | None) -> float:
    if not uniqueid:
        return 0.0
    head = uniqueid.rsplit("-", 1)[-1].split(".", 1)[0]
    return float(head) if head.isdigit() else 0.0
