"""`dsdesk selection list [--json]` in-process against the test databases (issue 15): one JSON object per client,
exactly the keys the issue names, and the Russian table."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from service.cli import main
from service.db.clients import ClientsRepository
from service.db.engine import SessionMaker
from service.db.experts import ExpertsRepository
from service.db.records import ContactRecord, ExpertName, ExpertRecord, SelectionRecord
from service.db.selection import SelectionRepository
from service.db.transitions import TransitionsRepository
from service.settings import ENV_DATABASE_URL
from tests.service.test_selection_web import CLIENTS

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
KEYS = ["client_id", "eligible", "ineligible_reason", "scores", "total", "recommendation", "candidate", "status"]
SCORE_KEYS = ["loyalty", "skills", "users", "prepay", "services", "without_sio", "remoteness", "from_glavbukh"]


@pytest.fixture
async def seeded(db_sessions: SessionMaker, migrated_db: str, monkeypatch: pytest.MonkeyPatch) -> SessionMaker:
    """The web test's six clients; C-1 recommended and assigned to ivanova, C-5 not recommended."""
    monkeypatch.setenv(ENV_DATABASE_URL, migrated_db)
    await ExpertsRepository(db_sessions).upsert_experts([
        ExpertRecord("ivanova", ExpertName.of("Иванова", "Мария"), extension="101"),
        ExpertRecord("sidorov", ExpertName.of("Сидоров", "Пётр"), role="sio")])
    clients = ClientsRepository(db_sessions)
    await clients.upsert_clients(CLIENTS)
    await clients.upsert_contacts([ContactRecord(f"K-{n}", client, f"Контакт {n}", is_user=True)
                                   for n, client in enumerate(["C-1", "C-1", "C-3", "C-5", "C-5", "C-5"])])
    await SelectionRepository(db_sessions).add_scores([
        SelectionRecord("C-1", "recommendation", "yes", None, "sidorov"),
        SelectionRecord("C-1", "without_sio", "2", "готовы", "sidorov"),
        SelectionRecord("C-5", "recommendation", "no", "хотят выезды", "sidorov")], "import", NOW)
    await TransitionsRepository(db_sessions).assign(["C-1"], "ivanova", None, NOW)
    return db_sessions


async def dsdesk(*args: str) -> int:
    return await asyncio.to_thread(main, ["selection", *args])


async def test_json_lines_hold_exactly_the_issue_s_keys(seeded: SessionMaker,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert await dsdesk("list", "--json") == 0
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines()]
    assert all(list(line) == KEYS and list(line["scores"]) == SCORE_KEYS for line in lines)
    by_id = {line["client_id"]: line for line in lines}
    assert [line["client_id"] for line in lines] == ["C-1", "C-3", "C-5", "C-2", "C-4", "C-6"]  # best first
    assert by_id["C-1"] == {
        "client_id": "C-1", "eligible": True, "ineligible_reason": None,
        "scores": {"loyalty": 3, "skills": 3, "users": 3, "prepay": 3, "services": 3, "without_sio": 2,
                   "remoteness": 3, "from_glavbukh": 3},
        "total": 23, "recommendation": "yes", "candidate": True, "status": "candidate"}
    assert by_id["C-5"] == {
        "client_id": "C-5", "eligible": True, "ineligible_reason": None,
        "scores": {"loyalty": 3, "skills": 3, "users": 2, "prepay": 3, "services": 3, "without_sio": 0,
                   "remoteness": 3, "from_glavbukh": 0},
        "total": 17, "recommendation": "no", "candidate": False, "status": None}
    assert (by_id["C-3"]["eligible"], by_id["C-3"]["ineligible_reason"], by_id["C-3"]["candidate"]) == (
        False, "уже на ДС", False)
    assert by_id["C-2"]["ineligible_reason"] == "нет онлайн-версии и ИП, возможность ИП не указана"
    assert by_id["C-6"]["client_id"] == "C-6" and by_id["C-6"]["total"] == 0
    assert '"уже на ДС"' in out  # Cyrillic as it is, not \u escapes


async def test_candidates_only(seeded: SessionMaker, capsys: pytest.CaptureFixture[str]) -> None:
    assert await dsdesk("list", "--json", "--candidates") == 0
    assert [json.loads(line)["client_id"] for line in capsys.readouterr().out.splitlines()] == ["C-1"]


async def test_the_table_is_russian(seeded: SessionMaker, capsys: pytest.CaptureFixture[str]) -> None:
    assert await dsdesk("list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["код", "клиент", "подходит", "лоя"]
    alpha = next(line for line in lines if line.startswith("C-1 "))
    assert "ООО «Альфа»" in alpha and alpha.split()[-4:] == ["23", "да", "да", "кандидат"]
    gamma = next(line for line in lines if line.startswith("C-3 "))
    assert "нет: уже на ДС" in gamma
    assert lines[-1].startswith("6 клиентов, из них кандидатов 1 (итог от 12 из 24); баллы: лоя — лояльность")


async def test_an_empty_database_prints_nothing_but_the_count(migrated_db: str, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ENV_DATABASE_URL, migrated_db)
    assert await dsdesk("list", "--json") == 0
    assert capsys.readouterr().out == ""
    assert await dsdesk("list") == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("0 клиентов, из них кандидатов 0")


def test_the_help_is_russian(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["selection", "list", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("Использование: ") and "все клиенты с баллами отбора на ДС" in out
    assert "по строке JSON на клиента" in out and "показать эту справку и выйти" in out
