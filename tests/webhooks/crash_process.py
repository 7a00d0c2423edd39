"""DS Desk's writing side or its webhook sender alone in a process, for the tests that kill it (-9).

    python -m tests.webhooks.crash_process produce DB_URL   three calls in one transaction, then L-1's wrap-up
                                                            in another; prints `committed`, then waits (no
                                                            sender runs here: webhooks.enabled is false)
    python -m tests.webhooks.crash_process send DB_URL      the sender (127.0.0.1 allowed); prints `ready`

Both run until killed; nothing is flushed on the way out: a kill is a kill.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from sqlalchemy import select

from dialer.records import Outcome
from service.db.engine import create_engine, create_sessionmaker
from service.db.ledger import LedgerRepository
from service.db.models import Expert
from service.db.wrapups import WrapUpRepository
from service.desk.wrapup import WrapUpInput, WrapUpResult
from service.settings import WebhooksSettings
from service.webhooks.dispatcher import Dispatcher
from service.webhooks.urls import UrlPolicy
from tests.service.builders import closed_call

LOCAL = ("127.0.0.1",)


async def produce(db_url: str) -> None:
    sessions = create_sessionmaker(create_engine(db_url))
    missed = closed_call("L-2", answered_at=None, talk_s=0.0, outcome=Outcome.NO_ANSWER)
    await LedgerRepository(sessions).upsert_calls([closed_call("L-1"), missed, closed_call("L-3")])
    async with sessions() as session:
        ivanova = (await session.execute(select(Expert.id).where(Expert.login == "ivanova"))).scalar_one()
    now = datetime.now(UTC)
    await WrapUpRepository(sessions).save("L-1", ivanova, WrapUpInput(
        result=WrapUpResult.CONTACT_MADE, topic="Обучение", logged_in=True, productive=False, comment=None,
        next_contact_at=None), now.date(), now)
    print("committed", flush=True)
    await asyncio.Event().wait()


async def send(db_url: str) -> None:
    settings = WebhooksSettings(allow_private_hosts=LOCAL, timeout_s=30)
    sender = Dispatcher(create_sessionmaker(create_engine(db_url)), settings, UrlPolicy.of(LOCAL))
    await sender.start()
    print("ready", flush=True)
    await sender.run()


if __name__ == "__main__":
    asyncio.run({"produce": produce, "send": send}[sys.argv[1]](sys.argv[2]))
