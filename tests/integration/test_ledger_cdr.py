"""The ledger through AMI lockouts, DS Desk restarts and a PBX restart, with and without Asterisk's CDR.

Done means (issue 12): nothing lost or doubled; every inexact field flagged; with a CDR source,
every call exact (a reject reads NO ANSWER in a CDR) except those a PBX restart killed, whose
CDR Asterisk never wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.fault_soak import Plan, run


@pytest.mark.parametrize("with_cdr", [True, False], ids=["cdr", "no-cdr"])
async def test_faults_lose_nothing_and_flag_every_guess(migrated_db: str, tmp_path: Path, with_cdr: bool) -> None:
    verdict = await run(Plan(calls=40, lockouts=3, desk_restarts=1, pbx_restarts=1, with_cdr=with_cdr, seed=3),
                        migrated_db, tmp_path)
    assert verdict.doubled == 0 and verdict.invented == [] and verdict.lost == []
    assert verdict.unflagged_wrong == [], verdict.unflagged_wrong
    if with_cdr:
        assert verdict.exact == verdict.truth - verdict.killed_by_restart, verdict
        assert verdict.from_cdr > 0
    else:
        assert verdict.flagged > 0
