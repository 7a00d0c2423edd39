"""A realistic demo department for `make run`: 3 Experts, a personal manager (ПМ по ДС) with 20 ДС
clients of her own, a supervisor, an admin, 90 ДС clients of the Experts, and 40 clients still served
by the СИО (КС) with what the selection for ДС reads (issue 15). Pure.

Rows use the import formats (docs/import.md), so the demo goes through the same import path as
a real CRM export. Deterministic: the same seed gives the same department.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

# (login, (Фамилия, Имя, Отчество), extension)
EXPERTS = (
    ("maria", ("Орлова", "Мария", "Сергеевна"), "101"),
    ("anna", ("Белова", "Анна", "Викторовна"), "102"),
    ("pavel", ("Зайцев", "Павел", "Андреевич"), "103"),
)
DEMO_GROUP = "Группа 1"
# Who else signs in to the demo: (login, (Фамилия, Имя, Отчество), role, extension).
STAFF = (
    ("olga", ("Смирнова", "Ольга", "Викторовна"), "supervisor", "201"),
    ("irina", ("Ковалёва", "Ирина", "Павловна"), "pm", "104"),
    ("admin", ("Администратор", "DS Desk", ""), "admin", ""),
)
# Fixed, published passwords of the demo logins (demo mode only; docs/security.md).
DEMO_PASSWORDS = {login: f"{login}-demo" for login in (*(e[0] for e in EXPERTS), *(s[0] for s in STAFF))}
ORG_FORMS = ("ООО", "ООО", "АО", "ИП", "МУП", "ООО", "ГБУ")
ORG_WORDS = (
    "Ромашка", "Вектор", "Северный ветер", "Уралстройсервис", "Балтика-Трейд", "Кедр", "Альфа-Консалт",
    "Волжские зори", "ТехноПарк", "Дельта", "Сибирская нива", "Горизонт", "Орион", "Меридиан", "Берёзка",
    "Стандарт-Аудит", "Энергосбыт", "Лотос", "Прогресс", "Заря", "Флагман", "Гранит", "Пеликан", "Рассвет",
    "Мегаполис", "Янтарь", "Созвездие", "Агроком", "Исток", "Радуга",
)
FIRST_F = ("Ольга", "Елена", "Наталья", "Татьяна", "Ирина", "Светлана", "Марина", "Галина", "Людмила")
FIRST_M = ("Сергей", "Андрей", "Алексей", "Дмитрий", "Николай", "Владимир", "Игорь", "Михаил")
PATRONYMIC_F = ("Петровна", "Ивановна", "Сергеевна", "Николаевна", "Викторовна", "Александровна")
PATRONYMIC_M = ("Петрович", "Иванович", "Сергеевич", "Николаевич", "Викторович", "Александрович")
SURNAMES = ("Иванов", "Кузнецов", "Соколов", "Попов", "Лебедев", "Новиков", "Морозов", "Волков", "Павлов")
POSITIONS = ("главный бухгалтер", "бухгалтер", "юрист", "директор", "экономист", "специалист по кадрам")
TOPICS = ("Обзор новостей и изменений", "Обучение", "Продление финансовых условий", "СМАРТ-комплект")
COMMENTS = (
    "Показала поиск по ситуации, попросила напомнить про семинар.",
    "Клиент занят, просил перезвонить после обеда.",
    "Разобрали новый порядок расчёта НДС, зашла в систему.",
    "Интересуется СМАРТ-комплектом для юриста.",
    "Жалоба на скорость онлайн-версии, передано на ГЛ.",
)
SIGNALS = ("hotline_request", "consultation_request", "problem", "task", "new_user", "seminar_invite")
TIMEZONES = ("Europe/Moscow",) * 6 + ("Asia/Yekaterinburg", "Europe/Samara", "Asia/Novosibirsk")


def demo_rows(today: date, seed: int = 2026) -> dict[str, list[dict[str, str]]]:
    rng = random.Random(seed)
    rows: dict[str, list[dict[str, str]]] = {k: [] for k in ("experts", "clients", "contacts", "history", "signals")}
    for login, name, ext in EXPERTS:
        rows["experts"].append({"login": login, **_name_columns(name), "role": "expert", "extension": ext,
                                "timezone": "Europe/Moscow", "daily_target": "16", "group": DEMO_GROUP})
    for login, name, role, ext in STAFF:
        rows["experts"].append({"login": login, **_name_columns(name), "role": role, "extension": ext,
                                "timezone": "Europe/Moscow", "daily_target": ""})
    for i in range(90):
        client_id = f"C-{1001 + i}"
        rows["clients"].append(_client(rng, i, client_id, today))
        for j in range(2):
            contact_id = f"K-{2001 + 2 * i + j}"
            rows["contacts"].append(_contact(rng, client_id, contact_id, 2 * i + j))
            rows["history"] += _history(rng, client_id, contact_id, today)
        if rng.random() < 0.25:
            rows["signals"].append({
                "client_external_id": client_id, "contact_external_id": f"K-{2001 + 2 * i}",
                "kind": rng.choice(SIGNALS), "occurred_on": (today - timedelta(days=rng.randint(0, 6))).isoformat(),
                "note": "Обращение на Горячую линию: вопрос по поиску" if rng.random() < 0.5 else "",
            })
    _add_ks_clients(rows, today, random.Random(seed + 1))  # its own generator: the ДС part stays as it was
    _add_ds_services(rows, random.Random(seed + 2))
    _add_pm_clients(rows, today, random.Random(seed + 3))
    return rows


PM_CLIENTS = 20


def _add_pm_clients(rows: dict[str, list[dict[str, str]]], today: date, rng: random.Random) -> None:
    """The personal manager's own ДС clients (issue 16): whom her visit plan and reports are about."""
    for i in range(PM_CLIENTS):
        client_id = f"C-{1201 + i}"
        client = _client(rng, 40 + i * 7, client_id, today)
        word = ORG_WORDS[(i * 11 + 3) % len(ORG_WORDS)]
        rows["clients"].append({**client, "name": f"{('ООО', 'АО', 'ООО', 'МУП')[i % 4]} «{word}-ПМ{i + 1}»",
                                "inn": f"{7600000000 + i * 5003:010d}", "expert_login": "irina", "services": ""})
        for j in range(2):
            index = 900 + 2 * i + j
            contact_id = f"K-{4001 + 2 * i + j}"
            rows["contacts"].append(_contact(rng, client_id, contact_id, index))
            rows["history"] += _history(rng, client_id, contact_id, today)


def _add_ds_services(rows: dict[str, list[dict[str, str]]], rng: random.Random) -> None:
    """The services the ДС clients use (СТ, рассылка, видеосеминары, ЛК): the presentation's «ДС
    сейчас» counts those using any (found trying it: 1 of 91, the demo had none)."""
    for client in rows["clients"]:
        if client["segment"] == "ДС":
            client["services"] = ";".join(rng.sample(("st", "mailing", "video_seminars", "lk"),
                                                     rng.choice((0, 1, 1, 2, 2, 3))))


KS_CLIENTS = 40
SIO_NAMES = ("Сидоров П. И.", "Кузьмина Е. А.")


def _add_ks_clients(rows: dict[str, list[dict[str, str]]], today: date, rng: random.Random) -> None:
    """Clients served by a СИО (segment КС), the facts the selection scores them by, their users."""
    for i in range(KS_CLIENTS):
        client_id = f"C-{1101 + i}"
        form = ORG_FORMS[i % len(ORG_FORMS)]
        word = ORG_WORDS[(i * 7) % len(ORG_WORDS)]
        name = f"ИП {rng.choice(SURNAMES)} {word[0]}. Н." if form == "ИП" else f"{form} «{word}-КС{i + 1}»"
        version = rng.choice(("online", "online", "internet_update", "other", "other"))
        logins = rng.choice((0, 2, 6, 12, 20, 35))
        rows["clients"].append({
            "external_id": client_id, "name": name, "inn": f"{7800000000 + i * 6007:010d}", "segment": "КС",
            "territory": rng.choice(("БГ", "УТ")), "expert_login": "", "timezone": rng.choice(TIMEZONES),
            "version": version,
            "online_logins_30d": str(logins) if version == "online" else "",
            # A last login that agrees with the month's count (found trying it: «не входили, за 30 дней: 35»).
            "online_last_login": (today - timedelta(days=rng.randint(0, 25))).isoformat()
            if version == "online" and logins else "",
            "debt_rub": f"{rng.choice((0, 0, 0, 3200))}", "prepaid_months": str(rng.choice((0, 1, 3, 6, 12))),
            "collection_completeness": f"0.{50 + (i * 11) % 31}",
            "client_since": (today - timedelta(days=rng.randint(100, 4000))).isoformat(),
            "came_from": rng.choice(("", "", "", "glavbukh", "garant", "other")),
            "distance_km": str(rng.choice((3, 8, 15, 25, 45, 90, 140))),
            "services": ";".join(rng.sample(("st", "mailing", "video_seminars", "lk"), rng.randint(0, 4))),
            "ip_possible": "" if version != "other" else rng.choice(("да", "нет", "")),
            "sio": rng.choice(SIO_NAMES),
        })
        for j in range(rng.randint(1, 6)):
            index = 600 + 6 * i + j
            contact = _contact(rng, client_id, f"K-{3001 + 6 * i + j}", index)
            rows["contacts"].append({**contact, "is_user": "1" if j < 3 or rng.random() < 0.3 else "0"})


def _name_columns(name: tuple[str, str, str]) -> dict[str, str]:
    last, first, patronymic = name
    return {"last_name": last, "first_name": first, "patronymic": patronymic}


def demo_phone(index: int) -> str:
    return f"7911555{1000 + index:04d}"


def _client(rng: random.Random, i: int, client_id: str, today: date) -> dict[str, str]:
    form = ORG_FORMS[i % len(ORG_FORMS)]
    word = ORG_WORDS[i % len(ORG_WORDS)]
    suffix = "" if i < 30 else f"-{i // 30}"
    name = f"ИП {rng.choice(SURNAMES)} {word[0]}. В." if form == "ИП" else f"{form} «{word}{suffix}»"
    online = rng.random() < 0.81
    return {
        "external_id": client_id, "name": name, "inn": f"{7700000000 + i * 7919:010d}", "segment": "ДС",
        "territory": rng.choice(("БГ", "УТ")), "expert_login": EXPERTS[i % 3][0], "timezone": rng.choice(TIMEZONES),
        "version": "online" if online else rng.choice(("internet_update", "other")),
        "online_last_login": (today - timedelta(days=rng.randint(0, 40))).isoformat() if online else "",
        "online_logins_30d": str(rng.randint(0, 60)) if online else "",
        "debt_rub": f"{rng.choice((0, 0, 0, 0, 4500, 12500))}",
        "prepaid_months": str(rng.choice((0, 1, 3, 6))),
        # Полнота сбора 0.70–0.95, not from rng: the other values keep their sequence.
        "collection_completeness": f"0.{70 + (i * 7) % 26}",
        "terms_end": (today + timedelta(days=rng.randint(-5, 120))).isoformat() if rng.random() < 0.4 else "",
        "ds_since": (today - timedelta(days=rng.randint(90, 900))).isoformat(),
        "contact_every_days": str(rng.choice((14, 14, 21, 30))),
    }


def _contact(rng: random.Random, client_id: str, contact_id: str, index: int) -> dict[str, str]:
    female = rng.random() < 0.75
    first = rng.choice(FIRST_F if female else FIRST_M)
    patronymic = rng.choice(PATRONYMIC_F if female else PATRONYMIC_M)
    surname = rng.choice(SURNAMES) + ("а" if female else "")
    morning = rng.random() < 0.2
    return {
        "external_id": contact_id, "client_external_id": client_id,
        "full_name": f"{surname} {first} {patronymic}", "position": rng.choice(POSITIONS),
        "phone": demo_phone(index), "email": f"user{index}@example.ru", "is_user": "1",
        "call_from": "09:00" if morning else "", "call_to": "12:00" if morning else "",
    }


def _history(rng: random.Random, client_id: str, contact_id: str, today: date) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    day = today - timedelta(days=rng.randint(60, 120))
    while True:
        day += timedelta(days=rng.randint(7, 30))
        if day >= today:
            return rows
        reached = rng.random() < 0.8
        rows.append({
            "client_external_id": client_id, "contact_external_id": contact_id, "date": day.isoformat(),
            "result": "contact_made" if reached else "not_reached", "topic": rng.choice(TOPICS),
            "comment": rng.choice(COMMENTS) if reached else "",
        })
