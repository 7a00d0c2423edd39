"""Where the real Asterisk 22 captures are, raw and scrubbed, and how a raw one is scrubbed.

The raw captures live in tests/fixtures/ami/asterisk-22/. Their scrubbed single-call versions are
the built-in PBX's runtime data (dialer/simulator/templates/), so tests read them there instead
of keeping copies; only the scrubbed mixed-8 capture, which the simulator does not ship, is a
fixture (tests/fixtures/ami/asterisk-22/scrubbed/).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

RAW = Path(__file__).resolve().parents[1] / "fixtures" / "ami" / "asterisk-22"
SCRUBBED_FIXTURES = RAW / "scrubbed"
SIMULATOR_TEMPLATES = Path(str(resources.files("dialer.simulator").joinpath("templates")))
# The lab dialplan's control variables (README.md there); set with and without the `__` prefix.
CONTROL_VARIABLES = frozenset({"SCENARIO", "RING_S", "TALK_S", "AGENT_RING_S", "AGENT_HANGUP_AFTER", "DIAL_TIMEOUT"})


def scrubbed(name: str) -> Path:
    """The scrubbed capture `name`: the simulator's template, else the fixture (mixed-8)."""
    shipped = SIMULATOR_TEMPLATES / name
    return shipped if shipped.exists() else SCRUBBED_FIXTURES / name


def scrub(raw: bytes) -> bytes:
    """A raw capture without the lab's scaffolding: control VarSets dropped, the scenario
    extensions of `ds-clients` (Exten, Extension, Destination, Goto's AppData) renamed to `s`."""
    banner, crlf, body = raw.partition(b"\r\n")
    frames = [frame.split(b"\r\n") for frame in body.split(b"\r\n\r\n")]
    scenarios = {v for f in frames if _control_variable(f) == b"SCENARIO" and (v := _value(f, b"Value"))}
    kept = [f for f in frames if _control_variable(f) is None]
    return banner + crlf + b"\r\n\r\n".join(b"\r\n".join(_line(line, scenarios) for line in f) for f in kept)


def _value(frame: list[bytes], key: bytes) -> bytes | None:
    return next((line[len(key) + 2:] for line in frame if line.startswith(key + b": ")), None)


def _control_variable(frame: list[bytes]) -> bytes | None:
    if _value(frame, b"Event") != b"VarSet":
        return None
    variable = (_value(frame, b"Variable") or b"").lstrip(b"_")
    return variable if variable.decode() in CONTROL_VARIABLES else None


def _line(line: bytes, scenarios: set[bytes]) -> bytes:
    key, sep, value = line.partition(b": ")
    if key in (b"Exten", b"Extension", b"Destination") and value in scenarios:
        return key + sep + b"s"
    if key == b"AppData":
        for name in scenarios:
            if value.startswith(name + b","):
                value = b"s" + value[len(name):]
            value = value.replace(b" scenario=" + name, b"")
    return key + sep + value
