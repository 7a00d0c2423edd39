"""Step scripts without I/O (issue 18): stored JSON and what changed between versions, the editor's form and its
buttons, a call's step times, «Что работает» counted from calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.coaching.step_times import StepEntry, StepTime, step_times
from service.coaching.what_works import LoggedCall, what_works
from service.demo_coaching import DEMO_SCRIPTS, NEWS, demo_call_steps
from service.scripts.step_form import apply_op, branches_text, parse_target, read_form, target_text
from service.scripts.step_json import StoredScriptError, changes, dumps, loads
from service.scripts.steps import Branch, Step, StepProblem, StepScript, problems

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
GREETING = Step("greeting", "Приветствие", "Здравствуйте, {ИО контакта}!", target_s=30,
                branches=(Branch("клиент занят", "callback"),))
LOGIN = Step("login", "Заход в систему", "Откройте систему.", target_s=240, login=True)
CALLBACK = Step("callback", "Перезвонить", "Когда перезвонить?")
SCRIPT = StepScript("Обзор", (GREETING, LOGIN, CALLBACK))


def test_a_script_survives_its_stored_form_and_a_broken_row_is_refused_in_russian() -> None:
    jinja = Step("j", "Jinja", "{{ client.name }}", jinja=True)
    script = StepScript("Обзор", (*SCRIPT.steps, jinja))
    assert loads(dumps(script)) == script
    with pytest.raises(StoredScriptError, match="сохранённый сценарий повреждён"):
        loads('{"name": "x", "steps": [{"title": "без ключа"}]}')
    with pytest.raises(StoredScriptError):
        loads("not json")


def test_changes_say_what_a_version_changed() -> None:
    assert changes(None, SCRIPT) == ["первая версия: 3 шага"]
    assert changes(None, StepScript("x", (GREETING,))) == ["первая версия: 1 шаг"]
    assert changes(SCRIPT, SCRIPT) == ["без изменений"]
    edited = StepScript("Обзор новостей", (
        Step("login", "Заход в систему", "Откройте, пожалуйста, систему.", target_s=300, login=True),
        GREETING, Step("next", "Следующий контакт", "Когда созвонимся?")))
    assert changes(SCRIPT, edited) == [
        "название: «Обзор» → «Обзор новостей»",
        "шаг «Заход в систему»: изменены текст, длительность",
        "добавлен шаг «Следующий контакт»",
        "удалён шаг «Перезвонить»",
        "изменён порядок шагов",
    ]


def test_the_form_reads_every_field_and_keeps_what_it_cannot_read() -> None:
    form = {
        "name": " Обзор ", "key-0": "greeting", "title-0": "Приветствие", "text-0": "Здравствуйте,\r\n{ИО контакта}!",
        "target-0": "0:30", "branches-0": "клиент занят → callback\r\n\r\nбез стрелки", "login-0": "on",
        "key-1": "callback", "title-1": "Перезвонить", "text-1": "Когда?", "target-1": "полминуты", "jinja-1": "on",
        "key-10": "late", "title-10": "Последний", "text-10": "Всё", "target-10": "90",
    }
    script, found = read_form(form)
    assert script.name == "Обзор"
    assert [step.key for step in script.steps] == ["greeting", "callback", "late"]  # by row number, 10 after 1
    greeting, callback, late = script.steps
    assert greeting == Step("greeting", "Приветствие", "Здравствуйте,\n{ИО контакта}!", 30, True,
                            (Branch("клиент занят", "callback"), Branch("без стрелки", "")))
    assert callback.jinja and callback.target_s is None and late.target_s == 90
    assert found == [StepProblem("callback", "длительность «полминуты» — не время: напишите минуты и секунды, "
                                             "например 1:30", 2, "Перезвонить")]
    assert str(found[0]).startswith("шаг 2 «Перезвонить»: длительность")
    assert branches_text(greeting) == "клиент занят → callback\nбез стрелки"  # the draft loses nothing
    assert "переход «без стрелки»: напишите «когда → шаг»" in str(problems(script)[0])


@pytest.mark.parametrize(("text", "seconds"), [("", None), ("1:30", 90), ("90", 90), (" 2:05 ", 125), ("0:00", 0)])
def test_targets_read_as_minutes_and_seconds(text: str, seconds: int | None) -> None:
    assert parse_target(text) == (seconds, None)
    assert target_text(seconds) == ("" if seconds is None else f"{seconds // 60}:{seconds % 60:02d}")


@pytest.mark.parametrize("text", ["1:75", "abc", "-5", "1.5", "1:2:3"])
def test_a_target_that_is_not_a_time_is_a_problem(text: str) -> None:
    seconds, problem = parse_target(text)
    assert seconds is None and problem is not None and f"«{text}»" in problem


def test_the_buttons_add_reorder_and_delete_steps() -> None:
    added = apply_op(SCRIPT, "add")
    assert [step.key for step in added.steps] == ["greeting", "login", "callback", ""]
    assert added.steps[-1].text == ""  # empty: publishing refuses it until it is written
    assert [s.key for s in apply_op(SCRIPT, "up:1").steps] == ["login", "greeting", "callback"]
    assert [s.key for s in apply_op(SCRIPT, "down:1").steps] == ["greeting", "callback", "login"]
    assert [s.key for s in apply_op(SCRIPT, "delete:0").steps] == ["login", "callback"]
    for harmless in ("up:0", "down:2", "delete:9", "up:x", "save", "publish", "?"):
        assert apply_op(SCRIPT, harmless) == SCRIPT


def test_a_step_without_a_key_gets_one_from_its_title_and_branches_may_name_titles() -> None:
    form = {"name": "Обзор", "key-0": "", "title-0": "Приветствие", "text-0": "Здравствуйте!",
            "branches-0": "клиент занят → перезвонить\nклиент спешит → Следующий контакт",
            "key-1": "", "title-1": "Перезвонить", "text-1": "Когда удобно?",
            "key-2": "", "title-2": "Следующий контакт", "text-2": "Договоримся?",
            "key-3": "", "title-3": "Перезвонить", "text-3": "Ещё раз", "branches-3": "всегда → Перезвонить"}
    script, found = read_form(form)
    assert found == [] and [s.key for s in script.steps] == [
        "приветствие", "перезвонить", "следующий-контакт", "перезвонить-2"]
    assert [b.to for b in script.steps[0].branches] == ["перезвонить", "следующий-контакт"]
    assert script.steps[3].branches[0].to == "перезвонить"  # the key «перезвонить» is taken first
    assert branches_text(script.steps[0], script) == "клиент занят → перезвонить\nклиент спешит → Следующий контакт"
    # Two steps titled alike: the editor shows the key, which tells them apart.
    assert branches_text(script.steps[3], script) == "всегда → перезвонить"


def test_each_step_lasts_until_the_next_and_the_last_until_the_call_ends() -> None:
    entries = [StepEntry(1, "login", T0 + timedelta(seconds=40)), StepEntry(0, "greeting", T0),
               StepEntry(2, "next", T0 + timedelta(seconds=400)), StepEntry(3, "late", T0 + timedelta(seconds=700))]
    ended = T0 + timedelta(seconds=520)
    assert step_times(entries, ended, T0 + timedelta(hours=1)) == [
        StepTime("greeting", T0, 40.0), StepTime("login", T0 + timedelta(seconds=40), 360.0),
        StepTime("next", T0 + timedelta(seconds=400), 120.0),
        StepTime("late", T0 + timedelta(seconds=700), 0.0),  # posted after the end: counts nothing
    ]
    up = step_times(entries[:2], None, T0 + timedelta(seconds=100))  # still up: until now
    assert [t.seconds for t in up] == [40.0, 60.0]


def _call(expert: str, steps: list[tuple[str, float]], talk_s: float = 300, productive: bool = False,
          logged_in: bool = False, guessed: bool = False) -> LoggedCall:
    times, at = [], T0
    for key, seconds in steps:
        times.append(StepTime(key, at, seconds))
        at += timedelta(seconds=seconds)
    return LoggedCall(expert, times, talk_s, productive, logged_in, guessed)


def test_what_works_counts_reach_time_login_and_productive_duration() -> None:
    calls = [
        _call("Анна", [("greeting", 30), ("login", 300), ("next", 60)], talk_s=660, productive=True, logged_in=True),
        _call("Анна", [("greeting", 50), ("login", 100)], talk_s=240, logged_in=False),
        _call("Анна", [("greeting", 20), ("callback", 10), ("greeting", 10)], talk_s=40),
        _call("Павел", [("greeting", 40), ("login", 200)], talk_s=600, productive=True, logged_in=True),
        _call("Павел", [("greeting", 10)], talk_s=10, guessed=True),
    ]
    result = what_works(calls, frozenset({"login"}))
    anna, pavel = result.experts
    assert (anna.expert, anna.calls, pavel.calls, result.total.calls, result.guessed) == ("Анна", 3, 1, 4, 1)
    assert anna.steps["greeting"].calls == 3 and anna.steps["greeting"].mean_s == pytest.approx((30 + 50 + 30) / 3)
    assert anna.reach_share("login") == pytest.approx(2 / 3) and anna.reach_share("next") == pytest.approx(1 / 3)
    assert anna.reach_share("never") == 0.0
    assert (anna.reached_login, anna.logged_in, anna.logged_in_share) == (2, 1, 0.5)
    assert anna.login_reach_share == pytest.approx(2 / 3)
    assert (anna.productive, anna.productive_mean_s) == (1, 660)
    assert result.total.productive_mean_s == pytest.approx(630)
    assert result.total.logged_in_share == pytest.approx(2 / 3)
    empty = what_works([], frozenset({"login"}))
    assert empty.total.login_reach_share is None and empty.total.reach_share("login") is None
    assert empty.total.logged_in_share is None and empty.total.productive_mean_s is None


def test_the_demo_scripts_are_sound_and_short_demo_calls_stop_before_the_login_step() -> None:
    for _key, _file, script in DEMO_SCRIPTS:
        assert problems(script) == []
        assert any(step.login for step in script.steps)
        assert any(step.branches for step in script.steps)
    import random

    short = demo_call_steps(NEWS, T0, 100, random.Random(1))
    assert [key for key, _ in short][:1] == ["greeting"] and "login" not in [key for key, _ in short]
    long = demo_call_steps(NEWS, T0, 1500, random.Random(1))
    assert "login" in [key for key, _ in long]
    assert all(at < T0 + timedelta(seconds=1500) for _, at in long)
    assert [at for _, at in long] == sorted(at for _, at in long)


def test_digits_that_are_not_ascii_are_not_places_or_times() -> None:
    """«²» passes str.isdigit() and int() refuses it (found by the hostile-requests test: a 500)."""
    for op in ("up:²", "down:٣", "delete:²", "up:" + "1" * 30):
        assert apply_op(SCRIPT, op) == SCRIPT
    assert parse_target("²")[0] is None and parse_target("٣:00")[0] is None
    script, _ = read_form({"key-٣": "a", "title-٣": "A", "text-٣": "B"})
    assert script.steps == ()
