"""The import formats: per kind, its columns (exact header names), how each is read, the record.

docs/import.md documents the same tables for people; keep them in step. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from scheduler.model import Segment, SignalKind, Version
from service.db.records import (
    MAX_NAME_PART,
    AbsenceRecord,
    ClientRecord,
    ContactRecord,
    ExpertName,
    ExpertRecord,
    HistoryRecord,
    LoginRecord,
    SelectionRecord,
    SignalRecord,
)
from service.imports import cells as c
from service.imports import month_cells as mc
from service.imports.compare_schemas import COMPARE_SCHEMAS
from service.imports.schema_base import CLOCK_SKEW, Column, ImportContext, Problem, Schema, Span, Values
from service.logins.match import LONGEST_SESSION
from service.month.kinds import (
    EVENT_KINDS,
    EVENT_SPELLINGS,
    PLAN_KINDS,
    PLAN_SPELLINGS,
    SHARE_PLAN_KINDS,
    SIGNED_PLAN_KINDS,
)
from service.month.records import EventRecord, PlanRecord
from service.selection.scoring import CRITERIA, CRITERION_LABELS, RECOMMENDATION, check_manual, normalise_manual
from service.visits.rules import RESULT_SPELLINGS, VisitRecord
from texts.labels import ROLE_LABELS


def _options(*pairs: tuple[str, str]) -> dict[str, str]:
    return {spelling.casefold(): value for spelling, value in pairs}


# The role's code or its name as the admin pages show it (texts.labels.ROLE_LABELS), and a few short forms.
ROLES = _options(*((code, code) for code in ROLE_LABELS), *((label, code) for code, label in ROLE_LABELS.items()),
                 ("Эксперт по ДС", "expert"), ("руководитель", "supervisor"), ("РГ", "supervisor"),
                 ("админ", "admin"), ("ПМ", "pm"))
ROLE_NAMES = ", ".join(ROLE_LABELS.values())  # a refusal lists these, not the codes
CALLING_ROLES = ("expert", "pm")  # they call from the desk: an extension is required
SEGMENTS = _options(*((s.value, s.value) for s in Segment), ("DS", "ДС"), ("KS", "КС"))
VERSIONS = _options(*((v.value, v.value) for v in Version))
RESULTS = _options(("contact_made", "contact_made"), ("not_reached", "not_reached"))
SIGNAL_KINDS = _options(*((k.value, k.value) for k in SignalKind))
# Where a client came from (the selection's «пришёл от Главбуха») and the services it uses (issue 15).
CAME_FROM = _options(("glavbukh", "glavbukh"), ("Главбух", "glavbukh"), ("garant", "garant"), ("Гарант", "garant"),
                     ("other", "other"), ("другое", "other"), ("другой", "other"))
SERVICES = _options(("st", "st"), ("СТ", "st"), ("семинар", "st"), ("mailing", "mailing"), ("рассылка", "mailing"),
                    ("video_seminars", "video_seminars"), ("видеосеминары", "video_seminars"),
                    ("видео-семинары", "video_seminars"), ("lk", "lk"), ("ЛК", "lk"),
                    ("линия консультаций", "lk"))
EXTERNAL_ID = c.code(32)


def _extension_required(values: Values) -> list[Problem]:
    if values["role"] in CALLING_ROLES and not values["extension"]:
        whose = "Эксперта" if values["role"] == "expert" else "ПМ по ДС"
        role = ROLE_LABELS.get(values["role"], values["role"])
        return [("extension", f"обязателен для роли «{role}» (внутренний номер {whose} на АТС)")]
    return []


def _window_ordered(values: Values) -> list[Problem]:
    start, end = values["call_from"], values["call_to"]
    if start is not None and end is not None and start >= end:
        return [("call_to", f"должно быть позже call_from {start:%H:%M}")]
    return []


def _range_ordered(values: Values) -> list[Problem]:
    if values["from"] > values["to"]:
        return [("to", f"не раньше from {values['from']:%d.%m.%Y}")]
    return []


def _contact(values: Values) -> ContactRecord:
    phone, phone_e164 = values.pop("phone") or (None, None)
    return ContactRecord(**values, phone=phone, phone_e164=phone_e164)


NAME_PARTS = ("last_name", "first_name", "patronymic")


def _expert_name_given(values: Values) -> list[Problem]:
    """The name in parts (Фамилия and Имя at least), or else whole in full_name."""
    if any(values[part] for part in NAME_PARTS):
        return [(part, f"пусто: {needed} (ФИО дано по частям)")
                for part, needed in (("last_name", "нужна фамилия"), ("first_name", "нужно имя")) if not values[part]]
    if not values["full_name"]:
        return [("last_name", "нет имени: заполните last_name и first_name (Фамилия, Имя) или full_name (ФИО)")]
    return []


def _expert_checks(values: Values) -> list[Problem]:
    return _expert_name_given(values) + _extension_required(values)


def _expert_name(values: Values) -> ExpertName:
    """The parts when given; else full_name split in «Фамилия Имя Отчество» order."""
    if values["last_name"]:
        return ExpertName.of(values["last_name"], values["first_name"], values["patronymic"])
    return ExpertName.parse(values["full_name"])


def _expert(values: Values) -> ExpertRecord:
    return ExpertRecord(values["login"], _expert_name(values), role=values["role"], extension=values["extension"],
                        timezone=values["timezone"], daily_target=values["daily_target"],
                        group_name=values["group"] or None)


EXPERTS = Schema(
    kind="experts",
    columns=(
        Column("login", c.code(64), required=True),
        Column("last_name", c.bounded_text(MAX_NAME_PART)),  # Фамилия
        Column("first_name", c.bounded_text(MAX_NAME_PART)),  # Имя
        Column("patronymic", c.bounded_text(MAX_NAME_PART)),  # Отчество
        Column("full_name", c.bounded_text(255)),  # without the parts: split as «Фамилия Имя Отчество»
        Column("role", c.choice(ROLES, ROLE_NAMES), default="expert"),
        Column("extension", c.extension),
        Column("timezone", c.timezone),
        Column("daily_target", c.integer(1, 100)),
        Column("group", c.bounded_text(64)),  # the РГ's group («Группа 1»), for the control figures
    ),
    build=_expert,
    unique="login",
    checks=_expert_checks,
)

CLIENTS = Schema(
    kind="clients",
    columns=(
        Column("external_id", EXTERNAL_ID, required=True),
        Column("name", c.bounded_text(255), required=True),
        Column("inn", c.inn),
        Column("segment", c.choice(SEGMENTS), required=True),
        Column("territory", c.bounded_text(64)),
        Column("expert_login", c.code(64)),
        Column("timezone", c.timezone),
        Column("version", c.choice(VERSIONS), default=Version.OTHER.value),
        Column("online_last_login", c.parse_date),
        Column("online_logins_30d", c.integer(0)),
        Column("debt_rub", c.money, default=Decimal("0.00")),
        Column("prepaid_months", c.integer(0)),
        Column("terms_end", c.parse_date),
        Column("ds_since", c.parse_date),
        Column("contact_every_days", c.integer(1, 366)),
        # The selection for ДС (issue 15, docs/selection.md): all optional.
        Column("client_since", c.parse_date),
        Column("came_from", c.choice(CAME_FROM)),
        Column("distance_km", c.distance),
        Column("services", c.word_list(SERVICES)),
        Column("ip_possible", c.parse_bool),
        Column("sio", c.bounded_text(128)),
        Column("collection_completeness", mc.share),
    ),
    build=lambda values: ClientRecord(**values),
    unique="external_id",
)

CONTACTS = Schema(
    kind="contacts",
    columns=(
        Column("external_id", EXTERNAL_ID, required=True),
        Column("client_external_id", EXTERNAL_ID, required=True),
        Column("full_name", c.bounded_text(255), required=True),
        Column("position", c.bounded_text(255)),
        Column("phone", c.phone),
        Column("email", c.email),
        Column("is_user", c.parse_bool, default=False),
        Column("call_from", c.parse_time),
        Column("call_to", c.parse_time),
    ),
    build=_contact,
    unique="external_id",
    checks=_window_ordered,
)

HISTORY = Schema(
    kind="history",
    columns=(
        Column("client_external_id", EXTERNAL_ID, required=True),
        Column("contact_external_id", EXTERNAL_ID),
        Column("date", c.parse_date, required=True),
        Column("result", c.choice(RESULTS), required=True),
        Column("topic", c.text),
        Column("comment", c.text),
    ),
    build=lambda values: HistoryRecord(**values),
)

SIGNALS = Schema(
    kind="signals",
    columns=(
        Column("client_external_id", EXTERNAL_ID, required=True),
        Column("contact_external_id", EXTERNAL_ID),
        Column("kind", c.choice(SIGNAL_KINDS), required=True),
        Column("occurred_on", c.parse_date, required=True),
        Column("note", c.text),
    ),
    build=lambda values: SignalRecord(**values),
)

# The criterion's code or its Russian name (the presentation's, or a short one).
SELECTION_CRITERIA = _options(
    *((code, code) for code in (*CRITERIA, RECOMMENDATION)),
    *((label, code) for code, label in CRITERION_LABELS.items()),
    ("лояльность", "loyalty"), ("навыки", "skills"), ("пользователи", "users"), ("предоплата", "prepay"),
    ("сервисы", "services"), ("без СИО", "without_sio"), ("удалённость", "remoteness"), ("удаленность", "remoteness"),
    ("Главбух", "from_glavbukh"), ("рекомендация", RECOMMENDATION), ("рекомендация СИО", RECOMMENDATION))


def _criterion(raw: object) -> str:
    """A criterion by its code or Russian name; the error names them in Russian (found trying it:
    «допустимо одно из: loyalty, skills, …» was all a СИО read)."""
    try:
        return c.choice(SELECTION_CRITERIA)(raw)
    except c.CellError as e:
        named = ", ".join(f"«{label}»" for label in (*CRITERION_LABELS.values(), "рекомендация СИО"))
        raise c.CellError(f"нет такого критерия; возможные: {named}") from e


def _selection_checks(values: Values) -> list[Problem]:
    criterion, value = values["criterion"], values["score"]
    if criterion is None or value is None:
        return []  # the cell has its own error
    problem = check_manual(criterion, value)
    return [] if problem is None else [("score", problem)]


def _selection(values: Values) -> SelectionRecord:
    return SelectionRecord(values["client_external_id"], values["criterion"],
                           normalise_manual(values["criterion"], values["score"]), values["note"] or None,
                           values["author_login"])


SELECTION = Schema(
    kind="selection",
    columns=(
        Column("client_external_id", EXTERNAL_ID, required=True),
        Column("criterion", _criterion, required=True),
        Column("score", c.bounded_text(32), required=True),  # 0–3, or yes/no (да/нет) for the recommendation
        Column("note", c.bounded_text(1000)),
        Column("author_login", c.code(64), required=True),  # the СИО (or supervisor) who scored
    ),
    build=_selection,
    checks=_selection_checks,
)

ABSENCES = Schema(
    kind="absences",
    columns=(
        Column("login", c.code(64), required=True),
        Column("from", c.parse_date, required=True),
        Column("to", c.parse_date, required=True),
    ),
    build=lambda values: AbsenceRecord(values["login"], values["from"], values["to"]),
    checks=_range_ordered,
)

# The department's month (issue 16, service/month/): business events from the CRM, monthly plans and values.
LARGEST_AMOUNT = Decimal(10) ** 12  # Numeric(14, 2) holds less


def _event_checks(values: Values) -> list[Problem]:
    amount = values["amount_rub"]
    if amount is not None and amount < 0:
        return [("amount_rub", "сумма не может быть отрицательной")]
    if amount is not None and amount >= LARGEST_AMOUNT:
        return [("amount_rub", "слишком большая сумма")]
    return []


def _plan_checks(values: Values) -> list[Problem]:
    kind, (value, percent) = values["kind"], values["value"]
    if percent and kind not in SHARE_PLAN_KINDS:
        return [("value", "в процентах — только полнота сбора (collection_completeness)")]
    if kind in SHARE_PLAN_KINDS and not 0 <= value <= 1:
        return [("value", "полнота сбора — доля от 0 до 1: 0,8 или 80 %")]
    if value < 0 and kind not in SIGNED_PLAN_KINDS:
        return [("value", "не может быть отрицательным (ниже нуля — только баланс ВКСП)")]
    if abs(value) >= LARGEST_AMOUNT:
        return [("value", "слишком большое число")]
    return []


def events_schema(context: ImportContext) -> Schema:
    """The CRM's business events (docs/import.md «events»); one dated after today is refused: an
    event is something that happened (found trying it: 2031-01-01 was taken)."""
    today = context.clock().astimezone(context.tz).date()

    def checks(values: Values) -> list[Problem]:
        problems = _event_checks(values)
        day = values["occurred_on"]
        if day is not None and day > today:
            problems.append(("occurred_on", f"в будущем (сегодня {today:%d.%m.%Y}): событие — то, что уже произошло"))
        return problems

    return Schema(
        kind="events",
        columns=(
            Column("client_external_id", EXTERNAL_ID, required=True),
            Column("kind", mc.spelled(EVENT_SPELLINGS, EVENT_KINDS), required=True),
            Column("occurred_on", c.parse_date, required=True),
            Column("amount_rub", c.money),
            Column("employee_login", c.code(64)),  # who did it (an Expert or a PM); empty: nobody named
            Column("note", c.text),
        ),
        build=lambda values: EventRecord(**values),
        checks=checks,
    )

PLANS = Schema(
    kind="plans",
    columns=(
        Column("employee_login", c.code(64), required=True),
        Column("month", mc.month, required=True),
        Column("kind", mc.spelled(PLAN_SPELLINGS, PLAN_KINDS), required=True),
        Column("value", mc.plan_value, required=True),
    ),
    build=lambda values: PlanRecord(values["employee_login"], values["month"], values["kind"], values["value"][0]),
    unique=("employee_login", "month", "kind"),
    checks=_plan_checks,
)


# The personal managers' visits (issue 16, item 1, service/visits/): one row per visit, key
# (employee_login, client_external_id, day, planned).
VISIT_RESULTS = _options(*RESULT_SPELLINGS.items())
FUTURE_UNKNOWN_RESULTS = frozenset({"done", "not_done"})  # «перенесён» may name the day it was moved from

def visits_schema(context: ImportContext) -> Schema:
    """The PMs' visits (docs/import.md «visits»); one that took place (or did not) after today is
    refused: a visit's result is known on its day (found trying it: a «состоялся» on 25.12 was counted on 07.12)."""
    today = context.clock().astimezone(context.tz).date()

    def checks(values: Values) -> list[Problem]:
        day, result = values["day"], values["result"]
        if day is not None and day > today and result in FUTURE_UNKNOWN_RESULTS:
            return [("day", f"в будущем (сегодня {today:%d.%m.%Y}): состоялся ли визит, известно в его день")]
        return []

    return Schema(
        kind="visits",
        columns=(
            Column("employee_login", c.code(64), required=True),  # the ПМ по ДС
            Column("client_external_id", EXTERNAL_ID, required=True),
            Column("day", c.parse_date, required=True),
            Column("planned", c.parse_bool, required=True),
            Column("contacts_met", c.bounded_text(2000)),
            Column("result", c.choice(VISIT_RESULTS), required=True),
            Column("topic", c.bounded_text(2000)),
            Column("comment", c.text),
        ),
        build=lambda values: VisitRecord(**values),
        checks=checks,
        unique=("employee_login", "client_external_id", "day", "planned"),
    )


def _login_checks(now: datetime) -> Callable[[Values], list[Problem]]:
    def check(values: Values) -> list[Problem]:
        start, end = values["started_at"], values["ended_at"]
        problems = [(name, f"в будущем (сейчас {now:%d.%m.%Y %H:%M})")
                    for name, moment in (("started_at", start), ("ended_at", end))
                    if moment is not None and moment > now + CLOCK_SKEW]
        if end is not None and end < start:
            problems.append(("ended_at", f"раньше started_at {start:%d.%m.%Y %H:%M:%S}"))
        elif end is not None and end - start > LONGEST_SESSION:
            problems.append(("ended_at", "сеанс длиннее суток: так не бывает, проверьте выгрузку"))
        return problems
    return check


def _login_span(values: Values) -> Span:
    start, end = values["started_at"], values["ended_at"]
    user = values["contact_external_id"] or ""
    # Rows without a user may be several people at once: only the same start twice is a repeat.
    return (values["client_external_id"], user), start, end or start, bool(user)


def logins_schema(context: ImportContext) -> Schema:
    """The usage report's rows: each login of a client's user (docs/import.md «logins»)."""
    moment = c.moment(context.tz)
    now = context.clock()
    return Schema(
        kind="logins",
        columns=(
            Column("contact_external_id", EXTERNAL_ID),
            Column("client_external_id", EXTERNAL_ID, required=True),
            Column("started_at", moment, required=True),
            Column("ended_at", moment),
        ),
        build=lambda values: LoginRecord(values["client_external_id"], values["contact_external_id"] or "",
                                         values["started_at"].astimezone(UTC),
                                         values["ended_at"] and values["ended_at"].astimezone(UTC)),
        checks=_login_checks(now.astimezone(context.tz)),
        span=_login_span,
    )


# Built for the import's own clock (no future where the row says what happened) or its config.
CONTEXT_SCHEMAS: dict[str, Callable[[ImportContext], Schema]] = {
    "logins": logins_schema, "events": events_schema, "visits": visits_schema,
    **{schema.__name__.removesuffix("_schema"): schema for schema in COMPARE_SCHEMAS}}
# In the order a department is imported (a row may refer only to what exists already).
SCHEMAS: dict[str, Schema] = {
    s.kind: s for s in (EXPERTS, CLIENTS, CONTACTS, HISTORY, SIGNALS, ABSENCES, logins_schema(ImportContext()),
                        SELECTION, events_schema(ImportContext()), PLANS, visits_schema(ImportContext()),
                        *(schema(ImportContext()) for schema in COMPARE_SCHEMAS))
}
KINDS = tuple(SCHEMAS)
assert all(kind == schema(ImportContext()).kind for kind, schema in CONTEXT_SCHEMAS.items())


def schema_for(kind: str, context: ImportContext | None = None) -> Schema:
    """The schema of `kind`, built for `context` where it depends on one; KeyError for an unknown kind."""
    if kind in CONTEXT_SCHEMAS:
        return CONTEXT_SCHEMAS[kind](context or ImportContext())
    return SCHEMAS[kind]
