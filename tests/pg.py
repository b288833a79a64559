"""A fresh database on the PostgreSQL of the development machine, for every test that needs one
(the `postgres_url` fixture in tests/conftest.py, or `postgres_database()` for more than one)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

SERVER = os.environ.get("TEST_CABLEBOT_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
"""Every development and CI machine runs PostgreSQL here (user postgres, trust authentication,
database `test`)."""

STRICT = os.environ.get("TEST_CABLEBOT_STRICT_SKIPS") == "1"
"""Set by `.ci/run`: a test that needs ../shared or PostgreSQL fails instead of skipping."""


async def _admin(sql: str) -> None:
    import asyncpg  # only for the tests that use PostgreSQL

    conn = await asyncpg.connect(f"{SERVER}/test", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """The URL of a new empty database, dropped afterwards; skips (fails with
    TEST_CABLEBOT_STRICT_SKIPS=1, as under .ci/run) when PostgreSQL is unreachable."""
    import asyncpg

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
