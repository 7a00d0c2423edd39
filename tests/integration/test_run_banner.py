"""`dsdesk run`'s start banner says whether the AMI link is up, and a refused login as such.

The service runs as its own process (as `make run` starts it) against a PBX of the test's: the
built-in simulator on a port of its own, expecting another AMI secret than config.yaml's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from dialer.simulator import PbxSimulator, SimulatorConfig

DSDESK = [sys.executable, "-m", "service"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def banner(tmp_path: Path, ami_port: int, secret: str) -> str:
    """Everything `dsdesk run` prints up to the end of its banner (then it is stopped)."""
    text, _ = await run_until_banner(tmp_path, ami_port, secret)
    return text


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a non-interactive shell does to a `cmd &` job


async def run_until_banner(tmp_path: Path, ami_port: int, secret: str, stop: signal.Signals = signal.SIGINT,
                           sigint_ignored: bool = False) -> tuple[str, int | None]:
    """(what `dsdesk run` printed up to its banner, its exit code after `stop`)."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database:\n  url: sqlite+aiosqlite:///{tmp_path}/dsdesk.db\n"
        f"recordings:\n  dir: {tmp_path}/rec\n"
        f"service:\n  port: {free_port()}\n"
        "pbx:\n  mode: asterisk\n"
        f"ami:\n  host: 127.0.0.1\n  port: {ami_port}\n  username: dsdesk\n"
        "  reconnect:\n    min_s: 0.1\n    max_s: 0.5\n",
        encoding="utf-8",
    )
    env = {**os.environ, "DSDESK_CONFIG": str(config), "DSDESK_AMI_SECRET": secret}
    upgrade = await asyncio.create_subprocess_exec(*DSDESK, "db", "upgrade", env=env,
                                                   stdout=asyncio.subprocess.DEVNULL)
    assert await upgrade.wait() == 0
    proc = await asyncio.create_subprocess_exec(*DSDESK, "run", env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT,
                                                preexec_fn=_ignore_sigint if sigint_ignored else None)
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not lines or "stop: Ctrl+C" not in lines[-1]:
                raw = await proc.stdout.readline()
                assert raw, "dsdesk run ended early:\n" + "".join(lines)
                lines.append(raw.decode("utf-8", "replace"))
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(stop)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:  # never leave a service running behind the suite
            proc.kill()
            raise
    return "".join(lines), proc.returncode


async def test_the_banner_says_the_pbx_refused_the_login(tmp_path: Path) -> None:
    async with PbxSimulator(SimulatorConfig(secret="the-pbx-secret")) as sim:
        text = await banner(tmp_path, sim.port, secret="a-wrong-secret")
    assert "DS Desk is running" in text
    assert "AMI link:  NOT CONNECTED" in text and "refused the AMI login" in text
    assert "calls are NOT recorded" in text and "a-wrong-secret" not in text


async def test_the_banner_says_the_link_is_up(tmp_path: Path) -> None:
    async with PbxSimulator(SimulatorConfig(secret="the-pbx-secret")) as sim:
        text = await banner(tmp_path, sim.port, secret="the-pbx-secret")
    assert "AMI link:  connected since" in text and "NOT CONNECTED" not in text
    assert "/api/v1/docs" in text and "dsdesk tokens create" in text  # a newcomer finds the API too


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_a_signal_stops_the_service_the_graceful_way(tmp_path: Path, stop: signal.Signals) -> None:
    """Found when a `dsdesk run` started in the background by a script (SIGINT handed down as
    ignored) ran on for an hour after its Ctrl+C; SIGTERM (systemd, `kill`) killed it without its
    cleanup. Both now end it through the app's cleanup: exit code 0."""
    async with PbxSimulator(SimulatorConfig(secret="the-pbx-secret")) as sim:
        _, code = await run_until_banner(tmp_path, sim.port, "the-pbx-secret", stop, sigint_ignored=True)
    assert code == 0

