"""Comments on a recording in the database (service/db/recording_comments.py), on SQLite and PostgreSQL: comments
and replies, a call's comments, what is new to its Expert (her own never are), marking them seen, and the replies
new to whoever wrote earlier in their thread until her next view of the call's comments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dialer.records import Direction
from service.coaching.comments import threads
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.db.models_coaching import RecordingComment
from service.db.recording_comments import VIEW_ACTION, RecordingCommentsRepository, UnknownParent
from service.db.recordings import RecordingsRepository
from service.db.users import UsersRepository
from tests.service.builders import T0, closed_call
from tests.service.planning import seed_portfolio

NOW = T0 + timedelta(days=1)
PBX_DIR = "/var/spool/asterisk/monitor/"


@pytest.fixture
async def people(db_sessions: SessionMaker) -> dict[str, int]:
    """ivanova (101) made L-1 and L-2; petrov (102) took L-3; smirnova supervises."""
    await seed_portfolio(db_sessions)
    await LedgerRepository(db_sessions).upsert_calls([
        closed_call("L-1", client_id="C-1", recording=PBX_DIR + "ds-L-1.wav"),
        closed_call("L-2", started_at=T0 - timedelta(hours=1), recording=PBX_DIR + "ds-L-2.wav"),
        closed_call("L-3", expert_ext="102", direction=Direction.INBOUND, recording=PBX_DIR + "ds-L-3.wav"),
    ])
    users = UsersRepository(db_sessions)
    ids = {login: (await users.by_login(login)) for login in ("ivanova", "petrov", "smirnova")}
    return {login: user.id for login, user in ids.items() if user is not None}


@pytest.fixture
def repo(db_sessions: SessionMaker) -> RecordingCommentsRepository:
    return RecordingCommentsRepository(db_sessions)


async def call_id(repo: RecordingCommentsRepository, linkedid: str) -> int:
    call = await repo.call(linkedid)
    assert call is not None
    return call.id


async def test_a_call_tells_what_commenting_needs(repo: RecordingCommentsRepository, people: dict[str, int]) -> None:
    call = await repo.call("L-1")
    assert call is not None and call.expert_id == people["ivanova"] and call.duration_s == pytest.approx(65.25)
    assert call.has_conversation and call.recording == PBX_DIR + "ds-L-1.wav"
    assert await repo.call("L-404") is None


async def test_a_supervisors_comment_is_new_to_the_expert_until_she_opens_it(
        repo: RecordingCommentsRepository, people: dict[str, int]) -> None:
    l1, l2 = await call_id(repo, "L-1"), await call_id(repo, "L-2")
    first = await repo.add(l1, people["smirnova"], 135.0, "Здесь не предложили вебинар", NOW)
    await repo.add(l2, people["smirnova"], 10.0, "Хорошее начало", NOW + timedelta(minutes=1))
    assert first.at_s == 135.0
    assert await repo.unseen_count(people["ivanova"]) == 2
    assert await repo.unseen_count(people["petrov"]) == 0
    listed = await repo.new_for(people["ivanova"])
    assert [(c.linkedid, c.at_s, c.author, c.is_reply) for c in listed] == [
        ("L-2", 10.0, "Смирнова Анна", False), ("L-1", 135.0, "Смирнова Анна", False)]  # newest first
    assert listed[1].client_name == "ООО «Ромашка»" and listed[1].whole_s == 135

    assert await repo.mark_seen(l1, people["petrov"], NOW) == 0  # not his call: nothing changes
    assert await repo.mark_seen(l1, people["ivanova"], NOW + timedelta(hours=1)) == 1
    assert await repo.mark_seen(l1, people["ivanova"], NOW + timedelta(hours=2)) == 0  # seen once, stays so
    assert await repo.unseen_count(people["ivanova"]) == 1
    seen = (await repo.for_call(l1))[0].seen_at
    assert seen is not None and seen == NOW + timedelta(hours=1)


async def test_her_own_reply_is_never_new_to_her_and_threads_under_the_comment(
        repo: RecordingCommentsRepository, people: dict[str, int]) -> None:
    l1 = await call_id(repo, "L-1")
    comment = await repo.add(l1, people["smirnova"], 135.0, "Почему не предложили вебинар?", NOW)
    reply = await repo.reply(l1, comment.id, people["ivanova"], "Клиент торопился", NOW + timedelta(minutes=5))
    assert reply.at_s == 135.0  # a reply stands at its comment's time
    again = await repo.reply(l1, reply.id, people["smirnova"], "Тогда в следующий раз", NOW + timedelta(minutes=9))
    assert await repo.unseen_count(people["ivanova"]) == 2  # the comment and the supervisor's answer
    shown = threads(await repo.for_call(l1))
    assert len(shown) == 1 and [r.id for r in shown[0].replies] == [reply.id, again.id]
    assert shown[0].replies[0].author == "Иванова Мария" and shown[0].replies[0].seen_at is not None
    own = await repo.add(l1, people["ivanova"], 20.0, "Заметка себе", NOW + timedelta(minutes=10))
    assert (await repo.for_call(l1))[-1].id == own.id and await repo.unseen_count(people["ivanova"]) == 2


async def test_a_reply_to_another_calls_comment_is_refused_and_nothing_saved(
        repo: RecordingCommentsRepository, people: dict[str, int], db_sessions: SessionMaker) -> None:
    l1, l3 = await call_id(repo, "L-1"), await call_id(repo, "L-3")
    on_l3 = await repo.add(l3, people["smirnova"], 5.0, "Петрову", NOW)
    for parent in (on_l3.id, 999_999):
        with pytest.raises(UnknownParent):
            await repo.reply(l1, parent, people["ivanova"], "не туда", NOW)
    async with db_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(RecordingComment)) == 1


async def test_a_comment_of_a_deleted_author_keeps_its_text(
        repo: RecordingCommentsRepository, people: dict[str, int], db_sessions: SessionMaker) -> None:
    l1 = await call_id(repo, "L-1")
    await repo.add(l1, people["smirnova"], 1.0, "Без автора", NOW)
    async with db_sessions.begin() as s:
        comment = (await s.execute(select(RecordingComment))).scalar_one()
        comment.author_id = None
    assert [(c.author, c.text) for c in await repo.for_call(l1)] == [("—", "Без автора")]
    assert [c.author for c in await repo.new_for(people["ivanova"])] == ["—"]


async def test_a_reply_is_new_to_the_supervisor_who_commented_until_she_views_the_call_again(
        repo: RecordingCommentsRepository, people: dict[str, int], db_sessions: SessionMaker) -> None:
    l1, l3 = await call_id(repo, "L-1"), await call_id(repo, "L-3")
    olga, maria = people["smirnova"], people["ivanova"]
    asked = await repo.add(l1, olga, 135.0, "Почему не предложили вебинар?", NOW)
    await repo.add(l3, people["petrov"], 5.0, "Заметка Петрова", NOW)
    await repo.reply(l3, (await repo.for_call(l3))[0].id, olga, "Хорошо", NOW + timedelta(minutes=1))
    assert await repo.new_replies_count(olga) == 0  # nobody answered her yet; her own reply is no news
    answer = await repo.reply(l1, asked.id, maria, "Клиент торопился", NOW + timedelta(minutes=5))
    assert await repo.new_replies_count(olga) == 1
    assert await repo.new_replies_count(maria) == 0 and await repo.new_replies_count(people["petrov"]) == 0
    [listed] = await repo.new_replies_for(olga)
    assert (listed.id, listed.linkedid, listed.author, listed.is_reply, listed.call_expert, listed.whole_s) == (
        answer.id, "L-1", "Иванова Мария", True, "Иванова Мария", 135)
    assert listed.client_name == "ООО «Ромашка»"

    assert await repo.last_view(l1, olga) is None
    recordings = RecordingsRepository(db_sessions)
    await recordings.log_access(l1, olga, "play", None, NOW + timedelta(minutes=6))  # listening is not reading
    await recordings.log_access(l3, olga, VIEW_ACTION, None, NOW + timedelta(minutes=6))  # another call's
    await recordings.log_access(l1, maria, VIEW_ACTION, None, NOW + timedelta(minutes=6))  # someone else's view
    assert await repo.new_replies_count(olga) == 1
    await repo.log_view(l1, olga, "127.0.0.1", NOW + timedelta(minutes=6))
    assert await repo.last_view(l1, olga) == NOW + timedelta(minutes=6)
    assert await repo.new_replies_count(olga) == 0 and await repo.new_replies_for(olga) == []

    await repo.reply(l1, answer.id, maria, "И ещё: он просил перезвонить", NOW + timedelta(minutes=9))
    assert await repo.new_replies_count(olga) == 1  # after her view: new again


async def test_an_earlier_reply_puts_her_in_the_thread_and_the_calls_expert_counts_by_seen_at(
        repo: RecordingCommentsRepository, people: dict[str, int]) -> None:
    l1 = await call_id(repo, "L-1")
    olga, maria = people["smirnova"], people["ivanova"]
    own = await repo.add(l1, maria, 20.0, "Здесь я растерялась", NOW)
    before_olga = await repo.reply(l1, own.id, maria, "Что ответить в таком случае?", NOW + timedelta(minutes=1))
    await repo.reply(l1, before_olga.id, olga, "Предложите семинар", NOW + timedelta(minutes=2))
    await repo.reply(l1, own.id, maria, "Спасибо", NOW + timedelta(minutes=3))
    assert [c.text for c in await repo.new_replies_for(olga)] == ["Спасибо"]  # only what came after she wrote
    # Maria commented on her own call and a supervisor answered: her desk's badge counts it (seen_at),
    # and it is not counted twice as a reply to her.
    assert await repo.unseen_count(maria) == 1 and await repo.new_replies_count(maria) == 0


async def test_opening_the_call_marks_seen_only_what_the_page_read(
        repo: RecordingCommentsRepository, people: dict[str, int]) -> None:
    l1 = await call_id(repo, "L-1")
    await repo.add(l1, people["smirnova"], 10.0, "Прочитано", NOW)
    await repo.add(l1, people["smirnova"], 20.0, "Пришло, пока страница открывалась", NOW + timedelta(seconds=2))
    assert await repo.mark_seen(l1, people["ivanova"], NOW + timedelta(seconds=1)) == 1
    assert await repo.unseen_count(people["ivanova"]) == 1
