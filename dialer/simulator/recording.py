"""Write a call's recording as a real WAV (8 kHz mono 16-bit): a tone as long as the talk, capped."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 8000
TONE_HZ = 425  # the Russian ringback/dial tone frequency: recognisable, not loud
SILENCE_S = 0.25  # an unanswered call still gets a (short) valid file, like MixMonitor's

_ONE_SECOND = b"".join(
    struct.pack("<h", int(3000 * math.sin(2 * math.pi * TONE_HZ * n / RATE))) for n in range(RATE)
)


def pbx_recording_name(pbx_path: str) -> str:
    """`/var/spool/asterisk/monitor/ds-1795.7.wav` → `ds-1795.7.wav`."""
    return pbx_path.rsplit("/", 1)[-1]


def write_recording(folder: Path, name: str, talk_s: float, cap_s: float) -> Path:
    """Write `<folder>/<name>` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    seconds = min(talk_s, cap_s)
    frames = _tone(seconds) if seconds > 0 else b"\x00\x00" * int(RATE * SILENCE_S)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)
    return path


def _tone(seconds: float) -> bytes:
    whole, rest = divmod(int(seconds * RATE), RATE)
    return _ONE_SECOND * whole + _ONE_SECOND[: rest * 2]
