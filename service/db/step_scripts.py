"""Step scripts in the database: the group lead's draft, the published versions, the steps of a call.

A published version is never changed: publishing and rolling back both add the next version. The draft is
the one mutable copy, and publishing clears it in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import SessionMaker
from service.db.models import CallStep, Expert, StepScript, StepScriptVersion
from service.scripts.step_json import changes, dumps, loads
from service.scripts.steps import StepScript as Script
from texts.words import plural


@dataclass(frozen=True, slots=True)
class StepScriptRow:
    id: int
    key: str
    catalog_file: str
    draft: Script | None  # None: nothing edited since the last publish
    draft_updated_at: datetime | None
    published: int | None  # the latest version's number
    withdrawn: bool = False  # the latest version is «снят с публикации»: the desk shows the catalog script


@dataclass(frozen=True, slots=True)
class VersionRow:
    id: int
    script_id: int
    number: int
    script: Script
    changes: list[str]
    rolled_back_to: int | None
    author_name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LoggedStep:
    seq: int
    version_id: int
    step_key: str
    entered_at: datetime


class StepScriptsRepository:
    """Every method is its own short transaction."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions

    async def all(self) -> list[StepScriptRow]:
        async with self._sessions() as session:
            rows = (await session.execute(select(StepScript).order_by(StepScript.key))).scalars().all()
            numbers = await _latest_numbers(session)
        return [_row(script, numbers.get(script.id)) for script in rows]

    async def by_key(self, key: str) -> StepScriptRow | None:
        async with self._sessions() as session:
            script = (await session.execute(select(StepScript).where(StepScript.key == key))).scalar_one_or_none()
            numbers = await _latest_numbers(session)
        return None if script is None else _row(script, numbers.get(script.id))

    async def create(self, key: str, catalog_file: str, draft: Script, author_id: int | None,
                     now: datetime) -> bool:
        """False when the key or the catalog script already has a step script (nothing is written)."""
        try:
            async with self._sessions.begin() as session:
                session.add(StepScript(key=key, catalog_file=catalog_file, draft=dumps(draft), draft_updated_at=now,
                                       draft_author_id=author_id, created_at=now))
        except IntegrityError:
            return False
        return True

    async def save_draft(self, script_id: int, draft: Script, author_id: int | None, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(StepScript).where(StepScript.id == script_id).values(
                draft=dumps(draft), draft_updated_at=now, draft_author_id=author_id))

    async def discard_draft(self, script_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(StepScript).where(StepScript.id == script_id).values(
                draft=None, draft_updated_at=None, draft_author_id=None))

    async def publish(self, script_id: int, script: Script, author_id: int | None, now: datetime,
                      rolled_back_to: int | None = None) -> int:
        """Adds the next version (checked by the caller) and clears the draft; returns the version's number.

        Two publishes at once both read the same latest number: the unique (script, number) refuses the second,
        which then retries on the new latest.
        """
        for _attempt in range(3):
            try:
                async with self._sessions.begin() as session:
                    return await _publish(session, script_id, script, author_id, now, rolled_back_to)
            except IntegrityError:
                continue
        raise RuntimeError("could not publish: the version number kept being taken")

    async def versions(self, script_id: int, limit: int = 50) -> list[VersionRow]:
        async with self._sessions() as session:
            rows = (await session.execute(
                _version_query().where(StepScriptVersion.script_id == script_id)
                .order_by(StepScriptVersion.number.desc()).limit(limit))).all()
        return [_version(*row) for row in rows]

    async def version(self, script_id: int, number: int) -> VersionRow | None:
        async with self._sessions() as session:
            row = (await session.execute(_version_query().where(
                StepScriptVersion.script_id == script_id, StepScriptVersion.number == number))).first()
        return None if row is None else _version(*row)

    async def version_by_id(self, version_id: int) -> VersionRow | None:
        async with self._sessions() as session:
            row = (await session.execute(_version_query().where(StepScriptVersion.id == version_id))).first()
        return None if row is None else _version(*row)

    async def published_for(self, catalog_file: str) -> VersionRow | None:
        """The latest published version of the step script serving this catalog script (the desk's); None when
        there is none or the latest withdraws it (the desk shows the catalog script then)."""
        async with self._sessions() as session:
            row = (await session.execute(
                _version_query().join(StepScript, StepScript.id == StepScriptVersion.script_id)
                .where(StepScript.catalog_file == catalog_file)
                .order_by(StepScriptVersion.number.desc()).limit(1))).first()
        version = None if row is None else _version(*row)
        return version if version is not None and version.script.steps else None

    async def withdraw(self, script_id: int, name: str, author_id: int | None, now: datetime) -> int:
        """«Снять с публикации»: a version with no steps, so the desk goes back to the catalog script; rolling
        back to an earlier version publishes the steps again. Nothing published is changed or removed."""
        return await self.publish(script_id, Script(name), author_id, now)

    async def log_step(self, linkedid: str, seq: int, expert_id: int, version_id: int, step_key: str,
                       now: datetime) -> bool:
        """The Expert entered a step (server time); False when this (call, seq) was written already."""
        try:
            async with self._sessions.begin() as session:
                session.add(CallStep(linkedid=linkedid, seq=seq, expert_id=expert_id, version_id=version_id,
                                     step_key=step_key, entered_at=now))
        except IntegrityError:
            return False
        return True

    async def steps_of_call(self, linkedid: str) -> list[LoggedStep]:
        async with self._sessions() as session:
            rows = (await session.execute(
                select(CallStep.seq, CallStep.version_id, CallStep.step_key, CallStep.entered_at)
                .where(CallStep.linkedid == linkedid).order_by(CallStep.seq))).all()
        return [LoggedStep(*row) for row in rows]


async def _publish(session: AsyncSession, script_id: int, script: Script, author_id: int | None, now: datetime,
                   rolled_back_to: int | None) -> int:
    latest = (await session.execute(
        select(StepScriptVersion.number, StepScriptVersion.body).where(StepScriptVersion.script_id == script_id)
        .order_by(StepScriptVersion.number.desc()).limit(1))).first()
    number = 1 if latest is None else latest.number + 1
    said = [f"возврат к версии {rolled_back_to}"] if rolled_back_to is not None else []
    if not script.steps:
        said.append("снят с публикации: Эксперты видят сценарий-шаблон")
    elif latest is not None and not loads(latest.body).steps:
        said.append(f"снова опубликован: {len(script.steps)} {plural(len(script.steps), 'шаг', 'шага', 'шагов')}")
    else:
        said += changes(None if latest is None else loads(latest.body), script)
    session.add(StepScriptVersion(script_id=script_id, number=number, body=dumps(script), changes="\n".join(said),
                                  rolled_back_to=rolled_back_to, author_id=author_id, created_at=now))
    await session.execute(update(StepScript).where(StepScript.id == script_id).values(
        draft=None, draft_updated_at=None, draft_author_id=None))
    await session.flush()
    return number


async def _latest_numbers(session: AsyncSession) -> dict[int, tuple[int, bool]]:
    """Each script's latest version: its number and whether it withdraws the script (no steps)."""
    latest = (select(StepScriptVersion.script_id, func.max(StepScriptVersion.number).label("number"))
              .group_by(StepScriptVersion.script_id).subquery())
    rows = await session.execute(
        select(StepScriptVersion.script_id, StepScriptVersion.number, StepScriptVersion.body)
        .join(latest, (latest.c.script_id == StepScriptVersion.script_id)
              & (latest.c.number == StepScriptVersion.number)))
    return {script_id: (number, not loads(body).steps) for script_id, number, body in rows}


def _row(script: StepScript, latest: tuple[int, bool] | None) -> StepScriptRow:
    return StepScriptRow(script.id, script.key, script.catalog_file,
                         None if script.draft is None else loads(script.draft), script.draft_updated_at,
                         latest[0] if latest else None, bool(latest and latest[1]))


def _version_query() -> Select[int, int, int, str, str, int | None, str | None, datetime]:
    return (select(StepScriptVersion.id, StepScriptVersion.script_id, StepScriptVersion.number,
                   StepScriptVersion.body, StepScriptVersion.changes, StepScriptVersion.rolled_back_to,
                   Expert.full_name, StepScriptVersion.created_at)
            .outerjoin(Expert, Expert.id == StepScriptVersion.author_id))


def _version(version_id: int, script_id: int, number: int, body: str, said: str, rolled_back_to: int | None,
             author_name: str | None, created_at: datetime) -> VersionRow:
    return VersionRow(version_id, script_id, number, loads(body), said.split("\n"), rolled_back_to, author_name,
                      created_at)
