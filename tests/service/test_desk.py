"""The Expert's screen over HTTP on SQLite and PostgreSQL: queue, brief, access, wrap-up, recordings.

The browser tests (tests/browser/) drive the same pages in Chromium with the simulator PBX; these
check the server's rules directly, including what a browser would never send.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from dialer.records import Direction, Outcome
from service.app import create_app
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.models import Call, CallbackPromise, HistoryEntry, PlannedCall, WrapUp
from service.db.plan import PlanRepository
from service.db.users import UsersRepository
from service.passwords import hash_password
from service.settings import Settings
from tests.service.builders import closed_call
from tests.service.planning import at, item, plan
from tests.service.web_helpers import (
    DEFAULT_PASSWORD,
    HTML_ACCEPT,
    JSON_ACCEPT,
    csrf_header,
    csrf_token,
    seed_signed_in_portfolio,
    sign_in,
    use_cheap_hashes,
)


@dataclass
class Desk:
    settings: Settings
    sessions: SessionMaker
    day: Any
    ids: dict[str, str]  # contact external id → planned item public id
    recordings: Path


@pytest.fixture
async def desk(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path) -> AsyncIterator[Desk]:
    """ivanova (101) has K-1, K-2, K-3 planned today; petrov (102) has K-6; smirnova supervises."""
    previous = use_cheap_hashes()
    settings, day = await seed_signed_in_portfolio(db_sessions, migrated_db, tmp_path / "rec")
    await PlanRepository(db_sessions).save_plan(plan(
        day,
        item("K-2", "C-1", at(day, 10, 0), previous_comment="просила прислать обзор"),
        item("K-1", "C-1", at(day, 9, 30)),
        item("K-3", "C-2", at(day, 11, 0), topic="Обучение"),
        item("K-6", "C-4", at(day, 9, 0), expert="petrov"),
    ))
    views = await PlanRepository(db_sessions).list_plan(day)
    ids = {v.contact_external_id or "": v.public_id for v in views}
    (tmp_path / "rec").mkdir()
    yield Desk(settings, db_sessions, day, ids, tmp_path / "rec")
    from service.passwords import use_hasher
    use_hasher(previous)


async def client_for(aiohttp_client: Any, desk: Desk, login: str) -> tuple[TestClient, str]:
    client = await aiohttp_client(create_app(desk.settings, with_pbx=False))
    token = await sign_in(client, login)
    return client, token


async def add_call(desk: Desk, linkedid: str, **changes: Any) -> None:
    start = at(desk.day, 9, 31).astimezone(UTC)
    fields: dict[str, Any] = dict(
        expert_ext="101", started_at=start, ringing_at=None, answered_at=start + timedelta(seconds=5),
        ended_at=start + timedelta(seconds=605), duration_s=605.0, talk_s=600.0, client_id="C-1",
        client_number="79115550001", recording=None, planned_call_id=None)
    record = closed_call(linkedid, **{**fields, **changes})
    await LedgerRepository(desk.sessions).upsert_calls([record])


async def page(client: TestClient, path: str) -> tuple[int, str]:
    response = await client.get(path, headers=HTML_ACCEPT)
    return response.status, await response.text()


async def test_the_queue_is_ordered_by_slot_with_the_next_call_and_progress(aiohttp_client: Any,
                                                                           desk: Desk) -> None:
    client, _ = await client_for(aiohttp_client, desk, "ivanova")
    status, html = await page(client, "/desk")
    assert status == 200
    queue = re.findall(r'<li class="row[^"]*"\s+data-item="(PC-\d+)"', html)
    assert queue == [desk.ids["K-1"], desk.ids["K-2"], desk.ids["K-3"]]  # petrov's K-6 is not here
    assert "0 из 3, результативных 0" in html
    assert re.search(rf'class="row next[^"]*"\s+data-item="{desk.ids["K-1"]}"', html)
    assert "ООО «Ромашка»" in html and "Ольга" in html
    status, html = await page(client, f"/desk?item={desk.ids['K-2']}")
    assert "просила прислать обзор" in html  # the previous work's comment is shown with the item
    # Issue 14: the client's zone by its city and offset, not its IANA key.
    assert re.search(r"<dd title=\"[A-Za-z/_]+\">[А-Яа-яё]+ \(UTC\+\d+\) · сейчас", html)


async def test_an_expert_sees_only_their_own_clients_and_desk(aiohttp_client: Any, desk: Desk) -> None:
    client, _ = await client_for(aiohttp_client, desk, "ivanova")
    assert (await page(client, "/clients/C-1"))[0] == 200
    assert (await page(client, "/clients/C-4"))[0] == 403  # petrov's client
    assert (await page(client, "/clients/C-4/brief"))[0] == 403
    assert (await page(client, "/clients/C-404"))[0] == 404
    assert (await page(client, "/desk?expert=petrov"))[0] == 403
    assert (await page(client, "/team"))[0] == 403
    supervisor, _ = await client_for(aiohttp_client, desk, "smirnova")
    status, html = await page(supervisor, "/desk?expert=petrov")
    assert status == 200 and desk.ids["K-6"] in html
    assert (await page(supervisor, "/clients/C-4"))[0] == 200
    status, html = await page(supervisor, "/team")
    assert status == 200 and "0 из 1, результативных 0" in html


async def test_an_expert_cannot_call_another_experts_client(aiohttp_client: Any, desk: Desk) -> None:
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    for data in ({"item": desk.ids["K-6"]}, {"contact": "K-6"}):
        response = await client.post("/calls", data=data, headers={**csrf_header(token), **JSON_ACCEPT})
        # Without a PBX the desk says so first; the ownership check is covered with one below.
        assert response.status in (403, 503)
    app_with_pbx_check = await client.post("/calls", data={"contact": "K-1"},
                                           headers={**csrf_header(token), **JSON_ACCEPT})
    assert app_with_pbx_check.status == 503
    assert "АТС" in (await app_with_pbx_check.json())["error"]


async def test_wrapup_is_prefilled_from_the_ledger_and_saved_once(aiohttp_client: Any, desk: Desk) -> None:
    await add_call(desk, "L-1", planned_call_id=desk.ids["K-1"])
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    status, html = await page(client, "/calls/L-1/wrapup")
    assert status == 200
    assert "10:05" in html and "10:00" in html  # duration and talk from the PBX, read-only
    assert 'value="contact_made" checked' in html
    form = {"_csrf": token, "result": "contact_made", "topic": "Обучение", "logged_in": "1", "productive": "1",
            "comment": "показала поиск", "duration_s": "1", "talk_s": "9999", "outcome": "busy"}
    response = await client.post("/calls/L-1/wrapup", data=form, headers=JSON_ACCEPT)
    assert response.status == 200, await response.text()
    status, html = await page(client, "/desk")
    assert "1 из 3, результативных 1" in html
    # Saved again with another result: still one wrap-up, the plan item follows the latest.
    form.update(result="not_reached")
    del form["productive"]  # only a contact made may be productive: a tick here is refused (issue 13)
    assert (await client.post("/calls/L-1/wrapup", data=form, headers=JSON_ACCEPT)).status == 200
    async with desk.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(WrapUp))).scalar() == 1
        wrapup = (await s.execute(select(WrapUp))).scalar_one()
        assert (wrapup.result, wrapup.productive, wrapup.logged_in) == ("not_reached", False, False)
        item_row = (await s.execute(select(PlannedCall).where(
            PlannedCall.public_id == desk.ids["K-1"]))).scalar_one()
        assert item_row.state == "not_reached"  # back into the retry rules
        assert item_row.result_comment == "показала поиск"
        call = (await s.execute(select(Call).where(Call.linkedid == "L-1"))).scalar_one()
        assert (call.duration_s, call.talk_s, call.outcome) == (605.0, 600.0, "answered")  # untouched


async def test_a_bad_wrapup_comes_back_with_every_problem_and_saves_nothing(aiohttp_client: Any,
                                                                           desk: Desk) -> None:
    await add_call(desk, "L-2", planned_call_id=desk.ids["K-2"])
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    response = await client.post("/calls/L-2/wrapup", headers=HTML_ACCEPT, data={
        "_csrf": token, "result": "callback", "topic": "Погода", "comment": "перезвонить после обеда"})
    assert response.status == 422
    html = await response.text()
    assert "Укажите, когда перезвонить" in html and "Неизвестный инфоповод" in html
    assert "перезвонить после обеда" in html  # what was typed is kept
    async with desk.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(WrapUp))).scalar() == 0


async def test_a_callback_becomes_one_promise_that_moves_when_saved_again(aiohttp_client: Any,
                                                                          desk: Desk) -> None:
    await add_call(desk, "L-3", planned_call_id=desk.ids["K-3"])
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    # Callbacks only on working days (issue 14): the next two, whatever weekday the test runs on.
    calendar = desk.settings.plan.calendar()
    next_day = calendar.next_working_day(desk.day)
    first = next_day.isoformat() + "T15:30"
    second = calendar.next_working_day(next_day).isoformat() + "T11:00"
    for when in (first, second):
        response = await client.post("/calls/L-3/wrapup", headers=JSON_ACCEPT, data={
            "_csrf": token, "result": "callback", "next_contact": when})
        assert response.status == 200, await response.text()
    async with desk.sessions() as s:
        promises = (await s.execute(select(CallbackPromise))).scalars().all()
        assert len(promises) == 1
        assert promises[0].at.astimezone(desk.settings.organisation.tz).strftime("%Y-%m-%dT%H:%M") == second
        state = (await s.execute(select(PlannedCall.state).where(
            PlannedCall.public_id == desk.ids["K-3"]))).scalar_one()
        assert state == "callback"


async def test_an_unplanned_call_is_listed_and_its_wrapup_enters_the_history(aiohttp_client: Any,
                                                                           desk: Desk) -> None:
    await add_call(desk, "L-in", planned_call_id=None, direction=Direction.INBOUND)
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    status, html = await page(client, "/desk")
    assert 'data-linkedid="L-in"' in html and "входящий" in html
    assert "0 из 3, результативных 0" in html  # unplanned calls are not "из N"
    response = await client.post("/calls/L-in/wrapup", headers=JSON_ACCEPT, data={
        "_csrf": token, "result": "contact_made", "comment": "спросила про отчётность"})
    assert response.status == 200
    assert (await client.post("/calls/L-in/wrapup", headers=JSON_ACCEPT, data={
        "_csrf": token, "result": "contact_made", "comment": "спросила про отчётность"})).status == 200
    async with desk.sessions() as s:
        rows = (await s.execute(select(HistoryEntry).where(HistoryEntry.comment == "спросила про отчётность"))
                ).scalars().all()
    assert len(rows) == 1 and rows[0].result == "contact_made" and rows[0].date == desk.day


async def test_another_experts_call_cannot_be_wrapped_up_and_csrf_is_required(aiohttp_client: Any,
                                                                              desk: Desk) -> None:
    await add_call(desk, "L-4", planned_call_id=desk.ids["K-1"])
    client, token = await client_for(aiohttp_client, desk, "petrov")
    assert (await page(client, "/calls/L-4/wrapup"))[0] == 403
    response = await client.post("/calls/L-4/wrapup", headers=JSON_ACCEPT,
                                 data={"_csrf": token, "result": "contact_made"})
    assert response.status == 403
    owner, _ = await client_for(aiohttp_client, desk, "ivanova")
    response = await owner.post("/calls/L-4/wrapup", headers=JSON_ACCEPT, data={"result": "contact_made"})
    assert response.status == 403  # no CSRF token
    async with desk.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(WrapUp))).scalar() == 0


async def test_recordings_play_with_range_only_for_their_expert(aiohttp_client: Any, desk: Desk) -> None:
    (desk.recordings / "ds-L-5.wav").write_bytes(b"RIFF" + bytes(range(256)) * 40)
    await add_call(desk, "L-5", recording="/var/spool/asterisk/monitor/ds-L-5.wav")
    await add_call(desk, "L-6", recording="/var/spool/asterisk/monitor/../../../../etc/passwd")
    await add_call(desk, "L-7", recording="/etc/passwd")
    owner, _ = await client_for(aiohttp_client, desk, "ivanova")
    response = await owner.get("/calls/L-5/recording", headers={"Range": "bytes=100-199"})
    assert response.status == 206 and len(await response.read()) == 100
    for linkedid in ("L-6", "L-7", "nope"):
        assert (await owner.get(f"/calls/{linkedid}/recording")).status == 404
    other, _ = await client_for(aiohttp_client, desk, "petrov")
    assert (await other.get("/calls/L-5/recording")).status == 403
    supervisor, _ = await client_for(aiohttp_client, desk, "smirnova")
    assert (await supervisor.get("/calls/L-5/recording")).status == 200


async def test_an_open_call_has_no_wrapup_yet(aiohttp_client: Any, desk: Desk) -> None:
    await add_call(desk, "L-8", ended_at=None, outcome=None)
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    assert (await page(client, "/calls/L-8/wrapup"))[0] == 409
    assert (await page(client, "/calls/L-unknown/wrapup"))[0] == 404


async def test_a_nul_byte_gets_a_clear_answer_not_a_500(aiohttp_client: Any, desk: Desk) -> None:
    """Found in review: `/calls/L-1%00/wrapup` reached PostgreSQL and failed there with a 500."""
    await add_call(desk, "L-9", planned_call_id=desk.ids["K-1"])
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    for path in ("/calls/L-9%00/wrapup", "/clients/C-1%00", "/clients/C-1%00/brief"):
        assert (await page(client, path))[0] == 404, path
    status, text = await page(client, "/desk?expert=iv%00anova")
    assert status == 400 and "Недопустимые символы" in text
    # In a form: refused before anything reads it (found in review: login and click-to-call gave a 500).
    for path, form in (("/calls/L-9/wrapup", {"result": "contact_made", "comment": "до\x00после"}),
                       ("/calls", {"item": desk.ids["K-1"] + "\x00"}),
                       ("/calls", {"contact": "\x00"})):
        response = await client.post(path, headers=HTML_ACCEPT, data={"_csrf": token, **form})
        assert response.status == 400, path
        assert "Недопустимые символы в форме" in await response.text()
    fresh = await aiohttp_client(create_app(desk.settings, with_pbx=False))
    login_page = await fresh.get("/login", headers=HTML_ACCEPT)
    response = await fresh.post("/login", headers=HTML_ACCEPT, data={
        "_csrf": csrf_token(await login_page.text()), "login": "iva\x00nova", "password": DEFAULT_PASSWORD})
    assert response.status == 400
    async with desk.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(WrapUp))).scalar() == 0


async def test_a_wrapup_stays_with_the_expert_who_saved_it(aiohttp_client: Any, desk: Desk) -> None:
    """Found in review: after an extension passes to someone else, they could overwrite the old wrap-ups."""
    await add_call(desk, "L-10", planned_call_id=desk.ids["K-1"])
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    assert (await client.post("/calls/L-10/wrapup", headers=JSON_ACCEPT, data={
        "_csrf": token, "result": "contact_made", "comment": "моё"})).status == 200
    users = UsersRepository(desk.sessions)
    await users.deactivate("ivanova")
    await users.add("novikova", "Новикова Нина Павловна", "expert", "101", hash_password(DEFAULT_PASSWORD))
    newcomer, token = await client_for(aiohttp_client, desk, "novikova")
    assert (await page(newcomer, "/calls/L-10/wrapup"))[0] == 403
    assert (await newcomer.post("/calls/L-10/wrapup", headers=JSON_ACCEPT, data={
        "_csrf": token, "result": "refused", "comment": "чужое"})).status == 403
    async with desk.sessions() as s:
        assert (await s.execute(select(WrapUp.comment))).scalar_one() == "моё"
    # The older calls of extension 101 stay ivanova's: not in the newcomer's log, brief or recordings.
    (desk.recordings / "ds-L-10.wav").write_bytes(b"RIFF" + bytes(64))
    await add_call(desk, "L-10", planned_call_id=desk.ids["K-1"],
                   recording="/var/spool/asterisk/monitor/ds-L-10.wav")
    assert (await newcomer.get("/calls/L-10/recording")).status == 403
    assert (await page(newcomer, "/calls/L-10"))[0] == 403
    status, html = await page(newcomer, "/calls")
    assert status == 200 and "L-10" not in html
    status, html = await page(newcomer, "/clients/C-1/brief")
    assert "L-10" not in html
    await add_call(desk, "L-15")  # recorded now, on the newcomer's extension: theirs
    assert (await page(newcomer, "/calls/L-15"))[0] == 200


async def test_an_older_calls_wrapup_does_not_undo_the_items_state(aiohttp_client: Any, desk: Desk) -> None:
    """Found in review: the item took the state of whichever call was wrapped up last."""
    start = at(desk.day, 9, 31).astimezone(UTC)
    await add_call(desk, "L-11", planned_call_id=desk.ids["K-1"], answered_at=None, talk_s=0.0,
                   outcome=Outcome.NO_ANSWER)
    await add_call(desk, "L-12", planned_call_id=desk.ids["K-1"], started_at=start + timedelta(minutes=20),
                   answered_at=start + timedelta(minutes=20, seconds=5),
                   ended_at=start + timedelta(minutes=30))
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    for linkedid, result in (("L-12", "contact_made"), ("L-11", "not_reached")):
        response = await client.post(f"/calls/{linkedid}/wrapup", headers=JSON_ACCEPT,
                                     data={"_csrf": token, "result": result})
        assert response.status == 200, await response.text()
    async with desk.sessions() as s:
        state = (await s.execute(select(PlannedCall.state).where(
            PlannedCall.public_id == desk.ids["K-1"]))).scalar_one()
        assert state == "contact_made"
        assert (await s.execute(select(func.count()).select_from(WrapUp))).scalar() == 2


async def test_saving_a_callback_again_keeps_it_done_unless_its_time_moves(aiohttp_client: Any,
                                                                           desk: Desk) -> None:
    """Found in review: any re-save (a typo fixed in the comment) reopened a callback already made."""
    await add_call(desk, "L-13", planned_call_id=desk.ids["K-3"])
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    when = (desk.day + timedelta(days=1)).isoformat() + "T15:30"

    async def save(comment: str, next_contact: str) -> None:
        response = await client.post("/calls/L-13/wrapup", headers=JSON_ACCEPT, data={
            "_csrf": token, "result": "callback", "next_contact": next_contact, "comment": comment})
        assert response.status == 200, await response.text()

    async def done() -> bool:
        async with desk.sessions() as s:
            return bool((await s.execute(select(CallbackPromise.done))).scalar_one())

    await save("перезвонить", when)
    async with desk.sessions.begin() as s:
        await s.execute(update(CallbackPromise).values(done=True))  # the callback was made
    await save("перезвонить в 15:30", when)
    assert await done()
    await save("перезвонить позже", (desk.day + timedelta(days=2)).isoformat() + "T10:00")
    assert not await done()


async def test_someone_elses_call_is_refused_without_waiting_for_the_ledger(aiohttp_client: Any,
                                                                          desk: Desk) -> None:
    """Found in review: the 3-second wait for an open call ran before the access check."""
    import time

    await add_call(desk, "L-14", ended_at=None, outcome=None)
    client, _ = await client_for(aiohttp_client, desk, "petrov")
    started = time.monotonic()
    assert (await page(client, "/calls/L-14/wrapup"))[0] == 403
    assert time.monotonic() - started < 1.5
    assert (await page(client, "/calls/" + "x" * 300 + "/wrapup"))[0] == 404


async def test_the_brief_names_every_version_type(aiohttp_client: Any, desk: Desk) -> None:
    """Found in review: the brief knew "internet", the directory stores "internet_update"."""
    from service.db.models import Client

    async with desk.sessions.begin() as s:
        await s.execute(update(Client).where(Client.external_id == "C-2").values(version="internet_update"))
    client, _ = await client_for(aiohttp_client, desk, "ivanova")
    status, html = await page(client, "/clients/C-2/brief")
    assert status == 200 and "интернет-пополнение" in html and "internet_update" not in html
    status, html = await page(client, "/clients/C-1/brief")
    assert "онлайн-версия" in html


async def test_a_contact_cannot_be_claimed_for_a_call_nobody_answered(aiohttp_client: Any, desk: Desk) -> None:
    """Issue 13 (found trying it): «Контакт состоялся» on an unanswered call counted as a contact."""
    await add_call(desk, "L-na", planned_call_id=desk.ids["K-2"], answered_at=None, talk_s=0.0, duration_s=20.0,
                   outcome=Outcome.NO_ANSWER)
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    response = await client.post("/calls/L-na/wrapup", headers=HTML_ACCEPT,
                                 data={"_csrf": token, "result": "contact_made", "comment": "дозвонилась?"})
    assert response.status == 422
    html = await response.text()
    assert "Клиент не ответил (по данным АТС разговора не было)" in html and "дозвонилась?" in html
    ok = await client.post("/calls/L-na/wrapup", headers=JSON_ACCEPT, data={"_csrf": token, "result": "not_reached"})
    assert ok.status == 200



@pytest.mark.parametrize(("when", "message"), [
    ("sunday 11:00", "выходной день"),
    ("working day 03:00", "вне рабочего времени клиента 09:00–18:00"),
    ("in 61 days", "не дальше чем через 60 дн."),
])
async def test_a_callback_outside_the_clients_hours_is_refused(aiohttp_client: Any, desk: Desk, when: str,
                                                               message: str) -> None:
    """Issue 14: callbacks were accepted for Sunday 03:00 and for 2031."""
    await add_call(desk, "L-cb", planned_call_id=desk.ids["K-3"])
    calendar = desk.settings.plan.calendar()
    working = calendar.next_working_day(desk.day)
    sunday = desk.day + timedelta(days=(6 - desk.day.weekday()) or 7)
    moment = {"sunday 11:00": f"{sunday.isoformat()}T11:00", "working day 03:00": f"{working.isoformat()}T03:00",
              "in 61 days": f"{calendar.next_working_day(desk.day + timedelta(days=61)).isoformat()}T11:00"}[when]
    client, token = await client_for(aiohttp_client, desk, "ivanova")
    response = await client.post("/calls/L-cb/wrapup", headers=HTML_ACCEPT, data={
        "_csrf": token, "result": "callback", "next_contact": moment, "comment": "просила позже"})
    assert response.status == 422
    html = await response.text()
    assert message in html and "просила позже" in html
