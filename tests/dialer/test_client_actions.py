"""The pure action builders, the backoff formula and the wire form of an action."""

from __future__ import annotations

import hashlib

import pytest
from asterisk.ami.action import Action

from dialer import actions
from dialer.ami_options import backoff_delay


def test_originate_call_is_async_with_linkage_variables_and_our_channel_ids() -> None:
    name, headers, variables = actions.originate_call(
        "PJSIP/101", "ds-outbound", "79115550101", "PC-1001", "C-501", "chan-a", "chan-b", "Эксперт <101>", 25_000
    )
    assert name == "Originate"
    assert headers == {
        "Channel": "PJSIP/101",
        "Context": "ds-outbound",
        "Exten": "79115550101",
        "Priority": "1",
        "Timeout": "25000",
        "CallerID": "Эксперт <101>",
        "Async": "true",
        "ChannelId": "chan-a",
        "OtherChannelId": "chan-b",
    }
    assert variables == {"PLANNED_CALL_ID": "PC-1001", "CLIENT_ID": "C-501"}


def test_unplanned_originate_sends_only_the_known_variables() -> None:
    spec = actions.originate_call("PJSIP/101", "ds-outbound", "79115550101", None, "C-501", "a", "b", "101")
    assert spec.variables == {"CLIENT_ID": "C-501"}
    assert spec.headers["Timeout"] == "30000"


def test_variables_go_out_as_repeated_lines() -> None:
    spec = actions.originate_call("PJSIP/101", "ds-outbound", "79115550101", "PC-1", "C-1", "a", "b", "101")
    wire = str(Action(spec.name, spec.headers, spec.variables))
    assert "Variable: PLANNED_CALL_ID=PC-1\r\nVariable: CLIENT_ID=C-1\r\n" in wire
    assert wire.startswith("Action: Originate\r\n")


@pytest.mark.parametrize(("mode", "options"), [("listen", "qE"), ("whisper", "qwE"), ("barge", "qBE")])
def test_chanspy_originates_to_the_supervisor_with_the_mode_options(mode: actions.SpyMode, options: str) -> None:
    name, headers, variables = actions.chanspy("PJSIP/200", "PJSIP/101-", mode)
    assert name == "Originate"
    assert headers["Channel"] == "PJSIP/200"
    assert headers["Application"] == "ChanSpy"
    assert headers["Data"] == f"PJSIP/101-,{options}"
    assert headers["Async"] == "true"
    assert variables == {}


def test_chanspy_rejects_unknown_modes_and_option_injection() -> None:
    with pytest.raises(ValueError, match="mode"):
        actions.chanspy("PJSIP/200", "PJSIP/101-", "shout")  # type: ignore[arg-type]  # an unknown mode, on purpose
    with pytest.raises(ValueError, match="comma"):
        actions.chanspy("PJSIP/200", "PJSIP/101-,B", "listen")


def test_simple_builders() -> None:
    assert actions.hangup("PJSIP/101-0001") == ("Hangup", {"Channel": "PJSIP/101-0001"}, {})
    assert actions.core_status() == ("CoreStatus", {}, {})
    assert actions.core_show_channels() == ("CoreShowChannels", {}, {})
    assert actions.ping() == ("Ping", {}, {})


def test_md5_login_key_is_md5_of_challenge_then_secret() -> None:
    name, headers, _ = actions.login_md5("desk", "s3cret", "12345")
    assert name == "Login"
    assert headers == {"AuthType": "MD5", "Username": "desk", "Key": hashlib.md5(b"12345s3cret").hexdigest()}


def test_line_breaks_in_any_field_are_refused() -> None:
    actions.check_action("Originate", {"Channel": "PJSIP/1"}, {"A": "b"})
    with pytest.raises(ValueError):
        actions.check_action("Originate", {"CallerID": "x\r\nAction: Hangup"}, {})
    with pytest.raises(ValueError):
        actions.check_action("Originate", {}, {"CLIENT_ID": "C-1\nX"})


def test_channel_ids_are_fresh() -> None:
    assert actions.new_channel_id() != actions.new_channel_id()


def test_backoff_doubles_up_to_the_cap_and_jitters_within_bounds() -> None:
    assert [backoff_delay(n, 0.5, 4.0, 0.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff_delay(2, 0.5, 4.0, 0.2, rnd=lambda: 0.0) == pytest.approx(1.6)
    assert backoff_delay(2, 0.5, 4.0, 0.2, rnd=lambda: 1.0) == pytest.approx(2.4)
    assert backoff_delay(10_000, 0.5, 30.0, 0.0) == 30.0
