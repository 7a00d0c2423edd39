"""The `dsdesk` command line, run as a real process against a temp SQLite database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.cli import COMMANDS, build_parser
from service.db.engine import create_engine, create_sessionmaker
from service.db.ledger import LedgerRepository
from service.db.migrate import migrate
from tests.service.builders import closed_call, open_call
from tests.service.test_migrations import HEAD

REPO = Path(__file__).resolve().parents[2]
DSDESK = Path(sys.executable).with_name("dsdesk")
CAPTURE = REPO / "tests/fixtures/ami/asterisk-22/answered.ami"


def run_cli(*args: str, env: dict[str, str], module: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", module, *args] if module else [str(DSDESK), *args]
    return subprocess.run(command, env={**os.environ, **env}, cwd=REPO, capture_output=True,
                          text=True, encoding="utf-8", timeout=60)


@pytest.fixture
async def ledger_db(tmp_path: Path) -> str:
    """A SQLite ledger with two calls on 2 March 2026 (Moscow) and one on 1 March."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    await migrate(url)
    engine = create_engine(url)
    await LedgerRepository(create_sessionmaker(engine)).upsert_calls([
        closed_call("c.1", client_name="ООО «Ромашка»"),
        open_call("c.2", expert_ext="102"),
        closed_call("c.0", started_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
    ])
    await engine.dispose()
    return url


def test_calls_list_json_honours_the_env(ledger_db: str, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    # The file points elsewhere: DSDESK_DATABASE_URL must win over it.
    config.write_text("database: {url: 'sqlite:///nowhere/else.db'}\n", encoding="utf-8")
    env = {"DSDESK_CONFIG": str(config), "DSDESK_DATABASE_URL": ledger_db}
    result = run_cli("calls", "list", "--date", "2026-03-02", "--json", env=env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["linkedid"] for line in lines] == ["c.1", "c.2"]
    assert lines[0] == {**closed_call("c.1").replay_dict(), "client_name": "ООО «Ромашка»"}
    assert lines[0]["started_at"] == "2026-03-02T07:30:00.123+00:00"
    assert lines[1]["outcome"] is None and lines[1]["ended_at"] is None


def test_calls_list_filters_by_expert(ledger_db: str) -> None:
    result = run_cli("calls", "list", "--date", "2026-03-02", "--expert", "102", "--json",
                     env={"DSDESK_DATABASE_URL": ledger_db})
    assert [json.loads(line)["linkedid"] for line in result.stdout.splitlines()] == ["c.2"]


def test_calls_list_takes_a_russian_date(ledger_db: str) -> None:
    iso, russian = (run_cli("calls", "list", "--date", value, "--json", env={"DSDESK_DATABASE_URL": ledger_db})
                    for value in ("2026-03-02", "02.03.2026"))
    assert iso.returncode == russian.returncode == 0, russian.stderr
    assert [json.loads(line)["linkedid"] for line in russian.stdout.splitlines()] == ["c.1", "c.2"]
    assert russian.stdout == iso.stdout  # --json stays machine output: ISO times, English codes


def test_calls_list_table(ledger_db: str) -> None:
    result = run_cli("calls", "list", "--date", "2026-03-02", env={"DSDESK_DATABASE_URL": ledger_db},
                     module="service")
    assert result.returncode == 0, result.stderr
    assert "02.03.2026 10:30:00" in result.stdout  # shown in the organisation's zone
    assert "ООО «Ромашка»" in result.stdout and "(идёт)" in result.stdout and "состоялся" in result.stdout
    assert "+7 (911) 555-01-01" in result.stdout and "79115550101" not in result.stdout  # as the web shows it
    assert result.stdout.splitlines()[-1] == "2 звонка; время — Москва (UTC+3)"


def test_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'fresh.db'}"
    result = run_cli("db", "upgrade", env={"DSDESK_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert f"ревизия {HEAD}" in result.stdout
    assert (tmp_path / "sub" / "fresh.db").exists()


def test_wrong_config_key_exits_2_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("servise: {port: 1}\n", encoding="utf-8")
    result = run_cli("calls", "list", env={"DSDESK_CONFIG": str(config)})
    assert result.returncode == 2
    assert "servise" in result.stderr and "Traceback" not in result.stderr


def test_python_m_dialer_replay() -> None:
    result = run_cli("-q", "replay", str(CAPTURE), env={}, module="dialer")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records and all("linkedid" in r and "quality" in r for r in records)


def test_replay_of_a_missing_file_is_an_error() -> None:
    result = run_cli("replay", "/no/such/capture.ami", env={})
    assert result.returncode == 1
    assert "нет такого файла: /no/such/capture.ami" in result.stderr


def test_commands_are_registered() -> None:
    build_parser()
    assert {"db upgrade", "calls list", "replay", "run"} <= set(COMMANDS)
