"""API tokens and the API's audit log in the database (service/db/models_api.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update

from service.api.tokens import NewToken, Scope, parse_scopes, token_digest
from service.db.engine import SessionMaker
from service.db.models import ApiAudit, ApiToken, Expert

LAST_USED_STEP = timedelta(minutes=1)  # `last_used_at` is written at most once a minute per token


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    name: str
    prefix: str
    scopes: tuple[Scope, ...]
    per_minute: int
    created_at: datetime
    created_by: str | None  # the admin's login
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class AuditView:
    at: datetime
    token: str | None  # the token's name
    method: str
    path: str
    status: int
    summary: str


class ApiTokensRepository:
    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def create(self, name: str, scopes: Sequence[Scope], per_minute: int, made: NewToken,
                     created_by: int | None, now: datetime) -> TokenView:
        async with self._sessions.begin() as s:
            row = ApiToken(name=name, prefix=made.prefix, token_hash=made.digest, scopes=list(scopes),
                           per_minute=per_minute, created_at=now, created_by=created_by)
            s.add(row)
            await s.flush()
            token_id = row.id
        found = await self.get(token_id)
        assert found is not None
        return found

    async def get(self, token_id: int) -> TokenView | None:
        rows = await self._views(select(ApiToken, Expert.login).where(ApiToken.id == token_id))
        return rows[0] if rows else None

    async def all_tokens(self) -> list[TokenView]:
        return await self._views(select(ApiToken, Expert.login).order_by(ApiToken.id))

    async def active_by_token(self, token: str) -> TokenView | None:
        """The token presented, if it exists and is not revoked."""
        rows = await self._views(select(ApiToken, Expert.login).where(ApiToken.token_hash == token_digest(token),
                                                                     ApiToken.revoked_at.is_(None)))
        return rows[0] if rows else None

    async def revoke(self, token_id: int, now: datetime) -> bool:
        """True when it was active and is revoked now."""
        async with self._sessions.begin() as s:
            done = await s.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                                   .values(revoked_at=now))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    async def touch(self, token: TokenView, now: datetime) -> None:
        if token.last_used_at is not None and now - token.last_used_at < LAST_USED_STEP:
            return
        async with self._sessions.begin() as s:
            await s.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))

    async def audit(self, token_id: int | None, method: str, path: str, status: int, summary: str,
                    now: datetime) -> None:
        async with self._sessions.begin() as s:
            s.add(ApiAudit(token_id=token_id, at=now, method=method[:8], path=path[:200], status=status,
                           summary=summary[:4000]))

    async def audit_log(self, limit: int = 200) -> list[AuditView]:
        query = (select(ApiAudit, ApiToken.name).outerjoin(ApiToken, ApiToken.id == ApiAudit.token_id)
                 .order_by(ApiAudit.at.desc(), ApiAudit.id.desc()).limit(limit))
        async with self._sessions() as s:
            return [AuditView(a.at, name, a.method, a.path, a.status, a.summary)
                    for a, name in (await s.execute(query)).all()]

    async def _views(self, query: Select[ApiToken, str]) -> list[TokenView]:
        async with self._sessions() as s:
            rows = (await s.execute(query.outerjoin(Expert, Expert.id == ApiToken.created_by))).all()
        return [TokenView(t.id, t.name, t.prefix, parse_scopes(t.scopes), t.per_minute, t.created_at, login,
                          t.revoked_at, t.last_used_at) for t, login in rows]
