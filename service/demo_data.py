"""Seeds the demo department for `make run` through the real import path, once, with demo logins."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

from service.db.engine import SessionMaker
from service.db.experts import ExpertsRepository
from service.db.records import ExpertName
from service.db.users import UserRow, UsersRepository
from service.demo_coaching import seed_demo_step_scripts
from service.demo_compare import seed_demo_compare
from service.demo_department import DEMO_PASSWORDS, EXPERTS, demo_rows
from service.demo_month import seed_demo_month
from service.imports.runner import import_rows
from service.passwords import hash_password

log = logging.getLogger(__name__)
IMPORT_ORDER = ("experts", "clients", "contacts", "history", "signals")


async def seed_demo_department(sessions: SessionMaker, today: date) -> list[tuple[str, str, str]]:
    """Imports the demo (unless Experts exist already); returns (phone, organisation, client id)."""
    rows = demo_rows(today)
    if not await ExpertsRepository(sessions).expert_ids():
        for kind in IMPORT_ORDER:
            report = await import_rows(kind, rows[kind], sessions)
            log.info("demo %s imported: %s", kind, report)
        await seed_demo_month(sessions, today)  # plans and CRM events, so /ktu and /month show real figures
        await seed_demo_compare(sessions, today, rows["clients"], rows["contacts"])  # and /compare
        await seed_demo_step_scripts(sessions, datetime.now(UTC))  # the «Речевой ролик» by steps
    await ensure_demo_logins(sessions, rows["experts"])
    # The Experts' ДС clients' numbers: the ones the demo's calls ring (the КС clients are the
    # selection's, the PM's are visited).
    experts = {login for login, _, _ in EXPERTS}
    names = {c["external_id"]: c["name"] for c in rows["clients"]
             if c["segment"] == "ДС" and c["expert_login"] in experts}
    return [(c["phone"], names[c["client_external_id"]], c["client_external_id"]) for c in rows["contacts"]
            if c["client_external_id"] in names]


async def ensure_demo_logins(sessions: SessionMaker, user_rows: Sequence[Mapping[str, str]]) -> None:
    """Demo users that cannot sign in yet get their published password (DEMO_PASSWORDS).

    Only in the demo department itself: real Experts are never given a known password. A demo made
    before the supervisor and the admin existed gets them added; one made before names were stored
    in parts («Мария Сергеевна Орлова» split as Фамилия «Мария») gets its users' names put right.
    """
    users = UsersRepository(sessions)
    known = {user.login: user for user in await users.list_users(DEMO_PASSWORDS)}
    if not is_demo_department(known):
        return
    legacy = _legacy_names()
    missing = [row for row in user_rows if row["login"] not in known
               or known[row["login"]].full_name == legacy.get(row["login"])]
    if missing:
        await import_rows("experts", missing, sessions)
    passwordless = [login for login in DEMO_PASSWORDS
                    if login not in known or known[login].password_hash is None]
    # argon2 is slow by design: hash in threads, side by side, off the event loop.
    hashes = await asyncio.gather(*(asyncio.to_thread(hash_password, DEMO_PASSWORDS[login])
                                    for login in passwordless))
    for login, password_hash in zip(passwordless, hashes, strict=True):
        await users.set_password_hash(login, password_hash)
    if passwordless:
        log.info("demo logins ready: %s", ", ".join(passwordless))


def is_demo_department(users_by_login: Mapping[str, UserRow]) -> bool:
    """True when every demo Expert is there under the demo's own name (so this is the demo's data),
    as it is stored now or as a demo made before migration 0013 stored it."""
    legacy = _legacy_names()
    return all(login in users_by_login
               and users_by_login[login].full_name in (ExpertName.of(*name).full_name, legacy[login])
               for login, name, _ in EXPERTS)


def _legacy_names() -> dict[str, str]:
    """login → the full name the demo stored for its Experts before names were kept in parts,
    «Имя Отчество Фамилия» (its supervisor and admin were in «Фамилия Имя Отчество» order already)."""
    return {login: f"{first} {patronymic} {last}" for login, (last, first, patronymic), _ in EXPERTS}
