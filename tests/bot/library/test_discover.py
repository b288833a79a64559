"""Discovery (bot.library.discover) on real SQLite stores: our own small cables, and the real
cable pages of ../shared/corpus/pages, whose expectations come from the parsed cables in Python
(not from the SQL under test)."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.library import discover, postgres_discover
from bot.library.backend import Store
from bot.library.cables import CableLibrary
from bot.library.discover import Filters, parse_day, parse_month_day, score_related
from bot.library.importer import import_path
from bot.library.postgres import PostgresStore
from bot.library.store import CableStore
from parsers.models import Cable
from parsers.page import parse_any
from tests.bot.library.conftest import BACKENDS
from tests.bot.library.helpers import make_cable
from tests.pg import SERVER, STRICT, _admin

T = TypeVar("T")

# Python's own answers, from parsed cables -----------------------------------------------


def passes(cable: Cable, f: Filters) -> bool:
    """What `f` means, said in Python over a parsed cable."""
    day = cable.created.date() if cable.created else None
    return (
        all(tag.upper() in cable.tags for tag in f.tags)
        and (f.origin is None or f.origin.lower() in cable.origin.lower())
        and (
            f.classification is None
            or cable.classification.lower().startswith(f.classification.lower())
        )
        and (f.date_from is None or (day is not None and day >= f.date_from))
        and (f.date_to is None or (day is not None and day <= f.date_to))
        and (f.month_day is None or (day is not None and f"{day:%m-%d}" == f.month_day))
    )


def oldest(cables: Iterable[Cable]) -> list[str]:
    """Reference IDs oldest first (undated last, ties by ID)."""
    return [
        c.ref_id
        for c in sorted(cables, key=lambda c: (c.created is None, c.created or 0, c.ref_id))
    ]


def newest(cables: Iterable[Cable]) -> list[str]:
    dated = [c for c in cables if c.created]
    by_date = sorted(dated, key=lambda c: c.ref_id)
    by_date.sort(key=lambda c: c.created or datetime.min, reverse=True)  # stable: IDs ascend
    return [c.ref_id for c in by_date] + oldest(c for c in cables if not c.created)


# our own cables --------------------------------------------------------------------------


def own_cables() -> list[Cable]:
    """Eight small cables with different tags, origins, classifications and dates."""

    def cable(ref_id: str, created: datetime | None, **changes: object) -> Cable:
        return make_cable(ref_id).model_copy(update={"created": created, **changes})

    return [
        cable("08ATLANTIS1", datetime(2008, 2, 29, 10), tags=("PREL", "AT"), subject="Leap day"),
        cable("09ATLANTIS2", datetime(2009, 2, 28, 10), tags=("PREL",), classification="SECRET"),
        cable(
            "09ATLANTIS3",
            datetime(2009, 3, 1, 10),
            tags=("PGOV", "AT"),
            classification="SECRET//NOFORN",
            references=("08ATLANTIS1", "01NOWHERE9", "09ATLANTIS2"),
        ),
        cable(
            "09MEXICO4",
            datetime(2009, 3, 1, 23, 59),
            origin="Embassy Mexico",
            tags=("PGOV", "MX"),
            references=("08ATLANTIS1",),
            subject="Volcano eruption near the capital",
        ),
        cable(
            "10MEXICO5",
            datetime(2010, 1, 1, 0, 0),
            origin="Consulate Monterrey, Mexico",
            tags=("MX",),
            references=("09ATLANTIS3", "08ATLANTIS1"),
            subject="Volcano ash closes the airport",
        ),
        cable("10ATLANTIS6", None, tags=("PREL",), subject="No date"),
        cable(
            "66ATLANTIS7",
            datetime(1966, 3, 1, 8),
            tags=("XX",),
            classification="UNCLASSIFIED",
            references=("01NOWHERE9",),
        ),
        cable(
            "10TODAY8",
            datetime.now(UTC).replace(year=2010, tzinfo=None)
            if f"{datetime.now(UTC):%m-%d}" != "02-29"
            else datetime(2012, 2, 29),
            tags=("XX",),
        ),
    ]


@pytest.fixture
async def library(store: Store) -> CableLibrary:
    """Our own cables, on each back end (`store`)."""
    await store.put(own_cables())
    return CableLibrary(store)


async def ids(library: CableLibrary, filters: Filters, **options: object) -> list[str]:
    page = await library.browse(filters, limit=100, **options)  # type: ignore[arg-type]
    return [hit.ref_id for hit in page.hits]


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(tags=("prel",)),
        Filters(tags=("PGOV", "AT")),
        Filters(origin="mexico"),
        Filters(origin="MONTERREY"),
        Filters(classification="secret"),
        Filters(classification="SECRET//"),
        Filters(date_from=date(2009, 3, 1), date_to=date(2009, 3, 1)),
        Filters(date_from=date(2009, 3, 1)),
        Filters(date_to=date(2008, 12, 31), tags=("PREL",)),
        Filters(origin="%"),
        Filters(month_day="03-01"),
    ],
)
async def test_filters_keep_exactly_the_cables_python_keeps(
    library: CableLibrary, filters: Filters
) -> None:
    cables = [c for c in own_cables() if passes(c, filters)]
    page = await library.browse(filters, limit=100)
    assert page.total == len(cables)
    assert [h.ref_id for h in page.hits] == oldest(cables)
    assert await ids(library, filters, sort="newest") == newest(cables)
    assert all(h.snippet is None for h in page.hits)


async def test_a_page_is_a_slice_and_the_total_counts_every_match(library: CableLibrary) -> None:
    everything = await ids(library, Filters())
    page = await library.browse(Filters(), limit=3, offset=2)
    assert page.total == 8 and [h.ref_id for h in page.hits] == everything[2:5]
    assert (await library.browse(Filters(), limit=3, offset=8)).hits == []


async def test_a_hit_carries_the_fields_of_the_cable(library: CableLibrary) -> None:
    (hit,) = (await library.browse(Filters(origin="Monterrey"))).hits
    assert hit.model_dump(mode="json") == {
        "ref_id": "10MEXICO5",
        "created": "2010-01-01T00:00:00",
        "subject": "Volcano ash closes the airport",
        "origin": "Consulate Monterrey, Mexico",
        "classification": "CONFIDENTIAL",
        "tags": ["MX"],
        "snippet": None,
    }


async def test_a_query_ranks_by_relevance_and_snippets_the_words(library: CableLibrary) -> None:
    page = await library.browse(Filters(query="volcano"))
    assert {h.ref_id for h in page.hits} == {"09MEXICO4", "10MEXICO5"} and page.total == 2
    assert all(h.snippet and "**Volcano**" in h.snippet for h in page.hits)
    assert await ids(library, Filters(query="volcano", date_to=date(2009, 12, 31))) == ["09MEXICO4"]
    assert await ids(library, Filters(query="volcano"), sort="newest") == [
        "10MEXICO5",
        "09MEXICO4",
    ]
    assert (await library.browse(Filters(query="?!"))).total == 0  # no word: nothing matches


@pytest.mark.sqlite_only
async def test_a_query_matching_more_than_rank_all_browses_in_the_search_order(
    library: CableLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over RANK_ALL matches: the same matches, subject matches first, then the last stored
    first, in the same order as the store's search."""
    words = Filters(query="paragraph")  # in every body, in no subject
    ranked = await ids(library, words)
    monkeypatch.setattr("bot.library.store.RANK_ALL", 1)
    common = await ids(library, words)
    assert sorted(common) == sorted(ranked) and (await library.browse(words)).total == 8
    assert common == [c.ref_id for c in reversed(own_cables())]
    assert common == [h.ref_id for h in await library.search("paragraph", limit=20)]
    volcano = Filters(query="volcano")  # two subjects
    assert await ids(library, volcano) == ["09MEXICO4", "10MEXICO5"]
    page = await library.browse(words, limit=3, offset=6)
    assert [h.ref_id for h in page.hits] == common[6:] and all(h.snippet for h in page.hits)


async def test_on_this_day_is_that_day_of_every_year_oldest_first(library: CableLibrary) -> None:
    assert [h.ref_id for h in (await library.on_this_day("03-01")).hits] == [
        "66ATLANTIS7",
        "09ATLANTIS3",
        "09MEXICO4",
    ]
    today = f"{datetime.now(UTC):%m-%d}"
    for asked, day in (("2-29", "02-29"), ("02-28", "02-28"), (None, today)):
        expected = oldest(c for c in own_cables() if passes(c, Filters(month_day=day)))
        assert [h.ref_id for h in (await library.on_this_day(asked)).hits] == expected
    if today != "02-29":
        assert [h.ref_id for h in (await library.on_this_day("2-29")).hits] == ["08ATLANTIS1"]
    with pytest.raises(ValueError, match="'02-30' is not a day of the year"):
        await library.on_this_day("02-30")


async def test_cites_in_ref_line_order_and_cited_by_oldest_first(library: CableLibrary) -> None:
    cites = await library.citations("09atlantis3")
    assert [(c.ref_id, c.in_store, c.subject is not None) for c in cites] == [
        ("08ATLANTIS1", True, True),
        ("01NOWHERE9", False, False),
        ("09ATLANTIS2", True, True),
    ]
    citing = await library.citing("08ATLANTIS1")
    assert [c.ref_id for c in citing] == ["09ATLANTIS3", "09MEXICO4", "10MEXICO5"]
    assert all(c.in_store and c.created for c in citing)
    unstored = await library.citing("01NOWHERE9")  # oldest first, not in ID order
    assert [c.ref_id for c in unstored] == ["66ATLANTIS7", "09ATLANTIS3"]


async def test_related_follows_the_graph_tags_and_words(library: CableLibrary) -> None:
    related = await library.related("09ATLANTIS3", limit=10)
    assert related is not None
    why = {r.ref_id: r.why for r in related}
    assert "cited by it" in why["08ATLANTIS1"] and "cited by it" in why["09ATLANTIS2"]
    assert "cites it" in why["10MEXICO5"]
    assert "cited together once" in why["08ATLANTIS1"]  # both cited by 10MEXICO5
    assert "01NOWHERE9" not in why  # stored cables only
    assert [r.score for r in related] == sorted((r.score for r in related), reverse=True)
    near_volcano = {r.ref_id: r.why for r in await library.related("09MEXICO4") or []}
    assert near_volcano["10MEXICO5"] == ["1 shared tag", "similar words"]
    assert await library.related("01NOWHERE9") is None
    assert len(await library.related("09ATLANTIS3", limit=2) or []) == 2


async def test_random_picks_among_the_matches(library: CableLibrary) -> None:
    mexico = Filters(origin="mexico")
    assert (await library.random(mexico, pick=0.0)) is not None
    picks = [await library.random(mexico, pick=p / 10) for p in range(10)]
    assert {hit.ref_id for hit in picks if hit} == {"09MEXICO4", "10MEXICO5"}
    assert await library.random(Filters(tags=("NONE",))) is None
    hit = await library.random(Filters(tags=("PREL",)))
    assert hit is not None and "PREL" in hit.tags


async def test_counts_by_every_key(library: CableLibrary) -> None:
    by_year = await library.counts(Filters(), "year")
    assert by_year.total == 8
    years = Counter(f"{c.created:%Y}" if c.created else None for c in own_cables())
    assert [(c.key, c.count) for c in by_year.counts] == sorted(
        years.items(), key=lambda kv: kv[0] or "9999"
    )
    by_tag = await library.counts(Filters(origin="atlantis"), "tag")
    assert [(c.key, c.count) for c in by_tag.counts][:2] == [("PREL", 3), ("AT", 2)]
    in_2009 = Filters(date_from=date(2009, 1, 1), date_to=date(2009, 12, 31))
    by_month = await library.counts(in_2009, "month")
    assert [(c.key, c.count) for c in by_month.counts] == [("2009-02", 1), ("2009-03", 2)]
    by_class = await library.counts(Filters(), "classification")
    assert by_class.counts[0].key == "CONFIDENTIAL"
    assert sum(c.count for c in by_class.counts) == 8


async def test_an_updated_cable_is_browsed_and_counted_as_it_is_now(
    library: CableLibrary,
) -> None:
    """Its old tags, origin and classification are forgotten (the SQLite store deletes its
    tags by its browse row's list), its new ones found."""
    old = next(c for c in own_cables() if c.ref_id == "10MEXICO5")
    new = old.model_copy(
        update={"tags": ("ZZNEW",), "origin": "Embassy Nowhere", "classification": "SECRET//X"}
    )
    assert (await library.store.put([new])).updated == 1
    for tag in old.tags:
        assert "10MEXICO5" not in await ids(library, Filters(tags=(tag,)))
    assert await ids(library, Filters(tags=("ZZNEW",))) == ["10MEXICO5"]
    assert await ids(library, Filters(origin="nowhere", classification="secret//")) == ["10MEXICO5"]
    assert "10MEXICO5" not in await ids(library, Filters(origin="monterrey"))
    now = [new if c.ref_id == new.ref_id else c for c in own_cables()]
    for by, keys in (("tag", lambda c: c.tags), ("origin", lambda c: (c.origin,))):
        counted = {c.key: c.count for c in (await library.counts(Filters(), by)).counts}
        assert counted == Counter(k for c in now for k in keys(c)), by
    related = await library.related("10MEXICO5") or []
    assert all("shared tag" not in " ".join(r.why) for r in related)


def test_day_parsers_name_what_is_wrong() -> None:
    assert parse_day("2009-03-01") == date(2009, 3, 1)
    with pytest.raises(ValueError, match="'2009-3-1' is not a date written YYYY-MM-DD"):
        parse_day("2009-3-1")
    with pytest.raises(ValueError, match="'2009-02-29' is not a real date"):
        parse_day("2009-02-29")
    assert parse_month_day("2-9") == "02-09"
    for bad in ("13-01", "00-10", "04-31", "0229", "x"):
        with pytest.raises(ValueError):
            parse_month_day(bad)


def test_score_related_adds_reasons_and_rare_tags_weigh_more() -> None:
    ranked = score_related(
        citing=["A"],
        cited=["B", "B"],
        cocited={"B": 2, "C": 1},
        shared_tags={"C": ["RARE"], "D": ["COMMON"], "E": ["RARE", "COMMON"]},
        tag_counts={"RARE": 2, "COMMON": 100},
        cables=100,
        similar=["D", "A"],
    )
    scores = {r: (s, why) for r, s, why in ranked}
    assert scores["B"][1] == ["cited by it", "cited together 2 times"]
    assert scores["A"][1] == ["cites it", "similar words"]
    assert scores["D"] == (2.0, ["similar words"])  # a tag every cable has adds nothing
    assert scores["E"][1] == ["2 shared tags"] and scores["C"][1][-1] == "1 shared tag"
    assert [r for r, _, _ in ranked][:2] == ["B", "A"]


# the real corpus -------------------------------------------------------------------------


class Corpus:
    """The corpus store's file and the cables parsed in Python."""

    def __init__(self, path: Path, cables: dict[str, Cable]) -> None:
        self.path = path
        self.cables = cables

    def __repr__(self) -> str:  # (a failing example stays readable)
        return f"Corpus({self.path}, {len(self.cables)} cables)"


@pytest.fixture(scope="module")
def corpus(corpus_pages: Path, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """A store filled from the corpus pages once, and the same pages parsed in Python (in
    name order, the last copy of an ID winning, as the importer does)."""
    path = tmp_path_factory.mktemp("discover") / "corpus.db"

    async def fill() -> None:
        async with await CableStore.open(path) as store:
            summary = await import_path(store, corpus_pages)
            assert summary.errors == 0

    asyncio.run(fill())
    cables: dict[str, Cable] = {}
    for page in sorted(corpus_pages.glob("*.html")):
        cable = parse_any(page.read_text(encoding="utf-8", errors="replace"))
        cables[cable.ref_id] = cable
    return Corpus(path, cables)


def _apart(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on a loop of its own in a thread of its own (a module's fixture may be set
    up from inside a test's running loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="module")
def corpus_postgres(corpus_pages: Path) -> Iterator[str]:
    """The corpus pages imported once into a fresh PostgreSQL database: its URL. (Not
    `tests.pg.postgres_database`: this module-wide database is made and dropped on loops of
    their own, and a loop that ends closes the context manager it opened.)"""
    name = f"test_{uuid.uuid4().hex}"
    try:
        _apart(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL is not reachable at {SERVER} ({exc})"
        if STRICT:
            pytest.fail(f"{reason}; TEST_CABLEBOT_STRICT_SKIPS=1 requires it")
        pytest.skip(reason)

    async def fill() -> None:
        async with await PostgresStore.open(f"{SERVER}/{name}") as store:
            assert (await import_path(store, corpus_pages)).errors == 0

    try:
        _apart(fill())
        yield f"{SERVER}/{name}"
    finally:
        _apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
async def corpus_library(
    request: pytest.FixtureRequest, corpus: Corpus
) -> AsyncIterator[CableLibrary]:
    """The corpus store on each back end."""
    store: Store
    if request.param == "sqlite":
        store = await CableStore.open(corpus.path)
    else:
        store = await PostgresStore.open(request.getfixturevalue("corpus_postgres"))
    async with CableLibrary(store) as opened:
        yield opened


@pytest.mark.slow  # (the first one pays for the import)
async def test_corpus_tag_browse_is_every_cable_with_the_tag_in_date_order(
    corpus: Corpus, corpus_library: CableLibrary
) -> None:
    for tag in ("PTER", "IR", "MX", "KJUS"):
        expected = oldest(c for c in corpus.cables.values() if tag in c.tags)
        seen: list[str] = []
        while True:
            page = await corpus_library.browse(Filters(tags=(tag,)), limit=7, offset=len(seen))
            assert page.total == len(expected)
            if not page.hits:
                break
            seen += [h.ref_id for h in page.hits]
        assert seen == expected and len(expected) > 0


@pytest.mark.slow  # (the first one pays for the import)
async def test_corpus_cited_by_is_every_stored_cable_citing_it(
    corpus: Corpus, corpus_library: CableLibrary
) -> None:
    targets = {r for c in corpus.cables.values() for r in c.references} | set(corpus.cables)
    some_cited = 0
    for target in sorted(targets):
        citing = [c for c in corpus.cables.values() if target in c.references]
        found = await corpus_library.citing(target)
        assert [c.ref_id for c in found] == oldest(citing), target
        some_cited += bool(found)
    assert some_cited > 400  # most of the corpus's references are answered


@pytest.mark.slow  # (the first one pays for the import)
async def test_corpus_cites_is_the_ref_line(corpus: Corpus, corpus_library: CableLibrary) -> None:
    for cable in corpus.cables.values():
        found = await corpus_library.citations(cable.ref_id)
        assert [c.ref_id for c in found] == list(cable.references)
        assert [c.in_store for c in found] == [r in corpus.cables for r in cable.references]


@pytest.mark.slow  # (the first one pays for the import)
async def test_corpus_on_this_day_is_every_cable_of_that_day(
    corpus: Corpus, corpus_library: CableLibrary
) -> None:
    days = Counter(f"{c.created:%m-%d}" for c in corpus.cables.values() if c.created)
    for day in [*sorted(days), "02-29", "12-31"]:
        expected = oldest(
            c for c in corpus.cables.values() if c.created and f"{c.created:%m-%d}" == day
        )
        page = await corpus_library.on_this_day(day, limit=50)
        assert page.total == len(expected) and [h.ref_id for h in page.hits] == expected


@pytest.mark.slow  # (the first one pays for the import)
async def test_corpus_year_counts_add_up_to_the_search_total(
    corpus: Corpus, corpus_library: CableLibrary
) -> None:
    for filters in (Filters(), Filters(tags=("PREL",)), Filters(query="terrorism")):
        counts = await corpus_library.counts(filters, "year")
        total = (await corpus_library.browse(filters, limit=1)).total
        assert counts.total == total == sum(c.count for c in counts.counts) > 0
        keys = [c.key for c in counts.counts]
        assert keys == sorted(keys, key=lambda k: k or "9999")


def _filters(corpus: Corpus, data: st.DataObject) -> Filters:
    """Any combination of filters over the values of the corpus (parts of them, any case)."""
    cables = list(corpus.cables.values())
    tags = sorted({t for c in cables for t in c.tags})
    origins = sorted({c.origin for c in cables})
    classes = sorted({c.classification for c in cables})

    def part(texts: list[str]) -> st.SearchStrategy[str]:
        return st.sampled_from(texts).flatmap(
            lambda text: st.tuples(
                st.integers(0, len(text) - 1), st.integers(1, 8), st.booleans()
            ).map(lambda p: (lambda s: s.lower() if p[2] else s.upper())(text[p[0] : p[0] + p[1]]))
        )

    return Filters(
        tags=tuple(data.draw(st.lists(st.sampled_from(tags), max_size=2))),
        origin=data.draw(st.none() | part(origins)),
        classification=data.draw(
            st.none()
            | st.sampled_from(classes).flatmap(
                lambda c: st.sampled_from([c[:n] for n in range(1, len(c) + 1)])
            )
        ),
        date_from=data.draw(st.none() | st.dates(date(1966, 1, 1), date(2010, 12, 31))),
        date_to=data.draw(st.none() | st.dates(date(1966, 1, 1), date(2010, 12, 31))),
    )


def _check(
    corpus: Corpus,
    filters: Filters,
    browse: Callable[[Filters, discover.Sort], discover.HitPage],
    counts: Callable[[Filters, discover.StatsBy], discover.Counts],
) -> None:
    """`browse` (500 hits) and `counts` answer for `filters` what Python finds."""
    kept = [c for c in corpus.cables.values() if passes(c, filters)]
    page = browse(filters, "oldest")
    assert page.total == len(kept)
    assert [h.ref_id for h in page.hits] == oldest(kept)
    assert [h.ref_id for h in browse(filters, "newest").hits] == newest(kept)
    by_year = counts(filters, "year")
    assert {c.key: c.count for c in by_year.counts} == Counter(
        f"{c.created:%Y}" for c in kept if c.created
    )
    by_tag = counts(filters, "tag")
    expected = Counter(t for c in kept for t in c.tags)
    assert [(c.key, c.count) for c in by_tag.counts] == sorted(
        expected.items(), key=lambda kv: (-kv[1], kv[0])
    )
    by_origin = counts(filters, "origin")
    assert [(c.key, c.count) for c in by_origin.counts] == sorted(
        Counter(c.origin for c in kept).items(), key=lambda kv: (-kv[1], kv[0])
    )


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corpus_filter_combinations_match_python(corpus: Corpus, data: st.DataObject) -> None:
    filters = _filters(corpus, data)
    # the store's file read directly (no query here, so no full-text table and none of the
    # SQL functions the store registers for it)
    conn = sqlite3.connect(f"{corpus.path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _check(
            corpus,
            filters,
            lambda f, sort: discover.browse(conn, f, sort, 500, 0),
            lambda f, by: discover.counts(conn, f, by),
        )
    finally:
        conn.close()


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corpus_filter_combinations_match_python_on_postgresql(
    corpus: Corpus, corpus_postgres: str, data: st.DataObject
) -> None:
    filters = _filters(corpus, data)
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(asyncpg.connect(corpus_postgres))
    try:
        _check(
            corpus,
            filters,
            lambda f, sort: loop.run_until_complete(
                postgres_discover.browse(conn, f, sort, 500, 0)
            ),
            lambda f, by: loop.run_until_complete(postgres_discover.counts(conn, f, by)),
        )
    finally:
        loop.run_until_complete(conn.close())
        loop.close()


@pytest.mark.slow  # (the first one pays for the import)
async def test_corpus_related_cables_are_stored_and_explained(
    corpus: Corpus, corpus_library: CableLibrary
) -> None:
    cited = "09RIODEJANEIRO329"
    citing = {c.ref_id for c in corpus.cables.values() if cited in c.references}
    related = await corpus_library.related(cited, limit=10)
    assert related is not None and len(related) == 10
    assert citing <= {r.ref_id for r in related}
    for r in related:
        assert r.ref_id in corpus.cables and r.ref_id != cited and r.why
        assert ("cites it" in r.why) == (r.ref_id in citing)
