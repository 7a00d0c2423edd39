"""The ДС-versus-КС comparison end to end (issue 17, items 3–4): imported facts → the repository → the
table, on SQLite and PostgreSQL; a client moved from КС to ДС inside the period counts on each side for
what happened on that side; a segment with no clients says «нет данных»; `dsdesk compare --json`."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from service.compare.definitions import Period
from service.compare.report import SEGMENTS, Facts, compare, figures, json_rows, months_of
from service.compare.survey import DEFAULT_SURVEY
from service.db.clients import ClientsRepository
from service.db.compare import CompareRepository, comparison
from service.db.engine import SessionMaker
from service.db.models import Act, ClientRequest
from service.db.records import ClientRecord
from service.imports.runner import import_rows
from service.imports.schemas import ImportContext
from tests.service.test_import_errors import run_cli

TZ = ZoneInfo("Europe/Moscow")
CONTEXT = ImportContext(TZ, datetime(2026, 6, 1, tzinfo=UTC))
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
CLIENTS = [
    # C-1 was КС and moved to ДС on 15.03 (the CRM's «На ДС с»).
    {"external_id": "C-1", "name": "Перешедший", "segment": "ДС", "client_since": "2020-01-01",
     "ds_since": "2026-03-15", "prepaid_months": "3", "collection_completeness": "0,9"},
    {"external_id": "C-2", "name": "ДС давно", "segment": "ДС", "client_since": "2020-01-01",
     "ds_since": "2024-01-01", "prepaid_months": "0", "collection_completeness": "0,7"},
    {"external_id": "C-3", "name": "Ушедший к Гаранту", "segment": "КС", "client_since": "2019-05-01"},
    {"external_id": "C-4", "name": "КС", "segment": "КС", "client_since": "2019-05-01", "prepaid_months": "1",
     "collection_completeness": "0,6"},
]
CONTACTS = [{"external_id": f"P-{n}", "client_external_id": f"C-{n}", "full_name": f"Пользователь {n}",
             "is_user": "да"} for n in (1, 2, 3, 4)]
EVENTS = [{"client_external_id": "C-3", "kind": "competitor_lost", "occurred_on": "2026-03-20", "note": "Гарант"},
          {"client_external_id": "C-1", "kind": "seminar_sold", "occurred_on": "2026-03-10"},
          {"client_external_id": "C-1", "kind": "seminar_sold", "occurred_on": "2026-03-16"}]
REQUESTS = [{"client_external_id": "C-1", "channel": "чат", "created_at": "10.03.2026 12:00"},
            {"client_external_id": "C-1", "channel": "ЛК", "created_at": "20.03.2026 12:00"},
            {"client_external_id": "C-2", "channel": "ЛК", "created_at": "01.03.2026 00:30"},  # 28.02 21:30 UTC
            {"client_external_id": "C-4", "channel": "горячая линия", "created_at": "01.04.2026 00:30"}]
ACTS = [{"client_external_id": "C-2", "period": "2026-02", "due_on": "2026-03-10", "returned_on": "2026-03-09"},
        {"client_external_id": "C-4", "period": "2026-02", "due_on": "2026-03-10", "returned_on": "2026-03-12"},
        {"client_external_id": "C-1", "period": "2026-02", "due_on": "2026-03-10", "returned_on": ""}]  # КС then
TRAININGS = [{"client_external_id": "C-2", "contact_external_id": "P-2", "date": "2026-03-05"},
             {"client_external_id": "C-4", "contact_external_id": "P-4", "date": "2025-06-05"}]
SEMINARS = [{"client_external_id": "C-4", "date": "2026-03-05", "seminar": "НДС"}]
MAILINGS = [{"campaign": "Обзор за март", "sent_on": "2026-03-02", "sent": "100", "delivered": "100", "opened": "42",
             "clicked": "13"},
            {"campaign": "Подписчикам ГК: март", "sent_on": "2026-03-03", "sent": "80", "delivered": "80",
             "opened": "40", "clicked": "10"}]


async def seed(sessions: SessionMaker) -> None:
    context = ImportContext(TZ, datetime(2026, 6, 1, tzinfo=UTC), mailing_rules=(("Обзор", "reviews"),
                                                                                 ("Подписчикам ГК", "gk")))
    for kind, rows in (("clients", CLIENTS), ("contacts", CONTACTS), ("events", EVENTS), ("requests", REQUESTS),
                       ("acts", ACTS), ("trainings", TRAININGS), ("seminars", SEMINARS), ("mailings", MAILINGS)):
        await import_rows(kind, rows, sessions, context=context)


async def test_march_counts_each_client_in_the_segment_it_was_in(db_sessions: SessionMaker) -> None:
    await seed(db_sessions)
    found = await comparison(db_sessions, MARCH, TZ, DEFAULT_SURVEY)
    table = {key: {seg: (v.value, v.part, v.base) for seg, v in values.items()} for key, values in found.table.items()}
    # At 01.03: ДС = C-2; КС = C-1, C-3, C-4. C-3 left for Гарант on 20.03, a КС client.
    assert table["churn"] == {"ДС": (Decimal("0.0"), 0, 1), "КС": (Decimal("33.3"), 1, 3)}
    assert found.competitors["КС"] == {"Гарант": 1} and not found.competitors["ДС"]
    # C-1's chat on 10.03 was КС's, its ЛК request on 20.03 ДС's; C-2's at 00:30 on 01.03 Moscow is March's.
    assert table["requests"]["ДС"][0] == 2 and table["requests"]["КС"][0] == 1
    assert table["paid_webinars"] == {"ДС": (Decimal(1), None, None), "КС": (Decimal(1), None, None)}
    # At 31.03: ДС = C-1, C-2 (prepaid 3 and 0); КС = C-4 (prepaid 1) only: C-3 left on 20.03 and is no longer a
    # client (found trying it: lost clients were still in the base at the period's end).
    assert table["prepayment_share"] == {"ДС": (Decimal("50.0"), 1, 2), "КС": (Decimal("100.0"), 1, 1)}
    assert table["collection_completeness"] == {"ДС": (Decimal("0.80"), None, 2), "КС": (Decimal("0.60"), None, 1)}
    # Acts due 10.03: C-2 on time (ДС); C-4 late and C-1 not returned, both КС on the due day.
    assert table["acts_on_time"] == {"ДС": (Decimal("100.0"), 1, 1), "КС": (Decimal("0.0"), 0, 2)}
    assert table["trained_share"]["ДС"] == (Decimal("50.0"), 1, 2)  # P-2 of P-1, P-2
    assert table["trained_share"]["КС"] == (Decimal("100.0"), 1, 1)  # P-4 (June 2025, within 12 months) of P-4
    assert table["st_attendance"]["КС"] == (Decimal("100.0"), 1, 1)
    assert [(m.kind, m.campaigns, m.opened.part, m.clicked.part) for m in found.mailings if m.campaigns] == [
        ("reviews", 1, 42, 13), ("gk", 1, 40, 10)]
    assert found.months == [date(2026, 3, 1)] and found.series["churn"]["КС"] == [Decimal("33.3")]


def test_a_segment_with_no_clients_says_no_data_and_never_divides_by_zero() -> None:
    history = {1: [(date(2020, 1, 1), "ДС")]}
    facts = Facts(history, webinars_sold=[(1, date(2026, 3, 5))], requests=[(1, date(2026, 3, 6))],
                  trainings=[(11, 1, date(2026, 3, 7))], seminar_visits=[(1, date(2026, 3, 8))],
                  prepaid_months={1: 0}, user_counts={1: 1})
    found = compare(facts, MARCH, [], [], DEFAULT_SURVEY)
    assert {key: values["КС"].value for key, values in found.table.items() if values["КС"].value is not None} == {
        "churn_competitors": 0, "trained_per_month": 0, "requests": 0, "paid_webinars": 0}
    assert found.table["churn"]["КС"].value is None and found.table["requests_per_client"]["КС"].value is None
    assert [line.share.value for line in found.survey] == [None] * 6 and found.respondents == 0
    rows = {row["figure"]: row for row in json_rows(found)}
    assert rows["churn"] == {"figure": "churn", "label": "Отвал", "ds": 0.0, "ks": None, "unit": "%",
                             "ds_count": 1, "ks_count": 0, "ds_part": 0, "ks_part": 0}
    assert found.not_imported == ["акты (acts)"]


def test_a_figure_whose_rows_were_never_imported_is_no_data_not_zero() -> None:
    found = compare(Facts({1: [(date(2020, 1, 1), "ДС")]}), MARCH, [], [], DEFAULT_SURVEY)
    measured = {key: values["ДС"].value for key, values in found.table.items() if values["ДС"].value is not None}
    assert measured == {}, measured
    assert found.not_imported == ["акты (acts)", "обращения (requests)", "обучение (trainings)",
                                  "посещения СТ (seminars)", "предоплата клиентов (clients: prepaid_months)",
                                  "события CRM (events)"]


async def test_dsdesk_compare_prints_one_json_object_per_figure(db_sessions: SessionMaker, migrated_db: str) -> None:
    await seed(db_sessions)
    done = run_cli("compare", "--from", "2026-03-01", "--to", "31.03.2026", "--json", url=migrated_db)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["figure"] for row in rows][:2] == ["churn", "churn_competitors"]
    assert rows[0] == {"figure": "churn", "label": "Отвал", "ds": 0.0, "ks": 33.3, "unit": "%",
                       "ds_count": 1, "ks_count": 3, "ds_part": 0, "ks_part": 1}
    backwards = run_cli("compare", "--from", "2026-03-31", "--to", "2026-03-01", url=migrated_db)
    assert backwards.returncode == 2 and "позже" in backwards.stderr


async def test_what_sql_counts_per_segment_equals_the_definitions_row_by_row(db_sessions: SessionMaker) -> None:
    """The repository counts the steady clients' requests and acts per segment and month in SQL; the same
    department read row by row through the definitions gives the same table and series."""
    rng = random.Random(7)
    clients = []
    for n in range(80):
        segment = rng.choice(("ДС", "ДС", "КС", "VIP"))
        since = rng.choice(("", "2019-05-01", f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"))
        moved = rng.choice(("", f"2026-0{rng.randint(1, 9)}-0{rng.randint(1, 9)}", "2024-02-02"))
        clients.append({"external_id": f"R-{n}", "name": f"Клиент {n}", "segment": segment, "client_since": since,
                        "ds_since": moved if segment == "ДС" else ""})
    context = ImportContext(TZ, datetime(2026, 12, 1, tzinfo=UTC))
    await import_rows("clients", clients, db_sessions, context=context)
    # Some go back from ДС to КС (recorded by the clients import on its day).
    back = [ClientRecord(c["external_id"], c["name"], "КС") for c in clients[:80:9] if c["segment"] == "ДС"]
    await ClientsRepository(db_sessions).upsert_clients(back, today=date(2026, 6, 20))
    day = lambda: date(2026, 1, 1) + timedelta(days=rng.randrange(330))  # noqa: E731
    requests = [{"client_external_id": f"R-{rng.randrange(80)}", "channel": "чат",
                 "created_at": f"{day():%d.%m.%Y} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"}
                for _ in range(700)]
    acts = [{"client_external_id": f"R-{n}", "period": f"2026-{m:02d}", "due_on": f"2026-{m + 1:02d}-10",
             "returned_on": rng.choice(("", f"2026-{m + 1:02d}-0{rng.randint(1, 9)}",
                                        f"2026-{m + 1:02d}-2{rng.randint(0, 8)}"))}
            for n in range(80) for m in range(1, 10) if rng.random() < 0.6]
    # Clients lost before the period (some restored, some on the period's eve), inside it, and back again.
    events = [{"client_external_id": f"R-{rng.randrange(80)}", "occurred_on": f"{when:%Y-%m-%d}",
               "kind": rng.choice(("client_disconnected", "competitor_lost", "client_restored"))}
              for when in [date(2026, 2, 9), date(2026, 1, 5), date(2025, 11, 30)] + [day() for _ in range(30)]]
    await import_rows("events", events, db_sessions, context=context)
    await import_rows("requests", requests, db_sessions, context=context)
    await import_rows("acts", acts, db_sessions, context=context)
    period = Period(date(2026, 2, 10), date(2026, 10, 31))
    found = await comparison(db_sessions, period, TZ, DEFAULT_SURVEY)

    async with db_sessions() as session:
        all_acts = [(c, due, back) for c, due, back in await session.execute(
            select(Act.client_id, Act.due_on, Act.returned_on))]
        all_requests = [(c, moment.astimezone(TZ).date()) for c, moment in await session.execute(
            select(ClientRequest.client_id, ClientRequest.created_at))]
    read = await CompareRepository(db_sessions).facts(period, TZ)
    assert read.act_counts and read.request_counts  # the SQL path was taken
    one_by_one = dataclasses.replace(read, acts=all_acts, act_counts={}, requests=all_requests, request_counts={})
    months = months_of(period)
    for segment in SEGMENTS:
        assert {k: v[segment] for k, v in found.table.items()} == figures(one_by_one, segment, period)
        for index, month in enumerate(months):
            assert {k: v[segment][index] for k, v in found.series.items()} == {
                k: v.value for k, v in figures(one_by_one, segment, month).items()}
