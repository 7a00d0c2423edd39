"""The body of a delivery and its signature headers (docs/webhooks.md, «Verifying a delivery»). Pure.

`X-DSDesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the timestamp is
the attempt's, so a receiver can refuse an old message replayed; the body is the same on every attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

from dialer.records import iso_ms

SIGNATURE_HEADER = "X-DSDesk-Signature"
EVENT_HEADER = "X-DSDesk-Event"
DELIVERY_HEADER = "X-DSDesk-Delivery"
USER_AGENT = "DS-Desk-Webhooks/1"
TOLERANCE_S = 300  # what docs/webhooks.md advises a receiver to accept


def body(delivery_id: str, event: str, subject: str, created_at: datetime, payload: str) -> bytes:
    """The JSON envelope; `payload` (the event's data, already JSON) is put in as it is."""
    head = json.dumps({"delivery_id": delivery_id, "event": event, "subject": subject,
                       "occurred_at": iso_ms(created_at)}, ensure_ascii=False, separators=(",", ":"))
    return f'{head[:-1]},"data":{payload}}}'.encode()


def signature(secret: str, timestamp: int, content: bytes) -> str:
    message = str(timestamp).encode() + b"." + content
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, content: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, content)}"


def headers(secret: str, event: str, delivery_id: str, content: bytes, now: datetime) -> dict[str, str]:
    """Every header of one attempt."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
        SIGNATURE_HEADER: signature_header(secret, int(now.timestamp()), content),
    }


def verify(secret: str, header: str, content: bytes, now: datetime, tolerance_s: int = TOLERANCE_S) -> bool:
    """What a receiver does: the header is well formed, recent, and one of its v1 values matches."""
    parts = [part.partition("=") for part in header.split(",")]
    stamps = [value for key, _, value in parts if key.strip() == "t"]
    given = [value.strip() for key, _, value in parts if key.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not given:
        return False
    timestamp = int(stamps[0])
    if abs(now.timestamp() - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, content)
    return any(hmac.compare_digest(expected, value) for value in given)
