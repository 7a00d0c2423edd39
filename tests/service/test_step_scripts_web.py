"""The step-script editor, the desk's step view and «Что работает» over HTTP on SQLite and PostgreSQL: roles,
CSRF, every button, publishing refused with Russian problems naming the step (nothing published half-done),
rollback, and the step log refused outside the Expert's own live call."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.db.engine import SessionMaker
from service.db.models import CallStep, StepScriptVersion
from service.db.plan import PlanRepository
from service.db.step_scripts import StepScriptsRepository
from service.passwords import use_hasher
from service.settings import Settings
from tests.service.planning import at, item, plan
from tests.service.web_helpers import (
    HTML_ACCEPT,
    JSON_ACCEPT,
    csrf_header,
    seed_signed_in_portfolio,
    sign_in,
    use_cheap_hashes,
)


@dataclass
class Office:
    settings: Settings
    sessions: SessionMaker
    day: date


@pytest.fixture
async def office(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path) -> AsyncIterator[Office]:
    """ivanova (Expert 101) has K-3 «Обзор новостей и изменений» today; smirnova supervises."""
    previous = use_cheap_hashes()
    settings, day = await seed_signed_in_portfolio(db_sessions, migrated_db, tmp_path / "rec")
    await PlanRepository(db_sessions).save_plan(
        plan(day, item("K-3", "C-2", at(day, 11, 0), topic="Обзор новостей и изменений")))
    yield Office(settings, db_sessions, day)
    use_hasher(previous)


async def signed_in_as(aiohttp_client: Any, office: Office, login: str) -> tuple[TestClient, str]:
    client = await aiohttp_client(create_app(office.settings, with_pbx=False))
    return client, await sign_in(client, login)


async def post(client: TestClient, path: str, token: str | None, data: dict[str, str]) -> tuple[int, str, str]:
    form = {**data, **({"_csrf": token} if token else {})}
    response = await client.post(path, data=form, headers=HTML_ACCEPT, allow_redirects=False)
    return response.status, await response.text(), response.headers.get("Location", "")


def form_of(html: str) -> dict[str, str]:
    """The editor form's fields as the browser would send them (checked boxes only)."""
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or name[1] == "_csrf":
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind[1] == "checkbox":
            if "checked" in tag:
                fields[name[1]] = "on"
            continue
        if kind and kind[1] in ("hidden", "submit"):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name[1]] = _unescape(value[1]) if value else ""
    for name, text in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields[name] = _unescape(text)
    return fields


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


STARTER = ["приветствие", "инфоповод", "вход", "следующий-контакт", "перезвонить"]
NEWS_GREETING = "Здравствуйте, {ИО контакта}! Это {Имя эксперта}: расскажу о новостях, которые касаются вас."


async def make_steps(client: TestClient, token: str) -> str:
    status, _, location = await post(client, "/admin/steps", token, {"file": "news_review.j2"})
    assert status == 303 and location == "/admin/steps/news_review?done=created"
    response = await client.get(location, headers=HTML_ACCEPT)
    assert response.status == 200
    return await response.text()


async def starter_form(client: TestClient, token: str) -> dict[str, str]:
    """The new step script's form with its greeting rewritten: the untouched starter is never published."""
    return {**form_of(await make_steps(client, token)), "text-0": NEWS_GREETING}


async def versions(office: Office) -> int:
    async with office.sessions() as session:
        return (await session.execute(select(func.count()).select_from(StepScriptVersion))).scalar_one()


async def test_an_expert_gets_403_on_the_editor_and_the_page(aiohttp_client: Any, office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "ivanova")
    for path in ("/admin/steps/news_review", "/coaching/steps"):
        response = await client.get(path, headers=HTML_ACCEPT)
        assert response.status == 403 and "Нет доступа" in await response.text(), path
    for path in ("/admin/steps", "/admin/steps/news_review", "/admin/steps/news_review/rollback"):
        response = await client.post(path, data={"file": "news_review.j2", "op": "publish"},
                                     headers={**csrf_header(token), **JSON_ACCEPT})
        assert response.status == 403, path
    assert await StepScriptsRepository(office.sessions).all() == []


async def test_every_form_needs_the_csrf_token(aiohttp_client: Any, office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "smirnova")
    status, _, _ = await post(client, "/admin/steps", None, {"file": "news_review.j2"})
    assert status == 403
    await make_steps(client, token)
    status, _, _ = await post(client, "/admin/steps/news_review", None, {"op": "publish", "name": "x"})
    assert status == 403 and await versions(office) == 0


async def test_a_group_lead_builds_a_script_with_a_branch_and_publishes_it(aiohttp_client: Any,
                                                                          office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "smirnova")
    html = await make_steps(client, token)
    assert "черновик" in html and "{ИО контакта}" in html  # the starter draft, the variable picker
    form = form_of(html)
    assert form["key-0"] == "приветствие" and form["branches-0"] == "клиент говорит, что занят → Перезвонить"
    # Add a step, fill it in with a branch, move it up one place.
    status, html, _ = await post(client, "/admin/steps/news_review", token, {**form, "op": "add"})
    assert status == 200
    form = form_of(html)
    new = max(int(name[4:]) for name in form if name.startswith("key-"))
    form |= {f"key-{new}": "offer", f"title-{new}": "Предложение", f"text-{new}": "Предлагаю {Предложение}.",
             f"target-{new}": "2:00", f"branches-{new}": "клиент отказывается -> перезвонить"}
    status, html, _ = await post(client, "/admin/steps/news_review", token, {**form, "op": f"up:{new}"})
    form = form_of(html)
    assert [form[f"key-{i}"] for i in range(new + 1)] == [*STARTER[:4], "offer", "перезвонить"]
    status, html, _ = await post(client, "/admin/steps/news_review", token, {**form, "op": f"up:{new - 1}"})
    form = form_of(html)
    assert [form[f"key-{i}"] for i in range(new + 1)] == [*STARTER[:3], "offer", STARTER[3], "перезвонить"]
    assert form["target-3"] == "2:00" and form["branches-3"] == "клиент отказывается → Перезвонить"
    # The preview fills the variables for a real client.
    status, html, _ = await post(client, "/admin/steps/news_review", token, {**form, "op": "preview", "client": "C-2"})
    assert status == 200 and 'data-testid="steps-preview-box"' in html and "{ИО контакта}" not in html.split(
        'data-testid="steps-preview-box"')[1]
    box = html.split('data-testid="steps-preview-box"')[1]
    assert "Предлагаю СМАРТ-комплект" in box  # the offer as the desk fills it (found trying it: empty)
    assert await versions(office) == 0  # nothing is published by editing or previewing
    status, _, location = await post(client, "/admin/steps/news_review", token, {**form, "op": "publish"})
    assert status == 303 and location.endswith("?done=published")
    published = await StepScriptsRepository(office.sessions).published_for("news_review.j2")
    assert published is not None and published.number == 1
    offer = published.script.step("offer")
    assert offer is not None and offer.target_s == 120 and [b.to for b in offer.branches] == ["перезвонить"]
    html = await (await client.get(location, headers=HTML_ACCEPT)).text()
    assert "Опубликовано" in html and "первая версия: 6 шагов" in html


async def test_publishing_refuses_every_problem_by_step_and_keeps_the_draft(aiohttp_client: Any,
                                                                           office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "smirnova")
    form = await starter_form(client, token)
    await post(client, "/admin/steps/news_review", token, {**form, "op": "publish"})
    assert await versions(office) == 1
    broken = {**form, "text-0": "Здравствуйте, {Фамилия}!", "branches-1": "занят → nowhere",
              "key-2": "следующий-контакт",
              "text-3": " ", "target-4": "полчаса", "jinja-1": "on", "text-1": "{% if client.name %}без конца"}
    status, html, _ = await post(client, "/admin/steps/news_review", token, {**broken, "op": "publish"})
    assert status == 422
    problems = re.search(r'data-testid="step-problems">(.*?)</div>', html, re.S)
    assert problems is not None
    said = _unescape(problems[1])
    for expected in ("шаг 1 «Приветствие»: нет переменной {Фамилия}",
                     "шаг 2 «Инфоповод»: переход «занят» ведёт на шаг «nowhere», которого нет",
                     "шаг 3 «Заход в систему»: ключ «следующий-контакт» есть и у другого шага",
                     "шаг 4 «Следующий контакт»: пустой шаг",
                     "шаг 5 «Перезвонить»: длительность «полчаса» — не время", "шаг 2 «Инфоповод»: "):
        assert expected in said, expected
    assert await versions(office) == 1  # nothing published half-done
    published = await StepScriptsRepository(office.sessions).published_for("news_review.j2")
    assert published is not None and published.script.steps[0].text == NEWS_GREETING
    row = await StepScriptsRepository(office.sessions).by_key("news_review")
    assert row is not None and row.draft is not None and row.draft.steps[0].text == "Здравствуйте, {Фамилия}!"
    # The Jinja2 step's syntax error names the step and is in Russian.
    assert re.search(r"шаг 2 «Инфоповод»: .*[А-Яа-я]", said)
    # Each row shows its own problems under it.
    assert html.count('data-testid="row-problems"') == 5


async def test_a_rollback_publishes_the_old_version_as_a_new_one(aiohttp_client: Any, office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "smirnova")
    form = await starter_form(client, token)
    await post(client, "/admin/steps/news_review", token, {**form, "op": "publish"})
    await post(client, "/admin/steps/news_review", token, {**form, "title-0": "Здравствуйте", "op": "publish"})
    status, _, location = await post(client, "/admin/steps/news_review/rollback", token, {"number": "1"})
    assert status == 303 and location.endswith("?done=rolled")
    repo = StepScriptsRepository(office.sessions)
    row = await repo.by_key("news_review")
    assert row is not None and row.published == 3
    rows = await repo.versions(row.id)
    assert rows[0].changes[:2] == ["возврат к версии 1", "шаг «Приветствие»: изменены заголовок"]
    assert rows[0].script == rows[2].script
    for bad in ("9", "x", "", "9999999999"):
        status, _, _ = await post(client, "/admin/steps/news_review/rollback", token, {"number": bad})
        assert status == 404, bad
    assert (await client.get("/admin/steps/../../etc", headers=HTML_ACCEPT)).status == 404
    assert (await client.get("/admin/steps/nope", headers=HTML_ACCEPT)).status == 404
    status, _, _ = await post(client, "/admin/steps", token, {"file": "../config.yaml"})
    assert status == 404


async def test_the_desk_shows_the_published_script_step_by_step(aiohttp_client: Any, office: Office) -> None:
    lead, token = await signed_in_as(aiohttp_client, office, "smirnova")
    form = await starter_form(lead, token)
    expert, _ = await signed_in_as(aiohttp_client, office, "ivanova")
    html = await (await expert.get("/desk", headers=HTML_ACCEPT)).text()
    assert 'data-testid="script-steps"' not in html  # a draft is not on the desk
    await post(lead, "/admin/steps/news_review", token, {**form, "op": "publish"})
    html = await (await expert.get("/desk", headers=HTML_ACCEPT)).text()
    assert 'data-testid="script-steps"' in html and 'data-band-min="600" data-band-max="720"' in html
    assert html.count('data-testid="desk-step"') == 5 and 'data-testid="login-mark"' in html
    assert "{ИО контакта}" not in html and "{Имя эксперта}" not in html  # filled for the call
    assert 'data-go="перезвонить"' in html  # the branch


async def test_a_step_is_logged_only_during_the_experts_own_live_call(aiohttp_client: Any, office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "ivanova")
    headers = {**csrf_header(token), **JSON_ACCEPT}
    response = await client.post("/calls/1765000000.1/steps", data={"seq": "0", "version": "1", "step": "greeting"},
                                 headers=headers)
    assert response.status == 409
    assert "только во время вашего разговора" in (await response.json())["error"]
    for bad in ({"seq": "x", "version": "1", "step": "a"}, {"seq": "1", "step": "a"},
                {"seq": "1000", "version": "1", "step": "a"}, {"seq": "²", "version": "1", "step": "a"}):
        response = await client.post("/calls/1765000000.1/steps", data=bad, headers=headers)
        assert response.status == 400 and "запрос неполный" in (await response.json())["error"]
    response = await client.post("/calls/1765000000.1/steps", data={"seq": "0", "version": "1", "step": "a"})
    assert response.status == 403  # no CSRF token
    response = await client.get("/calls/1765000000.1/login", headers=JSON_ACCEPT)
    assert response.status == 409 and "только во время звонка" in (await response.json())["error"]
    async with office.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(CallStep))).scalar_one() == 0


async def test_what_works_page_has_no_data_until_a_script_is_published(aiohttp_client: Any, office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "smirnova")
    html = await (await client.get("/coaching/steps", headers=HTML_ACCEPT)).text()
    assert 'data-testid="no-step-scripts"' in html
    form = await starter_form(client, token)
    await post(client, "/admin/steps/news_review", token, {**form, "op": "publish"})
    html = await (await client.get("/coaching/steps?period=week", headers=HTML_ACCEPT)).text()
    assert 'data-testid="ww-empty"' in html
    for query in ("period=year", "date=2026-13-01", "date=9999-01-01"):
        response = await client.get(f"/coaching/steps?{query}", headers=HTML_ACCEPT)
        assert response.status == 400, query
    day = (office.day - timedelta(days=1)).isoformat()
    assert (await client.get(f"/coaching/steps?script=nope&date={day}", headers=HTML_ACCEPT)).status == 200


async def test_what_works_shows_each_experts_steps_and_where_calls_are_lost(aiohttp_client: Any,
                                                                         office: Office) -> None:
    from datetime import UTC, datetime, time

    from dialer.records import CallRecord, Direction, Outcome
    from service.db.ledger import LedgerRepository
    from service.db.users import UsersRepository

    client, token = await signed_in_as(aiohttp_client, office, "smirnova")
    form = await starter_form(client, token)
    await post(client, "/admin/steps/news_review", token, {**form, "op": "publish"})
    repo = StepScriptsRepository(office.sessions)
    version = await repo.published_for("news_review.j2")
    assert version is not None
    ivanova = await UsersRepository(office.sessions).by_login("ivanova")
    assert ivanova is not None
    start = datetime.combine(office.day, time(9, 0), tzinfo=office.settings.organisation.tz).astimezone(UTC)
    moves = [["приветствие", "инфоповод", "вход", "следующий-контакт"], ["приветствие", "инфоповод"],
             ["приветствие", "инфоповод"], ["приветствие", "перезвонить"]]
    for n, keys in enumerate(moves):
        answered = start + timedelta(minutes=20 * n)
        linkedid = f"1765000000.{n + 1}"
        await LedgerRepository(office.sessions).upsert_calls([CallRecord(
            linkedid=linkedid, direction=Direction.OUTBOUND, expert_ext="101", client_number="+79115550001",
            started_at=answered - timedelta(seconds=5), answered_at=answered,
            ended_at=answered + timedelta(seconds=60 * len(keys)), duration_s=60 * len(keys) + 5,
            talk_s=60 * len(keys), outcome=Outcome.ANSWERED, hangup_cause=16, recording=None, planned_call_id=None,
            client_id=None)])
        for seq, key in enumerate(keys):
            await repo.log_step(linkedid, seq, ivanova.id, version.id, key, answered + timedelta(seconds=60 * seq))
    html = await (await client.get(f"/coaching/steps?period=day&date={office.day.isoformat()}",
                                   headers=HTML_ACCEPT)).text()
    assert re.search(r'data-testid="ww-calls">4<', html)
    experts = re.search(r'data-testid="ww-experts">(.*?)</table>', html, re.S)
    assert experts is not None and "Иванова" in experts[1] and "25&nbsp;%" in experts[1]  # 1 of 4 reached login
    login_row = re.search(r'<tr data-step="вход"[^>]*>(.*?)</tr>', html, re.S)
    assert login_row is not None and "25&nbsp;% · 1:00" in login_row[1]
    # Calls reaching «Инфоповод» but not «Заход в систему» (2 of 4) are lost at «Инфоповод»; «Перезвонить» is
    # reached by a branch only, so ending there is no loss on the main line.
    drop = re.search(r'<tr data-step="([^"]+)" class=drop', html)
    assert drop is not None and drop[1] == "инфоповод"
    assert "дальше не идут 50&nbsp;% звонков — здесь теряется больше всего" in html


async def test_the_untouched_starter_is_refused_and_withdrawing_brings_the_template_back(aiohttp_client: Any,
                                                                                        office: Office) -> None:
    lead, token = await signed_in_as(aiohttp_client, office, "smirnova")
    starter = form_of(await make_steps(lead, token))
    status, html, _ = await post(lead, "/admin/steps/news_review", token, {**starter, "op": "publish"})
    assert status == 422 and "Это заготовка без изменений: перепишите шаги под сценарий" in _unescape(html)
    assert await versions(office) == 0
    form = {**starter, "text-0": NEWS_GREETING}
    await post(lead, "/admin/steps/news_review", token, {**form, "op": "publish"})
    expert, _ = await signed_in_as(aiohttp_client, office, "ivanova")
    assert 'data-testid="script-steps"' in await (await expert.get("/desk", headers=HTML_ACCEPT)).text()

    status, _, location = await post(lead, "/admin/steps/news_review", token, {**form, "op": "withdraw"})
    assert status == 303 and location.endswith("?done=withdrawn")
    html = await (await expert.get("/desk", headers=HTML_ACCEPT)).text()
    assert 'data-testid="script-steps"' not in html and 'data-testid="script-text"' in html  # the template again
    page = _unescape(await (await lead.get(location, headers=HTML_ACCEPT)).text())
    assert "снят с публикации — Эксперты видят сценарий-шаблон" in page
    assert NEWS_GREETING in page  # the editor keeps the last steps to publish again
    catalog = _unescape(await (await lead.get("/admin/scripts", headers=HTML_ACCEPT)).text())
    assert "снят с публикации" in catalog
    await post(lead, "/admin/steps/news_review", token, {**form, "op": "withdraw"})  # twice: nothing more
    assert await versions(office) == 2

    await post(lead, "/admin/steps/news_review/rollback", token, {"number": "1"})
    repo = StepScriptsRepository(office.sessions)
    row = await repo.by_key("news_review")
    assert row is not None and not row.withdrawn and row.published == 3
    said = [v.changes for v in await repo.versions(row.id)]
    assert said == [["возврат к версии 1", "снова опубликован: 5 шагов"],
                    ["снят с публикации: Эксперты видят сценарий-шаблон"], ["первая версия: 5 шагов"]]
    assert 'data-testid="script-steps"' in await (await expert.get("/desk", headers=HTML_ACCEPT)).text()


async def test_after_a_button_the_editor_returns_to_the_row_it_concerned(aiohttp_client: Any, office: Office) -> None:
    client, token = await signed_in_as(aiohttp_client, office, "smirnova")
    form = await starter_form(client, token)
    _, html, _ = await post(client, "/admin/steps/news_review", token, {**form, "op": "add"})
    assert 'data-focus="5"' in html and 'id="step-row-5"' in html
    _, html, _ = await post(client, "/admin/steps/news_review", token, {**form, "op": "up:2"})
    assert 'data-focus="1"' in html
    _, html, _ = await post(client, "/admin/steps/news_review", token, {**form, "op": "save"})
    assert "data-focus" not in html
