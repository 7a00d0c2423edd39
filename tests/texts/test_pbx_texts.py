"""The PBX's troubles in Russian: each OriginateResponse Reason, the link bar, a request the PBX could not take."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dialer.link import LinkStatus
from texts.pbx import LINK_STATUS_LABELS, link_down_text, originate_failure_text, request_failed_text

MSK = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(("reason", "says"), [
    (0, "такого номера нет в её плане набора"), (1, "сбросил вызов"), (3, "звонил, но трубку не сняли"),
    (5, "занят"), (8, "перегружена"), (42, "(код 42)"), (-1, "(код -1)"),
])
def test_every_reason_asterisk_sends_is_said_in_russian(reason: int, says: str) -> None:
    text = originate_failure_text("call", reason, "101")
    assert text.startswith("Звонок не начат: ") and says in text and "доб. 101" in text
    assert originate_failure_text("spy", reason, "201").startswith("Прослушивание не началось: ")


def test_the_bar_says_since_when_in_local_time() -> None:
    now = datetime(2026, 12, 7, 11, 0, tzinfo=MSK)
    assert link_down_text(datetime(2026, 12, 7, 10, 42, tzinfo=MSK), now) == (
        "нет связи с АТС с 10:42 — звонки не записываются")
    assert link_down_text(datetime(2026, 12, 6, 23, 5, tzinfo=MSK), now) == (
        "нет связи с АТС с 06.12 23:05 — звонки не записываются")
    assert link_down_text(None, now) == "нет связи с АТС — звонки не записываются"


def test_every_link_status_has_a_label() -> None:
    assert set(LINK_STATUS_LABELS) == {str(s) for s in LinkStatus}


def test_a_refused_login_is_never_called_silence() -> None:
    refused = request_failed_text("call", "login_refused", timed_out=True)
    assert refused.startswith("АТС отказала во входе: неверный логин или пароль AMI") and "не ответила" not in refused
    assert request_failed_text("call", "unreachable", timed_out=False) == (
        "Нет связи с АТС — звонок не начат, попробуйте ещё раз")
    assert request_failed_text("spy", "connected", timed_out=True) == (
        "АТС не ответила — прослушивание не началось, попробуйте ещё раз")
    assert request_failed_text("hangup", "unreachable", timed_out=False) == (
        "Нет связи с АТС — положите трубку на телефоне")
