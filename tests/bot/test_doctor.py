"""`cablebot doctor` in a subprocess, on good and bad configurations of both stores."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from bot.library.postgres import MIGRATIONS, SCHEMA_VERSION


def _cablebot(tmp_path: Path, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("CABLEBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", command],
        env=clean | {"CABLEBOT_DATA_DIR": str(tmp_path)} | env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _problems(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.startswith("PROBLEM: ")]


def test_a_good_sqlite_store(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot", "setup"],
        env={**os.environ, "CABLEBOT_DATA_DIR": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    done = _cablebot(tmp_path, "doctor", CABLEBOT_SHARD_COUNT="2")
    assert (done.returncode, _problems(done), done.stderr) == (0, [], "")
    assert f"ok: store: SQLite at {tmp_path / 'cables.db'}, connected" in done.stdout
    assert "ok: rows: 0 cables" in done.stdout
    assert "ok: shards: all 2 in this process" in done.stdout
    assert done.stdout.endswith("all good\n")


def test_a_missing_store_and_a_partial_shard_list_on_sqlite(tmp_path: Path) -> None:
    done = _cablebot(tmp_path, "doctor", CABLEBOT_SHARD_COUNT="12", CABLEBOT_SHARD_IDS="0-3")
    assert done.returncode == 1
    assert [line.split(":")[1] for line in _problems(done)] == [
        f" no SQLite store at {tmp_path / 'cables.db'} (CABLEBOT_STORE_PATH, CABLEBOT_DATA_DIR)",
        " this process would run 4 of 12 shards, but the SQLite store cannot be shared with the"
        " processes running the others",
    ]
    assert done.stdout.endswith("2 problems found\n")


def test_a_good_postgresql_database(tmp_path: Path, postgres_url: str) -> None:
    made = _cablebot(tmp_path, "setup", CABLEBOT_DATABASE_URL=postgres_url)
    assert (made.returncode, made.stderr) == (0, "")
    assert f"store: {postgres_url} (0 cables)" in made.stdout
    assert "month index: " in made.stdout
    done = _cablebot(
        tmp_path,
        "doctor",
        CABLEBOT_DATABASE_URL=postgres_url,
        CABLEBOT_SHARD_COUNT="12",
        CABLEBOT_SHARD_IDS="0-3,8",
    )
    assert (done.returncode, _problems(done)) == (0, [])
    assert f"ok: store: PostgreSQL at {postgres_url}, connected" in done.stdout
    assert "ok: shards: 0-3,8 of 12 (5 here)" in done.stdout


def test_an_unreachable_postgresql_and_a_shard_beyond_the_count(tmp_path: Path) -> None:
    done = _cablebot(
        tmp_path,
        "doctor",
        CABLEBOT_DATABASE_URL="postgresql://cablebot:secret@127.0.0.1:9/cables",
        CABLEBOT_SHARD_COUNT="4",
        CABLEBOT_SHARD_IDS="2-4",
    )
    assert done.returncode == 1
    store, shards = _problems(done)
    assert "postgresql://cablebot:***@127.0.0.1:9/cables: cannot connect" in store
    assert "secret" not in done.stdout + done.stderr
    assert shards == (
        "PROBLEM: shard 4 does not exist with a shard count of 4 (shards are numbered 0 to 3)"
    )


def test_a_bad_setting_is_one_line(tmp_path: Path) -> None:
    done = _cablebot(tmp_path, "doctor", CABLEBOT_SHARD_IDS="0-3,x")
    assert done.returncode == 1
    assert done.stderr == (
        "cablebot: error: CABLEBOT_SHARD_IDS='0-3,x': item 'x' is neither a shard number (5)"
        " nor a range (0-3) in '0-3,x'\n"
    )


async def _version(url: str) -> tuple[int | None, int]:
    """The schema version and how many tables the database holds."""
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        if not await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL"):
            return None, tables
        return await conn.fetchval("SELECT max(version) FROM schema_version"), tables
    finally:
        await conn.close()


async def test_doctor_reports_a_pending_migration_on_postgresql_and_setup_runs_it(
    tmp_path: Path, postgres_url: str
) -> None:
    env = {"CABLEBOT_DATABASE_URL": postgres_url}
    empty = await asyncio.to_thread(_cablebot, tmp_path, "doctor", **env)
    assert _problems(empty) == [
        "PROBLEM: no Cablebot schema in this database yet: `cablebot setup` makes it"
    ]
    assert await _version(postgres_url) == (None, 0)  # doctor created nothing
    conn = await asyncpg.connect(postgres_url)  # a database of an older Cablebot: version 1
    try:
        await conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        await conn.execute("INSERT INTO schema_version VALUES (1)")
        await conn.execute(MIGRATIONS[0])
    finally:
        await conn.close()
    older = await asyncio.to_thread(_cablebot, tmp_path, "doctor", **env)
    assert older.returncode == 1
    assert _problems(older) == [
        f"PROBLEM: schema version 1, this Cablebot uses {SCHEMA_VERSION}: a migration is pending"
        " (`cablebot setup` runs it; so does the first `run` or `import`)"
    ]
    assert "ok: rows: 0 cables" in older.stdout
    assert (await _version(postgres_url))[0] == 1  # still
    made = await asyncio.to_thread(_cablebot, tmp_path, "setup", **env)
    assert made.returncode == 0, made.stderr
    assert (await _version(postgres_url))[0] == SCHEMA_VERSION
    done = await asyncio.to_thread(_cablebot, tmp_path, "doctor", **env)
    assert (done.returncode, _problems(done)) == (0, [])
    assert f"ok: schema version {SCHEMA_VERSION} (current)" in done.stdout
