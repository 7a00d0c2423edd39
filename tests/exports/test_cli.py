"""`dsdesk exports works`: a day or a range to a file (the nightly name in exports.dir by default, or
--out), in either format; a bad range or an unwritable place is a Russian message and exit status 1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service.cli import main
from service.db.engine import SessionMaker
from service.settings import ENV_CONFIG
from tests.exports.reading import read_works
from tests.exports.seeding import EXPECTED, seed_day


@pytest.fixture
async def config(db_sessions: SessionMaker, migrated_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    await seed_day(db_sessions)
    path = tmp_path / "config.yaml"
    path.write_text(f"database: {{url: '{migrated_db}'}}\nexports: {{dir: '{tmp_path / 'exports'}'}}\n",
                    encoding="utf-8")
    monkeypatch.setenv(ENV_CONFIG, str(path))
    return tmp_path / "exports"


async def dsdesk(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


async def test_a_day_to_its_nightly_name(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert await dsdesk("exports", "works", "--from", "07.12.2026") == 0
    written = config / "works-2026-12-07.csv"
    assert capsys.readouterr().out == f"07.12.2026: 11 работ → {written}\n"
    assert [r["ID работы"] for r in read_works(written.read_bytes(), "csv")][:len(EXPECTED)] == list(EXPECTED)


async def test_a_range_as_xlsx_to_a_chosen_file(config: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "crm" / "december.xlsx"
    assert await dsdesk("exports", "works", "--from", "2026-12-06", "--to", "08.12.2026", "--format", "xlsx",
                        "--out", str(out)) == 0
    assert capsys.readouterr().out == f"06.12.2026–08.12.2026: 13 работ → {out}\n"
    assert "DS-L-11" in [r["ID работы"] for r in read_works(out.read_bytes(), "xlsx")]


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "08.12.2026", "--to", "07.12.2026"], "Начало периода 08.12.2026 позже его конца 07.12.2026"),
    (["--from", "01.01.2026", "--to", "31.12.2026"], "за один раз можно выгрузить не больше 93 дней"),
])
async def test_a_bad_range_is_a_russian_error(config: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                              message: str) -> None:
    assert await dsdesk("exports", "works", *args) == 1
    err = capsys.readouterr().err
    assert err.startswith("dsdesk exports works: ") and message in err
    assert not config.exists()


async def test_an_unwritable_place_is_a_russian_error(config: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "blocker").write_text("")
    assert await dsdesk("exports", "works", "--from", "07.12.2026", "--out", str(tmp_path / "blocker" / "x.csv")) == 1
    assert capsys.readouterr().err == (f"dsdesk exports works: папка выгрузки {tmp_path / 'blocker'} недоступна для "
                                       "записи: на месте папки — файл\n")
