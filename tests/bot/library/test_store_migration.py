"""A store made by the schema-4 code (tests/fixtures/store_v4.sql, its own SQL) is rewritten
into the compressed schema: every card, every cable and the set of cables each search matches
are unchanged, the old file's space is given back, and too little free space is one line."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.cards import build_card
from bot.library.cables import CableLibrary
from bot.library.discover import Filters
from bot.library.store import (
    SCHEMA_VERSION,
    CableStore,
    StoreError,
    fts_query,
    register_functions,
)
from parsers.models import Cable, CableRequest, Paragraph

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "store_v4.sql"
FIXTURE_V5 = FIXTURE.with_name("store_v5.sql")
QUERIES = (
    "pearl",
    "divers",
    '"pearl divers"',
    "embassy",
    "elbonia",
    "minister",
    "the",
    "paragraph 1",
    '"of the"',
    "freedon*",
    "nothing-of-that-sort",
)


def _old_store(path: Path) -> None:
    """The fixture as a version-4 store in WAL mode, as that code left its stores."""
    conn = sqlite3.connect(path)
    conn.executescript(FIXTURE.read_text(encoding="utf-8"))
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


def _old_cables(path: Path) -> dict[str, Cable]:
    """Every cable of a version-4 store, read with that schema's SQL."""
    conn = sqlite3.connect(path)
    cables = {}
    for row in conn.execute(
        "SELECT ref_id, created, released, classification, origin, subject, meta, header, body"
        " FROM cables"
    ):
        ref_id, created, released, classification, origin, subject, meta, header, body = row
        paragraphs = tuple(
            Paragraph(number=n, marking=m, text=t)
            for n, m, t in conn.execute(
                "SELECT number, marking, text FROM paragraphs WHERE ref_id = ? ORDER BY seq",
                (ref_id,),
            )
        )
        cables[ref_id] = Cable(
            ref_id=ref_id,
            created=datetime.fromisoformat(created) if created else None,
            released=datetime.fromisoformat(released) if released else None,
            classification=classification,
            origin=origin,
            subject=subject,
            header=header,
            body=body,
            paragraphs=paragraphs,
            **json.loads(meta),
        )
    conn.close()
    return cables


def _old_matches(path: Path, query: str) -> set[str]:
    match = fts_query(query)
    assert match is not None
    conn = sqlite3.connect(path)
    found = {
        r[0]
        for r in conn.execute(
            "SELECT c.ref_id FROM cables_fts JOIN cables AS c ON c.id = cables_fts.rowid"
            " WHERE cables_fts MATCH ?",
            (match,),
        )
    }
    conn.close()
    return found


def _cards(cables: dict[str, Cable]) -> dict[str, list[object]]:
    """Each cable's card for the whole cable and for each of its paragraphs."""
    return {
        ref_id: [
            build_card(cable, CableRequest(ref_id=ref_id, paragraphs=wanted))
            for wanted in [(), *((p.number,) for p in cable.paragraphs)]
        ]
        for ref_id, cable in cables.items()
    }


async def test_a_version_4_store_is_rewritten_with_every_card_and_search_unchanged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cables.db"
    _old_store(path)
    before = _old_cables(path)
    assert len(before) == 10
    matches = {q: _old_matches(path, q) for q in QUERIES}
    assert matches['"pearl divers"'] and matches["elbonia"] and not matches["nothing-of-that-sort"]
    calls: list[tuple[int, int]] = []
    async with await CableStore.open(path, progress=lambda *done: calls.append(done)) as store:
        assert calls[-1] == (10, 10)
        after = {ref_id: await store.get(ref_id) for ref_id in before}
        assert after == before
        assert _cards({k: v for k, v in after.items() if v is not None}) == _cards(before)
        for query, found in matches.items():
            hits = await store.search(query, limit=100)
            assert {h.ref_id for h in hits} == found, query
            assert all("**" in h.snippet for h in hits), query
        stats = await store.stats()
        assert stats.schema_version == SCHEMA_VERSION
        assert stats.paragraphs == sum(len(c.paragraphs) for c in before.values())
        assert await store.month_of("09ATLANTIS99") is None  # (the old months table is gone)
        assert await store.get_guild_settings(42) == {"passive": False}
        assert await store.followed(500, since=0.0) is not None
        saved = await store.checkpoint("dump.csv")
        assert saved is not None and saved.position == 100
    assert sorted(os.listdir(tmp_path)) == ["cables.db"]  # no old log, no half-written copy
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs just big enough for the old store, mounted for the test."""
    if os.geteuid() != 0:
        pytest.skip("a small disk is a tmpfs, and mounting one needs root")
    old = tmp_path / "old.db"
    _old_store(old)
    conn = sqlite3.connect(old)  # a megabyte more, so that the log fits and the copy does not
    conn.execute("INSERT INTO guild_settings VALUES (1, ?)", (json.dumps({"x": "x" * 10**6}),))
    conn.commit()
    conn.close()
    disk = tmp_path / "disk"
    disk.mkdir()
    size = old.stat().st_size + 200_000
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        (disk / "cables.db").write_bytes(old.read_bytes())
        yield disk / "cables.db"
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


async def test_a_migration_without_the_space_it_needs_is_one_line_and_changes_nothing(
    small_disk: Path,
) -> None:
    before = small_disk.read_bytes()
    with pytest.raises(StoreError) as refused:
        await CableStore.open(small_disk)
    message = str(refused.value)
    assert message.startswith(f"{small_disk}: migrating the store (schema 4 to {SCHEMA_VERSION})")
    assert " free beside it, and " in message and "\n" not in message
    assert small_disk.read_bytes() == before
    assert sorted(os.listdir(small_disk.parent)) == ["cables.db"]


def _v5_store(path: Path) -> None:
    """tests/fixtures/store_v5.sql as a version-5 store in WAL mode."""
    conn = sqlite3.connect(path)
    register_functions(conn)  # its last statement indexes the bodies through cable_body
    conn.executescript(FIXTURE_V5.read_text(encoding="utf-8"))
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


async def test_a_version_5_store_gets_the_later_steps_with_every_cable_and_match_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cables.db"
    _v5_store(path)
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT * FROM cables ORDER BY id").fetchall()
    subjects = dict(conn.execute("SELECT ref_id, subject FROM cables").fetchall())
    conn.close()
    assert len(rows) == 10
    matches = {q: _old_matches(path, q) for q in QUERIES}
    async with await CableStore.open(path) as store:
        assert (await store.stats()).schema_version == SCHEMA_VERSION == 8
        for rank_all in (5_000, 0):  # every match ranked, then subject matches first
            monkeypatch.setattr("bot.library.store.RANK_ALL", rank_all)
            for query, found in matches.items():
                hits = await store.search(query, limit=100)
                assert {h.ref_id for h in hits} == found, (query, rank_all)
        first = [h.ref_id for h in await store.search("elbonia", limit=100)]
        by_subject = {r for r, s in subjects.items() if "ELBONIA" in s.upper()}
        assert by_subject and set(first[: len(by_subject)]) == by_subject
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT * FROM cables ORDER BY id").fetchall() == rows
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    conn.close()


async def test_a_version_5_store_gains_the_browse_table_and_browses_its_cables(
    tmp_path: Path,
) -> None:
    """tests/fixtures/store_v5.sql (made by the schema-5 code): after the migrations to 8,
    browsing and counting find what the cables read back from the store say."""
    path = tmp_path / "cables.db"
    _v5_store(path)
    conn = sqlite3.connect(path)
    ref_ids = [r[0] for r in conn.execute("SELECT ref_id FROM cables")]
    conn.close()
    async with CableLibrary(await CableStore.open(path)) as library:
        cables = [await library.get(ref_id) for ref_id in ref_ids]
        page = await library.browse(Filters(), limit=100)
        assert page.total == len(cables) == 10
        oldest = sorted(cables, key=lambda c: (c.created is None, c.created or 0, c.ref_id))
        assert [(h.ref_id, h.created, h.origin, h.classification, h.tags) for h in page.hits] == [
            (c.ref_id, c.created, c.origin, c.classification, tuple(sorted(c.tags))) for c in oldest
        ]
        tags = Counter(t for c in cables for t in c.tags)
        assert tags  # (the fixture's cables carry tags)
        for tag, count in tags.items():
            assert (await library.browse(Filters(tags=(tag,)))).total == count
        by_tag = await library.counts(Filters(), "tag")
        assert {c.key: c.count for c in by_tag.counts} == tags
        by_year = await library.counts(Filters(), "year")
        assert {c.key: c.count for c in by_year.counts} == Counter(
            f"{c.created:%Y}" if c.created else None for c in cables
        )
        assert (await library.store.stats()).schema_version == SCHEMA_VERSION
