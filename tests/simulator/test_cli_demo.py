"""The standalone entry point and the background demo load."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from dialer.simulator import PbxSimulator, SimulatorConfig
from tests.simulator.amiclient import AmiTestClient, eventually

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_cli_serves_ami() -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dialer.simulator", "--port", str(port), "--speed", "100", "--seed", "3",
        "--demo-experts", "101", "--demo-interval", "30", cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        client = None
        for _ in range(200):
            try:
                client = await AmiTestClient.connect(port)
                break
            except OSError:
                await asyncio.sleep(0.025)
        assert client is not None, "the simulator did not start listening"
        assert (await client.login())["Message"] == "Authentication accepted"
        newchannel = await client.until(lambda m: m.get("Event") == "Newchannel", timeout=5)
        assert newchannel[-1]["Channel"].startswith(("Local/101@ds-agents-", "Local/79"))  # demo call
        await client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=5)
    assert process.returncode == 0


async def test_demo_load_calls_from_each_expert() -> None:
    config = SimulatorConfig(speed=1000, seed=5, demo_experts=("101", "102"), demo_interval_s=60,
                             talk_s=(5, 10), ring_s=(1, 3))
    async with PbxSimulator(config) as sim:
        await eventually(lambda: {t.expert_ext for t in sim.truth.values()} == {"101", "102"}, timeout=3)
        await eventually(lambda: sum(not t.is_open for t in sim.truth.values()) >= 4, timeout=3)
    assert all(not t.is_open for t in sim.truth.values())
