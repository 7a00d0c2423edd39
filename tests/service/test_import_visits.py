"""`dsdesk import visits` (issue 16, item 1): the personal managers' visits through the real import on SQLite and
PostgreSQL — Russian headers and results, re-imports, unknown people and clients, a visit of someone not a PM."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from service.db.engine import SessionMaker
from service.db.models import Visit
from service.imports.errors import RowsRejected
from service.imports.runner import import_file
from tests.service.test_import_month import imported, write_table

PEOPLE = [{"login": "petrova", "full_name": "Петрова Анна Ильинична", "role": "ПМ по ДС", "extension": "150"},
          {"login": "ivanova", "full_name": "Иванова Мария Сергеевна", "role": "expert", "extension": "101"}]
CLIENTS = [{"external_id": "C-501", "name": "ООО «Ромашка»", "segment": "ДС", "expert_login": "petrova"},
           {"external_id": "C-502", "name": "АО «Вектор»", "segment": "ДС", "expert_login": "petrova"}]
VISITS_RU = [
    {"Логин ПМ": "petrova", "Код клиента": "C-501", "Дата визита": "03.03.2026", "Плановый": "да",
     "С кем встречались": "Главбух Иванова И. И.", "Результат": "состоялся", "Тема": "Обучение",
     "Комментарий": "Показала новые формы"},
    {"Логин ПМ": "petrova", "Код клиента": "C-502", "Дата визита": "2026-03-04", "Плановый": "нет",
     "С кем встречались": "", "Результат": "Перенесён", "Тема": "", "Комментарий": "на 11.03"},
    {"Логин ПМ": "petrova", "Код клиента": "C-501", "Дата визита": "03.03.2026", "Плановый": "нет",
     "С кем встречались": "", "Результат": "not_done", "Тема": "", "Комментарий": ""},
]


async def seed(sessions: SessionMaker, tmp_path: Path) -> None:
    for kind, rows in (("experts", PEOPLE), ("clients", CLIENTS)):
        await import_file(kind, write_table(tmp_path, kind, rows), sessions, progress=False)


async def stored(sessions: SessionMaker) -> list[tuple[str, bool, str, str | None, str]]:
    async with sessions() as session:
        rows = await session.execute(select(Visit.day, Visit.planned, Visit.result, Visit.comment, Visit.source)
                                     .order_by(Visit.day, Visit.planned))
        return [(f"{day:%d.%m}", planned, result, comment, source) for day, planned, result, comment, source in rows]


async def rejected(sessions: SessionMaker, path: Path) -> list[str]:
    with pytest.raises(RowsRejected) as failed:
        await import_file("visits", path, sessions, progress=False)
    return [str(error) for error in failed.value.errors]


@pytest.mark.parametrize("fmt", ["csv-cp1251-semicolon", "xlsx"])
async def test_russian_headers_and_an_import_again_changes_nothing(db_sessions: SessionMaker, tmp_path: Path,
                                                                   fmt: str) -> None:
    await seed(db_sessions, tmp_path)
    path = write_table(tmp_path, "visits", VISITS_RU, fmt)
    assert await imported(db_sessions, "visits", path) == (3, 0, 0)
    assert await imported(db_sessions, "visits", path) == (0, 0, 3)
    assert await stored(db_sessions) == [("03.03", False, "not_done", None, "import"),
                                         ("03.03", True, "done", "Показала новые формы", "import"),
                                         ("04.03", False, "moved", "на 11.03", "import")]


async def test_a_changed_row_updates_its_visit(db_sessions: SessionMaker, tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    await imported(db_sessions, "visits", write_table(tmp_path, "visits", VISITS_RU))
    changed = [{**VISITS_RU[1], "Результат": "проведён", "Комментарий": "всё-таки успели"}]
    assert await imported(db_sessions, "visits", write_table(tmp_path, "visits2", changed)) == (0, 1, 0)
    assert ("04.03", False, "done", "всё-таки успели", "import") in await stored(db_sessions)


async def test_unknown_people_and_clients_and_bad_cells_are_named(db_sessions: SessionMaker, tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    rows = [{**VISITS_RU[0], "Логин ПМ": "nobody"}, {**VISITS_RU[0], "Код клиента": "C-999"},
            {**VISITS_RU[0], "Дата визита": "31.02.2026", "Результат": "как-то"}]
    errors = await rejected(db_sessions, write_table(tmp_path, "visits", rows))
    assert any("строка 2" in e and "нет такого сотрудника" in e for e in errors), errors
    assert any("строка 3" in e and "нет такого клиента" in e for e in errors), errors
    assert any("строка 4" in e and "нет такой даты" in e for e in errors), errors
    assert any("строка 4" in e and "допустимо одно из: done, not_done, moved" in e for e in errors), errors
    assert await stored(db_sessions) == []


async def test_a_visit_held_after_today_is_refused(db_sessions: SessionMaker, tmp_path: Path) -> None:
    """Found trying it: a «состоялся» dated 25.12 was counted on 07.12; a moved one may name a later day."""
    await seed(db_sessions, tmp_path)
    rows = [{**VISITS_RU[0], "Дата визита": "01.03.2099"},
            {**VISITS_RU[0], "Дата визита": "02.03.2099", "Результат": "перенесён"}]
    errors = await rejected(db_sessions, write_table(tmp_path, "visits", rows))
    assert len(errors) == 1 and "строка 2" in errors[0] and "состоялся ли визит, известно в его день" in errors[0]


async def test_a_visit_of_someone_who_is_not_a_pm_is_refused(db_sessions: SessionMaker, tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    rows = [VISITS_RU[0], {**VISITS_RU[1], "Логин ПМ": "ivanova"}]
    errors = await rejected(db_sessions, write_table(tmp_path, "visits", rows))
    assert len(errors) == 1 and "строка 3" in errors[0], errors
    assert "визиты записываются только ПМ по ДС, а «ivanova» — эксперт" in errors[0]
    assert await stored(db_sessions) == []  # all or nothing: the good row is not written either


async def test_the_same_visit_twice_in_a_file_is_refused(db_sessions: SessionMaker, tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    errors = await rejected(db_sessions, write_table(tmp_path, "visits", [VISITS_RU[0], VISITS_RU[0]]))
    assert len(errors) == 1 and "повтор" in errors[0] and "строке 2" in errors[0], errors
