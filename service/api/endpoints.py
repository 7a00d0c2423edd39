"""An API operation declared once: its route, its scope, its models. The handler wrapper checks the
token, the scope and the rate, reads and validates the path, query and body with the pydantic models,
audits writes, and the OpenAPI document (service/api/openapi.py) is built from the same declarations.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ValidationError

from service.api.problems import ApiProblem, validation_problem
from service.api.rate_limit import RateLimiter
from service.api.tokens import SCOPE_LABELS, Scope, bearer_token
from service.appkeys import DB_SESSIONS, SETTINGS
from service.db.api_tokens import ApiTokensRepository, TokenView
from service.db.engine import SessionMaker
from service.settings import Settings

API_BASE = "/api/v1"
MAX_BODY_BYTES = 32 * 1024 * 1024  # 10,000 clients with long names fit; more is refused before parsing
RATE_LIMITER = web.AppKey("api_rate_limiter", RateLimiter)
log = logging.getLogger(__name__)
Method = Literal["GET", "POST", "PUT", "DELETE"]


@dataclass(frozen=True, slots=True)
class ApiCall:
    """What a handler gets besides its parameters: the app's parts, the token, the time of the request."""

    request: web.Request
    token: TokenView
    now: datetime

    @property
    def sessions(self) -> SessionMaker:
        return self.request.app[DB_SESSIONS]

    @property
    def settings(self) -> Settings:
        return self.request.app[SETTINGS]


@dataclass(frozen=True, slots=True)
class Outcome:
    """A handler's answer when it is not a plain 200: the model, its status, what the audit says."""

    body: BaseModel
    status: int = 200
    audit: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[ApiCall, Any, Any], Awaitable[BaseModel | Outcome | web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: Method
    path: str  # below API_BASE: "/calls/{linkedid}"
    handler: Handler
    scope: Scope
    summary: str  # Russian, one line
    tag: str
    response: type[BaseModel] | None  # None: not JSON (a file), `response_type` says what
    params: type[BaseModel] | None = None  # the path's and the query's parameters, one model
    body: type[BaseModel] | None = None
    status: int = 200
    description: str = ""
    response_type: str = "application/json"
    writes: bool = False  # audited, success or not

    @property
    def operation_id(self) -> str:
        return self.handler.__name__.strip("_")


def add_endpoints(app: web.Application, endpoints: list[Endpoint]) -> None:
    app.setdefault(RATE_LIMITER, RateLimiter())
    for endpoint in endpoints:
        app.router.add_route(endpoint.method, API_BASE + endpoint.path, _wrap(endpoint),
                             name="api." + endpoint.operation_id)


def _wrap(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        tokens = ApiTokensRepository(request.app[DB_SESSIONS])
        now = datetime.now(UTC)
        token = await _authorised(request, tokens, endpoint, now)
        try:
            params = _params(request, endpoint)
            body = await _body(request, endpoint)
            answer = await endpoint.handler(ApiCall(request, token, now), params, body)
        except ApiProblem as problem:
            if endpoint.writes:
                await _audit(tokens, token, request, problem.status, problem.detail)
            raise
        if isinstance(answer, web.StreamResponse):
            return answer
        outcome = answer if isinstance(answer, Outcome) else Outcome(answer, endpoint.status)
        if endpoint.writes:
            await _audit(tokens, token, request, outcome.status, outcome.audit or "выполнено")
        return web.Response(status=outcome.status, body=outcome.body.model_dump_json(),
                            content_type="application/json", headers=outcome.headers)
    handle.__name__ = endpoint.operation_id
    return handle


async def _authorised(request: web.Request, tokens: ApiTokensRepository, endpoint: Endpoint,
                      now: datetime) -> TokenView:
    presented = bearer_token(request.headers.get("Authorization"))
    challenge = {"WWW-Authenticate": 'Bearer realm="dsdesk"'}
    if presented is None:
        raise ApiProblem(401, "нужен заголовок Authorization: Bearer <токен>", kind="unauthorized",
                         headers=challenge)
    token = await tokens.active_by_token(presented)
    if token is None:
        raise ApiProblem(401, "токен неизвестен или отозван", kind="unauthorized", headers=challenge)
    wait = request.app[RATE_LIMITER].take(token.id, token.per_minute, time.monotonic())
    if wait > 0:
        raise ApiProblem(429, f"не больше {token.per_minute} запросов в минуту для этого токена; "
                              f"повторите через {wait:.0f} с", kind="rate-limited",
                         headers={"Retry-After": str(max(1, round(wait + 0.5)))})
    if endpoint.scope not in token.scopes:
        if endpoint.writes:
            await _audit(tokens, token, request, 403, f"нет права «{endpoint.scope}»")
        raise ApiProblem(403, f"у токена нет права «{endpoint.scope}» ({SCOPE_LABELS[endpoint.scope]})",
                         kind="forbidden")
    await tokens.touch(token, now)
    return token


def _params(request: web.Request, endpoint: Endpoint) -> BaseModel | None:
    if endpoint.params is None:
        if request.query:
            name = next(iter(request.query))
            raise ApiProblem(422, f"{name}: неизвестный параметр", kind="validation")
        return None
    values: dict[str, str] = dict(request.match_info)
    for name in request.query:
        if len(request.query.getall(name)) > 1:
            raise ApiProblem(422, f"{name}: параметр указан несколько раз", kind="validation")
        values[name] = request.query[name]
    try:
        return endpoint.params.model_validate(values)
    except ValidationError as e:
        raise validation_problem(e, where="query") from None


async def _body(request: web.Request, endpoint: Endpoint) -> BaseModel | None:
    if endpoint.body is None:
        return None
    if request.content_type != "application/json":
        raise ApiProblem(415, "тело запроса должно быть JSON (Content-Type: application/json)",
                         kind="unsupported-media-type")
    raw = await _read_limited(request)
    try:
        return endpoint.body.model_validate_json(raw)
    except ValidationError as e:
        if any(err["type"] == "json_invalid" for err in e.errors()):
            raise ApiProblem(400, f"тело запроса — не JSON: {e.errors()[0]['ctx'].get('error', '')}".rstrip(": "),
                             kind="malformed-json") from None
        raise validation_problem(e, where="body") from None


async def _read_limited(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiProblem(413, f"тело запроса больше {MAX_BODY_BYTES // (1024 * 1024)} МиБ", kind="too-large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiProblem(413, f"тело запроса больше {MAX_BODY_BYTES // (1024 * 1024)} МиБ", kind="too-large")
        chunks.append(chunk)
    return b"".join(chunks)


async def _audit(tokens: ApiTokensRepository, token: TokenView, request: web.Request, status: int,
                 summary: str) -> None:
    try:
        await tokens.audit(token.id, request.method, request.path, status, summary, datetime.now(UTC))
    except Exception:  # the answer stands; a lost audit line is logged with what it said
        log.exception("API audit not written: %s %s %s %s", token.name, request.method, request.path, summary)
