"""The КТУ pages (docs/ktu.md «Pages»): the month's sheets, one person's sheet with the head's forms, the payroll XLSX.

The head (supervisor, admin) sees and changes everyone's; an Expert or a PM opens only her own sheet,
read-only (403 for another's); a СИО never gets here (service/web/role_scope.py). Every refusal is
the rules' Russian message, shown beside its form with status 422, and nothing is changed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.db.ktu import ROLES, KtuRepository, Person
from service.ktu import rules as k
from service.ktu import sheets
from service.ktu.export import ktu_xlsx
from service.month.kinds import first_of_month, month_after, month_label
from service.web.auth import requires
from service.web.desk_context import forbidden, settings_of, signed_in, utc_now
from service.web.keys import SignedInUser

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BAD_MONTH = "Неверный месяц в адресе страницы: нужен ГГГГ-ММ, например 2026-03"
DONE = {"entry": "Значение записано.", "approved": "Ведомость утверждена.", "version": "Создана новая версия.",
        "closed": "Месяц закрыт."}
HEADS = ("supervisor", "admin")


def setup_ktu(app: web.Application) -> None:
    app.router.add_get("/ktu", ktu_list, name="ktu")
    app.router.add_get("/ktu.xlsx", ktu_export, name="ktu_xlsx")
    app.router.add_post("/ktu/close", ktu_close, name="ktu_close")
    app.router.add_get("/ktu/{login}", ktu_sheet, name="ktu_sheet")
    app.router.add_post("/ktu/{login}/entry", ktu_enter, name="ktu_enter")
    app.router.add_post("/ktu/{login}/approve", ktu_approve, name="ktu_approve")
    app.router.add_post("/ktu/{login}/version", ktu_new_version, name="ktu_new_version")


@requires("expert", "pm", "supervisor", "admin")
async def ktu_list(request: web.Request) -> web.StreamResponse:
    user = signed_in(request)
    month = _month(request)
    if user.role not in HEADS:  # her own sheet is all she may see
        raise web.HTTPSeeOther(f"/ktu/{quote(user.login)}?month={month:%Y-%m}")
    return await _render_list(request, month)


async def _render_list(request: web.Request, month: date, error: str | None = None,
                       status: int = 200) -> web.Response:
    repo = KtuRepository(request.app[DB_SESSIONS])
    listed = await sheets.month_sheets(repo, settings_of(request), month, await repo.people())
    context = {**_month_context(month), "sheets": listed, "closed": await repo.is_closed(month), "error": error,
               "done": DONE.get(request.query.get("done", "")), "points_text": k.points_text, "rub_text": k.rub_text}
    return aiohttp_jinja2.render_template("ktu/list.html", request, context, status=status)


@requires("supervisor", "admin")
async def ktu_export(request: web.Request) -> web.StreamResponse:
    month = _month(request)
    settings = settings_of(request)
    repo = KtuRepository(request.app[DB_SESSIONS])
    listed = await sheets.month_sheets(repo, settings, month, await repo.people())
    body = ktu_xlsx(listed, month, settings.organisation.tz)
    russian = f"КТУ {month_label(month)}.xlsx"
    disposition = f"attachment; filename=\"ktu-{month:%Y-%m}.xlsx\"; filename*=UTF-8''{quote(russian)}"
    return web.Response(body=body, content_type=XLSX_TYPE, headers={"Content-Disposition": disposition})


@requires("supervisor", "admin")
async def ktu_close(request: web.Request) -> web.StreamResponse:
    month = await _form_month(request)
    try:
        now = utc_now()
        await sheets.close_month(KtuRepository(request.app[DB_SESSIONS]), month, signed_in(request).id, now,
                                 now.astimezone(settings_of(request).organisation.tz).date())
    except k.KtuError as e:
        return await _render_list(request, month, str(e), 422)
    raise web.HTTPSeeOther(f"/ktu?month={month:%Y-%m}&done=closed")


@requires("expert", "pm", "supervisor", "admin")
async def ktu_sheet(request: web.Request) -> web.StreamResponse:
    user = signed_in(request)
    person = await _person(request, user)
    return await _render_sheet(request, user, person, _month(request), {})


async def _render_sheet(request: web.Request, user: SignedInUser, person: Person, month: date,
                        errors: dict[str, str], status: int = 200, form: dict[str, str] | None = None
                        ) -> web.Response:
    settings = settings_of(request)
    repo = KtuRepository(request.app[DB_SESSIONS])
    sheet = await sheets.person_sheet(repo, settings, month, person)
    head = user.role in HEADS
    closed = await repo.is_closed(month)
    entered = [c for c in settings.ktu.rules().components(sheet.role) if c.source is k.Source.ENTERED]
    context: dict[str, Any] = {
        **_month_context(month), "person": person, "sheet": sheet, "head": head, "closed": closed,
        "editable": head and not closed and not sheet.approved, "entered": {c.key: c for c in entered},
        "current": _chosen(entered, _values(sheet)),
        "history": await repo.entry_history(month, [person.id]), "errors": errors, "form": form or {},
        "done": DONE.get(request.query.get("done", "")), "points_text": k.points_text, "rub_text": k.rub_text,
        "number_text": k.number_text, "tz": settings.organisation.tz, "labels": k.LABELS,
    }
    return aiohttp_jinja2.render_template("ktu/sheet.html", request, context, status=status)


def _chosen(entered: list[k.Component], values: dict[str, k.ComponentValue]) -> dict[str, str]:
    """Each entered component's current value as its option in the form («-0.2», not the stored «-0.200»)."""
    out = {}
    for c in entered:
        current = values[c.key].value if c.key in values else Decimal(0)
        out[c.key] = next((str(a) for a in c.allowed if a == current), "0")
    return out


def _values(sheet: sheets.PersonSheet) -> dict[str, k.ComponentValue]:
    return {v.key: v for v in sheet.sheet.values} if sheet.sheet is not None else {}


@requires("supervisor", "admin")
async def ktu_enter(request: web.Request) -> web.StreamResponse:
    user, person, month, form = await _posted(request)
    key = form.get("component", "")
    try:
        await sheets.enter(KtuRepository(request.app[DB_SESSIONS]), settings_of(request), person, month, key,
                           form.get("value", ""), form.get("reason", ""), user.id, user.full_name, utc_now())
    except k.KtuError as e:
        # Beside its form when the component has one; otherwise (a computed or unknown component, sent by
        # hand) at the top: found trying it, such a refusal was a 422 with no message on the page.
        component = settings_of(request).ktu.rules().component(k.Role(person.role), key)
        field = key if component is not None and component.source is k.Source.ENTERED else "entry"
        return await _render_sheet(request, user, person, month, {field: str(e)}, 422, form)
    raise web.HTTPSeeOther(_sheet_url(person, month, "entry"))


@requires("supervisor", "admin")
async def ktu_approve(request: web.Request) -> web.StreamResponse:
    user, person, month, form = await _posted(request)
    try:
        await sheets.approve(KtuRepository(request.app[DB_SESSIONS]), settings_of(request), person, month,
                             user.full_name, utc_now())
    except k.KtuError as e:
        return await _render_sheet(request, user, person, month, {"approve": str(e)}, 422, form)
    raise web.HTTPSeeOther(_sheet_url(person, month, "approved"))


@requires("supervisor", "admin")
async def ktu_new_version(request: web.Request) -> web.StreamResponse:
    user, person, month, form = await _posted(request)
    try:
        await sheets.new_version(KtuRepository(request.app[DB_SESSIONS]), settings_of(request), person, month,
                                 form.get("reason", ""), user.full_name, utc_now())
    except k.KtuError as e:
        return await _render_sheet(request, user, person, month, {"version": str(e)}, 422, form)
    raise web.HTTPSeeOther(_sheet_url(person, month, "version"))


async def _posted(request: web.Request) -> tuple[SignedInUser, Person, date, dict[str, str]]:
    user = signed_in(request)
    person = await _person(request, user)
    return user, person, await _form_month(request), {key: str(v) for key, v in (await request.post()).items()}


async def _person(request: web.Request, user: SignedInUser) -> Person:
    """The sheet's person: herself for an Expert or a PM (403 for another's), anyone with a sheet for the head."""
    login = request.match_info["login"]
    if user.role not in HEADS and login != user.login:
        raise forbidden("Можно смотреть только свою ведомость КТУ")
    person = await KtuRepository(request.app[DB_SESSIONS]).person(login)
    if person is None or person.role not in ROLES:
        raise web.HTTPNotFound(text=f"Нет Эксперта или ПМ по ДС с логином «{login[:64]}»")
    return person


def _sheet_url(person: Person, month: date, done: str) -> str:
    return f"/ktu/{quote(person.login)}?month={month:%Y-%m}&done={done}"


def _month_context(month: date) -> dict[str, Any]:
    before = first_of_month(date.fromordinal(month.toordinal() - 1))
    return {"month": month, "month_label": month_label(month), "months": (before, month_after(month))}


async def _form_month(request: web.Request) -> date:
    """The month a change is for: not one that has not begun (found trying it: an entry for 2031-05 was taken)."""
    posted = (await request.post()).get("month")
    month = _read_month(str(posted) if posted is not None else request.query.get("month", ""), request)
    this_month = first_of_month(utc_now().astimezone(settings_of(request).organisation.tz).date())
    if month > this_month:
        raise web.HTTPUnprocessableEntity(text=f"Месяц {month_label(month)} ещё не начался: его ведомость "
                                               "не заполняют и не утверждают заранее")
    return month


def _month(request: web.Request) -> date:
    return _read_month(request.query.get("month", ""), request)


def _read_month(raw: str, request: web.Request) -> date:
    raw = raw.strip()
    if not raw:
        return first_of_month(utc_now().astimezone(settings_of(request).organisation.tz).date())
    year, _, number = raw.partition("-")
    if not (len(year) == 4 and year.isdigit() and number.isdigit() and len(number) <= 2
            and 2000 <= int(year) <= 2100 and 1 <= int(number) <= 12):
        raise web.HTTPBadRequest(text=BAD_MONTH)
    return date(int(year), int(number), 1)
