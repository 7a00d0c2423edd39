"""`dsdesk users add|passwd|list|deactivate`: who may sign in, with which role and password."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.cli.database import command_sessions
from service.cli.output import print_lines, table_header, table_line
from service.cli.registry import command, group
from service.db.records import MAX_NAME_PART, ExpertName
from service.db.users import DuplicateLoginError, LastAdminError, UserRow, UsersRepository
from service.errors import CommandError
from service.passwords import hash_password, password_problem
from service.settings import Settings
from texts.labels import ROLE_LABELS
from texts.words import plural

ROLE_CHOICES = ("expert", "supervisor", "admin", "sio", "pm")
LIST_COLUMNS = (("логин", 16), ("роль", 19), ("доб.", 6), ("вход", 10), ("ФИО", 40))

group("users", "пользователи: кто может входить, с какой ролью и паролем")


def _add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("login", metavar="ЛОГИН", help="что пользователь вводит при входе (без пробелов)")
    parser.add_argument("--last-name", metavar="ФАМИЛИЯ", help="фамилия, например «Смирнова»")
    parser.add_argument("--first-name", metavar="ИМЯ", help="имя, например «Ольга»")
    parser.add_argument("--patronymic", metavar="ОТЧЕСТВО", help="отчество, например «Викторовна»; необязательно")
    parser.add_argument("--name", metavar="ФИО", help="вместо трёх параметров выше: полное имя в порядке "
                                                    "«Фамилия Имя Отчество», например «Смирнова Ольга Викторовна»")
    parser.add_argument("--role", required=True, choices=ROLE_CHOICES,
                        help="роль: " + ", ".join(f"{code} — {ROLE_LABELS[code]}" for code in ROLE_CHOICES))
    parser.add_argument("--extension", metavar="НОМЕР", help="добавочный номер на АТС (обязателен для эксперта)")
    _password_stdin_arg(parser)


def _password_stdin_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password-stdin", action="store_true",
                        help="взять пароль из первой строки stdin, а не спрашивать")


@command("users add", "добавить пользователя, который может входить", configure=_add_args)
async def users_add(args: argparse.Namespace, settings: Settings) -> int:
    login, extension = _checked_login(args.login), _checked_extension(args.extension, args.role)
    name = _checked_name(args)
    async with _users(settings) as users:
        if await users.by_login(login) is not None:  # before asking for a password in vain
            raise _login_taken(login)
        holder = await users.extension_holder(extension) if extension is not None else None
        if holder is not None:  # calls belong to an extension: two people on one would see each other's
            raise CommandError(f"добавочный {extension} уже занят пользователем {holder!r}; "
                               f"сначала отключите его или выберите другой номер")
        password_hash = hash_password(read_new_password(args.password_stdin))
        try:
            user = await users.add(login, name, args.role, extension, password_hash)
        except DuplicateLoginError as e:  # added meanwhile by someone else
            raise _login_taken(login) from e
    print(f"добавлен {user.login} ({ROLE_LABELS.get(user.role, user.role)}): {user.full_name}")
    return 0


def _login_taken(login: str) -> CommandError:
    return CommandError(f"логин {login!r} уже есть; сменить его пароль: `dsdesk users passwd {login}`")


def _login_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("login", metavar="ЛОГИН", help="логин пользователя")


def _passwd_args(parser: argparse.ArgumentParser) -> None:
    _login_arg(parser)
    _password_stdin_arg(parser)


@command("users passwd", "задать пароль пользователю (завершает его сеансы)", configure=_passwd_args)
async def users_passwd(args: argparse.Namespace, settings: Settings) -> int:
    async with _users(settings) as users:
        if await users.by_login(args.login) is None:
            raise _no_such_user(args.login)
        password_hash = hash_password(read_new_password(args.password_stdin))
        await users.set_password_hash(args.login, password_hash)
    print(f"пароль пользователя {args.login} задан")
    return 0


@command("users list", "показать, кто может входить")
async def users_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _users(settings) as users:
        rows = await users.list_users()
    cells = ([row.login, ROLE_LABELS.get(row.role, row.role), row.extension or "-", _sign_in_state(row),
              row.full_name] for row in rows)
    count = f"{len(rows)} {plural(len(rows), 'пользователь', 'пользователя', 'пользователей')}"
    print_lines([table_header(LIST_COLUMNS), *(table_line(c, LIST_COLUMNS) for c in cells), count])
    return 0


@command("users deactivate", "запретить пользователю вход (завершает его сеансы)", configure=_login_arg)
async def users_deactivate(args: argparse.Namespace, settings: Settings) -> int:
    async with _users(settings) as users:
        try:
            found = await users.deactivate(args.login)
        except LastAdminError as e:
            raise CommandError(f"{args.login} — последний действующий администратор: "
                               f"сначала назначьте администратором кого-то ещё") from e
        if not found:
            raise _no_such_user(args.login)
    print(f"{args.login} отключён: войти больше не сможет")
    return 0


def _no_such_user(login: str) -> CommandError:
    return CommandError(f"нет пользователя с логином {login!r} (см. `dsdesk users list`)")


def read_new_password(from_stdin: bool) -> str:
    """The new password from stdin's first line, or typed twice at a prompt; refused if too weak."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Новый пароль: ")
        if getpass.getpass("Ещё раз: ") != password:
            raise CommandError("пароли не совпадают; ничего не изменено")
    problem = password_problem(password)
    if problem is not None:
        raise CommandError(f"{problem}; ничего не изменено")
    return password


def _checked_login(login: str) -> str:
    login = login.strip()
    if not login or len(login) > 64 or any(ch.isspace() for ch in login):
        raise CommandError("логин — от 1 до 64 символов без пробелов")
    return login


def _checked_name(args: argparse.Namespace) -> ExpertName:
    """--last-name and --first-name (and --patronymic), or --name split as «Фамилия Имя Отчество»
    (a single word is the first name, as in the Experts import)."""
    parts = (args.last_name, args.first_name, args.patronymic)
    if args.name is not None:
        if any(part is not None for part in parts):
            raise CommandError("укажите либо --name, либо --last-name/--first-name/--patronymic, но не то и другое")
        name = ExpertName.parse(args.name)
        if not name.first_name:
            raise CommandError("--name не может быть пустым")
    else:
        name = ExpertName.of(*(part or "" for part in parts))
        if not name.last_name or not name.first_name:
            raise CommandError("нужны --last-name и --first-name (или --name «Фамилия Имя Отчество»)")
    if max(len(part or "") for part in (name.last_name, name.first_name, name.patronymic)) > MAX_NAME_PART:
        raise CommandError(f"часть имени длиннее {MAX_NAME_PART} символов")
    return name


def _checked_extension(extension: str | None, role: str) -> str | None:
    """As the Experts import checks it: 2 to 6 digits, required for an expert and a PM (they call)."""
    if extension is None or not extension.strip():
        if role in ("expert", "pm"):
            whom = "эксперту" if role == "expert" else "ПМ по ДС"
            raise CommandError(f"{whom} нужен --extension (добавочный номер его телефона на АТС)")
        return None
    extension = extension.strip()
    if not extension.isdigit() or not 2 <= len(extension) <= 6:
        raise CommandError("--extension — от 2 до 6 цифр")
    return extension


def _sign_in_state(row: UserRow) -> str:
    if not row.active:
        return "отключён"
    return "да" if row.password_hash is not None else "нет пароля"


@asynccontextmanager
async def _users(settings: Settings) -> AsyncIterator[UsersRepository]:
    async with command_sessions(settings) as sessions:
        yield UsersRepository(sessions)
