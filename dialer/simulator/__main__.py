"""`python -m dialer.simulator --port 5038 --speed 1 …`: run the built-in PBX standalone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import logging
import signal
from datetime import datetime
from pathlib import Path

from dialer.simulator.config import Scenario, SimulatorConfig
from dialer.simulator.server import PbxSimulator


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dialer.simulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5038)
    p.add_argument("--username", default="dsdesk")
    p.add_argument("--secret", default="dsdesk")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--epoch", type=datetime.fromisoformat, help="simulated start time (ISO 8601); default now")
    p.add_argument("--seed", type=int)
    p.add_argument("--recordings-dir", type=Path)
    p.add_argument("--monitor-dir", default="/var/spool/asterisk/monitor/")
    p.add_argument("--ring", type=_range, default=(3.0, 20.0), help="client ring seconds, LOW,HIGH")
    p.add_argument("--talk", type=_range, default=(20.0, 600.0), help="talk seconds, LOW,HIGH")
    p.add_argument("--mix", type=_mix, help="outcome weights, e.g. answered=5,busy=1,no_answer=2")
    p.add_argument("--demo-experts", type=lambda s: tuple(x for x in s.split(",") if x), default=(),
                   help="extensions that make demo calls, e.g. 101,102")
    p.add_argument("--demo-interval", type=float, default=300.0, help="simulated seconds between demo calls")
    p.add_argument("--expert-ring", type=_range, default=(1.0, 3.0), help="Expert's phone ring seconds, LOW,HIGH")
    p.add_argument("--demo-clients", type=_clients, default=(),
                   help="CSV file of number,organisation,client id: whom the demo calls and is called by")
    p.add_argument("--log-level", default="INFO")
    return p


def _range(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def _clients(path: str) -> tuple[tuple[str, str, str], ...]:
    with open(path, encoding="utf-8", newline="") as rows:
        return tuple((row[0], row[1], row[2]) for row in csv.reader(rows) if len(row) >= 3)


def _mix(text: str) -> tuple[tuple[Scenario, float], ...]:
    pairs = (item.split("=", 1) for item in text.split(",") if item)
    return tuple((Scenario(name.strip()), float(weight)) for name, weight in pairs)


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    extra = {"outcome_mix": args.mix} if args.mix else {}
    return SimulatorConfig(
        host=args.host, port=args.port, username=args.username, secret=args.secret, speed=args.speed,
        epoch=args.epoch.timestamp() if args.epoch else None, seed=args.seed, recordings_dir=args.recordings_dir,
        monitor_dir=args.monitor_dir, ring_s=args.ring, talk_s=args.talk, demo_experts=args.demo_experts,
        demo_interval_s=args.demo_interval, expert_ring_s=args.expert_ring, demo_clients=args.demo_clients,
        **extra,
    )


async def serve(config: SimulatorConfig) -> None:
    sim = PbxSimulator(config)
    await sim.start()
    logging.getLogger("dialer.simulator").info("PBX simulator listening on %s:%d (speed %g)",
                                               config.host, sim.port, config.speed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(config_from_args(args)))


if __name__ == "__main__":
    main()
