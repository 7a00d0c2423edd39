"""The admins' webhook pages (docs/webhooks.md): subscriptions, their secrets, the delivery log, «Повторить».

Admins only. A URL is checked (service/webhooks/resolve.py) before it is saved: a refused one is shown
beside the form with status 422 and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.web.auth import requires
from service.web.desk_context import settings_of, signed_in, utc_now
from service.webhooks.errors import UnknownSubscription, UnsafeUrlError
from service.webhooks.events import EVENT_LABELS, EVENTS
from service.webhooks.outbox import DELIVERED, FAILED, PENDING
from service.webhooks.resolve import check_url, url_policy
from service.webhooks.subscriptions import LOG_ROWS, SubscriptionRow, SubscriptionsRepository
from service.webhooks.urls import MAX_URL

T = TypeVar("T")
HOOK = r"/admin/webhooks/{hook:[0-9]{1,18}}"
NOTICES = {
    "created": "Подписка добавлена. Её секрет для проверки подписи — в строке подписки («Секрет»).",
    "off": "Подписка отключена: новые события ей не записываются, ожидающие не отправляются.",
    "on": "Подписка снова включена.",
    "deleted": "Подписка удалена вместе с журналом доставок.",
    "retried": "Неудавшиеся доставки будут отправлены снова в ближайшие секунды.",
    "nothing": "Повторять нечего: неудавшихся доставок нет.",
}
STATUS_LABELS = {PENDING: "ожидает отправки", DELIVERED: "доставлено", FAILED: "не доставлено"}
NO_EVENTS = "Отметьте хотя бы одно событие."
NOT_CONFIRMED = "Подписка не удалена: отметьте «Да, удалить» рядом с кнопкой."


def setup_webhooks_admin(app: web.Application) -> None:
    app.router.add_get("/admin/webhooks", webhooks_page, name="admin_webhooks")
    app.router.add_post("/admin/webhooks", create_webhook)
    app.router.add_post(HOOK + "/active", change_active)
    app.router.add_post(HOOK + "/delete", delete_webhook)
    app.router.add_get(HOOK + "/deliveries", deliveries_page, name="admin_webhook_deliveries")
    app.router.add_post(HOOK + "/retry", retry_deliveries)


def read_events(form: Any) -> list[str]:
    """The ticked events, known ones only, in the list's order."""
    ticked = {value for value in form.getall("events", []) if isinstance(value, str)}
    return [kind for kind in EVENTS if kind in ticked]


@requires("admin")
async def webhooks_page(request: web.Request) -> web.StreamResponse:
    return await _list_page(request, notice=NOTICES.get(request.query.get("done", "")))


@requires("admin")
async def create_webhook(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    url = form.get("url")
    url = url.strip() if isinstance(url, str) else ""
    events = read_events(form)
    errors: dict[str, str] = {}
    if not events:
        errors["events"] = NO_EVENTS
    try:
        await check_url(url, await url_policy(settings_of(request)))
    except UnsafeUrlError as e:
        errors["url"] = e.message
    if errors:
        return await _list_page(request, form={"url": url[:MAX_URL], "events": events}, errors=errors, status=422)
    hook_id = await _repo(request).create(url, events, signed_in(request).id, utc_now())
    raise web.HTTPSeeOther(f"/admin/webhooks?done=created#hook-{hook_id}")


@requires("admin")
async def change_active(request: web.Request) -> web.StreamResponse:
    hook = await _hook(request)
    active = (await request.post()).get("active") == "1"
    await _guard(_repo(request).set_active(hook.id, active))
    raise web.HTTPSeeOther(f"/admin/webhooks?done={'on' if active else 'off'}#hook-{hook.id}")


@requires("admin")
async def delete_webhook(request: web.Request) -> web.StreamResponse:
    hook = await _hook(request)
    if (await request.post()).get("confirm") != "yes":
        return await _list_page(request, errors={f"delete-{hook.id}": NOT_CONFIRMED}, status=422)
    await _guard(_repo(request).delete(hook.id))
    raise web.HTTPSeeOther("/admin/webhooks?done=deleted")


@requires("admin")
async def deliveries_page(request: web.Request) -> web.StreamResponse:
    hook = await _hook(request)
    return await _log_page(request, hook, notice=NOTICES.get(request.query.get("done", "")))


@requires("admin")
async def retry_deliveries(request: web.Request) -> web.StreamResponse:
    """«Повторить»: one failed delivery (`delivery`), or every failed one (`delivery=all`)."""
    hook = await _hook(request)
    chosen = (await request.post()).get("delivery")
    if chosen != "all" and not (isinstance(chosen, str) and chosen.isascii() and chosen.isdigit()
                                and len(chosen) <= 18):
        return await _log_page(request, hook, error="Не выбрана доставка для повтора.", status=422)
    ids = None if chosen == "all" else [int(chosen)]
    retried = await _repo(request).retry(hook.id, ids, utc_now())
    raise web.HTTPSeeOther(f"/admin/webhooks/{hook.id}/deliveries?done={'retried' if retried else 'nothing'}")


def _repo(request: web.Request) -> SubscriptionsRepository:
    return SubscriptionsRepository(request.app[DB_SESSIONS])


async def _hook(request: web.Request) -> SubscriptionRow:
    return await _guard(_repo(request).get(int(request.match_info["hook"])))


async def _guard(pending: Awaitable[T]) -> T:
    try:
        return await pending
    except UnknownSubscription as e:
        raise web.HTTPNotFound(text=e.message) from e


def _labels() -> dict[str, Any]:
    return {"event_labels": EVENT_LABELS, "events": EVENTS, "status_labels": STATUS_LABELS}


async def _list_page(request: web.Request, *, form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                     notice: str | None = None, status: int = 200) -> web.Response:
    hooks = await _repo(request).all()
    context = {"hooks": hooks, "form": form or {"url": "", "events": list(EVENTS)}, "errors": errors or {},
               "notice": notice, "max_url": MAX_URL, "zone": settings_of(request).organisation.timezone,
               **_labels()}
    return aiohttp_jinja2.render_template("admin/webhooks.html", request, context, status=status)


async def _log_page(request: web.Request, hook: SubscriptionRow, *, notice: str | None = None,
                    error: str | None = None, status: int = 200) -> web.Response:
    rows = await _repo(request).deliveries(hook.id)
    context = {"hook": hook, "rows": rows, "notice": notice, "error": error, "log_rows": LOG_ROWS,
               "zone": settings_of(request).organisation.timezone, **_labels()}
    return aiohttp_jinja2.render_template("admin/webhook_deliveries.html", request, context, status=status)
