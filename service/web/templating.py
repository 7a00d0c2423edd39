"""The page templates (templates/, autoescaped) and what every page gets in its context."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
import jinja2.bccache
from aiohttp import web

from service.settings import REPO_ROOT
from service.web.keys import CSRF_FIELD, CSRF_KEY, USER_KEY
from service.web.live import current_link
from service.web.recording_comments import replies_badge
from texts.labels import BOARD_STATE_LABELS, signal_kind_label, version_label
from texts.phones import phone_ru
from texts.words import minutes_seconds, plural
from texts.zones import zone_label

TEMPLATES_DIR = REPO_ROOT / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


class ProcessBytecodeCache(jinja2.BytecodeCache):
    """Compiled page templates kept for the process: every app (the test suite starts thousands) compiles each
    template once (~70 ms of a desk test's page otherwise). A template whose source changed has another
    checksum, so Jinja2 compiles it again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


BYTECODE = ProcessBytecodeCache()  # the page templates only: the sandboxed script templates do not use it


def setup_templating(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        bytecode_cache=BYTECODE,
        autoescape=jinja2.select_autoescape(("html",), default_for_string=True),
        undefined=jinja2.StrictUndefined,  # a typo in a page template fails its test, not silently
        context_processors=[_page_context],
    )
    env.filters["ru_minutes"] = ru_minutes
    env.filters["ru_plural"] = plural
    env.filters["local_time"] = local_time
    env.filters["local_datetime"] = local_datetime
    env.filters["phone"] = phone_ru  # «+7 (911) 555-11-20»
    env.filters["zone_label"] = zone_label  # «Екатеринбург (UTC+5)»: `key | zone_label(now)`
    env.filters["rub"] = rub
    env.filters["signal_kind_label"] = signal_kind_label
    env.filters["version_label"] = version_label
    env.globals["board_state_labels"] = BOARD_STATE_LABELS  # board.js relabels the cards it is pushed
    app.router.add_static("/static", STATIC_DIR, name="static", append_version=True)


async def _page_context(request: web.Request) -> dict[str, Any]:
    return {
        "user": request.get(USER_KEY),
        "csrf_token": request.get(CSRF_KEY, ""),
        "csrf_field": CSRF_FIELD,
        "static": lambda name: request.app.router["static"].url_for(filename=name),
        "pbx_link": current_link(request.app),  # the bar «нет связи с АТС…» (templates/_pbx_bar.html)
        "replies_badge": await replies_badge(request),  # a supervisor's «Ответы: 2» in the top bar
    }


def ru_minutes(seconds: float | None) -> str:
    """`12:05` for 725 s: minutes and seconds as the Experts say them."""
    return "—" if seconds is None else minutes_seconds(seconds)


def local_time(moment: datetime | None, zone: str) -> str:
    return "—" if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def local_datetime(moment: datetime | None, zone: str) -> str:
    return "—" if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y %H:%M")


def rub(amount: Decimal | float | None) -> str:
    """12 500 ₽ — whole rubles with a thin group separator, as in the CRM."""
    if not amount:
        return "нет"
    return f"{round(amount):,}".replace(",", "\u202f") + " ₽"
