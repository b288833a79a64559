"""A fresh database on the PostgreSQL of the development machine, dropped after the test."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import STRICT

SERVER = os.environ.get("TEST_CABLEBOT_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
"""Every development and CI machine runs PostgreSQL here (trust authentication); the same
variable as the store tests' (tests/bot/library/conftest.py, whose helper is async)."""


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{SERVER}/test", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new empty database; skips (fails under .ci/run) when PostgreSQL is down."""
    name = f"cablebot_{uuid.uuid4().hex[:12]}"
    import asyncpg

    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL is not reachable at {SERVER} ({exc})"
        if STRICT:
            pytest.fail(f"{reason}; TEST_CABLEBOT_STRICT_SKIPS=1 requires it")
        pytest.skip(reason)
    try:
        yield f"{SERVER}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
