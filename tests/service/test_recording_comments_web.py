"""Comments on a recording over HTTP on SQLite and PostgreSQL (service/web/recording_comments.py): who may comment
and see them, times past the end refused in Russian with nothing stored, CSRF, the Expert's badge and list,
opening the call marking them seen, every view in the recording's access log."""

from __future__ import annotations

import re
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from dialer.records import Direction
from service.app import create_app
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.models import Call, RecordingAccess
from service.db.models_coaching import RecordingComment
from service.db.users import UsersRepository
from service.passwords import hash_password, use_hasher
from service.settings import Settings
from service.web.keys import CSRF_FIELD
from service.web.recording_comments import wav_seconds
from tests.security.test_hostile_requests import HOSTILE_VALUES
from tests.service.builders import T0, closed_call
from tests.service.planning import seed_portfolio
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, JSON_ACCEPT, csrf_header, sign_in, use_cheap_hashes

PBX_DIR = "/var/spool/asterisk/monitor/"
LENGTH_S = 9 * 60 + 41  # L-1's recording: 9:41
BEYOND = "Время 12:30 за концом записи (длина записи 9:41)"


@dataclass
class Site:
    settings: Settings
    sessions: SessionMaker
    aiohttp_client: Any

    async def client(self, login: str) -> tuple[TestClient, str]:
        """A browser signed in as `login`, and its CSRF token."""
        client = await self.aiohttp_client(create_app(self.settings, with_pbx=False))
        return client, await sign_in(client, login)


def write_wav(path: Path, seconds: int) -> None:
    """A real WAV header and data, small: 100 frames a second of 8-bit silence."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(100)
        out.writeframes(b"\x80" * (100 * seconds))


@pytest.fixture
async def site(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path,
               aiohttp_client: Any) -> AsyncIterator[Site]:
    """ivanova (101) made L-1 (a 9:41 recording), L-2 (none) and L-4 (its file gone); petrov (102) took L-3."""
    previous = use_cheap_hashes()
    recordings = tmp_path / "rec"
    recordings.mkdir()
    settings = Settings.model_validate({"database": {"url": migrated_db}, "recordings": {"dir": str(recordings)}})
    await seed_portfolio(db_sessions)
    users = UsersRepository(db_sessions)
    for login in ("ivanova", "petrov", "smirnova"):
        await users.set_password_hash(login, hash_password(DEFAULT_PASSWORD))
    write_wav(recordings / "ds-L-1.wav", LENGTH_S)
    write_wav(recordings / "ds-L-3.wav", 30)
    await LedgerRepository(db_sessions).upsert_calls([
        closed_call("L-1", client_id="C-1", recording=PBX_DIR + "ds-L-1.wav", duration_s=590.0, talk_s=585.0),
        closed_call("L-2", started_at=T0 - timedelta(hours=1), recording=None),
        closed_call("L-3", expert_ext="102", direction=Direction.INBOUND, recording=PBX_DIR + "ds-L-3.wav"),
        closed_call("L-4", started_at=T0 - timedelta(hours=2), recording=PBX_DIR + "ds-L-4.wav"),
    ])
    yield Site(settings, db_sessions, aiohttp_client)
    use_hasher(previous)


async def comment(client: TestClient, token: str, linkedid: str, **fields: str) -> tuple[int, Any]:
    """POST as fetch() does; (status, JSON)."""
    response = await client.post(f"/calls/{linkedid}/comments", data=fields,
                                 headers={**csrf_header(token), **JSON_ACCEPT})
    return response.status, await response.json(content_type=None)


async def page(client: TestClient, path: str) -> tuple[int, str]:
    response = await client.get(path, headers=HTML_ACCEPT)
    return response.status, await response.text()


async def stored(site: Site) -> list[tuple[str, float, str, int | None]]:
    async with site.sessions() as s:
        rows = await s.execute(select(Call.linkedid, RecordingComment.at_s, RecordingComment.text,
                                      RecordingComment.parent_id)
                               .join(Call, Call.id == RecordingComment.call_id).order_by(RecordingComment.id))
        return [(linkedid, at_s, text, parent) for linkedid, at_s, text, parent in rows]


async def views(site: Site) -> list[tuple[str, str]]:
    async with site.sessions() as s:
        rows = await s.execute(select(Call.linkedid, RecordingAccess.action)
                               .join(Call, Call.id == RecordingAccess.call_id)
                               .where(RecordingAccess.action == "comments").order_by(RecordingAccess.id))
        return [(linkedid, action) for linkedid, action in rows]


def test_the_length_is_read_from_the_wav_header(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", 135)
    (tmp_path / "broken.wav").write_bytes(b"RIFF" + bytes(range(256)) * 4)
    assert wav_seconds(tmp_path / "a.wav") == 135.0
    assert wav_seconds(tmp_path / "broken.wav") is None
    assert wav_seconds(tmp_path / "gone.wav") is None


async def test_a_supervisor_comments_at_2_15_and_the_page_shows_it_there(site: Site) -> None:
    olga, token = await site.client("smirnova")
    form = {CSRF_FIELD: token, "at": "2:15", "text": "Здесь не предложили вебинар"}
    response = await olga.post("/calls/L-1/comments", data=form, headers=HTML_ACCEPT, allow_redirects=False)
    assert response.status == 303
    [(linkedid, at_s, text, parent)] = await stored(site)
    assert (linkedid, at_s, text, parent) == ("L-1", 135.0, "Здесь не предложили вебинар", None)
    location = response.headers["Location"]
    assert re.fullmatch(r"/calls/L-1\?t=135#comment-\d+", location)
    status, html = await page(olga, location.split("#")[0])
    assert status == 200
    assert 'data-testid="comment-mark"' in html and "left: 23.24%" in html  # 135 of 581 s
    assert ">2:15</a>" in html and "Здесь не предложили вебинар" in html and 'data-length="581.0"' in html
    assert 'data-start="135' in html and "is-highlighted" in html
    assert "comments.js" in html


async def test_json_answers_for_the_pages_script(site: Site) -> None:
    olga, token = await site.client("smirnova")
    status, body = await comment(olga, token, "L-1", at="135", text="Пауза слишком длинная")
    assert status == 201 and body["at"] == "2:15" and body["url"] == f"/calls/L-1?t=135#comment-{body['id']}"


async def test_a_time_past_the_end_is_refused_in_russian_and_nothing_is_stored(site: Site) -> None:
    olga, token = await site.client("smirnova")
    status, body = await comment(olga, token, "L-1", at="12:30", text="Что-то")
    assert status == 422 and body["error"] == BEYOND and body["problems"] == [{"field": "at", "message": BEYOND}]
    response = await olga.post("/calls/L-1/comments", data={CSRF_FIELD: token, "at": "12:30", "text": ""},
                               headers=HTML_ACCEPT)
    html = await response.text()
    assert response.status == 422 and BEYOND in html and "Напишите текст комментария" in html
    status, body = await comment(olga, token, "L-1", at="1:00", text="я" * 2001)
    assert status == 422 and "длиннее 2000 знаков" in body["error"]
    assert await stored(site) == []


async def test_without_its_file_the_recording_is_as_long_as_the_call(site: Site) -> None:
    olga, token = await site.client("smirnova")
    status, body = await comment(olga, token, "L-4", at="1:10", text="Где это?")
    assert status == 422 and body["error"] == "Время 1:10 за концом записи (длина записи 1:05)"
    status, _ = await comment(olga, token, "L-4", at="1:05", text="Конец разговора")
    assert status == 201


async def test_the_csrf_token_is_required(site: Site) -> None:
    olga, _ = await site.client("smirnova")
    for headers in ({}, csrf_header("forged")):
        response = await olga.post("/calls/L-1/comments", data={"at": "2:15", "text": "без токена"},
                                   headers={**headers, **JSON_ACCEPT})
        assert response.status == 403
    assert await stored(site) == []


async def test_the_expert_replies_on_her_own_call_and_no_one_elses(site: Site) -> None:
    olga, olga_token = await site.client("smirnova")
    _, first = await comment(olga, olga_token, "L-1", at="2:15", text="Почему не предложили вебинар?")
    _, on_l3 = await comment(olga, olga_token, "L-3", at="0:10", text="Петрову")
    maria, token = await site.client("ivanova")
    status, reply = await comment(maria, token, "L-1", parent=str(first["id"]), text="Клиент торопился", at="")
    assert status == 201 and reply["at"] == "2:15"
    status, own = await comment(maria, token, "L-1", at="0:30", text="Заметка себе")
    assert status == 201
    status, body = await comment(maria, token, "L-1", parent=str(on_l3["id"]), text="не туда")
    assert status == 422 and "только на комментарий к этому звонку" in body["error"]
    for parent in ("abc", "1" + "0" * 22, "-1"):
        assert (await comment(maria, token, "L-1", parent=parent, text="x"))[0] == 422

    status, body = await comment(maria, token, "L-3", at="0:05", text="чужой звонок")
    assert status == 403 and "другого Эксперта" in body["error"]
    assert (await page(maria, "/calls/L-3"))[0] == 403
    assert (await comment(maria, token, "L-404", at="0:05", text="нет звонка"))[0] == 404
    status, body = await comment(maria, token, "L-2", at="0:05", text="нет записи")
    assert status == 404
    assert [(linkedid, text, parent) for linkedid, _, text, parent in await stored(site)] == [
        ("L-1", "Почему не предложили вебинар?", None), ("L-3", "Петрову", None),
        ("L-1", "Клиент торопился", first["id"]), ("L-1", "Заметка себе", None)]
    assert (await stored(site))[2][1] == 135.0 and own["at"] == "0:30"


async def test_the_badge_counts_new_comments_and_opening_the_call_marks_them_seen(site: Site) -> None:
    olga, olga_token = await site.client("smirnova")
    maria, _ = await site.client("ivanova")
    status, html = await page(maria, "/desk")
    assert status == 200 and 'data-testid="comments-badge"' not in html
    _, first = await comment(olga, olga_token, "L-1", at="2:15", text="Первый")
    _, html = await page(maria, "/desk")
    assert "1 новый комментарий к вашим звонкам" in html and 'href="/comments"' in html
    await comment(olga, olga_token, "L-4", at="0:20", text="Второй")
    _, html = await page(maria, "/desk")
    assert "2 новых комментария к вашим звонкам" in html
    assert "новых комментари" not in (await page(olga, "/desk?expert=ivanova"))[1]  # only on her own desk

    status, html = await page(maria, "/comments")
    assert status == 200 and "2 новых комментария к вашим звонкам" in html
    assert f'href="/calls/L-1?t=135#comment-{first["id"]}"' in html and "Второй" in html

    status, html = await page(maria, "/calls/L-1?t=135")
    assert status == 200 and 'data-testid="comment-new"' in html  # shown as new this once
    _, html = await page(maria, "/desk")
    assert "1 новый комментарий к вашим звонкам" in html
    _, html = await page(maria, "/calls/L-1")
    assert 'data-testid="comment-new"' not in html


async def test_every_view_of_the_comments_is_logged(site: Site) -> None:
    olga, olga_token = await site.client("smirnova")
    await page(olga, "/calls/L-1")
    assert await views(site) == []  # no comments yet: nothing of them was seen
    await comment(olga, olga_token, "L-1", at="2:15", text="Вебинар")
    await page(olga, "/calls/L-1")
    maria, _ = await site.client("ivanova")
    await page(maria, "/comments")
    await page(maria, "/calls/L-1")  # within SAME_PLAYBACK_S of her list: the same view
    assert await views(site) == [("L-1", "comments"), ("L-1", "comments")]
    _, html = await page(olga, "/calls/L-1")
    assert "открыл(а) комментарии" in html and "Иванова Мария" in html


async def test_hostile_values_in_the_comment_form_are_a_clear_4xx(site: Site) -> None:
    olga, token = await site.client("smirnova")
    for value in HOSTILE_VALUES:
        for fields in ({"at": value, "text": value}, {"parent": value, "text": "ответ"}, {"at": "0:01", "text": value}):
            status, _ = await comment(olga, token, "L-1", **fields)
            assert status in (201, 422), (fields, status)
        response = await olga.get("/calls/L-1", params={"t": value}, headers=HTML_ACCEPT)
        assert response.status == 200, value
    async with site.sessions() as s:
        stored_count = await s.scalar(select(func.count()).select_from(RecordingComment))
    assert stored_count == len(HOSTILE_VALUES) - 1  # each as a text at 0:01, but the 5,000 characters


async def test_a_supervisor_finds_the_experts_reply_in_her_top_bar_and_on_her_list(site: Site) -> None:
    olga, olga_token = await site.client("smirnova")
    maria, maria_token = await site.client("ivanova")
    _, asked = await comment(olga, olga_token, "L-1", at="2:15", text="Почему не предложили вебинар?")
    await page(olga, "/calls/L-1")  # she sees her comment there: a view
    _, html = await page(olga, "/calls")
    assert 'data-testid="replies-badge"' not in html
    _, html = await page(olga, "/comments")
    assert "Ответы на ваши комментарии" in html and "Новых ответов на ваши комментарии нет" in html
    assert "Новые комментарии к вашим звонкам" not in html  # she has no calls of her own

    _, reply = await comment(maria, maria_token, "L-1", parent=str(asked["id"]), text="Клиент торопился")
    for path in ("/calls", "/board", "/comments"):  # on every page
        _, html = await page(olga, path)
        assert 'data-testid="replies-badge"' in html and ">Ответы: 1</a>" in html, path
        assert 'title="1 новый ответ на ваши комментарии"' in html
    assert 'data-testid="replies-badge"' not in (await page(maria, "/calls"))[1]  # hers is on the desk
    before = await views(site)
    _, html = await page(olga, "/comments")
    assert f'href="/calls/L-1?t=135#comment-{reply["id"]}"' in html and "Клиент торопился" in html
    assert "ответ: Иванова Мария" in html and "(Эксперт Иванова Мария)" in html
    assert await views(site) == before  # listed, not yet opened in place: it stays on the list

    # Within SAME_PLAYBACK_S of her last view, and still it counts: it showed her the new reply.
    _, html = await page(olga, "/calls/L-1?t=135")
    assert f'id="comment-{reply["id"]}"' in html and '<span class="rc-new">новый</span>' in html
    assert 'data-testid="replies-badge"' not in html  # this very page counts after its view
    _, html = await page(olga, "/calls")
    assert 'data-testid="replies-badge"' not in html
    assert "Новых ответов на ваши комментарии нет" in (await page(olga, "/comments"))[1]


async def test_the_experts_badge_counts_a_supervisors_answer_to_her_own_comment(site: Site) -> None:
    maria, maria_token = await site.client("ivanova")
    olga, olga_token = await site.client("smirnova")
    _, own = await comment(maria, maria_token, "L-1", at="0:40", text="Здесь я растерялась")
    assert 'data-testid="comments-badge"' not in (await page(maria, "/desk"))[1]
    await comment(olga, olga_token, "L-1", parent=str(own["id"]), text="Предложите семинар")
    _, html = await page(maria, "/desk")
    assert "1 новый комментарий к вашим звонкам" in html
    _, html = await page(maria, "/comments")
    assert "Новые комментарии к вашим звонкам" in html and "ответ: Смирнова Анна" in html
    assert "Ответы на ваши комментарии" not in html  # her own calls' replies are above
    assert 'data-testid="replies-badge"' not in html
    await page(maria, "/calls/L-1")
    assert 'data-testid="comments-badge"' not in (await page(maria, "/desk"))[1]
