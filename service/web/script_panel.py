"""The call script beside the brief: chosen by the planned topic, switchable during the call.

A supervisor's edit stored in the database (service/db/script_versions.py) overrides the shipped
file: one indexed lookup per rendered script, so an edit shows on every Expert's next page load.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from service.appkeys import DB_SESSIONS
from service.db.brief import ClientBrief
from service.db.script_versions import ScriptVersionsRepository
from service.db.step_scripts import StepScriptsRepository, VersionRow
from service.db.users import UsersRepository
from service.desk.queue import QueueRow
from service.scripts import (
    RenderedScript,
    ScriptCatalog,
    ScriptEntry,
    ScriptSource,
    script_variables,
)
from service.scripts.worker import ScriptRenderer
from service.web.desk_context import settings_of, utc_now
from service.web.step_render import RenderedStep, render_steps

log = logging.getLogger(__name__)
SCRIPT_CATALOG = web.AppKey("script_catalog", ScriptCatalog)
SCRIPT_RENDERER = web.AppKey("script_renderer", ScriptRenderer)


def setup_scripts(app: web.Application) -> None:
    """The catalog is read once: a broken catalog.yaml stops the start with its reason."""
    app[SCRIPT_CATALOG] = ScriptCatalog.load()
    app.cleanup_ctx.append(script_renderer_ctx)


async def script_renderer_ctx(app: web.Application) -> AsyncIterator[None]:
    """The worker processes scripts render in (started at the first render, stopped at shutdown)."""
    renderer = ScriptRenderer()
    app[SCRIPT_RENDERER] = renderer
    await renderer.start()
    yield
    await asyncio.get_running_loop().run_in_executor(None, renderer.close)


@dataclass(frozen=True, slots=True)
class ScriptPanel:
    entry: ScriptEntry
    entries: tuple[ScriptEntry, ...]
    rendered: RenderedScript | None  # None: a published step script is shown instead (`steps`)
    steps: list[RenderedStep] | None = None
    steps_version: VersionRow | None = None
    band_s: tuple[float, float] = (600.0, 720.0)  # the productive call's target, for the talk timer


async def script_panel(request: web.Request, brief: ClientBrief | None, row: QueueRow | None,
                       expert: Any, wanted: str | None) -> ScriptPanel | None:
    """The rendered script for this client (None without a client); errors render as a message.

    A published step script for the chosen catalog script is shown step by step instead of its text.
    """
    if brief is None:
        return None
    catalog = request.app[SCRIPT_CATALOG]
    entry = (catalog.by_file(wanted) if wanted else None) or catalog.for_topic(row.topic if row else None)
    settings = settings_of(request)
    today = utc_now().astimezone(settings.organisation.tz).date()
    # The Expert is introduced by the name parts stored for them, not by a guess at the full name.
    name = await UsersRepository(request.app[DB_SESSIONS]).name_of(expert.id)
    variables = script_variables(
        brief, _contact(brief, row), name or expert, _item(row), today,
        not_logged_in_days=settings.plan.not_logged_in_days,
        terms_ending_days=settings.plan.terms_ending_days, offer=offer_of(settings))
    published = await StepScriptsRepository(request.app[DB_SESSIONS]).published_for(entry.file)
    if published is not None:
        steps = await render_steps(request.app[SCRIPT_RENDERER], published.script, variables)
        targets = settings.targets
        band = (targets.productive_minutes_min * 60, targets.productive_minutes_max * 60)
        return ScriptPanel(entry, catalog.entries(), None, steps, published, band)
    rendered = await render_current(request, entry, variables)
    if rendered.error is not None:
        log.warning("script %s failed for %s: %s", entry.file, brief.external_id, rendered.error.detail)
    return ScriptPanel(entry, catalog.entries(), rendered)


async def render_current(request: web.Request, entry: ScriptEntry, variables: dict[str, Any]) -> RenderedScript:
    """The latest stored version of the script if there is one (and it is not a reset), else the shipped file."""
    text = await ScriptVersionsRepository(request.app[DB_SESSIONS]).override_text(entry.file)
    renderer = request.app[SCRIPT_RENDERER]
    if text is None:
        return await renderer.render(entry, variables)
    return await renderer.render(ScriptSource(text, name=entry.file), variables)


def offer_of(settings: Any) -> dict[str, Any]:
    """The transition's offer the «Речевой ролик» names (selection.offer_* in config.yaml)."""
    selection = settings.selection
    return {"kit": selection.offer_kit, "price": selection.offer_price, "date": selection.offer_date}


def _contact(brief: ClientBrief, row: QueueRow | None) -> Any:
    wanted = row.contact_id if row else None
    for contact in brief.contacts:
        if contact.external_id == wanted:
            return contact
    if row is not None and row.phone:
        for contact in brief.contacts:
            if row.phone in (contact.phone_e164, contact.phone):
                return contact
    return brief.contacts[0] if brief.contacts else None


def _item(row: QueueRow | None) -> dict[str, Any] | None:
    if row is None or row.public_id is None:
        return None
    return {"public_id": row.public_id, "topic": row.topic, "comment": row.comment,
            "reasons": [{"code": "", "text": text} for text in row.reasons]}
