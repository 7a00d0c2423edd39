"""The live channel: `GET /live`, Server-Sent Events of call state for the Expert's screen and the board.

An Expert gets their own extension's calls; supervisors and admins get everyone's (or one
Expert's with `?expert=EXT`). The stream opens with a `snapshot` of the calls up right now (and
the PBX link's state), then one `call` event per state change; `pbx` when the link goes down or
comes back, and `originate_failed` to whoever clicked when the PBX could not ring their phone.
See docs/live.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from dialer.originate_watch import OriginateFailure
from service.appkeys import PBX, SETTINGS
from service.live import LiveEvent, LiveHub, Payload, Subscription
from service.pbx_link import failure_payload, link_payload
from service.web.keys import USER_KEY, SignedInUser

log = logging.getLogger(__name__)

LIVE_HUB = web.AppKey("live_hub", LiveHub)
PING_INTERVAL_S = 15.0  # keeps proxies from closing an idle stream; also how soon a gone browser is noticed
# A subscription no call can reach (extensions are digits): an Expert without an extension
# keeps an open, silent stream that still ends at shutdown like the others.
NO_EXTENSION = ""
NO_EXTENSION_COMMENT = b": no extension is set for your account: no calls to show (ask an admin)\r\n\r\n"


def setup_live(app: web.Application) -> None:
    app.cleanup_ctx.append(live_ctx)  # after pbx_ctx (setup_web runs at the end of create_app)
    app.on_shutdown.append(end_streams)  # before aiohttp waits for open requests to finish
    app.router.add_get("/live", live_stream, name="live")


async def live_ctx(app: web.Application) -> AsyncIterator[None]:
    """The hub; hears the PBX's committed state changes when there is a PBX (`with_pbx=False`: none),
    its link going down and up, and the Originates that failed for someone."""
    pbx = app.get(PBX)
    hub = LiveHub() if pbx is None else LiveHub(open_records=pbx.open_calls, link=lambda: current_link(app))
    if pbx is not None:
        tz = app[SETTINGS].organisation.tz
        pbx.subscribe(hub.publish)
        pbx.subscribe_link(lambda state: hub.announce_everyone("pbx", link_payload(state, tz, datetime.now(UTC))))
        pbx.subscribe_failures(lambda failure: _tell_failure(hub, failure))
    app[LIVE_HUB] = hub
    yield
    await hub.close()


def current_link(app: web.Application) -> Payload | None:
    """The PBX link's state for a page or a snapshot (service/pbx_link.py); None without a PBX."""
    pbx = app.get(PBX)
    if pbx is None:
        return None
    return link_payload(pbx.link_state(), app[SETTINGS].organisation.tz, datetime.now(UTC))


def _tell_failure(hub: LiveHub, failure: OriginateFailure) -> None:
    if failure.requested_by is not None:  # a click on a screen: that user's streams hear why
        hub.tell(failure.requested_by, "originate_failed", failure_payload(failure))


async def end_streams(app: web.Application) -> None:
    if LIVE_HUB in app:
        await app[LIVE_HUB].close()


async def live_stream(request: web.Request) -> web.StreamResponse:
    user: SignedInUser | None = request.get(USER_KEY)
    if user is None:  # the auth middleware keeps strangers out; this is a second lock
        raise web.HTTPUnauthorized()
    hub = request.app[LIVE_HUB]
    scope = stream_scope(user, request.query.get("expert"))
    async with sse_response(request, ping_interval=PING_INTERVAL_S) as response:
        subscription = hub.subscribe(scope, present=not user.is_supervisor, user_id=user.id)
        try:
            if scope == NO_EXTENSION:
                await response.write(NO_EXTENSION_COMMENT)
            snapshot = hub.snapshot_event(scope)
            await response.send(snapshot.data, id=str(snapshot.id), event=snapshot.name)
            await _pump(response, subscription)
        except (ConnectionResetError, TimeoutError):
            pass  # the browser went away or stalled: nothing to tell it
        finally:
            hub.unsubscribe(subscription)
    return response


def stream_scope(user: SignedInUser, expert: str | None) -> str | None:
    """Whose calls this user's stream carries: an extension, or None for everyone's."""
    if user.is_supervisor:
        return expert.strip() if expert and expert.strip() else None
    return user.extension or NO_EXTENSION  # an Expert sees only their own calls, whatever they ask


async def _pump(response: EventSourceResponse, subscription: Subscription) -> None:
    """Events until the subscription closes (shutdown) or the browser goes (the pings notice)."""
    gone = asyncio.ensure_future(response.wait())
    try:
        while True:
            event = subscription.get_nowait()
            if event is None:
                if subscription.closed:
                    return
                event = await _next(subscription, gone)
                if event is None:
                    return
            await response.send(event.data, id=str(event.id), event=event.name)
    finally:
        gone.cancel()


async def _next(subscription: Subscription, gone: asyncio.Future[Any]) -> LiveEvent | None:
    waiting = asyncio.ensure_future(subscription.get())
    done, _ = await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
    if waiting not in done:
        waiting.cancel()
        return None
    return waiting.result()
