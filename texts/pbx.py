"""What the PBX's troubles read as: the AMI link's state and a failed Originate's reason. Pure.

Keyed by codes' values: the link's status (dialer.link.LinkStatus) and the OriginateResponse
`Reason`, Asterisk's old AST_CONTROL_* number (main/pbx.c `pbx_dial_reason`, docs/asterisk.md):
0 the channel could not be created or reached (no such extension, phone not registered),
1 the phone hung up, 3 it rang and nobody answered, 5 busy, 8 congestion.
"""

from __future__ import annotations

from datetime import datetime

# ---- the AMI link ------------------------------------------------------------------------
LINK_DOWN = "нет связи с АТС с {since} — звонки не записываются"
LINK_STATUS_LABELS: dict[str, str] = {
    "connected": "связь с АТС есть",
    "connecting": "подключение к АТС…",
    "login_refused": "АТС отказала во входе: неверный логин или пароль AMI",
    "unreachable": "АТС не отвечает: нет соединения с её AMI-портом",
}

# ---- a failed Originate --------------------------------------------------------------------
ORIGINATE_REASONS: dict[int, str] = {
    0: "АТС не смогла вызвать телефон доб. {ext}: такого номера нет в её плане набора или телефон не подключён",
    1: "телефон доб. {ext} сбросил вызов",
    3: "телефон доб. {ext} звонил, но трубку не сняли",
    5: "телефон доб. {ext} занят",
    8: "АТС перегружена или телефон доб. {ext} недоступен",
}
ORIGINATE_REASON_OTHER = "АТС не смогла вызвать телефон доб. {ext} (код {reason})"
ORIGINATE_KIND_LEADS: dict[str, str] = {
    "call": "Звонок не начат",
    "spy": "Прослушивание не началось",
}

# ---- a request the PBX could not take (the link is down, or the action got no answer) -----
REQUEST_PROBLEMS: dict[str, str] = {
    "login_refused": "АТС отказала во входе: неверный логин или пароль AMI (сообщите администратору)",
    "no_link": "Нет связи с АТС",
    "timeout": "АТС не ответила",
}
REQUEST_AFTERMATH: dict[str, str] = {
    "call": "звонок не начат", "spy": "прослушивание не началось", "hangup": "положите трубку на телефоне",
}
RETRY = ", попробуйте ещё раз"


def link_down_text(since: datetime | None, now: datetime) -> str:
    """«нет связи с АТС с 10:42 — звонки не записываются» (times in the zone of `since` and `now`)."""
    if since is None:
        return LINK_DOWN.replace(" с {since}", "")
    moment = f"{since:%H:%M}" if since.date() == now.date() else f"{since:%d.%m %H:%M}"
    return LINK_DOWN.format(since=moment)


def originate_failure_text(kind: str, reason: int, ext: str) -> str:
    """«Звонок не начат: телефон доб. 101 звонил, но трубку не сняли»."""
    template = ORIGINATE_REASONS.get(reason, ORIGINATE_REASON_OTHER)
    return f"{ORIGINATE_KIND_LEADS.get(kind, 'Вызов не удался')}: {template.format(ext=ext, reason=reason)}"


def request_failed_text(kind: str, link_status: str, timed_out: bool) -> str:
    """Why a click could not be sent — a refused login or no link, not just «АТС не ответила»:
    «Нет связи с АТС — звонок не начат, попробуйте ещё раз». `kind`: call | spy | hangup."""
    if link_status == "login_refused":
        problem = "login_refused"
    else:
        problem = "timeout" if timed_out and link_status == "connected" else "no_link"
    text = f"{REQUEST_PROBLEMS[problem]} — {REQUEST_AFTERMATH.get(kind, 'не выполнено')}"
    return text + RETRY if kind != "hangup" and problem != "login_refused" else text
