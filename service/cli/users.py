"""`dsdesk users add|passwd|list|deactivate`: who may sign in, with which role and password."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.cli.output import print_lines, table_header, table_line
from service.cli.registry import command
from service.db.users import DuplicateLoginError, LastAdminError, UserRow, UsersRepository
from service.errors import CommandError
from service.passwords import hash_password, password_problem
from service.settings import Settings

ROLE_CHOICES = ("expert", "supervisor", "admin")
LIST_COLUMNS = (("login", 16), ("role", 10), ("ext", 6), ("sign-in", 12), ("name", 40))


def _add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("login", help="what the user types to sign in (no spaces)")
    parser.add_argument("--name", required=True, help="full name, e.g. 'Смирнова Ольга Викторовна'")
    parser.add_argument("--role", required=True, choices=ROLE_CHOICES)
    parser.add_argument("--extension", help="the PBX extension (required for an expert)")
    _password_stdin_arg(parser)


def _password_stdin_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of stdin instead of prompting")


@command("users add", "add a user who can sign in", configure=_add_args)
async def users_add(args: argparse.Namespace, settings: Settings) -> int:
    login, extension = _checked_login(args.login), _checked_extension(args.extension, args.role)
    full_name = args.name.strip()
    if not full_name:
        raise CommandError("--name must not be empty")
    async with _users(settings) as users:
        if await users.by_login(login) is not None:  # before asking for a password in vain
            raise _login_taken(login)
        holder = await users.extension_holder(extension) if extension is not None else None
        if holder is not None:  # calls belong to an extension: two people on one would see each other's
            raise CommandError(f"extension {extension} belongs to {holder!r} already; "
                               f"deactivate that user first or choose another extension")
        password_hash = hash_password(read_new_password(args.password_stdin))
        try:
            user = await users.add(login, full_name, args.role, extension, password_hash)
        except DuplicateLoginError as e:  # added meanwhile by someone else
            raise _login_taken(login) from e
    print(f"added {user.login} ({user.role}): {user.full_name}")
    return 0


def _login_taken(login: str) -> CommandError:
    return CommandError(f"the login {login!r} exists already; change its password with "
                        f"`dsdesk users passwd {login}`")


def _passwd_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("login")
    _password_stdin_arg(parser)


@command("users passwd", "set a user's password (ends their sessions)", configure=_passwd_args)
async def users_passwd(args: argparse.Namespace, settings: Settings) -> int:
    async with _users(settings) as users:
        if await users.by_login(args.login) is None:
            raise CommandError(f"no user with login {args.login!r} (see `dsdesk users list`)")
        password_hash = hash_password(read_new_password(args.password_stdin))
        await users.set_password_hash(args.login, password_hash)
    print(f"password of {args.login} set")
    return 0


@command("users list", "show who can sign in")
async def users_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _users(settings) as users:
        rows = await users.list_users()
    cells = ([row.login, row.role, row.extension or "-", _sign_in_state(row), row.full_name] for row in rows)
    print_lines([table_header(LIST_COLUMNS), *(table_line(c, LIST_COLUMNS) for c in cells), f"{len(rows)} user(s)"])
    return 0


@command("users deactivate", "stop a user from signing in (ends their sessions)",
         configure=lambda p: p.add_argument("login"))
async def users_deactivate(args: argparse.Namespace, settings: Settings) -> int:
    async with _users(settings) as users:
        try:
            found = await users.deactivate(args.login)
        except LastAdminError as e:
            raise CommandError(f"{args.login} is the last active admin: make someone else admin first") from e
        if not found:
            raise CommandError(f"no user with login {args.login!r} (see `dsdesk users list`)")
    print(f"{args.login} deactivated: cannot sign in any more")
    return 0


def read_new_password(from_stdin: bool) -> str:
    """The new password from stdin's first line, or typed twice at a prompt; refused if too weak."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != password:
            raise CommandError("the two passwords differ; nothing changed")
    problem = password_problem(password)
    if problem is not None:
        raise CommandError(f"{problem}; nothing changed")
    return password


def _checked_login(login: str) -> str:
    login = login.strip()
    if not login or len(login) > 64 or any(ch.isspace() for ch in login):
        raise CommandError("a login is 1 to 64 characters without spaces")
    return login


def _checked_extension(extension: str | None, role: str) -> str | None:
    """As the Experts import checks it: 2 to 6 digits, required for an expert."""
    if extension is None or not extension.strip():
        if role == "expert":
            raise CommandError("an expert needs --extension (the PBX extension of their phone)")
        return None
    extension = extension.strip()
    if not extension.isdigit() or not 2 <= len(extension) <= 6:
        raise CommandError("--extension has 2 to 6 digits")
    return extension


def _sign_in_state(row: UserRow) -> str:
    if not row.active:
        return "deactivated"
    return "yes" if row.password_hash is not None else "no password"


@asynccontextmanager
async def _users(settings: Settings) -> AsyncIterator[UsersRepository]:
    from service.db.engine import create_engine, create_sessionmaker

    engine = create_engine(settings.database.url)
    try:
        yield UsersRepository(create_sessionmaker(engine))
    finally:
        await engine.dispose()
