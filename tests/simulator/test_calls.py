"""Re-timed calls, their truth records and their recordings."""

from __future__ import annotations

import asyncio
import wave
from datetime import UTC, datetime
from pathlib import Path

from dialer.ami.message import Message
from dialer.simulator import PbxSimulator, Scenario, SimulatorConfig
from dialer.simulator.recording import recording_seconds, write_recording
from dialer.simulator.truth import TruthRecord
from tests.simulator.amiclient import AmiTestClient
from tests.simulator.conftest import FAST


def by_event(events: list[Message], name: str) -> list[Message]:
    return [m for m in events if m.get("Event") == name]


async def test_durations_are_scaled_everywhere(sim: PbxSimulator, client: AmiTestClient) -> None:
    truth = sim.start_outbound("101", "79110000100", scenario=Scenario.ANSWERED, expert_ring_s=2, ring_s=5,
                               talk_s=30, caller_name="Эксперт", variables=(("PLANNED_CALL_ID", "PC-1"),))
    await sim.wait_idle()
    events = [m for m in await client.drain(0.05) if m.get("Event") not in (None, "SuccessfulAuth", "FullyBooted")]
    stamps = [float(m["Timestamp"]) for m in events]
    assert stamps == sorted(stamps)
    first = float(events[0]["Timestamp"])
    answer = next(m for m in by_event(events, "DialEnd") if "Channel" in m and m["DialStatus"] == "ANSWER")
    last_hangup = by_event(events, "Hangup")[-1]
    assert abs(float(answer["Timestamp"]) - first - 7) < 0.05  # Expert rings 2 s, client 5 s
    assert abs(float(last_hangup["Timestamp"]) - float(answer["Timestamp"]) - 30) < 0.05
    client_cdr = next(m for m in by_event(events, "Cdr") if "@ds-clients-" in m["Channel"])
    expert_cdr = next(m for m in by_event(events, "Cdr") if m["LastApplication"] == "Dial")
    assert client_cdr["BillableSeconds"] == "30" and expert_cdr["Duration"] == "37"
    assert expert_cdr["PlannedCallId"] == "PC-1" and expert_cdr["ClientId"] == ""
    start = datetime.fromtimestamp(first, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert expert_cdr["StartTime"] == start
    assert by_event(events, "CEL")[0]["EventTime"] == start
    assert [m["Value"] for m in by_event(events, "VarSet") if m["Variable"] == "ANSWEREDTIME"][-1] == "35"
    assert truth.talk_s == 30.0 or abs(truth.talk_s - 30) < 0.05
    assert truth.answered_at == datetime.fromtimestamp(float(answer["Timestamp"]), tz=UTC)


async def test_truth_records(sim: PbxSimulator) -> None:
    sim.script("79110000101", Scenario.REJECTED, ring_s=4)
    rejected = sim.start_outbound("101", "79110000101", variables=(("PLANNED_CALL_ID", "PC-2"), ("CLIENT_ID", "C-2")))
    missed = sim.start_inbound("89110000102", "ИП Смирнов", "110", scenario=Scenario.INBOUND_MISSED, ring_s=8)
    await sim.wait_idle()
    assert sim.truth[rejected.linkedid] is rejected and list(sim.truth) == [rejected.linkedid, missed.linkedid]
    assert (rejected.direction, rejected.outcome, rejected.hangup_cause) == ("outbound", "rejected", 21)
    assert (rejected.planned_call_id, rejected.client_id, rejected.answered_at) == ("PC-2", "C-2", None)
    assert rejected.talk_s == 0 and abs(rejected.duration_s - (rejected.plan.expert_ring_s + 4)) < 0.05
    assert (missed.direction, missed.outcome, missed.client_name, missed.expert_ext) == (
        "inbound", "missed", "ИП Смирнов", "110")
    assert abs(missed.duration_s - 8) < 0.05 and missed.ended_by == "pbx"
    record = rejected.as_dict()
    assert record["talk_s"] == 0 and record["linkedid"] == rejected.linkedid


async def test_recordings_are_valid_wavs(sim: PbxSimulator) -> None:
    answered = sim.start_outbound("101", "79110000103", scenario=Scenario.ANSWERED, ring_s=1, talk_s=2)
    inbound = sim.start_inbound("79110000104", "ООО Ромашка", "102", ring_s=1, talk_s=60)
    busy = sim.start_outbound("103", "79110000105", scenario=Scenario.BUSY, ring_s=1)
    never = sim.start_outbound("104", "79110000106", scenario=Scenario.EXPERT_NO_ANSWER, expert_ring_s=3)
    await sim.wait_idle()
    assert answered.recording == f"/var/spool/asterisk/monitor/ds-{answered.linkedid}.wav"
    assert inbound.recording == f"/var/spool/asterisk/monitor/ds-in-{inbound.linkedid}.wav"
    assert never.recording is None and never.recording_file is None  # MixMonitor never ran
    # Outbound: the talk (MixMonitor's `b`); inbound: the ringing too; busy: never bridged, a short silence.
    for truth, seconds in ((answered, 2.0), (inbound, 61.0), (busy, 0.25)):
        assert truth.recording is not None and truth.recording_file is not None
        assert truth.recording_file.name == Path(truth.recording).name
        with wave.open(str(truth.recording_file)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 1, 8000)
            assert abs(wav.getnframes() / 8000 - seconds) < 0.05


def wav_of(truth: TruthRecord) -> tuple[float, bytes]:
    """(seconds, 8-bit samples) of the call's recording."""
    assert truth.recording_file is not None
    with wave.open(str(truth.recording_file)) as wav:
        return wav.getnframes() / wav.getframerate(), wav.readframes(wav.getnframes())


async def test_a_recording_is_as_long_as_what_mixmonitor_records(sim: PbxSimulator) -> None:
    """Not the old 3 s: a 10-minute talk is a 10-minute file (8 KB a second), so a comment at 9:00 fits."""
    outbound = sim.start_outbound("101", "79110000108", scenario=Scenario.ANSWERED, expert_ring_s=2, ring_s=5,
                                  talk_s=600)
    inbound = sim.start_inbound("79110000109", "ООО Ромашка", "102", ring_s=8, talk_s=32)
    await sim.wait_idle()
    seconds, samples = wav_of(outbound)
    assert abs(seconds - outbound.talk_s) < 0.05 and abs(seconds - 600) < 0.1
    assert outbound.recording_file is not None and outbound.recording_file.stat().st_size < 600 * 8000 + 100
    assert samples[:1200] != bytes([0x80]) * 1200 and max(samples) - 0x80 <= 12  # a beep at once, a quiet one
    seconds, samples = wav_of(inbound)
    assert abs(seconds - 40) < 0.1 and abs(seconds - inbound.duration_s) < 0.1  # from the dial step: ringing too
    ringing, talk = samples[:7 * 8000], samples[8 * 8000:]
    assert set(ringing) == {0x80} and set(talk) != {0x80}  # silent while it rings, beeps while they talk


async def test_a_restart_cuts_the_recording_where_the_call_was_lost(sim: PbxSimulator) -> None:
    truth = sim.start_outbound("101", "79110000110", scenario=Scenario.ANSWERED, ring_s=1, talk_s=600)
    while truth.answered_at is None:
        await asyncio.sleep(0.001)
    await asyncio.sleep(20 / FAST)  # 20 simulated seconds into the talk
    await sim.restart()
    seconds, _ = wav_of(truth)
    assert truth.ended_by == "restart" and 15 < seconds < 300 and abs(seconds - truth.talk_s) < 0.05


async def test_monitor_dir_prefix_is_configurable(tmp_path: Path) -> None:
    config = SimulatorConfig(speed=500, seed=1, monitor_dir="/srv/rec/", recordings_dir=None)
    async with PbxSimulator(config) as sim:
        truth = sim.start_outbound("101", "79110000107", scenario=Scenario.NO_ANSWER, ring_s=3)
        await sim.wait_idle()
    assert truth.recording == f"/srv/rec/ds-{truth.linkedid}.wav" and truth.recording_file is None


async def test_outcome_mix_and_seed_are_deterministic() -> None:
    mix = ((Scenario.BUSY, 1.0), (Scenario.ANSWERED, 1.0))
    runs = []
    for _ in range(2):
        async with PbxSimulator(SimulatorConfig(speed=1000, seed=42, outcome_mix=mix, talk_s=(1, 2))) as sim:
            calls = [sim.start_outbound("101", f"7911000020{n}") for n in range(6)]
            await sim.wait_idle()
            runs.append([(c.scenario, round(c.plan.ring_s, 6)) for c in calls])
    assert runs[0] == runs[1]
    assert {s for s, _ in runs[0]} <= {Scenario.BUSY, Scenario.ANSWERED}


def test_the_length_mixmonitor_would_record() -> None:
    assert recording_seconds(True, 100.0, 160.0, 32.0) == 32.0  # outbound, `b`: the talk only
    assert recording_seconds(False, 100.0, 160.0, 32.0) == 60.0  # inbound: from the dial step
    assert recording_seconds(False, None, None, 32.0) == 32.0  # cut off before MixMonitor said when


def test_the_file_is_capped_and_never_empty(tmp_path: Path) -> None:
    for length, cap, seconds in ((7200.0, 90.0, 90.0), (0.0, 3600.0, 0.25)):
        with wave.open(str(write_recording(tmp_path, "a.wav", length, length, cap))) as wav:
            assert wav.getnframes() / wav.getframerate() == seconds


async def test_the_demo_loads_background_calls_keep_short_files(tmp_path: Path) -> None:
    """The demo load's Experts talk all day: their files stay a few seconds (bounded disk); a person's call in the
    demo, from any other extension, is recorded whole."""
    from tests.simulator.conftest import EPOCH

    config = SimulatorConfig(speed=FAST, epoch=EPOCH, seed=7, recordings_dir=tmp_path / "rec", demo_experts=("102",))
    sim = PbxSimulator(config)
    await sim.start()
    try:
        background = sim.start_outbound("102", "79110000111", scenario=Scenario.ANSWERED, ring_s=1, talk_s=300)
        person = sim.start_outbound("101", "79110000112", scenario=Scenario.ANSWERED, ring_s=1, talk_s=300)
        await sim.wait_idle()
    finally:
        await sim.stop()
    assert abs(wav_of(background)[0] - 3.0) < 0.05 and abs(wav_of(person)[0] - 300) < 0.1
