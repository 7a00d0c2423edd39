"""The live channel: `GET /live`, Server-Sent Events of call state for the Expert's screen and the board.

An Expert gets their own extension's calls; supervisors and admins get everyone's (or one
Expert's with `?expert=EXT`). The stream opens with a `snapshot` of the calls up right now,
then one `call` event per state change. See docs/live.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from dialer.pbx import Pbx
from dialer.records import CallRecord
from dialer.tracker import CallTracker
from service.appkeys import DB_SESSIONS, LEDGER, PBX
from service.db.live_lookup import CachedClientLookup
from service.live import LiveEvent, LiveHub, Subscription
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
    """The hub; listens to the PBX's recorder when there is one (`with_pbx=False`: nothing publishes)."""
    pbx = app.get(PBX)
    lookup = CachedClientLookup.from_ledger(app[LEDGER], app[DB_SESSIONS])
    if pbx is None:
        hub = LiveHub(lookup=lookup)
    else:
        tracker = pbx.recorder.tracker
        hub = LiveHub(open_records=tracker.open_records, current_record=_current_record(tracker), lookup=lookup,
                      peek=lookup.peek, on_client_found=tracker.link_client)
        lookup.start()
        _listen(pbx, hub)
    app[LIVE_HUB] = hub
    yield
    await hub.close()
    await lookup.stop()


async def end_streams(app: web.Application) -> None:
    if LIVE_HUB in app:
        await app[LIVE_HUB].close()


def _current_record(tracker: CallTracker) -> Callable[[str], CallRecord | None]:
    def current(linkedid: str) -> CallRecord | None:
        call = tracker.calls.get(linkedid)
        return None if call is None else call.record(None)
    return current


def _listen(pbx: Pbx, hub: LiveHub) -> None:
    """Publish each state change with the receipt time of the AMI batch that caused it."""
    pbx.recorder.add_listener(hub.publish)


async def live_stream(request: web.Request) -> web.StreamResponse:
    user: SignedInUser | None = request.get(USER_KEY)
    if user is None:  # the auth middleware keeps strangers out; this is a second lock
        raise web.HTTPUnauthorized()
    hub = request.app[LIVE_HUB]
    scope = stream_scope(user, request.query.get("expert"))
    async with sse_response(request, ping_interval=PING_INTERVAL_S) as response:
        subscription = hub.subscribe(scope, present=not user.is_supervisor)
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
