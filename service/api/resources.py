"""The API's read resources and the CRM's click-to-call (POST /api/v1/calls)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import RowMapping

from dialer.errors import AmiActionTimeout, DialerError
from dialer.numbers import normalise_number
from scheduler.calling_hours import call_window, check_call_time
from service.api import cursor
from service.api.endpoints import ApiCall, Endpoint, Outcome
from service.api.models import (
    CallOut,
    CallPage,
    CallsParams,
    ClientDetail,
    ClientOut,
    ClientPage,
    ClientParams,
    ClientsParams,
    ContactOut,
    ContactPage,
    ContactsParams,
    ExpertFiguresOut,
    ExpertList,
    ExpertOut,
    ExpertsParams,
    FigureOut,
    FiguresOut,
    FiguresParams,
    LinkedidParams,
    OriginateBody,
    Originated,
    PlanItemOut,
    PlanList,
    PlanParams,
    ReasonOut,
    WrapUpOut,
    WrapUpPage,
)
from service.api.problems import ApiProblem
from service.appkeys import PBX
from service.db.api_reads import ApiReads, CallFilter, Position
from service.db.board import BoardRepository
from service.db.call_targets import CallTarget, CallTargetsRepository
from service.db.figures import FiguresRepository
from service.db.models import Client, ClientContact
from service.db.plan import PlanRepository
from service.figures.compute import FigureTargets
from service.figures.errors import UnknownScope
from service.figures.model import Period, PeriodKind, Scope, ScopeKind
from texts.pbx import request_failed_text
from texts.phones import phone_ru

T = TypeVar("T")


def one_page(rows: Sequence[T], limit: int) -> tuple[Sequence[T], bool]:
    """A page of `limit` from `limit + 1` rows read, and whether there is more."""
    return rows[:limit], len(rows) > limit


# ---- calls --------------------------------------------------------------------------------
async def list_calls(call: ApiCall, params: CallsParams, body: None) -> CallPage:
    sync = params.updated_since is not None
    kind = "calls-u" if sync else "calls-s"
    after = cursor.decode(kind, params.cursor) if params.cursor else None
    settle = call.now - timedelta(seconds=call.settings.api.sync_settle_s)
    where = CallFilter(params.day, params.expert, params.client_id, params.updated_since,
                       settle if sync else None)
    rows, more = one_page(await ApiReads(call.sessions).calls(where, call.settings.organisation.tz, after,
                                                             params.limit + 1), params.limit)
    page = CallPage.model_validate({"items": [_call_item(row) for row in rows], "next_cursor": None,
                                    "has_more": more})
    if rows and (sync or more):
        last = rows[-1]
        page.next_cursor = cursor.encode(kind, Position(last["updated_at"] if sync else last["started_at"],
                                                        last["id"]))
    elif params.updated_since is not None:  # nothing new: where to ask from next time (before every row since)
        page.next_cursor = params.cursor or cursor.encode(kind, Position(params.updated_since, 0))
    return page


async def get_call(call: ApiCall, params: LinkedidParams, body: None) -> CallOut:
    found = await ApiReads(call.sessions).call(params.linkedid)
    if found is None:
        raise ApiProblem(404, f"нет звонка {params.linkedid}", kind="not-found")
    return CallOut.model_validate(_call_item(found))


async def get_recording(call: ApiCall, params: LinkedidParams, body: None) -> web.StreamResponse:
    found = await ApiReads(call.sessions).call(params.linkedid)
    if found is None:
        raise ApiProblem(404, f"нет звонка {params.linkedid}", kind="not-found")
    if not found["has_recording"]:
        raise ApiProblem(404, "у звонка нет записи (или она удалена по сроку хранения)", kind="not-found")
    path = call.settings.recordings.existing_file(found["recording"])
    if path is None:
        raise ApiProblem(404, "файла записи нет в каталоге записей", kind="not-found")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav",
                                           "Content-Disposition": f'attachment; filename="{params.linkedid}.wav"'})


def _call_item(row: RowMapping) -> dict[str, Any]:
    """A call row as CallOut's fields (validated once per page, not per row)."""
    item = {name: row[name] for name in _CALL_FIELDS}
    item["quality"] = list(row["quality"] or ())
    item["recording_url"] = f"/api/v1/calls/{row['linkedid']}/recording" if row["has_recording"] else None
    return item


_CALL_FIELDS = tuple(name for name in CallOut.model_fields if name not in ("quality", "recording_url"))


async def originate_call(call: ApiCall, params: None, body: OriginateBody) -> Outcome:
    """Ring the Expert's phone, then the contact's or the number's; 201 once the PBX accepted it."""
    pbx = call.request.app.get(PBX)
    expert_id, extension = await _caller(call, body.expert)
    target = await _target(call, body)
    if pbx is None:
        raise ApiProblem(503, "АТС не подключена к DS Desk", kind="pbx-unavailable")
    if not pbx.link_state().connected:
        raise ApiProblem(503, f"нет связи с АТС ({pbx.link_state().status}): звонок не сделан",
                         kind="pbx-unavailable", headers={"Retry-After": "30"})
    _check_hours(call, target, body.confirm_outside_hours)
    await _check_wrapups(call, expert_id)
    if pbx.extension_busy(extension):
        raise ApiProblem(409, f"у Эксперта {body.expert} уже идёт звонок", kind="expert-busy")
    try:
        linkedid = await pbx.originate(extension, target.phone or "", planned_call_id=target.planned_call_id,
                                       client_id=target.client_id or None, requested_by=expert_id)
    except ValueError:
        raise ApiProblem(422, f"номер {target.phone} нельзя набрать", kind="validation") from None
    except (TimeoutError, DialerError, OSError) as e:
        timed_out = isinstance(e, (TimeoutError, AmiActionTimeout))
        raise ApiProblem(503, request_failed_text("call", str(pbx.link_state().status), timed_out),
                         kind="pbx-refused") from None
    return Outcome(Originated(linkedid=linkedid), status=201,
                   audit=f"звонок {linkedid}: Эксперт {body.expert} → {phone_ru(target.phone or '')}")


async def _caller(call: ApiCall, login: str) -> tuple[int, str]:
    """The Expert's id and extension."""
    found = await ApiReads(call.sessions).active_caller(login)
    if found is None:
        raise ApiProblem(422, f"expert: нет активного сотрудника с логином {login}", kind="validation")
    if not found[1]:
        raise ApiProblem(422, f"expert: у {login} не указан добавочный номер — звонить не с чего", kind="validation")
    return found[0], found[1]


async def _target(call: ApiCall, body: OriginateBody) -> CallTarget:
    if (body.contact_id is None) == (body.number is None):
        raise ApiProblem(422, "укажите ровно одно из полей contact_id или number", kind="validation")
    if body.contact_id is not None:
        target = await CallTargetsRepository(call.sessions).contact(body.contact_id)
        if target is None:
            raise ApiProblem(422, f"contact_id: нет контакта {body.contact_id}", kind="validation")
        if not target.phone:
            raise ApiProblem(422, f"contact_id: у контакта {body.contact_id} нет телефона", kind="validation")
        return target
    number = normalise_number(body.number or "")
    if not number:
        raise ApiProblem(422, f"number: «{body.number}» — не номер телефона", kind="validation")
    return CallTarget(owner_id=None, client_id=body.client_id or "", phone=number, planned_call_id=None)


def _check_hours(call: ApiCall, target: CallTarget, confirmed: bool) -> None:
    settings = call.settings
    zone = target.client_timezone or settings.organisation.timezone
    window = call_window(target.call_from, target.call_to, settings.plan.client_hours)
    verdict = check_call_time(call.now, zone, window, settings.plan.calendar())
    if verdict.allowed or (confirmed and not settings.desk.block_outside_hours):
        return
    if settings.desk.block_outside_hours:
        raise ApiProblem(409, f"звонок не сделан: {verdict.reason}; звонить вне рабочего времени клиента "
                              "в отделе запрещено", kind="outside-hours")
    raise ApiProblem(409, f"звонок не сделан: у клиента {verdict.local_text}, {verdict.reason}; чтобы позвонить "
                          "всё равно, повторите с confirm_outside_hours: true", kind="outside-hours")


async def _check_wrapups(call: ApiCall, expert_id: int) -> None:
    settings = call.settings
    if not settings.desk.forced_wrapup:
        return
    tz = settings.organisation.tz
    owed = await BoardRepository(call.sessions).owed_wrapup(expert_id, call.now.astimezone(tz).date(), tz)
    if owed is not None:
        raise ApiProblem(409, f"у Эксперта не сохранён итог звонка {owed.linkedid} "
                              f"({owed.started_at.astimezone(tz):%H:%M}): сначала итог", kind="wrapup-owed")


# ---- wrap-ups -----------------------------------------------------------------------------
async def list_wrapups(call: ApiCall, params: CallsParams, body: None) -> WrapUpPage:
    after = cursor.decode("wrapups", params.cursor) if params.cursor else None
    settle = call.now - timedelta(seconds=call.settings.api.sync_settle_s)
    where = CallFilter(params.day, params.expert, params.client_id, params.updated_since, settle)
    rows, more = one_page(await ApiReads(call.sessions).wrapups(where, call.settings.organisation.tz, after,
                                                               params.limit + 1), params.limit)
    items = [WrapUpOut(linkedid=linkedid, expert=login, client_id=client, contact_id=contact, planned_call_id=item,
                       result=w.result, topic=w.topic, logged_in=w.logged_in, productive=w.productive,
                       comment=w.comment, next_contact_at=w.next_contact_at, created_at=w.created_at,
                       updated_at=w.updated_at)
             for w, linkedid, login, client, contact, item in rows]
    last = rows[-1][0] if rows else None
    next_cursor = cursor.encode("wrapups", Position(last.updated_at, last.id)) if last is not None else params.cursor
    return WrapUpPage(items=items, next_cursor=next_cursor, has_more=more)


# ---- clients, contacts, experts -----------------------------------------------------------
async def list_clients(call: ApiCall, params: ClientsParams, body: None) -> ClientPage:
    after = cursor.decode("clients", params.cursor).id if params.cursor else 0
    rows, more = one_page(await ApiReads(call.sessions).clients(params.expert, after, params.limit + 1), params.limit)
    next_cursor = cursor.encode("clients", Position(rows[-1][0].id, rows[-1][0].id)) if more else None
    return ClientPage(items=[_client_out(c, login) for c, login in rows], next_cursor=next_cursor, has_more=more)


async def get_client(call: ApiCall, params: ClientParams, body: None) -> ClientDetail:
    found = await ApiReads(call.sessions).client(params.external_id)
    if found is None:
        raise ApiProblem(404, f"нет организации {params.external_id}", kind="not-found")
    client, login, contacts = found
    return ClientDetail(**_client_out(client, login).model_dump(),
                        contacts=[_contact_out(c, client.external_id) for c in contacts])


async def list_contacts(call: ApiCall, params: ContactsParams, body: None) -> ContactPage:
    after = cursor.decode("contacts", params.cursor).id if params.cursor else 0
    rows, more = one_page(await ApiReads(call.sessions).contacts(params.client_id, after, params.limit + 1),
                          params.limit)
    next_cursor = cursor.encode("contacts", Position(rows[-1][0].id, rows[-1][0].id)) if more else None
    return ContactPage(items=[_contact_out(c, ext) for c, ext in rows], next_cursor=next_cursor, has_more=more)


def _client_out(c: Client, login: str | None) -> ClientOut:
    return ClientOut(external_id=c.external_id, name=c.name, inn=c.inn, segment=c.segment, territory=c.territory,
                     expert=login, timezone=c.timezone, version=c.version, ds_since=c.ds_since,
                     terms_end=c.terms_end, online_last_login=c.online_last_login)


def _contact_out(c: ClientContact, client_external_id: str) -> ContactOut:
    return ContactOut(external_id=c.external_id, client_id=client_external_id, full_name=c.full_name,
                      position=c.position, phone=c.phone, phone_e164=c.phone_e164, email=c.email, is_user=c.is_user,
                      call_from=c.call_from.strftime("%H:%M") if c.call_from else None,
                      call_to=c.call_to.strftime("%H:%M") if c.call_to else None)


async def list_experts(call: ApiCall, params: ExpertsParams, body: None) -> ExpertList:
    experts = await ApiReads(call.sessions).experts(params.include_inactive)
    return ExpertList(items=[ExpertOut(login=e.login, last_name=e.last_name, first_name=e.first_name,
                                       patronymic=e.patronymic, full_name=e.full_name, role=e.role,
                                       extension=e.extension, group=e.group_name, active=e.active)
                             for e in experts])


# ---- plan and figures ---------------------------------------------------------------------
async def list_plan(call: ApiCall, params: PlanParams, body: None) -> PlanList:
    if params.expert is not None and not await ApiReads(call.sessions).expert_exists(params.expert):
        raise ApiProblem(404, f"нет сотрудника {params.expert}", kind="not-found")
    items = await PlanRepository(call.sessions).list_plan(params.day, params.expert)
    return PlanList(items=[PlanItemOut(planned_call_id=i.public_id, day=i.plan_date, expert=i.expert_login,
                                       client_id=i.client_external_id, contact_id=i.contact_external_id, slot=i.slot,
                                       state=str(i.state), reasons=[ReasonOut(code=str(r.code), text=r.text)
                                                                    for r in i.reasons],
                                       topic=i.topic, rolled_from=i.rolled_from) for i in items])


async def get_figures(call: ApiCall, params: FiguresParams, body: None) -> FiguresOut:
    if params.expert is not None and params.group is not None:
        raise ApiProblem(422, "укажите expert или group, не оба", kind="validation")
    reads = ApiReads(call.sessions)
    if params.expert is not None and not await reads.expert_exists(params.expert):
        raise ApiProblem(404, f"нет сотрудника {params.expert}", kind="not-found")
    scope = (Scope(ScopeKind.EXPERT, params.expert) if params.expert is not None
             else Scope(ScopeKind.GROUP, params.group) if params.group is not None
             else Scope(ScopeKind.DEPARTMENT))
    settings = call.settings
    period = Period.around(PeriodKind(params.period), params.day)
    try:
        report = await FiguresRepository(call.sessions).report(scope, period, settings.organisation.tz, call.now,
                                                               FigureTargets.of(settings.targets))
    except UnknownScope as e:
        raise ApiProblem(404, str(e), kind="not-found") from None
    return FiguresOut(scope=scope.param, title=report.title, first=period.first, last=period.last,
                      figures=[_figure(r) for r in report.rows],
                      experts=[ExpertFiguresOut(expert=e.expert.login, figures=[_figure(r) for r in e.rows.values()])
                               for e in report.breakdown],
                      guessed_calls=report.guessed)


def _figure(row: Any) -> FigureOut:
    return FigureOut(key=row.key, label=row.label, kind=row.kind, total=row.total, per_day=row.per_day,
                     status=str(row.status))


def resource_endpoints() -> list[Endpoint]:
    return [
        Endpoint("GET", "/calls", list_calls, "read", "Звонки (журнал АТС)", "Звонки", CallPage, params=CallsParams,
                 description="Фильтры: день, Эксперт, организация. С updated_since — инкрементальная выгрузка "
                             "(изменённые звонки по порядку изменения; строки моложе api.sync_settle_s секунд "
                             "приходят в следующий раз)."),
        Endpoint("POST", "/calls", originate_call, "calls", "Позвонить: телефон Эксперта, затем клиента",
                 "Звонки", Originated, body=OriginateBody, status=201, writes=True,
                 description="Ответ — когда АТС приняла вызов; дальше звонок виден в GET /calls/{linkedid} и в "
                             "вебхуках. 409 — вне рабочего времени клиента, Эксперт уже говорит или не сохранил "
                             "итог прошлого звонка; 503 — нет связи с АТС."),
        Endpoint("GET", "/calls/{linkedid}", get_call, "read", "Звонок", "Звонки", CallOut, params=LinkedidParams),
        Endpoint("GET", "/calls/{linkedid}/recording", get_recording, "read", "Запись разговора (WAV)", "Звонки",
                 None, params=LinkedidParams, response_type="audio/wav"),
        Endpoint("GET", "/wrapups", list_wrapups, "read", "Итоги звонков", "Звонки", WrapUpPage, params=CallsParams,
                 description="По порядку изменения (updated_at, id); next_cursor есть всегда: с ним спрашивают "
                             "в следующий раз."),
        Endpoint("GET", "/clients", list_clients, "read", "Организации", "Клиенты", ClientPage, params=ClientsParams),
        Endpoint("GET", "/clients/{external_id}", get_client, "read", "Организация с контактами", "Клиенты",
                 ClientDetail, params=ClientParams),
        Endpoint("GET", "/contacts", list_contacts, "read", "Контакты", "Клиенты", ContactPage,
                 params=ContactsParams),
        Endpoint("GET", "/experts", list_experts, "read", "Сотрудники", "Отдел", ExpertList, params=ExpertsParams),
        Endpoint("GET", "/plan", list_plan, "read", "План звонков на день", "Отдел", PlanList, params=PlanParams),
        Endpoint("GET", "/figures", get_figures, "read", "Контрольные показатели", "Отдел", FiguresOut,
                 params=FiguresParams,
                 description="Те же цифры, что на странице «Показатели»: план/факт, результативные, длительность, "
                             "доля входов."),
    ]
