"""The people who sign in (rows of `experts`): looked up by id or login, added, given passwords."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from service.db.engine import SessionMaker
from service.db.models import Expert
from service.db.records import ExpertName
from service.errors import LedgerError


class DuplicateLoginError(LedgerError, ValueError):
    """Another user already has this login."""


class LastAdminError(LedgerError, ValueError):
    """The change would leave DS Desk without an active admin (nobody could manage users any more)."""


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    login: str
    full_name: str
    role: str  # expert | supervisor | admin
    extension: str | None
    password_hash: str | None  # None: cannot sign in yet
    active: bool
    signed_out_at: datetime | None = None  # sessions started before it are over

    @property
    def can_sign_in(self) -> bool:
        return self.active and self.password_hash is not None


@dataclass(frozen=True, slots=True)
class AccountRow:
    """A user as the admin's user management shows them (never the password hash itself)."""

    id: int
    login: str
    full_name: str
    role: str
    extension: str | None
    group_name: str | None
    active: bool
    has_password: bool
    last_name: str = ""
    first_name: str = ""
    patronymic: str | None = None

    @property
    def name(self) -> ExpertName:
        """The stored parts; a row written around the repositories has none: its full name split."""
        if self.last_name or self.first_name:
            return ExpertName(self.last_name, self.first_name, self.patronymic)
        return ExpertName.parse(self.full_name)


_ACCOUNT_COLUMNS = (Expert.id, Expert.login, Expert.full_name, Expert.role, Expert.extension,
                    Expert.group_name, Expert.active, Expert.password_hash.is_not(None),
                    Expert.last_name, Expert.first_name, Expert.patronymic)
_COLUMNS = (Expert.id, Expert.login, Expert.full_name, Expert.role, Expert.extension,
            Expert.password_hash, Expert.active, Expert.signed_out_at)


class UsersRepository:
    """Sign-in data of Experts, supervisors and admins; every method is its own transaction."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def by_id(self, user_id: int) -> UserRow | None:
        """One primary-key lookup: the auth middleware calls it on every signed-in request."""
        return await self._one(select(*_COLUMNS).where(Expert.id == user_id))

    async def by_login(self, login: str) -> UserRow | None:
        return await self._one(select(*_COLUMNS).where(Expert.login == login))

    async def list_users(self, logins: Collection[str] | None = None) -> list[UserRow]:
        """Everyone (or the given logins), by login."""
        query = select(*_COLUMNS).order_by(Expert.login)
        if logins is not None:
            query = query.where(Expert.login.in_(list(logins)))
        async with self._sessions() as session:
            return [UserRow(*row) for row in await session.execute(query)]

    async def add(self, login: str, name: ExpertName | str, role: str, extension: str | None,
                  password_hash: str | None, *, group_name: str | None = None) -> UserRow:
        """A new user, named in parts or by a full name («Фамилия Имя Отчество»); DuplicateLoginError
        when the login is taken."""
        parts = name if isinstance(name, ExpertName) else ExpertName.parse(name)
        expert = Expert(login=login, **parts.columns(), role=role, extension=extension,
                        password_hash=password_hash, active=True, group_name=group_name)
        try:
            async with self._sessions.begin() as session:
                session.add(expert)
        except IntegrityError as e:
            raise DuplicateLoginError(f"the login {login!r} is taken") from e
        added = await self.by_login(login)
        assert added is not None  # just committed
        return added

    async def set_password_hash(self, login: str, password_hash: str) -> bool:
        """False when there is no such login."""
        return await self._update(login, password_hash=password_hash)

    async def sign_out_everywhere(self, user_id: int, now: datetime) -> None:
        """End every session of the user started before `now` (the cookies hold the sessions)."""
        async with self._sessions.begin() as session:
            await session.execute(update(Expert).where(Expert.id == user_id).values(signed_out_at=now))

    async def deactivate(self, login: str) -> bool:
        """The user can no longer sign in and their sessions end; False when there is no such login.

        LastAdminError when it is the last active admin (nobody could manage users any more).
        """
        row = await self.by_login(login)
        return row is not None and await self.set_active(row.id, False)

    async def list_accounts(self) -> list[AccountRow]:
        """Everyone, active first, then by login (the admin's table)."""
        query = select(*_ACCOUNT_COLUMNS).order_by(Expert.active.desc(), Expert.login)
        async with self._sessions() as session:
            return [AccountRow(*row) for row in await session.execute(query)]

    async def account(self, user_id: int) -> AccountRow | None:
        async with self._sessions() as session:
            row = (await session.execute(select(*_ACCOUNT_COLUMNS).where(Expert.id == user_id))).first()
        return None if row is None else AccountRow(*row)

    async def name_of(self, user_id: int) -> ExpertName | None:
        """The user's name in parts (what a call script introduces the Expert by); None: no such user."""
        account = await self.account(user_id)
        return None if account is None else account.name

    async def extension_holder(self, extension: str, except_id: int | None = None) -> str | None:
        """The login of another active user with this extension (their calls would be mixed up)."""
        query = select(Expert.login).where(Expert.extension == extension, Expert.active)
        if except_id is not None:
            query = query.where(Expert.id != except_id)
        async with self._sessions() as session:
            return (await session.execute(query.order_by(Expert.login).limit(1))).scalar_one_or_none()

    async def update_account(self, user_id: int, *, name: ExpertName, role: str, extension: str | None,
                             group_name: str | None) -> bool:
        """False when there is no such user; LastAdminError when it would demote the last admin."""
        return await self._change_keeping_an_admin(
            user_id, **name.columns(), role=role, extension=extension, group_name=group_name)

    async def set_active(self, user_id: int, active: bool, now: datetime | None = None) -> bool:
        """False when there is no such user; LastAdminError when it would deactivate the last admin.

        Deactivating also signs the user out everywhere: reactivating them later must not bring
        an old cookie back to life (a reactivated user signs in afresh).
        """
        if active:
            return await self._change_keeping_an_admin(user_id, active=True)
        return await self._change_keeping_an_admin(user_id, active=False, signed_out_at=now or datetime.now(UTC))

    async def _change_keeping_an_admin(self, user_id: int, **values: object) -> bool:
        """One transaction: the admins are locked (PostgreSQL) so two admins cannot demote each other at once."""
        async with self._sessions.begin() as session:
            admins = (await session.execute(
                select(Expert.id).where(Expert.role == "admin", Expert.active).with_for_update())).scalars().all()
            changed = await session.execute(
                update(Expert).where(Expert.id == user_id).values(**values).returning(Expert.id))
            if changed.first() is None:
                return False
            remaining = await session.scalar(
                select(func.count()).select_from(Expert).where(Expert.role == "admin", Expert.active))
            if admins and not remaining:
                raise LastAdminError("DS Desk needs at least one active admin")  # rolls the change back
            return True

    async def _update(self, login: str, **values: object) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Expert).where(Expert.login == login).values(**values).returning(Expert.id))
            return result.first() is not None

    async def _one(self, query: Select[*tuple[Any, ...]]) -> UserRow | None:
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
            return None if row is None else UserRow(*row)
