"""Imports of every kind in every file format, on SQLite and PostgreSQL; re-imports change nothing."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.db import models as m
from service.db.engine import SessionMaker
from service.db.records import Counts
from service.imports.runner import import_file, import_rows
from tests.service.importing import DEPARTMENT, FIXTURES, FORMATS, KINDS_IN_ORDER, write_table

EXPECTED_ROWS = {kind: len(rows) for kind, (_, rows) in DEPARTMENT.items()}


async def import_department(sessions: SessionMaker, directory: Path, fmt: str) -> dict[str, Counts]:
    counts = {}
    for kind in KINDS_IN_ORDER:
        path = write_table(directory, kind, DEPARTMENT[kind], fmt)
        counts[kind] = (await import_file(kind, path, sessions, progress=False)).counts
    return counts


@pytest.mark.parametrize("fmt", FORMATS)
async def test_every_kind_in_every_format(db_sessions: SessionMaker, tmp_path: Path, fmt: str) -> None:
    first = await import_department(db_sessions, tmp_path, fmt)
    assert first == {kind: Counts(new=n) for kind, n in EXPECTED_ROWS.items()}
    await assert_department_stored(db_sessions)
    again = await import_department(db_sessions, tmp_path, fmt)
    assert again == {kind: Counts(unchanged=n) for kind, n in EXPECTED_ROWS.items()}


async def assert_department_stored(sessions: SessionMaker) -> None:
    async with sessions() as session:
        experts = {e.login: e for e in await session.scalars(select(m.Expert))}
        clients = {c.external_id: c for c in await session.scalars(select(m.Client))}
        contacts = {c.external_id: c for c in await session.scalars(select(m.ClientContact))}
        history = (await session.execute(select(m.HistoryEntry.date, m.HistoryEntry.result,
                                                m.HistoryEntry.comment).order_by(m.HistoryEntry.date))).all()
        signals = (await session.execute(select(m.ClientSignal.kind, m.ClientSignal.occurred_on,
                                                m.ClientSignal.contact_id))).all()
        absences = (await session.execute(select(m.ExpertAbsence.from_date, m.ExpertAbsence.to_date)
                                          .order_by(m.ExpertAbsence.from_date))).all()
    assert (experts["petrov"].role, experts["petrov"].extension, experts["petrov"].daily_target) == (
        "expert", "102", None)
    assert experts["ivanova"].daily_target == 16 and experts["smirnova"].role == "supervisor"
    romashka = clients["C-501"]
    assert (romashka.debt_rub, romashka.online_last_login, romashka.terms_end, romashka.segment) == (
        Decimal("1234.50"), date(2026, 2, 15), date(2026, 4, 30), "ДС")
    assert romashka.expert_id == experts["ivanova"].id and romashka.contact_every_days == 14
    assert clients["C-502"].timezone is None and clients["C-502"].inn is None
    olga = contacts["K-1001"]
    assert (olga.phone_e164, olga.is_user, olga.call_from, olga.call_to) == (
        "79115550101", True, time(9), time(12))
    assert contacts["K-1002"].is_user is False and contacts["K-1002"].phone_e164 == "79115550102"
    assert [(d, r) for d, r, _ in history] == [
        (date(2026, 1, 12), "contact_made"), (date(2026, 2, 10), "not_reached"),
        (date(2026, 2, 11), "contact_made")]
    assert history[0][2] == "Показала поиск; просила семинар" and history[1][2] is None
    assert sorted((k, d) for k, d, _ in signals) == [
        ("hotline_request", date(2026, 2, 12)), ("new_user", date(2026, 2, 13))]
    assert absences == [(date(2026, 3, 10), date(2026, 3, 12)), (date(2026, 4, 1), date(2026, 4, 1))]


async def test_the_documented_sample_files(db_sessions: SessionMaker) -> None:
    """The files docs/import.md shows: UTF-8 `,`, UTF-8 with BOM `;`, Windows-1251 `;`, XLSX."""
    files = {kind: next(FIXTURES.glob(f"{kind}.*")) for kind in KINDS_IN_ORDER}
    reports = [await import_file(kind, files[kind], db_sessions) for kind in KINDS_IN_ORDER]
    assert [str(r) for r in reports] == [
        "experts: импортировано строк: 3 (новых 3, изменённых 0, без изменений 0)",
        "clients: импортировано строк: 3 (новых 3, изменённых 0, без изменений 0)",
        "contacts: импортировано строк: 3 (новых 3, изменённых 0, без изменений 0)",
        "history: импортировано строк: 3 (новых 3, изменённых 0, без изменений 0)",
        "signals: импортировано строк: 2 (новых 2, изменённых 0, без изменений 0)",
        "absences: импортировано строк: 2 (новых 2, изменённых 0, без изменений 0)",
    ]
    async with db_sessions() as session:
        kuznetsov = await session.scalar(select(m.Client).where(m.Client.external_id == "C-503"))
        lebedeva = await session.scalar(select(m.ClientContact).where(m.ClientContact.external_id == "K-1003"))
    assert kuznetsov is not None and (kuznetsov.segment, kuznetsov.expert_id, kuznetsov.inn) == (
        "КС", None, "770312345678")
    # Several numbers in one cell: all are kept as given, the first is the one dialled.
    assert lebedeva is not None and (lebedeva.phone, lebedeva.phone_e164) == (
        "79115550103, 79115550113", "79115550103")
    again = [await import_file(kind, files[kind], db_sessions) for kind in KINDS_IN_ORDER]
    assert all(r.counts.new == r.counts.updated == 0 for r in again)


async def test_a_changed_row_is_updated_and_the_rest_untouched(db_sessions: SessionMaker,
                                                               tmp_path: Path) -> None:
    await import_department(db_sessions, tmp_path, "csv-utf8-comma")
    header, rows = DEPARTMENT["clients"]
    changed = [list(row) for row in rows]
    changed[1][header.index("debt_rub")] = "4500"
    changed[1][header.index("expert_login")] = "ivanova"
    path = write_table(tmp_path, "clients-changed", (header, changed), "csv-utf8-comma")
    report = await import_file("clients", path, db_sessions)
    assert report.counts == Counts(updated=1, unchanged=1)
    async with db_sessions() as session:
        vector = await session.scalar(select(m.Client).where(m.Client.external_id == "C-502"))
        ivanova = await session.scalar(select(m.Expert.id).where(m.Expert.login == "ivanova"))
    assert vector is not None and (vector.debt_rub, vector.expert_id) == (Decimal("4500.00"), ivanova)


async def test_an_import_leaves_columns_it_does_not_know_alone(db_sessions: SessionMaker,
                                                               tmp_path: Path) -> None:
    """Contacts made before imports (demo data, inbound matching) keep working beside imported ones."""
    await import_department(db_sessions, tmp_path, "csv-utf8-comma")
    async with db_sessions.begin() as session:
        client_id = await session.scalar(select(m.Client.id).where(m.Client.external_id == "C-501"))
        session.add(m.ClientContact(client_id=client_id, full_name="Без CRM", phone_e164="79990000000"))
    report = await import_file("contacts", write_table(tmp_path, "c", DEPARTMENT["contacts"], "xlsx"),
                               db_sessions)
    assert report.counts == Counts(unchanged=3)
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(m.ClientContact)) == 4


async def test_identical_history_rows_are_one_row(db_sessions: SessionMaker, tmp_path: Path) -> None:
    await import_department(db_sessions, tmp_path, "csv-utf8-comma")
    row = {"client_external_id": "C-501", "contact_external_id": "K-1002", "date": "2026-02-20",
           "result": "contact_made", "topic": " Обучение ", "comment": "строка 1\r\nстрока 2"}
    # Surrounding spaces and Windows line ends are not part of the content.
    same = {**row, "topic": "Обучение", "comment": "строка 1\nстрока 2"}
    report = await import_rows("history", [row, same], db_sessions)
    assert report.counts == Counts(new=1, unchanged=1)
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(m.HistoryEntry)) == 4


async def test_import_rows_takes_the_demo_shape(db_sessions: SessionMaker) -> None:
    """Rows as dicts of text (what service.demo_department produces) import like a file."""
    rows = [{"login": "maria", "full_name": "Мария Орлова", "role": "expert", "extension": "101",
             "timezone": "Europe/Moscow", "daily_target": "16"}]
    assert (await import_rows("experts", rows, db_sessions)).counts == Counts(new=1)
    assert (await import_rows("experts", rows, db_sessions)).counts == Counts(unchanged=1)
