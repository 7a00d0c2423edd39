"""The REST API's tokens and its audit log (issue 19, docs/api.md).

A token is shown once, when it is created; only its SHA-256 is stored (a token is 256 random bits, so a fast
hash is enough: there is nothing to guess, unlike a password). Revoking keeps the row, so the audit log still
names the token.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class ApiToken(Base):
    """A token an outside system (the CRM, a BI tool) presents as `Authorization: Bearer <token>`."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # the token's first characters: which one it is, on a list
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the whole token
    scopes: Mapped[list[str]] = mapped_column(JSON)  # of read, write, calls
    per_minute: Mapped[int] = mapped_column(Integer)  # the token's rate limit (requests per minute)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class ApiAudit(Base):
    """A write through the API (bulk upserts, originates) and every refused request, with what it did."""

    __tablename__ = "api_audit"
    __table_args__ = (Index("ix_api_audit_token_id_at", "token_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(index=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)  # «clients: 120 new, 3 updated», or the problem's detail
