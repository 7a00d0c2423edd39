"""Originates the simulated PBX accepts and then fails, as Asterisk 22 does. Pure.

An extension the dialplan does not know (`PbxSimulator.unknown_extensions`): Asterisk answers the
async Originate "queued", cannot create the phone's channel, and sends only an `OriginateResponse`
with `Response: Failure`, `Reason: 0` and `Uniqueid: <unknown>` — no channel events. Its header keys
and their order are those of the failed OriginateResponse in the real capture
expert-phone-not-answered.ami (tests/simulator/test_originate_failures.py compares them); an
Application Originate (ChanSpy) names `Application`/`Data` instead of `Context`/`Exten`.
"""

from __future__ import annotations

from dialer.simulator.dialing import OriginateRequest
from dialer.simulator.frames import Headers

REASON_NO_SUCH_EXTENSION = 0  # AST_CONTROL 0: the channel could not be created or reached
UNKNOWN = "<unknown>"


def failed_originate_response(request: OriginateRequest, context: str, reason: int, now: float) -> Headers:
    """The `OriginateResponse` frame of an Originate that failed before any channel came up."""
    headers: Headers = [("Event", "OriginateResponse"), ("Privilege", "call,all"), ("Timestamp", f"{now:.6f}")]
    if request.action_id is not None:
        headers.append(("ActionID", request.action_id))
    headers += [("Response", "Failure"), ("Channel", request.channel)]
    if request.application:
        headers += [("Application", request.application), ("Data", request.data)]
    else:
        headers += [("Context", context), ("Exten", request.exten)]
    return headers + [("Reason", str(reason)), ("Uniqueid", UNKNOWN),
                      ("CallerIDNum", request.caller_num or UNKNOWN), ("CallerIDName", request.caller_name or UNKNOWN)]
