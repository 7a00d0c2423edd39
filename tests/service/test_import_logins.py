"""`dsdesk import logins`: the usage report's rows in every format, re-import, bad rows, and the
measurement of the covered days' calls that follows each import (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update

from service.db import models as m
from service.db.engine import SessionMaker
from service.db.logins import LoginsRepository, Measured, measure_days
from service.db.records import Counts
from service.imports.errors import FileFormatError, RowsRejected
from service.imports.runner import import_file, import_rows
from service.imports.schemas import ImportContext
from tests.service.importing import DEPARTMENT, FORMATS, write_table

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
CONTEXT = ImportContext(MSK, NOW, 120.0)
HEADER = ["contact_external_id", "client_external_id", "started_at", "ended_at"]
ROWS = [
    ["K-1001", "C-501", "2026-03-02T10:31:00+03:00", "2026-03-02T10:40:00+03:00"],
    ["K-1002", "C-501", "02.03.2026 12:00", ""],
    ["K-1003", "C-502", "02.03.2026 15:00:30", "02.03.2026 15:20"],
    ["", "C-502", "2026-03-02 16:00", ""],
]


def msk(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=MSK)


MON, TUE = date(2026, 3, 2), date(2026, 3, 3)


@pytest.fixture
async def department(db_sessions: SessionMaker) -> SessionMaker:
    for kind in ("experts", "clients", "contacts"):
        header, rows = DEPARTMENT[kind]
        await import_rows(kind, [dict(zip(header, row, strict=True)) for row in rows], db_sessions)
    return db_sessions


def xlsx_rows(rows: list[list[str]]) -> list[list[Any]]:
    """What a spreadsheet holds: date-time cells (naive, the organisation's time), not text."""
    def cell(value: str) -> Any:
        if "." in value and ":" in value:
            return datetime.strptime(value, "%d.%m.%Y %H:%M:%S" if value.count(":") == 2 else "%d.%m.%Y %H:%M")
        return value
    return [[cell(v) for v in row] for row in rows]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_logins_in_every_format_and_again(department: SessionMaker, tmp_path: Path, fmt: str) -> None:
    path = write_table(tmp_path, "logins", (HEADER, ROWS), fmt)
    first = await import_file("logins", path, department, progress=False, context=CONTEXT)
    assert first.counts == Counts(new=4)
    again = await import_file("logins", path, department, progress=False, context=CONTEXT)
    assert again.counts == Counts(unchanged=4)
    async with department() as session:
        stored = (await session.execute(select(m.ClientLogin.contact_external_id, m.ClientLogin.started_at,
                                               m.ClientLogin.ended_at).order_by(m.ClientLogin.started_at))).all()
        days = (await session.scalars(select(m.LoginDay.day))).all()
    assert stored == [
        ("K-1001", msk(MON, 10, 31), msk(MON, 10, 40)),
        ("K-1002", msk(MON, 12), None),
        ("K-1003", msk(MON, 15, 0, 30), msk(MON, 15, 20)),
        ("", msk(MON, 16), None),
    ]
    assert days == [MON]


async def test_xlsx_date_time_cells_are_the_organisations_time(department: SessionMaker, tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in xlsx_rows([r for r in ROWS if "." in r[2]]):
        sheet.append(row)
    path = tmp_path / "logins.xlsx"
    workbook.save(path)
    assert (await import_file("logins", path, department, progress=False, context=CONTEXT)).counts == Counts(new=2)
    async with department() as session:
        starts = (await session.scalars(select(m.ClientLogin.started_at).order_by(m.ClientLogin.started_at))).all()
    assert starts == [msk(MON, 12), msk(MON, 15, 0, 30)]


async def test_a_changed_end_is_updated(department: SessionMaker) -> None:
    rows = [dict(zip(HEADER, ROWS[0], strict=True))]
    await import_rows("logins", rows, department, context=CONTEXT)
    rows[0]["ended_at"] = "2026-03-02T10:45:00+03:00"
    assert (await import_rows("logins", rows, department, context=CONTEXT)).counts == Counts(updated=1)


async def seed_calls(sessions: SessionMaker) -> None:
    """Three calls of maria's clients: a login during the first only; the third on a day with no data."""
    now = NOW
    calls = [
        # C-501, answered 10:30:05, 600 s of talk: K-1001's login at 10:31 falls inside
        (1, "c1", "C-501", msk(MON, 10, 30), msk(MON, 10, 30, 5), 600.0),
        # C-502 at 11:00 for 5 min; its logins are at 15:00 and 16:00
        (2, "c2", "C-502", msk(MON, 11), msk(MON, 11, 0, 10), 300.0),
        # Tuesday: no usage data yet
        (3, "c3", "C-501", msk(TUE, 10), msk(TUE, 10, 0, 5), 400.0),
    ]
    async with sessions.begin() as s:
        await s.execute(insert(m.Call), [
            {"id": i, "linkedid": linkedid, "direction": "outbound", "expert_ext": "101", "client_number": "7911",
             "started_at": started, "answered_at": answered, "ended_at": answered + timedelta(seconds=talk),
             "duration_s": talk + 5, "talk_s": talk, "outcome": "answered", "client_id": client, "quality": [],
             "created_at": now, "updated_at": now}
            for i, linkedid, client, started, answered, talk in calls])


async def test_an_import_measures_the_calls_of_the_days_it_covers(department: SessionMaker) -> None:
    await seed_calls(department)
    report = await import_rows("logins", [dict(zip(HEADER, r, strict=True)) for r in ROWS], department,
                               context=CONTEXT)
    assert report.measured is not None and (report.measured.calls, report.measured.logged_in) == (2, 1)
    async with department() as session:
        measured = dict((await session.execute(select(m.CallLogin.call_id, m.CallLogin.measured))).all())
    assert measured == {1: True, 2: False}  # call 3's day is not covered: the Expert's tick stands
    repo = LoginsRepository(department)
    first = await repo.for_call(1, MSK, 120.0)
    assert first.measured is True
    assert [(x.contact_external_id, x.started_at) for x in first.logins] == [("K-1001", msk(MON, 10, 31))]
    assert (await repo.for_call(2, MSK, 120.0)).measured is False
    assert (await repo.for_call(3, MSK, 120.0)).measured is None


async def test_a_stray_old_row_covers_only_its_own_day(department: SessionMaker) -> None:
    """A file of 02.03 with one row of last year covers two days, not the 400 between them."""
    await seed_calls(department)
    rows = [*ROWS, ["K-1001", "C-501", "05.01.2025 10:00", ""]]
    report = await import_rows("logins", [dict(zip(HEADER, r, strict=True)) for r in rows], department,
                               context=CONTEXT)
    async with department() as session:
        days = (await session.scalars(select(m.LoginDay.day).order_by(m.LoginDay.day))).all()
    assert days == [date(2025, 1, 5), MON]
    assert report.measured is not None and report.measured.calls == 2


async def test_a_file_of_a_day_not_over_covers_it_only_up_to_its_latest_login(department: SessionMaker) -> None:
    """Exported at noon (found trying it): the afternoon's calls are not measured «не заходил» by a
    file that knows nothing of the afternoon. A file after the day's end covers the whole day."""
    await seed_calls(department)
    rows = [dict(zip(HEADER, ROWS[0], strict=True))]  # K-1001 10:31–10:40
    noon = ImportContext(MSK, msk(MON, 12).astimezone(UTC), 120.0)
    await import_rows("logins", rows, department, context=noon)
    async with department() as session:
        measured = dict((await session.execute(select(m.CallLogin.call_id, m.CallLogin.measured))).all())
        until = await session.scalar(select(m.LoginDay.covered_until).where(m.LoginDay.day == MON))
    assert until == msk(MON, 10, 40) and measured == {1: True}  # c2 at 11:00: the tick stands
    assert await LoginsRepository(department).measure_call("c2", MSK, 120.0, NOW) is None
    await import_rows("logins", rows, department, context=CONTEXT)  # the next morning: the day is over
    async with department() as session:
        measured = dict((await session.execute(select(m.CallLogin.call_id, m.CallLogin.measured))).all())
    assert measured == {1: True, 2: False}


async def test_a_call_of_no_known_client_keeps_the_tick(department: SessionMaker) -> None:
    await seed_calls(department)
    async with department.begin() as session:
        await session.execute(update(m.Call).where(m.Call.id == 2).values(client_id=None))
    await import_rows("logins", [dict(zip(HEADER, r, strict=True)) for r in ROWS], department, context=CONTEXT)
    async with department() as session:
        measured = dict((await session.execute(select(m.CallLogin.call_id, m.CallLogin.measured))).all())
    assert measured == {1: True}


async def test_a_call_wrapped_up_after_its_days_import_is_measured_then(department: SessionMaker) -> None:
    """Imported at 10:35 while c1 was still talking: c1 is measured again when its wrap-up is saved."""
    await import_rows("logins", [dict(zip(HEADER, r, strict=True)) for r in ROWS], department, context=CONTEXT)
    await seed_calls(department)  # c1 and c2 reach the ledger after the import: no measurement yet
    repo = LoginsRepository(department)
    assert (await repo.for_call(1, MSK, 120.0)).measured is None
    assert await repo.measure_call("c1", MSK, 120.0, NOW) is True
    assert await repo.measure_call("c2", MSK, 120.0, NOW) is False
    assert await repo.measure_call("c3", MSK, 120.0, NOW) is None  # Tuesday: not covered
    assert (await repo.for_call(1, MSK, 120.0)).measured is True


async def test_two_measurements_of_the_same_day_at_once_both_succeed(department: SessionMaker) -> None:
    """The web upload and the drop folder at the same moment: the second waits for the first to
    commit, then measures again (without the lock, PostgreSQL refused its rows as duplicates)."""
    await seed_calls(department)
    await import_rows("logins", [dict(zip(HEADER, r, strict=True)) for r in ROWS], department, context=CONTEXT)

    async def measure_again() -> Measured:
        async with department.begin() as session:
            return await measure_days(session, MON, MON, MSK, 120.0, NOW)

    async with department.begin() as first:
        await measure_days(first, MON, MON, MSK, 120.0, NOW)
        second = asyncio.create_task(measure_again())
        await asyncio.sleep(0.3)
        assert not second.done()  # it waits for the first transaction
    assert (await second).calls == 2
    async with department() as session:
        measured = dict((await session.execute(select(m.CallLogin.call_id, m.CallLogin.measured))).all())
    assert measured == {1: True, 2: False}


async def test_a_late_login_file_measures_again(department: SessionMaker) -> None:
    """A second file for the same day (a login of C-502's user at 11:02) turns call 2's «no» into «yes»."""
    await seed_calls(department)
    await import_rows("logins", [dict(zip(HEADER, r, strict=True)) for r in ROWS], department, context=CONTEXT)
    late = [{"contact_external_id": "K-1003", "client_external_id": "C-502",
             "started_at": "02.03.2026 11:02", "ended_at": "02.03.2026 11:03"}]
    await import_rows("logins", late, department, context=CONTEXT)
    async with department() as session:
        measured = dict((await session.execute(select(m.CallLogin.call_id, m.CallLogin.measured))).all())
    assert measured == {1: True, 2: True}


BAD = [
    (["K-9999", "C-501", "02.03.2026 10:00", ""], "строка 2, столбец «contact_external_id», значение «K-9999»: "
                                                   "нет такого контакта (сначала импортируйте contacts)"),
    (["", "C-999", "02.03.2026 10:00", ""], "строка 2, столбец «client_external_id», значение «C-999»: "
                                             "нет такого клиента (сначала импортируйте clients)"),
    (["K-1003", "C-501", "02.03.2026 10:00", ""], "строка 2, столбец «contact_external_id», значение «K-1003»: "
                                                   "это контакт клиента C-502, а не C-501"),
    (["K-1001", "C-501", "02.03.2026 10:00", "02.03.2026 09:59"],
     "строка 2, столбец «ended_at», значение «02.03.2026 09:59»: раньше started_at 02.03.2026 10:00:00"),
    (["K-1001", "C-501", "04.03.2026 10:00", ""],
     "строка 2, столбец «started_at», значение «04.03.2026 10:00»: в будущем (сейчас 03.03.2026 12:00)"),
    (["K-1001", "C-501", "2026-03-03 11:00", "2026-03-03 12:30"],
     "строка 2, столбец «ended_at», значение «2026-03-03 12:30»: в будущем (сейчас 03.03.2026 12:00)"),
    (["K-1001", "C-501", "32.03.2026 10:00", ""],
     "строка 2, столбец «started_at», значение «32.03.2026 10:00»: нет такой даты или времени"),
    (["K-1001", "C-501", "вчера", ""],
     "строка 2, столбец «started_at», значение «вчера»: не дата и время (ГГГГ-ММ-ДДTЧЧ:ММ:СС+03:00 или "
     "ДД.ММ.ГГГГ ЧЧ:ММ[:СС])"),
]


@pytest.mark.parametrize(("row", "message"), BAD)
async def test_a_bad_row_is_named_and_nothing_is_written(department: SessionMaker, row: list[str],
                                                         message: str) -> None:
    good = dict(zip(HEADER, ROWS[2], strict=True))
    with pytest.raises(RowsRejected) as caught:
        await import_rows("logins", [dict(zip(HEADER, row, strict=True)), good], department, context=CONTEXT)
    assert [str(e) for e in caught.value.errors] == [message]
    await assert_nothing_written(department)


async def test_overlapping_duplicates_are_named_against_the_row_they_overlap(department: SessionMaker) -> None:
    rows = [
        ["K-1001", "C-501", "02.03.2026 10:00", "02.03.2026 10:30"],
        ["K-1002", "C-501", "02.03.2026 10:10", "02.03.2026 10:20"],  # another user: fine
        ["K-1001", "C-501", "02.03.2026 10:29", "02.03.2026 10:50"],  # overlaps row 2
        ["K-1001", "C-501", "02.03.2026 10:00", ""],  # the same start again
        ["K-1001", "C-501", "02.03.2026 11:00", ""],  # after: fine
        ["", "C-501", "02.03.2026 12:00", "02.03.2026 12:30"],  # users the report does not name:
        ["", "C-501", "02.03.2026 12:10", "02.03.2026 12:20"],  # two people at once, fine
        ["", "C-501", "02.03.2026 12:00", ""],  # … but the same start twice is a repeat
    ]
    with pytest.raises(RowsRejected) as caught:
        await import_rows("logins", [dict(zip(HEADER, r, strict=True)) for r in rows], department, context=CONTEXT)
    same_user = " (тот же пользователь того же клиента): повтор в отчёте?"
    assert [str(e) for e in caught.value.errors] == [
        "строка 4, столбец «started_at»: пересекается по времени со строкой 2" + same_user,
        "строка 5, столбец «started_at»: тот же вход, что в строке 2" + same_user,
        "строка 9, столбец «started_at»: тот же вход, что в строке 7" + same_user,
    ]
    await assert_nothing_written(department)


async def test_back_to_back_sessions_are_not_an_overlap(department: SessionMaker) -> None:
    """A report in whole minutes: one session ends at 10:15 as the next begins."""
    rows = [["K-1001", "C-501", "02.03.2026 10:00", "02.03.2026 10:15"],
            ["K-1001", "C-501", "02.03.2026 10:15", "02.03.2026 10:40"]]
    report = await import_rows("logins", [dict(zip(HEADER, r, strict=True)) for r in rows], department,
                               context=CONTEXT)
    assert report.counts == Counts(new=2)


async def test_a_session_longer_than_a_day_is_refused(department: SessionMaker) -> None:
    rows = [["K-1001", "C-501", "01.03.2026 09:00", "02.03.2026 09:01"]]
    with pytest.raises(RowsRejected) as caught:
        await import_rows("logins", [dict(zip(HEADER, r, strict=True)) for r in rows], department, context=CONTEXT)
    assert [str(e) for e in caught.value.errors] == [
        "строка 2, столбец «ended_at», значение «02.03.2026 09:01»: сеанс длиннее суток: так не бывает, проверьте "
        "выгрузку"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
async def test_a_utf16_file_from_excels_unicode_text_is_read(department: SessionMaker, tmp_path: Path,
                                                            encoding: str) -> None:
    """Excel's «Текст в Юникоде»: UTF-16 with its BOM (LE as Excel writes it, or BE), tab-separated."""
    path = tmp_path / "logins.txt"
    text = "".join("\t".join(row) + "\r\n" for row in (HEADER, *ROWS))
    path.write_bytes(("\ufeff" + text).encode(encoding))
    report = await import_file("logins", path, department, progress=False, context=CONTEXT)
    assert report.counts == Counts(new=4)


async def test_utf16_without_its_bom_is_refused_in_russian(department: SessionMaker, tmp_path: Path) -> None:
    path = tmp_path / "logins.txt"
    path.write_bytes(("\t".join(HEADER) + "\r\n" + "\t".join(ROWS[0]) + "\r\n").encode("utf-16-le"))
    with pytest.raises(FileFormatError, match=r"файл в кодировке UTF-16 \(LE\) без метки порядка байтов"):
        await import_file("logins", path, department, progress=False, context=CONTEXT)
    await assert_nothing_written(department)


async def assert_nothing_written(sessions: SessionMaker) -> None:
    async with sessions() as session:
        assert (await session.scalars(select(m.ClientLogin))).all() == []
        assert (await session.scalars(select(m.LoginDay))).all() == []


async def test_the_cli_reads_local_times_in_the_configured_zone(department: SessionMaker, migrated_db: str,
                                                                tmp_path: Path) -> None:
    """`dsdesk import logins` takes organisation.timezone from the settings: Novosibirsk is UTC+7."""
    import os
    import subprocess

    from tests.service.test_import_errors import DSDESK, REPO

    config = tmp_path / "config.yaml"
    config.write_text(f"database:\n  url: {migrated_db}\norganisation:\n  timezone: Asia/Novosibirsk\n",
                      encoding="utf-8")
    path = write_table(tmp_path, "logins", (HEADER, [ROWS[1]]), "csv-utf8-comma")
    env = {**os.environ, "DSDESK_CONFIG": str(config)}
    env.pop("DSDESK_DATABASE_URL", None)
    result = subprocess.run([str(DSDESK), "-q", "import", "logins", str(path)], env=env, cwd=REPO,
                            capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("logins: импортировано строк: 1 (новых 1, изменённых 0, без изменений 0); "
                                    "звонков за 02.03.2026 проверено по статистике: ")
    async with department() as session:
        start = (await session.scalars(select(m.ClientLogin.started_at))).one()
    assert start == datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 12:00 in Novosibirsk
