"""PostgresStore on the real PostgreSQL server: migrations under the advisory lock, shared
writes from several stores at once, search as PostgreSQL does it, the "not found" answers.
The interface itself is tested on both back ends in test_store.py."""

from __future__ import annotations

import asyncio
import gzip
import time
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import bot.library.postgres
import bot.library.store
from bot.config import Settings
from bot.library.backend import open_store, open_target
from bot.library.cables import CableLibrary, CableNotFound
from bot.library.discover import Filters
from bot.library.postgres import SCHEMA_VERSION, PostgresStore, redacted, ts_query
from bot.library.store import CableStore, Checkpoint, PutResult, StoreError
from tests.bot.conftest import CABLE_PATH
from tests.bot.library.helpers import make_cable, site_page


async def test_stores_opened_at_once_migrate_exactly_once(postgres_url: str) -> None:
    stores = await asyncio.gather(*(PostgresStore.open(postgres_url) for _ in range(8)))
    try:
        conn = await asyncpg.connect(postgres_url)
        try:
            assert await conn.fetch("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
        finally:
            await conn.close()
        await stores[0].put([make_cable("10ATLANTIS1")])
        assert await stores[7].get("10ATLANTIS1") == make_cable("10ATLANTIS1")
        assert (await stores[3].stats()).schema_version == SCHEMA_VERSION
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_a_newer_schema_and_a_foreign_database_are_refused(postgres_url: str) -> None:
    async with await PostgresStore.open(postgres_url):
        pass
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("UPDATE schema_version SET version = 99")
        with pytest.raises(StoreError, match="schema version 99, newer than this cablebot"):
            await PostgresStore.open(postgres_url)
        await conn.execute("DROP TABLE schema_version")
        with pytest.raises(StoreError, match="not a Cablebot store"):
            await PostgresStore.open(postgres_url)
    finally:
        await conn.close()


async def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    url = "postgresql://bot:s3cret@127.0.0.1:1/cables"
    with pytest.raises(StoreError, match=r"^postgresql://bot:\*\*\*@127.0.0.1:1/cables: cannot"):
        await PostgresStore.open(url)
    assert redacted(url) == "postgresql://bot:***@127.0.0.1:1/cables"
    assert (
        redacted("postgresql://postgres@127.0.0.1/test") == "postgresql://postgres@127.0.0.1/test"
    )


async def test_the_setting_picks_the_back_end(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=postgres_url)
    async with await open_store(settings) as store:
        assert isinstance(store, PostgresStore)
    async with await open_store(Settings(_env_file=None, data_dir=tmp_path)) as store:
        assert isinstance(store, CableStore)
        assert store.path == tmp_path / "cables.db"
    async with await open_target(str(tmp_path / "other.db")) as store:
        assert isinstance(store, CableStore)


async def test_two_processes_storing_the_same_new_cable_at_once_both_succeed(
    postgres_url: str,
) -> None:
    async with (
        await PostgresStore.open(postgres_url) as one,
        await PostgresStore.open(postgres_url) as two,
    ):
        for _ in range(5):
            cable = make_cable(f"10ATLANTIS{_ + 1}", refs=("09ATLANTIS5",))
            results = await asyncio.gather(one.put([cable]), two.put([cable]))
            assert sorted(results, key=repr) == [PutResult(skipped=1), PutResult(imported=1)]
            assert await two.get(cable.ref_id) == cable
        assert await one.cited_by("09ATLANTIS5") == [f"10ATLANTIS{i}" for i in range(1, 6)]


async def test_not_found_answers_are_shared_until_they_expire(postgres_url: str) -> None:
    async with (
        await PostgresStore.open(postgres_url) as one,
        await PostgresStore.open(postgres_url) as two,
    ):
        assert not await two.not_found("10ATLANTIS9", now=1000.0)
        await one.remember_not_found("10ATLANTIS9", until=2000.0)
        assert await two.not_found("10ATLANTIS9", now=1999.0)
        assert not await two.not_found("10ATLANTIS9", now=2000.0)
        await two.remember_not_found("10ATLANTIS9", until=3000.0)  # asked again later
        assert await one.not_found("10ATLANTIS9", now=2500.0)


async def test_search_stems_words_and_ignores_stop_words(postgres_url: str) -> None:
    async with await PostgresStore.open(postgres_url) as store:
        await store.put(
            [
                make_cable("10ATLANTIS1", text="the pearl diver sailed"),
                make_cable("10ATLANTIS2", text="harbours of the north"),
            ]
        )
        assert [h.ref_id for h in await store.search("divers")] == ["10ATLANTIS1"]
        assert [h.ref_id for h in await store.search("the harbour")] == ["10ATLANTIS2"]
        assert [h.ref_id for h in await store.search('"pearl diver" sail*')] == ["10ATLANTIS1"]
        assert await store.search('"diver pearl"') == []  # a phrase keeps its order
        (hit,) = await store.search("harbours")
        assert "**harbours**" in hit.snippet


def test_ts_query_reads_typed_text_as_fts_query_does() -> None:
    assert ts_query('pearl "two words" harb* !') == "'pearl' & ('two' <-> 'words') & 'harb':*"
    assert ts_query("'; DROP TABLE cables; --") == "'DROP' & 'TABLE' & 'cables'"
    assert ts_query('"" * &|!') is None


async def test_a_search_matching_more_than_rank_all_gives_subject_matches_first(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same matches in another order, decided by the match count alone: subject matches
    by rank, then the others newest first; pages are slices of that order (browse agrees)."""
    cables = [
        make_cable(f"10ATLANTIS{i}", text="harbour" * (i % 2)).model_copy(
            update={"created": datetime(2000 + i, 1, 1)}
        )
        for i in range(1, 13)
    ]
    cables[7] = cables[7].model_copy(update={"subject": "HARBOUR STRIKE"})  # 10ATLANTIS8
    async with await PostgresStore.open(postgres_url) as store:
        await store.put(cables)
        ranked = [h.ref_id for h in await store.search("harbour", limit=20)]
        monkeypatch.setattr(bot.library.postgres, "RANK_ALL", 3)
        monkeypatch.setattr(bot.library.store, "RANK_ALL", 3)  # (browse reads it there)
        common = [h.ref_id for h in await store.search("harbour", limit=20)]
        paged = [h.ref_id for h in await store.search("harbour", limit=3, offset=2)]
        browsed = await store.browse(Filters(query="harbour"), "relevance", 20, 0)
    assert sorted(common) == sorted(ranked) and len(common) == 7
    assert common == ["10ATLANTIS8", *(f"10ATLANTIS{i}" for i in (11, 9, 7, 5, 3, 1))]
    assert paged == common[2:5] and [h.ref_id for h in browsed.hits] == common


async def test_every_call_after_close_raises_and_close_can_be_repeated(postgres_url: str) -> None:
    store = await PostgresStore.open(postgres_url)
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


async def test_a_cable_the_mirror_lacks_is_asked_for_once_across_processes(
    postgres_url: str, server: HTTPServer, tmp_path: Path
) -> None:
    server.expect_request(CABLE_PATH).respond_with_data("no", status=404)
    months = tmp_path / "months.csv.gz"
    months.write_bytes(gzip.compress(b"08X1,1\n08X2,2\n"))
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url=postgres_url,
        mirrors=f"http://127.0.0.1:{server.port}/cable/{{year}}/{{month}}/{{ref_id}}.html",
        month_index=months,
    )
    async with (
        await CableLibrary.open(settings) as one,
        await CableLibrary.open(settings) as two,  # another process: its own mirror client
    ):
        with pytest.raises(CableNotFound):
            await one.get("08X1")
        with pytest.raises(CableNotFound):
            await two.get("08X1")
        assert [request.path for request, _ in server.log] == ["/cable/2008/01/08X1.html"]


async def test_a_missing_cable_asked_of_two_processes_at_once_is_fetched_once(
    postgres_url: str, server: HTTPServer, tmp_path: Path
) -> None:
    """Each library as `cablebot run` opens it, with its own store pool and mirror client; the
    mirror answers slowly, so that both ask while the first fetch is on its way."""
    requests: list[str] = []

    def slow_page(request: Request) -> Response:
        requests.append(request.path)
        time.sleep(0.5)
        return Response(site_page("10ATLANTIS17"), content_type="text/html")

    server.expect_request(CABLE_PATH).respond_with_handler(slow_page)
    months = tmp_path / "months.csv.gz"
    months.write_bytes(gzip.compress(b"10ATLANTIS17,2\n"))
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url=postgres_url,
        mirrors=f"http://127.0.0.1:{server.port}/cable/{{year}}/{{month}}/{{ref_id}}.html",
        month_index=months,
    )
    async with (
        await CableLibrary.open(settings) as one,
        await CableLibrary.open(settings) as two,
    ):
        first, second = await asyncio.gather(one.get("10ATLANTIS17"), two.get("10ATLANTIS17"))
        assert first == second and first.ref_id == "10ATLANTIS17"
        assert requests == ["/cable/2010/02/10ATLANTIS17.html"]
        assert await one.store.get("10ATLANTIS17") == first


async def test_an_import_ends_with_every_cable_searchable(postgres_url: str) -> None:
    """An import's vectors are made beside it; an import killed before its end leaves some
    cables without one, and the next import's end makes them."""
    batch = [make_cable(f"10ATLANTIS{n}", text=f"a quokka sighting number {n}") for n in (1, 2)]
    async with await PostgresStore.open(postgres_url) as store:
        await store.put(batch, Checkpoint("dump.csv", "f", position=10, row=3))
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("UPDATE cables SET search = NULL")  # as a killed import leaves them
    finally:
        await conn.close()
    async with await PostgresStore.open(postgres_url) as store:
        assert await store.search("quokka") == []
        assert await store.get("10ATLANTIS1") is not None
        await store.put(
            [make_cable("10ATLANTIS3", text="a quokka")], Checkpoint("dump.csv", "f", 20, 4)
        )
        await store.clear_checkpoint("dump.csv")
        hits = await store.search("quokka")
        assert sorted(h.ref_id for h in hits) == ["10ATLANTIS1", "10ATLANTIS2", "10ATLANTIS3"]
    conn = await asyncpg.connect(postgres_url)
    try:  # the import's end gathered the planner's statistics (not autovacuum: last_analyze)
        analyzed = await conn.fetchval(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'cables'"
        )
    finally:
        await conn.close()
    assert analyzed
