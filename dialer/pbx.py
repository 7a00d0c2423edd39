"""The PBX side as one object: AMI connection + ledger recorder + the actions DS Desk sends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from dialer import actions
from dialer.ami.message import Message
from dialer.ami_options import AmiOptions
from dialer.cdr_backstop import CdrSource
from dialer.client import AmiConnection
from dialer.errors import AmiActionError, AmiActionTimeout, AmiDisconnected
from dialer.link import LinkState, LinkStatus, link_state
from dialer.numbers import normalise_number
from dialer.originate_watch import OriginateFailure, OriginateWatch, WatchedOriginate
from dialer.recorder import LedgerRecorder, LiveListener
from dialer.records import CallRecord
from dialer.store import CallStore
from dialer.tracker import CallTracker, ExpectedOriginate, TrackerConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
FailureListener = Callable[[OriginateFailure], None]
LinkListener = Callable[[LinkState], None]
VERDICT_MARGIN_S = 30.0  # an Originate's verdict is awaited this long after its phone stops ringing


@dataclass(frozen=True, slots=True)
class OriginateConfig:
    expert_channel: str = "PJSIP/{ext}"  # the Expert's phone; the lab and simulator use Local/{ext}@ds-agents
    context: str = "ds-outbound"  # dialplan context that records (MixMonitor) and dials the client
    timeout_s: float = 30.0  # how long the Expert's own phone may ring
    caller_id: str = "DS Desk <{ext}>"


@dataclass(frozen=True, slots=True)
class PbxStats:
    """Counters for the health page and the tests: what is waiting, and for what."""

    pending_writes: int  # call records waiting for the store
    held_events: int  # live events waiting for their record's commit
    expected_originates: int  # click-to-calls sent that have not become calls yet
    ignored_calls: int  # DS Desk's own ChanSpy sessions, not taken for calls
    committed: int  # records written since start
    rejected: int  # records the store refused (set aside)
    awaited_verdicts: int = 0  # Originates sent for someone whose OriginateResponse has not come yet
    reconciles: int = 0  # reconnects whose open calls were reconciled (the first connect included)


class Pbx:
    """Records every call by itself and places calls for Experts and supervisors.

    The web side talks to it only through the intent methods below; the recorder and the call
    tracker behind them are its own business.
    """

    def __init__(self, options: AmiOptions, store: CallStore, *, tracker_config: TrackerConfig | None = None,
                 originate: OriginateConfig | None = None, cdr: CdrSource | None = None) -> None:
        self._tracker = CallTracker(tracker_config)
        self._recorder = LedgerRecorder(self._tracker, store, cdr=cdr)
        self._originate = originate or OriginateConfig()
        ring_s = max(self._originate.timeout_s, actions.DEFAULT_ORIGINATE_TIMEOUT_MS / 1000)
        self._verdicts = OriginateWatch(ring_s + VERDICT_MARGIN_S)
        self._failure_listeners: list[FailureListener] = []
        self._link_listeners: list[LinkListener] = []
        self._link_seen: tuple[LinkStatus, object] | None = None
        self._link_settled = asyncio.Event()  # the first attempt (or a later one) has an answer
        self._started_at: float | None = None
        self.connection = AmiConnection(
            options,
            on_events=self._on_events,
            on_connected=self._on_connected,
            on_disconnected=self._on_disconnected,
        )
        self.connection.on_attempt_failed = self._on_attempt_failed

    async def start(self) -> None:
        await self._recorder.start()
        self._started_at = time.time()
        await self.connection.start()

    async def close(self) -> None:
        await self.connection.close()
        await self._recorder.stop()

    # ---- what is going on ----------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """An AMI session is up."""
        return self.connection.connected

    def link_state(self) -> LinkState:
        """The AMI link now: connected, connecting, login refused or unreachable, and since when."""
        c = self.connection
        return link_state(connected=c.connected, connected_at=c.connected_at, disconnected_at=c.disconnected_at,
                          started_at=self._started_at, last_error=c.last_error,
                          where=f"{c.options.host}:{c.options.port}")

    async def wait_link_settled(self, timeout: float) -> LinkState:
        """The link state once the first attempt has an answer (or after `timeout` s, still connecting)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._link_settled.wait(), timeout)
        return self.link_state()

    def subscribe_link(self, listener: LinkListener) -> None:
        """`listener(state)` whenever the link's status changes (a failed attempt repeating is no change)."""
        self._link_listeners.append(listener)

    def subscribe_failures(self, listener: FailureListener) -> None:
        """`listener(failure)` when an Originate the PBX accepted fails (`OriginateResponse: Failure`)."""
        self._failure_listeners.append(listener)

    @property
    def ledger_error(self) -> str | None:
        """Why the last write of call records failed (None: the last one succeeded)."""
        return self._recorder.last_error

    def stats(self) -> PbxStats:
        recorder, tracker = self._recorder, self._tracker
        return PbxStats(recorder.pending_count, recorder.held_count, tracker.expected_count,
                        tracker.ignored_count, recorder.committed, recorder.rejected_count, len(self._verdicts),
                        recorder.reconciles)

    @property
    def cdr_error(self) -> str | None:
        """Why the last look-up in Asterisk's CDR failed (None: it worked, or no CDR source is configured)."""
        backstop = self._recorder.backstop
        return None if backstop is None else backstop.last_error

    def cdr_waiting(self) -> int:
        """Calls and gaps the CDR backstop is still looking up (0 without a CDR source)."""
        backstop = self._recorder.backstop
        return 0 if backstop is None else backstop.waiting

    def subscribe(self, listener: LiveListener) -> None:
        """`listener(change, received_at)` for every live state change, once its record is committed."""
        self._recorder.add_listener(listener)

    def extension_busy(self, expert_ext: str) -> bool:
        """The Expert has a call up, or a click-to-call on its way (checked and expected in one step)."""
        return self._tracker.extension_busy(expert_ext)

    def pending_originates(self) -> list[ExpectedOriginate]:
        """Click-to-calls sent that have not become calls yet."""
        return self._tracker.expected_originates()

    def open_calls(self) -> list[CallRecord]:
        """The calls up right now, as records."""
        return self._tracker.open_records()

    def current_call(self, linkedid: str) -> CallRecord | None:
        """A call that is up, as its record now (None when it is not up)."""
        call = self._tracker.calls.get(linkedid)
        return None if call is None or not call.opened else call.record(None)

    # ---- actions -------------------------------------------------------------------------
    async def originate(self, expert_ext: str, client_number: str, *, planned_call_id: str | None = None,
                        client_id: str | None = None, requested_by: int | None = None) -> str:
        """Click-to-call: ring the Expert's phone, then the client's; returns the call's Linkedid.

        Accepted is not done: if the Expert's phone then fails, `subscribe_failures` listeners hear
        it with Asterisk's reason and `requested_by` (whoever asked: handed back as it is).
        """
        number = normalise_number(client_number)
        if not number:
            raise ValueError(f"not a phone number: {client_number!r}")
        linkedid = f"dsd-{uuid.uuid4().hex}"
        action_id = f"c2c-{linkedid}"
        tracker = self._tracker
        tracker.expect_originate(ExpectedOriginate(action_id, linkedid, expert_ext, number, planned_call_id, client_id))
        watched = WatchedOriginate("call", expert_ext, number, requested_by, linkedid)
        self._verdicts.watch(action_id, watched, time.time())
        spec = actions.originate_call(
            expert_channel=self._originate.expert_channel.format(ext=expert_ext),
            context=self._originate.context,
            client_number=number,
            planned_call_id=planned_call_id,
            client_id=client_id,
            channel_id=linkedid,
            other_channel_id=f"{linkedid}-2",
            caller_id=self._originate.caller_id.format(ext=expert_ext),
            timeout_ms=int(self._originate.timeout_s * 1000),
        )
        try:
            await self.connection.perform(spec._replace(headers={**spec.headers, "ActionID": action_id}))
        except (AmiActionTimeout, AmiDisconnected):
            # It may have reached the PBX: keep the expectation (it expires if nothing comes of it).
            raise
        except BaseException:
            tracker.forget_originate(action_id)  # never sent, or refused: no call will come of it
            self._verdicts.forget(action_id)
            raise
        return linkedid

    async def spy(self, supervisor_ext: str, expert_ext: str, mode: actions.SpyMode, *,
                  requested_by: int | None = None) -> None:
        """A supervisor listens, whispers or barges in on an Expert's call (ChanSpy).

        The supervisor's channel gets a Linkedid chosen here, which the tracker ignores: a
        listen-in is not a call of the supervisor's. If the supervisor's phone then fails,
        `subscribe_failures` listeners hear it, as for `originate`.
        """
        expert_prefix = self._originate.expert_channel.format(ext=expert_ext)
        spec = actions.chanspy(
            supervisor_channel=self._originate.expert_channel.format(ext=supervisor_ext),
            expert_channel_prefix=_spy_prefix(expert_prefix),
            mode=mode,
        )
        channel_id = f"dsd-spy-{uuid.uuid4().hex}"
        action_id = f"spy-{channel_id}"
        tracker = self._tracker
        tracker.ignore_linkedid(channel_id)
        self._verdicts.watch(action_id, WatchedOriginate("spy", supervisor_ext, expert_ext, requested_by), time.time())
        try:
            await self.connection.perform(spec._replace(
                headers={**spec.headers, "ChannelId": channel_id, "ActionID": action_id}))
        except (AmiActionTimeout, AmiDisconnected):
            raise
        except BaseException:
            tracker.unignore_linkedid(channel_id)
            self._verdicts.forget(action_id)
            raise

    async def hangup(self, channel: str) -> None:
        await self.connection.perform(actions.hangup(channel))

    async def hang_up_call(self, linkedid: str, expert_ext: str) -> bool:
        """End the Expert's own call from the screen: hang up one leg of theirs (the PBX ends the rest).

        False when the call is not up or is not this Expert's (nothing is sent then). One leg only:
        a Local channel's two halves both look like the Expert's, and the second Hangup would race
        the first and fail with "No such channel".
        """
        call = self._tracker.calls.get(linkedid)
        if call is None or call.expert_ext != expert_ext:
            return False
        legs = [leg for leg in call.legs.values() if leg.alive]
        target = next((leg for leg in legs if leg.is_expert), legs[0] if legs else None)
        if target is None:
            return False
        try:
            await self.hangup(target.channel)
        except AmiActionError:
            # Hung up on the phone at the same moment: the call is over either way.
            still = self._tracker.calls.get(linkedid)
            if still is not None and any(leg.alive for leg in still.legs.values()):
                raise
        return True

    # ---- PbxActions for the recorder's reconcile --------------------------------------
    async def ping(self) -> Message:
        return await self.connection.perform(actions.ping())

    async def core_status(self) -> Message:
        return await self.connection.perform(actions.core_status())

    async def core_show_channels(self) -> list[Message]:
        spec = actions.core_show_channels()
        _, items = await self.connection.list_action(spec.name, **dict(spec.headers))  # type: ignore[arg-type]  # AMI headers only
        return [item for item in items if item.get("Event") == "CoreShowChannel"]

    async def channel_variables(self) -> dict[str, dict[str, str]]:
        """Uniqueid → the channel's variables (Status with AllVariables), for calls adopted after a gap."""
        spec = actions.status_all_variables()
        _, items = await self.connection.list_action(spec.name, **dict(spec.headers))  # type: ignore[arg-type]  # AMI headers only
        return {item["Uniqueid"]: _variables(item) for item in items
                if item.get("Event") == "Status" and item.get("Uniqueid")}

    def _on_events(self, events: list[Message], received_at: float) -> None:
        self._recorder.on_events(events, received_at)
        if self._verdicts:  # only while an Originate of ours awaits its verdict
            for failure in self._verdicts.failures(events, received_at):
                log.warning("%s Originate for extension %s failed at the PBX: Reason %s",
                            failure.kind, failure.ext, failure.reason)
                _tell(self._failure_listeners, failure)

    async def _on_connected(self, is_reconnect: bool) -> None:
        log.info("AMI %s", "reconnected" if is_reconnect else "connected")
        self._link_changed()
        await self._recorder.on_connected(self, is_reconnect)

    async def _on_disconnected(self, error: BaseException | None) -> None:
        if error is not None:
            log.warning("AMI connection lost: %s", error)
        self._recorder.on_disconnected()
        self._link_changed()

    def _on_attempt_failed(self, error: BaseException) -> None:
        self._link_changed()

    def _link_changed(self) -> None:
        state = self.link_state()
        if state.status is not LinkStatus.CONNECTING:
            self._link_settled.set()
        seen = (state.status, state.since)
        if seen != self._link_seen:
            self._link_seen = seen
            _tell(self._link_listeners, state)


def _variables(item: Message) -> dict[str, str]:
    pairs = (value.partition("=") for value in item.values_of("Variable"))
    return {name: value for name, sep, value in pairs if sep and name}


def _tell(listeners: list[Callable[[T], None]], what: T) -> None:
    for listener in listeners:
        try:
            listener(what)
        except Exception:  # one screen's trouble must not stop the PBX side
            log.exception("a PBX listener failed on %r", what)


def _spy_prefix(channel: str) -> str:
    # `PJSIP/101` would also match 1011: spy on `PJSIP/101-`; Local channels end at the context.
    return channel if "@" in channel else channel + "-"
