"""`dsdesk users …` in-process against the test databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Iterator

import pytest

from service.cli import main
from service.db.engine import create_engine, create_sessionmaker
from service.db.records import ExpertName
from service.db.users import UserRow, UsersRepository
from service.passwords import use_hasher, verify_password
from service.settings import ENV_DATABASE_URL, Settings
from tests.service.web_helpers import add_user, use_cheap_hashes


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    previous = use_cheap_hashes()
    yield
    use_hasher(previous)


@pytest.fixture
def db(migrated_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(ENV_DATABASE_URL, migrated_db)
    return migrated_db


@pytest.fixture
async def users(db: str) -> AsyncIterator[UsersRepository]:
    engine = create_engine(db)
    yield UsersRepository(create_sessionmaker(engine))
    await engine.dispose()


async def dsdesk(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    """Run the CLI in a thread (it starts its own event loop), with `stdin` as its input."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return await asyncio.to_thread(main, ["users", *args])


async def user(users: UsersRepository, login: str) -> UserRow:
    row = await users.by_login(login)
    assert row is not None
    return row


async def test_add_with_the_password_on_stdin(users: UsersRepository, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    status = await dsdesk(monkeypatch, "add", "olga", "--name", "Смирнова Ольга Викторовна", "--role",
                          "supervisor", "--extension", "201", "--password-stdin", stdin="olga-secret\n")
    assert status == 0, capsys.readouterr().err
    olga = await user(users, "olga")
    assert (olga.full_name, olga.role, olga.extension, olga.active) == \
        ("Смирнова Ольга Викторовна", "supervisor", "201", True)
    assert olga.password_hash is not None and olga.password_hash.startswith("$argon2id$")
    assert verify_password(olga.password_hash, "olga-secret")
    assert "добавлен olga (руководитель группы)" in capsys.readouterr().out


async def test_add_prompts_twice(users: UsersRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["typed-twice", "typed-twice"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert await dsdesk(monkeypatch, "add", "admin", "--name", "Администратор", "--role", "admin") == 0
    admin = await user(users, "admin")
    assert admin.extension is None and verify_password(admin.password_hash or "", "typed-twice")


async def test_two_different_passwords_change_nothing(users: UsersRepository, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["first-one!", "second-one"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert await dsdesk(monkeypatch, "add", "admin", "--name", "Администратор", "--role", "admin") == 1
    assert "пароли не совпадают" in capsys.readouterr().err and await users.by_login("admin") is None


async def test_a_taken_login_is_refused(db: str, users: UsersRepository, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings.model_validate({"database": {"url": db}})
    await add_user(settings, "maria", password="maria-first")
    status = await dsdesk(monkeypatch, "add", "maria", "--name", "Другая Мария", "--role", "expert",
                          "--extension", "104", "--password-stdin", stdin="another-pass\n")
    assert status == 1
    assert "логин 'maria' уже есть" in capsys.readouterr().err
    assert verify_password((await user(users, "maria")).password_hash or "", "maria-first")


@pytest.mark.parametrize(("extra", "message"), [
    (["--role", "expert"], "эксперту нужен --extension"),
    (["--role", "expert", "--extension", "1x"], "--extension — от 2 до 6 цифр"),
    (["--role", "admin", "--password-stdin"], "пароль слишком короткий: нужно не меньше 8 символов"),
])
async def test_add_refuses_bad_input(users: UsersRepository, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str], extra: list[str], message: str) -> None:
    status = await dsdesk(monkeypatch, "add", "newbie", "--name", "Новиков Н. Н.", *extra, stdin="short\n")
    assert status == 1 and message in capsys.readouterr().err
    assert await users.by_login("newbie") is None


async def test_passwd_gives_an_imported_expert_a_password(db: str, users: UsersRepository,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    await add_user(Settings.model_validate({"database": {"url": db}}), "anna", password=None)
    assert await dsdesk(monkeypatch, "passwd", "anna", "--password-stdin", stdin="anna-new-pass\n") == 0
    assert verify_password((await user(users, "anna")).password_hash or "", "anna-new-pass")


async def test_passwd_refuses_a_short_password_and_an_unknown_login(
        db: str, users: UsersRepository, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    await add_user(Settings.model_validate({"database": {"url": db}}), "anna", password="anna-old-pass")
    assert await dsdesk(monkeypatch, "passwd", "anna", "--password-stdin", stdin="1234567\n") == 1
    assert "пароль слишком короткий" in capsys.readouterr().err
    assert verify_password((await user(users, "anna")).password_hash or "", "anna-old-pass")
    assert await dsdesk(monkeypatch, "passwd", "nobody", "--password-stdin", stdin="long-enough\n") == 1
    assert "нет пользователя с логином 'nobody'" in capsys.readouterr().err


async def test_list_and_deactivate(db: str, users: UsersRepository, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings.model_validate({"database": {"url": db}})
    await add_user(settings, "maria", full_name="Мария Сергеевна Орлова")
    await add_user(settings, "anna", extension="102", password=None)
    await add_user(settings, "olga", role="supervisor", extension="201")
    assert await dsdesk(monkeypatch, "deactivate", "olga") == 0
    assert not (await user(users, "olga")).active
    assert await dsdesk(monkeypatch, "deactivate", "nobody") == 1
    capsys.readouterr()
    assert await dsdesk(monkeypatch, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    cells = [re.split(r"\s{2,}", line) for line in lines]  # columns are two or more spaces apart
    assert cells[0] == ["логин", "роль", "доб.", "вход", "ФИО"]
    assert [row[:4] for row in cells[1:4]] == [
        ["anna", "эксперт", "102", "нет пароля"], ["maria", "эксперт", "101", "да"],
        ["olga", "руководитель группы", "201", "отключён"]]
    assert "Мария Сергеевна Орлова" in lines[2] and lines[-1] == "3 пользователя"


async def test_add_refuses_an_extension_another_active_user_has(
        db: str, users: UsersRepository, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Found in review: calls belong to an extension, so two people on one would see each other's calls."""
    await add_user(Settings.model_validate({"database": {"url": db}}), "maria", extension="101")
    status = await dsdesk(monkeypatch, "add", "newbie", "--name", "Новиков Н. Н.", "--role", "expert",
                          "--extension", "101", "--password-stdin", stdin="long-enough\n")
    assert status == 1 and "добавочный 101 уже занят пользователем 'maria'" in capsys.readouterr().err
    assert await users.by_login("newbie") is None
    assert await dsdesk(monkeypatch, "deactivate", "maria") == 0
    assert await dsdesk(monkeypatch, "add", "newbie", "--name", "Новиков Н. Н.", "--role", "expert",
                        "--extension", "101", "--password-stdin", stdin="long-enough\n") == 0


async def test_the_last_active_admin_cannot_be_deactivated(
        db: str, users: UsersRepository, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Found in review: the CLI skipped the guard the admin page has."""
    settings = Settings.model_validate({"database": {"url": db}})
    await add_user(settings, "root", role="admin", extension=None)
    assert await dsdesk(monkeypatch, "deactivate", "root") == 1
    assert "root — последний действующий администратор" in capsys.readouterr().err
    assert (await user(users, "root")).active
    await add_user(settings, "root2", role="admin", extension=None)
    assert await dsdesk(monkeypatch, "deactivate", "root") == 0
    assert not (await user(users, "root")).active


async def test_add_takes_the_name_in_parts(users: UsersRepository, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    status = await dsdesk(monkeypatch, "add", "maria", "--last-name", " Орлова", "--first-name", "Мария",
                          "--patronymic", "Сергеевна", "--role", "expert", "--extension", "101",
                          "--password-stdin", stdin="maria-secret\n")
    assert status == 0, capsys.readouterr().err
    assert (await user(users, "maria")).full_name == "Орлова Мария Сергеевна"
    account = await users.account((await user(users, "maria")).id)
    assert account is not None and account.name == ExpertName("Орлова", "Мария", "Сергеевна")
    # --name is split surname first.
    assert await dsdesk(monkeypatch, "add", "olga", "--name", "Смирнова  Ольга Викторовна", "--role", "supervisor",
                        "--password-stdin", stdin="olga-secret\n") == 0
    assert await users.name_of((await user(users, "olga")).id) == ExpertName("Смирнова", "Ольга", "Викторовна")


@pytest.mark.parametrize(("name", "message"), [
    (["--first-name", "Мария"], "нужны --last-name и --first-name"),
    (["--last-name", "Орлова", "--patronymic", "Сергеевна"], "нужны --last-name и --first-name"),
    ([], "нужны --last-name и --first-name"),
    (["--name", "Орлова Мария", "--first-name", "Мария"], "либо --name, либо"),
    (["--name", "  "], "--name не может быть пустым"),
    (["--last-name", "Я" * 81, "--first-name", "Мария"], "длиннее 80 символов"),
])
async def test_add_refuses_a_name_without_surname_or_first_name(
        users: UsersRepository, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        name: list[str], message: str) -> None:
    status = await dsdesk(monkeypatch, "add", "maria", *name, "--role", "admin", "--password-stdin",
                          stdin="maria-secret\n")
    assert status == 1 and message in capsys.readouterr().err
    assert await users.by_login("maria") is None
