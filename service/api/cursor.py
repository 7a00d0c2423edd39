"""Opaque page cursors: the last row's sort key and id, base64url JSON. Pure."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from service.api.problems import ApiProblem
from service.db.api_reads import Position

MAX_CURSOR = 200


def encode(kind: str, position: Position) -> str:
    at = position.at.isoformat() if isinstance(position.at, datetime) else position.at
    raw = json.dumps({"k": kind, "a": at, "i": position.id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(kind: str, cursor: str) -> Position:
    """The position `cursor` names; 422 when it is not a cursor of this listing."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(data, dict) or data.get("k") != kind or not isinstance(data.get("i"), int):
            raise ValueError("not ours")
        at = data["a"]
        value = datetime.fromisoformat(at) if isinstance(at, str) else int(at)
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("naive")
        return Position(value, data["i"])
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise ApiProblem(422, "cursor: не курсор этого списка (возьмите next_cursor из предыдущего ответа)",
                         kind="validation") from None
