"""Demo clients for `make run`: enough for the simulator's demo calls to match known clients."""

from __future__ import annotations

from service.db.clients import ClientsRepository

ORG_KINDS = ("ООО", "АО", "ИП", "ООО", "МУП", "ООО")
ORG_NAMES = (
    "Ромашка", "Вектор", "Северный ветер", "Уралстройсервис", "Балтика-Трейд", "Смирнов А. В.", "Кедр",
    "Альфа-Консалт", "Волжские зори", "ТехноПарк", "Дельта", "Сибирская нива", "Горизонт", "Орион",
    "Меридиан", "Берёзка", "Стандарт-Аудит", "Энергосбыт", "Лотос", "Прогресс", "Заря", "Флагман",
    "Гранит", "Пеликан", "Рассвет", "Мегаполис", "Янтарь", "Созвездие", "Агроком", "Исток",
)
CONTACTS = (
    "Ольга Петровна Иванова", "Сергей Николаевич Кузнецов", "Елена Викторовна Соколова",
    "Андрей Михайлович Попов", "Наталья Сергеевна Лебедева", "Татьяна Ивановна Новикова",
)


def demo_clients() -> list[tuple[str, str, str, str]]:
    """(client external id, organisation name, contact name, phone) — deterministic."""
    rows = []
    for i, name in enumerate(ORG_NAMES):
        kind = ORG_KINDS[i % len(ORG_KINDS)]
        org = f"{kind} «{name}»" if kind != "ИП" else f"ИП {name}"
        rows.append((f"C-{501 + i}", org, CONTACTS[i % len(CONTACTS)], f"7911555{1000 + i:04d}"))
    return rows


async def seed_demo_clients(clients: ClientsRepository) -> list[tuple[str, str, str]]:
    """Idempotent; returns (phone, organisation, client id) for the simulator's demo load."""
    seeded = []
    for external_id, org, contact, phone in demo_clients():
        await clients.upsert_client(external_id, org)
        await clients.add_contact(external_id, contact, phone)
        seeded.append((phone, org, external_id))
    return seeded
