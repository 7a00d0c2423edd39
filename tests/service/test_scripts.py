"""Call scripts: the shipped scripts render, the catalog resolves topics, the sandbox holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from service.db.models import Client, ClientContact, Expert, PlannedCall
from service.scripts import (
    SCRIPTS_DIR,
    CatalogError,
    ScriptCatalog,
    ScriptEntry,
    ScriptSource,
    check_script_source,
    render_script,
    respectful_name,
    script_environment,
    script_variables,
    split_full_name,
)
from service.scripts.variables import offer_view
from service.settings import DEFAULT_TOPICS, REPO_ROOT, DeskSettings, load_settings
from texts.plan import (
    SIGNAL_TOPICS,
    TOPIC_CALLBACK,
    TOPIC_DEBT,
    TOPIC_REVIEW,
    TOPIC_TERMS,
    TOPIC_TRAINING,
    TOPIC_TRANSITION,
)

TODAY = date(2026, 12, 1)
# Topics that deliberately have no script of their own and use the default one. Empty today:
# every default topic is listed by a script; adding one here must be a conscious decision.
FALLS_TO_DEFAULT: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PlainClient:
    name: str = "ООО «Северный берег»"
    external_id: str = "C-501"
    segment: str = "ДС"
    version: str = "online"
    timezone: str = "Europe/Samara"
    online_last_login: date | None = TODAY - timedelta(days=40)
    online_logins_30d: int | None = 0
    debt_rub: Decimal = Decimal("12500.00")
    prepaid_months: int | None = 1
    terms_end: date | None = TODAY + timedelta(days=12)


@dataclass(frozen=True)
class PlainContact:
    full_name: str = "Иванова  Ольга Петровна "
    position: str | None = "главный бухгалтер"
    is_user: bool = True
    email: str | None = "olga@example.ru"


@dataclass(frozen=True)
class PlainExpert:
    full_name: str = "Смирнова Мария Андреевна"


@dataclass(frozen=True)
class PlainItem:
    topic: str
    reasons: list[dict[str, str]] = field(default_factory=lambda: [
        {"code": "signal", "text": "обращалась на Горячую линию 30.11"},
        {"code": "not_logged_in", "text": "не заходили в онлайн-версию 40 дней"},
    ])
    comment: str | None = "просила напомнить про отчётность за год"
    public_id: str = "PC-1001"


@pytest.fixture(scope="module")
def catalog() -> ScriptCatalog:
    return ScriptCatalog.load()


def variables(topic: str | None = "Обзор новостей и изменений", **changes: Any) -> dict[str, Any]:
    parts: dict[str, Any] = {
        "client": PlainClient(), "contact": PlainContact(), "expert": PlainExpert(),
        "item": PlainItem(topic) if topic is not None else None,
    }
    parts.update(changes)
    return script_variables(parts["client"], parts["contact"], parts["expert"], parts["item"], TODAY)


def rendered_html(script: ScriptEntry | ScriptSource | str, variables_: dict[str, Any]) -> str:
    result = render_script(script, variables_)
    assert result.error is None, str(result.error)
    assert result.html is not None
    return str(result.html)


def failed(source: str, variables_: dict[str, Any] | None = None) -> Any:
    result = render_script(ScriptSource(source, "edited.j2"), variables_ or variables())
    assert result.html is None and result.error is not None, "expected the script to fail"
    return result.error


# --- the «И.О.» -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("full_name", "io"), [
    ("Иванова Ольга Петровна", "Ольга Петровна"),
    ("  Иванова   Ольга  Петровна ", "Ольга Петровна"),
    ("Петров Иван", "Иван"),
    ("Ольга", "Ольга"),
    ("Мамедов Ильхам Гейдар оглы", "Ильхам Гейдар оглы"),
    ("", ""),
    (None, ""),
])
def test_respectful_name_is_first_name_and_patronymic(full_name: str | None, io: str) -> None:
    assert respectful_name(full_name) == io


def test_split_full_name_puts_the_surname_first() -> None:
    parts = split_full_name("Смирнова Мария Андреевна")
    assert (parts.last, parts.first, parts.patronymic) == ("Смирнова", "Мария", "Андреевна")


def test_the_expert_is_introduced_by_the_stored_parts(catalog: ScriptCatalog) -> None:
    """Issue 14: a guess at «Мария Сергеевна Иванова» greeted as «Меня зовут Сергеевна»; the parts do not guess."""
    expert = Expert(login="maria", full_name="Иванова Мария Сергеевна", last_name="Иванова", first_name="Мария",
                    patronymic="Сергеевна")
    view = variables(expert=expert)["expert"]
    assert (view.last_name, view.first_name, view.patronymic, view.io, view.full_name, view.gender) == (
        "Иванова", "Мария", "Сергеевна", "Мария Сергеевна", "Иванова Мария Сергеевна", "f")
    assert "Меня зовут Мария, я ваш эксперт" in rendered_html(catalog.for_topic(TOPIC_TRAINING),
                                                               variables(TOPIC_TRAINING, expert=expert))
    # A double surname and no patronymic: still no guess.
    view = variables(expert={"last_name": "Мусина Пушкина", "first_name": "Анна", "patronymic": None})["expert"]
    assert (view.first_name, view.io, view.full_name, view.gender) == ("Анна", "Анна", "Мусина Пушкина Анна", None)
    # Without parts (an older caller, a row written around the repositories) the full name is split.
    view = variables(expert={"full_name": "Смирнова Мария Андреевна", "first_name": "", "last_name": None})["expert"]
    assert (view.last_name, view.first_name, view.io) == ("Смирнова", "Мария", "Мария Андреевна")


# --- every shipped script renders ----------------------------------------------------------------

def _entries() -> list[ScriptEntry]:
    return list(ScriptCatalog.load().entries())


@pytest.mark.parametrize("entry", _entries(), ids=lambda entry: entry.file)
def test_every_script_renders_addressed_to_the_contact(entry: ScriptEntry) -> None:
    for topic in (*entry.topics, None):
        html = rendered_html(entry, variables(topic))
        assert "Ольга Петровна" in html
        assert "Мария" in html
        assert "None" not in html
        assert "60%" in html  # every script has the login-during-the-call step


@pytest.mark.parametrize("entry", _entries(), ids=lambda entry: entry.file)
def test_every_script_renders_when_optional_fields_are_none(entry: ScriptEntry) -> None:
    sparse_client = {"name": "ИП Петров", "version": None, "debt_rub": None, "terms_end": None}
    sparse_contact = {"full_name": "Петров Иван", "position": None, "email": None}
    html = rendered_html(entry, variables(None, client=sparse_client, contact=sparse_contact))
    assert "Иван" in html
    assert "None" not in html


@pytest.mark.parametrize("entry", _entries(), ids=lambda entry: entry.file)
def test_every_script_renders_for_orm_models(entry: ScriptEntry) -> None:
    client = Client(external_id="C-502", name="АО «Ладога»", segment="ДС", version="internet_update",
                    debt_rub=Decimal("0"), terms_end=TODAY + timedelta(days=5))
    contact = ClientContact(full_name="Кузнецова Анна Сергеевна", is_user=False, position="юрист")
    expert = Expert(login="maria", full_name="Смирнова Мария Андреевна")
    topic = entry.topics[0] if entry.topics else None
    item = PlannedCall(public_id="PC-1002", topic=topic, comment=None,
                       reasons=[{"code": "cadence", "text": "14 дней без контакта"}])
    html = rendered_html(entry, script_variables(client, contact, expert, item, TODAY))
    assert "Анна Сергеевна" in html and "Мария" in html


def test_the_script_uses_the_data_it_is_given(catalog: ScriptCatalog) -> None:
    html = rendered_html(catalog.for_topic(TOPIC_TERMS), variables(TOPIC_TERMS))
    assert "13.12.2026" in html  # terms_end, printed the Russian way
    assert "12 500 ₽" in html  # the debt
    assert "не заходили в онлайн-версию 40 дней" in html  # the plan's reason
    assert "просила напомнить про отчётность за год" in html  # the previous comment


def test_transition_script_is_the_departments_speech(catalog: ScriptCatalog) -> None:
    html = rendered_html(catalog.for_topic("Переход на дистанционный сервис"), variables(None))
    assert "Ольга Петровна, хочу проинформировать вас о том, что мы переходим на Новую систему сопровождения" in html
    assert "перенесём нашу работу в плоскость интернета и телефона" in html
    assert "СМАРТ-комплект" in html


def test_transition_script_names_the_configured_offer(catalog: ScriptCatalog) -> None:
    entry = catalog.for_topic("Переход на дистанционный сервис")
    base = variables(None)
    offered = {**base, "offer": offer_view({"kit": "СМАРТ-комплект", "price": "4 900 ₽ в месяц",
                                            "date": date(2027, 2, 1)})}
    html = rendered_html(entry, offered)
    assert "Стоимость — 4 900 ₽ в месяц" in html and "Перейти можно с 01.02.2027" in html
    assert "называйте по действующему предложению" not in html
    # Without a price and date in config.yaml the Expert is told where to take them from.
    bare = rendered_html(entry, {**base, "offer": offer_view(None)})
    assert "Стоимость" not in bare and "Цену и срок перехода называйте по действующему предложению" in bare
    assert "на современный СМАРТ-комплект" in bare
    only_price = rendered_html(entry, {**base, "offer": offer_view({"price": "5 000 ₽"})})
    assert "Срок перехода называйте по действующему предложению" in only_price


def test_new_user_gets_the_first_steps(catalog: ScriptCatalog) -> None:
    html = rendered_html(catalog.for_topic("Обучение нового пользователя"), variables("Обучение нового пользователя"))
    assert "первые шаги" in html


# --- the catalog ---------------------------------------------------------------------------------

def test_each_catalog_topic_resolves_to_its_script(catalog: ScriptCatalog) -> None:
    for entry in catalog.entries():
        for topic in entry.topics:
            assert catalog.for_topic(topic) == entry
            assert catalog.for_topic(f"  {topic.upper()} ") == entry


def test_unknown_or_missing_topic_gets_the_default(catalog: ScriptCatalog) -> None:
    assert catalog.default.default
    assert catalog.for_topic("Тема, которой нет") == catalog.default
    assert catalog.for_topic(None) == catalog.default


def test_catalog_references_only_existing_scripts_and_ships_no_orphans(catalog: ScriptCatalog) -> None:
    listed = {entry.file for entry in catalog.entries()}
    assert all((SCRIPTS_DIR / file).is_file() for file in listed)
    shipped = {path.name for path in SCRIPTS_DIR.glob("*.j2") if not path.name.startswith("_")}
    assert shipped == listed


def test_every_default_desk_topic_has_a_script_or_falls_to_the_default_on_purpose(catalog: ScriptCatalog) -> None:
    assert DeskSettings().topics == DEFAULT_TOPICS
    unserved = {topic for topic in DEFAULT_TOPICS if not catalog.serves(topic)}
    assert unserved == FALLS_TO_DEFAULT
    for topic in FALLS_TO_DEFAULT:
        assert catalog.for_topic(topic) == catalog.default


def test_the_shipped_config_topics_have_scripts(catalog: ScriptCatalog) -> None:
    settings = load_settings(REPO_ROOT / "config.yaml", env={})
    assert {topic for topic in settings.desk.topics if not catalog.serves(topic)} <= FALLS_TO_DEFAULT

def test_every_topic_the_plan_suggests_has_a_script(catalog: ScriptCatalog) -> None:
    plan_topics = {TOPIC_REVIEW, TOPIC_TERMS, TOPIC_TRAINING, TOPIC_DEBT, TOPIC_CALLBACK, TOPIC_TRANSITION,
                   *SIGNAL_TOPICS.values()}
    assert {topic for topic in plan_topics if not catalog.serves(topic)} == set()
    assert catalog.for_topic(TOPIC_TRANSITION).file == "transition_ds.j2"
    assert TOPIC_TRANSITION in DEFAULT_TOPICS  # a wrap-up can name it


def _write_catalog(tmp_path: Path, text: str, files: tuple[str, ...] = ("a.j2", "b.j2")) -> Path:
    for name in files:
        (tmp_path / name).write_text("{{ contact.io }}", encoding="utf-8")
    (tmp_path / "catalog.yaml").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("text", "complaint"), [
    ("scripts:\n  - {file: a.j2, title: A, topics: [x]}\n", "default: true"),
    ("scripts:\n  - {file: a.j2, title: A, default: true}\n  - {file: b.j2, title: B, default: true}\n",
     "default: true"),
    ("scripts:\n  - {file: a.j2, title: A, topics: [x], default: true}\n  - {file: b.j2, title: B, topics: [' X']}\n",
     "listed by both"),
    ("scripts:\n  - {file: missing.j2, title: A, default: true}\n", "'missing.j2'"),
    ("scripts:\n  - {file: ../a.j2, title: A, default: true}\n", "flat name"),
    ("scripts:\n  - {file: a.j2, title: A, default: true, topic: [x]}\n", "unknown key"),
    ("scripts: []\n", "non-empty list"),
])
def test_a_broken_catalog_is_refused_with_the_reason(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(CatalogError, match="catalog.yaml") as raised:
        ScriptCatalog.load(_write_catalog(tmp_path, text))
    assert complaint in str(raised.value)


# --- errors are readable, never exceptions -------------------------------------------------------

def test_a_syntax_error_names_the_line() -> None:
    error = failed("<p>Здравствуйте!</p>\n<p>{{ contact.io }</p>\n")
    assert error.kind == "syntax"
    assert error.line == 2
    assert error.template == "edited.j2"
    assert "Строка 2" in error.message and "line 2" in error.detail


def test_an_unclosed_block_is_a_syntax_error() -> None:
    assert failed("{% if client.has_debt %}\nдолг\n").kind == "syntax"


@pytest.mark.parametrize("source", ["{{ clent.name }}", "{{ client.nmae }}", "{{ item.comment.text }}"])
def test_an_undefined_variable_or_field_is_an_error(source: str) -> None:
    error = failed("строка 1\n" + source)
    assert error.kind == "undefined"
    assert error.line == 2
    assert "client, contact, expert, item, offer, today" in error.message


def test_missing_variables_give_an_error_not_an_exception(catalog: ScriptCatalog) -> None:
    result = render_script(catalog.default, {})
    assert not result.ok and result.error is not None
    assert result.error.kind == "undefined"


def test_an_error_inside_a_shared_part_names_that_part(tmp_path: Path) -> None:
    (tmp_path / "_p.j2").write_text("{% macro hi() %}\n{{ contact.nickname }}\n{% endmacro %}", encoding="utf-8")
    env = script_environment(tmp_path)
    result = render_script(ScriptSource("{% import '_p.j2' as p with context %}{{ p.hi() }}"), variables(), env=env)
    assert result.error is not None
    assert (result.error.kind, result.error.template, result.error.line) == ("undefined", "_p.j2", 2)


def test_any_other_exception_becomes_a_runtime_error() -> None:
    error = failed("a\nb\n{{ 1 / 0 }}")
    assert (error.kind, error.line) == ("runtime", 3)
    assert "ZeroDivisionError" in error.detail


# --- the sandbox ---------------------------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ client.__class__.__init__.__globals__ }}",
    "{{ item.reasons.__class__ }}",
    "{{ (1).__class__.__base__.__subclasses__() }}",
    "{{ '{0.__class__.__mro__}'.format(client) }}",
    "{{ {}.update(x=1) }}",
    "{{ 'x' * 1000000 }}",
    "{{ 2 ** 100000000 }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_sandbox_escapes_are_security_errors_and_leak_nothing(source: str) -> None:
    error = failed(source)
    assert error.kind == "security", error.detail
    for leak in ("<class", "<function", "<module", "object at 0x", "popen", "uid="):
        assert leak not in error.message and leak not in error.detail


def test_lipsum_is_not_offered_at_all() -> None:
    """lipsum(40000) froze the service for 10 s (issue 10, F2); its globals were an escape route too."""
    for source in ("{{ lipsum(40000) }}", "{{ lipsum.__globals__['os'].popen('id').read() }}"):
        error = failed(source)
        assert error.kind == "undefined" and "popen" not in error.message


@pytest.mark.parametrize("source", [
    "{% include '../base.html' %}",
    "{% include '/etc/passwd' %}",
    "{% import '../../service/settings.py' as settings %}",
    "{% include 'catalog.yaml' %}",
    "{% extends 'scripts/general.j2' %}",
])
def test_scripts_cannot_reach_files_outside_the_scripts(source: str) -> None:
    error = failed(source)
    assert error.kind == "not_found"


def test_a_runaway_loop_is_stopped() -> None:
    error = failed("{% for i in range(100000) %}{{ 'строка сценария' }}{% endfor %}")
    assert error.kind == "too_long"


def test_a_slow_loop_that_prints_nothing_is_stopped() -> None:
    error = failed("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    assert error.kind == "too_long"
    assert "over 1.0 s" in error.detail


def test_html_in_client_data_is_escaped(catalog: ScriptCatalog) -> None:
    evil = "<script>alert(1)</script>"
    html = rendered_html(catalog.for_topic(TOPIC_REVIEW), variables(
        TOPIC_REVIEW, client=PlainClient(name=evil), contact=PlainContact(full_name=f"Иванова Ольга {evil}"),
        item=PlainItem(TOPIC_REVIEW, comment=evil)))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_none_prints_as_nothing_and_dates_the_russian_way() -> None:
    html = rendered_html("[{{ client.inn }}][{{ client.terms_end }}][{{ contact.position }}]", variables(
        contact=PlainContact(position=None)))
    assert html == "[][13.12.2026][]"


# --- edited scripts (issue 5 hook) ----------------------------------------------------------------

def test_an_edited_source_overrides_the_file_and_can_use_the_shared_parts() -> None:
    source = ("{% import '_parts.j2' as parts with context %}"
              "<p>Новый текст для {{ contact.io }}</p>{{ parts.keep_talking() }}")
    html = rendered_html(ScriptSource(source, "news_review.j2"), variables())
    assert "Новый текст для Ольга Петровна" in html and "10–12 минут" in html


@pytest.mark.parametrize("entry", _entries(), ids=lambda entry: entry.file)
def test_check_accepts_every_shipped_script(entry: ScriptEntry) -> None:
    assert check_script_source((SCRIPTS_DIR / entry.file).read_text(encoding="utf-8"), today=TODAY) is None


def test_check_reports_the_first_problem() -> None:
    broken = check_script_source("{{ contact.io }", today=TODAY)
    misspelt = check_script_source("{{ contact.nmae }}", today=TODAY)
    assert broken is not None and broken.kind == "syntax"
    assert misspelt is not None and misspelt.kind == "undefined"
    # The sample calls include an unplanned one: a script that assumes a plan item is caught.
    error = check_script_source("{{ item.reasons[0].text }}", today=TODAY)
    assert error is not None and error.kind == "undefined"
