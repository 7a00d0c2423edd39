"""The measuring side of bench/login_flood.py: the Expert's /desk prober and the server's CPU and memory.

The prober is one signed-in browser (one aiohttp session, one keep-alive connection) GETting /desk
with Accept: text/html one request at a time, a request every `interval` seconds (sooner never;
later when the previous answer took longer). Each probe is filed under the phase in which it was
sent. A probe that fails (an exception, a timeout, any status but 200) is counted and taken as
latency = the timeout, so it weighs in the percentiles instead of disappearing.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

CSRF_INPUT = re.compile(r'<input[^>]*name="_csrf"[^>]*value="([^"]+)"')
HTML_ACCEPT = {"Accept": "text/html,application/xhtml+xml"}


@dataclass
class Window:
    """Probes sent during one phase."""

    latencies: list[float] = field(default_factory=list)  # seconds; failures count as the timeout
    failures: Counter[str] = field(default_factory=Counter)  # "timeout", "status 302", "ClientOSError", …
    started: float = 0.0
    ended: float = 0.0

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


class DeskProber:
    def __init__(self, base: str, interval_s: float, timeout_s: float) -> None:
        self.base, self.interval_s, self.timeout_s = base, interval_s, timeout_s
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1), cookie_jar=aiohttp.CookieJar(unsafe=True),
            headers=HTML_ACCEPT)
        self.windows: dict[str, Window] = {}
        self.phase: str | None = None  # None: probes are sent but not kept (warm-up, flood set-up)
        self._task: asyncio.Task[None] | None = None

    async def sign_in(self, login: str, password: str) -> None:
        async with self.session.get(f"{self.base}/login") as page:
            match = CSRF_INPUT.search(await page.text())
        if match is None:
            raise RuntimeError("no _csrf field on /login")
        form = {"_csrf": match.group(1), "login": login, "password": password}
        async with self.session.post(f"{self.base}/login", data=form, allow_redirects=False) as answer:
            if answer.status != 302:
                raise RuntimeError(f"sign-in as {login!r} answered {answer.status}")
        async with self.session.get(f"{self.base}/desk", allow_redirects=False) as desk:
            await desk.read()
            if desk.status != 200:
                raise RuntimeError(f"/desk answered {desk.status} to the signed-in {login!r}")

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    def begin(self, phase: str | None) -> None:
        """From now on probes go to `phase` (None: discarded)."""
        now = time.monotonic()
        if self.phase is not None:
            self.windows[self.phase].ended = now
        self.phase = phase
        if phase is not None:
            self.windows[phase] = Window(started=now)

    async def close(self) -> None:
        self.begin(None)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.session.close()

    async def _loop(self) -> None:
        next_at = time.monotonic()
        while True:
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            phase = self.phase
            started = time.monotonic()
            next_at = started + self.interval_s
            failure = await self._probe()
            latency = time.monotonic() - started
            window = self.windows.get(phase) if phase is not None else None
            if window is None:
                continue
            if failure is None:
                window.latencies.append(latency)
            else:
                window.failures[failure] += 1
                window.latencies.append(max(latency, self.timeout_s))

    async def _probe(self) -> str | None:
        """None when /desk answered 200 in time; else what went wrong."""
        try:
            async with asyncio.timeout(self.timeout_s):
                async with self.session.get(f"{self.base}/desk", allow_redirects=False) as answer:
                    await answer.read()
                    return None if answer.status == 200 else f"status {answer.status}"
        except TimeoutError:
            return "timeout"
        except aiohttp.ClientError as error:
            return type(error).__name__


# ---- the server process -------------------------------------------------------------------
def cpu_s(pid: int) -> float:
    """user + sys CPU seconds of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """The process's children, grandchildren, … alive now (script workers, if the server has any)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def status_kb(pid: int, key: str) -> int:
    """A `kB` line of /proc/<pid>/status (VmRSS, VmHWM), 0 when the process is gone."""
    try:
        for raw in Path(f"/proc/{pid}/status").read_text().splitlines():
            if raw.startswith(f"{key}:"):
                return int(raw.split()[1])
    except OSError:
        pass
    return 0


class ServerWatch:
    """CPU of the server (and of its child processes, if any) and its RSS while the flood runs.

    RSS is sampled in a thread of its own (reading /proc releases the GIL), not in the prober's loop.
    """

    def __init__(self, pid: int, every_s: float = 0.25) -> None:
        self.pid, self.every_s = pid, every_s
        self.cpu: dict[int, float] = {}  # pid → CPU seconds at start
        self.peak_rss_kb = self.peak_tree_rss_kb = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.cpu = self._cpu_now()
        self.peak_rss_kb = self.peak_tree_rss_kb = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> tuple[float, float]:
        """(server process CPU s, CPU s of its child processes) since start()."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._take_rss(descendants(self.pid))
        now = self._cpu_now()
        own = now.get(self.pid, 0.0) - self.cpu.get(self.pid, 0.0)
        children = sum(value - self.cpu.get(pid, 0.0) for pid, value in now.items() if pid != self.pid)
        return own, children

    def _cpu_now(self) -> dict[int, float]:
        result = {}
        for pid in (self.pid, *descendants(self.pid)):
            try:
                result[pid] = cpu_s(pid)
            except OSError:
                pass
        return result

    def _take_rss(self, children: list[int]) -> None:
        own = status_kb(self.pid, "VmRSS")
        tree = own + sum(status_kb(pid, "VmRSS") for pid in children)
        self.peak_rss_kb = max(self.peak_rss_kb, own)
        self.peak_tree_rss_kb = max(self.peak_tree_rss_kb, tree)

    def _sample(self) -> None:
        children, rescan_at = descendants(self.pid), time.monotonic() + 2.0
        while not self._stop.wait(self.every_s):
            if time.monotonic() >= rescan_at:
                children, rescan_at = descendants(self.pid), time.monotonic() + 2.0
            self._take_rss(children)
