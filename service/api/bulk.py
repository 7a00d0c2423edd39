"""Bulk upserts: clients, contacts, history, signals, logins and business events, through the imports' own
validation and writers, so a list sent here is checked and written exactly as the same rows in a file.

All or nothing: one bad item and nothing is written; the answer names every bad item (its position,
field and why). Idempotent: the same list twice changes nothing the second time (clients and contacts
by `external_id`; history, signals, logins and events by the whole row).
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from service.api.endpoints import ApiCall, Endpoint, Outcome
from service.api.problems import ApiProblem, ProblemItem
from service.imports.errors import FileFormatError, ImportFailed, RowsRejected
from service.imports.runner import import_rows
from service.imports.schema_base import ImportContext
from service.imports.schemas import schema_for
from texts.words import plural

MAX_ITEMS = 10_000
Cell = str | int | float | bool | None
BULK_KINDS: dict[str, str] = {  # the API's resource → the import's kind
    "clients": "clients", "contacts": "contacts", "history": "history", "signals": "signals",
    "logins": "logins", "events": "events",
}
_TITLES = {"clients": "организации", "contacts": "контакты", "history": "история контактов",
           "signals": "сигналы", "logins": "входы в онлайн-версию", "events": "события CRM"}


class BulkResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    received: int
    new: int
    updated: int
    unchanged: int
    summary: str  # in Russian, as the import page says it


@functools.cache
def item_model(kind: str) -> type[BaseModel]:
    """The item of a bulk list: the import's columns (docs/import.md), by their names; nothing else."""
    schema = schema_for(kind, ImportContext())
    fields: dict[str, Any] = {column.name: (Cell, ...) if column.required else (Cell, None)
                              for column in schema.columns}
    name = "".join(part.title() for part in kind.split("_")) + "Item"
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


@functools.cache  # one model class per kind and process (pydantic builds each in ~5 ms; every app asks)
def bulk_model(kind: str) -> type[BaseModel]:
    item = item_model(kind)
    return create_model(item.__name__.removesuffix("Item") + "Bulk", __config__=ConfigDict(extra="forbid"),
                        items=(list[item], Field(min_length=1, max_length=MAX_ITEMS)))  # type: ignore[valid-type]


def bulk_handler(resource: str) -> Any:
    kind = BULK_KINDS[resource]

    async def upsert(call: ApiCall, params: None, body: BaseModel) -> Outcome:
        items = [item.model_dump(exclude_unset=True) for item in body.items]  # type: ignore[attr-defined]
        try:
            report = await import_rows(kind, items, call.sessions, progress=False,
                                       context=ImportContext.of(call.settings, call.now))
        except RowsRejected as rejected:
            raise _rejected(rejected) from None
        except FileFormatError as e:
            raise ApiProblem(422, str(e), kind="validation") from None
        except ImportFailed as e:
            raise ApiProblem(409, str(e), kind="conflict") from None
        c = report.counts
        return Outcome(BulkResult(kind=resource, received=report.rows, new=c.new, updated=c.updated,
                                  unchanged=c.unchanged, summary=report.summary()),
                       audit=f"{resource}: {report.summary()}")

    upsert.__name__ = f"upsert_{resource}"
    return upsert


def _rejected(rejected: RowsRejected) -> ApiProblem:
    items = [ProblemItem(item=e.row - 2 if e.row >= 2 else None, field=e.column, message=_message(e.reason, e.value))
             for e in rejected.errors[:100]]
    first = items[0] if items else ProblemItem(message="данные не прошли проверку")
    where = f"элемент {first.item}, " if first.item is not None else ""
    errors = f"{rejected.total} {plural(rejected.total, 'ошибка', 'ошибки', 'ошибок')}"
    detail = f"ничего не записано: {errors}; первая — {where}{first.field}: {first.message}"
    return ApiProblem(422, detail, kind="validation", errors=items,
                      error_count=rejected.total if rejected.total > len(items) else None)


def _message(reason: str, value: str) -> str:
    return f"{reason} (значение «{value[:80]}»)" if value else reason


def bulk_endpoints() -> list[Endpoint]:
    return [Endpoint("PUT", f"/{resource}", bulk_handler(resource), "write",
                     f"Загрузить {_TITLES[resource]} (до {MAX_ITEMS:,} за запрос)".replace(",", " "),
                     "Загрузка", BulkResult, body=bulk_model(kind), writes=True,
                     description="Всё или ничего: при ошибке не записывается ничего, ответ 422 называет каждый "
                                 "неверный элемент (номер с 0, поле, причина). Поля — столбцы импорта того же вида "
                                 "(docs/import.md); повтор того же списка ничего не меняет.")
            for resource, kind in BULK_KINDS.items()]

