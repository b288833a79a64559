"""Once-a-day job claims (`Store.claim_job`) on both back ends: one caller wins a (job, guild,
day), whether the callers share a store handle, hold two, or run in separate processes; old
claims are forgotten; and the schema step that adds the table to an existing store."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.library.backend import Store, open_target
from bot.library.postgres import MIGRATIONS as PG_MIGRATIONS
from bot.library.postgres import SCHEMA_VERSION as PG_SCHEMA_VERSION
from bot.library.postgres import PostgresStore
from bot.library.store import (
    REWRITTEN_VERSION,
    SCHEMA_VERSION,
    CableStore,
    build_schema,
    register_functions,
)
from tests.bot.library.conftest import BACKENDS
from tests.bot.library.helpers import make_cable
from tests.pg import postgres_database

DAY = date(2026, 12, 1)
WEEK_AGO = DAY - timedelta(days=7)


async def test_a_job_is_claimed_once_per_guild_and_day(store: Store) -> None:
    assert await store.claim_job("daily", 1, DAY, forget_before=WEEK_AGO)
    assert not await store.claim_job("daily", 1, DAY, forget_before=WEEK_AGO)
    assert await store.claim_job("daily", 2, DAY, forget_before=WEEK_AGO)  # another guild
    assert await store.claim_job("daily", 1, DAY + timedelta(days=1), forget_before=WEEK_AGO)
    assert await store.claim_job("weekly", 1, DAY, forget_before=WEEK_AGO)  # another job
    assert not await store.claim_job("daily", 2, DAY, forget_before=WEEK_AGO)


async def test_claims_before_forget_before_are_dropped_and_others_kept(store: Store) -> None:
    old, recent = DAY - timedelta(days=10), DAY - timedelta(days=3)
    for day in (old, recent):
        assert await store.claim_job("daily", 1, day, forget_before=day)
    assert await store.claim_job("weekly", 1, old, forget_before=old)
    assert await store.claim_job("daily", 1, DAY, forget_before=WEEK_AGO)
    # the ten-day-old daily claim is gone (so it could be made again), the others are not
    assert await store.claim_job("daily", 1, old, forget_before=old)
    assert not await store.claim_job("daily", 1, recent, forget_before=old)
    assert not await store.claim_job("weekly", 1, old, forget_before=old)


@pytest.fixture(params=BACKENDS)
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Where a store is: a SQLite file or a PostgreSQL database, to open several times."""
    if request.param == "sqlite":
        yield str(tmp_path / "cables.db")
        return
    async with postgres_database() as url:
        yield url


async def test_two_handles_racing_for_one_claim_give_it_to_exactly_one_caller(
    target: str,
) -> None:
    first = await open_target(target)
    second = await open_target(target)
    try:
        for guild in range(1, 11):  # ten rounds: each a fresh race on both back ends
            callers = (first, second, second, first)
            results = await asyncio.gather(
                *(s.claim_job("daily", guild, DAY, forget_before=WEEK_AGO) for s in callers)
            )
            assert sorted(results) == [False, False, False, True], guild
    finally:
        await first.close()
        await second.close()


def _claim_in_a_process(target: str, start: Any, results: Any) -> None:
    """Process body: open the store, wait for the others, claim the same job once."""

    async def claim() -> bool:
        store = await open_target(target)
        try:
            start.wait(timeout=60)
            return await store.claim_job("daily", 7, DAY, forget_before=WEEK_AGO)
        finally:
            await store.close()

    results.put(asyncio.run(claim()))


async def test_processes_claiming_at_once_give_the_claim_to_exactly_one(target: str) -> None:
    async with await open_target(target):
        pass  # created and migrated before the race
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(4), context.Queue()
    processes = [
        context.Process(target=_claim_in_a_process, args=(target, start, results)) for _ in range(4)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [await asyncio.to_thread(results.get, timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=60)
    assert sorted(outcomes) == [False, False, False, True]
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]


def _schema(path: Path) -> set[tuple[str, str, str | None]]:
    conn = sqlite3.connect(path)
    rows = set(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
    conn.close()
    return rows


async def test_a_version_5_store_gains_the_jobs_table_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    conn = sqlite3.connect(path, isolation_level=None)
    register_functions(conn)
    build_schema(conn, REWRITTEN_VERSION)
    conn.execute(f"PRAGMA user_version = {REWRITTEN_VERSION}")
    conn.execute("INSERT INTO guild_settings VALUES (42, '{\"passive\": false}')")
    conn.close()
    assert "jobs" not in {name for _, name, _ in _schema(path)}
    async with await CableStore.open(path) as store:
        assert (await store.stats()).schema_version == SCHEMA_VERSION
        assert await store.get_guild_settings(42) == {"passive": False}
        assert await store.claim_job("daily", 42, DAY, forget_before=WEEK_AGO)
        assert not await store.claim_job("daily", 42, DAY, forget_before=WEEK_AGO)
        await store.put([make_cable("10ATLANTIS1")])
    fresh = tmp_path / "fresh.db"
    async with await CableStore.open(fresh):
        pass
    assert _schema(path) == _schema(fresh)


async def test_a_version_1_postgres_store_gains_the_jobs_table_and_keeps_its_rows() -> None:
    async with postgres_database() as url:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(PG_MIGRATIONS[0])
            await conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
            await conn.execute("INSERT INTO schema_version VALUES (1)")
            await conn.execute("INSERT INTO guild_settings VALUES (42, '{\"passive\": false}')")
        finally:
            await conn.close()
        async with await PostgresStore.open(url) as store:
            assert (await store.stats()).schema_version == PG_SCHEMA_VERSION
            assert await store.get_guild_settings(42) == {"passive": False}
            assert await store.claim_job("daily", 42, DAY, forget_before=WEEK_AGO)
            assert not await store.claim_job("daily", 42, DAY, forget_before=WEEK_AGO)
