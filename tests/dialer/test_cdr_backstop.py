"""The CDR backstop's shell: retries while Asterisk's CDR is unreadable, says why, and puts the guess right after."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialer import cdr_backstop
from dialer.cdr import CDR_COLUMNS
from dialer.cdr_backstop import CdrBackstop
from dialer.cdr_sources import CdrFileSource
from dialer.records import Q_END_INFERRED, Q_FROM_CDR, CallRecord, Outcome
from dialer.tracker import CallTracker
from tests.dialer.test_cdr import capture


class NoCalls:
    async def existing_linkedids(self, linkedids: Collection[str]) -> set[str]:
        return set()

    async def guessed_calls(self, since: datetime) -> list[CallRecord]:
        return []


async def test_an_unreadable_cdr_is_reported_and_the_guess_put_right_once_it_is_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdr_backstop, "ERROR_RETRY_S", 0.05)
    monkeypatch.setattr(cdr_backstop, "RETRY_AFTER_S", (0.0, 0.05, 0.05, 0.05, 0.05))
    records, rows = capture("busy.ami")
    [truth] = records
    guessed = dataclasses.replace(truth, outcome=Outcome.CANCELLED, quality=(Q_END_INFERRED,))
    path = tmp_path / "cdr" / "dsdesk.csv"
    put: list[CallRecord] = []
    backstop = CdrBackstop(CdrFileSource(path, UTC), NoCalls(), CallTracker().expert_ext_of, lambda _: True, put.append)
    backstop.start()
    try:
        backstop.closed(guessed)
        for _ in range(100):
            if backstop.last_error:
                break
            await asyncio.sleep(0.01)
        assert backstop.last_error is not None and "FileNotFoundError" in backstop.last_error
        path.parent.mkdir()
        with path.open("w", newline="", encoding="utf-8") as out:  # Asterisk writes it at last
            writer = csv.writer(out, quoting=csv.QUOTE_ALL)
            for row in rows[truth.linkedid]:
                fields = {**dataclasses.asdict(row), "dcontext": "", "duration": "", "billsec": ""}
                writer.writerow(["" if fields[c] is None else fields[c] for c in CDR_COLUMNS])
        for _ in range(200):
            if put:
                break
            await asyncio.sleep(0.01)
    finally:
        await backstop.stop()
    [fixed] = put
    assert fixed.outcome is Outcome.BUSY and Q_FROM_CDR in fixed.quality and backstop.last_error is None
    assert backstop.waiting == 0
