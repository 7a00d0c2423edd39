"""RFC 9457 problem details: every error the API gives is one, in Russian, naming what was wrong.

`ApiProblem` is raised anywhere below a handler; `problem_middleware` (ahead of every other middleware
for /api/ paths) answers it, and turns aiohttp's own errors (404, 405, 413) and anything unexpected
into problems too, so a client never gets an HTML or plain-text error from the API.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

API_PREFIX = "/api/"
PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problems/"
log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TITLES: dict[int, str] = {
    400: "Неверный запрос", 401: "Нужен токен", 403: "Нет права", 404: "Не найдено",
    405: "Метод не поддерживается", 409: "Конфликт", 413: "Слишком большой запрос",
    415: "Неверный тип содержимого", 422: "Данные не прошли проверку", 429: "Слишком много запросов",
    500: "Внутренняя ошибка", 503: "Сервис недоступен",
}


class ProblemItem(BaseModel):
    """One thing wrong in the request: where (`item` of a bulk list, `field`) and why."""

    model_config = ConfigDict(extra="forbid")

    item: int | None = None  # the position in a bulk list, from 0
    field: str | None = None  # a dotted path: `items.3.inn`, a query parameter's name
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (application/problem+json)."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemItem] = []
    error_count: int | None = None  # when `errors` lists only the first of many


class ApiProblem(Exception):
    def __init__(self, status: int, detail: str, *, kind: str | None = None, errors: Iterable[ProblemItem] = (),
                 error_count: int | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.errors = list(errors)
        self.error_count = error_count
        self.headers = dict(headers or {})

    def body(self, instance: str | None = None) -> Problem:
        kind = self.kind or HTTPStatus(self.status).phrase.lower().replace(" ", "-")
        return Problem(type=TYPE_BASE + kind, title=TITLES.get(self.status, HTTPStatus(self.status).phrase),
                       status=self.status, detail=self.detail, instance=instance, errors=self.errors,
                       error_count=self.error_count)

    def response(self, instance: str | None = None) -> web.Response:
        return web.Response(status=self.status, body=self.body(instance).model_dump_json(exclude_none=True),
                            content_type=PROBLEM_TYPE, headers=self.headers)


# pydantic's messages are English: the common ones in Russian, by error type.
_MESSAGES: dict[str, str] = {
    "missing": "обязательное поле", "extra_forbidden": "неизвестное поле",
    "int_parsing": "ожидается целое число", "int_type": "ожидается целое число",
    "float_parsing": "ожидается число", "float_type": "ожидается число",
    "string_type": "ожидается строка",
    "bool_parsing": "ожидается true или false", "bool_type": "ожидается true или false",
    "list_type": "ожидается список", "dict_type": "ожидается объект", "model_type": "ожидается объект",
    "date_from_datetime_parsing": "ожидается дата ГГГГ-ММ-ДД", "date_parsing": "ожидается дата ГГГГ-ММ-ДД",
    "date_type": "ожидается дата ГГГГ-ММ-ДД", "datetime_parsing": "ожидается дата и время ISO 8601",
    "datetime_type": "ожидается дата и время ISO 8601", "datetime_from_date_parsing": "ожидается дата и время ISO 8601",
    "timezone_aware": "укажите часовой пояс (например, +03:00)",
    "string_too_long": "слишком длинная строка", "string_too_short": "пустая строка",
    "too_long": "слишком много элементов", "too_short": "слишком мало элементов",
    "greater_than_equal": "слишком маленькое значение", "less_than_equal": "слишком большое значение",
    "greater_than": "слишком маленькое значение", "less_than": "слишком большое значение",
    "literal_error": "недопустимое значение", "enum": "недопустимое значение",
    "string_pattern_mismatch": "значение не в том формате", "json_invalid": "тело запроса — не JSON",
    "json_type": "ожидается JSON", "value_error": "недопустимое значение",
}


def validation_problem(error: ValidationError, *, where: str) -> ApiProblem:
    """422 naming every invalid field (the first 100), in Russian; `where`: `body` or `query`."""
    items: list[ProblemItem] = []
    for e in error.errors(include_url=False)[:100]:
        loc = [str(part) for part in e["loc"]]
        item = int(loc[1]) if len(loc) > 1 and loc[0] == "items" and loc[1].isdigit() else None
        message = _MESSAGES.get(e["type"], e["msg"])
        if e["type"] in ("literal_error", "enum") and e.get("ctx", {}).get("expected"):
            message = f"{message}; возможны: {e['ctx']['expected']}"
        elif e["type"] in ("value_error",) and e.get("ctx", {}).get("error"):
            message = str(e["ctx"]["error"])
        items.append(ProblemItem(item=item, field=".".join(loc) or where, message=message))
    count = error.error_count()
    first = items[0]
    where_what = f"{first.field}: {first.message}"
    detail = where_what if count == 1 else f"ошибок: {count}; первая — {where_what}"
    return ApiProblem(422, detail, kind="validation", errors=items, error_count=count if count > len(items) else None)


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIX)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """For /api/ paths: every error as a problem document (first in line, so it sees all of them)."""
    if not is_api(request.path):
        return await handler(request)
    instance = request.path
    try:
        response = await handler(request)
    except ApiProblem as problem:
        return problem.response(instance)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return _from_http(e, instance)
    except Exception:
        log.exception("API request %s %s failed", request.method, request.path)
        return ApiProblem(500, "внутренняя ошибка сервиса: она записана в журнал").response(instance)
    if response.status >= 400 and response.content_type not in (PROBLEM_TYPE,) and not response.prepared:
        detail = _text_of(response) or TITLES.get(response.status, "ошибка")
        return ApiProblem(response.status, detail).response(instance)
    return response


def _from_http(e: web.HTTPException, instance: str) -> web.Response:
    headers: dict[str, str] = {}
    if e.status == 405 and "Allow" in e.headers:
        headers["Allow"] = e.headers["Allow"]
    detail = {404: "нет такого адреса в API", 405: "этот метод здесь не поддерживается",
              413: "тело запроса больше допустимого"}.get(e.status) or _text_of(e) or TITLES.get(e.status, "ошибка")
    return ApiProblem(e.status, detail, headers=headers).response(instance)


def _text_of(response: web.StreamResponse) -> str:
    body: Any = getattr(response, "text", None)
    return body.strip()[:300] if isinstance(body, str) else ""
