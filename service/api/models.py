"""The API's request and response models (pydantic): the OpenAPI schema is generated from them."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

Login = str  # an employee's login as in the imports
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_date(value: object) -> object:
    """Only ГГГГ-ММ-ДД: pydantic alone would also take a Unix time («0.5») or a date with a time."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("ожидается дата ГГГГ-ММ-ДД")
    return value


def _iso_moment(value: object) -> object:
    if isinstance(value, str) and not _ISO_MOMENT.match(value):
        raise ValueError("ожидается дата и время ISO 8601 с поясом: 2026-12-01T09:00:00+03:00")
    return value


FIRST_YEAR, LAST_YEAR = 2000, 2099  # no department's data is outside; 0001-01-01 overflowed a day's bounds


def _in_years(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"год вне {FIRST_YEAR}–{LAST_YEAR}")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_in_years)]
IsoMoment = Annotated[AwareDatetime, BeforeValidator(_iso_moment), AfterValidator(_in_years)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- parameters ---------------------------------------------------------------------------
class PageParams(_Strict):
    cursor: str | None = Field(default=None, max_length=200, description="next_cursor из предыдущей страницы")
    limit: int = Field(default=100, ge=1, le=500, description="Строк на странице (до 500)")


class CallsParams(PageParams):
    day: IsoDate | None = Field(default=None, description="День звонка (ГГГГ-ММ-ДД, по времени организации)")
    expert: Login | None = Field(default=None, max_length=64, description="Логин Эксперта")
    client_id: str | None = Field(default=None, max_length=32, description="Внешний id организации")
    updated_since: IsoMoment | None = Field(
        default=None, description="Изменённые с этого момента (ISO 8601 с поясом): инкрементальная выгрузка; "
                                  "страницы по (updated_at, id), next_cursor есть всегда")


class LinkedidParams(_Strict):
    linkedid: str = Field(max_length=64, description="Linkedid звонка")


class ClientsParams(PageParams):
    expert: Login | None = Field(default=None, max_length=64, description="Логин Эксперта, ведущего клиента")


class ClientParams(_Strict):
    external_id: str = Field(max_length=32, description="Внешний id организации")


class ContactsParams(PageParams):
    client_id: str | None = Field(default=None, max_length=32, description="Внешний id организации")


class ExpertsParams(_Strict):
    include_inactive: bool = Field(default=False, description="И неактивные учётные записи")


class PlanParams(_Strict):
    day: IsoDate = Field(description="День плана (ГГГГ-ММ-ДД)")
    expert: Login | None = Field(default=None, max_length=64, description="Логин Эксперта; без него — все")


class FiguresParams(_Strict):
    day: IsoDate = Field(description="Любой день периода (ГГГГ-ММ-ДД)")
    period: Literal["day", "week", "month"] = Field(default="day", description="День, неделя (пн–вс) или месяц")
    expert: Login | None = Field(default=None, max_length=64, description="Логин Эксперта; без него — отдел")
    group: str | None = Field(default=None, max_length=64, description="Группа («Группа 1»); без неё — отдел")


# ---- bodies -------------------------------------------------------------------------------
class OriginateBody(_Strict):
    expert: Login = Field(max_length=64, description="Логин Эксперта: сначала звонит его телефон")
    contact_id: str | None = Field(default=None, max_length=32, description="Внешний id контакта, которому звонить")
    number: str | None = Field(default=None, max_length=32, description="Или номер телефона (любой формат)")
    client_id: str | None = Field(default=None, max_length=32, description="Организация номера (для журнала)")
    confirm_outside_hours: bool = Field(default=False,
                                        description="Звонить и вне рабочего времени клиента (иначе 409)")


# ---- responses ----------------------------------------------------------------------------
class CallOut(_Strict):
    linkedid: str
    direction: str = Field(description="outbound | inbound")
    expert: Login | None
    expert_ext: str | None
    client_id: str | None
    client_name: str | None
    client_number: str | None
    planned_call_id: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None = Field(description="null, пока звонок идёт")
    duration_s: float
    talk_s: float
    outcome: str | None = Field(description="answered, no_answer, busy, rejected, congestion, expert_no_answer, "
                                            "cancelled, failed; null, пока звонок идёт")
    hangup_cause: int | None
    guessed: bool = Field(description="Итог или длительность восстановлены по косвенным данным (после обрыва "
                                      "связи с АТС): в показатели не входит")
    quality: list[str]
    recording_url: str | None = Field(description="Запись разговора (GET с тем же токеном); null — записи нет")
    updated_at: datetime


class CallPage(_Strict):
    items: list[CallOut]
    next_cursor: str | None = Field(description="Следующая страница; null — дальше нет (в режиме updated_since "
                                                "не бывает null: с ним спрашивают в следующий раз)")
    has_more: bool


class Originated(_Strict):
    linkedid: str = Field(description="Linkedid звонка: АТС приняла вызов, телефон Эксперта звонит")


class WrapUpOut(_Strict):
    linkedid: str
    expert: Login
    client_id: str | None
    contact_id: str | None
    planned_call_id: str | None
    result: str
    topic: str | None
    logged_in: bool = Field(description="Клиент входил в систему во время звонка (отметка Эксперта)")
    productive: bool
    comment: str | None
    next_contact_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WrapUpPage(_Strict):
    items: list[WrapUpOut]
    next_cursor: str | None
    has_more: bool


class ContactOut(_Strict):
    external_id: str | None
    client_id: str
    full_name: str
    position: str | None
    phone: str | None
    phone_e164: str | None
    email: str | None
    is_user: bool
    call_from: str | None
    call_to: str | None


class ClientOut(_Strict):
    external_id: str
    name: str
    inn: str | None
    segment: str
    territory: str | None
    expert: Login | None
    timezone: str | None
    version: str
    ds_since: date | None
    terms_end: date | None
    online_last_login: date | None


class ClientDetail(ClientOut):
    contacts: list[ContactOut]


class ClientPage(_Strict):
    items: list[ClientOut]
    next_cursor: str | None
    has_more: bool


class ContactPage(_Strict):
    items: list[ContactOut]
    next_cursor: str | None
    has_more: bool


class ExpertOut(_Strict):
    login: Login
    last_name: str
    first_name: str
    patronymic: str | None
    full_name: str
    role: str
    extension: str | None
    group: str | None
    active: bool


class ExpertList(_Strict):
    items: list[ExpertOut]


class ReasonOut(_Strict):
    code: str
    text: str


class PlanItemOut(_Strict):
    planned_call_id: str
    day: date
    expert: Login
    client_id: str
    contact_id: str | None
    slot: datetime
    state: str
    reasons: list[ReasonOut]
    topic: str | None
    rolled_from: str | None


class PlanList(_Strict):
    items: list[PlanItemOut]


class FigureOut(_Strict):
    key: str
    label: str
    kind: str = Field(description="count | rate | seconds | share")
    total: float | None
    per_day: float | None
    status: str


class ExpertFiguresOut(_Strict):
    expert: Login
    figures: list[FigureOut]


class FiguresOut(_Strict):
    scope: str
    title: str
    first: date
    last: date
    figures: list[FigureOut]
    experts: list[ExpertFiguresOut]
    guessed_calls: int = Field(description="Звонки с восстановленным итогом: ни в одном показателе")
