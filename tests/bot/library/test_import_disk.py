"""`cablebot import` onto a full disk: one line, exit status 1, a consistent store, and the same
command completes the import once there is space again; into a store on read-only media: one
line. The disk is a 2 MB tmpfs (needs root)."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.library.importer import import_path
from bot.library.store import CableStore, register_functions
from tests.benches import load_bench
from tests.bot.library.test_importer import snapshot

ROOT = Path(__file__).resolve().parents[3]
ROWS = 400  # about 2.8 MB of dump: more than the disk holds once stored
make_dump = load_bench("make_dump")


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted for the test."""
    if os.geteuid() != 0:
        pytest.skip("a full disk is a tiny tmpfs, and mounting one needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dump") / "cables.csv"
    make_dump.write_dump(path, ROWS, seed=13)
    return path


def cablebot_import(dump: Path, store: Path, workers: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CABLEBOT_STORE_PATH": str(store),
        "CABLEBOT_DATA_DIR": str(store.parent.parent / "data"),
        "CABLEBOT_IMPORT_BATCH": "25",
        "CABLEBOT_IMPORT_WORKERS": workers,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "import", str(dump)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


async def _clean_import(dump: Path, store: Path) -> None:
    async with await CableStore.open(store) as opened:
        await import_path(opened, dump, batch_size=25, workers=1)


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_full_disk_stops_the_import_in_one_line_and_the_same_command_resumes(
    dump: Path, tiny_disk: Path, tmp_path: Path, workers: str
) -> None:
    store = tiny_disk / "cables.db"
    full = cablebot_import(dump, store, workers)
    assert full.returncode == 1, full.stderr
    assert "Traceback" not in full.stderr
    lines = full.stderr.splitlines()
    assert [line for line in lines if "error" in line] == lines[-1:]
    found = re.fullmatch(
        rf"cablebot: error: {re.escape(str(store))}: disk is full after row (\d+); "
        "the store is consistent, run the same import again to resume",
        lines[-1],
    )
    assert found, lines[-1]
    stored = int(found[1])
    assert 0 < stored < ROWS

    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:  # still full
        register_functions(conn)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT row FROM imports").fetchall() == [(stored + 1,)]
        assert conn.execute("SELECT count(*) FROM cables").fetchone() == (stored,)
        assert conn.execute("SELECT count(*) FROM cables_fts").fetchone() == (stored,)

    assert _mount("-o", "remount,size=256m", str(tiny_disk)).returncode == 0  # space again
    resumed = cablebot_import(dump, store, workers)
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert f"imported {ROWS}, updated 0, skipped 0, errors 0" in resumed.stdout
    assert f"(resumed at row {stored + 1:,})" in resumed.stdout
    clean = tmp_path / "clean.db"
    asyncio.run(_clean_import(dump, clean))
    assert snapshot(store) == snapshot(clean)


def test_an_import_into_a_read_only_store_is_refused_in_one_line(
    tiny_disk: Path, tmp_path: Path
) -> None:
    small = tmp_path / "small.csv"
    make_dump.write_dump(small, 3, seed=1)
    store = tiny_disk / "cables.db"
    asyncio.run(_clean_import(small, store))
    before = snapshot(store)
    assert _mount("-o", "remount,ro", str(tiny_disk)).returncode == 0
    refused = cablebot_import(small, store, "1")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.splitlines()[-1] == (
        f"cablebot: error: {store}: the store is read-only, nothing can be imported into it"
    )
    assert "Traceback" not in refused.stderr
    assert _mount("-o", "remount,rw", str(tiny_disk)).returncode == 0
    assert snapshot(store) == before
