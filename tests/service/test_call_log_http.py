"""The call log and recordings over HTTP on SQLite and PostgreSQL: who sees what, 403/404/410, the access log."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from dialer.records import Direction
from service.app import create_app
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.models import Call, RecordingAccess
from service.db.users import UsersRepository
from service.passwords import hash_password, use_hasher
from service.settings import Settings
from tests.service.builders import T0, closed_call
from tests.service.planning import seed_portfolio
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, sign_in, use_cheap_hashes

PBX_DIR = "/var/spool/asterisk/monitor/"
WAV = b"RIFF" + bytes(range(256)) * 40


@dataclass
class Site:
    settings: Settings
    sessions: SessionMaker
    recordings: Path


@pytest.fixture
async def site(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path) -> AsyncIterator[Site]:
    """ivanova (101) made L-1 and L-2; petrov (102) took L-3; smirnova supervises."""
    previous = use_cheap_hashes()
    recordings = tmp_path / "rec"
    recordings.mkdir()
    settings = Settings.model_validate({"database": {"url": migrated_db}, "recordings": {"dir": str(recordings)}})
    await seed_portfolio(db_sessions)
    users = UsersRepository(db_sessions)
    for login in ("ivanova", "petrov", "smirnova"):
        await users.set_password_hash(login, hash_password(DEFAULT_PASSWORD))
    for name in ("ds-L-1.wav", "ds-L-3.wav"):
        (recordings / name).write_bytes(WAV)
    (tmp_path / "secret.wav").write_bytes(b"outside")
    (recordings / "link.wav").symlink_to(tmp_path / "secret.wav")  # inside by name, outside in fact
    await LedgerRepository(db_sessions).upsert_calls([
        closed_call("L-1", client_id="C-1", recording=PBX_DIR + "ds-L-1.wav"),
        closed_call("L-2", started_at=T0 - timedelta(hours=1), client_id="C-2", recording=None),
        closed_call("L-3", expert_ext="102", direction=Direction.INBOUND, client_id="C-4",
                    recording=PBX_DIR + "ds-L-3.wav"),
        closed_call("L-4", recording=PBX_DIR + "../../../../etc/passwd"),
        closed_call("L-5", recording="/etc/passwd"),
        closed_call("L-6", recording=PBX_DIR + "link.wav"),
        closed_call("L-7", recording=PBX_DIR + "ds-L-7.wav"),  # purged below
    ])
    async with db_sessions.begin() as s:
        await s.execute(update(Call).where(Call.linkedid == "L-7").values(recording_purged_at=T0 + timedelta(days=90)))
    yield Site(settings, db_sessions, recordings)
    use_hasher(previous)


async def signed_in(aiohttp_client: Any, site: Site, login: str) -> TestClient:
    client = await aiohttp_client(create_app(site.settings, with_pbx=False))
    await sign_in(client, login)
    return client


async def get(client: TestClient, path: str, **headers: str) -> tuple[int, str]:
    response = await client.get(path, headers={**HTML_ACCEPT, **headers})
    return response.status, await response.text()


def logged_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-linkedid="([^"]+)"', html)


async def access_rows(site: Site) -> list[tuple[str, str]]:
    async with site.sessions() as s:
        rows = await s.execute(select(Call.linkedid, RecordingAccess.action)
                               .join(Call, Call.id == RecordingAccess.call_id).order_by(RecordingAccess.id))
        return [(linkedid, action) for linkedid, action in rows]


async def test_a_supervisor_sees_every_call_and_filters(aiohttp_client: Any, site: Site) -> None:
    client = await signed_in(aiohttp_client, site, "smirnova")
    status, html = await get(client, "/calls")
    assert status == 200
    assert set(logged_rows(html)) == {f"L-{n}" for n in range(1, 8)}
    assert "ООО «Ромашка»" in html and "Иванова Мария" in html and "показаны 1–7" in html
    assert "+7 (911) 555-01-01" in html and "<td>79115550101</td>" not in html  # issue 14: phones as people write them
    status, html = await get(client, "/calls?expert=102&direction=inbound")
    assert logged_rows(html) == ["L-3"]
    status, html = await get(client, "/calls?q=%D1%80%D0%BE%D0%BC%D0%B0%D1%88")  # «ромаш»
    assert logged_rows(html) == ["L-1"]


async def test_bad_filters_come_back_with_russian_messages(aiohttp_client: Any, site: Site) -> None:
    client = await signed_in(aiohttp_client, site, "smirnova")
    status, html = await get(client, "/calls?from=31.02.2026&min_talk=abc&outcome=<script>")
    assert status == 400
    assert "Дата «с»" in html and "число минут" in html and "исход звонка" in html
    assert "<script>" not in html  # echoed values stay escaped
    status, html = await get(client, "/calls?q=%00&topic=x%00")
    assert status == 400 and "Недопустимые символы" in html  # PostgreSQL would refuse the NUL byte
    status, html = await get(client, "/calls?after=not-a-cursor")
    assert status == 200 and "Ссылка на страницу устарела" in html


async def test_paging_links_carry_the_filters(aiohttp_client: Any, site: Site, monkeypatch: Any) -> None:
    monkeypatch.setattr("service.web.call_log.PAGE_SIZE", 2)
    client = await signed_in(aiohttp_client, site, "smirnova")
    status, html = await get(client, "/calls?expert=101")
    assert "показаны 1–2" in html
    link = re.search(r'<a href="([^"]+)" data-testid="next-page">', html)
    assert link and "expert=101" in link[1]
    status, html = await get(client, link[1].replace("&amp;", "&"))
    assert "показаны 3–4" in html and "к началу" in html


async def test_an_expert_sees_only_their_own_calls(aiohttp_client: Any, site: Site) -> None:
    client = await signed_in(aiohttp_client, site, "ivanova")
    status, html = await get(client, "/calls")
    assert status == 200 and "L-3" not in logged_rows(html) and "L-1" in logged_rows(html)
    assert (await get(client, "/calls?expert=102"))[1].count("data-linkedid") == 0
    assert (await get(client, "/calls/L-1"))[0] == 200
    assert (await get(client, "/calls/L-3"))[0] == 403
    assert (await get(client, "/calls/L-3/recording"))[0] == 403
    assert (await get(client, "/calls/L-404"))[0] == 404
    for page in ("/team", "/admin/scripts"):
        assert (await get(client, page))[0] == 403


async def test_the_call_page_has_timeline_wrapup_and_player(aiohttp_client: Any, site: Site) -> None:
    client = await signed_in(aiohttp_client, site, "smirnova")
    status, html = await get(client, "/calls/L-1")
    assert status == 200
    assert 'data-testid="timeline"' in html and "Ответ" in html and "трубку положил клиент" in html
    assert '<audio controls preload="none" src="/calls/L-1/recording"' in html
    assert "Итога нет" in html and "Кто слушал" in html
    status, html = await get(client, "/calls/L-7")
    assert "Запись удалена по сроку хранения" in html and "<audio" not in html


@pytest.mark.parametrize("path", [
    "/calls/..%2F..%2Fetc%2Fpasswd/recording", "/calls/..%2F..%2Fetc%2Fpasswd",
    "/calls/L-4/recording", "/calls/L-5/recording", "/calls/L-6/recording", "/calls/L-2/recording",
    "/calls/%2Fetc%2Fpasswd/recording", "/calls/L-1%00/recording", "/calls/L-1%00",  # NUL: was a 500 on PG
    "/calls/" + "9" * 100 + "/recording",
])
async def test_nothing_outside_the_recordings_directory_is_served(aiohttp_client: Any, site: Site,
                                                                  path: str) -> None:
    client = await signed_in(aiohttp_client, site, "smirnova")
    response = await client.get(path)
    assert response.status == 404
    assert b"root:" not in await response.read() and b"outside" not in await response.read()


async def test_a_purged_recording_is_gone(aiohttp_client: Any, site: Site) -> None:
    client = await signed_in(aiohttp_client, site, "smirnova")
    response = await client.get("/calls/L-7/recording")
    assert response.status == 410 and "Запись удалена по сроку хранения" in await response.text()


async def test_one_access_row_per_playback_not_per_range_request(aiohttp_client: Any, site: Site) -> None:
    owner = await signed_in(aiohttp_client, site, "ivanova")
    first = await owner.get("/calls/L-1/recording", headers={"Range": "bytes=0-"})
    assert first.status == 206 and await first.read() == WAV
    for ranges in ("bytes=100-199", "bytes=2000-", "bytes=0-"):  # seeking, then the player re-opening
        response = await owner.get("/calls/L-1/recording", headers={"Range": ranges})
        assert response.status == 206
    assert await access_rows(site) == [("L-1", "play")]
    supervisor = await signed_in(aiohttp_client, site, "smirnova")
    assert (await supervisor.get("/calls/L-1/recording")).status == 200
    assert await access_rows(site) == [("L-1", "play"), ("L-1", "play")]
    status, html = await get(supervisor, "/calls/L-1")
    assert html.count("слушал(а)") == 2 and "Тестова" not in html  # the real names
    other = await signed_in(aiohttp_client, site, "petrov")
    assert (await other.get("/calls/L-1/recording")).status == 403
    assert len(await access_rows(site)) == 2  # a refused request is not an access


async def test_download_is_an_attachment_with_a_safe_name(aiohttp_client: Any, site: Site) -> None:
    owner = await signed_in(aiohttp_client, site, "ivanova")
    response = await owner.get("/calls/L-1/recording?download=1")
    assert response.status == 200 and await response.read() == WAV
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="zvonok-2026-03-02-1030-101-1700000000.1.wav"'.replace("1700000000.1", "L-1"))
    assert await access_rows(site) == [("L-1", "download")]


async def test_the_access_log_is_written_in_utc_now(aiohttp_client: Any, site: Site) -> None:
    before = datetime.now(UTC)
    owner = await signed_in(aiohttp_client, site, "ivanova")
    await owner.get("/calls/L-1/recording")
    async with site.sessions() as s:
        at = (await s.execute(select(func.max(RecordingAccess.at)))).scalar_one()
    assert before - timedelta(seconds=1) <= at <= datetime.now(UTC)


async def test_a_call_nobody_talked_on_offers_no_player(aiohttp_client: Any, site: Site) -> None:
    """Issue 14: a busy call showed ▶ though its file holds no conversation."""
    from dialer.records import Outcome

    await LedgerRepository(site.sessions).upsert_calls([closed_call(
        "L-busy", client_id="C-1", recording=PBX_DIR + "ds-L-busy.wav", outcome=Outcome.BUSY, answered_at=None,
        talk_s=0.0, duration_s=7.0)])
    client = await signed_in(aiohttp_client, site, "smirnova")
    status, html = await get(client, "/calls")
    row = html.split('<tr data-linkedid="L-busy"', 1)[1].split("</tr>", 1)[0]
    assert status == 200 and "▶" not in row
    status, page_html = await get(client, "/calls/L-busy")
    assert "Разговора не было" in page_html and 'data-testid="player"' not in page_html
    status, answered = await get(client, "/calls/L-1")
    assert 'data-testid="player"' in answered
