"""`dsdesk run` (what `make run` starts): the service with the simulator and demo calls in the ledger."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

DSDESK = [sys.executable, "-m", "service"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_starts_everything_and_demo_calls_reach_the_ledger(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database:\n  url: sqlite+aiosqlite:///{tmp_path}/dsdesk.db\n"
        f"recordings:\n  dir: {tmp_path}/rec\n"
        f"service:\n  port: {port}\n"
        "simulator:\n  speed: 20\n  demo_calls_per_minute: 600\n  experts: ['101', '102', '103']\n"
        "  expert_ring_s: [1, 1]\n  ring_s: [1, 2]\n  talk_s: [2, 6]\n",
        encoding="utf-8",
    )
    env = {**os.environ, "DSDESK_CONFIG": str(config)}
    subprocess.run([*DSDESK, "db", "upgrade"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([*DSDESK, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        health = wait_for(lambda: json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz")))
        assert health["status"] == "ok" and health["ami_connected"] is True
        closed = wait_for(lambda: closed_calls(env, minimum=5))
        assert {r["direction"] for r in closed} <= {"outbound", "inbound"}
        assert all(r["expert_ext"] in {"101", "102", "103"} for r in closed)
        # Demo clients are seeded: inbound calls from their numbers are linked to them.
        assert any(r["client_id"] for r in closed)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # never leave a service running behind the suite
            proc.kill()
            raise
    assert "DS Desk is running" in out
    assert proc.returncode == 0, out[-3000:]


def closed_calls(env: dict[str, str], minimum: int) -> list[dict]:
    out = subprocess.run([*DSDESK, "calls", "list", "--all", "--json"], env=env, check=True,
                         capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    closed = [r for r in rows if r["ended_at"]]
    if len(closed) < minimum:
        raise AssertionError(f"{len(closed)} closed calls so far")
    return closed


def wait_for(probe, timeout: float = 60.0):  # noqa: ANN001, ANN201 - tiny polling helper
    deadline = time.monotonic() + timeout
    while True:
        try:
            return probe()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
