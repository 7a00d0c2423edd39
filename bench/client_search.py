"""Benchmark: the client search (GET /clients, issue 14) over 100,000 organisations with ~3 contacts each.

Target (issue 14): ≤ 100 ms per search at 100,000 organisations on PostgreSQL. No peer runs here, so the
figures are absolute, plus the growth from 10,000 to 100,000 organisations; SQLite at both sizes for
reference (no target: it scans).

Measured: the page's own code path, `ClientSearchRepository.search(read_query(typed), expert_id, 50)`,
as a supervisor (every client) and as the Expert who holds the target client (her portfolio, 1/40 of
the clients). Each case: the first run in a fresh engine (new connections, nothing prepared: "cold"),
then `--runs` more (median; more than 5, so PostgreSQL's switch to generic plans is in them).

Cases, built from the loaded data (a target client, the first ООО from the middle of the table on,
and its first contact): 10 letters of its name (30³ names for ООО and АО: a few organisations share
them); a common syllable (~20 % of the names) and «ооо» (over half); its ИНН whole and its first 6
digits; the contact's phone in three spellings and its last 7 digits; the contact's surname and first
name, and a common surname; hostile input (10,000 × «%», 10,000 × «а»: cut to 100).

Data (deterministic, seed SEED): 40 Experts; n organisations — 55 % ООО, 10 % АО, 15 % ИП (a person's
name), 20 % numbered institutions (школа, детский сад, больница) — with names of three syllables from a
list of 30, a unique 10-digit ИНН, one of 8 cities and its zone; 2–4 contacts each (mean 3) with a
surname, first name and patronymic (some with «ё»), a unique mobile number written one of three ways,
10 % with a second, landline number. PostgreSQL gets a throwaway database `dsdesk_bench_search_<pid>`
per size, SQLite a file in a temporary directory; both migrated to head, then loaded (COPY / executemany,
untimed) and analysed.

    .venv/bin/python bench/client_search.py [--sizes 10000,100000] [--sqlite-sizes 10000,100000] [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.client_search.query import read_query  # noqa: E402
from service.client_search.repository import ClientSearchRepository  # noqa: E402
from service.db.engine import create_engine, create_sessionmaker  # noqa: E402
from service.db.migrate import migrate  # noqa: E402

PG_HOST = os.environ.get("DSDESK_BENCH_PG", "postgres@127.0.0.1:5432")
TARGET_S = 0.1
LIMIT = 50
SEED = 14
EXPERTS = 40
SYLLABLES = ("агро", "пром", "строй", "торг", "снаб", "тех", "инвест", "сервис", "транс", "энерго", "мед",
             "фарм", "лес", "север", "юг", "восток", "альфа", "вектор", "гранит", "ёлка", "берёза", "ока",
             "волга", "нева", "урал", "сиб", "дон", "кама", "лада", "стандарт")
SURNAMES = ("Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
            "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
            "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
            "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов",
            "Александров", "Дмитриев", "Королёв", "Гусев", "Киселев", "Ильин", "Максимов", "Поляков",
            "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов")
FIRST = (("Александр", "Алексей", "Андрей", "Дмитрий", "Сергей", "Иван", "Михаил", "Пётр", "Артём", "Олег"),
         ("Анна", "Мария", "Елена", "Ольга", "Наталья", "Алёна", "Татьяна", "Ирина", "Светлана", "Юлия"))
PATRONYMICS = (("Александрович", "Сергеевич", "Петрович", "Иванович", "Николаевич", "Андреевич"),
               ("Александровна", "Сергеевна", "Петровна", "Ивановна", "Николаевна", "Андреевна"))
CITIES = (("Санкт-Петербург", "Europe/Moscow"), ("Москва", "Europe/Moscow"), ("Казань", "Europe/Moscow"),
          ("Самара", "Europe/Samara"), ("Екатеринбург", "Asia/Yekaterinburg"), ("Омск", "Asia/Omsk"),
          ("Новосибирск", "Asia/Novosibirsk"), ("Красноярск", "Asia/Krasnoyarsk"))
POSITIONS = ("главный бухгалтер", "бухгалтер", "юрист", "директор", "кадровик", "экономист")
CLIENT_COLUMNS = ("id", "external_id", "name", "inn", "segment", "territory", "expert_id", "timezone", "version",
                  "debt_rub")
CONTACT_COLUMNS = ("id", "client_id", "full_name", "phone_e164", "external_id", "position", "phone", "is_user")


@dataclass(frozen=True)
class Data:
    experts: list[tuple[Any, ...]]
    clients: list[tuple[Any, ...]]
    contacts: list[tuple[Any, ...]]


def person(rng: random.Random) -> str:
    female = rng.random() < 0.6
    surname = rng.choice(SURNAMES) + ("а" if female else "")
    return f"{surname} {rng.choice(FIRST[female])} {rng.choice(PATRONYMICS[female])}"


def org_name(rng: random.Random, n: int) -> str:
    roll = rng.random()
    if roll < 0.15:
        return f"ИП {person(rng)}"
    if roll < 0.35:
        kind = rng.choice(("МБОУ «Школа № {}»", "МБДОУ «Детский сад № {}»", "ГБУЗ «Городская больница № {}»"))
        return f"{kind.format(n % 300 + 1)}"
    word = "".join(rng.choice(SYLLABLES) for _ in range(3))
    return f"{'АО' if roll < 0.45 else 'ООО'} «{word.capitalize()}»"


def phone_spelling(rng: random.Random, e164: str) -> str:
    d = e164[1:]
    return rng.choice((f"+7 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}", f"8 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}", "8" + d))


def generate(n: int) -> Data:
    rng = random.Random(SEED)
    experts = [(i, f"e{i}", f"Эксперт {i:02d}", "expert", str(1000 + i)) for i in range(1, EXPERTS + 1)]
    clients: list[tuple[Any, ...]] = []
    contacts: list[tuple[Any, ...]] = []
    for i in range(1, n + 1):
        city, zone = CITIES[i % len(CITIES)]
        inn = f"{(i * 104_729 + 7_700_000_000) % 10_000_000_000:010d}"
        clients.append((i, f"C-{i}", org_name(rng, i), inn, "ДС", city, i % EXPERTS + 1, zone, "online", 0))
        for _ in range(rng.choice((2, 3, 3, 3, 4))):
            k = len(contacts) + 1
            e164 = f"79{(k * 7919 + 12_345) % 1_000_000_000:09d}"
            phone = phone_spelling(rng, e164)
            if rng.random() < 0.1:
                phone += f", 8 (812) {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}"
            contacts.append((k, i, person(rng), e164, f"K-{k}", rng.choice(POSITIONS), phone, k % 3 == 0))
    return Data(experts, clients, contacts)


def batched(rows: list[tuple[Any, ...]], size: int = 20_000) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


# -- the two databases ------------------------------------------------------------------------------

class Postgres:
    kind = "postgresql"

    def __init__(self, n: int) -> None:
        self.name = f"dsdesk_bench_search_{os.getpid()}_{n}"
        self.url = f"postgresql://{PG_HOST}/{self.name}"

    async def admin(self, sql: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(f"postgresql://{PG_HOST}/postgres")
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def create(self, data: Data) -> None:
        import asyncpg

        await self.admin(f'DROP DATABASE IF EXISTS "{self.name}"')
        await self.admin(f'CREATE DATABASE "{self.name}"')
        await migrate(self.url)
        connection = await asyncpg.connect(self.url)
        try:
            await connection.copy_records_to_table(
                "experts", records=data.experts, columns=["id", "login", "full_name", "role", "extension"])
            for table, columns, rows in (("clients", CLIENT_COLUMNS, data.clients),
                                         ("client_contacts", CONTACT_COLUMNS, data.contacts)):
                for chunk in batched(rows):
                    await connection.copy_records_to_table(table, records=chunk, columns=list(columns))
            await connection.execute("VACUUM ANALYZE experts, clients, client_contacts")
        finally:
            await connection.close()

    async def drop(self) -> None:
        await self.admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Sqlite:
    kind = "sqlite"

    def __init__(self, n: int) -> None:
        self.dir = tempfile.mkdtemp(prefix="dsdesk-bench-search-")
        self.path = f"{self.dir}/search.db"
        self.url = f"sqlite:///{self.path}"

    async def create(self, data: Data) -> None:
        await migrate(self.url)
        connection = sqlite3.connect(self.path)
        try:
            connection.execute("PRAGMA synchronous=OFF")
            connection.executemany("INSERT INTO experts (id, login, full_name, role, extension) VALUES (?, ?, ?, ?, ?)",
                                   data.experts)
            for table, columns, rows in (("clients", CLIENT_COLUMNS, data.clients),
                                         ("client_contacts", CONTACT_COLUMNS, data.contacts)):
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                connection.executemany(sql, rows)
            connection.commit()
            connection.execute("ANALYZE")
            connection.commit()
        finally:
            connection.close()

    async def drop(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


# -- measurement ------------------------------------------------------------------------------------

def cases(data: Data) -> list[tuple[str, str]]:
    """(what, typed): from the target client in the middle of the table and its first contact."""
    target = target_client(data)
    contact = next(c for c in data.contacts if c[1] == target[0])
    local = contact[3][1:]
    surname, first = contact[2].split()[:2]
    return [
        ("name, 10 letters of one", target[2].split("«")[1].rstrip("»")[2:12].lower()),
        ("name, a common syllable", "строй"),
        ("name, «ооо»", "ооо"),
        ("ИНН whole", target[3]),
        ("ИНН, first 6 digits", target[3][:6]),
        ("phone +7 (…) …-…-…", f"+7 ({local[:3]}) {local[3:6]}-{local[6:8]}-{local[8:]}"),
        ("phone 8 … … … …", f"8 {local[:3]} {local[3:6]} {local[6:8]} {local[8:]}"),
        ("phone, 10 digits", local),
        ("phone, last 7 digits", local[3:]),
        ("contact, surname and name", f"{surname} {first}".lower()),
        ("contact, a common surname", "иванова"),
        ("hostile: 10,000 × «%»", "%" * 10_000),
        ("hostile: 10,000 × «а»", "а" * 10_000),
    ]


def target_client(data: Data) -> tuple[Any, ...]:
    """The first ООО from the middle of the table on."""
    return next(c for c in data.clients[len(data.clients) // 2:] if c[2].startswith("ООО"))


async def bench_size(db: Any, n: int, runs: int) -> dict[str, Any]:
    started = time.perf_counter()
    data = generate(n)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    await db.create(data)
    loaded = time.perf_counter() - started
    target = target_client(data)
    result: dict[str, Any] = {"db": db.kind, "n": n, "contacts": len(data.contacts), "generated": generated,
                              "loaded": loaded, "load": [os.getloadavg()[0]], "rows": []}
    for what, typed in cases(data):
        for scope, expert_id in (("all", None), ("Expert", target[6])):
            engine = create_engine(db.url, pool_size=2)  # fresh: the first run is cold
            repo = ClientSearchRepository(create_sessionmaker(engine))
            times = []
            try:
                for _ in range(runs + 1):
                    began = time.perf_counter()
                    found = await repo.search(read_query(typed), expert_id, LIMIT)
                    times.append(time.perf_counter() - began)
            finally:
                await engine.dispose()
            shown = f"{len(found.clients)}{'+' if found.more else ''}"
            has_target = any(c.external_id == target[1] for c in found.clients)
            result["rows"].append((what, typed, scope, shown, has_target, times[0], times[1:]))
    result["load"].append(os.getloadavg()[0])
    return result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}" if seconds < 0.1 else f"{seconds * 1000:,.0f}"


def print_result(r: dict[str, Any]) -> None:
    print(f"\n## {r['db']}: {r['n']:,} organisations, {r['contacts']:,} contacts "
          f"(generated {r['generated']:.1f} s, loaded and indexed {r['loaded']:.1f} s); "
          f"load average before/after {r['load'][0]:.1f}/{r['load'][1]:.1f} on {os.cpu_count()} CPUs")
    print("| case | typed | scope | shown | target found | median ms | cold ms | max ms |")
    print("|---|---|---|---:|---|---:|---:|---:|")
    for what, typed, scope, shown, has_target, cold, warm in r["rows"]:
        shown_typed = typed if len(typed) <= 40 else f"{typed[:8]}… ({len(typed):,})"
        print(f"| {what} | `{shown_typed}` | {scope} | {shown} | {'yes' if has_target else '—'} | "
              f"{ms(statistics.median(warm))} | {ms(cold)} | {ms(max(warm))} |")
    medians = [statistics.median(row[6]) for row in r["rows"]]
    worst = max(medians)
    verdict = ("met" if worst <= TARGET_S else "MISSED") if r["db"] == "postgresql" else "reference, no target"
    print(f"slowest case median {ms(worst)} ms, all cases' median {ms(statistics.median(medians))} ms; "
          f"≤ 100 ms: {verdict}")


def print_growth(results: list[dict[str, Any]]) -> None:
    for kind in ("postgresql", "sqlite"):
        sized = sorted((r for r in results if r["db"] == kind), key=lambda r: r["n"])
        if len(sized) < 2:
            continue
        small, large = sized[0], sized[-1]
        ratios = [statistics.median(b[6]) / statistics.median(a[6])
                  for a, b in zip(small["rows"], large["rows"], strict=True) if statistics.median(a[6]) > 0]
        print(f"{kind}: growth {small['n']:,} → {large['n']:,} organisations (×{large['n'] / small['n']:.0f}): "
              f"per-case median time ×{statistics.median(ratios):.2f} (from ×{min(ratios):.2f} to ×{max(ratios):.2f})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="PostgreSQL sizes (organisations)")
    parser.add_argument("--sqlite-sizes", default="10000,100000", help="SQLite sizes (reference)")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"# bench/client_search.py — {date.today()} — Python {platform.python_version()}, {os.cpu_count()} CPUs")
    results = []
    plan = [(Postgres, int(n)) for n in args.sizes.split(",") if n] + \
           [(Sqlite, int(n)) for n in args.sqlite_sizes.split(",") if n]
    for kind, n in plan:
        db = kind(n)
        try:
            result = await bench_size(db, n, args.runs)
        finally:
            await db.drop()
        print_result(result)
        results.append(result)
    print()
    print_growth(results)


if __name__ == "__main__":
    asyncio.run(main())
