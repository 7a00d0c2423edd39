"""The webhooks' pure parts: the signature (a known-answer vector), the retry table, the URL check, the
call's transitions and the payloads."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dialer.records import Outcome
from service.errors import SettingsError
from service.settings import Settings, load_settings
from service.webhooks import signing
from service.webhooks.errors import UnsafeUrlError
from service.webhooks.events import (
    CALL_ANSWERED,
    CALL_ENDED,
    CALL_STARTED,
    CallSeen,
    call_events,
    call_transitions,
)
from service.webhooks.retry import backoff_s, next_attempt
from service.webhooks.urls import UrlPolicy, check_addresses, parse_target, split_allow_list
from tests.service.builders import T0, closed_call, open_call

# ---- signing -----------------------------------------------------------------------------------

KNOWN_BODY = b'{"delivery_id":"5b0c8f3e-0000-4000-8000-000000000001","event":"call.ended","data":{}}'
# printf '%s' '1767225600.<body>' | openssl dgst -sha256 -hmac whsec_test
KNOWN_HEX = "15d70c7e507a229f517ad387b14e62d9bb47d52f4112eadc490c7fa841317887"
T_SIGNED = datetime(2026, 1, 1, tzinfo=UTC)  # 1767225600


def test_the_signature_matches_the_known_answer() -> None:
    assert signing.signature("whsec_test", 1767225600, KNOWN_BODY) == KNOWN_HEX
    assert signing.signature_header("whsec_test", 1767225600, KNOWN_BODY) == f"t=1767225600,v1={KNOWN_HEX}"


def test_the_headers_of_an_attempt() -> None:
    headers = signing.headers("whsec_test", "call.ended", "d-1", KNOWN_BODY, T_SIGNED)
    assert headers["X-DSDesk-Signature"] == f"t=1767225600,v1={KNOWN_HEX}"
    assert (headers["X-DSDesk-Event"], headers["X-DSDesk-Delivery"]) == ("call.ended", "d-1")
    assert headers["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(("header", "body", "now", "ok"), [
    (f"t=1767225600,v1={KNOWN_HEX}", KNOWN_BODY, T_SIGNED, True),
    (f"t=1767225600,v1={KNOWN_HEX}", KNOWN_BODY, T_SIGNED + timedelta(seconds=299), True),
    (f"t=1767225600,v1=00,v1={KNOWN_HEX}", KNOWN_BODY, T_SIGNED, True),  # a second value (a new secret)
    (f"t=1767225600,v1={KNOWN_HEX}", KNOWN_BODY, T_SIGNED + timedelta(seconds=301), False),  # replayed late
    (f"t=1767225600,v1={KNOWN_HEX}", KNOWN_BODY + b" ", T_SIGNED, False),  # body changed
    (f"t=1767225601,v1={KNOWN_HEX}", KNOWN_BODY, T_SIGNED, False),  # timestamp changed
    (f"v1={KNOWN_HEX}", KNOWN_BODY, T_SIGNED, False),
    ("t=x,v1=y", KNOWN_BODY, T_SIGNED, False),
    ("", KNOWN_BODY, T_SIGNED, False),
])
def test_verify(header: str, body: bytes, now: datetime, ok: bool) -> None:
    assert signing.verify("whsec_test", header, body, now) is ok


def test_the_body_puts_the_stored_payload_in_as_it_is() -> None:
    content = signing.body("d-1", "call.ended", "call:L-1", T_SIGNED, '{"b":2,"a":"я"}')
    assert content == ('{"delivery_id":"d-1","event":"call.ended","subject":"call:L-1",'
                       '"occurred_at":"2026-01-01T00:00:00.000+00:00","data":{"b":2,"a":"я"}}').encode()
    assert json.loads(content)["data"] == {"b": 2, "a": "я"}


# ---- retries -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("failures", "wait_s"), [
    (1, 10), (2, 30), (3, 60), (4, 300), (5, 900), (6, 1800), (7, 3600), (8, 3600), (30, 3600)])
def test_backoff(failures: int, wait_s: int) -> None:
    assert backoff_s(failures) == wait_s


DAY = timedelta(hours=24)


@pytest.mark.parametrize(("since_event", "failures", "expected"), [
    (timedelta(0), 1, timedelta(seconds=10)),
    (timedelta(minutes=52), 7, timedelta(minutes=52, hours=1)),
    (timedelta(hours=23, minutes=30), 30, DAY),  # the last attempt is made when the day is over
    (DAY - timedelta(seconds=1), 31, DAY),
    (DAY, 32, None),  # that one failed too: given up
    (DAY + timedelta(hours=5), 3, None),
])
def test_next_attempt_and_giving_up(since_event: timedelta, failures: int, expected: timedelta | None) -> None:
    got = next_attempt(T0, failures, T0 + since_event, DAY)
    assert got == (None if expected is None else T0 + expected)


# ---- URLs --------------------------------------------------------------------------------------

LOCAL = UrlPolicy.of(("127.0.0.1", "::1", "10.0.0.0/8"), "127.0.0.1", 8080)
STRICT = UrlPolicy.of((), "127.0.0.1", 8080)


@pytest.mark.parametrize(("url", "why"), [
    ("file:///etc/passwd", "http"),
    ("ftp://example.com/x", "http"),
    ("javascript:alert(1)", "http"),
    ("//example.com/x", "http"),
    ("gopher://127.0.0.1:25/", "http"),
    ("http://user:pass@example.com/", "Логин и пароль"),
    ("http://user@example.com/", "Логин и пароль"),
    ("http://exa mple.com/", "без пробелов"),
    ("http:///x", "имени сервера"),
    ("http://example.com:99999/", "не разобрать"),
    ("http://127.1/", "не имя сервера"),
    ("http://2130706433/", "не имя сервера"),
    ("http://0x7f.1/", "не имя сервера"),
    ("http://[fe80::1%25eth0]/", "зоной"),
    ("https://" + "a" * 2001 + ".ru/", "не длиннее"),
])
def test_a_url_of_the_wrong_form_is_refused(url: str, why: str) -> None:
    with pytest.raises(UnsafeUrlError) as refused:
        parse_target(url)
    assert why in refused.value.message


@pytest.mark.parametrize(("url", "addresses", "why"), [
    ("http://169.254.169.254/latest/meta-data/", None, "метаданных"),
    ("http://[fd00:ec2::254]/", None, "метаданных"),
    ("http://[::ffff:169.254.169.254]/", None, "метаданных"),
    ("http://[64:ff9b::a9fe:a9fe]/", None, "метаданных"),  # NAT64 of 169.254.169.254
    ("http://169.254.10.1/", None, "link-local"),
    ("http://[fe80::1]/", None, "link-local"),
    ("http://[::1]/", None, "loopback"),
    ("http://127.0.0.1:9000/", None, "loopback"),
    ("http://localhost:9000/", ["127.0.0.1"], "loopback"),  # a name resolving to 127.0.0.1
    ("http://10.1.2.3/", None, "внутренней сети"),
    ("http://192.168.1.10/", None, "внутренней сети"),
    ("http://100.64.0.1/", None, "внутренней сети"),
    ("http://[fd12::1]/", None, "внутренней сети"),
    ("http://224.0.0.1/", None, "multicast"),
    ("http://0.0.0.0/", None, "неопределённый"),
    ("http://240.0.0.1/", None, "зарезервированный"),
    ("https://crm.example.ru/", ["93.184.216.34", "10.0.0.7"], "внутренней сети"),  # every address counts
    ("http://nowhere.example/", [], "ни в один адрес"),
])
def test_an_address_that_is_not_public_is_refused(url: str, addresses: list[str] | None, why: str) -> None:
    target = parse_target(url)
    with pytest.raises(UnsafeUrlError) as refused:
        check_addresses(target, addresses if addresses is not None else [target.host], STRICT)
    assert why in refused.value.message


@pytest.mark.parametrize(("url", "addresses"), [
    ("https://93.184.216.34/hook", None),
    ("HTTPS://CRM.Example.RU/hooks?x=1", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]),
    ("https://пример.рф/hook", ["93.184.216.34"]),
])
def test_a_public_address_is_allowed(url: str, addresses: list[str] | None) -> None:
    target = parse_target(url)
    check_addresses(target, addresses or [target.host], STRICT)


@pytest.mark.parametrize(("url", "addresses"), [
    ("http://127.0.0.1:9000/", None), ("http://[::1]:9000/", None), ("http://10.1.2.3/", None),
    ("http://crm.lan/", ["10.20.30.40"]), ("http://127.0.0.1:8081/", None),
])
def test_the_allow_list_lifts_loopback_and_private(url: str, addresses: list[str] | None) -> None:
    target = parse_target(url)
    check_addresses(target, addresses or [target.host], LOCAL)


@pytest.mark.parametrize(("url", "addresses"), [
    ("http://127.0.0.1:8080/hook", None), ("http://localhost:8080/", ["127.0.0.1"]),
    ("http://dsdesk.lan:8080/", ["127.0.0.1"]),
])
def test_ds_desk_itself_is_refused_even_when_allowed(url: str, addresses: list[str] | None) -> None:
    target = parse_target(url)
    with pytest.raises(UnsafeUrlError) as refused:
        check_addresses(target, addresses or [target.host], LOCAL)
    assert "сам DS Desk" in refused.value.message


def test_ds_desk_on_every_interface_is_refused_on_its_port() -> None:
    policy = UrlPolicy.of(("127.0.0.0/8", "192.168.0.0/16"), "0.0.0.0", 8080, ["192.168.1.5"])
    for url in ("http://127.0.0.1:8080/", "http://127.0.0.2:8080/", "http://192.168.1.5:8080/"):
        with pytest.raises(UnsafeUrlError):
            check_addresses(parse_target(url), [parse_target(url).host], policy)
    check_addresses(parse_target("http://192.168.1.6:8080/"), ["192.168.1.6"], policy)


def test_the_metadata_and_link_local_ranges_cannot_be_allowed() -> None:
    for entry in ("169.254.169.254", "169.254.0.0/16", "0.0.0.0/0", "fe80::/10", "fd00::/8", "::/0"):
        with pytest.raises(ValueError, match="never be allowed"):
            split_allow_list([entry])
    with pytest.raises(ValueError, match="neither"):
        split_allow_list(["not a host!"])
    assert split_allow_list(["10.0.0.0/8", "CRM.lan"])[1] == {"crm.lan"}


def test_the_settings_refuse_a_wrong_allow_list_by_name(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("webhooks:\n  allow_private_hosts: [169.254.0.0/16]\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="webhooks.allow_private_hosts"):
        load_settings(config, env={})
    assert Settings.model_validate({"webhooks": {"allow_private_hosts": [" 10.0.0.5 "]}}).webhooks \
        .allow_private_hosts == ("10.0.0.5",)


# ---- the call's transitions --------------------------------------------------------------------

OPEN = CallSeen(None, None)
ANSWERED = CallSeen(T0 + timedelta(seconds=5), None)
CLOSED = CallSeen(T0 + timedelta(seconds=5), T0 + timedelta(seconds=65))
ringing = open_call("L-1")
talking = dataclasses.replace(ringing, answered_at=T0 + timedelta(seconds=5))
ended = closed_call("L-1")
missed = closed_call("L-1", answered_at=None, talk_s=0.0, outcome=Outcome.NO_ANSWER)


@pytest.mark.parametrize(("before", "after", "kinds"), [
    (None, ringing, (CALL_STARTED,)),
    (None, talking, (CALL_STARTED, CALL_ANSWERED)),
    (None, ended, (CALL_STARTED, CALL_ANSWERED, CALL_ENDED)),  # first seen already closed: all, in order
    (None, missed, (CALL_STARTED, CALL_ENDED)),
    (OPEN, ringing, ()),  # the same again: nothing
    (OPEN, talking, (CALL_ANSWERED,)),
    (OPEN, ended, (CALL_ANSWERED, CALL_ENDED)),
    (OPEN, missed, (CALL_ENDED,)),
    (ANSWERED, talking, ()),
    (ANSWERED, ended, (CALL_ENDED,)),
    (CLOSED, ended, ()),  # replayed: nothing
    (CLOSED, ringing, ()),  # an open record after the close: the ledger ignores it
    (CallSeen(None, T0), ended, ()),  # a closed call's correction is not an event
])
def test_call_transitions(before: CallSeen | None, after: object, kinds: tuple[str, ...]) -> None:
    assert call_transitions(before, after) == kinds  # type: ignore[arg-type]


def test_a_call_events_data_keeps_what_the_ledger_knew() -> None:
    before = CallSeen(None, None, {"planned_call_id": "PC-1001", "client_id": "C-501", "expert_ext": "101",
                                   "client_number": "79115550101", "client_name": None, "recording": None})
    record = dataclasses.replace(ended, planned_call_id=None, client_id=None, expert_ext=None)
    events = call_events(before, record, expert_login="ivanova", client_id="C-501")
    assert [e.kind for e in events] == [CALL_ANSWERED, CALL_ENDED]
    assert {e.subject for e in events} == {"call:L-1"}
    assert events[1].data == {
        "linkedid": "L-1", "direction": "outbound", "expert_login": "ivanova", "expert_ext": "101",
        "client_id": "C-501", "client_number": "79115550101", "started_at": "2026-03-02T07:30:00.123+00:00",
        "answered_at": "2026-03-02T07:30:05.123+00:00", "ended_at": "2026-03-02T07:31:05.373+00:00",
        "outcome": "answered", "talk_s": 60.25, "duration_s": 65.25, "planned_call_id": "PC-1001",
        "guessed": False, "quality": []}
    assert json.loads(events[1].payload()) == events[1].data
