"""Time zones named as people in Russia name them (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from texts.zones import zone_label

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("key", "label"), [
    ("Europe/Moscow", "Москва (UTC+3)"),
    ("Asia/Yekaterinburg", "Екатеринбург (UTC+5)"),
    ("Asia/Novosibirsk", "Новосибирск (UTC+7)"),
    ("Europe/Kaliningrad", "Калининград (UTC+2)"),
    ("Asia/Kamchatka", "Камчатка (UTC+12)"),
    ("Asia/Kolkata", "Asia/Kolkata (UTC+5:30)"),
    ("America/New_York", "America/New_York (UTC−5)"),
    ("UTC", "UTC"),
])
def test_zone_label(key: str, label: str) -> None:
    assert zone_label(key, NOW) == label
