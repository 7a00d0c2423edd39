"""The time-zone column of the experts and clients imports reads zones as the product shows them
(issue 14): «Екатеринбург», «Екатеринбург (UTC+5)», «МСК+2», as well as IANA names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from service.db import models as m
from service.db.engine import SessionMaker
from service.imports import cells
from service.imports.errors import RowsRejected
from service.imports.runner import import_rows
from texts.zones import BY_MOSCOW_OFFSET, CITY, zone_key, zone_label

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "key"), [
    ("Екатеринбург", "Asia/Yekaterinburg"),
    ("екатеринбург", "Asia/Yekaterinburg"),
    ("  ЕКАТЕРИНБУРГ ", "Asia/Yekaterinburg"),
    ("Екатеринбург (UTC+5)", "Asia/Yekaterinburg"),
    ("Екатеринбург(UTC+5)", "Asia/Yekaterinburg"),
    ("екатеринбург (utc+5)", "Asia/Yekaterinburg"),
    ("Москва", "Europe/Moscow"),
    ("Москва (UTC+3)", "Europe/Moscow"),
    ("Усть-Нера", "Asia/Ust-Nera"),
    ("Усть-Нера (UTC+10)", "Asia/Ust-Nera"),
    ("Новосибирск", "Asia/Novosibirsk"),
    ("Калининград (UTC+2)", "Europe/Kaliningrad"),
    ("МСК", "Europe/Moscow"),
    ("мск", "Europe/Moscow"),
    ("МСК+0", "Europe/Moscow"),
    ("МСК+1", "Europe/Samara"),
    ("МСК+2", "Asia/Yekaterinburg"),
    ("МСК +2", "Asia/Yekaterinburg"),
    ("мск+4", "Asia/Krasnoyarsk"),
    ("МСК+9", "Asia/Kamchatka"),
    ("МСК−1", "Europe/Kaliningrad"),  # U+2212, as zone_label prints a minus
    ("МСК-1", "Europe/Kaliningrad"),
    ("МСК–1", "Europe/Kaliningrad"),  # an en dash, as Word corrects it
    # Not a zone of this table (IANA names are read by cells.timezone, not here) or a wrong offset:
    ("Екатеринбург (UTC+3)", None),
    ("Екатеринбург (UTC+5", None),
    ("МСК+10", None),
    ("МСК-2", None),
    ("МСК+", None),
    ("Asia/Yekaterinburg", None),
    ("Екб", None),
    ("", None),
])
def test_zone_key(text: str, key: str | None) -> None:
    assert zone_key(text, NOW) == key


def test_every_label_the_product_prints_reads_back() -> None:
    for key in CITY:
        assert zone_key(zone_label(key, NOW), NOW) == key
        assert zone_key(CITY[key].upper().replace("Е", "Ё"), NOW) == key  # ё written for е


@pytest.mark.parametrize(("hours", "key"), sorted(BY_MOSCOW_OFFSET.items()))
def test_msk_plus_n_is_n_hours_from_moscow(hours: int, key: str) -> None:
    moscow = NOW.astimezone(ZoneInfo("Europe/Moscow")).utcoffset()
    assert moscow is not None and NOW.astimezone(ZoneInfo(key)).utcoffset() == moscow + timedelta(hours=hours)
    assert key in CITY  # a Russian zone, named by its city on the pages


@pytest.mark.parametrize(("raw", "key"), [
    ("Екатеринбург", "Asia/Yekaterinburg"),
    ("Ёкатеринбург", "Asia/Yekaterinburg"),
    ("Екатеринбург (UTC+5)", "Asia/Yekaterinburg"),
    ("МСК+2", "Asia/Yekaterinburg"),
    ("Europe/Moscow", "Europe/Moscow"),
    ("Asia/Novosibirsk", "Asia/Novosibirsk"),
    ("Asia/Kolkata", "Asia/Kolkata"),
])
def test_the_cell_takes_russian_names_and_iana_names(raw: str, key: str) -> None:
    assert cells.timezone(raw) == key


@pytest.mark.parametrize("raw", ["Екб", "MSK", "МСК+15", "Europe/Mowcow"])
def test_an_unknown_zone_is_refused_with_russian_examples(raw: str) -> None:
    with pytest.raises(cells.CellError) as refused:
        cells.timezone(raw)
    assert str(refused.value) == ("неизвестный часовой пояс: нужен город, МСК±N или имя IANA "
                                  "(например: Екатеринбург, МСК+2 или Asia/Yekaterinburg)")


async def test_the_clients_import_stores_the_iana_name(db_sessions: SessionMaker) -> None:
    rows = [{"external_id": "C-1", "name": "ООО «Урал»", "segment": "ДС", "timezone": "Екатеринбург"},
            {"external_id": "C-2", "name": "ООО «Сибирь»", "segment": "ДС", "timezone": "МСК+4"}]
    await import_rows("clients", rows, db_sessions)
    async with db_sessions() as session:
        found = (await session.execute(select(m.Client.external_id, m.Client.timezone))).all()
    stored = {external_id: zone for external_id, zone in found}
    assert stored == {"C-1": "Asia/Yekaterinburg", "C-2": "Asia/Krasnoyarsk"}
    with pytest.raises(RowsRejected) as refused:
        await import_rows("clients", [{**rows[0], "timezone": "Урал"}], db_sessions)
    assert "например: Екатеринбург, МСК+2 или Asia/Yekaterinburg" in str(refused.value.errors[0])
