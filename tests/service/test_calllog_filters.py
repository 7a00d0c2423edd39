"""The call log's query string → CallFilters: every parameter, and a Russian message per bad value."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from service.calllog.filters import CallFilters, FilterError, is_linkedid, parse_filters, to_query, utc_bounds
from service.calllog.search import NameSearch, NumberSearch, classify_search

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 3 March, 00:30 in Moscow


def parsed(**query: str) -> CallFilters:
    result = parse_filters(query, MSK, NOW)
    assert isinstance(result, CallFilters), result
    return result


def errors(**query: str) -> dict[str, str]:
    result = parse_filters(query, MSK, NOW)
    assert isinstance(result, list), result
    return {e.field: e.message for e in result}


def test_no_parameters_mean_every_call() -> None:
    assert parsed().is_empty()
    assert parsed(expert="", q="   ", outcome="").is_empty()  # an empty form field is no filter


def test_every_parameter_is_read() -> None:
    f = parsed(expert="101", **{"from": "01.03.2026", "to": "2026-03-02"}, outcome="answered",
               topic="Обучение", client="C-501", direction="outbound", planned="yes", min_talk="2,5",
               max_talk="10", logged_in="no", result="contact_made", productive="да", q="Ромашка")
    assert f == CallFilters(expert_ext="101", date_from=date(2026, 3, 1), date_to=date(2026, 3, 2),
                            outcome="answered", topic="Обучение", client_id="C-501", direction="outbound",
                            planned=True, min_talk_s=150.0, max_talk_s=600.0, logged_in=False,
                            result="contact_made", productive=True, search="Ромашка")


def test_minutes_take_several_spellings() -> None:
    assert parsed(min_talk="5").min_talk_s == 300
    assert parsed(min_talk="2.5").min_talk_s == 150
    assert parsed(min_talk="2:30").min_talk_s == 150
    assert parsed(max_talk="0").max_talk_s == 0


def test_today_is_the_organisations_today() -> None:
    assert parsed(**{"from": "сегодня"}).date_from == date(2026, 3, 3)  # already the 3rd in Moscow
    assert parsed(to="yesterday").date_to == date(2026, 3, 2)


@pytest.mark.parametrize(("query", "field", "words"), [
    ({"from": "32.01.2026"}, "from", "Дата «с»"),
    ({"to": "завтра"}, "to", "Дата «по»"),
    ({"outcome": "exploded"}, "outcome", "исход"),
    ({"direction": "sideways"}, "direction", "направление"),
    ({"planned": "maybe"}, "planned", "«да» или «нет»"),
    ({"min_talk": "-3"}, "min_talk", "число минут"),
    ({"max_talk": "пять"}, "max_talk", "число минут"),
    ({"result": "won"}, "result", "итог"),
    ({"productive": "2"}, "productive", "«да» или «нет»"),
    ({"expert": "101; DROP TABLE calls"}, "expert", "добавочный"),
    ({"q": "x" * 101}, "q", "Слишком длинное"),
    ({"q": "abc\x00"}, "q", "Недопустимые символы"),  # PostgreSQL refuses NUL: a 500 before
    ({"topic": "a\x00b"}, "topic", "Недопустимые символы"),
    ({"from": "2026-03-05", "to": "2026-03-01"}, "to", "раньше"),
    ({"min_talk": "10", "max_talk": "5"}, "max_talk", "короче"),
])
def test_bad_values_are_named_in_russian(query: dict[str, str], field: str, words: str) -> None:
    found = errors(**query)
    assert field in found and words in found[field]


def test_every_problem_is_reported_at_once() -> None:
    assert set(errors(outcome="x", planned="y", min_talk="z")) == {"outcome", "planned", "min_talk"}


def test_filters_go_back_into_the_same_query() -> None:
    query = {"expert": "101", "from": "2026-03-01", "to": "2026-03-02", "outcome": "busy", "planned": "no",
             "min_talk": "2:30", "max_talk": "10", "logged_in": "yes", "result": "none", "q": "8911"}
    assert to_query(parsed(**query)) == query


def test_local_days_become_utc_bounds() -> None:
    start, end = utc_bounds(parsed(**{"from": "2026-03-01", "to": "2026-03-01"}), MSK)
    assert start == datetime(2026, 2, 28, 21, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 1, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["8 (911) 555-00-01", "+7 911 555 00 01", "79115550001", "9115550001"])
def test_a_whole_number_in_any_spelling_is_one_number(text: str) -> None:
    found = classify_search(text)
    assert isinstance(found, NumberSearch) and found.is_whole
    assert found.digits == "79115550001"
    assert set(found.whole_number_forms) == {"79115550001", "89115550001", "9115550001", "+79115550001"}


def test_short_digits_are_a_part_of_a_number_and_words_a_name() -> None:
    part = classify_search("0001")
    assert isinstance(part, NumberSearch) and not part.is_whole and part.digits == "0001"
    assert classify_search("Ромашка") == NameSearch("Ромашка")
    assert classify_search("12") == NameSearch("12")  # too few digits to mean a number
    assert classify_search("ООО 1") == NameSearch("ООО 1")


def test_what_may_be_a_linkedid() -> None:
    assert is_linkedid("1700000000.1") and is_linkedid("../../etc/passwd")  # unknown: 404, not an error
    assert not is_linkedid("") and not is_linkedid("L-1\x00") and not is_linkedid("9" * 65)


def test_filter_error_is_a_value() -> None:
    assert FilterError("q", "x") == FilterError("q", "x")
