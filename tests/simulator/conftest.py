"""Fixtures: a fast simulator on port 0 and a logged-in raw AMI client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialer.simulator import PbxSimulator, SimulatorConfig
from tests.simulator.amiclient import AmiTestClient

FAST = 500.0  # simulated seconds per real second: a 12 s call plays in ~25 ms
EPOCH = 1_803_859_200.0  # 2027-03-01 00:00:00 UTC: not the captures' day, so their ids cannot leak through


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[PbxSimulator]:
    simulator = PbxSimulator(SimulatorConfig(speed=FAST, epoch=EPOCH, seed=7, recordings_dir=tmp_path / "rec"))
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def client(sim: PbxSimulator) -> AsyncIterator[AmiTestClient]:
    ami = await AmiTestClient.connect(sim.port)
    response = await ami.login()
    assert response["Message"] == "Authentication accepted"
    await ami.until(lambda m: m.get("Event") == "SuccessfulAuth")
    yield ami
    await ami.close()
