"""The experts import reads a role as the admin pages name it («эксперт», «руководитель группы») as
well as by its code, in any case, and a refusal lists the Russian names (issue 14)."""

from __future__ import annotations

import pytest

from service.db.engine import SessionMaker
from service.db.users import UsersRepository
from service.imports import cells
from service.imports.errors import RowsRejected
from service.imports.runner import import_rows
from service.imports.schemas import ROLE_NAMES, ROLES
from texts.labels import ROLE_LABELS

REFUSAL = "допустимо одно из: эксперт, руководитель группы, администратор, СИО, ПМ по ДС"


@pytest.mark.parametrize(("spelling", "role"), [
    ("эксперт", "expert"), ("Эксперт", "expert"), ("ЭКСПЕРТ", "expert"), ("Эксперт по ДС", "expert"),
    ("expert", "expert"), ("Expert", "expert"),
    ("руководитель группы", "supervisor"), ("Руководитель группы", "supervisor"), ("supervisor", "supervisor"),
    ("администратор", "admin"), ("Администратор", "admin"), ("admin", "admin"),
    ("СИО", "sio"), ("сио", "sio"), ("sio", "sio"),
    ("ПМ по ДС", "pm"), ("пм по дс", "pm"), ("ПМ", "pm"), ("pm", "pm"),
])
def test_a_role_is_read_by_its_russian_name_or_its_code(spelling: str, role: str) -> None:
    assert cells.choice(ROLES, ROLE_NAMES)(spelling) == role


def test_every_label_the_pages_show_is_read() -> None:
    assert {cells.choice(ROLES)(label) for label in ROLE_LABELS.values()} == set(ROLE_LABELS)


@pytest.mark.parametrize("spelling", ["boss", "экспертка", "manager"])
def test_a_refusal_lists_the_russian_names(spelling: str) -> None:
    with pytest.raises(cells.CellError) as refused:
        cells.choice(ROLES, ROLE_NAMES)(spelling)
    assert str(refused.value) == REFUSAL


async def test_the_experts_import_takes_the_russian_role(db_sessions: SessionMaker) -> None:
    await import_rows("experts", [
        {"login": "orlova", "full_name": "Орлова Нина", "role": "эксперт", "extension": "105"},
        {"login": "belov", "full_name": "Белов Игорь", "role": "Руководитель группы"},
    ], db_sessions)
    users = UsersRepository(db_sessions)
    assert [(await users.by_login(login)).role for login in ("orlova", "belov")] == [  # type: ignore[union-attr]
        "expert", "supervisor"]
    with pytest.raises(RowsRejected) as refused:
        await import_rows("experts", [{"login": "x", "full_name": "Иксов Икс", "role": "начальник"}], db_sessions)
    assert [str(e) for e in refused.value.errors] == [
        f"строка 2, столбец «role», значение «начальник»: {REFUSAL}"]
