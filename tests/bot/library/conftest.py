"""Store fixtures over both back ends: `store` runs a test on a fresh SQLite file and on a fresh
PostgreSQL database. A test of SQLite internals is marked `sqlite_only`; a test that needs
PostgreSQL is skipped with a reason when it is unreachable (it fails under `.ci/run`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from bot.library.backend import Store
from bot.library.postgres import PostgresStore
from bot.library.store import CableStore
from tests.conftest import STRICT

SERVER = os.environ.get("TEST_CABLEBOT_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
"""Every development and CI machine runs PostgreSQL here (user postgres, trust authentication,
database `test`)."""

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: a test of the SQLite store's internals (not run on PostgreSQL)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A `sqlite_only` test keeps only its SQLite run."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("store") == "postgresql"
        (drop if on_postgres and item.get_closest_marker("sqlite_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{SERVER}/test", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """The URL of a new empty database, dropped afterwards; skips (fails with
    TEST_CABLEBOT_STRICT_SKIPS=1) when PostgreSQL is unreachable."""
    name = f"test_{uuid.uuid4().hex}"
    try:
        await _admin(f'CREATE DATABASE "{name}"')
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL is not reachable at {SERVER} ({exc})"
        if STRICT:
            pytest.fail(f"{reason}; TEST_CABLEBOT_STRICT_SKIPS=1 requires it")
        pytest.skip(reason)
    try:
        yield f"{SERVER}/{name}"
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test."""
    async with postgres_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, empty store on each back end."""
    if request.param == "sqlite":
        async with await CableStore.open(tmp_path / "data" / "cables.db") as opened:
            yield opened
        return
    async with postgres_database() as url, await PostgresStore.open(url) as pg:
        yield pg
