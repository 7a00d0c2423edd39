"""The call tracker: a pure state machine from AMI events to call records, keyed by Linkedid.

`CallTracker.handle(event, now)` does no I/O and returns effects (call opened, live state
changed, call closed) for the shell to persist and push. Event time is the AMI `Timestamp`
header (manager.conf `timestampevents = yes`), or `now` (receipt time) when it is absent.
Only channel events are used, so `Cdr`/`CEL` being on or off changes nothing.

Three modules: this one (the public API and the table of handlers), dialer/tracker_events.py
(what each event does), dialer/tracker_core.py (the state and the steps they share); the
click-to-calls DS Desk is waiting for are in dialer/expectations.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from dialer.ami.message import Message
from dialer.expectations import ExpectedOriginate
from dialer.records import CallRecord, Effect
from dialer.tracker_core import TrackerConfig, _remember
from dialer.tracker_events import EventHandlers

log = logging.getLogger(__name__)

__all__ = ["CallTracker", "ExpectedOriginate", "TrackerConfig"]


class CallTracker(EventHandlers):
    """Feeds AMI events in, gets call-record effects out."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        super().__init__(config)
        self._handlers: dict[str, Callable[[Message, float, list[Effect]], None]] = {
            "Newchannel": self._on_newchannel,
            "Newstate": self._on_newstate,
            "DialBegin": self._on_dial_begin,
            "DialState": self._on_dial_state,
            "DialEnd": self._on_dial_end,
            "HangupRequest": self._on_hangup_request,
            "SoftHangupRequest": self._on_hangup_request,
            "Hangup": self._on_hangup,
            "VarSet": self._on_varset,
            "OriginateResponse": self._on_originate_response,
        }
        self._touched: set[str] = set()  # Linkedids of the events handled since take_touched()

    def take_touched(self) -> set[str]:
        """The calls events reached since the last call (the recorder writes those that changed)."""
        touched, self._touched = self._touched, set()
        return touched

    # ---- public API -------------------------------------------------------------------
    def handle(self, event: Message, now: float) -> list[Effect]:
        return self.handle_many((event,), now)

    def handle_many(self, events: Iterable[Message], now: float) -> list[Effect]:
        """Effects of a batch. An event whose handler fails is logged and skipped; the rest go on."""
        effects: list[Effect] = []
        handlers, touched = self._handlers, self._touched
        self._expected.expire(now)
        for event in events:
            handler = handlers.get(event.get("Event", ""))
            if handler is None:
                continue
            touched.add(event.get("Linkedid", ""))
            try:
                handler(event, now, effects)
            except Exception:  # one malformed or unforeseen event must not stop the ledger
                log.exception("call tracker: %s event (Uniqueid %s, Linkedid %s) could not be handled; skipped",
                              event.get("Event"), event.get("Uniqueid"), event.get("Linkedid"))
        return effects

    def expect_originate(self, expected: ExpectedOriginate, now: float | None = None) -> None:
        """A click-to-call about to be sent; `now` in the clock of `handle`'s `now` (else the next batch's)."""
        expected = ExpectedOriginate(
            expected.action_id, expected.linkedid, expected.expert_ext, expected.client_number,
            self._linkage(expected.linkedid, "PLANNED_CALL_ID", expected.planned_call_id),
            self._linkage(expected.linkedid, "CLIENT_ID", expected.client_id),
        )
        self._expected.expect(expected, now)

    @property
    def expected_count(self) -> int:
        """Click-to-calls sent that have not become calls yet (for the health page and tests)."""
        return len(self._expected)

    @property
    def expected_actions(self) -> frozenset[str]:
        """The ActionIDs of those click-to-calls."""
        return frozenset(e.action_id for e in self._expected.all())

    def expected_originates(self) -> list[ExpectedOriginate]:
        return self._expected.all()

    @property
    def ignored_count(self) -> int:
        """Linkedids of DS Desk's own ChanSpy sessions, remembered so they are not taken for calls."""
        return len(self._ignored)

    def extension_busy(self, expert_ext: str) -> bool:
        """The Expert has a call up, or a click-to-call sent that has not become a call yet.

        Checked and then expected in one step of the event loop, so a double click cannot
        originate two calls from one phone.
        """
        return (any(call.expert_ext == expert_ext for call in self._calls.values())
                or self._expected.for_extension(expert_ext))

    def ignore_linkedid(self, linkedid: str) -> None:
        """Channels of this Linkedid are not a call (DS Desk's own ChanSpy Originate)."""
        _remember(self._ignored, linkedid)

    def unignore_linkedid(self, linkedid: str) -> None:
        self._ignored.pop(linkedid, None)

    def open_records(self) -> list[CallRecord]:
        return [call.record(None) for call in self._calls.values() if call.opened]

    def was_closed(self, linkedid: str) -> bool:
        """Recently closed: a channel list read before its last Hangup must not bring it back."""
        return linkedid in self._closed

    def is_ignored(self, linkedid: str) -> bool:
        return linkedid in self._ignored
