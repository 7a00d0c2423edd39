"""Stored script versions on SQLite and PostgreSQL: latest per file, resets, history, authors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from service.db.engine import SessionMaker
from service.db.models import Expert
from service.db.script_versions import ScriptVersionsRepository
from service.db.users import UsersRepository

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _author(sessions: SessionMaker, login: str = "olga") -> int:
    user = await UsersRepository(sessions).add(login, "Орлова Ольга Игоревна", "supervisor", None, None)
    return user.id


async def test_a_file_never_edited_has_no_override(db_sessions: SessionMaker) -> None:
    repo = ScriptVersionsRepository(db_sessions)
    assert await repo.latest("news_review.j2") is None
    assert await repo.override_text("news_review.j2") is None
    assert await repo.latest_per_file() == {}
    assert await repo.history("news_review.j2") == []


async def test_the_latest_version_overrides_and_a_reset_returns_to_the_shipped_text(
        db_sessions: SessionMaker) -> None:
    repo = ScriptVersionsRepository(db_sessions)
    olga = await _author(db_sessions)
    first = await repo.add("news_review.j2", "первая", olga, T0)
    assert (first.file, first.source, first.author_login, first.author_name) == (
        "news_review.j2", "первая", "olga", "Орлова Ольга Игоревна")
    assert first.created_at == T0 and first.created_at.tzinfo is not None
    await repo.add("news_review.j2", "вторая", olga, T0 + timedelta(minutes=5))
    assert await repo.override_text("news_review.j2") == "вторая"

    reset = await repo.reset("news_review.j2", olga, T0 + timedelta(minutes=9))
    assert reset.is_reset and not first.is_reset
    assert await repo.override_text("news_review.j2") is None
    latest = await repo.latest("news_review.j2")
    assert latest is not None and latest.is_reset

    await repo.add("news_review.j2", "третья", olga, T0 + timedelta(minutes=12))
    assert await repo.override_text("news_review.j2") == "третья"
    history = await repo.history("news_review.j2")
    assert [v.source for v in history] == ["третья", None, "вторая", "первая"]  # newest first


async def test_files_are_independent_and_the_catalog_sees_each_files_newest(db_sessions: SessionMaker) -> None:
    repo = ScriptVersionsRepository(db_sessions)
    olga = await _author(db_sessions)
    await repo.add("news_review.j2", "обзор 1", olga, T0)
    await repo.add("general.j2", "общий", olga, T0 + timedelta(minutes=1))
    await repo.add("news_review.j2", "обзор 2", olga, T0 + timedelta(minutes=2))
    await repo.reset("training.j2", olga, T0 + timedelta(minutes=3))
    latest = await repo.latest_per_file()
    assert {file: v.source for file, v in latest.items()} == {
        "news_review.j2": "обзор 2", "general.j2": "общий", "training.j2": None}
    assert await repo.override_text("general.j2") == "общий"
    assert await repo.override_text("smart_kit.j2") is None
    assert len(await repo.history("news_review.j2", limit=1)) == 1


async def test_a_version_outlives_its_authors_account(db_sessions: SessionMaker) -> None:
    repo = ScriptVersionsRepository(db_sessions)
    author = await _author(db_sessions, "temp")
    await repo.add("general.j2", "текст", author, T0)
    async with db_sessions.begin() as session:
        await session.execute(delete(Expert).where(Expert.id == author))
    latest = await repo.latest("general.j2")
    assert latest is not None and latest.source == "текст" and latest.author_login is None
