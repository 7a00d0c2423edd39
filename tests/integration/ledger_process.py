"""DS Desk's PBX side alone in its own process, for the tests that kill it (-9) mid-call.

`python -m tests.integration.ledger_process DB_URL AMI_PORT` records calls until it is killed;
it prints `ready` once its AMI session is up. Nothing is flushed on the way out: a kill is a kill.
"""

from __future__ import annotations

import asyncio
import sys

from dialer.ami_options import AmiOptions
from dialer.pbx import OriginateConfig, Pbx
from service.db.engine import create_engine, create_sessionmaker
from service.db.ledger import LedgerRepository


async def main(db_url: str, port: int) -> None:
    ledger = LedgerRepository(create_sessionmaker(create_engine(db_url)))
    options = AmiOptions(port=port, username="dsdesk", secret="dsdesk", backoff_min=0.02, backoff_max=0.2,
                         ping_interval=1.0, ping_timeout=3.0, action_timeout=5.0)
    pbx = Pbx(options, ledger, originate=OriginateConfig(expert_channel="Local/{ext}@ds-agents", timeout_s=5))
    await pbx.start()
    await pbx.connection.wait_connected(10)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
