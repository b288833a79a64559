"""Several processes opening one store at once, in real processes: every one of them succeeds
and the store ends at the latest schema, usable."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.library.store import (
    PAUSE_MIGRATION,
    SCHEMA_VERSION,
    CableStore,
    build_schema,
    register_functions,
)
from tests.bot.library.helpers import make_cable

ROOT = Path(__file__).resolve().parents[3]

_OPEN_AND_PUT = """
import asyncio, os, sys, time
from pathlib import Path
from bot.library.store import CableStore
from tests.bot.library.helpers import make_cable

path, ref_id, gate = sys.argv[1:4]
if gate != "-":  # say "ready", then wait for the start signal: every process opens at once
    Path(f"{gate}.{ref_id}").touch()
    while not os.path.exists(gate):
        time.sleep(0.005)

async def main() -> None:
    async with await CableStore.open(Path(path)) as store:
        await store.put([make_cable(ref_id)])
        print((await store.stats()).schema_version)

asyncio.run(main())
"""


def _start(path: Path, ref_id: str, gate: str = "-", **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _OPEN_AND_PUT, str(path), ref_id, gate],
        cwd=ROOT,
        env={**_environ(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != PAUSE_MIGRATION}


def _wait_for(marker: Path, *processes: subprocess.Popen[str]) -> None:
    """Wait until `marker` exists; fail at once if a process died first (no guessed sleep)."""
    give_up = time.monotonic() + 120  # a hang guard, not a measurement
    while not marker.exists():
        for process in processes:
            if process.poll() is not None:
                pytest.fail(f"process exited before {marker.name}: {process.communicate()}")
        assert time.monotonic() < give_up, f"{marker.name} never appeared"
        time.sleep(0.01)


def _finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    return out.strip()


def _store_at(path: Path, version: int) -> None:
    """An empty store at schema `version`, made with that version's own SQL."""
    with sqlite3.connect(path) as conn:
        register_functions(conn)
        build_schema(conn, version)
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


def _schema(path: Path) -> set[tuple[str, str, str | None]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    conn.close()
    return set(rows)


async def _check_store(path: Path, ref_ids: list[str], fresh: Path) -> None:
    async with await CableStore.open(fresh):
        pass  # a store made by one process alone, to compare schemas with
    assert _schema(path) == _schema(fresh)
    async with await CableStore.open(path) as store:
        assert (await store.stats()).schema_version == SCHEMA_VERSION
        for ref_id in ref_ids:
            assert await store.get(ref_id) == make_cable(ref_id)
        await store.put([make_cable("10ATLANTIS99")])  # and it can still be written
        assert (await store.stats()).cables == len(ref_ids) + 1


@pytest.mark.slow
@pytest.mark.parametrize("version", [None, 1, SCHEMA_VERSION - 1])  # None: no file yet
async def test_a_process_held_before_migrating_finds_the_work_done(
    tmp_path: Path, version: int | None
) -> None:
    """One process reads the schema version and is held there while another migrates the
    store; let go, it finds the migration done under the write lock and skips it."""
    path = tmp_path / "cables.db"
    if version is not None:
        _store_at(path, version)
    release = tmp_path / "release"
    held = _start(path, "10ATLANTIS1", **{PAUSE_MIGRATION: str(release)})
    _wait_for(Path(f"{release}.paused"), held)
    assert held.poll() is None  # held between reading the version and migrating
    assert _finish(_start(path, "10ATLANTIS2")) == str(SCHEMA_VERSION)
    release.touch()
    assert _finish(held) == str(SCHEMA_VERSION)
    await _check_store(path, ["10ATLANTIS1", "10ATLANTIS2"], tmp_path / "fresh.db")


@pytest.mark.slow
@pytest.mark.parametrize("version", [None, 1])
async def test_several_processes_open_a_store_at_once(tmp_path: Path, version: int | None) -> None:
    path = tmp_path / "cables.db"
    if version is not None:
        _store_at(path, version)
    gate = tmp_path / "go"
    ref_ids = [f"10ATLANTIS{i}" for i in range(1, 5)]
    processes = [_start(path, ref_id, str(gate)) for ref_id in ref_ids]
    for ref_id in ref_ids:
        _wait_for(Path(f"{gate}.{ref_id}"), *processes)
    gate.touch()
    assert [_finish(p) for p in processes] == [str(SCHEMA_VERSION)] * len(ref_ids)
    await _check_store(path, ref_ids, tmp_path / "fresh.db")


@pytest.mark.slow
def test_two_imports_into_one_new_store_both_succeed(tmp_path: Path) -> None:
    """`cablebot import` twice at once into a store that does not exist yet, the first held
    between reading the schema version and migrating while the second migrates and imports."""
    page = ROOT / "tests" / "fixtures" / "pages" / "09ELBONIA1234.html"
    store = tmp_path / "data" / "cables.db"
    env = {**_environ(), "PYTHONPATH": str(ROOT), "CABLEBOT_STORE_PATH": str(store)}
    env.update(CABLEBOT_DATA_DIR=str(tmp_path / "data"))
    release = tmp_path / "release"

    def run_import(**extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "import", str(page)],
            cwd=tmp_path,  # no .env of the developer's
            env={**env, **extra},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    held = run_import(**{PAUSE_MIGRATION: str(release)})
    _wait_for(Path(f"{release}.paused"), held)
    _finish(run_import())
    release.touch()
    _finish(held)
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("SELECT ref_id FROM cables").fetchall() == [("09ELBONIA1234",)]
    conn.close()
