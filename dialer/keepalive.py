"""Whether a keepalive Ping proves the AMI link alive: a silent peer and a trickling one are dead."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from dialer.ami_client import caused
from dialer.errors import AmiActionTimeout, AmiConnectionError, DialerError


async def ping_verdict(request: Awaitable[Any], last_received: Callable[[], float], ping_timeout: float,
                       bound: float) -> DialerError | None:
    """None when the Ping's Pong came back; else why the link is dead.

    A silent peer is dead after `ping_timeout`. While bytes keep arriving the Pong may be queued
    behind a backlog of events, so it gets until `bound` (the action timeout), and no longer: a
    peer trickling bytes without ever answering is not a live PBX. `last_received()` is the
    monotonic time of the last byte.
    """
    ping = asyncio.ensure_future(request)
    try:
        while not ping.done():
            await asyncio.wait({ping}, timeout=ping_timeout)
            quiet = time.monotonic() - last_received()
            if not ping.done() and quiet >= ping_timeout:
                late = AmiActionTimeout(f"AMI Ping got no response within {ping_timeout} s")
                return caused(AmiConnectionError(f"no Pong within {ping_timeout} s and nothing else "
                                                 f"received for {quiet:.1f} s: connection dead"), late)
        ping.result()
    except AmiActionTimeout as e:
        return caused(AmiConnectionError(f"no Pong within {bound} s although bytes kept arriving (the last "
                                         f"{time.monotonic() - last_received():.1f} s ago): "
                                         "the peer is stalled or hostile; connection dead"), e)
    except DialerError:
        pass  # the link is already going down
    finally:
        ping.cancel()
    return None
