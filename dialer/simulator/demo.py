"""Background demo load for `make run`: each configured Expert makes (or gets) a call every N simulated seconds."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from dialer.records import Direction
from dialer.simulator.dialing import choose_scenario
from dialer.simulator.errors import SimulatorStateError

if TYPE_CHECKING:
    from dialer.simulator.server import PbxSimulator

log = logging.getLogger(__name__)

DEMO_CALLER_NAMES = ("ООО Ромашка", "ИП Смирнов", "АО Вектор", "")


class DemoLoad:
    """One task per Expert extension; a call starts only when the Expert is free."""

    def __init__(self, pbx: PbxSimulator) -> None:
        self.pbx = pbx
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        for ext in self.pbx.config.demo_experts:
            self._tasks.append(loop.create_task(self._expert_loop(ext), name=f"sim-demo-{ext}"))

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    async def _expert_loop(self, ext: str) -> None:
        pbx = self.pbx
        interval = pbx.config.demo_interval_s
        # Spread the Experts out so the first calls do not all start together.
        await asyncio.sleep(pbx.clock.to_real(pbx.rng.uniform(0, interval)))
        while True:
            try:
                if pbx.live_call_for(ext) is None:
                    self._one_call(ext)
            except SimulatorStateError:
                pass  # the PBX is restarting: this slot's call is simply not made
            except Exception:  # a demo must keep going; the failure is still visible in the log
                log.exception("demo call for extension %s failed", ext)
            await asyncio.sleep(pbx.clock.to_real(interval))

    def _one_call(self, ext: str) -> None:
        pbx = self.pbx
        number, name, client_id = self._pick_client()
        scenario = choose_scenario(pbx.config, pbx.rng)
        if scenario.direction is Direction.INBOUND:
            pbx.start_inbound(number, name, ext, scenario=scenario)
        else:
            # As DS Desk's click-to-call would: the client's id travels as a channel variable.
            variables = (("CLIENT_ID", client_id),) if client_id else ()
            pbx.start_outbound(ext, number, scenario=scenario,
                               caller_name=pbx.config.expert_name or f"Эксперт {ext}", variables=variables)

    def _pick_client(self) -> tuple[str, str, str]:
        pbx = self.pbx
        if pbx.config.demo_clients:
            return pbx.rng.choice(pbx.config.demo_clients)
        number = "79" + "".join(str(pbx.rng.randrange(10)) for _ in range(9))
        return number, pbx.rng.choice(DEMO_CALLER_NAMES), ""
