"""Which gateway shards a process runs, and the identify gate shared by every process.

The shard-list grammar is pure (no I/O, no discord.py) so that bot.config can validate
`CABLEBOT_SHARD_IDS` with it: items separated by commas, each a shard number `5` or an inclusive
range `0-3`; `0-3,8` is shards 0, 1, 2, 3 and 8.

The gate: Discord lets a bot IDENTIFY `max_concurrency` shards per 5 seconds, one per bucket
`shard_id % max_concurrency`. A shard takes its bucket's PostgreSQL advisory lock and keeps it for
`hold` seconds after identifying, so shards of one bucket identify at least `hold` seconds apart
whichever process or machine runs them, and shards of other buckets do not wait for them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

_ITEM = re.compile(r"(\d+)(?:-(\d+))?")
MAX_SHARD = 100_000
"""No bot has this many shards; a larger number is a typo (and would build a huge list)."""


class ShardListError(ValueError):
    """A shard list that cannot be read; the message says which item and why."""


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """The shard numbers of `0-3,8` (sorted, each once); ShardListError names a bad item."""
    ids: set[int] = set()
    for raw in text.split(","):
        item = raw.strip()
        match = _ITEM.fullmatch(item)
        if match is None:
            what = f"item {item!r}" if item else "an empty item"
            raise ShardListError(
                f"{what} is neither a shard number (5) nor a range (0-3) in {text!r}"
            )
        first = int(match[1])
        last = int(match[2]) if match[2] is not None else first
        if last < first:
            raise ShardListError(f"range {item!r} ends before it starts in {text!r}")
        if last >= MAX_SHARD:
            raise ShardListError(f"shard {last} in {text!r} is above {MAX_SHARD - 1}")
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


def format_shard_ids(ids: tuple[int, ...]) -> str:
    """The shortest text `parse_shard_ids` reads back as `ids` (runs become ranges)."""
    parts: list[str] = []
    for shard in sorted(set(ids)):
        if parts and shard == _last(parts[-1]) + 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{shard}"
        else:
            parts.append(str(shard))
    return ",".join(parts)


def _last(part: str) -> int:
    return int(part.rsplit("-", 1)[-1])


def shard_problem(
    shard_count: int | None, shard_ids: tuple[int, ...] | None, *, shared_store: bool
) -> str | None:
    """What is wrong with these shard settings, in one line, or None.

    `shared_store`: the store is PostgreSQL, which several processes can share; the SQLite
    store belongs to one process, so that process must run every shard.
    """
    if shard_ids is not None and shard_count is None:
        return "CABLEBOT_SHARD_IDS (--shards) needs CABLEBOT_SHARD_COUNT (--shard-count) too"
    if shard_count is None or shard_ids is None:
        return None
    beyond = [shard for shard in shard_ids if shard >= shard_count]
    if beyond:
        return (
            f"shard {beyond[0]} does not exist with a shard count of {shard_count}"
            f" (shards are numbered 0 to {shard_count - 1})"
        )
    if not shared_store and len(shard_ids) < shard_count:
        return (
            f"this process would run {len(shard_ids)} of {shard_count} shards, but the SQLite "
            "store cannot be shared with the processes running the others: run every shard "
            "here, or set CABLEBOT_DATABASE_URL to a PostgreSQL database"
        )
    return None


IDENTIFY_HOLD = 5.0
"""Seconds Discord wants between two IDENTIFYs of one bucket."""
LOCK_CLASS = 0x0CAB1E
"""First key of the gate's advisory locks (the second is the bucket): no other lock uses it."""


class IdentifyGate:
    """Spaces out the IDENTIFYs of each rate-limit bucket across processes (see the module)."""

    def __init__(self, dsn: str, *, hold: float = IDENTIFY_HOLD) -> None:
        self.dsn = dsn
        self.hold = hold
        self._holders: set[asyncio.Task[None]] = set()

    async def wait(self, shard_id: int, max_concurrency: int) -> datetime:
        """Return when shard `shard_id` may IDENTIFY; its bucket stays closed `hold` seconds
        from the time returned (the database's clock)."""
        import asyncpg

        bucket = shard_id % max(max_concurrency, 1)
        conn: Any = await asyncpg.connect(self.dsn)
        try:
            await conn.execute("SELECT pg_advisory_lock($1, $2)", LOCK_CLASS, bucket)
            taken: datetime = await conn.fetchval("SELECT clock_timestamp()")
        except BaseException:
            await _close(conn)
            raise
        log.info("shard %d may identify (bucket %d)", shard_id, bucket)
        holder = asyncio.create_task(self._release_later(conn))
        self._holders.add(holder)
        holder.add_done_callback(self._holders.discard)
        return taken

    async def _release_later(self, conn: Any) -> None:
        """Closing the session releases its advisory lock."""
        try:
            await asyncio.sleep(self.hold)
        finally:
            await _close(conn)

    async def close(self) -> None:
        """Release every held bucket at once (the process is stopping)."""
        for holder in list(self._holders):
            holder.cancel()
        await asyncio.gather(*self._holders, return_exceptions=True)


async def _close(conn: Any) -> None:
    """Close an asyncpg connection; drop it when the server does not answer."""
    try:
        await conn.close(timeout=2)
    except Exception:
        conn.terminate()


CLAIM_CLASS = 0x0CAB1F
"""First key of the advisory locks that say which process runs which shard."""


class ShardsTaken(Exception):
    """Another process already runs some of this process's shards; the message names them."""


class ShardClaim:
    """The shards this process runs, held as advisory locks for as long as it runs, so that a
    second process given an overlapping list stops instead of serving those guilds twice."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @classmethod
    async def take(cls, dsn: str, shard_ids: tuple[int, ...]) -> ShardClaim:
        """Claim `shard_ids` (all or none); ShardsTaken when another process holds some."""
        import asyncpg

        conn: Any = await asyncpg.connect(dsn)
        try:
            taken = await conn.fetch(
                "SELECT shard FROM unnest($2::int[]) AS shard"
                " WHERE NOT pg_try_advisory_lock($1, shard)",
                CLAIM_CLASS,
                list(shard_ids),
            )
        except BaseException:
            await _close(conn)
            raise
        if taken:
            await _close(conn)  # releases the shards this attempt got
            busy = format_shard_ids(tuple(row[0] for row in taken))
            which = f"shard {busy} is" if len(taken) == 1 else f"shards {busy} are"
            raise ShardsTaken(
                f"{which} already run by another process on this database:"
                " give each process its own CABLEBOT_SHARD_IDS"
            )
        return cls(conn)

    async def release(self) -> None:
        """Let another process take these shards."""
        await _close(self._conn)
