"""The call ledger on SQLite and PostgreSQL: idempotent upserts, round trips, queries."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialer.errors import RecordsRefused
from dialer.records import CallRecord, Direction, Outcome
from service.db.clients import ClientsRepository
from service.db.engine import SessionMaker
from service.db.ledger import LedgerRepository
from service.errors import UnknownClientError
from tests.service.builders import T0, closed_call, open_call

MOSCOW = ZoneInfo("Europe/Moscow")


async def test_every_field_round_trips(ledger: LedgerRepository) -> None:
    record = CallRecord(
        linkedid="1795824043.7",
        direction=Direction.OUTBOUND,
        expert_ext="101",
        client_number="79115550101",
        # Written in Moscow time: the ledger must give the same instant back, in UTC.
        started_at=datetime(2026, 11, 28, 3, 0, 43, 137000, tzinfo=MOSCOW),
        answered_at=datetime(2026, 11, 28, 0, 0, 47, 142000, tzinfo=UTC),
        ended_at=datetime(2026, 11, 28, 0, 0, 55, 147000, tzinfo=UTC),
        duration_s=12.009,
        talk_s=8.005,
        outcome=Outcome.REJECTED,
        hangup_cause=21,
        recording="/var/spool/asterisk/monitor/ds-1795824043.7.wav",
        planned_call_id="PC-1001",
        client_id="C-501",
        quality=("end_inferred_after_reconnect", "pbx_restarted"),
        client_name="ООО «Ромашка»",
        ringing_at=datetime(2026, 11, 28, 0, 0, 45, 1000, tzinfo=UTC),
        hangup_by="client",
    )
    assert len(await ledger.upsert_calls([record])) == 1
    stored = await ledger.get_call(record.linkedid)
    assert stored == record
    assert stored is not None
    for moment in (stored.started_at, stored.ringing_at, stored.answered_at, stored.ended_at):
        assert moment is not None and moment.tzinfo is UTC
    assert stored.started_at == datetime(2026, 11, 28, 0, 0, 43, 137000, tzinfo=UTC)
    assert isinstance(stored.direction, Direction) and isinstance(stored.outcome, Outcome)
    assert stored.quality == ("end_inferred_after_reconnect", "pbx_restarted")


async def test_open_call_round_trips_with_nulls(ledger: LedgerRepository) -> None:
    record = open_call(expert_ext=None, client_number=None, recording=None, planned_call_id=None,
                       client_id=None, ringing_at=None, quality=())
    await ledger.upsert_calls([record])
    assert await ledger.get_call(record.linkedid) == record


async def test_same_records_twice_give_the_same_rows(ledger: LedgerRepository) -> None:
    records = [closed_call(f"1700000000.{i}", started_at=T0 + timedelta(minutes=i)) for i in range(5)]
    records.append(open_call("1700000000.99"))
    assert len(await ledger.upsert_calls(records)) == 6
    first = await ledger.list_calls()
    assert len(await ledger.upsert_calls(records)) == 6
    assert await ledger.list_calls() == first
    assert await ledger.count_calls() == 6
    assert sorted(r.linkedid for r in first) == sorted(r.linkedid for r in records)


async def test_open_then_closed_updates_the_row(ledger: LedgerRepository) -> None:
    await ledger.upsert_calls([open_call()])
    assert [r.linkedid for r in await ledger.open_calls()] == ["1700000000.1"]
    assert len(await ledger.upsert_calls([closed_call()])) == 1
    assert await ledger.get_call("1700000000.1") == closed_call()
    assert await ledger.open_calls() == []


async def test_a_closed_call_is_never_reopened(ledger: LedgerRepository) -> None:
    await ledger.upsert_calls([closed_call()])
    assert len(await ledger.upsert_calls([open_call()])) == 0
    assert await ledger.get_call("1700000000.1") == closed_call()
    assert await ledger.count_calls() == 1


async def test_closed_wins_within_one_batch(ledger: LedgerRepository) -> None:
    later_open = open_call(quality=("late",))
    assert len(await ledger.upsert_calls([open_call(), closed_call(), later_open])) == 1
    assert await ledger.get_call("1700000000.1") == closed_call()


async def test_a_closed_call_may_be_corrected(ledger: LedgerRepository) -> None:
    await ledger.upsert_calls([closed_call()])
    corrected = closed_call(ended_at=T0 + timedelta(seconds=66), quality=("end_inferred_after_reconnect",))
    assert len(await ledger.upsert_calls([corrected])) == 1
    assert await ledger.get_call("1700000000.1") == corrected


async def test_linkage_is_not_erased_by_a_later_record(ledger: LedgerRepository) -> None:
    await ledger.upsert_calls([open_call()])
    await ledger.upsert_calls([closed_call(planned_call_id=None, client_id=None, recording=None)])
    stored = await ledger.get_call("1700000000.1")
    assert stored is not None
    assert (stored.planned_call_id, stored.client_id, stored.recording) == (
        "PC-1001", "C-501", "/var/spool/asterisk/monitor/ds-1700000000.1.wav")


async def test_a_batch_larger_than_sqlites_parameter_limit(ledger: LedgerRepository) -> None:
    # More rows than SQLite's bound-parameter limit allows in a single statement.
    records = [closed_call(f"1700000001.{i}") for i in range(2500)]
    assert len(await ledger.upsert_calls(records)) == 2500
    assert await ledger.count_calls() == 2500


async def test_empty_batch(ledger: LedgerRepository) -> None:
    assert len(await ledger.upsert_calls([])) == 0


async def test_naive_datetimes_are_refused(ledger: LedgerRepository) -> None:
    with pytest.raises(RecordsRefused):  # the store's contract: its driver's error, as a StoreError
        await ledger.upsert_calls([open_call(started_at=datetime(2026, 3, 2, 10, 30))])
    assert await ledger.count_calls() == 0


async def test_open_calls_lists_only_open_ones(ledger: LedgerRepository) -> None:
    await ledger.upsert_calls([
        closed_call("a.1"),
        open_call("a.3", started_at=T0 + timedelta(minutes=2)),
        open_call("a.2", started_at=T0 + timedelta(minutes=1)),
    ])
    assert [r.linkedid for r in await ledger.open_calls()] == ["a.2", "a.3"]


async def test_list_calls_by_day_in_the_organisation_zone(ledger: LedgerRepository) -> None:
    # 20:59 UTC on 1 March is 23:59 in Moscow; 21:00 UTC is already 2 March there.
    late = closed_call("d.1", started_at=datetime(2026, 3, 1, 20, 59, tzinfo=UTC))
    next_day = closed_call("d.2", started_at=datetime(2026, 3, 1, 21, 0, tzinfo=UTC))
    other_expert = closed_call("d.3", started_at=T0, expert_ext="102")
    await ledger.upsert_calls([other_expert, next_day, late])
    assert [r.linkedid for r in await ledger.list_calls(date(2026, 3, 1), MOSCOW)] == ["d.1"]
    assert [r.linkedid for r in await ledger.list_calls(date(2026, 3, 2), MOSCOW)] == ["d.2", "d.3"]
    assert [r.linkedid for r in await ledger.list_calls(date(2026, 3, 1), UTC)] == ["d.1", "d.2"]
    assert [r.linkedid for r in await ledger.list_calls(date(2026, 3, 2), MOSCOW, "102")] == ["d.3"]
    assert [r.linkedid for r in await ledger.list_calls(None, MOSCOW, limit=2)] == ["d.2", "d.3"]


async def test_match_client_by_phone(ledger: LedgerRepository, clients_repo: ClientsRepository) -> None:
    await clients_repo.upsert_client("C-501", "ООО «Ромашка»")
    await clients_repo.add_contact("C-501", "Иванова Мария", "8 (911) 555-01-19")
    assert await ledger.match_client_by_phone("79115550119") == ("C-501", "ООО «Ромашка»")
    assert await ledger.match_client_by_phone("+7 911 555-01-19") == ("C-501", "ООО «Ромашка»")
    assert await ledger.match_client_by_phone("79115550000") is None
    assert await ledger.match_client_by_phone("") is None


async def test_inbound_call_is_linked_to_the_client(ledger: LedgerRepository,
                                                    clients_repo: ClientsRepository) -> None:
    await clients_repo.upsert_client("C-502", "АО Вектор")
    await clients_repo.add_contact("C-502", "Петров Пётр", "+79115550119")
    inbound = closed_call("in.1", direction=Direction.INBOUND, client_number="79115550119",
                          planned_call_id=None, client_id=None)
    unknown = dataclasses.replace(inbound, linkedid="in.2", client_number="79990000000")
    await ledger.upsert_calls([inbound, unknown])
    linked = await ledger.get_call("in.1")
    assert linked is not None and (linked.client_id, linked.client_name) == ("C-502", "АО Вектор")
    stranger = await ledger.get_call("in.2")
    assert stranger is not None and stranger.client_id is None


async def test_outbound_call_gets_its_client_name(ledger: LedgerRepository,
                                                  clients_repo: ClientsRepository) -> None:
    await clients_repo.upsert_client("C-501", "ООО «Ромашка»")
    answer = await ledger.upsert_calls([closed_call()])
    stored = await ledger.get_call("1700000000.1")
    assert stored is not None and stored.client_name == "ООО «Ромашка»"
    # …and the store says so, so the live events (the board) name the client, not the number (issue 14).
    assert answer["1700000000.1"].client_name == "ООО «Ромашка»"
    named_by_the_pbx = await ledger.upsert_calls([open_call("1700000000.2", client_name="Иванов (caller ID)")])
    assert named_by_the_pbx["1700000000.2"].client_name == "ООО «Ромашка»"  # the organisation's, not the caller ID's


async def test_clients_repository(clients_repo: ClientsRepository, ledger: LedgerRepository) -> None:
    first = await clients_repo.upsert_client("C-9", "Old name")
    assert await clients_repo.upsert_client("C-9", "New name") == first
    contact = await clients_repo.add_contact("C-9", "Сидоров", "9115550177")
    assert await clients_repo.add_contact("C-9", "Сидоров", "89115550177") == contact
    assert await ledger.match_client_by_phone("79115550177") == ("C-9", "New name")
    with pytest.raises(UnknownClientError):
        await clients_repo.add_contact("C-404", "Nobody", "79115550100")


async def test_a_call_belongs_to_who_held_its_extension_when_it_was_recorded(
        ledger: LedgerRepository, db_sessions: SessionMaker) -> None:
    """Found in review: ownership read through the extension at request time handed a newcomer
    their predecessor's calls."""
    from sqlalchemy import select

    from service.db.models import Call
    from service.db.users import UsersRepository

    users = UsersRepository(db_sessions)
    maria = await users.add("maria", "Мария", "expert", "101", None)
    pavel = await users.add("pavel", "Павел", "expert", "102", None)

    async def owner(linkedid: str) -> int | None:
        async with db_sessions() as s:
            return (await s.execute(select(Call.expert_id).where(Call.linkedid == linkedid))).scalar_one()

    await ledger.upsert_calls([open_call("L-1")])
    assert await owner("L-1") == maria.id
    await users.deactivate("maria")
    newcomer = await users.add("nina", "Нина", "expert", "101", None)
    await ledger.upsert_calls([closed_call("L-1")])  # closed (or replayed) after the handover
    assert await owner("L-1") == maria.id
    await ledger.upsert_calls([closed_call("L-2")])
    assert await owner("L-2") == newcomer.id
    # An inbound call first offered to 101, then answered on 102, is pavel's.
    await ledger.upsert_calls([open_call("L-3", direction=Direction.INBOUND)])
    await ledger.upsert_calls([closed_call("L-3", direction=Direction.INBOUND, expert_ext="102")])
    assert await owner("L-3") == pavel.id
    await ledger.upsert_calls([open_call("L-4", expert_ext="199")])  # nobody's extension
    assert await owner("L-4") is None
