"""Each client's segment over time (issue 17, item 2), derived from its segment, `ds_since` and the
campaign's «переведён»: the pure rule, and the facts read from a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select

from service.compare.definitions import Period, Ratio, churn, segment_on
from service.compare.segments import GONE, KNOWN_FROM, ClientSegmentFacts, histories, history
from service.db.engine import SessionMaker
from service.db.models import Client, ClientTransition
from service.db.segments import SegmentsRepository
from service.imports.runner import import_rows

SINCE = date(2019, 3, 1)


@pytest.mark.parametrize(("facts", "expected"), [
    (ClientSegmentFacts(1, "КС", SINCE, None), [(SINCE, "КС")]),
    (ClientSegmentFacts(2, "ДС", SINCE, date(2026, 5, 15)), [(SINCE, "КС"), (date(2026, 5, 15), "ДС")]),
    # The campaign's date wins over the CRM's.
    (ClientSegmentFacts(3, "ДС", SINCE, date(2026, 5, 15), date(2026, 5, 20)),
     [(SINCE, "КС"), (date(2026, 5, 20), "ДС")]),
    (ClientSegmentFacts(4, "ДС", None, None), [(KNOWN_FROM, "ДС")]),  # on ДС since always, as far as known
    (ClientSegmentFacts(5, "ДС", date(2026, 6, 1), date(2026, 5, 1)), [(date(2026, 6, 1), "ДС")]),  # came as ДС
    (ClientSegmentFacts(6, "VIP", None, None), [(KNOWN_FROM, "VIP")]),
])
def test_the_history_is_derived_from_the_move(facts: ClientSegmentFacts, expected: list[tuple[date, str]]) -> None:
    assert history(facts) == expected


def test_a_client_moved_inside_a_period_counts_in_the_segment_it_was_in() -> None:
    every = histories([ClientSegmentFacts(1, "ДС", SINCE, None, date(2026, 5, 15)),
                       ClientSegmentFacts(2, "ДС", SINCE, date(2020, 1, 1))])
    q2 = Period(date(2026, 4, 1), date(2026, 6, 30))
    assert segment_on(every[1], date(2026, 5, 14)) == "КС" and segment_on(every[1], q2.last) == "ДС"
    assert churn(every, "КС", q2, [(1, date(2026, 5, 1))]).part == 1  # lost while it was still КС
    assert churn(every, "ДС", q2, [(1, date(2026, 5, 1))]).part == 0


async def test_the_facts_come_from_the_clients_and_the_campaign(db_sessions: SessionMaker) -> None:
    await import_rows("clients", [
        {"external_id": "C-1", "name": "ООО «Альфа»", "segment": "ДС", "client_since": "01.03.2019",
         "ds_since": "15.05.2026"},
        {"external_id": "C-2", "name": "ООО «Бета»", "segment": "КС"}], db_sessions)
    now = datetime(2026, 5, 20, 9, tzinfo=UTC)
    async with db_sessions.begin() as session:
        c1 = int(await session.scalar(select(Client.id).where(Client.external_id == "C-1")) or 0)
        await session.execute(insert(ClientTransition), [
            {"client_id": c1, "status": "agreed", "at": now},
            {"client_id": c1, "status": "moved", "until": date(2026, 5, 20), "at": now}])
    facts = {f.client_id: f for f in await SegmentsRepository(db_sessions).facts()}
    assert facts[c1] == ClientSegmentFacts(c1, "ДС", SINCE, date(2026, 5, 15), date(2026, 5, 20))
    assert [f.segment for f in facts.values()] == ["ДС", "КС"]
    assert histories(facts.values())[c1] == [(SINCE, "КС"), (date(2026, 5, 20), "ДС")]


def test_a_recorded_change_back_to_ks_is_seen_and_the_time_before_it_is_derived() -> None:
    # КС → ДС on 01.03 (the CRM's ds_since, recorded when the import saw it), back to КС on 20.06.
    facts = ClientSegmentFacts(7, "КС", date(2020, 1, 1), date(2026, 3, 1),
                               recorded=((date(2026, 3, 1), "ДС", "КС"), (date(2026, 6, 20), "КС", "ДС")))
    assert history(facts) == [(date(2020, 1, 1), "КС"), (date(2026, 3, 1), "ДС"), (date(2026, 6, 20), "КС")]
    # Only the way back was recorded: before it the client was ДС, and before ds_since КС.
    back_only = ClientSegmentFacts(8, "КС", date(2020, 1, 1), date(2025, 9, 1),
                                   recorded=((date(2026, 6, 20), "КС", "ДС"),))
    assert history(back_only) == [(date(2020, 1, 1), "КС"), (date(2025, 9, 1), "ДС"), (date(2026, 6, 20), "КС")]
    assert churn({8: history(back_only)}, "ДС", Period(date(2026, 6, 1), date(2026, 6, 30)),
                 [(8, date(2026, 6, 25))]).part == 0  # lost after going back: a КС client's churn


def test_a_disconnected_client_is_in_no_segment_until_it_is_restored() -> None:
    # Lost on 10.03 (a КС client), back on 01.05, lost to a competitor on 20.06 for good.
    facts = ClientSegmentFacts(9, "КС", date(2020, 1, 1), None, lost=(
        (date(2026, 3, 10), True), (date(2026, 5, 1), False), (date(2026, 6, 20), True)))
    assert history(facts) == [(date(2020, 1, 1), "КС"), (date(2026, 3, 11), GONE), (date(2026, 5, 1), "КС"),
                              (date(2026, 6, 21), GONE)]
    q2 = Period(date(2026, 4, 1), date(2026, 6, 30))
    lost = [(9, date(2026, 3, 10)), (9, date(2026, 6, 20))]
    assert churn({9: history(facts)}, "КС", q2, lost) == Ratio(1, 0)  # gone at the start: not in the base
    assert churn({9: history(facts)}, "КС", Period(date(2026, 5, 1), date(2026, 6, 30)), lost) == Ratio(1, 1)
    # A restoration with no disconnection before it changes nothing.
    assert history(ClientSegmentFacts(9, "ДС", None, None, lost=((date(2026, 5, 1), False),))) == [
        (KNOWN_FROM, "ДС")]
