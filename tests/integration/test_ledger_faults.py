"""Bad input and a failing database, end to end: the service keeps running and loses nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from dialer.records import Outcome
from tests.integration.test_ledger_over_tcp import Rig, rig, settled_records  # noqa: F401 - fixture

CAPTURES = Path(__file__).parent.parent / "fixtures" / "ami" / "asterisk-22"


def capture_events_cp1251(name: str) -> bytes:
    """The capture's event frames (no banner/responses), re-encoded the way an old trunk sends names."""
    frames = CAPTURES.joinpath(name).read_bytes().split(b"\r\n\r\n")
    events = [f for f in frames if f.startswith(b"Event: ") and b"Event: FullyBooted" not in f]
    return b"".join(f.decode("utf-8").encode("cp1251") + b"\r\n\r\n" for f in events)


async def test_garbage_oversized_and_cp1251_are_skipped_or_decoded(rig: Rig, caplog) -> None:  # noqa: F811 - fixture
    rig.sim.inject_raw(b"\x00\xff garbage without structure\r\n\r\n")
    rig.sim.inject_raw(b"Event: Newexten\r\nAppData: " + b"x" * 400_000 + b"\r\n\r\n")
    rig.sim.inject_raw(capture_events_cp1251("inbound-answered.ami"))
    rig.sim.start_outbound("101", "79115550101", scenario="answered", ring_s=1, talk_s=3)
    await rig.sim.wait_idle()
    records = await settled_records(rig, 2)
    inbound = records["1795824108.57"]
    assert inbound.client_name == "ООО Ромашка" and inbound.outcome is Outcome.ANSWERED
    assert inbound.talk_s == pytest.approx(8.0, abs=0.01)
    assert rig.pbx.connection.connected
    assert "exceeds the" in caplog.text and "unparsable AMI frame" in caplog.text


async def test_database_outage_loses_nothing_and_duplicates_nothing(rig: Rig, migrated_db: str) -> None:  # noqa: F811 - fixture
    blocker = _DatabaseOutage(migrated_db)
    await blocker.start()
    for i in range(5):
        rig.sim.start_outbound(f"10{i}", f"7911555020{i}", scenario="answered", ring_s=1, talk_s=2)
    await rig.sim.wait_idle()
    for _ in range(300):
        if rig.pbx.ledger_error is not None:
            break
        await asyncio.sleep(0.05)
    assert rig.pbx.ledger_error is not None, "the outage did not happen"
    await blocker.stop()
    records = await settled_records(rig, 5)
    assert set(records) == set(rig.sim.truth)
    assert await rig.ledger.count_calls() == 5
    assert rig.pbx.ledger_error is None


class _DatabaseOutage:
    """PostgreSQL: terminate our connections while refusing new ones. SQLite: hold an exclusive lock."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._task: asyncio.Task[None] | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        if self.url.startswith("sqlite"):
            self._sqlite = sqlite3.connect(self.url.split("///", 1)[1], timeout=0, isolation_level=None)
            self._sqlite.execute("BEGIN EXCLUSIVE")
        else:
            self._task = asyncio.create_task(self._keep_killing())

    async def stop(self) -> None:
        if self._sqlite is not None:
            self._sqlite.execute("ROLLBACK")
            self._sqlite.close()
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _keep_killing(self) -> None:
        dbname = self.url.rsplit("/", 1)[1]
        admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        try:
            await admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
            while not self._stop.is_set():
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 "
                    "AND pid <> pg_backend_pid()", dbname)
                await asyncio.sleep(0.05)
            await admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        finally:
            await admin.close()


@pytest.mark.pg
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_record_the_database_refuses_is_set_aside_and_the_others_are_written(ledger, caplog) -> None:
    """PostgreSQL refuses a PLANNED_CALL_ID longer than its column: that record alone is set aside."""
    from dialer.recorder import LedgerRecorder
    from dialer.tracker import CallTracker, TrackerConfig
    from tests.dialer.test_tracker_review import at, pjsip_click_to_call_answered

    # A tracker that lets an over-long id through, so the database is what refuses it.
    recorder = LedgerRecorder(CallTracker(TrackerConfig(max_linkage_len=100)), ledger,
                              flush_interval_s=0.01, max_retry_s=0.05)
    await recorder.start()
    try:
        for n, planned in enumerate(["PC-1", "PC-" + "9" * 40, "PC-3"]):
            _, events = pjsip_click_to_call_answered()
            ids = {"dsd-a": f"dsd-r{n}", "1796000002.2": f"1796000002.{n}"}
            for msg in events:
                for key in ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid"):
                    msg[key] = ids.get(msg.get(key, ""), msg.get(key, ""))
                if msg.get("Variable") == "PLANNED_CALL_ID":
                    msg["Value"] = planned
            recorder.on_events(events, at(40.0))
        for _ in range(200):
            if recorder.pending_count == 0:
                break
            await asyncio.sleep(0.02)
    finally:
        await recorder.stop()
    assert [(await ledger.get_call(f"dsd-r{n}")) is not None for n in range(3)] == [True, False, True]
    assert (await ledger.get_call("dsd-r2")).outcome is Outcome.ANSWERED
    assert list(recorder.rejected) == ["dsd-r1"] and recorder.last_error is None
    assert "dsd-r1" in caplog.text and "refused" in caplog.text and "StringDataRightTruncation" in caplog.text


async def test_sqlite_connections_keep_a_small_statement_cache(tmp_path: Path, monkeypatch) -> None:
    """Multi-row upserts of every batch size filled sqlite3's 128-statement cache (~30 MB of RSS)."""
    import aiosqlite.core
    from sqlalchemy import text

    from service.db.engine import create_engine

    seen: list[dict] = []
    real_connect = aiosqlite.core.sqlite3.connect

    def connect(*args, **kwargs):
        seen.append(kwargs)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.sqlite3, "connect", connect)
    engine = create_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()
    assert seen and all(kwargs.get("cached_statements") == 16 for kwargs in seen)
