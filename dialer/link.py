"""The AMI link's state as the rest of DS Desk sees it: up, refused, unreachable, and since when. Pure.

`Pbx.link_state()` builds it from the connection (dialer/client.py keeps the times and the last
error); `/healthz`, the start banner, the desks and the board show it. A link that is down means
calls are not being recorded, whatever the reason, so `since` is when it went down: the last drop,
or DS Desk's start when it never came up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from dialer.errors import AmiLoginError


class LinkStatus(StrEnum):
    CONNECTED = "connected"  # logged in: calls are recorded
    CONNECTING = "connecting"  # no answer yet from the first attempt (or from a reconnect)
    LOGIN_REFUSED = "login_refused"  # the PBX answered and refused the AMI user or secret
    UNREACHABLE = "unreachable"  # no AMI server answered (refused, timed out, not AMI, link broke)


@dataclass(frozen=True, slots=True)
class LinkState:
    """One reading of the link: its status, since when (UTC), where, and the last error (English)."""

    status: LinkStatus
    since: datetime | None
    where: str  # host:port
    error: str | None = None

    @property
    def connected(self) -> bool:
        return self.status is LinkStatus.CONNECTED


def link_state(*, connected: bool, connected_at: float | None, disconnected_at: float | None,
               started_at: float | None, last_error: BaseException | None, where: str) -> LinkState:
    """The state from what the connection knows (epoch seconds; `started_at`: when trying began)."""
    if connected:
        return LinkState(LinkStatus.CONNECTED, _utc(connected_at), where)
    down_since = _utc(disconnected_at if disconnected_at is not None else started_at)
    if last_error is None:
        return LinkState(LinkStatus.CONNECTING, down_since, where)
    status = LinkStatus.LOGIN_REFUSED if isinstance(last_error, AmiLoginError) else LinkStatus.UNREACHABLE
    return LinkState(status, down_since, where, str(last_error))


def _utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)
