"""Write a call's recording as a real WAV, as long as MixMonitor's would be with the dialplan of docs/asterisk.md:
an outbound call's `MixMonitor(…,b)` records only while bridged (the talk), an inbound call's from the dial step
(MIXMONITOR_FILENAME) to the hang-up, the ringing included.

The file is small on purpose: 8000 Hz, 8-bit mono, 8 KB a second (a 10-minute call is 4.8 MB). Silence while
the phone rings, then a short quiet 425 Hz beep at every second of the talk, so a seek can be heard.

What the demo costs on disk: its background Experts (`simulator.experts`, DemoLoad) are on a call almost all day,
so their files are capped at a few seconds (dialer/simulator/calls.py DEMO_LOAD_CAP_S); the calls a person places
in the demo are recorded whole (a 10-minute call: 4.8 MB). `recordings.retention_days` deletes recordings
(docs/calllog.md, «Retention»); it is 0 (keep forever) unless set.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

RATE = 8000
SILENT = 0x80  # unsigned 8-bit PCM: 128 is the zero line
TONE_HZ = 425  # the Russian ringback/dial tone frequency: recognisable, not loud
AMPLITUDE = 12  # of 127: about -20 dBFS, as quiet as the 16-bit files used to be
BEEP_S = 0.15  # at the start of every second of the talk
MIN_S = 0.25  # a call hung up at once still gets a (short) valid file, like MixMonitor's
CHUNK_S = 60  # written a minute at a time: a long call never sits whole in memory

_SILENT_SECOND = bytes([SILENT]) * RATE
_BEEP_SECOND = bytes(
    SILENT + round(AMPLITUDE * math.sin(2 * math.pi * TONE_HZ * n / RATE)) if n < BEEP_S * RATE else SILENT
    for n in range(RATE)
)


def pbx_recording_name(pbx_path: str) -> str:
    """`/var/spool/asterisk/monitor/ds-1795.7.wav` → `ds-1795.7.wav`."""
    return pbx_path.rsplit("/", 1)[-1]


def recording_seconds(bridged_only: bool, mixmonitor_at: float | None, ended_at: float | None,
                      talk_s: float) -> float:
    """How long MixMonitor would have recorded: the talk when it records only while bridged, else from its start
    (the dial step) to the hang-up. Without either moment (a call cut off before them) the talk is what there is.
    """
    if bridged_only or mixmonitor_at is None or ended_at is None:
        return max(talk_s, 0.0)
    return max(ended_at - mixmonitor_at, talk_s, 0.0)


def write_recording(folder: Path, name: str, length_s: float, talk_s: float, cap_s: float) -> Path:
    """Write `<folder>/<name>`, `length_s` long (at most `cap_s`, at least MIN_S), its last `talk_s` the talk."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    total = round(max(min(length_s, cap_s), MIN_S) * RATE)
    talk = min(round(max(talk_s, 0.0) * RATE), total)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(RATE)
        _write_repeated(out, _SILENT_SECOND, total - talk)
        _write_repeated(out, _BEEP_SECOND, talk)
    return path


def _write_repeated(out: wave.Wave_write, second: bytes, frames: int) -> None:
    """`frames` frames of `second` over and over, from its start."""
    whole_chunks, rest = divmod(frames, CHUNK_S * RATE)
    chunk = second * CHUNK_S
    for _ in range(whole_chunks):
        out.writeframes(chunk)
    seconds, tail = divmod(rest, RATE)
    out.writeframes(second * seconds + second[:tail])
