"""The built-in PBX: a real TCP AMI server that plays calls from real Asterisk 22 captures."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from types import TracebackType

from dialer.ami.message import Message
from dialer.records import Direction
from dialer.simulator.actions import Actions, utc_date_time
from dialer.simulator.calls import CallRun
from dialer.simulator.cdr_file import CdrFile
from dialer.simulator.channels import ChannelTable
from dialer.simulator.chanspy import SpySession
from dialer.simulator.config import CallScript, Scenario, SimulatorConfig
from dialer.simulator.core import PbxCounters, SimClock
from dialer.simulator.demo import DemoLoad
from dialer.simulator.dialing import (
    OriginateRequest,
    choose_outbound,
    dial_timeout,
    originate_error,
    parse_originate,
    resolve_plan,
)
from dialer.simulator.errors import SimulatorStateError
from dialer.simulator.events import OutEvent
from dialer.simulator.failures import REASON_NO_SUCH_EXTENSION, failed_originate_response
from dialer.simulator.frames import Headers
from dialer.simulator.render import CallIds, CallParams
from dialer.simulator.session import AmiSession
from dialer.simulator.templates import SCENARIO_FILES, CallTemplate, compile_template
from dialer.simulator.truth import ChanSpyRequest, TruthRecord, sim_datetime


@functools.cache
def load_builtin_templates() -> Mapping[Scenario, CallTemplate]:
    """Read and compile every capture shipped in dialer/simulator/templates/ (once per process)."""
    folder = resources.files("dialer.simulator").joinpath("templates")
    return {s: compile_template(s, folder.joinpath(name).read_bytes()) for s, name in SCENARIO_FILES.items()}


class PbxSimulator:
    """Serve AMI on `config.host:config.port` (0 = any free port; see `.port`) and play calls.

    Outbound calls start from an AMI Originate (or `start_outbound`), inbound ones from
    `start_inbound`. `truth` holds what really happened, keyed by Linkedid.
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.rng = random.Random(self.config.seed)
        self.clock = SimClock(self.config.epoch if self.config.epoch is not None else time.time(), self.config.speed)
        self.counters = PbxCounters(self.rng)
        self.templates = load_builtin_templates()
        self.channels = ChannelTable()
        self.truth: dict[str, TruthRecord] = {}
        self.chanspy_log: list[ChanSpyRequest] = []
        self.scripts: dict[str, CallScript] = dict(self.config.scripts)
        self.unknown_extensions: set[str] = set(self.config.unknown_extensions)  # an Originate to one fails
        self.startup_time = self.reload_time = self.clock.now()
        self.processed_calls = 0
        self._calls: dict[str, CallRun] = {}
        self._spies: set[SpySession] = set()
        self._sessions: set[AmiSession] = set()
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._actions = Actions(self)
        self._demo = DemoLoad(self)
        self._inbound_seq = 0
        self.locked_until = 0.0  # simulated time: logins refused until then (lock_out)
        self._cdr: CdrFile | None = None

    # ----- lifecycle -------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise SimulatorStateError("the simulator is not started")
        return self._port

    @property
    def host(self) -> str:
        return self.config.host

    async def start(self) -> None:
        await self._listen(self.config.port)
        self._demo.start()

    async def stop(self) -> None:
        self._demo.stop()
        for call in list(self._calls.values()):
            call.kill("stop")
        for spy in list(self._spies):
            spy.kill()
        self.drop_connections()
        await self._close_listener()

    async def __aenter__(self) -> PbxSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _listen(self, port: int) -> None:
        self._server = await asyncio.start_server(self._on_connect, self.config.host, port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2)
            self._server = None

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(reader, writer, self._actions, self.config.max_queued_frames, self.clock.now())
        self._sessions.add(session)
        try:
            await session.serve()
        finally:
            self._sessions.discard(session)

    # ----- calls -----------------------------------------------------------------------

    def script(self, number: str, scenario: Scenario | str, *, ring_s: float | None = None,
               talk_s: float | None = None, expert_ring_s: float | None = None) -> None:
        """Pin how calls to (outbound) or from (inbound) `number` go, until changed."""
        self.scripts[number] = CallScript(Scenario(scenario), ring_s, talk_s, expert_ring_s)

    def start_outbound(
        self, ext: str, number: str, *, scenario: Scenario | str | None = None, ring_s: float | None = None,
        talk_s: float | None = None, expert_ring_s: float | None = None, caller_name: str | None = None,
        caller_num: str | None = None, variables: tuple[tuple[str, str], ...] = (), action_id: str | None = None,
        channel_id: str | None = None, other_channel_id: str | None = None, timeout_s: float | None = None,
        requested_channel: str | None = None,
    ) -> TruthRecord:
        """What an Originate to `Local/<ext>@ds-agents`, `ds-outbound`, `<number>` sets off."""
        script = self._script_for(number, scenario, ring_s, talk_s, expert_ring_s)
        if script.scenario.direction is not Direction.OUTBOUND:
            raise ValueError(f"{script.scenario} is not an outbound scenario")
        plan = resolve_plan(script.scenario, script, self.config, self.rng, timeout_s)
        name = caller_name if caller_name is not None else self.config.expert_name
        params = CallParams(
            ext, number, name, caller_num or ext, variables, action_id,
            requested_channel or f"Local/{ext}@ds-agents", dial_timeout(plan, self.config), self.config.monitor_dir,
        )
        ids = self._call_ids(channel_id, other_channel_id, "agent")
        variables_map = dict(variables)
        truth = TruthRecord(
            ids.uid("agent1", self.clock.now()), Direction.OUTBOUND, plan.scenario, ext, number, plan,
            planned_call_id=variables_map.get("PLANNED_CALL_ID"), client_id=variables_map.get("CLIENT_ID"),
            action_id=action_id,
        )
        return self._launch(CallRun(self, plan, params, ids, truth))

    def start_inbound(
        self, caller_number: str, caller_name: str | None, expert_ext: str, *,
        scenario: Scenario | str | None = None, ring_s: float | None = None, talk_s: float | None = None,
        action_id: str | None = None,
    ) -> TruthRecord:
        """A client calls an Expert; `ring_s` is how long the Expert's phone rings."""
        pinned = self.scripts.get(caller_number)
        if scenario is None and (pinned is None or pinned.scenario.direction is not Direction.INBOUND):
            scenario = Scenario.INBOUND_ANSWERED
        script = self._script_for(caller_number, scenario, ring_s, talk_s, None)
        if script.scenario.direction is not Direction.INBOUND:
            raise ValueError(f"{script.scenario} is not an inbound scenario")
        plan = resolve_plan(script.scenario, script, self.config, self.rng)
        self._inbound_seq += 1
        action_id = action_id if action_id is not None else f"sim-inbound-{self._inbound_seq}"
        params = CallParams(
            expert_ext, caller_number, caller_name or "", expert_ext, (), action_id,
            f"Local/{caller_number}@ds-pstn-phone", dial_timeout(plan, self.config), self.config.monitor_dir,
        )
        ids = CallIds(self.counters)
        truth = TruthRecord(
            ids.uid("pstn1", self.clock.now()), Direction.INBOUND, plan.scenario, expert_ext, caller_number, plan,
            client_name=caller_name, action_id=action_id,
        )
        return self._launch(CallRun(self, plan, params, ids, truth))

    def _script_for(self, number: str, scenario: Scenario | str | None, ring_s: float | None,
                    talk_s: float | None, expert_ring_s: float | None) -> CallScript:
        pinned = self.scripts.get(number)
        chosen = Scenario(scenario) if scenario is not None else pinned.scenario if pinned else None
        if chosen is None:
            chosen = choose_outbound(self.config, self.rng)
        base = pinned if pinned is not None and pinned.scenario is chosen else CallScript(chosen)
        return CallScript(
            chosen,
            ring_s if ring_s is not None else base.ring_s,
            talk_s if talk_s is not None else base.talk_s,
            expert_ring_s if expert_ring_s is not None else base.expert_ring_s,
        )

    def _call_ids(self, channel_id: str | None, other_channel_id: str | None, kind: str) -> CallIds:
        ids = CallIds(self.counters)
        if channel_id:
            ids.uids[kind + "1"] = channel_id  # Originate ChannelId: the first channel's Uniqueid
        if other_channel_id:
            ids.uids[kind + "2"] = other_channel_id
        return ids

    def _launch(self, call: CallRun) -> TruthRecord:
        if self._server is None:
            raise SimulatorStateError("start() the simulator before placing calls")
        self._calls[call.linkedid] = call
        self.truth[call.linkedid] = call.truth
        self.processed_calls += 1
        call.start()
        return call.truth

    @property
    def live_calls(self) -> list[TruthRecord]:
        return [call.truth for call in self._calls.values()]

    def live_call_for(self, ext: str) -> TruthRecord | None:
        return next((c.truth for c in self._calls.values() if c.truth.expert_ext == ext), None)

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no call and no ChanSpy is up (real seconds)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._calls or self._spies:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{len(self._calls)} calls still up after {timeout}s")
            await asyncio.sleep(0.005)

    # ----- AMI actions -----------------------------------------------------------------

    def validate_originate(self, msg: Message) -> str | None:
        return originate_error(msg)

    def originate_from_action(self, msg: Message) -> None:
        request = parse_originate(msg)
        if request.ext in self.unknown_extensions:  # Asterisk: queued, then failed with Reason 0
            now = self.clock.now()
            failure = failed_originate_response(request, msg.header("Context") or "", REASON_NO_SUCH_EXTENSION, now)
            self.emit(OutEvent.from_headers(failure, now), None)
            return
        if request.is_chanspy:
            self._start_chanspy(request)
            return
        has_caller_id = bool(request.caller_name or request.caller_num)
        self.start_outbound(
            request.ext, request.exten, caller_name=request.caller_name if has_caller_id else None,
            caller_num=request.caller_num or None, variables=request.variables, action_id=request.action_id,
            channel_id=request.channel_id, other_channel_id=request.other_channel_id, timeout_s=request.timeout_s,
            requested_channel=request.channel,
        )

    def _start_chanspy(self, request: OriginateRequest) -> None:
        params = CallParams(
            request.ext, "", request.caller_name, request.caller_num or request.ext, request.variables,
            request.action_id, request.channel,
        )
        ids = self._call_ids(request.channel_id, request.other_channel_id, "agent")
        spy = SpySession(self, params, ids, request.data, self.rng.uniform(*self.config.expert_ring_s))
        self.chanspy_log.append(ChanSpyRequest(
            sim_datetime(self.clock.now()), request.channel, request.data, spy.target, spy.options,
            request.action_id, spy.linkedid,
        ))
        self._spies.add(spy)
        spy.start()

    def channel_owners(self, name: str) -> list[CallRun | SpySession]:
        """The calls (or ChanSpy sessions) a Hangup `Channel:` names; `/regex/` as in Asterisk."""
        if len(name) > 2 and name.startswith("/") and name.endswith("/"):
            pattern = re.compile(name[1:-1])
            matches = [c for c in self.channels.channels() if pattern.search(c.name)]
        else:
            found = self.channels.by_name(name)
            matches = [found] if found else []
        owners: list[CallRun | SpySession] = []
        for channel in matches:
            if isinstance(channel.owner, (CallRun, SpySession)) and channel.owner not in owners:
                owners.append(channel.owner)
        return owners

    def fully_booted_headers(self) -> Headers:
        now = self.clock.now()
        return [
            ("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", str(int(now - self.startup_time))),
            ("LastReload", str(int(now - self.reload_time))), ("Status", "Fully Booted"),
        ]

    def core_status_headers(self) -> Headers:
        start_date, start_time = utc_date_time(self.startup_time)
        reload_date, reload_time = utc_date_time(self.reload_time)
        return [
            ("CoreStartupDate", start_date), ("CoreStartupTime", start_time),
            ("CoreReloadDate", reload_date), ("CoreReloadTime", reload_time),
            ("CoreCurrentCalls", str(len(self.channels))), ("CoreProcessedCalls", str(self.processed_calls)),
        ]

    def announce_login(self, session: AmiSession) -> None:
        """The `SuccessfulAuth` security event every session with class `security` sees."""
        now = self.clock.now()
        local, remote = session.local, session.peer
        self.emit(OutEvent.from_headers([
            ("Event", "SuccessfulAuth"), ("Privilege", "security,all"), ("Timestamp", f"{now:.6f}"),
            ("EventTV", _event_tv(now)), ("Severity", "Informational"), ("Service", "AMI"), ("EventVersion", "1"),
            ("AccountID", session.username), ("SessionID", f"0x{id(session):x}"),
            ("LocalAddress", f"IPV4/TCP/{local[0]}/{local[1]}"), ("RemoteAddress", f"IPV4/TCP/{remote[0]}/{remote[1]}"),
            ("UsingPassword", "0"), ("SessionTV", _event_tv(session.opened_at)),  # 0, as in the captures
        ], now), None)

    # ----- the host side of calls --------------------------------------------------------

    def emit(self, event: OutEvent, owner: object) -> None:
        """Send one event to every session that wants it, and keep the channel list current."""
        if owner is not None:
            self.channels.observe(event, owner)
            if self._cdr is not None and event.name == "Cdr" and isinstance(owner, CallRun):
                self._cdr.write(event, owner.linkedid, owner.truth.recording)
        for session in self._sessions:
            session.deliver(event)

    def call_ended(self, call: CallRun) -> None:
        self._calls.pop(call.linkedid, None)
        self.channels.forget(call)

    def spy_ended(self, spy: SpySession) -> None:
        self._spies.discard(spy)
        self.channels.forget(spy)

    # ----- faults ------------------------------------------------------------------------

    @property
    def connected_clients(self) -> int:
        return len(self._sessions)

    def drop_connections(self) -> None:
        """Reset every client socket; calls go on inside the PBX and clients may reconnect."""
        for session in list(self._sessions):
            session.abort()

    def lock_out(self, seconds: float) -> None:
        """The AMI user is locked out for `seconds` (simulated) while the PBX goes on with its calls:
        every session is dropped and each login meanwhile is refused ("Authentication failed")."""
        self.locked_until = self.clock.now() + seconds
        self.drop_connections()

    def write_cdr(self, path: Path) -> None:
        """From now on, write Asterisk's CDR rows to `path` as `cdr_custom` does (dialer/simulator/cdr_file.py)."""
        self._cdr = CdrFile(path)

    async def restart(self) -> None:
        """The PBX dies and comes back: sockets reset, live calls vanish silently, new startup time."""
        self.drop_connections()
        await self._close_listener()
        for call in list(self._calls.values()):
            call.kill("restart")
        for spy in list(self._spies):
            spy.kill()
        self.channels.clear()
        self.clock.advance(self.config.restart_downtime_s)
        self.startup_time = self.reload_time = self.clock.now()
        await asyncio.sleep(self.config.restart_pause_real_s)
        await self._listen(self._port or self.config.port)

    def inject_raw(self, data: bytes) -> None:
        """Write bytes as they are to every connected client (garbage, oversized or cp1251 frames)."""
        for session in list(self._sessions):
            session.send(data)


def _event_tv(ts: float) -> str:
    moment = datetime.fromtimestamp(ts, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
