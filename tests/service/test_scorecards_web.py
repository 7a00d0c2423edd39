"""Scorecards over HTTP on SQLite and PostgreSQL: the editor, scoring a call, who sees what, the figures and XLSX.

The calls are tests/service/test_figures_db.py's: c1 and c4 are maria's, c9 anna's (Monday 02.03.2026),
c2 maria's unanswered call; olga is the supervisor.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from io import BytesIO
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from service.app import create_app
from service.db.engine import SessionMaker
from service.db.scorecards import ScorecardsRepository
from service.db.users import UsersRepository
from service.passwords import hash_password, use_hasher
from service.settings import Settings
from service.web.keys import CSRF_FIELD
from tests.security.test_hostile_requests import HOSTILE_VALUES
from tests.service.test_figures_db import seed_figures
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, sign_in, use_cheap_hashes

WEEK = "/figures?scope=department&period=week&date=2026-03-04"
Client = tuple[TestClient, str]  # a signed-in client and its CSRF token


@pytest.fixture
def cheap_hashes() -> Iterator[None]:
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


@pytest.fixture
async def signed_in(aiohttp_client: Any, db_sessions: SessionMaker, migrated_db: str,
                    cheap_hashes: None) -> AsyncIterator[Any]:
    await seed_figures(db_sessions)
    users = UsersRepository(db_sessions)
    for login in ("maria", "anna", "olga"):
        await users.set_password_hash(login, hash_password(DEFAULT_PASSWORD))
    settings = Settings.model_validate({"database": {"url": migrated_db}})

    async def client_as(login: str) -> Client:
        client = await aiohttp_client(create_app(settings, with_pbx=False))
        return client, await sign_in(client, login)
    yield client_as


async def page(client: TestClient, path: str, status: int = 200) -> str:
    response = await client.get(path, headers=HTML_ACCEPT)
    html = await response.text()
    assert response.status == status, html
    return html


async def score(who: Client, linkedid: str, met: list[int], version: str | None = None) -> Any:
    client, token = who
    if version is None:
        shown = re.search(r'name="version" value="([^"]+)"', await page(client, f"/calls/{linkedid}"))
        assert shown, "no score form on the call page"
        version = shown[1]
    data = [(CSRF_FIELD, token), ("version", version), *[("met", str(n)) for n in met]]
    return await client.post(f"/calls/{linkedid}/score", data=data, headers=HTML_ACCEPT, allow_redirects=False)


def checked(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'name="met" value="(\d+)" checked', html)]


async def test_the_supervisor_scores_a_call_nothing_ticked_beforehand(signed_in: Any,
                                                                      db_sessions: SessionMaker) -> None:
    olga = await signed_in("olga")
    html = await page(olga[0], "/calls/c1")
    assert 'data-testid="score-form"' in html and "Звонок ещё не оценивали" in html
    assert "Клиент зашёл в систему" in html and checked(html) == []
    response = await score(olga, "c1", [1, 3])
    assert response.status == 303 and response.headers["Location"] == "/calls/c1?scored=1#score"
    html = await page(olga[0], "/calls/c1?scored=1")
    assert "Оценка сохранена" in html and 'data-testid="score-pct">60 %' in html and "Смирнова Ольга" in html
    assert checked(html) == [1, 3]  # her ticks, to edit
    (saved,) = await ScorecardsRepository(db_sessions).call_scores(1)
    assert (saved.score_pct, saved.ticked) == (60.0, frozenset({1, 3}))


async def test_scoring_again_replaces_rather_than_adds(signed_in: Any, db_sessions: SessionMaker) -> None:
    olga = await signed_in("olga")
    await score(olga, "c1", [1, 3])
    assert (await score(olga, "c1", [2])).status == 303
    scores = await ScorecardsRepository(db_sessions).call_scores(1)
    assert [(s.scorer_name, s.score_pct) for s in scores] == [("Смирнова Ольга", 20.0)]
    html = await page(olga[0], "/calls/c1")
    assert checked(html) == [2] and html.count('data-testid="call-score"') == 1


async def test_a_score_without_the_csrf_token_is_refused(signed_in: Any, db_sessions: SessionMaker) -> None:
    client, _ = await signed_in("olga")
    response = await client.post("/calls/c1/score", data={"version": "config", "met": "1"}, headers=HTML_ACCEPT)
    assert response.status == 403 and "Форма устарела" in await response.text()
    assert await ScorecardsRepository(db_sessions).call_scores(1) == []


async def test_an_expert_cannot_score_and_sees_only_her_own_calls_scores(signed_in: Any) -> None:
    olga = await signed_in("olga")
    await score(olga, "c1", [1, 2, 3, 4])
    await score(olga, "c9", [1])
    maria = await signed_in("maria")
    html = await page(maria[0], "/calls/c1")
    assert 'data-testid="score-pct">100 %' in html and 'data-testid="score-form"' not in html
    await page(maria[0], "/calls/c9", status=403)  # anna's call, and with it its score
    response = await score(maria, "c1", [1], version="config")
    assert response.status == 403
    assert (await score(maria, "c9", [1], version="config")).status == 403


async def test_a_call_without_a_conversation_is_not_scored(signed_in: Any) -> None:
    olga = await signed_in("olga")
    assert "Разговора не было — оценивать нечего" in await page(olga[0], "/calls/c2")
    response = await score(olga, "c2", [1], version="config")
    assert response.status == 400


@pytest.mark.parametrize(("version", "met"), [("config", ["9"]), ("config", ["x"]), ("12345", ["1"]), ("", ["1"]),
                                              ("²", ["1"])])
async def test_a_mangled_score_form_is_a_clear_400(signed_in: Any, version: str, met: list[str]) -> None:
    client, token = await signed_in("olga")
    data = [(CSRF_FIELD, token), ("version", version), *[("met", m) for m in met]]
    response = await client.post("/calls/c1/score", data=data, headers=HTML_ACCEPT)
    assert response.status == 400 and "обновите страницу" in await response.text()


async def test_a_scorecard_changed_meanwhile_shows_the_form_again_with_the_ticks_carried(
        signed_in: Any, db_sessions: SessionMaker) -> None:
    olga = await signed_in("olga")
    client, token = olga
    rows = [("Назвал инфоповод", "1"), ("Поздоровался и представился", "2"), ("Новый пункт", "1")]
    await client.post("/admin/scorecard", data=[(CSRF_FIELD, token), ("title", "Оценка"), ("action", "save"),
                                                *[(k, v) for text, weight in rows
                                                  for k, v in (("text", text), ("weight", weight))]])
    response = await score(olga, "c1", [1, 3], version="config")  # made before the save: 1 greeted, 3 logged in
    html = await response.text()
    assert response.status == 409 and "Оценочный лист изменился" in html
    assert checked(html) == [2]  # «Поздоровался и представился», now 2nd; «Клиент зашёл в систему» is gone
    assert await ScorecardsRepository(db_sessions).call_scores(1) == []


# ---- the editor ------------------------------------------------------------------------------------


def editor_form(token: str, rows: list[tuple[str, str]], action: str = "save", title: str = "Оценка звонка") -> Any:
    return [(CSRF_FIELD, token), ("title", title), ("action", action),
            *[(k, v) for text, weight in rows for k, v in (("text", text), ("weight", weight))]]


async def test_a_negative_weight_is_refused_naming_the_row_and_keeping_the_input(signed_in: Any,
                                                                                 db_sessions: SessionMaker) -> None:
    client, token = await signed_in("olga")
    rows = [("Поздоровался", "1"), ("Назвал инфоповод", "1"), ("Клиент зашёл в систему", "-2")]
    response = await client.post("/admin/scorecard", data=editor_form(token, rows), headers=HTML_ACCEPT)
    html = await response.text()
    assert response.status == 422
    assert "строка 3: вес не может быть отрицательным" in html and "Не сохранено" in html
    assert 'value="-2"' in html and 'value="Клиент зашёл в систему"' in html and 'value="Назвал инфоповод"' in html
    assert await ScorecardsRepository(db_sessions).history() == []  # nothing saved, not even in part


async def test_the_editor_saves_a_new_version_adds_and_removes_rows(signed_in: Any,
                                                                    db_sessions: SessionMaker) -> None:
    client, token = await signed_in("olga")
    html = await page(client, "/admin/scorecard")
    assert "лист из настроек программы, ещё не менялся" in html and 'value="Клиент зашёл в систему"' in html
    rows = [("Поздоровался", "1"), ("Назвал инфоповод", "2")]
    added = await client.post("/admin/scorecard", data=editor_form(token, rows, "add"), headers=HTML_ACCEPT)
    assert (await added.text()).count('name="text"') == 3
    removed = await client.post("/admin/scorecard", data=editor_form(token, rows, "remove:1"), headers=HTML_ACCEPT)
    removed_html = await removed.text()
    assert 'value="Поздоровался"' not in removed_html and 'value="Назвал инфоповод"' in removed_html
    response = await client.post("/admin/scorecard", data=editor_form(token, [*rows, ("", "")]),
                                 allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/admin/scorecard?done=saved"
    repo = ScorecardsRepository(db_sessions)
    current = await repo.current()
    assert current is not None and [(i.text, str(i.weight)) for i in current.items] == rows
    assert current.author_name == "Смирнова Ольга"
    again = await client.post("/admin/scorecard", data=editor_form(token, rows), allow_redirects=False)
    assert again.headers["Location"] == "/admin/scorecard?done=unchanged" and len(await repo.history()) == 1
    html = await page(client, "/admin/scorecard?done=saved")
    assert "Сохранено" in html and "Смирнова Ольга" in html and 'data-version="' in html


async def test_an_expert_cannot_open_the_editor(signed_in: Any) -> None:
    client, token = await signed_in("maria")
    await page(client, "/admin/scorecard", status=403)
    response = await client.post("/admin/scorecard", data=editor_form(token, [("А", "1")]), headers=HTML_ACCEPT)
    assert response.status == 403


# ---- the figures -----------------------------------------------------------------------------------


async def scored(signed_in: Any) -> None:
    """maria: c1 60 % and c4 100 %; anna: c9 40 %."""
    olga = await signed_in("olga")
    for linkedid, met in (("c1", [1, 3]), ("c4", [1, 2, 3, 4]), ("c9", [3])):
        assert (await score(olga, linkedid, met)).status == 303


def row_of(html: str, login: str) -> str:
    table = html.split('data-testid="call-scores-table"', 1)[1].split("</table>", 1)[0]
    return table.split(f'data-expert="{login}"', 1)[1].split("</tr>", 1)[0]


async def test_the_figures_show_the_average_per_expert_and_item(signed_in: Any) -> None:
    await scored(signed_in)
    client, _ = await signed_in("olga")
    html = await page(client, WEEK)
    assert "Оценки звонков" in html
    maria, anna, total = row_of(html, "maria"), row_of(html, "anna"), row_of(html, "")
    assert "80 %" in maria and "по 2 звонкам" in maria
    assert "40 %" in anna and "по 1 звонку" in anna
    assert "66,7 %" in total and "по 3 звонкам" in total
    # «Поздоровался и представился» (item 1): maria 2 of 2, anna 0 of 1
    assert re.search(r'data-item="1">100 %', maria) and re.search(r'data-item="1">0 %', anna)
    assert re.search(r'data-item="1">66,7 %', total)
    next_week = await page(client, WEEK.replace("2026-03-04", "2026-03-11"))
    assert 'data-testid="no-call-scores">нет оценок за период' in next_week


async def test_an_expert_sees_only_her_own_scores_in_her_figures(signed_in: Any) -> None:
    await scored(signed_in)
    client, _ = await signed_in("maria")
    html = await page(client, WEEK)
    block = html.split('data-testid="call-scores"', 1)[1].split("</section>", 1)[0]
    assert "Орлова Мария" in block and "80 %" in block and "по 2 звонкам" in block
    assert "Белова Анна" not in html and "Отдел" not in block and "scorecard-link" not in block


async def test_the_xlsx_has_the_scores_sheet(signed_in: Any) -> None:
    await scored(signed_in)
    client, _ = await signed_in("olga")
    response = await client.get(WEEK.replace("/figures?", "/figures.xlsx?"))
    assert response.status == 200
    sheet = load_workbook(BytesIO(await response.read()))["Оценки звонков"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Эксперт", "Показатель", "Значение", "Оценённых звонков")
    values = {(who, what): (value, n) for who, what, value, n in rows[1:]}
    assert values[("Отдел", "Средняя оценка")] == (pytest.approx(2 / 3), 3)
    assert values[("Орлова Мария", "Средняя оценка")] == (pytest.approx(0.8), 2)
    assert values[("Белова Анна", "Выполнено: Клиент зашёл в систему")] == (1.0, 1)
    assert values[("Отдел", "Выполнено: Поздоровался и представился")] == (pytest.approx(2 / 3), 3)
    assert sheet["C2"].number_format == "0.0%"


async def test_hostile_values_in_the_scorecard_forms_get_a_clear_answer(signed_in: Any) -> None:
    """tests/security sends its hostile values under the names other forms use: here, under these forms' own."""
    client, token = await signed_in("olga")
    failures = []
    for value in HOSTILE_VALUES:
        for version in ("config", value):
            data = [(CSRF_FIELD, token), ("version", version), ("met", value), ("met", "1")]
            response = await client.post("/calls/c1/score", data=data, headers=HTML_ACCEPT, allow_redirects=False)
            if response.status >= 500 or response.status == 303:  # a hostile tick is never saved
                failures.append(f"score {version!r} {value!r}: {response.status}")
        for name in ("title", "text", "weight", "action"):
            fields = {"title": "Оценка", "text": "Пункт", "weight": "1", "action": "save", name: value}
            response = await client.post("/admin/scorecard", data={CSRF_FIELD: token, **fields}, headers=HTML_ACCEPT,
                                         allow_redirects=False)
            if response.status >= 500:
                failures.append(f"editor {name}={value!r}: {response.status}")
    assert failures == []
