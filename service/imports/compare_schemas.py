"""The comparison's import formats (issue 17, item 1; docs/import.md): trainings, СТ attendance, acts,
requests, SendPulse campaign reports and survey responses. Pure.

SendPulse's and the survey services' own column names are aliases (service/imports/aliases.py), so
their exports are imported as they are written; the survey's questions are named in config.yaml
(`compare.survey`), so its schema is built for the import's context.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime

from service.compare.records import (
    ActRecord,
    MailingRecord,
    RequestRecord,
    SeminarVisitRecord,
    SurveyRecord,
    TrainingRecord,
)
from service.compare.survey import SURVEY_MARKS
from service.imports import cells as c
from service.imports import month_cells as mc
from service.imports.aliases import normalise
from service.imports.schema_base import CLOCK_SKEW, Column, ImportContext, Problem, Schema, Values

EXTERNAL_ID = c.code(32)
CHANNEL_SPELLINGS = {normalise(spelling): code for spelling, code in (
    ("chat", "chat"), ("чат", "chat"), ("онлайн-чат", "chat"), ("lk", "lk"), ("ЛК", "lk"),
    ("линия консультаций", "lk"), ("задать вопрос эксперту", "lk"), ("hotline", "hotline"),
    ("горячая линия", "hotline"), ("телефон", "hotline"))}
MAILING_KIND_SPELLINGS = {normalise(spelling): code for spelling, code in (
    ("reviews", "reviews"), ("обзоры", "reviews"), ("обзор", "reviews"),
    ("informational", "informational"), ("информационная", "informational"),
    ("информационные", "informational"), ("прочие", "informational"), ("прочие информационные", "informational"),
    ("news", "news"), ("новости", "news"), ("новости по аудиториям", "news"),
    ("gk", "gk"), ("ГК", "gk"), ("подписчикам ГК", "gk"), ("подписчики ГК", "gk"))}
_US_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\b")  # SurveyMonkey: 03/14/2026 10:22:05 AM
_SLASHED_ISO_DAY = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})\b")  # Google Forms (English): 2026/03/14 10:22:05 AM GMT+3
_LEADING_DAY = re.compile(r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4})\b")


def _spelled(spellings: Mapping[str, str], listed: str) -> c.Parser:
    def parse(raw: object) -> str:
        found = spellings.get(normalise(c.text(raw)))
        if found is None:
            raise c.CellError(f"допустимо одно из: {listed}")
        return found
    return parse


def day_of(raw: object) -> date:
    """The day of a date or a date and time as services write them: 2026-03-14, 14.03.2026 10:22,
    2026/03/14 10:22:05 AM GMT+3 (Google Forms), 03/14/2026 10:22:05 AM (SurveyMonkey, US order)."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    value = c.text(raw)
    try:
        if found := _SLASHED_ISO_DAY.match(value):
            return date(int(found[1]), int(found[2]), int(found[3]))
        if found := _US_DAY.match(value):
            return date(int(found[3]), int(found[1]), int(found[2]))
        if found := _LEADING_DAY.match(value):
            return c.parse_date(found[1])
    except ValueError as e:
        raise c.CellError("нет такой даты") from e
    raise c.CellError("не дата (ГГГГ-ММ-ДД, ДД.ММ.ГГГГ, возможно со временем)")


def _future(day: date | None, today: date, column: str, what: str) -> list[Problem]:
    if day is not None and day > today:
        return [(column, f"в будущем (сегодня {today:%d.%m.%Y}): {what}")]
    return []


def _today(context: ImportContext) -> date:
    return context.clock().astimezone(context.tz).date()


def trainings_schema(context: ImportContext) -> Schema:

    today = _today(context)
    return Schema(
        kind="trainings",
        columns=(
            Column("client_external_id", EXTERNAL_ID, required=True),
            Column("contact_external_id", EXTERNAL_ID, required=True),
            Column("date", c.parse_date, required=True),
            Column("kind", c.bounded_text(128)),
        ),
        build=lambda v: TrainingRecord(v["client_external_id"], v["contact_external_id"], v["date"], v["kind"] or ""),
        unique=("client_external_id", "contact_external_id", "date", "kind"),
        checks=lambda v: _future(v["date"], today, "date", "обучение — то, что уже прошло"),
    )


def seminars_schema(context: ImportContext) -> Schema:

    today = _today(context)
    return Schema(
        kind="seminars",
        columns=(
            Column("client_external_id", EXTERNAL_ID, required=True),
            Column("contact_external_id", EXTERNAL_ID),
            Column("date", c.parse_date, required=True),
            Column("seminar", c.bounded_text(255), required=True),
        ),
        build=lambda v: SeminarVisitRecord(v["client_external_id"], v["contact_external_id"] or "", v["date"],
                                           v["seminar"]),
        checks=lambda v: _future(v["date"], today, "date", "посещение СТ — то, что уже было"),
    )


def acts_schema(context: ImportContext) -> Schema:

    today = _today(context)

    def checks(values: Values) -> list[Problem]:
        return _future(values["returned_on"], today, "returned_on", "акт возвращают в прошлом или сегодня")

    return Schema(
        kind="acts",
        columns=(
            Column("client_external_id", EXTERNAL_ID, required=True),
            Column("period", mc.month, required=True),
            Column("due_on", c.parse_date, required=True),
            Column("returned_on", c.parse_date),
        ),
        build=lambda v: ActRecord(v["client_external_id"], v["period"], v["due_on"], v["returned_on"]),
        unique=("client_external_id", "period"),
        checks=checks,
    )


def requests_schema(context: ImportContext) -> Schema:

    now = context.clock()

    def checks(values: Values) -> list[Problem]:
        moment = values["created_at"]
        if moment is not None and moment > now + CLOCK_SKEW:
            return [("created_at", f"в будущем (сейчас {now.astimezone(context.tz):%d.%m.%Y %H:%M})")]
        return []

    return Schema(
        kind="requests",
        columns=(
            Column("client_external_id", EXTERNAL_ID, required=True),
            Column("channel", _spelled(CHANNEL_SPELLINGS, "чат, ЛК, горячая линия (chat, lk, hotline)"), required=True),
            Column("created_at", c.moment(context.tz), required=True),
        ),
        build=lambda v: RequestRecord(v["client_external_id"], v["channel"], v["created_at"].astimezone(UTC)),
        unique=("client_external_id", "channel", "created_at"),
        checks=checks,
    )


COUNTS = ("sent", "delivered", "opened", "clicked", "unsubscribed")
COUNT_LABELS = {"sent": "отправлено", "delivered": "доставлено", "opened": "открыто", "clicked": "переходов",
                "unsubscribed": "отписалось"}


def mailing_kind_by_rules(campaign: str, rules: tuple[tuple[str, str], ...]) -> str | None:
    """The kind of the first rule whose words the campaign's name contains (config.yaml compare.mailing_kinds)."""
    name = normalise(campaign)
    return next((kind for words, kind in rules if normalise(words) in name), None)


def mailings_schema(context: ImportContext) -> Schema:
    """A SendPulse campaign report (docs/import.md «mailings»); the kind from the file's own column, else
    from the campaign's name by config.yaml's rules."""

    today = _today(context)
    rules = context.mailing_rules

    def checks(values: Values) -> list[Problem]:
        problems = _future(values["sent_on"], today, "sent_on", "в отчёте только отправленные рассылки")
        for smaller, larger in (("delivered", "sent"), ("opened", "delivered"), ("clicked", "delivered"),
                                ("unsubscribed", "delivered")):
            if values[smaller] is not None and values[larger] is not None and values[smaller] > values[larger]:
                problems.append((smaller, f"{COUNT_LABELS[smaller]} ({values[smaller]}) больше, чем "
                                          f"{COUNT_LABELS[larger]} ({values[larger]}): цифры отчёта не сходятся"))
        if values["kind"] is None and mailing_kind_by_rules(values["campaign"] or "", rules) is None:
            problems.append(("kind", "вид рассылки не указан: добавьте столбец «Вид рассылки» (обзоры, "
                                     "информационные, новости, ГК) или правило в config.yaml compare.mailing_kinds"))
        return problems

    def build(values: Values) -> MailingRecord:
        kind = values["kind"] or mailing_kind_by_rules(values["campaign"], rules) or ""  # checked: never ""
        return MailingRecord(values["campaign"], values["sent_on"], values["audience"] or "", kind,
                             *(values[name] or 0 for name in COUNTS))

    return Schema(
        kind="mailings",
        columns=(
            Column("campaign", c.bounded_text(255), required=True),
            Column("sent_on", day_of, required=True),
            Column("audience", c.bounded_text(255)),
            Column("kind", _spelled(MAILING_KIND_SPELLINGS, "обзоры, информационные, новости, ГК")),
            *(Column(name, c.integer(0), required=name != "unsubscribed") for name in COUNTS),
        ),
        build=build,
        unique=("campaign", "sent_on", "audience"),
        checks=checks,
    )


RESPONDENT_COLUMNS = ("respondent", "email", "answered_at", "client_external_id")


def _stamped(raw: object) -> tuple[date, str]:
    """The day a respondent answered, and the moment as written (the respondent's key when the export
    names nobody: Google Forms without e-mail collection)."""
    return day_of(raw), c.display(raw)


def survey_schema(context: ImportContext) -> Schema:
    """Survey responses (docs/import.md «survey»): one row per respondent, the questions config.yaml
    maps to the six measures as columns; SurveyMonkey's second header row is skipped."""

    mapping = context.survey
    today = _today(context)
    questions = {measure: question.column for measure, question in mapping.items()}

    def checks(values: Values) -> list[Problem]:
        answered = values["answered_at"]
        problems = _future(answered and answered[0], today, "answered_at", "ответы даны в прошлом")
        if not any(values[column] for column in questions.values()):
            problems.append((next(iter(questions.values()), "respondent"), "ни на один вопрос нет ответа"))
        return problems

    def build(values: Values) -> SurveyRecord:
        answers = {measure: values[column] for measure, column in questions.items() if values[column]}
        day, written = values["answered_at"]
        respondent = values["respondent"] or (values["email"] and values["email"].casefold()) or written
        return SurveyRecord(respondent, day, values["client_external_id"], answers)

    return Schema(
        kind="survey",
        columns=(
            Column("respondent", c.bounded_text(255)),  # the service's own id (SurveyMonkey)
            Column("email", c.bounded_text(255)),
            Column("answered_at", _stamped, required=True),
            Column("client_external_id", EXTERNAL_ID),
            *(Column(column, c.bounded_text(2000), in_header=True) for column in dict.fromkeys(questions.values())),
        ),
        build=build,
        unique=_respondent_key,
        checks=checks,
        skip=is_second_header,
    )


def _respondent_key(values: Values) -> tuple[str, object] | None:
    """A respondent is one person: the service's id, else the e-mail (case aside); a row with neither
    is told apart by its moment only, which repeats nothing."""
    if values["respondent"]:
        return "respondent", values["respondent"]
    if values["email"]:
        return "email", values["email"].casefold()
    return None


def is_second_header(row: Mapping[str, object]) -> bool:
    """SurveyMonkey's second header row: no respondent, no date, and «Response»-like marks under the questions."""
    if any(not c.is_empty(row.get(name)) for name in ("respondent", "answered_at")):
        return False
    marks = [normalise(c.text(value)) for name, value in row.items()
             if name not in RESPONDENT_COLUMNS and not c.is_empty(value)]
    return bool(marks) and any(mark in SURVEY_MARKS for mark in marks)


# In the order they are imported (all refer to clients only); the survey last.
COMPARE_SCHEMAS = (trainings_schema, seminars_schema, acts_schema, requests_schema, mailings_schema, survey_schema)
