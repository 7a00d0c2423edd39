"""Replays every real Asterisk 22 capture through the tracker and checks each field by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dialer.records import REPLAY_KEYS
from dialer.replay import iter_messages, read_chunks, replay_file, replay_messages
from tests.dialer.captures import scrubbed
from tests.dialer.cdr_truth import cdr_truth_by_linkedid

CAPTURES = Path(__file__).parent.parent / "fixtures" / "ami" / "asterisk-22"
PUBLIC = Path(__file__).resolve().parents[3] / "shared" / "ami" / "public"
MON = "/var/spool/asterisk/monitor/"


def rec(linkedid, direction, ext, number, started, answered, ended, duration, talk, outcome, cause,
        recording, planned=None, client=None):
    return {
        "linkedid": linkedid, "direction": direction, "expert_ext": ext, "client_number": number,
        "started_at": started, "answered_at": answered, "ended_at": ended, "duration_s": duration,
        "talk_s": talk, "outcome": outcome, "hangup_cause": cause, "recording": recording,
        "planned_call_id": planned, "client_id": client, "quality": [],
    }


D = "2026-11-28T00:"
EXPECTED: dict[str, list[dict]] = {
    "answered.ami": [rec("1795824043.7", "outbound", "101", "79115550101", D + "00:43.137+00:00",
                         D + "00:47.142+00:00", D + "00:55.147+00:00", 12.009, 8.005, "answered", 16,
                         MON + "ds-1795824043.7.wav", "PC-1001", "C-501")],
    "no-answer.ami": [rec("1795824057.14", "outbound", "102", "79115550102", D + "00:57.658+00:00", None,
                          D + "01:08.663+00:00", 11.005, 0.0, "no_answer", 16,
                          MON + "ds-1795824057.14.wav", "PC-1002", "C-502")],
    "busy.ami": [rec("1795824071.22", "outbound", "103", "79115550103", D + "01:11.175+00:00", None,
                     D + "01:14.181+00:00", 3.006, 0.0, "busy", 17, MON + "ds-1795824071.22.wav",
                     "PC-1003", "C-503")],
    "congestion.ami": [rec("1795824076.30", "outbound", "101", "79115550104", D + "01:16.691+00:00", None,
                           D + "01:18.697+00:00", 2.006, 0.0, "congestion", 34,
                           MON + "ds-1795824076.30.wav", "PC-1004", "C-504")],
    "reject.ami": [rec("1795824081.38", "outbound", "104", "79115550105", D + "01:21.208+00:00", None,
                       D + "01:25.213+00:00", 4.005, 0.0, "rejected", 21, MON + "ds-1795824081.38.wav",
                       "PC-1005", "C-505")],
    "expert-phone-not-answered.ami": [rec("1795824087.46", "outbound", "105", "79115550106",
                                          D + "01:27.727+00:00", None, D + "01:33.902+00:00", 6.175, 0.0,
                                          "expert_no_answer", 19, None, "PC-1006", "C-506")],
    "expert-hangs-up-first.ami": [rec("1795824096.50", "outbound", "106", "79115550107",
                                      D + "01:36.414+00:00", D + "01:39.419+00:00", D + "01:46.425+00:00",
                                      10.011, 7.006, "answered", 16, MON + "ds-1795824096.50.wav",
                                      "PC-1007", "C-507")],
    "inbound-answered.ami": [rec("1795824108.57", "inbound", "107", "79115550110", D + "01:48.938+00:00",
                                 D + "01:49.940+00:00", D + "01:57.940+00:00", 9.002, 8.0, "answered", 16,
                                 MON + "ds-in-1795824108.57.wav")],
    "cancelled.ami": [rec("1795825419.222", "outbound", "109", "79115550108", D + "23:39.404+00:00", None,
                          D + "23:47.410+00:00", 8.006, 0.0, "cancelled", 16,
                          MON + "ds-1795825419.222.wav", "PC-1008", "C-508")],
    "inbound-missed.ami": [rec("1795825429.229", "inbound", "110", "79115550119", D + "23:49.922+00:00",
                               None, D + "23:57.924+00:00", 8.003, 0.0, "missed", 16,
                               MON + "ds-in-1795825429.229.wav")],
}
# mixed-8: eight overlapping calls (README row order): answered, busy, no answer, inbound,
# answered, reject, congestion, Expert hangs up first. Listed here in the order they end.
EXPECTED["mixed-8.ami"] = [
    rec("1795824121.66", "outbound", "102", "79115550112", D + "02:01.154+00:00", None, D + "02:03.160+00:00",
        2.006, 0.0, "busy", 17, MON + "ds-1795824121.66.wav", "PC-1012", "C-512"),
    rec("1795824123.88", "outbound", "107", "79115550117", D + "02:03.758+00:00", None, D + "02:05.763+00:00",
        2.005, 0.0, "congestion", 34, MON + "ds-1795824123.88.wav", "PC-1017", "C-517"),
    rec("1795824123.86", "outbound", "106", "79115550116", D + "02:03.454+00:00", None, D + "02:06.460+00:00",
        3.005, 0.0, "rejected", 21, MON + "ds-1795824123.86.wav", "PC-1016", "C-516"),
    rec("1795824122.74", "inbound", "104", "79115550114", D + "02:02.359+00:00", D + "02:03.362+00:00",
        D + "02:08.362+00:00", 6.003, 5.0, "answered", 16, MON + "ds-in-1795824122.74.wav"),
    rec("1795824121.70", "outbound", "103", "79115550113", D + "02:01.555+00:00", None, D + "02:10.560+00:00",
        9.005, 0.0, "no_answer", 16, MON + "ds-1795824121.70.wav", "PC-1013", "C-513"),
    rec("1795824122.80", "outbound", "105", "79115550115", D + "02:02.861+00:00", D + "02:07.865+00:00",
        D + "02:12.870+00:00", 10.01, 5.006, "answered", 16, MON + "ds-1795824122.80.wav", "PC-1015", "C-515"),
    rec("1795824124.94", "outbound", "108", "79115550118", D + "02:04.459+00:00", D + "02:06.464+00:00",
        D + "02:13.467+00:00", 9.007, 7.003, "answered", 16, MON + "ds-1795824124.94.wav", "PC-1018", "C-518"),
    rec("1795824120.64", "outbound", "101", "79115550111", D + "02:00.451+00:00", D + "02:03.454+00:00",
        D + "02:15.457+00:00", 15.006, 12.002, "answered", 16, MON + "ds-1795824120.64.wav", "PC-1011", "C-511"),
]


def replay_dicts(path: Path, drop_events: frozenset[str] = frozenset()) -> list[dict]:
    messages = (m for m in iter_messages(read_chunks(path)) if m.get("Event") not in drop_events)
    return [r.replay_dict() for r in replay_messages(messages)]


@pytest.mark.parametrize("variant", ["raw", "scrubbed", "no_cdr_cel"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_capture_gives_expected_records(name: str, variant: str) -> None:
    path = scrubbed(name) if variant == "scrubbed" else CAPTURES / name
    dropped = frozenset({"Cdr", "CEL"}) if variant == "no_cdr_cel" else frozenset()
    assert replay_dicts(path, dropped) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expectations_agree_with_asterisk_cdrs(name: str) -> None:
    truth = cdr_truth_by_linkedid(CAPTURES / name)
    for expected in EXPECTED[name]:
        cdr = truth[expected["linkedid"]]
        assert abs(expected["duration_s"] - cdr.duration_s) <= 1, expected["linkedid"]
        assert abs(expected["talk_s"] - cdr.talk_s) <= 1, expected["linkedid"]


def test_status_probe_is_not_a_call_scenario() -> None:
    assert replay_dicts(CAPTURES / "status-probe.ami") == []


@pytest.mark.parametrize(
    ("fixture", "ext", "number", "outcome", "cause"),
    [
        ("dannielperez__pyfreepbx__tests_fixtures_ami_answered.txt", "7001", "7002", "answered", 16),
        ("dannielperez__pyfreepbx__tests_fixtures_ami_missed.txt", "7003", "7004", "rejected", 21),
    ],
)
def test_public_pjsip_captures(fixture: str, ext: str, number: str, outcome: str, cause: int) -> None:
    path = PUBLIC / fixture
    if not path.exists():
        # CI lays shared/ beside the clone: there the public captures must be checked, never skipped.
        if os.environ.get("CI") == "true":
            pytest.fail(f"public AMI captures missing at {PUBLIC}")
        pytest.skip("shared/ami/public is not beside this checkout")
    [record] = replay_dicts(path)
    assert (record["direction"], record["expert_ext"], record["client_number"]) == ("outbound", ext, number)
    assert (record["outcome"], record["hangup_cause"]) == (outcome, cause)
    # No Timestamp headers in these captures: times come from receipt, and the record says so.
    assert record["quality"] == ["times_from_receipt"]


def test_replay_cli_prints_exact_keys() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dialer", "replay", str(CAPTURES / "answered.ami")],
        capture_output=True, text=True, check=True,
    ).stdout
    [line] = out.splitlines()
    assert tuple(json.loads(line)) == REPLAY_KEYS
    assert json.loads(line) == EXPECTED["answered.ami"][0]


def test_the_dialers_replay_needs_no_settings() -> None:
    """`python -m dialer` runs on the tracker's defaults; the Expert channel pattern is an option."""
    def replay(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dialer", "-q", "replay", *args], capture_output=True,
                              text=True, env={**os.environ, "DSDESK_CONFIG": "/no/such/config.yaml"})

    assert replay("--expert-channel-pattern", r"^PJSIP/(?P<ext>\d+)-", str(CAPTURES / "answered.ami")).stdout == ""
    missing = replay("/no/such/capture.ami")
    assert missing.returncode == 1 and "no such file" in missing.stderr
    bad = replay("--expert-channel-pattern", "(", str(CAPTURES / "answered.ami"))
    assert bad.returncode == 2 and "regular expression" in bad.stderr and "Traceback" not in bad.stderr


def test_replay_file_matches_streaming() -> None:
    records = [r.replay_dict() for r in replay_file(CAPTURES / "mixed-8.ami")]
    assert records == EXPECTED["mixed-8.ami"]
