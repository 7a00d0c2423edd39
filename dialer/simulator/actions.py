"""AMI actions the simulated PBX answers, with Asterisk 22's response shapes."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from dialer.ami.message import Message
from dialer.simulator.channels import core_show_channel, status_item
from dialer.simulator.frames import Headers
from dialer.simulator.session import AmiSession, parse_event_mask

if TYPE_CHECKING:
    from dialer.simulator.server import PbxSimulator

Handler = Callable[["Actions", AmiSession, Message], Awaitable[None]]
PUBLIC_ACTIONS = frozenset({"login", "challenge", "logoff"})


def reply(msg: Message, response: str, message: str | None = None, extra: Headers | None = None) -> Headers:
    """`Response:`, the echoed `ActionID:` (only if the action had one), `Message:`, then `extra`."""
    headers: Headers = [("Response", response)]
    action_id = msg.header("ActionID")
    if action_id is not None:
        headers.append(("ActionID", action_id))
    if message is not None:
        headers.append(("Message", message))
    headers.extend(extra or ())
    return headers


class Actions:
    """Dispatches one parsed action of a session to its handler."""

    def __init__(self, pbx: PbxSimulator) -> None:
        self.pbx = pbx

    async def __call__(self, session: AmiSession, msg: Message) -> None:
        action = (msg.header("Action") or "").strip().lower()
        if not action:
            session.respond(reply(msg, "Error", "Missing action in request"))
            return
        if not session.authenticated and action not in PUBLIC_ACTIONS:
            session.respond(reply(msg, "Error", "Permission denied"))
            return
        handler = _HANDLERS.get(action)
        if handler is None:
            session.respond(reply(msg, "Error", "Invalid/unknown command"))
            return
        await handler(self, session, msg)

    async def login(self, session: AmiSession, msg: Message) -> None:
        if session.authenticated:
            session.respond(reply(msg, "Success", "Already authenticated"))
            return
        if not self._credentials_ok(session, msg) or self.pbx.clock.now() < self.pbx.locked_until:
            session.respond(reply(msg, "Error", "Authentication failed"))
            session.close_after_flush()  # Asterisk drops the connection after a failed login
            return
        session.authenticated = True
        session.username = msg.header("Username") or ""
        if msg.header("Events") is not None:
            session.policy.mask = parse_event_mask(msg.header("Events") or "")
        session.respond(reply(msg, "Success", "Authentication accepted"))
        if session.policy.mask is None or "system" in session.policy.mask:
            session.respond(self.pbx.fully_booted_headers())
        self.pbx.announce_login(session)

    def _credentials_ok(self, session: AmiSession, msg: Message) -> bool:
        config = self.pbx.config
        if msg.header("Username") != config.username:
            return False
        if (msg.header("AuthType") or "").lower() == "md5":
            if session.challenge is None:
                return False
            expected = hashlib.md5((session.challenge + config.secret).encode()).hexdigest()
            return secrets.compare_digest((msg.header("Key") or "").lower(), expected)
        return secrets.compare_digest(msg.header("Secret") or "", config.secret)

    async def challenge(self, session: AmiSession, msg: Message) -> None:
        if (msg.header("AuthType") or "").lower() != "md5":
            session.respond(reply(msg, "Error", "Must specify AuthType"))
            return
        session.challenge = session.challenge or str(secrets.randbelow(10**9 - 10**8) + 10**8)
        session.respond(reply(msg, "Success", extra=[("Challenge", session.challenge)]))

    async def logoff(self, session: AmiSession, msg: Message) -> None:
        session.respond(reply(msg, "Goodbye", "Thanks for all the fish."))
        session.close_after_flush()

    async def ping(self, session: AmiSession, msg: Message) -> None:
        extra = [("Ping", "Pong"), ("Timestamp", f"{self.pbx.clock.now():.6f}")]
        session.respond(reply(msg, "Success", extra=extra))

    async def events(self, session: AmiSession, msg: Message) -> None:
        session.policy.mask = parse_event_mask(msg.header("EventMask") or "")
        state = "Off" if session.policy.mask == frozenset() else "On"
        session.respond(reply(msg, "Success", extra=[("Events", state)]))

    async def filter(self, session: AmiSession, msg: Message) -> None:
        if (msg.header("Operation") or "").lower() != "add":
            session.respond(reply(msg, "Error", "Unknown operation"))
            return
        try:
            session.policy.add_filter(msg.header("Filter") or "")
        except re.error:
            session.respond(reply(msg, "Error", "Filter did not compile.  Check the syntax of the filter given."))
            return
        session.respond(reply(msg, "Success", "Success"))

    async def corestatus(self, session: AmiSession, msg: Message) -> None:
        session.respond(reply(msg, "Success", extra=self.pbx.core_status_headers()))

    async def coreshowchannels(self, session: AmiSession, msg: Message) -> None:
        action_id = msg.header("ActionID")
        channels = self.pbx.channels.channels()
        start = reply(msg, "Success", extra=[("EventList", "start"), ("Message", "Channels will follow")])
        session.respond(start)
        now = self.pbx.clock.now()
        for channel in channels:
            session.respond(core_show_channel(channel, now, action_id))
        complete: Headers = [("Event", "CoreShowChannelsComplete")]
        if action_id is not None:
            complete.append(("ActionID", action_id))
        complete += [("EventList", "Complete"), ("ListItems", str(len(channels)))]
        session.respond(complete)

    async def status(self, session: AmiSession, msg: Message) -> None:
        """All channels, or the one named; `AllVariables: true` adds every channel variable."""
        action_id, name = msg.header("ActionID"), msg.header("Channel")
        channels = self.pbx.channels.channels()
        if name:
            channels = [c for c in channels if c.name == name]
            if not channels:
                session.respond(reply(msg, "Error", "No such channel"))
                return
        start = reply(msg, "Success", extra=[("EventList", "start"), ("Message", "Channel status will follow")])
        session.respond(start)
        now, all_variables = self.pbx.clock.now(), (msg.header("AllVariables") or "").lower() in ("true", "yes", "1")
        for channel in channels:
            session.respond(status_item(channel, now, action_id, all_variables))
        complete: Headers = [("Event", "StatusComplete")]
        if action_id is not None:
            complete.append(("ActionID", action_id))
        complete += [("EventList", "Complete"), ("ListItems", str(len(channels))), ("Items", str(len(channels)))]
        session.respond(complete)

    async def originate(self, session: AmiSession, msg: Message) -> None:
        error = self.pbx.validate_originate(msg)
        if error is not None:
            session.respond(reply(msg, "Error", error))
            return
        session.respond(reply(msg, "Success", "Originate successfully queued"))
        self.pbx.originate_from_action(msg)

    async def hangup(self, session: AmiSession, msg: Message) -> None:
        name = msg.header("Channel") or ""
        if not name:
            session.respond(reply(msg, "Error", "No channel specified"))
            return
        owners = self.pbx.channel_owners(name)
        if not owners:
            session.respond(reply(msg, "Error", "No such channel"))
            return
        session.respond(reply(msg, "Success", "Channel Hungup"))  # Asterisk answers before the events flow
        for owner in owners:
            owner.hang_up()


_HANDLERS: dict[str, Handler] = {
    "login": Actions.login,
    "challenge": Actions.challenge,
    "logoff": Actions.logoff,
    "ping": Actions.ping,
    "events": Actions.events,
    "filter": Actions.filter,
    "corestatus": Actions.corestatus,
    "coreshowchannels": Actions.coreshowchannels,
    "status": Actions.status,
    "originate": Actions.originate,
    "hangup": Actions.hangup,
}


def utc_date_time(ts: float) -> tuple[str, str]:
    """CoreStatus date and time strings (the PBX's local time; the lab ran in UTC)."""
    moment = time.gmtime(ts)
    return time.strftime("%Y-%m-%d", moment), time.strftime("%H:%M:%S", moment)
