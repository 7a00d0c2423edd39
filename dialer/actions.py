"""Pure builders for the AMI actions DS Desk sends (Originate, ChanSpy, Hangup, status, login)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Literal, NamedTuple

SpyMode = Literal["listen", "whisper", "barge"]

# ChanSpy options: q = no beep/announcement, w = whisper to the spyee, B = barge (talk to both),
# E = exit when the spied-on channel hangs up (else the supervisor's phone keeps scanning).
SPY_OPTIONS: dict[str, str] = {"listen": "qE", "whisper": "qwE", "barge": "qBE"}
DEFAULT_ORIGINATE_TIMEOUT_MS = 30_000


class AmiAction(NamedTuple):
    """One action to send: `Action: name`, its headers, and its repeated `Variable:` lines."""

    name: str
    headers: dict[str, str]
    variables: dict[str, str]


def check_action(name: str, headers: Mapping[str, object], variables: Mapping[str, object]) -> None:
    """Reject CR/LF in any field: one would end the header early and let a value inject lines."""
    fields = [name, *headers.keys(), *map(str, headers.values()), *variables.keys(), *map(str, variables.values())]
    for field in fields:
        if "\r" in field or "\n" in field:
            raise ValueError(f"AMI action {name!r}: line break in field {field!r}")


def new_channel_id() -> str:
    """A fresh ChannelId/OtherChannelId; the first becomes the call's Uniqueid and Linkedid."""
    return str(uuid.uuid4())


def originate_call(
    expert_channel: str,
    context: str,
    client_number: str,
    planned_call_id: str | None,
    client_id: str | None,
    channel_id: str,
    other_channel_id: str,
    caller_id: str,
    timeout_ms: int = DEFAULT_ORIGINATE_TIMEOUT_MS,
) -> AmiAction:
    """Ring the Expert's phone, then dial the client from `context` (click-to-call).

    Async, so the response only says "queued" and the outcome arrives as OriginateResponse.
    `channel_id` is chosen by us so the call's Linkedid is known before the first event.
    """
    headers = {
        "Channel": expert_channel,
        "Context": context,
        "Exten": client_number,
        "Priority": "1",
        "Timeout": str(timeout_ms),
        "CallerID": caller_id,
        "Async": "true",
        "ChannelId": channel_id,
        "OtherChannelId": other_channel_id,
    }
    variables = {"PLANNED_CALL_ID": planned_call_id, "CLIENT_ID": client_id}
    return AmiAction("Originate", headers, {k: v for k, v in variables.items() if v is not None})


def chanspy(
    supervisor_channel: str,
    expert_channel_prefix: str,
    mode: SpyMode,
    caller_id: str = "ChanSpy",
    timeout_ms: int = DEFAULT_ORIGINATE_TIMEOUT_MS,
) -> AmiAction:
    """Ring the supervisor's phone and run ChanSpy on the Expert's channel once answered.

    AMI has no ChanSpy action. Pass a prefix that ends the extension (`PJSIP/101-`), or
    `PJSIP/101` would also match `PJSIP/1011-…`.
    """
    if mode not in SPY_OPTIONS:
        raise ValueError(f"unknown ChanSpy mode {mode!r}; expected one of {sorted(SPY_OPTIONS)}")
    if "," in expert_channel_prefix:
        raise ValueError(f"ChanSpy channel prefix must not contain a comma: {expert_channel_prefix!r}")
    headers = {
        "Channel": supervisor_channel,
        "Application": "ChanSpy",
        "Data": f"{expert_channel_prefix},{SPY_OPTIONS[mode]}",
        "Timeout": str(timeout_ms),
        "CallerID": caller_id,
        "Async": "true",
    }
    return AmiAction("Originate", headers, {})


def hangup(channel: str) -> AmiAction:
    return AmiAction("Hangup", {"Channel": channel}, {})


def core_status() -> AmiAction:
    return AmiAction("CoreStatus", {}, {})


def core_show_channels() -> AmiAction:
    return AmiAction("CoreShowChannels", {}, {})


def status_all_variables() -> AmiAction:
    """Every channel with all its variables (one list action: PLANNED_CALL_ID, CLIENT_ID, the recording)."""
    return AmiAction("Status", {"AllVariables": "true"}, {})


def ping() -> AmiAction:
    return AmiAction("Ping", {}, {})


def logoff() -> AmiAction:
    return AmiAction("Logoff", {}, {})


def login(username: str, secret: str) -> AmiAction:
    return AmiAction("Login", {"Username": username, "Secret": secret}, {})


def challenge() -> AmiAction:
    return AmiAction("Challenge", {"AuthType": "MD5"}, {})


def login_md5(username: str, secret: str, challenge_value: str) -> AmiAction:
    """Login without sending the secret: Key = md5(challenge + secret), as manager.c checks it."""
    key = hashlib.md5((challenge_value + secret).encode("utf-8")).hexdigest()
    return AmiAction("Login", {"AuthType": "MD5", "Username": username, "Key": key}, {})
