"""Seeds the demo department for `make run` through the real import path, once."""

from __future__ import annotations

import logging
from datetime import date

from service.db.engine import SessionMaker
from service.db.experts import ExpertsRepository
from service.demo_department import demo_rows
from service.imports.runner import import_rows

log = logging.getLogger(__name__)
IMPORT_ORDER = ("experts", "clients", "contacts", "history", "signals")


async def seed_demo_department(sessions: SessionMaker, today: date) -> list[tuple[str, str, str]]:
    """Imports the demo (unless Experts exist already); returns (phone, organisation, client id)."""
    rows = demo_rows(today)
    if not await ExpertsRepository(sessions).expert_ids():
        for kind in IMPORT_ORDER:
            report = await import_rows(kind, rows[kind], sessions)
            log.info("demo %s imported: %s", kind, report)
    names = {c["external_id"]: c["name"] for c in rows["clients"]}
    return [(c["phone"], names[c["client_external_id"]], c["client_external_id"]) for c in rows["contacts"]]
