"""Benchmark: an Expert's /desk while a flood of failed sign-ins hits the same service.

Target: the Expert's /desk p99 during a 30 s flood of failed logins ≤ 3× its quiet p99.

Set-up: a generated config under var/bench/login_flood/ (a fresh SQLite database, migrated with
`dsdesk db upgrade`; the built-in PBX simulator seeding the demo department, with no demo calls:
`simulator.experts: []`, so only the flood loads the server), `dsdesk run` as a separate process.
The demo's users have argon2 hashes at the default (production) cost; BENCH_EXPERTS more Experts
are added with their own default-cost hashes. The Expert measured is the demo's maria.

  quiet   the prober (this process: one aiohttp session signed in as maria, one keep-alive
          connection) GETs /desk with Accept: text/html one at a time, ~20 a second
          (--probe-interval), for --quiet-seconds;
  flood   --flood-processes separate processes (bench/_flood_worker.py) hold --flood-connections
          keep-alive connections in all, each a browser-like session of its own with a CSRF token
          from its own GET /login (again after a 403), posting a wrong password in a closed loop,
          to existing and invented logins alike, all from 127.0.0.1; the prober keeps measuring
          for --flood-seconds. Also: the flood's rate and status counts, the server's CPU
          (/proc/<pid>/stat, its child processes apart) and RSS (peak sampled, and VmHWM).
A probe that fails (timeout --probe-timeout, an error, a status other than 200) is counted and
enters the percentiles as latency = the timeout. Percentiles are nearest-rank.

    .venv/bin/python bench/login_flood.py [--quiet-seconds 15] [--flood-seconds 30]
        [--flood-connections 200] [--flood-processes 1] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, insert, select

from _flood_probe import DeskProber, ServerWatch, Window, status_kb
from live_push import free_port, percentile, stop, wait_healthy
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import Call, Expert
from service.demo_department import DEMO_PASSWORDS, EXPERTS, STAFF

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench" / "login_flood"
DSDESK = [sys.executable, "-m", "service"]
WORKER = Path(__file__).resolve().parent / "_flood_worker.py"
TARGET_RATIO = 3.0
PROBER_LOGIN = "maria"
BENCH_EXPERTS = 5  # on top of the demo's three: flood01…flood05, extensions 3001…
WARM_UP_S = 3.0  # probes sent but not kept after sign-in (first renders, caches)
WORKER_LINE_LIMIT = 64 * 2**20  # a worker's result carries all its latencies on one line


@dataclass
class FloodResult:
    seconds: float  # from "go" to the end of the window (prober and server CPU)
    posts: int
    statuses: Counter[str]
    errors: Counter[str]
    token_gets: int
    unanswered: int  # POSTs still waiting for their answer when the flood stopped (abandoned)
    posts_seconds: float  # the workers' own flood time (the rate's denominator)
    latencies: list[float]  # POST /login, seconds, sorted
    client_cpu_s: float
    server_cpu_s: float
    server_children_cpu_s: float
    rss_before_kb: int
    peak_rss_kb: int
    peak_tree_rss_kb: int
    hwm_kb: int

    @property
    def rate(self) -> float:
        return self.posts / self.posts_seconds


def main() -> None:
    args = parse_args()
    print(f"# login_flood: Python {platform.python_version()}, nproc={os.cpu_count()}, load average "
          f"{load_average()}; quiet {args.quiet_seconds:g} s, flood {args.flood_seconds:g} s with "
          f"{args.flood_connections} connections in {args.flood_processes} process(es)", flush=True)
    print(f"# code: {code_state()}", flush=True)
    quiet, flood_window, flood = asyncio.run(run(args))
    print(f"# load average after: {load_average()}")
    print()
    print(window_line("quiet", quiet, args.probe_timeout))
    print(window_line("flood", flood_window, args.probe_timeout))
    print(flood_line(flood))
    print(where_slow(flood_window))
    q99, f99 = p99_ms(quiet), p99_ms(flood_window)
    ratio = f99 / q99 if q99 > 0 else float("inf")
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(f"\nlogin_flood: quiet p99 {q99:.1f} ms, flood p99 {f99:.1f} ms, ratio {ratio:.2f} "
          f"(target <= {TARGET_RATIO:g}): {verdict}  [{args.flood_connections} connections, "
          f"{args.flood_processes} process(es), {flood.rate:.0f} logins/s, probe failures "
          f"{quiet.failed}+{flood_window.failed}]")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quiet-seconds", type=float, default=15.0)
    p.add_argument("--flood-seconds", type=float, default=30.0)
    p.add_argument("--flood-connections", type=int, default=200)
    p.add_argument("--flood-processes", type=int, default=1)
    p.add_argument("--probe-interval", type=float, default=0.05, help="seconds between /desk probes (~20/s)")
    p.add_argument("--probe-timeout", type=float, default=5.0,
                   help="a /desk probe slower than this fails and counts as this latency")
    p.add_argument("--refusal-delay", type=float, default=None,
                   help="service.login_refusal_delay_s for the server (default: the product's default)")
    p.add_argument("--keep", action="store_true", help=f"keep the work dir {WORK.relative_to(ROOT)}")
    args = p.parse_args()
    if args.flood_processes < 1 or args.flood_connections < args.flood_processes:
        p.error("need at least one flood connection per flood process")
    return args


async def run(args: argparse.Namespace) -> tuple[Window, Window, FloodResult]:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    port = free_port()
    db_url = f"sqlite+aiosqlite:///{WORK / 'dsdesk.db'}"
    env = {**os.environ, "DSDESK_CONFIG": str(write_config(WORK, db_url, port, args.refusal_delay))}
    subprocess.run([*DSDESK, "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT)
    log = (WORK / "service.log").open("w")
    server = subprocess.Popen([*DSDESK, "run"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    prober = DeskProber(base, args.probe_interval, args.probe_timeout)
    finished = False
    try:
        await wait_healthy(base, server)
        bench_logins = await add_experts(db_url)
        await prober.sign_in(PROBER_LOGIN, DEMO_PASSWORDS[PROBER_LOGIN])
        prober.start()
        await asyncio.sleep(WARM_UP_S)
        print(f"[quiet] signed in as {PROBER_LOGIN}, /desk answers 200; probing {args.quiet_seconds:g} s",
              flush=True)
        watch = ServerWatch(server.pid)
        watch.start()
        prober.begin("quiet")
        await asyncio.sleep(args.quiet_seconds)
        prober.begin(None)
        quiet_cpu, _ = watch.stop()
        print(f"[quiet] server CPU {quiet_cpu:.1f} s ({100 * quiet_cpu / args.quiet_seconds:.0f}% of one core, "
              f"mostly the probes' /desk pages)", flush=True)
        existing = [*(e[0] for e in EXPERTS), *(s[0] for s in STAFF), *bench_logins]
        flood = await run_flood(args, base, server.pid, existing, prober)
        calls = await count_calls(db_url)
        if calls:
            print(f"warning: {calls} calls in the ledger: the simulator was not idle", flush=True)
        finished = True
    finally:
        await prober.close()
        stop(server)
        log.close()
        if finished and not args.keep:  # a failed run keeps its service.log
            shutil.rmtree(WORK, ignore_errors=True)
    return prober.windows["quiet"], prober.windows["flood"], flood


def write_config(work: Path, db_url: str, port: int, refusal_delay: float | None) -> Path:
    """The demo department (the built-in simulator seeds it) without demo calls: no extension gets any."""
    service: dict[str, object] = {"host": "127.0.0.1", "port": port, "secret_key_file": str(work / "secret.key")}
    if refusal_delay is not None:
        service["login_refusal_delay_s"] = refusal_delay
    config = {
        "database": {"url": db_url},
        "recordings": {"dir": str(work / "recordings")},
        "service": service,
        "simulator": {"demo_load": True, "experts": []},
    }
    path = work / "config.yaml"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")  # JSON is YAML
    return path


async def add_experts(db_url: str) -> list[str]:
    """BENCH_EXPERTS more Experts, each with its own argon2 hash at the default (production) cost."""
    hasher = PasswordHasher()
    rows: list[dict[str, Any]] = [
        {"login": f"flood{i:02d}", "full_name": f"Эксперт {i}", "role": "expert", "extension": str(3000 + i),
         "password_hash": hasher.hash(f"bench-password-{i}"), "active": True}
        for i in range(1, BENCH_EXPERTS + 1)]
    engine = create_engine(db_url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            await session.execute(insert(Expert), rows)
    finally:
        await engine.dispose()
    return [row["login"] for row in rows]


async def count_calls(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(Call)) or 0)
    finally:
        await engine.dispose()


# ---- the flood ------------------------------------------------------------------------------
async def run_flood(args: argparse.Namespace, base: str, server_pid: int, logins: list[str],
                    prober: DeskProber) -> FloodResult:
    shares = [args.flood_connections // args.flood_processes + (i < args.flood_connections % args.flood_processes)
              for i in range(args.flood_processes)]
    workers = [await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), "--base", base, "--connections", str(n), "--seconds", str(args.flood_seconds),
        "--logins", ",".join(logins), "--seed", str(i + 1),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT, limit=WORKER_LINE_LIMIT)
        for i, n in enumerate(shares)]
    try:
        for worker in workers:  # every connection has its session and CSRF token
            message = await read_message(worker)
            if not message.get("ready"):
                raise RuntimeError(f"flood worker: {message}")
        print(f"[flood] {args.flood_connections} connections ready in {len(workers)} process(es); "
              f"flooding {args.flood_seconds:g} s", flush=True)
        rss_before = status_kb(server_pid, "VmRSS")
        watch = ServerWatch(server_pid)
        watch.start()
        prober.begin("flood")
        started = time.monotonic()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        await asyncio.sleep(args.flood_seconds - (time.monotonic() - started))
        prober.begin(None)
        server_cpu, children_cpu = watch.stop()
        seconds = time.monotonic() - started
        results = [(await read_message(worker))["result"] for worker in workers]
        for worker in workers:
            await worker.wait()
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for result in results:
        statuses.update(result["statuses"])
        errors.update(result["errors"])
    return FloodResult(
        seconds=seconds, posts=sum(r["posts"] for r in results), statuses=statuses, errors=errors,
        token_gets=sum(r["token_gets"] for r in results),
        unanswered=sum(r["unanswered_at_end"] for r in results),
        posts_seconds=max(r["elapsed_s"] for r in results),
        latencies=sorted(x for r in results for x in r["latencies"]),
        client_cpu_s=sum(r["cpu_s"] for r in results), server_cpu_s=server_cpu,
        server_children_cpu_s=children_cpu, rss_before_kb=rss_before, peak_rss_kb=watch.peak_rss_kb,
        peak_tree_rss_kb=watch.peak_tree_rss_kb, hwm_kb=status_kb(server_pid, "VmHWM"))


async def read_message(worker: asyncio.subprocess.Process) -> dict[str, Any]:
    assert worker.stdout is not None
    raw = await worker.stdout.readline()
    if not raw:
        raise RuntimeError(f"a flood worker ended without answering (exit {await worker.wait()})")
    message: dict[str, Any] = json.loads(raw)
    return message


# ---- figures ---------------------------------------------------------------------------------
def p99_ms(window: Window) -> float:
    return 1000 * percentile(sorted(window.latencies), 0.99) if window.latencies else float("nan")


def where_slow(window: Window, worst: int = 6) -> str:
    """When in the flood the slowest probes went out (seconds from its start; probes are evenly spaced)."""
    if not window.latencies:
        return "[flood] no probes"
    step = window.seconds / len(window.latencies)
    ranked = sorted(range(len(window.latencies)), key=lambda i: window.latencies[i], reverse=True)[:worst]
    places = ", ".join(f"{1000 * window.latencies[i]:.0f} ms at {i * step:.1f} s" for i in ranked)
    return f"[flood] slowest /desk probes: {places}"


def window_line(name: str, window: Window, timeout_s: float) -> str:
    ordered = sorted(window.latencies)
    if not ordered:
        return f"[{name}] no probes"
    failures = ", ".join(f"{k} {v}" for k, v in window.failures.most_common()) or "none"
    return (f"[{name}] /desk: {len(ordered)} probes in {window.seconds:.1f} s ({len(ordered) / window.seconds:.1f}/s); "
            f"p50 {1000 * statistics.median(ordered):.1f} ms, p99 {1000 * percentile(ordered, 0.99):.1f} ms, "
            f"max {1000 * ordered[-1]:.1f} ms; failed {window.failed} ({failures}; each counted as "
            f"{1000 * timeout_s:.0f} ms)")


def flood_line(f: FloodResult) -> str:
    counts = Counter({"401": f.statuses.get("401", 0), "429": f.statuses.get("429", 0)})
    other = {k: v for k, v in f.statuses.items() if k not in counts}
    other_text = ", ".join(f"{k} {v}" for k, v in sorted(other.items())) or "none"
    errors = f" (errors: {', '.join(f'{k} {v}' for k, v in f.errors.most_common())})" if f.errors else ""
    latency = (f"p50 {1000 * statistics.median(f.latencies):.1f} ms, p99 {1000 * percentile(f.latencies, 0.99):.1f} ms"
               if f.latencies else "none")
    return (f"[flood] POST /login answered: {f.posts} in {f.posts_seconds:.1f} s ({f.rate:.0f}/s); "
            f"401 {counts['401']}, 429 {counts['429']}, other: {other_text}{errors}; "
            f"unanswered when the flood stopped {f.unanswered}; "
            f"GET /login for tokens {f.token_gets}; answered POSTs' latency {latency}\n"
            f"[flood] server CPU {f.server_cpu_s:.1f} s ({100 * f.server_cpu_s / f.seconds:.0f}% of one core), "
            f"its child processes {f.server_children_cpu_s:.1f} s; flood processes' CPU {f.client_cpu_s:.1f} s; "
            f"server RSS {f.rss_before_kb / 1024:.0f} MB before, peak {f.peak_rss_kb / 1024:.0f} MB "
            f"(with children {f.peak_tree_rss_kb / 1024:.0f} MB; VmHWM {f.hwm_kb / 1024:.0f} MB)")


def code_state() -> str:
    """The commit, and the server-side files changed but not committed (the run measures those too)."""
    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.rstrip("\n") if done.returncode == 0 else "?"

    changed = [line[3:] for line in git("status", "--porcelain", "--", "service", "dialer").splitlines()]
    return f"{git('rev-parse', '--short', 'HEAD')}, uncommitted in service/ dialer/: {', '.join(changed) or 'none'}"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
