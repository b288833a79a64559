"""The store on hostile ground: files that are not a store, read-only media, a full disk."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.library.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    CableStore,
    Checkpoint,
    FollowedReply,
    PutResult,
    StoreError,
    StoreWriteError,
)
from tests.bot.library.helpers import make_cable


def _sqlite_file(path: Path, *, journal: str, version: int, tables: list[str]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode = {journal}")
    for table in tables:
        conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute(f"INSERT INTO {table} (name) VALUES ('someone else''s data')")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


FOREIGN: dict[str, tuple[Callable[[Path], object], str]] = {
    "an app's database": (
        lambda p: _sqlite_file(p, journal="delete", version=0, tables=["accounts", "users"]),
        "(a SQLite database at user_version 0, tables: accounts, users)",
    ),
    "an app's database in WAL mode": (
        lambda p: _sqlite_file(p, journal="wal", version=0, tables=["accounts"]),
        "(a SQLite database at user_version 0, tables: accounts)",
    ),
    "a table named cables at version 1": (
        lambda p: _sqlite_file(p, journal="delete", version=1, tables=["cables"]),
        "(a SQLite database at user_version 1, tables: cables)",
    ),
    "an unknown version and no tables": (
        lambda p: _sqlite_file(p, journal="delete", version=77, tables=[]),
        "(a SQLite database at user_version 77, tables: none)",
    ),
    "a text file": (
        lambda p: p.write_bytes(b"id,created,refid\n" * 200),
        "(not a SQLite database)",
    ),
    "a short HTML page": (lambda p: p.write_bytes(b"<html></html>"), "(not a SQLite database)"),
}


@pytest.mark.parametrize("kind", FOREIGN)
async def test_a_file_that_is_not_a_store_is_refused_unchanged(tmp_path: Path, kind: str) -> None:
    make, found = FOREIGN[kind]
    path = tmp_path / "cables.db"
    make(path)
    before = path.read_bytes()
    with pytest.raises(StoreError) as refused:
        await CableStore.open(path)
    message = str(refused.value)
    assert message == f"{path}: not a Cablebot store {found}"
    assert "\n" not in message
    assert path.read_bytes() == before  # byte for byte: not even switched to WAL
    assert sorted(os.listdir(tmp_path)) == ["cables.db"]  # no -wal, -shm or -journal left


async def test_an_empty_file_becomes_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "cables.db"
    path.touch()
    async with await CableStore.open(path) as store:
        await store.put([make_cable("10ATLANTIS1")])
        assert await store.get("10ATLANTIS1") == make_cable("10ATLANTIS1")


# read-only media and folders ---------------------------------------------------------------


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A fresh tmpfs of 2 MB mounted on a folder (root only: root ignores file permissions, so
    a read-only or full disk needs a real file system)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs (a read-only or full file system)")
    folder = tmp_path / "mnt"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def _make_read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


async def _fill(path: Path) -> None:
    async with await CableStore.open(path) as store:
        await store.put(
            [
                make_cable("10ATLANTIS1", text="pearl divers"),
                make_cable("10ATLANTIS2", refs=("10ATLANTIS1",)),
            ]
        )
        await store.set_guild_settings(42, {"passive": False})
        await store.remember_reply(1, FollowedReply(10, 100, 7), at=1000.0, forget_before=0.0)


async def test_a_store_on_read_only_media_is_read_and_writes_are_skipped_with_one_warning(
    tmpfs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmpfs / "cables.db"
    await _fill(path)
    _make_read_only(tmpfs)
    before = path.read_bytes()
    caplog.set_level(logging.WARNING)
    async with await CableStore.open(path) as store:
        assert store.readonly
        assert await store.get("10ATLANTIS1") == make_cable("10ATLANTIS1", text="pearl divers")
        assert [h.ref_id for h in await store.search("pearl")] == ["10ATLANTIS1"]
        assert await store.cited_by("10ATLANTIS1") == ["10ATLANTIS2"]
        assert await store.month_of("10ATLANTIS1") == 3
        assert await store.get_guild_settings(42) == {"passive": False}
        assert await store.followed(1, since=0.0) == FollowedReply(10, 100, 7)
        assert (await store.stats()).cables == 2
        assert caplog.records == []  # reading says nothing
        mark = Checkpoint("dump.csv", "fp", position=1, row=1)
        assert await store.put([make_cable("10ATLANTIS9")], mark) == PutResult()
        await store.remember_reply(2, FollowedReply(10, 200, 7), at=2000.0, forget_before=0.0)
        await store.forget_reply(trigger_id=1)
        await store.set_guild_settings(42, {"passive": True})
        await store.clear_checkpoint("dump.csv")
        assert await store.get("10ATLANTIS9") is None
        assert await store.followed(1, since=0.0) == FollowedReply(10, 100, 7)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f"{path}: the store is read-only; cables fetched from the mirror, followed replies"
            " and settings are not saved",
        )
    ]
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmpfs)) == ["cables.db"]


@pytest.fixture
def locked_folder(tmp_path: Path) -> Iterator[Callable[[], None]]:
    """Makes `tmp_path / "locked"` a folder where no file can be created (its files stay
    writable): chmod for a user, the immutable attribute for root (who ignores chmod)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    root = os.geteuid() == 0
    command = ["chattr", "+i", str(folder)] if root else ["chmod", "555", str(folder)]

    def lock() -> None:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot lock a folder here: {done.stderr.strip()}")

    yield lock
    unlock = ["chattr", "-i", str(folder)] if root else ["chmod", "755", str(folder)]
    subprocess.run(unlock, check=True)


async def test_a_store_in_a_folder_where_nothing_can_be_created_is_read(
    tmp_path: Path, locked_folder: Callable[[], None], caplog: pytest.LogCaptureFixture
) -> None:
    """The store's own file is writable, but its log and shared-memory files cannot be
    created beside it: it is opened read-only, reads work and writes are skipped."""
    path = tmp_path / "locked" / "cables.db"
    await _fill(path)
    locked_folder()
    before = path.read_bytes()
    caplog.set_level(logging.WARNING)
    async with await CableStore.open(path) as store:
        assert store.readonly
        assert await store.get("10ATLANTIS1") == make_cable("10ATLANTIS1", text="pearl divers")
        assert [h.ref_id for h in await store.search("pearl")] == ["10ATLANTIS1"]
        assert await store.put([make_cable("10ATLANTIS9")]) == PutResult()
        await store.set_guild_settings(42, {"passive": True})
        assert await store.get_guild_settings(42) == {"passive": False}
        # a claim cannot be recorded, so none is given (a restart would run the job again)
        assert not await store.claim_job("daily", 42, date(2026, 12, 1), forget_before=date.min)
    assert len(caplog.records) == 1 and "read-only" in caplog.records[0].getMessage()
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == ["cables.db"]


async def test_an_old_store_on_read_only_media_is_a_clear_error(tmpfs: Path) -> None:
    path = tmpfs / "cables.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    _make_read_only(tmpfs)
    with pytest.raises(StoreError) as refused:
        await CableStore.open(path)
    assert str(refused.value) == (
        f"{path}: the store is read-only and at schema version 1, not {SCHEMA_VERSION}:"
        " open it once where it can be written, to migrate it"
    )


# failed writes -----------------------------------------------------------------------------


async def _put_until_full(store: CableStore) -> tuple[list[str], StoreWriteError]:
    """Put batches of two large cables until a write fails; the IDs of the committed ones."""
    committed: list[str] = []
    for batch in range(1, 200):
        ids = [f"10ATLANTIS{batch}{i}" for i in (1, 2)]
        try:
            await store.put([make_cable(ref_id, n=8, text="x" * 20_000) for ref_id in ids])
        except StoreWriteError as exc:
            return committed, exc
        committed += ids
    pytest.fail("the disk never filled up")


async def _holds_exactly(path: Path, ref_ids: list[str]) -> None:
    async with await CableStore.open(path) as store:
        assert not store.readonly
        assert (await store.stats()).cables == len(ref_ids)
        for ref_id in ref_ids:
            assert await store.get(ref_id) == make_cable(ref_id, n=8, text="x" * 20_000)
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()


async def test_a_full_disk_fails_the_write_and_keeps_the_committed_batches(tmpfs: Path) -> None:
    path = tmpfs / "cables.db"
    async with await CableStore.open(path) as store:
        committed, error = await _put_until_full(store)
    assert committed
    assert error.path == path
    assert error.reason == "disk is full"
    assert str(error) == f"{path}: disk is full"
    await _holds_exactly(path, committed)


async def test_any_failed_write_is_rolled_back(tmp_path: Path) -> None:
    """The same without root: the store's own connection may not grow the file any more."""
    path = tmp_path / "cables.db"
    async with await CableStore.open(path) as store:
        await store.put([make_cable("10ATLANTIS01", n=8, text="x" * 20_000)])
        assert store._writer is not None
        pages = store._writer.call(lambda c: c.execute("PRAGMA page_count").fetchone()[0])
        store._writer.call(lambda c: c.execute(f"PRAGMA max_page_count = {pages + 12}"))
        committed, error = await _put_until_full(store)
        assert error.reason == "disk is full"
        with pytest.raises(StoreWriteError, match="disk is full"):
            await store.set_guild_settings(1, {"blob": "y" * 500_000})
        await store.set_guild_settings(1, {"passive": False})  # a small write still fits
    await _holds_exactly(path, ["10ATLANTIS01", *committed])


async def test_a_write_failing_midway_is_rolled_back_and_the_next_one_works(
    tmp_path: Path,
) -> None:
    """SQLite rolls back a full disk itself, but not a statement that fails inside a
    transaction: here a trigger on the store's own connection refuses one paragraph."""
    async with await CableStore.open(tmp_path / "cables.db") as store:
        await store.put([make_cable("10ATLANTIS1")])
        assert store._writer is not None
        store._writer.call(
            lambda c: c.execute(
                "CREATE TEMP TRIGGER refuse BEFORE UPDATE ON cables"
                " WHEN instr(cable_body(new.text), 'refused') BEGIN SELECT RAISE(ABORT, 'refused');"
                " END"
            )
        )
        changed = make_cable("10ATLANTIS1", text="refused")
        with pytest.raises(StoreWriteError) as failed:
            await store.put([make_cable("10ATLANTIS2"), changed])
        assert failed.value.reason == "refused"
        assert await store.put([make_cable("10ATLANTIS3")]) == PutResult(imported=1)
        assert await store.get("10ATLANTIS1") == make_cable("10ATLANTIS1")
        assert await store.get("10ATLANTIS2") is None
