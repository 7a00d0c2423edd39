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
from dialer.cdr import CDR_COLUMNS, CdrRow, correct
from dialer.cdr_backstop import CdrBackstop
from dialer.cdr_sources import CdrFileSource
from dialer.records import Q_END_INFERRED, Q_FROM_CDR, Q_START_INFERRED, CallRecord, Outcome
from dialer.tracker import CallTracker
from tests.dialer.test_cdr import capture


class NoCalls:
    async def existing_linkedids(self, linkedids: Collection[str]) -> set[str]:
        return set()

    async def guessed_calls(self, since: datetime) -> list[CallRecord]:
        return []

    async def last_call_time(self) -> datetime | None:
        return None


async def test_an_unreadable_cdr_is_reported_and_the_guess_put_right_once_it_is_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdr_backstop, "ERROR_RETRY_S", 0.05)
    monkeypatch.setattr(cdr_backstop, "RETRY_AFTER_S", (0.0, 0.05, 0.05, 0.05, 0.05))
    monkeypatch.setattr(cdr_backstop, "SECOND_LOOK_S", 0.05)
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
            if put and backstop.waiting == 0:  # corrected, and looked at once more
                break
            await asyncio.sleep(0.01)
    finally:
        await backstop.stop()
    [fixed] = put  # the second look found nothing new: written once
    assert fixed.outcome is Outcome.BUSY and Q_FROM_CDR in fixed.quality and backstop.last_error is None
    assert backstop.waiting == 0


class FailsOnce:
    """A CDR source that fails its first look-up (a table away, a file being rotated)."""

    def __init__(self, rows: dict[str, list[CdrRow]]) -> None:
        self.rows, self.calls = rows, 0

    async def rows_for(self, linkedids: Collection[str]) -> dict[str, list[CdrRow]]:
        return {k: v for k, v in self.rows.items() if k in linkedids}

    async def close(self) -> None:
        pass

    async def rows_ended_between(self, start: float, end: float) -> dict[str, list[CdrRow]]:
        self.calls += 1
        if self.calls == 1:
            raise OSError("the CDR table is away")
        return self.rows


async def test_a_gaps_window_is_kept_until_a_search_of_it_worked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdr_backstop, "ERROR_RETRY_S", 0.05)
    records, rows = capture("busy.ami")
    [truth] = records
    put: list[CallRecord] = []
    source = FailsOnce(rows)
    backstop = CdrBackstop(source, NoCalls(), CallTracker().expert_ext_of, lambda _: False, put.append)
    backstop.start()
    try:
        assert truth.ended_at is not None
        end = truth.ended_at.timestamp()
        backstop.gap(end - 30, end + 1)
        for _ in range(200):
            if put:
                break
            await asyncio.sleep(0.01)
    finally:
        await backstop.stop()
    assert source.calls >= 2 and [r.linkedid for r in put] == [truth.linkedid]
    assert put[0].outcome is Outcome.BUSY and backstop.last_error is None


def test_rows_without_their_dial_are_no_answer_to_a_dialled_call() -> None:
    """Split rows (batch mode, a failed insert): an Expert-side miss must not overwrite a busy call."""
    records, rows = capture("busy.ami")
    [truth] = records
    guessed = dataclasses.replace(truth, quality=(Q_END_INFERRED,))
    partial = [r for r in rows[truth.linkedid] if r.lastapp.lower() != "dial"]
    assert correct(guessed, partial, CallTracker().expert_ext_of) is None


def test_a_correction_keeps_the_times_seen_live() -> None:
    """Only the start was inferred: the live answer and end (to the microsecond) stay, not the CDR's seconds."""
    records, rows = capture("answered.ami")
    [truth] = records
    adopted = dataclasses.replace(truth, quality=(Q_START_INFERRED,))
    fixed = correct(adopted, rows[truth.linkedid], CallTracker().expert_ext_of)
    assert fixed is not None and Q_FROM_CDR in fixed.quality
    assert (fixed.answered_at, fixed.ended_at) == (truth.answered_at, truth.ended_at)


async def test_a_row_written_after_the_first_look_puts_the_correction_right(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the fault soak: a no-answer call looked up before its caller's Hangup row was written
    read as cancelled (no later row on the caller's channel); the second look sees the row."""
    monkeypatch.setattr(cdr_backstop, "RETRY_AFTER_S", (0.0, 0.05, 0.05, 0.05, 0.05))
    monkeypatch.setattr(cdr_backstop, "SECOND_LOOK_S", 0.2)
    records, rows = capture("no-answer.ami")
    [truth] = records
    dial = next(r for r in rows[truth.linkedid] if r.lastapp.lower() == "dial")
    later = [r for r in rows[truth.linkedid] if r is not dial and r.channel == dial.channel]
    first = [r for r in rows[truth.linkedid] if r not in later]
    source = Growing(first)
    put: list[CallRecord] = []
    guessed = dataclasses.replace(truth, outcome=Outcome.CANCELLED, quality=(Q_END_INFERRED,))
    backstop = CdrBackstop(source, NoCalls(), CallTracker().expert_ext_of, lambda _: True, put.append)
    backstop.start()
    try:
        backstop.closed(guessed)
        for _ in range(100):
            if put:
                break
            await asyncio.sleep(0.01)
        assert [r.outcome for r in put] == [Outcome.CANCELLED]  # what the rows said so far
        source.rows += later  # Asterisk writes the caller's Hangup row
        for _ in range(200):
            if backstop.waiting == 0:
                break
            await asyncio.sleep(0.01)
    finally:
        await backstop.stop()
    assert [r.outcome for r in put] == [Outcome.CANCELLED, Outcome.NO_ANSWER]


class Growing:
    def __init__(self, rows: list[CdrRow]) -> None:
        self.rows = list(rows)

    async def rows_for(self, linkedids: Collection[str]) -> dict[str, list[CdrRow]]:
        return {r.linkedid: [x for x in self.rows if x.linkedid == r.linkedid] for r in self.rows
                if r.linkedid in linkedids}

    async def rows_ended_between(self, start: float, end: float) -> dict[str, list[CdrRow]]:
        return {}

    async def close(self) -> None:
        pass


class Recording:
    """A CDR source that notes the windows asked for."""

    def __init__(self) -> None:
        self.windows: list[tuple[float, float]] = []

    async def rows_for(self, linkedids: Collection[str]) -> dict[str, list[CdrRow]]:
        return {}

    async def rows_ended_between(self, start: float, end: float) -> dict[str, list[CdrRow]]:
        self.windows.append((start, end))
        return {}

    async def close(self) -> None:
        pass


class LastCallAt(NoCalls):
    def __init__(self, at: datetime | None) -> None:
        self.at = at

    async def last_call_time(self) -> datetime | None:
        return self.at


@pytest.mark.parametrize(("down_s", "searched_s"), [(3 * 3600, 3 * 3600), (600, 3600), (30 * 86400, 7 * 86400)])
async def test_after_a_start_the_cdr_is_searched_back_to_the_last_call(down_s: float, searched_s: float) -> None:
    """The review of issue 12: a DS Desk down for more than an hour missed the calls of the hours before."""
    end = 1_796_000_000.0
    source = Recording()
    known = LastCallAt(datetime.fromtimestamp(end - down_s, UTC))
    backstop = CdrBackstop(source, known, CallTracker().expert_ext_of, lambda _: True, lambda _: None)
    backstop.start()
    try:
        backstop.gap(None, end)
        for _ in range(100):
            if source.windows:
                break
            await asyncio.sleep(0.01)
    finally:
        await backstop.stop()
    [(start, stop)] = source.windows[:1]
    assert start == pytest.approx(end - searched_s - cdr_backstop.WINDOW_MARGIN_S)
    assert stop == pytest.approx(end + cdr_backstop.WINDOW_MARGIN_S)
