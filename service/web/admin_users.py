"""Admins manage who signs in: create users, change role, extension, group and name, passwords, deactivate.

Guards: an admin cannot deactivate or demote themselves, and no change may leave DS Desk without
an active admin (checked in the same transaction as the change, see UsersRepository).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.db.records import MAX_NAME_PART, ExpertName
from service.db.users import (
    AccountRow,
    DuplicateLoginError,
    LastAdminError,
    UsersRepository,
)
from service.passwords import MIN_PASSWORD_LENGTH, hash_password, password_problem
from service.web.auth import requires
from service.web.desk_context import signed_in
from service.web.keys import CALLING_ROLES, ROLES
from texts.labels import ROLE_LABELS

LOGIN_PATTERN = re.compile(r"[\w.@-]{1,64}")
EXTENSION_PATTERN = re.compile(r"\d{2,6}")
MAX_GROUP = 64
# The name fields: (form field, label, required, «Укажите …»).
NAME_FIELDS = (("last_name", "Фамилия", True, "фамилию"), ("first_name", "Имя", True, "имя"),
               ("patronymic", "Отчество", False, "отчество"))
LAST_ADMIN = "Нельзя: в DS Desk должен остаться хотя бы один действующий администратор."
NOT_YOURSELF_OFF = "Нельзя отключить самого себя: попросите другого администратора."
NOT_YOURSELF_DEMOTE = "Нельзя снять с себя роль администратора: попросите другого администратора."
NOTICES = {
    "created": "Пользователь добавлен: он может войти со своим логином и паролем.",
    "saved": "Изменения сохранены.",
    "password": "Пароль изменён; прежние сеансы пользователя завершены.",
    "off": "Пользователь отключён: войти больше не сможет.",
    "on": "Пользователь снова может входить.",
}


@dataclass(frozen=True, slots=True)
class AccountForm:
    """What the admin typed, trimmed; `errors` maps a field to its Russian message."""

    login: str = ""
    last_name: str = ""
    first_name: str = ""
    patronymic: str = ""
    role: str = "expert"
    extension: str | None = None
    group_name: str | None = None
    password: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def name(self) -> ExpertName:
        return ExpertName.of(self.last_name, self.first_name, self.patronymic)

    @classmethod
    def of_account(cls, account: AccountRow) -> AccountForm:
        """The form filled with the user's stored data."""
        name = account.name
        return cls(login=account.login, last_name=name.last_name, first_name=name.first_name,
                   patronymic=name.patronymic or "", role=account.role, extension=account.extension,
                   group_name=account.group_name)


def setup_admin_users(app: web.Application) -> None:
    app.router.add_get("/admin/users", users_page, name="admin_users")
    app.router.add_post("/admin/users", create_user)
    app.router.add_get(r"/admin/users/{id:[0-9]{1,18}}", user_page, name="admin_user")
    app.router.add_post(r"/admin/users/{id:[0-9]{1,18}}", update_user)
    app.router.add_post(r"/admin/users/{id:[0-9]{1,18}}/password", change_password)
    app.router.add_post(r"/admin/users/{id:[0-9]{1,18}}/active", change_active)


# ---- pure: reading and checking the forms ------------------------------------------------------

def read_profile(form: Any) -> AccountForm:
    """Name, role, extension and group, checked; the login and password are not part of it."""
    names = {name: " ".join(_text(form, name).split()) for name, *_ in NAME_FIELDS}
    role = _text(form, "role")
    extension = _text(form, "extension") or None
    group_name = " ".join(_text(form, "group_name").split()) or None
    errors = _name_errors(names)
    if role not in ROLES:
        errors["role"] = "Выберите роль: эксперт, руководитель группы, администратор, СИО или ПМ по ДС."
    if extension is None and role in CALLING_ROLES:
        errors["extension"] = ("Эксперту нужен добавочный номер его телефона." if role == "expert"
                               else "ПМ по ДС нужен добавочный номер его телефона.")
    elif extension is not None and not EXTENSION_PATTERN.fullmatch(extension):
        errors["extension"] = "Добавочный номер — от 2 до 6 цифр."
    if group_name is not None and len(group_name) > MAX_GROUP:
        errors["group_name"] = f"Название группы длиннее {MAX_GROUP} символов."
    return AccountForm(**names, role=role, extension=extension, group_name=group_name, errors=errors)


def _name_errors(names: dict[str, str]) -> dict[str, str]:
    """Фамилия and Имя are required; no part is longer than MAX_NAME_PART."""
    errors = {}
    for name, label, required, accusative in NAME_FIELDS:
        if required and not names[name]:
            errors[name] = f"Укажите {accusative}."
        elif len(names[name]) > MAX_NAME_PART:
            errors[name] = f"{label} длиннее {MAX_NAME_PART} символов."
    return errors


def read_new_account(form: Any) -> AccountForm:
    """A new user: the profile plus a login and an initial password."""
    profile = read_profile(form)
    login = _text(form, "login")
    password = _password(form)
    errors = dict(profile.errors)
    if not LOGIN_PATTERN.fullmatch(login):
        errors["login"] = "Логин — от 1 до 64 букв, цифр и знаков . _ - @, без пробелов."
    password_error = password_message(password)
    if password_error:
        errors["password"] = password_error
    return replace(profile, login=login, password=password, errors=errors)


def password_message(password: str) -> str | None:
    """The rule's own words (service/passwords.py) as a sentence of the form."""
    problem = password_problem(password)
    return None if problem is None else problem[0].upper() + problem[1:] + "."


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _password(form: Any) -> str:
    """The password as typed (not stripped, unlike the other fields)."""
    value = form.get("password")
    return value if isinstance(value, str) else ""


# ---- pages ---------------------------------------------------------------------------------------

@requires("admin")
async def users_page(request: web.Request) -> web.StreamResponse:
    return await _users_page(request, AccountForm(), notice=NOTICES.get(request.query.get("done", "")))


@requires("admin")
async def create_user(request: web.Request) -> web.StreamResponse:
    account = read_new_account(await request.post())
    users = UsersRepository(request.app[DB_SESSIONS])
    account = await _with_extension_check(users, account, None)
    if not account.ok:
        return await _users_page(request, account, status=422)
    password_hash = await _hash(account.password)
    try:
        await users.add(account.login, account.name, account.role, account.extension, password_hash,
                        group_name=account.group_name)
    except DuplicateLoginError:
        taken = {**account.errors, "login": f"Логин «{account.login}» уже занят: выберите другой."}
        return await _users_page(request, _with_errors(account, taken), status=422)
    raise web.HTTPSeeOther("/admin/users?done=created")


@requires("admin")
async def user_page(request: web.Request) -> web.StreamResponse:
    account = await _account(request)
    return await _user_page(request, account, notice=NOTICES.get(request.query.get("done", "")))


@requires("admin")
async def update_user(request: web.Request) -> web.StreamResponse:
    account = await _account(request)
    users = UsersRepository(request.app[DB_SESSIONS])
    profile = await _with_extension_check(users, read_profile(await request.post()), account.id)
    if profile.ok and account.id == signed_in(request).id and profile.role != "admin":
        profile = _with_errors(profile, {"role": NOT_YOURSELF_DEMOTE})
    if not profile.ok:
        return await _user_page(request, account, profile=profile, status=422)
    try:
        await users.update_account(account.id, name=profile.name, role=profile.role,
                                   extension=profile.extension, group_name=profile.group_name)
    except LastAdminError:
        return await _user_page(request, account, profile=_with_errors(profile, {"role": LAST_ADMIN}), status=409)
    raise web.HTTPSeeOther(f"/admin/users/{account.id}?done=saved")


@requires("admin")
async def change_password(request: web.Request) -> web.StreamResponse:
    account = await _account(request)
    form = await request.post()
    password = _password(form)
    problem = password_message(password) or (
        None if password == form.get("password2") else "Пароли не совпадают: введите один и тот же дважды.")
    if problem:
        return await _user_page(request, account, password_error=problem, status=422)
    await UsersRepository(request.app[DB_SESSIONS]).set_password_hash(account.login, await _hash(password))
    raise web.HTTPSeeOther(f"/admin/users/{account.id}?done=password")


@requires("admin")
async def change_active(request: web.Request) -> web.StreamResponse:
    account = await _account(request)
    active = _text(await request.post(), "active") == "1"
    if not active and account.id == signed_in(request).id:
        return await _user_page(request, account, active_error=NOT_YOURSELF_OFF, status=409)
    try:
        await UsersRepository(request.app[DB_SESSIONS]).set_active(account.id, active)
    except LastAdminError:
        return await _user_page(request, account, active_error=LAST_ADMIN, status=409)
    raise web.HTTPSeeOther(f"/admin/users/{account.id}?done={'on' if active else 'off'}")


# ---- helpers -------------------------------------------------------------------------------------

async def _account(request: web.Request) -> AccountRow:
    account = await UsersRepository(request.app[DB_SESSIONS]).account(int(request.match_info["id"]))
    if account is None:
        raise web.HTTPNotFound(text="Нет такого пользователя")
    return account


async def _with_extension_check(users: UsersRepository, account: AccountForm, user_id: int | None) -> AccountForm:
    """Two active users on one extension would mix up whose calls are whose."""
    if account.extension is None or "extension" in account.errors:
        return account
    holder = await users.extension_holder(account.extension, except_id=user_id)
    if holder is None:
        return account
    return _with_errors(account, {**account.errors,
                                  "extension": f"Добавочный {account.extension} уже у пользователя «{holder}»."})


def _with_errors(account: AccountForm, errors: dict[str, str]) -> AccountForm:
    return replace(account, errors={**account.errors, **errors})


async def _hash(password: str) -> str:
    """argon2 is deliberately slow: off the event loop, so other pages stay quick."""
    return await asyncio.get_running_loop().run_in_executor(None, hash_password, password)


def _roles() -> list[tuple[str, str]]:
    return [(role, ROLE_LABELS[role]) for role in ROLES]


async def _users_page(request: web.Request, new: AccountForm, *, notice: str | None = None,
                      status: int = 200) -> web.Response:
    accounts = await UsersRepository(request.app[DB_SESSIONS]).list_accounts()
    context = {"accounts": accounts, "new": new, "notice": notice, "roles": _roles(), "role_names": ROLE_LABELS,
               "min_password": MIN_PASSWORD_LENGTH, "name_fields": NAME_FIELDS, "max_name_part": MAX_NAME_PART}
    return aiohttp_jinja2.render_template("admin/users.html", request, context, status=status)


async def _user_page(request: web.Request, account: AccountRow, *, profile: AccountForm | None = None,
                     password_error: str | None = None, active_error: str | None = None,
                     notice: str | None = None, status: int = 200) -> web.Response:
    shown = profile or AccountForm.of_account(account)
    context = {"account": account, "form": shown, "password_error": password_error, "active_error": active_error,
               "notice": notice, "roles": _roles(), "role_names": ROLE_LABELS, "min_password": MIN_PASSWORD_LENGTH,
               "is_self": account.id == signed_in(request).id, "name_fields": NAME_FIELDS,
               "max_name_part": MAX_NAME_PART}
    return aiohttp_jinja2.render_template("admin/user_edit.html", request, context, status=status)
