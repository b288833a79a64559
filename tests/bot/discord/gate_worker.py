"""One process of the identify-gate test: asks the gate for its shards, records when.

A module of its own, light to import: each process is started with `spawn`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.discord.shards import LOCK_CLASS, IdentifyGate

HELD = """
SELECT objid::int FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
"""The buckets closed right now (by any process)."""


async def open_db(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(url)


async def _identify(url: str, shards: list[int], buckets: int, hold: float, start: Any) -> None:
    gate = IdentifyGate(url, hold=hold)
    conn = await open_db(url)
    start.wait(60)  # every process connected: they ask the gate at the same moment
    for shard in shards:
        taken = await gate.wait(shard, buckets)
        closed = [row[0] for row in await conn.fetch(HELD, LOCK_CLASS)]
        await conn.execute(
            "INSERT INTO identified VALUES ($1, $2, $3, $4)", shard, shard % buckets, taken, closed
        )
    await asyncio.sleep(hold)  # a process that exits early would reopen its bucket early
    await gate.close()
    await conn.close()


def run(url: str, shards: list[int], buckets: int, hold: float, start: Any) -> None:
    asyncio.run(_identify(url, shards, buckets, hold, start))
