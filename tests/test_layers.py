"""The import graph points down: `service` may import `dialer`, `scheduler` and `texts`; `dialer` and
`scheduler` import only themselves and `texts`; `texts` imports nothing of DS Desk (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OURS = {"dialer", "scheduler", "service", "texts"}
MAY_IMPORT = {"texts": set(), "dialer": {"texts"}, "scheduler": {"texts"}}


def imported_packages(path: Path) -> set[str]:
    """Top-level names imported anywhere in the file (function-level imports too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_no_import_points_upwards(package: str) -> None:
    allowed = MAY_IMPORT[package] | {package}
    wrong = {str(path.relative_to(REPO)): sorted((imported_packages(path) & OURS) - allowed)
             for path in sorted((REPO / package).rglob("*.py"))}
    assert {path: names for path, names in wrong.items() if names} == {}
