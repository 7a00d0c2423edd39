"""Set-up for bench/live_push.py: the generated config, the Expert users, and (external mode) a PBX process."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import insert

from service.db.engine import create_engine, create_sessionmaker
from service.db.models import Client, ClientContact, Expert
from service.settings import SimulatorSettings

RING = {"expert_ring_s": (1, 2), "ring_s": (1, 5), "talk_s": (5, 30)}  # simulated seconds
DEMO_INTERVAL_S = 2.0  # simulated seconds between an idle Expert's demo calls
SIM_SECRET = "bench-ami"
KNOWN_CALLERS = 200  # external mode: clients seeded here, whom the simulator calls and is called by


def write_config(work: Path, db_url: str, port: int, extensions: list[str], speed: float,
                 ami_port: int | None) -> Path:
    """Embedded (`ami_port` None): the built-in simulator. External: AMI to a simulator process."""
    config: dict[str, object] = {
        "database": {"url": db_url},
        "recordings": {"dir": str(work / "recordings")},
        "service": {"host": "127.0.0.1", "port": port, "secret_key_file": str(work / "secret.key")},
    }
    if ami_port is None:
        config["simulator"] = {
            "speed": speed, "experts": extensions, "demo_load": True,
            "demo_calls_per_minute": 60.0 * len(extensions) / DEMO_INTERVAL_S, **RING,
        }
    else:
        config["pbx"] = {"mode": "asterisk"}
        config["ami"] = {"host": "127.0.0.1", "port": ami_port, "username": "dsdesk", "secret": SIM_SECRET,
                         "originate_channel": "Local/{ext}@ds-agents"}
    path = work / "config.yaml"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")  # JSON is YAML
    return path


def start_simulator(work: Path, port: int, extensions: list[str], speed: float) -> subprocess.Popen[bytes]:
    """The PBX in its own process, as Asterisk would be: its CPU is not the service's."""
    mix = ",".join(f"{name}={weight}" for name, weight in SimulatorSettings().outcome_mix.items())
    ring = {key: ",".join(str(v) for v in value) for key, value in RING.items()}
    command = [sys.executable, "-m", "dialer.simulator", "--port", str(port), "--secret", SIM_SECRET,
               "--speed", str(speed), "--demo-experts", ",".join(extensions),
               "--demo-interval", str(DEMO_INTERVAL_S), "--mix", mix, "--demo-clients", str(work / "callers.csv"),
               "--expert-ring", ring["expert_ring_s"], "--ring", ring["ring_s"], "--talk", ring["talk_s"],
               "--log-level", "WARNING"]
    log = (work / "simulator.log").open("w")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent)


async def seed_callers(db_url: str, work: Path) -> None:
    """External mode has no demo department: known clients with phones, and the simulator's list of them."""
    callers = [(f"7911666{i:04d}", f"ООО «Клиент {i}»", f"C-{5000 + i}") for i in range(KNOWN_CALLERS)]
    engine = create_engine(db_url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            for number, name, external_id in callers:
                client_id = await session.scalar(insert(Client).values(external_id=external_id, name=name)
                                                 .returning(Client.id))
                await session.execute(insert(ClientContact).values(client_id=client_id, full_name="Контакт",
                                                                   phone_e164=number))
    finally:
        await engine.dispose()
    with (work / "callers.csv").open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(callers)


async def add_experts(db_url: str, extensions: list[str], login_of: dict[str, str], password: str) -> None:
    """One hash for everyone: the bench measures pushing, not N argon2 computations here."""
    password_hash = PasswordHasher().hash(password)
    engine = create_engine(db_url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            await session.execute(insert(Expert), [
                {"login": login_of[ext], "full_name": f"Expert {ext}", "role": "expert", "extension": ext,
                 "password_hash": password_hash, "active": True} for ext in extensions])
    finally:
        await engine.dispose()
