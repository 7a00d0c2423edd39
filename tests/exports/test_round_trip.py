"""The round trip (the issue's «done»): a day written through the real repositories, exported as CSV and
as XLSX, read back; every wrap-up is there once with its state, every other finished call and visit
too, nothing else; exporting the day again gives the same bytes. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from service.db.engine import SessionMaker
from service.db.models import Call, WrapUp
from service.exports.export import export_bytes, works_config, write_day
from service.exports.works import DEFAULT_STATES
from service.settings import Settings
from tests.exports.reading import read_works
from tests.exports.seeding import DAY, EXPECTED, NOT_WORKS, seed_day


@pytest.fixture
def settings(migrated_db: str, tmp_path: Path) -> Settings:
    return Settings.model_validate({"database": {"url": migrated_db}, "exports": {"dir": str(tmp_path / "exports")},
                                    "service": {"public_url": "https://dsdesk.example"}})


async def wrapups_of_the_day(sessions: SessionMaker) -> dict[str, str]:
    async with sessions() as s:
        rows = await s.execute(select(Call.linkedid, WrapUp.result).join(WrapUp, WrapUp.call_id == Call.id)
                               .where(Call.linkedid.not_in(["L-11"])))
        return {f"DS-{linkedid}": result for linkedid, result in rows}


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
async def test_every_wrapup_comes_back_once_with_its_state(db_sessions: SessionMaker, settings: Settings,
                                                           file_format: str) -> None:
    seeded = await seed_day(db_sessions)
    data, count = await export_bytes(db_sessions, [DAY], works_config(settings), file_format)
    rows = read_works(data, file_format)
    ids = [row["ID работы"] for row in rows]
    visits = [f"DS-V-{seeded.visit_ids[0]}", f"DS-V-{seeded.visit_ids[1]}"]
    assert ids == [*EXPECTED, *visits] and count == len(ids)
    by_id = {row["ID работы"]: row for row in rows}
    wrapups = await wrapups_of_the_day(db_sessions)
    assert len(wrapups) == 7
    for work_id, result in wrapups.items():
        assert ids.count(work_id) == 1, work_id
        assert by_id[work_id]["Состояние"] == DEFAULT_STATES[result], work_id
    for work_id, (state, shown) in EXPECTED.items():
        assert (by_id[work_id]["Состояние"], by_id[work_id]["Итог"]) == (state, shown), work_id
    assert not set(NOT_WORKS) & set(ids)


async def test_the_columns_of_the_days_works(db_sessions: SessionMaker, settings: Settings) -> None:
    seeded = await seed_day(db_sessions)
    data, _ = await export_bytes(db_sessions, [DAY], works_config(settings), "csv")
    rows = {row["ID работы"]: row for row in read_works(data, "csv")}
    first = rows["DS-L-01"]
    assert first == {
        "ID работы": "DS-L-01", "Вид работы": "исходящий звонок", "Код клиента": "C-1", "Код контакта": "K-1",
        "Тип поручения": "Дистанционный сервис_обзвонка", "Сотрудник": "ivanova", "Дата": "07.12.2026",
        "Время": "10:00:00", "Состояние": "контакт состоялся", "Итог": "Контакт состоялся", "Инфоповод": "Обучение",
        "Комментарий": "Показала поиск; «=СУММ»", "Время разговора, с": "612", "Заход в систему": "да",
        "Заход определён": "по статистике онлайн-версии", "Плановая": "да", "Данные АТС восстановлены": "",
        "Запись разговора": "https://dsdesk.example/calls/L-01"}
    # The plan's contact and topic for a planned call not reached; an unplanned call keeps its own.
    assert (rows["DS-L-02"]["Код контакта"], rows["DS-L-02"]["Инфоповод"], rows["DS-L-02"]["Плановая"]) == (
        "K-3", "Продление финансовых условий", "да")
    assert (rows["DS-L-03"]["Плановая"], rows["DS-L-03"]["Код клиента"]) == ("нет", "C-2")
    # The usage file, imported during the day, covers it up to its latest login (10:20): L-01 is measured,
    # the later L-04 keeps the Expert's tick.
    assert (rows["DS-L-04"]["Заход в систему"], rows["DS-L-04"]["Заход определён"]) == ("да", "по отметке эксперта")
    assert rows["DS-L-02"]["Заход в систему"] == "" and rows["DS-L-06"]["Заход в систему"] == ""
    # The wrap-up's contact found by the caller's number; an unknown inbound number: no client, no contact.
    assert rows["DS-L-05"]["Код контакта"] == "K-2"
    missed = rows["DS-L-07"]
    assert (missed["Вид работы"], missed["Код клиента"], missed["Код контакта"], missed["Запись разговора"]) == (
        "входящий звонок", "", "", "")
    assert rows["DS-L-08"]["Данные АТС восстановлены"] == "да"
    assert (rows["DS-L-12"]["Сотрудник"], rows["DS-L-12"]["Код клиента"]) == ("petrov", "C-4")
    visit = rows[f"DS-V-{seeded.visit_ids[0]}"]
    assert (visit["Вид работы"], visit["Тип поручения"], visit["Сотрудник"], visit["Время"], visit["Комментарий"]) == (
        "визит", "Дистанционный сервис", "irina", "", "Встречались: Галина. Подписали")
    assert rows[f"DS-V-{seeded.visit_ids[1]}"]["Состояние"] == "перенесён"


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
async def test_exporting_the_day_again_gives_the_same_bytes(db_sessions: SessionMaker, settings: Settings,
                                                            file_format: str) -> None:
    await seed_day(db_sessions)
    settings = settings.model_copy(update={"exports": settings.exports.model_copy(update={"format": file_format})})
    first = await write_day(db_sessions, settings, DAY)
    data = first.path.read_bytes()
    assert first.changed and first.rows == len(EXPECTED) + 2 and first.path.name == f"works-2026-12-07.{file_format}"
    again = await write_day(db_sessions, settings, DAY)
    assert not again.changed and again.path.read_bytes() == data
    assert (await export_bytes(db_sessions, [DAY], works_config(settings), file_format))[0] == data
    # A range holds each day's rows in the same order, day after day.
    both, count = await export_bytes(db_sessions, [DAY, DAY + timedelta(days=1)], works_config(settings), file_format)
    ids = [row["ID работы"] for row in read_works(both, file_format)]
    assert ids[:len(EXPECTED)] == list(EXPECTED) and "DS-L-11" in ids[len(EXPECTED):] and count == len(ids)


async def test_a_day_without_works_is_a_header_only_file(db_sessions: SessionMaker, settings: Settings) -> None:
    written = await write_day(db_sessions, settings, DAY)
    assert written.rows == 0 and read_works(written.path.read_bytes(), "csv") == []
    assert written.summary() == f"07.12.2026: 0 работ → {written.path}"
