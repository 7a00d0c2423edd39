"""Scorecards, pure (service/coaching/scorecards.py) and in the settings: the editor's rows, a score, the figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.coaching.scorecards import (
    BadTicks,
    ExpertScoreRow,
    FormProblem,
    ItemDraft,
    ItemScoreRow,
    RowInput,
    ScorecardDraft,
    by_calls,
    carry_ticks,
    parse_scorecard,
    parse_ticks,
    percent,
    score_figures,
    score_pct,
)
from service.coaching.scorecards_xlsx import scores_sheet
from service.errors import SettingsError
from service.settings import Settings, load_settings

FOUR = [RowInput("Поздоровался и представился", "1"), RowInput("Назвал инфоповод", "1"),
        RowInput("Клиент зашёл в систему", "2"), RowInput("Договорились о следующем контакте", "1")]


def problems(title: str, rows: list[RowInput]) -> list[FormProblem]:
    parsed = parse_scorecard(title, rows)
    assert isinstance(parsed, list), parsed
    return parsed


def test_the_rows_make_a_scorecard_spaces_tidied_and_blank_rows_skipped() -> None:
    rows = [RowInput("  Поздоровался   и представился ", " 1 "), RowInput("", ""), *FOUR[1:]]
    assert parse_scorecard(" Оценка  звонка ", rows) == ScorecardDraft("Оценка звонка", (
        ItemDraft("Поздоровался и представился", 1), ItemDraft("Назвал инфоповод", 1),
        ItemDraft("Клиент зашёл в систему", 2), ItemDraft("Договорились о следующем контакте", 1)))


@pytest.mark.parametrize("weight", ["-1", "-0", "−2", "–3", "-1.5"])
def test_a_negative_weight_is_refused_naming_its_row(weight: str) -> None:
    rows = [*FOUR[:2], RowInput("Клиент зашёл в систему", weight), FOUR[3]]
    assert problems("Оценка", rows) == [FormProblem(3, "строка 3: вес не может быть отрицательным")]


@pytest.mark.parametrize("weight", ["1.5", "1,5", "abc", "1e3", "²", "٣", "101", "9" * 30, "+"])
def test_a_weight_that_is_no_whole_number_up_to_100_is_refused(weight: str) -> None:
    assert problems("Оценка", [FOUR[0], RowInput("Назвал инфоповод", weight)]) == [
        FormProblem(2, "строка 2: вес — целое число от 0 до 100")]


def test_each_bad_row_is_named_and_a_blank_row_still_counts() -> None:
    rows = [FOUR[0], RowInput("", ""), RowInput("", "2"), RowInput("поздоровался И представился", ""),
            RowInput("x" * 201, "1")]
    assert [p.message for p in problems("Оценка", rows)] == [
        "строка 3: нет текста пункта", "строка 4: такой пункт уже есть в строке 1", "строка 4: не указан вес",
        "строка 5: текст длиннее 200 символов"]


def test_all_weights_zero_is_refused_for_the_whole_form() -> None:
    rows = [RowInput(row.text, "0") for row in FOUR]
    assert problems("Оценка", rows) == [
        FormProblem(None, "Все веса нулевые: дайте хотя бы одному пункту вес больше нуля")]


def test_a_weight_of_zero_is_allowed_beside_others() -> None:
    parsed = parse_scorecard("Оценка", [RowInput("Назвал инфоповод", "0"), FOUR[0]])
    assert isinstance(parsed, ScorecardDraft) and [i.weight for i in parsed.items] == [0, 1]


def test_no_title_and_no_items_are_refused() -> None:
    assert [p.message for p in problems(" ", [RowInput("", "")])] == [
        "Укажите название оценочного листа", "В оценочном листе нет ни одного пункта"]


def test_more_than_30_items_are_refused() -> None:
    rows = [RowInput(f"Пункт {n}", "1") for n in range(31)]
    assert problems("Оценка", rows) == [FormProblem(None, "Пунктов больше 30: оставьте самые важные")]


@pytest.mark.parametrize(("met", "expected"), [
    ([True, False, True, False], 60.0), ([False] * 4, 0.0), ([True] * 4, 100.0), ([False, False, True, False], 40.0),
])
def test_the_score_is_the_weights_met_over_all_weights(met: list[bool], expected: float) -> None:
    assert score_pct([1, 1, 2, 1], met) == pytest.approx(expected)


def test_an_item_of_weight_zero_counts_nothing() -> None:
    assert score_pct([0, 3], [True, False]) == 0.0
    assert score_pct([0, 3], [False, True]) == 100.0


def test_a_score_needs_one_tick_per_item_and_some_weight() -> None:
    with pytest.raises(ValueError):
        score_pct([1, 1], [True])
    with pytest.raises(ValueError):
        score_pct([0, 0], [True, False])


def test_ticks_are_the_positions_of_the_form() -> None:
    assert parse_ticks(["1", "3", "3"], 4) == frozenset({1, 3})
    assert parse_ticks([], 4) == frozenset()


@pytest.mark.parametrize("value", ["0", "5", "-1", "x", "²", "1" * 30, "", "1.0"])
def test_a_tick_naming_no_item_is_refused(value: str) -> None:
    with pytest.raises(BadTicks):
        parse_ticks([value], 4)


def test_ticks_carry_to_another_version_by_the_items_text() -> None:
    old = ["Поздоровался", "Назвал инфоповод", "Клиент зашёл в систему"]
    new = ["Назвал инфоповод", "Новый пункт", "клиент зашёл в систему"]
    assert carry_ticks(old, {1, 2, 3}, new) == frozenset({1, 3})
    assert carry_ticks(old, set(), new) == frozenset()


ITEMS = ["Поздоровался", "Назвал инфоповод"]


def test_the_figures_average_per_expert_and_in_all_with_the_calls_behind() -> None:
    experts = [ExpertScoreRow(2, "anna", "Белова Анна", 1, 50.0), ExpertScoreRow(1, "maria", "Орлова Мария", 3, 240.0)]
    items = [ItemScoreRow(1, "Поздоровался", 3, 2.0), ItemScoreRow(1, "Назвал инфоповод", 3, 3.0),
             ItemScoreRow(2, "Поздоровался", 1, 0.5), ItemScoreRow(1, "Старый пункт", 1, 1.0)]
    figures = score_figures(experts, items, ITEMS, "Отдел")
    assert figures.items == ("Поздоровался", "Назвал инфоповод", "Старый пункт")
    anna, maria = figures.lines
    assert (anna.login, anna.score.value, anna.score.calls) == ("anna", 0.5, 1)
    assert [(f.value, f.calls) for f in anna.items] == [(0.5, 1), (None, 0), (None, 0)]
    assert (maria.score.value, maria.score.calls) == (pytest.approx(0.8), 3)
    assert [f.text for f in maria.items] == ["66,7 %", "100 %", "100 %"]
    total = figures.total
    assert (total.login, total.full_name, total.score.calls) == (None, "Отдел", 4)
    assert total.score.value == pytest.approx(290 / 400)
    assert [(f.value, f.calls) for f in total.items] == [(pytest.approx(2.5 / 4), 4), (1.0, 3), (1.0, 1)]
    assert not figures.empty


def test_no_scores_make_empty_figures() -> None:
    figures = score_figures([], [], ITEMS, "Отдел")
    assert figures.empty and figures.lines == () and figures.total.score.text == "—"
    assert figures.items == tuple(ITEMS)
    assert scores_sheet(figures).rows == [["нет оценок за период"]]


def test_the_sheet_gives_each_value_with_its_calls() -> None:
    experts = [ExpertScoreRow(1, "maria", "Орлова Мария", 2, 150.0), ExpertScoreRow(2, "anna", "Белова Анна", 1, 40)]
    items = [ItemScoreRow(1, "Поздоровался", 2, 1.0), ItemScoreRow(2, "Поздоровался", 1, 1.0)]
    sheet = scores_sheet(score_figures(experts, items, ITEMS, "Отдел"))
    assert sheet.title == "Оценки звонков"
    assert [c[0] for c in sheet.columns] == ["Эксперт", "Показатель", "Значение", "Оценённых звонков"]
    assert sheet.rows == [
        ["Отдел", "Средняя оценка", pytest.approx(190 / 300), 3], ["Отдел", "Выполнено: Поздоровался", 2 / 3, 3],
        ["Белова Анна", "Средняя оценка", 0.4, 1], ["Белова Анна", "Выполнено: Поздоровался", 1.0, 1],
        ["Орлова Мария", "Средняя оценка", 0.75, 2], ["Орлова Мария", "Выполнено: Поздоровался", 0.5, 2]]


def test_one_experts_figures_show_her_line_alone_a_scope_its_line_and_hers() -> None:
    rows = [ExpertScoreRow(1, "maria", "Орлова Мария", 2, 150.0)]
    department = score_figures(rows, [], ITEMS, "Отдел")
    assert [line.full_name for line in department.shown] == ["Отдел", "Орлова Мария"]
    hers = score_figures(rows, [], ITEMS, "Орлова Мария", one_expert=True)
    assert [(line.full_name, line.score.text) for line in hers.shown] == [("Орлова Мария", "75 %")]
    assert [row[0] for row in scores_sheet(hers).rows] == ["Орлова Мария"]


@pytest.mark.parametrize(("n", "text"), [(1, "по 1 звонку"), (7, "по 7 звонкам"), (21, "по 21 звонку"),
                                         (11, "по 11 звонкам"), (3, "по 3 звонкам")])
def test_by_calls_reads_as_russian(n: int, text: str) -> None:
    assert by_calls(n) == text


def test_percent_reads_as_russian() -> None:
    assert (percent(0.8), percent(2 / 3), percent(0.0)) == ("80 %", "66,7 %", "0 %")


# ---- the configured scorecard ----------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_default_scorecard_is_the_four_items() -> None:
    draft = Settings().coaching.scorecard()
    assert draft.title == "Оценка звонка"
    assert [(i.text, i.weight) for i in draft.items] == [
        ("Поздоровался и представился", 1), ("Назвал инфоповод", 1), ("Клиент зашёл в систему", 2),
        ("Договорились о следующем контакте", 1)]


@pytest.mark.parametrize(("items", "message"), [
    ("[{text: А, weight: 1}, {text: Б, weight: -1}]", r"coaching\.scorecard_items\.1\.weight"),
    ("[{text: А, weight: 1.5}]", r"coaching\.scorecard_items\.0\.weight"),
    ("[{text: А, weight: '2'}]", r"coaching\.scorecard_items\.0\.weight"),
    ("[{text: '  ', weight: 1}]", r"coaching\.scorecard_items\.0\.text"),
    ("[{text: А, weight: 0}, {text: Б, weight: 0}]", r"coaching\.scorecard_items: .*all weights are 0"),
    ("[{text: А, weight: 1}, {text: а, weight: 2}]", r"coaching\.scorecard_items: .*listed twice"),
    ("[]", r"coaching\.scorecard_items: .*at least one item"),
    ("[{text: А, weight: 1, colour: red}]", r"coaching\.scorecard_items\.0\.colour: unknown key"),
])
def test_a_bad_configured_scorecard_stops_the_program_naming_the_key(tmp_path: Path, items: str,
                                                                     message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(write(tmp_path, f"coaching:\n  scorecard_items: {items}\n"), env={})
