"""Store fixtures over both back ends: `store` runs a test on a fresh SQLite file and on a fresh
PostgreSQL database. A test of SQLite internals is marked `sqlite_only`; a test that needs
PostgreSQL is skipped with a reason when it is unreachable (it fails under `.ci/run`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.library.backend import Store
from bot.library.postgres import PostgresStore
from bot.library.store import CableStore
from tests.pg import postgres_database

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


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, empty store on each back end."""
    if request.param == "sqlite":
        async with await CableStore.open(tmp_path / "data" / "cables.db") as opened:
            yield opened
        return
    async with postgres_database() as url, await PostgresStore.open(url) as pg:
        yield pg
