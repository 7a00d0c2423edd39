"""A command on a database that is not set up says what to do instead of printing a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_unmigrated_database_gives_a_clear_message(tmp_path: Path) -> None:
    env = {**os.environ, "DSDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/empty.db"}
    for args in (["calls", "list"], ["plan", "show", "--date", "2026-11-30"]):
        result = subprocess.run([sys.executable, "-m", "service", *args], env=env, capture_output=True, text=True)
        assert result.returncode == 1
        assert "не подготовлена: сначала выполните `dsdesk db upgrade`" in result.stderr
        assert "Traceback" not in result.stderr
