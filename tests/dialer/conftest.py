"""Fixtures for the AMI client tests: a scripted fake AMI server and a recording consumer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.dialer.fake_ami import FakeAmi
from tests.dialer.fake_ami_consumer import Connector, Recorder


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    async with FakeAmi() as server:
        yield server


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
async def connect(rec: Recorder) -> AsyncIterator[Connector]:
    connector = Connector(rec)
    yield connector
    await connector.close_all()
