"""The store interface on both back ends (the `store` fixture: a SQLite file and a PostgreSQL
database): round trips, idempotent batches, graph, search; and the SQLite store's own threads,
schema and migrations (`sqlite_only`, or a file of their own)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sqlite3
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.library.backend import Store
from bot.library.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    CableStore,
    Checkpoint,
    FollowedReply,
    PreparedCable,
    PutResult,
    StoreError,
    fts_query,
)
from parsers.models import Cable, Paragraph
from tests.bot.library.helpers import make_cable


async def test_open_creates_file_in_wal_mode_with_schema(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "cables.db"
    store = await CableStore.open(path)
    await store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA page_size").fetchone()[0] == 2048
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"cables", "tags", "refs", "cables_fts"} <= tables and "months" not in tables


@pytest.mark.sqlite_only
async def test_calls_of_one_turn_make_one_trip_and_keep_their_own_outcomes(
    store: CableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.put([make_cable("10ATLANTIS1"), make_cable("10ATLANTIS2", refs=("10ATLANTIS1",))])
    executor = store._reader._executor
    trips: list[object] = []
    submit = executor.submit
    monkeypatch.setattr(executor, "submit", lambda *a: trips.append(a) or submit(*a))

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("SELECT no_such_column FROM cables")

    lost = asyncio.ensure_future(store.cited_by("10ATLANTIS1"))
    calls = asyncio.gather(
        store.search("paragraph", limit=1),
        store.cited_by("10ATLANTIS1"),
        store._reader.run(broken),
        store.cited_by("10ATLANTIS9"),
        return_exceptions=True,
    )
    await asyncio.sleep(0)  # every call is queued; the trip leaves after this turn
    lost.cancel()
    hits, citing, error, missing = await calls
    assert len(trips) == 1
    assert isinstance(hits, list) and len(hits) == 1
    assert citing == ["10ATLANTIS2"]
    assert isinstance(error, sqlite3.OperationalError)
    assert missing == []
    assert lost.cancelled()
    assert await store.cited_by("10ATLANTIS1") == ["10ATLANTIS2"]


@pytest.mark.sqlite_only
async def test_primary_key_reads_run_on_the_loop_and_searches_on_the_reader_thread(
    store: CableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.put([make_cable("10ATLANTIS1", refs=("10ATLANTIS2",))])
    await store.set_guild_settings(7, {"passive": False})
    executor = store._reader._executor
    trips: list[object] = []
    submit = executor.submit
    monkeypatch.setattr(executor, "submit", lambda *a: trips.append(a) or submit(*a))
    assert await store.get("10ATLANTIS1") == make_cable("10ATLANTIS1", refs=("10ATLANTIS2",))
    assert await store.get("10ATLANTIS9") is None
    assert await store.month_of("10ATLANTIS1") is not None
    assert await store.cites("10ATLANTIS1") == ["10ATLANTIS2"]
    assert await store.get_guild_settings(7) == {"passive": False}
    assert await store.followed(1, since=0.0) is None
    assert trips == []
    assert len(await store.search("paragraph")) == 1
    assert len(trips) == 1


@pytest.mark.sqlite_only
async def test_a_long_cable_is_built_on_the_reader_thread(
    store: CableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    long = make_cable("10ATLANTIS1", text=os.urandom(12_000).hex())  # 12 KB compressed
    short = make_cable("10ATLANTIS2")
    await store.put([long, short])
    executor = store._reader._executor
    trips: list[object] = []
    submit = executor.submit
    monkeypatch.setattr(executor, "submit", lambda *a: trips.append(a) or submit(*a))
    assert await store.get("10ATLANTIS2") == short
    assert trips == []
    assert await store.get("10ATLANTIS1") == long
    assert len(trips) == 1


@pytest.mark.sqlite_only
async def test_a_store_read_from_another_thread_goes_through_the_reader_thread(
    store: CableStore,
) -> None:
    await store.put([make_cable("10ATLANTIS1")])
    # another thread with its own loop: the loop's connection is not shared with it
    got = await asyncio.to_thread(asyncio.run, store.get("10ATLANTIS1"))
    assert got == make_cable("10ATLANTIS1")


async def test_every_call_after_close_raises_and_close_can_be_repeated(tmp_path: Path) -> None:
    store = await CableStore.open(tmp_path / "cables.db")
    await store.put([make_cable("10ATLANTIS1")])
    await store.close()
    await store.close()
    calls = [
        store.get("10ATLANTIS1"),
        store.search("atlantis"),
        store.cited_by("10ATLANTIS1"),
        store.stats(),
        store.followed(1, since=0.0),
        store.put([make_cable("10ATLANTIS2")]),
        store.set_guild_settings(1, {}),
    ]
    for call in calls:
        with pytest.raises(StoreError, match=r"^the store is closed$"):
            await call


async def test_a_call_queued_before_close_gets_an_error_not_a_hang(tmp_path: Path) -> None:
    store = await CableStore.open(tmp_path / "cables.db")
    queued = asyncio.ensure_future(store.search("atlantis"))
    await asyncio.sleep(0)  # queued; it would leave for the reader thread after this turn
    store._reader.close()  # closed in between (as `close` does, from a thread)
    with pytest.raises(StoreError, match=r"^the store is closed$"):
        await queued
    await store.close()


@pytest.mark.logs_errors  # asyncio reports the stranded task when it is collected
def test_a_call_left_by_a_stopped_loop_does_not_hold_up_the_next_loop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = asyncio.new_event_loop()
    store = first.run_until_complete(CableStore.open(tmp_path / "cables.db"))
    first.run_until_complete(store.put([make_cable("10ATLANTIS1")]))
    stranded = first.create_task(store.search("atlantis"))
    first.call_soon(first.stop)  # runs right after the task has queued its call, before sending
    first.run_forever()
    first.close()
    assert not stranded.done()

    async def next_loop() -> list[str]:
        try:
            hits = await asyncio.wait_for(store.search("paragraph"), timeout=10)
            return [hit.ref_id for hit in hits]
        finally:
            await store.close()

    assert asyncio.run(next_loop()) == ["10ATLANTIS1"]
    del stranded
    gc.collect()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith("Task was destroyed but it is pending!")
    assert "CableStore.search()" in errors[0]


async def test_reopen_keeps_data_and_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cables.db"
    async with await CableStore.open(path) as store:
        await store.put([make_cable("10ATLANTIS1")])
    async with await CableStore.open(path) as store:
        assert await store.get("10ATLANTIS1") == make_cable("10ATLANTIS1")
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        await CableStore.open(path)


@pytest.mark.sqlite_only
async def test_reading_an_existing_store_leaves_its_file_as_it_was(tmp_path: Path) -> None:
    # (`cablebot resolve` on a store that is shared, backed up or on a slow disk writes nothing)
    path = tmp_path / "cables.db"
    async with await CableStore.open(path) as store:
        await store.put([make_cable("10ATLANTIS1")])
    before = path.read_bytes()
    async with await CableStore.open(path) as store:
        assert await store.get("10ATLANTIS1") == make_cable("10ATLANTIS1")
    assert path.read_bytes() == before


async def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cables.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"cables\.db"):
        await CableStore.open(path)


async def test_put_counts_new_changed_and_unchanged(store: Store) -> None:
    first = await store.put([make_cable("10ATLANTIS1"), make_cable("10ATLANTIS2")])
    assert (first.imported, first.updated, first.skipped) == (2, 0, 0)
    changed = make_cable("10ATLANTIS2", text="revised")
    again = await store.put([make_cable("10ATLANTIS1"), changed, make_cable("10ATLANTIS3")])
    assert (again.imported, again.updated, again.skipped) == (1, 1, 1)
    assert await store.get("10ATLANTIS2") == changed
    stats = await store.stats()
    assert stats.cables == 3
    assert stats.paragraphs == 6  # the update replaced, not added, paragraphs


@pytest.mark.sqlite_only
async def test_putting_unchanged_cables_writes_nothing(store: CableStore) -> None:
    cables = [make_cable("10ATLANTIS1", refs=("09ATLANTIS5",)), make_cable("10ATLANTIS2")]
    await store.put(cables)
    assert store._writer is not None
    changes = store._writer.call(lambda conn: conn.total_changes)
    assert await store.put(cables) == PutResult(skipped=2)
    assert store._writer.call(lambda conn: conn.total_changes) == changes


async def test_last_copy_of_a_repeated_id_wins_within_a_batch(store: Store) -> None:
    result = await store.put([make_cable("10ATLANTIS1"), make_cable("10ATLANTIS1", text="v2")])
    assert result.imported == 1
    got = await store.get("10ATLANTIS1")
    assert got is not None and got.paragraphs[0].text.startswith("v2")


async def test_reference_graph_both_directions(store: Store) -> None:
    await store.put(
        [
            make_cable("10ATLANTIS1", refs=("09ATLANTIS5", "10STATE1234")),
            make_cable("10ATLANTIS2", refs=("09ATLANTIS5",)),
        ]
    )
    assert await store.cites("10ATLANTIS1") == ["09ATLANTIS5", "10STATE1234"]
    assert await store.cited_by("09ATLANTIS5") == ["10ATLANTIS1", "10ATLANTIS2"]
    await store.put([make_cable("10ATLANTIS2")])  # the new version cites nothing
    assert await store.cited_by("09ATLANTIS5") == ["10ATLANTIS1"]


async def test_search_ranks_snippets_and_follows_updates(store: Store) -> None:
    await store.put(
        [
            make_cable("10ATLANTIS1", text="pearl divers strike"),
            make_cable("10ATLANTIS2", text="harbour breakwater"),
        ]
    )
    hits = await store.search("PEARL divers")
    assert [h.ref_id for h in hits] == ["10ATLANTIS1"]
    assert "**pearl**" in hits[0].snippet.lower()
    assert hits[0].created == datetime(2010, 3, 14, 9, 26)
    await store.put([make_cable("10ATLANTIS1", text="nothing here")])
    assert await store.search("pearl") == []
    assert [h.ref_id for h in await store.search("harb*")] == ["10ATLANTIS2"]
    assert len(await store.search("paragraph", limit=1, offset=1)) == 1


@pytest.mark.parametrize(
    "typed",
    ['"unclosed', "AND OR NOT", "a:b", "NEAR(x y)", "*", "()", "col:value ^x", "-x", "'\"''", ""],
)
async def test_search_never_raises_on_typed_syntax(store: Store, typed: str) -> None:
    await store.put([make_cable("10ATLANTIS1", text="and or not near")])
    assert isinstance(await store.search(typed), list)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_fts_query_is_always_valid_fts5(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a)")
    conn.execute("INSERT INTO t VALUES ('some words here')")
    query = fts_query(text)
    if query is not None:
        conn.execute("SELECT * FROM t WHERE t MATCH ?", (query,)).fetchall()


_refs = st.from_regex(r"[0-9]{2}[A-Z]{2,10}[1-9][0-9]{0,5}", fullmatch=True)
_cables = st.builds(
    Cable,
    ref_id=_refs,
    created=st.none() | st.datetimes(datetime(1966, 1, 1), datetime(2010, 12, 31)),
    released=st.none() | st.datetimes(datetime(2010, 1, 1), datetime(2011, 12, 31)),
    classification=st.text(max_size=20),
    subject=st.text(max_size=40),
    tags=st.lists(st.text(min_size=1, max_size=6), max_size=4).map(tuple),
    references=st.lists(_refs, max_size=4).map(tuple),
    precedence=st.none() | st.text(max_size=8),
    summary=st.none() | st.text(max_size=40),
    to=st.lists(st.text(max_size=10), max_size=3).map(tuple),
    paragraphs=st.lists(
        st.builds(
            Paragraph,
            number=st.integers(0, 300),
            marking=st.none() | st.text(max_size=6),
            text=st.text(max_size=60),
        ),
        max_size=5,
    ).map(tuple),
    body=st.text(max_size=200),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cables=st.lists(_cables, min_size=1, max_size=4))
def test_any_cable_round_trips(cables: list[Cable]) -> None:
    async def check() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            async with await CableStore.open(Path(tmp) / "c.db") as store:
                await store.put(cables)
                latest = {c.ref_id: c for c in cables}
                for ref_id, cable in latest.items():
                    assert await store.get(ref_id) == cable
                again = await store.put(cables)
                assert again.imported == 0
                assert again.updated + again.skipped == len(cables)
                if len(latest) == len(cables):  # repeated IDs that differ count as updates
                    assert again.updated == 0

    asyncio.run(check())


async def test_complete_ids_are_stored_ids_shortest_first(store: Store) -> None:
    await store.put([make_cable(r) for r in ("10ATLANTIS17", "10ATLANTIS1", "10ATHENS3")])
    assert await store.complete_ids("10atlantis") == ["10ATLANTIS1", "10ATLANTIS17"]
    assert await store.complete_ids("10AT", limit=2) == ["10ATHENS3", "10ATLANTIS1"]
    assert await store.complete_ids("99") == []


async def test_month_of_a_stored_cable(store: Store) -> None:
    assert await store.month_of("10ATLANTIS1") is None
    await store.put([make_cable("10ATLANTIS1")])
    assert await store.month_of("10ATLANTIS1") == 3


async def test_checkpoint_is_saved_with_the_batch(store: Store) -> None:
    mark = Checkpoint("dump.csv", "fp", position=123, row=3, imported=10, errors=1)
    await store.put([make_cable("10ATLANTIS1"), make_cable("10ATLANTIS2")], mark)
    saved = await store.checkpoint("dump.csv")
    assert saved == Checkpoint("dump.csv", "fp", 123, 3, imported=12, errors=1)
    await store.clear_checkpoint("dump.csv")
    assert await store.checkpoint("dump.csv") is None


async def test_guild_settings_round_trip(store: Store) -> None:
    assert await store.get_guild_settings(42) == {}
    await store.set_guild_settings(42, {"channels": [1, 2], "cooldown": 5})
    await store.set_guild_settings(42, {"channels": [3]})
    assert await store.get_guild_settings(42) == {"channels": [3]}


async def test_reads_do_not_block_the_event_loop(store: Store) -> None:
    await store.put([make_cable(f"10ATLANTIS{i}", n=40) for i in range(1, 400)])
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    await asyncio.gather(*(store.search("paragraph", limit=50) for _ in range(20)))
    task.cancel()
    assert ticks > 20, "the loop kept running while SQLite worked"
    assert time.perf_counter() - started < 10


@pytest.mark.sqlite_only
async def test_a_search_matching_more_than_rank_all_gives_subject_matches_first(
    store: CableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same matches in another order, decided by the match count alone: subject matches
    by BM25 (the shorter subject first), then the others, the last stored first; pages are
    slices of that order."""
    cables = [make_cable(f"10ATLANTIS{i}", text="harbour" * (i % 2), n=3) for i in range(1, 13)]
    in_subject = {5: "HARBOUR WORKS AND THE LONG HARBOUR ROAD", 8: "HARBOUR STRIKE"}
    for i, subject in in_subject.items():
        cables[i - 1] = cables[i - 1].model_copy(update={"subject": subject})
    await store.put(cables)
    ranked = [h.ref_id for h in await store.search("harbour", limit=20)]
    monkeypatch.setattr("bot.library.store.RANK_ALL", 3)
    common = [h.ref_id for h in await store.search("harbour", limit=20)]
    assert sorted(common) == sorted(ranked) and len(common) == 7  # 6 odd bodies and 10ATLANTIS8
    rest = [f"10ATLANTIS{i}" for i in (11, 9, 7, 3, 1)]
    assert common == ["10ATLANTIS8", "10ATLANTIS5", *rest]
    assert [h.ref_id for h in await store.search("harbour", limit=3, offset=1)] == common[1:4]
    assert [h.ref_id for h in await store.search("harbour", limit=9, offset=4)] == common[4:]
    hit = (await store.search("harbour", limit=1))[0]
    assert "**HARBOUR**" in hit.snippet and hit.subject == "HARBOUR STRIKE"


async def test_a_version_1_store_is_migrated_with_its_data(tmp_path: Path) -> None:
    """Numbers that are not seq + 1, distinct markings (and none), rows inserted out of order:
    a migration that mixes up any column or the order is seen."""
    first = make_cable("10ATLANTIS1").model_copy(
        update={
            "paragraphs": (
                Paragraph(number=3, marking=None, text="third"),
                Paragraph(number=7, marking="C//NF", text="seventh"),
                Paragraph(number=12, marking="S", text="twelfth"),
            )
        }
    )
    second = make_cable("09ATLANTIS5").model_copy(
        update={"paragraphs": (Paragraph(number=5, marking="SBU", text="fifth"),)}
    )
    rows = [
        (cable.ref_id, seq, p.number, p.marking, p.text)
        for cable in (first, second)
        for seq, p in enumerate(cable.paragraphs)
    ]
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        conn.executemany(
            "INSERT INTO cables (ref_id, created, released, classification, origin, subject,"
            " meta, header, body, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, x'00')",
            [PreparedCable.of(cable).row for cable in (first, second)],
        )
        conn.executemany("INSERT INTO paragraphs VALUES (?, ?, ?, ?, ?)", rows[::-1])
    conn.close()
    async with await CableStore.open(path) as store:
        assert await store.get("10ATLANTIS1") == first
        assert await store.get("09ATLANTIS5") == second
        stats = await store.stats()
        assert (stats.schema_version, stats.paragraphs) == (SCHEMA_VERSION, len(rows))


async def test_replies_are_remembered_until_forgotten_or_too_old(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with await CableStore.open(path) as store:
        await store.remember_reply(1, FollowedReply(10, 100, 7), at=1000.0, forget_before=0.0)
        await store.remember_reply(2, FollowedReply(10, 200, 8), at=2000.0, forget_before=0.0)
    async with await CableStore.open(path) as store:  # they survive a restart
        assert await store.followed(1, since=0.0) == FollowedReply(10, 100, 7)
        assert await store.followed(1, since=1500.0) is None  # older than the window
        await store.forget_reply(reply_id=200)
        assert await store.followed(2, since=0.0) is None
        await store.remember_reply(3, FollowedReply(11, 300, 9), at=3000.0, forget_before=1500.0)
        assert await store.followed(1, since=0.0) is None  # pruned by the later remember
        await store.forget_reply(trigger_id=3)
        assert await store.followed(3, since=0.0) is None
