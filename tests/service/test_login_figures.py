"""Issue 13 items 2–3 over HTTP: the login share uses the usage data where it covers the day and
the tick elsewhere, says which, links to the disagreements, and the call log and call page show them.

The figures dataset (tests/service/test_figures_db.py): six contacts in the week of 02.03.2026,
three ticked «заходил» (c1, c7, c9). The usage data covers Monday only, with one login of C-1's
user at 14:03, during c5 (14:00, 12 min, not ticked). Monday's contacts are measured: c5 yes, c1, c4,
c7, c9 no; Thursday's refusal (c12) keeps its tick (no). So 1 of 6 logged in, and four
disagreements: c1, c7, c9 (ticked, no login) and c5 (a login, not ticked).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from service.db.engine import SessionMaker
from service.imports.runner import import_rows
from service.imports.schemas import ImportContext
from tests.service.test_figures_web import WEEK, app_client, cheap_hashes  # noqa: F401  (fixtures)
from tests.service.web_helpers import HTML_ACCEPT

CONTEXT = ImportContext(ZoneInfo("Europe/Moscow"), datetime(2026, 3, 10, tzinfo=UTC), 120.0)
LOGINS = [{"contact_external_id": "", "client_external_id": "C-1",
           "started_at": "02.03.2026 14:03", "ended_at": "02.03.2026 14:09"}]


async def import_monday(sessions: SessionMaker) -> None:
    report = await import_rows("logins", LOGINS, sessions, context=CONTEXT)
    assert report.measured is not None and report.measured.logged_in == 1


def linkedids(html: str) -> set[str]:
    return set(re.findall(r'<tr data-linkedid="([^"]+)"', html))


async def test_before_any_usage_data_the_share_is_by_the_tick(app_client: Any) -> None:  # noqa: F811
    html = await (await (await app_client("olga")).get(WEEK, headers=HTML_ACCEPT)).text()
    assert 'data-testid="login-source">по отметке эксперта<' in html
    assert 'data-testid="login-disagree"' not in html and "50 %" in html


async def test_the_share_is_measured_where_covered_and_the_disagreements_link(app_client: Any,  # noqa: F811
                                                                              db_sessions: SessionMaker) -> None:
    client = await app_client("olga")
    await client.get(WEEK, headers=HTML_ACCEPT)  # the week's days are built in the summary first
    await import_monday(db_sessions)
    html = await (await client.get(WEEK, headers=HTML_ACCEPT)).text()
    assert ("по статистике онлайн-версии: 5 из 6 контактов; остальные 1 — по отметке эксперта") in html
    assert "16,7 %" in html  # the stored days were rebuilt with the measurement
    link = "/calls?from=2026-03-02&amp;to=2026-03-08&amp;result=contact&amp;login=disagree"
    assert f'href="{link}"' in html and "расхождения: 4" in html
    log = await (await client.get(link.replace("&amp;", "&"), headers=HTML_ACCEPT)).text()
    # The call log lists every owner's calls: c14 is the supervisor's (ticked, no login), whom the
    # figures leave out, as they do for every figure's link.
    assert linkedids(log) == {"c1", "c5", "c7", "c9", "c14"}
    measured = await (await client.get("/calls?login=measured&result=contact", headers=HTML_ACCEPT)).text()
    assert linkedids(measured) == {"c1", "c4", "c5", "c7", "c9", "c14"}
    ticked = await (await client.get("/calls?login=ticked&result=contact", headers=HTML_ACCEPT)).text()
    assert linkedids(ticked) == {"c12", "c13"}  # c13: Monday 09.03, not covered either
    # «logged in: yes» as the figures count it: c5 by the usage data (the tick said no)
    yes = await (await client.get("/calls?from=2026-03-02&to=2026-03-08&result=contact&logged_in=yes",
                                  headers=HTML_ACCEPT)).text()
    assert linkedids(yes) == {"c5"}
    # The XLSX says the same: Monday's five contacts measured, four disagreeing, and how it was known.
    xlsx = await client.get(WEEK.replace("/figures?", "/figures.xlsx?"))
    book = load_workbook(BytesIO(await xlsx.read()))
    daily = {row[0].value: [c.value for c in row] for row in book["По дням"].iter_rows(min_row=2)}
    monday = daily[datetime(2026, 3, 2)]
    assert monday[-2:] == [5, 4]
    about = {row[0].value: row[1].value for row in book["Параметры"].iter_rows(min_row=2)}
    assert str(about["Заход в систему"]).startswith("по статистике онлайн-версии: 5 из 6")


async def test_the_call_page_shows_the_matched_login(app_client: Any, db_sessions: SessionMaker) -> None:  # noqa: F811
    await import_monday(db_sessions)
    client = await app_client("olga")
    c5 = await (await client.get("/calls/c5", headers=HTML_ACCEPT)).text()
    assert "Заходы в систему во время разговора" in c5 and "14:03–14:09" in c5
    assert re.search(r'data-testid="call-login">да <span class="muted">\(по статистике онлайн-версии; '
                     r'Эксперт отметил «нет»\)', c5)
    c1 = await (await client.get("/calls/c1", headers=HTML_ACCEPT)).text()
    assert "заходов клиента во время разговора нет" in c1
    c12 = await (await client.get("/calls/c12", headers=HTML_ACCEPT)).text()
    assert "(по отметке эксперта)" in c12 and 'data-testid="call-logins"' not in c12


async def test_a_bad_login_filter_is_named(app_client: Any) -> None:  # noqa: F811
    response = await (await app_client("olga")).get("/calls?login=maybe", headers=HTML_ACCEPT)
    assert response.status == 400 and "источник отметки о заходе" in await response.text()
