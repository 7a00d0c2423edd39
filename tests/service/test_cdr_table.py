"""Asterisk's CDR in a PostgreSQL table (`cdr_pgsql`, docs/asterisk.md §6) read as the ledger's backstop."""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import text

from dialer.cdr import record_from_rows
from dialer.records import Outcome
from dialer.tracker import CallTracker
from service.db.cdr_table import CdrTableSource
from service.db.engine import create_engine
from tests.dialer.test_cdr import capture

DOCS = Path(__file__).resolve().parents[2] / "docs" / "asterisk.md"


def documented_table() -> str:
    return re.search(r"```sql\n(CREATE TABLE cdr .*?;)", DOCS.read_text(encoding="utf-8"), re.S)[1]  # type: ignore[index]


@pytest.mark.pg
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_the_documented_table_gives_the_call_back(db_url: str) -> None:
    records, rows = capture("busy.ami")
    [truth] = records
    engine = create_engine(db_url)
    async with engine.begin() as connection:
        await connection.execute(text(documented_table()))
        for row in rows[truth.linkedid]:
            await connection.execute(text(
                'INSERT INTO cdr (linkedid, uniqueid, channel, dstchannel, src, dst, lastapp, start, answer, "end",'
                " disposition, client_id, planned_call_id) VALUES (:linkedid, :uniqueid, :channel, :dstchannel,"
                " :src, :dst, :lastapp, :start, :answer, :end, :disposition, :client_id, :planned_call_id)"),
                {k: getattr(row, k) for k in ("linkedid", "uniqueid", "channel", "dstchannel", "src", "dst",
                                              "lastapp", "start", "answer", "end", "disposition", "client_id",
                                              "planned_call_id")})
    source = CdrTableSource(db_url, "cdr", UTC, engine=engine)
    try:
        by_id = await source.rows_for([truth.linkedid, "nobody"])
        assert set(by_id) == {truth.linkedid}
        built = record_from_rows(by_id[truth.linkedid], CallTracker().expert_ext_of)
        assert built is not None and built.outcome is Outcome.BUSY and built.planned_call_id == truth.planned_call_id
        assert truth.ended_at is not None
        end = truth.ended_at.timestamp()
        assert set(await source.rows_ended_between(end - 30, end + 5)) == {truth.linkedid}
        assert await source.rows_ended_between(end + 60, end + 120) == {}
    finally:
        await source.close()
