"""`cablebot import` into PostgreSQL: the target from CABLEBOT_DATABASE_URL or --to, and the
kill -9 test (killed after a committed batch, run again: the same tables as a clean import)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from bot.cli import main
from bot.library.postgres import PostgresStore
from bot.library.store import CableStore
from tests.benches import load_bench
from tests.pg import postgres_database

ROOT = Path(__file__).resolve().parents[3]
make_dump = load_bench("make_dump")
TABLES = ("cables", "paragraphs", "tags", "refs", "months", "imports", "schema_version")


async def digest(url: str) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row of every table."""
    conn = await asyncpg.connect(url)
    try:
        found = {}
        for table in TABLES:
            row = await conn.fetchrow(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text),"
                f" '')) FROM {table} AS t"
            )
            assert row is not None
            found[table] = (row[0], row[1])
        return found
    finally:
        await conn.close()


def test_import_goes_to_the_database_url_unless_to_names_another(
    tmp_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dump = tmp_path / "cables.csv"
    make_dump.write_dump(dump, 30, seed=5)
    sqlite = tmp_path / "store" / "c.db"
    monkeypatch.setenv("CABLEBOT_STORE_PATH", str(sqlite))
    monkeypatch.setenv("CABLEBOT_DATABASE_URL", postgres_url)
    assert main(["import", str(dump)]) == 0
    assert "imported 30, updated 0, skipped 0, errors 0" in capsys.readouterr().out
    assert not sqlite.exists()
    other = tmp_path / "other.db"
    assert main(["import", str(dump), "--to", str(other)]) == 0
    assert "imported 30," in capsys.readouterr().out
    monkeypatch.delenv("CABLEBOT_DATABASE_URL")
    assert main(["import", str(dump), "--to", postgres_url]) == 0
    assert "skipped 30," in capsys.readouterr().out  # already there

    async def both() -> tuple[int, int]:
        async with (
            await PostgresStore.open(postgres_url) as pg,
            await CableStore.open(other) as lite,
        ):
            ref_id = (await lite.complete_ids("", 1))[0]
            assert await pg.get(ref_id) == await lite.get(ref_id)
            return (await pg.stats()).cables, (await lite.stats()).cables

    assert asyncio.run(both()) == (30, 30)
    with pytest.raises(SystemExit):
        main(["import", str(dump), "--to", "mysql://db/cables"])
    assert "must be a postgresql:// URL or a file" in capsys.readouterr().err


@pytest.mark.slow
async def test_kill_9_then_resume_equals_a_clean_import(tmp_path: Path) -> None:
    dump = tmp_path / "cables.csv"
    make_dump.write_dump(dump, 600, seed=11, malformed=2)
    marker = tmp_path / "stopped"

    def cablebot_import(url: str, **env: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "CABLEBOT_DATABASE_URL": url,
            "CABLEBOT_DATA_DIR": str(tmp_path),
            "CABLEBOT_IMPORT_BATCH": "40",
            "CABLEBOT_IMPORT_WORKERS": "1",
            **env,
        }
        command = [sys.executable, "-m", "bot", "import", str(dump)]
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    async with postgres_database() as clean, postgres_database() as killed:
        assert await asyncio.to_thread(cablebot_import(clean).wait, 300) == 1  # malformed rows
        victim = cablebot_import(killed, TEST_CABLEBOT_STOP_AFTER_BATCH=f"3:{marker}")
        try:
            for _ in range(30_000):  # only against a hang: the import stops itself
                if marker.exists() or victim.poll() is not None:
                    break
                await asyncio.sleep(0.02)
            assert marker.exists(), "the import ended (or hung) before its third batch"
        finally:
            victim.send_signal(signal.SIGKILL)
            victim.communicate()
        stored = int(marker.read_text(encoding="utf-8"))
        conn = await asyncpg.connect(killed)
        try:
            assert await conn.fetch("SELECT row FROM imports") == [(stored + 1,)]
            assert 0 < await conn.fetchval("SELECT count(*) FROM cables") < 598
        finally:
            await conn.close()
        resumed = cablebot_import(killed)
        out, err = await asyncio.to_thread(resumed.communicate, None, 300)
        assert resumed.returncode == 1, err.decode()
        assert f"resumed at row {stored + 1:,}" in out.decode()
        assert "imported 598," in out.decode()  # counts carried over from the killed run
        assert "Traceback" not in err.decode()
        clean_tables, killed_tables = await digest(clean), await digest(killed)
        assert clean_tables["cables"][0] == 598
        assert killed_tables == clean_tables


def test_a_filled_sqlite_store_is_copied_into_postgresql(
    tmp_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dump, filled = tmp_path / "cables.csv", tmp_path / "filled.db"
    make_dump.write_dump(dump, 45, seed=8)
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    assert main(["import", str(dump), "--to", str(filled), "--batch", "10"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("CABLEBOT_DATABASE_URL", postgres_url)
    assert main(["import", str(filled), "--batch", "10"]) == 0
    assert "filled.db: imported 45, updated 0, skipped 0, errors 0" in capsys.readouterr().out
    assert main(["import", str(filled)]) == 0
    assert "skipped 45," in capsys.readouterr().out

    async def compare() -> None:
        async with (
            await PostgresStore.open(postgres_url) as pg,
            await CableStore.open(filled) as lite,
        ):
            ref_ids = await lite.ref_ids()
            assert len(ref_ids) == 45
            for ref_id in ref_ids:
                assert await pg.get(ref_id) == await lite.get(ref_id)
                assert await pg.cites(ref_id) == await lite.cites(ref_id)
            assert await pg.checkpoint(str(filled.resolve())) is None  # finished

    asyncio.run(compare())
    not_a_store = tmp_path / "other.sqlite"
    sqlite3.connect(not_a_store).execute("CREATE TABLE t (x)").connection.close()
    assert main(["import", str(not_a_store)]) == 1
    assert "not a Cablebot store" in capsys.readouterr().err
