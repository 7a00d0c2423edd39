"""The ledger through faults at scale (issue 12): 1,000 calls over real TCP with 20 AMI lockouts,
5 DS Desk restarts and 2 PBX restarts, with and without Asterisk's CDR as the backstop.

No peer runs here to compare with: the figures are absolute (lost, doubled, exact, flagged,
wrong-and-unflagged) and their growth is shown by a smaller run first. Writes nothing; paste the
output into bench/RESULTS.md. `--calls N` scales the whole plan.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.db.migrate import migrate  # noqa: E402 - after the path
from tests.integration.fault_soak import Plan, run  # noqa: E402 - after the path


async def one(calls: int, with_cdr: bool) -> None:
    scale = calls / 1000
    plan = Plan(calls=calls, lockouts=max(1, round(20 * scale)), desk_restarts=max(1, round(5 * scale)),
                pbx_restarts=max(1, round(2 * scale)), with_cdr=with_cdr, seed=11, concurrency=40)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'ledger.db'}"
        await migrate(url)
        started = time.perf_counter()
        v = await run(plan, url, Path(tmp))
        took = time.perf_counter() - started
    print(f"calls={v.truth:5d} cdr={'yes' if with_cdr else 'no '} faults={v.gaps:3d} "
          f"lost={len(v.lost)} doubled={v.doubled} invented={len(v.invented)} exact={v.exact} "
          f"flagged={v.flagged} unflagged_wrong={len(v.unflagged_wrong)} from_cdr={v.from_cdr} "
          f"killed_by_pbx_restart={v.killed_by_restart} unknowable_without_cdr={v.lost_in_gaps} ({took:.0f} s)")
    for line in v.unflagged_wrong[:5]:
        print("   ", line)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    for calls in (max(args.calls // 10, 20), args.calls):
        for with_cdr in (True, False):
            await one(calls, with_cdr)


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main())
