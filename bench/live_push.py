"""Benchmark: live call state pushed to N signed-in Experts over Server-Sent Events.

For each size N (default 30, then 300): a generated config (SQLite under var/bench/live_push/,
the built-in simulator with N extensions making calls continuously at a high simulated speed),
`dsdesk run` started as a separate process, N Expert users written to the database (one argon2
hash shared by all), N protocol-level clients (aiohttp, this process) signed in through POST /login
and reading GET /live. Then `--seconds` of measuring:
  latency   per `call` message: client receipt time (time.time()) − the payload's `received_at`
            (when the AMI batch reached the service); same machine, same clock;
  CPU       the server process's user+sys seconds over the window (/proc/<pid>/stat), which
            includes the built-in simulator producing the AMI traffic;
  rate      `call` messages received per second (each goes to exactly one Expert).

    .venv/bin/python bench/live_push.py [--experts 30,300] [--seconds 60] [--speed 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _live_clients import LiveClient, Tally
from _live_setup import add_experts, seed_callers, start_simulator, write_config

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench" / "live_push"
DSDESK = [sys.executable, "-m", "service"]
PASSWORD = "bench-password-1"
FIRST_EXTENSION = 2000
SPEED = 2.0  # with calls of ~25 simulated seconds: every Expert starts a call about every 13 s
SIGN_IN_CONCURRENCY = 8  # each sign-in is an argon2 verification on the server
TARGET_P99_MS = 100.0


@dataclass(frozen=True, slots=True)
class Result:
    experts: int
    mode: str  # embedded: the simulator inside `dsdesk run`; external: in a process of its own
    seconds: float
    messages: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_s: float
    client_cpu_s: float
    wrong_expert: int
    idle_cpu_share: float  # server CPU (% of one core) with the same calls and no streams
    lookup_count: int  # inbound calls' first events (they wait for the caller lookup)
    lookup_p99_ms: float


    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_share(self) -> float:
        return 100.0 * self.cpu_s / self.seconds


def main() -> None:
    args = parse_args()
    print(f"# live_push: {platform.python_version()}, nproc={os.cpu_count()}, speed={args.speed}, "
          f"{args.seconds:g} s per size", flush=True)
    results = [asyncio.run(run_size(n, mode, args.seconds, args.speed, args.baseline_seconds))
               for mode in args.pbx for n in args.experts]
    print()
    print(table(results))
    worst = max(r.p99_ms for r in results)
    print(f"\ntarget p99 <= {TARGET_P99_MS:g} ms: {'met' if worst <= TARGET_P99_MS else 'NOT met'} "
          f"(worst p99 {worst:.1f} ms)")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--experts", type=lambda s: [int(x) for x in s.split(",") if x], default=[30, 300])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--pbx", type=lambda s: [m for m in s.split(",") if m], default=["embedded", "external"],
                   help="embedded (the simulator inside dsdesk run), external (its own process), or both")
    p.add_argument("--speed", type=float, default=SPEED, help="simulated seconds per real second")
    p.add_argument("--baseline-seconds", type=float, default=20.0,
                   help="server CPU measured this long with the same calls but no streams open")
    return p.parse_args()


# ---- one size ---------------------------------------------------------------------------
async def run_size(experts: int, mode: str, seconds: float, speed: float, baseline_s: float) -> Result:
    work = WORK / f"{mode}-n{experts}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    port, ami_port = free_port(), (free_port() if mode == "external" else None)
    db_url = f"sqlite+aiosqlite:///{work / 'dsdesk.db'}"
    extensions = [str(FIRST_EXTENSION + i) for i in range(experts)]
    env = {**os.environ, "DSDESK_CONFIG": str(write_config(work, db_url, port, extensions, speed, ami_port))}
    subprocess.run([*DSDESK, "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT)
    processes: list[subprocess.Popen[bytes]] = []
    if ami_port is not None:
        await seed_callers(db_url, work)
        processes.append(start_simulator(work, ami_port, extensions, speed))
    log = (work / "service.log").open("w")
    server = subprocess.Popen([*DSDESK, "run"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    processes.insert(0, server)
    tally = Tally()
    clients: list[LiveClient] = []
    tag = f"[{mode} {experts}]"
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_healthy(base, server)
        await add_experts(db_url, extensions, {ext: login_of(ext) for ext in extensions}, PASSWORD)
        idle_cpu = await cpu_over(server.pid, baseline_s)
        print(f"{tag} no streams: server CPU {idle_cpu:.1f} s in {baseline_s:g} s", flush=True)
        clients = [LiveClient(base, login_of(ext), PASSWORD, ext, tally) for ext in extensions]
        await connect(clients)
        print(f"{tag} {experts} Experts signed in, streams open; measuring {seconds:g} s", flush=True)
        cpu0, client0, t0 = process_cpu_s(server.pid), own_cpu_s(), time.monotonic()
        tally.measuring = True
        await asyncio.sleep(seconds)
        tally.measuring = False
        cpu1, client1, elapsed = process_cpu_s(server.pid), own_cpu_s(), time.monotonic() - t0
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        for process in processes:
            stop(process)
        log.close()
    result = summarise(experts, mode, elapsed, tally, cpu1 - cpu0, client1 - client0, idle_cpu / baseline_s)
    print(f"{tag} {line(result)}", flush=True)
    return result


def login_of(extension: str) -> str:
    return f"expert{extension}"


async def connect(clients: list[LiveClient]) -> None:
    gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

    async def one(client: LiveClient) -> None:
        async with gate:
            await client.sign_in()
        await client.open()
        await asyncio.wait_for(client.snapshot.wait(), 30)

    await asyncio.gather(*(one(c) for c in clients))


async def wait_healthy(base: str, server: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"dsdesk run exited with {server.returncode}: see its service.log")
        try:
            health = await asyncio.to_thread(lambda: json.load(urllib.request.urlopen(f"{base}/healthz", timeout=2)))
            if health.get("ami_connected"):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the service did not become healthy")
        await asyncio.sleep(0.3)


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# ---- measuring ----------------------------------------------------------------------------
def process_cpu_s(pid: int) -> float:
    """user + sys CPU seconds of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), after "pid (comm)"
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


async def cpu_over(pid: int, seconds: float) -> float:
    start = process_cpu_s(pid)
    await asyncio.sleep(seconds)
    return process_cpu_s(pid) - start


def own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def summarise(experts: int, mode: str, elapsed: float, tally: Tally, cpu_s: float, client_cpu_s: float,
              idle_share: float) -> Result:
    if not tally.latencies:
        raise RuntimeError("no call events arrived while measuring")
    ordered = sorted(tally.latencies)
    return Result(
        experts=experts, mode=mode, seconds=elapsed, messages=tally.messages,
        p50_ms=1000 * statistics.median(ordered), p99_ms=1000 * percentile(ordered, 0.99),
        max_ms=1000 * ordered[-1], cpu_s=cpu_s, client_cpu_s=client_cpu_s, wrong_expert=tally.wrong_expert,
        idle_cpu_share=100.0 * idle_share, lookup_count=len(tally.lookup_latencies),
        lookup_p99_ms=1000 * percentile(sorted(tally.lookup_latencies), 0.99) if tally.lookup_latencies else 0.0,
    )


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def line(r: Result) -> str:
    return (f"{r.messages} messages in {r.seconds:.1f} s ({r.rate:.0f}/s); latency p50 {r.p50_ms:.1f} ms, "
            f"p99 {r.p99_ms:.1f} ms, max {r.max_ms:.1f} ms; server CPU {r.cpu_s:.1f} s ({r.cpu_share:.0f}% of "
            f"one core; {r.idle_cpu_share:.0f}% without streams); clients' CPU {r.client_cpu_s:.1f} s; "
            f"wrong-Expert events {r.wrong_expert}; inbound first events {r.lookup_count}, "
            f"their p99 {r.lookup_p99_ms:.1f} ms")


def table(results: list[Result]) -> str:
    rows = ["| PBX | Experts (streams) | messages | msg/s | p50 ms | p99 ms | max ms | server CPU s | % of one core |"
            " same calls, no streams | clients' CPU s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows += [f"| {r.mode} | {r.experts} | {r.messages} | {r.rate:.0f} "
             f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.1f} "
             f"| {r.cpu_s:.1f} | {r.cpu_share:.0f}% | {r.idle_cpu_share:.0f}% | {r.client_cpu_s:.1f} |"
             for r in results]
    return "\n".join(rows)


if __name__ == "__main__":
    main()
