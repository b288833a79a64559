"""The cable store in PostgreSQL (`CABLEBOT_DATABASE_URL`): what `CableStore` keeps in one SQLite
file, shared by every process and machine of one bot.

asyncpg with a connection pool; each query text is prepared once per connection (asyncpg's
statement cache). The schema is versioned like the SQLite one (`MIGRATIONS`, a `schema_version`
table); a migration runs under a transaction-scoped advisory lock, so processes starting at once
migrate exactly once. `put` writes its batch with binary COPY in one transaction that also saves
the import checkpoint: an import killed at any point resumes where its last batch committed. An
import's search vectors are made beside it on a second connection (see `put`): `to_tsvector`
is most of the database's work, about 12 MB of text per CPU second.

Full-text search differs from the SQLite store's FTS5, as the engines allow:

- Words are stemmed (the `english` configuration: "divers" finds "diver", "harbours" finds
  "harbour"), and English stop words ("the", "of") are ignored; FTS5 (unicode61) matches words as
  written, stop words included.
- The typed text is read as `fts_query` reads it for FTS5 (words ANDed, "phrases", word*) and
  turned into a `to_tsquery` expression; `websearch_to_tsquery` has no prefix search.
- Ranking is `ts_rank_cd` with the subject weighted above the body; FTS5 uses BM25. Ties are
  broken by reference ID, so equal scores come in the same order on every run.
- The snippet is `ts_headline` over the body, or the subject when the words are only there
  (matches in **bold**, about 16 words); FTS5 picks the best column's best fragment by its own
  scoring. Whitespace is collapsed in both.
- A query matching more than `RANK_ALL` cables (the SQLite store's rule) gives the cables whose
  subject matches first, by `ts_rank_cd` over the subject (an index of its own), then the others
  newest first by creation date (FTS5: last stored first). Ranking every match of a common word
  reads every matching row's tsvector; this reads the subject index and the first rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from pydantic import TypeAdapter

from bot.library import discover, postgres_discover
from bot.library.store import (
    RANK_ALL,
    Checkpoint,
    FollowedReply,
    LibraryStats,
    PreparedCable,
    PutResult,
    SearchHit,
    StoreError,
    StoreWriteError,
)
from parsers.models import Cable, Paragraph

_SCHEMA_V1 = """
CREATE TABLE cables (
    ref_id text COLLATE "C" PRIMARY KEY,
    created text,
    released text,
    classification text NOT NULL,
    origin text NOT NULL,
    subject text NOT NULL,
    meta text NOT NULL,
    header text NOT NULL,
    body text NOT NULL,
    hash bytea NOT NULL,
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', subject), 'A') || to_tsvector('english', body)
    ) STORED
);
CREATE INDEX cables_search ON cables USING gin (search);
CREATE INDEX cables_created ON cables (created);
CREATE TABLE paragraphs (
    ref_id text COLLATE "C" NOT NULL REFERENCES cables ON DELETE CASCADE,
    seq integer NOT NULL,
    number integer NOT NULL,
    marking text,
    text text NOT NULL,
    PRIMARY KEY (ref_id, seq)
);
CREATE TABLE tags (
    tag text COLLATE "C" NOT NULL,
    ref_id text COLLATE "C" NOT NULL REFERENCES cables ON DELETE CASCADE,
    PRIMARY KEY (tag, ref_id)
);
CREATE INDEX tags_ref ON tags (ref_id);
CREATE TABLE refs (
    src text COLLATE "C" NOT NULL REFERENCES cables ON DELETE CASCADE,
    pos integer NOT NULL,
    dst text COLLATE "C" NOT NULL,
    PRIMARY KEY (src, pos)
);
CREATE INDEX refs_dst ON refs (dst, src);
CREATE TABLE months (
    ref_id text COLLATE "C" PRIMARY KEY,
    month smallint NOT NULL CHECK (month BETWEEN 1 AND 12)
);
CREATE TABLE guild_settings (
    guild_id bigint PRIMARY KEY,
    data jsonb NOT NULL
);
CREATE TABLE imports (
    source text PRIMARY KEY,
    fingerprint text NOT NULL,
    position bigint NOT NULL,
    row bigint NOT NULL,
    imported bigint NOT NULL,
    updated bigint NOT NULL,
    skipped bigint NOT NULL,
    errors bigint NOT NULL
);
CREATE TABLE replies (
    trigger_id bigint PRIMARY KEY,
    channel_id bigint NOT NULL,
    reply_id bigint NOT NULL,
    author_id bigint NOT NULL,
    at double precision NOT NULL
);
CREATE INDEX replies_reply ON replies (reply_id);
CREATE INDEX replies_at ON replies (at);
CREATE TABLE not_found (
    ref_id text COLLATE "C" PRIMARY KEY,
    until double precision NOT NULL
);
CREATE INDEX not_found_until ON not_found (until);
"""
"""Everything SQLite schema version 4 holds, plus the mirror's "not found" answers."""

_V2_JOBS = """
CREATE TABLE jobs (
    name text NOT NULL,
    day date NOT NULL,
    guild_id bigint NOT NULL,
    PRIMARY KEY (name, day, guild_id)
);
"""
"""Where once-a-day work is claimed (`claim_job`): the primary key lets exactly one of the
processes sharing the database insert a given row."""


_V3_SUBJECT_INDEX = """
CREATE INDEX cables_subject_search ON cables USING gin (to_tsvector('english', subject));
CREATE INDEX cables_newest ON cables (created DESC NULLS LAST, ref_id);
"""
"""The subjects' words, to rank the matches of common words by subject, and the newest-first
order of the others, read from the newest until a page is full (see `_page`): on 30,000
generated cables, 2,500 matches of `minister` newest first took 72 ms by this index, 770 ms
by reading every match."""

SEARCH_VECTOR = "setweight(to_tsvector('english', subject), 'A') || to_tsvector('english', body)"
"""What `cables.search` holds for a cable (a stored column, so that ranking reads it)."""

_V4_SEARCH = """
ALTER TABLE cables ALTER COLUMN search DROP EXPRESSION IF EXISTS;
CREATE INDEX IF NOT EXISTS cables_unsearchable ON cables (ref_id) WHERE search IS NULL;
"""
"""`search` filled by the store, not generated: an import fills it beside its next batches."""

_V5_BROWSE = """
CREATE TABLE browse (
    ref_id text COLLATE "C" PRIMARY KEY REFERENCES cables ON DELETE CASCADE,
    created text COLLATE "C",
    origin text COLLATE "C" NOT NULL,
    classification text COLLATE "C" NOT NULL,
    tags text[] COLLATE "C" NOT NULL
);
INSERT INTO browse (ref_id, created, origin, classification, tags)
    SELECT ref_id, created, origin, classification, coalesce(
        (SELECT array_agg(tag ORDER BY tag) FROM tags WHERE tags.ref_id = c.ref_id), '{}'
    ) FROM cables AS c;
CREATE INDEX browse_oldest ON browse (created, ref_id);
CREATE INDEX browse_newest ON browse (created DESC NULLS LAST, ref_id);
CREATE INDEX browse_day ON browse (substr(created, 6, 5), created, ref_id);
CREATE INDEX browse_origin ON browse (origin);
CREATE INDEX browse_classification ON browse (classification);
CREATE INDEX browse_tags ON browse USING gin (tags);
CREATE STATISTICS browse_year ON (substr(created, 1, 4)) FROM browse;
CREATE STATISTICS browse_month ON (substr(created, 1, 7)) FROM browse;
ANALYZE browse;
"""
"""What browsing reads (`bot.library.postgres_discover`), as the SQLite store's `browse`:
one narrow row per cable with its tags in an array (a GIN index finds the cables with all of
some tags), and an index for each order, origin and classification. The statistics tell the
planner how many years and months there are: without them it expected a group per cable and
sorted them all on disk to count by year (594 ms on the full generated store, 134 ms with)."""

MIGRATIONS: tuple[str, ...] = (
    _SCHEMA_V1,
    _V2_JOBS,
    _V3_SUBJECT_INDEX,
    _V4_SEARCH,
    _V5_BROWSE,
)
"""Migration scripts; MIGRATIONS[i] moves the schema from version i to i + 1."""

SCHEMA_VERSION = len(MIGRATIONS)

Connection: TypeAlias = "asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]"

_LOCK_KEY = 0x_CAB1E_5C4E
"""The advisory lock a migration holds (any fixed number; the same in every process)."""
_FETCH_CLASS = 0x0CAB20
"""First key of the advisory locks held while a cable is fetched from the mirror (the second
is a hash of its reference ID)."""

INDEXING_BEHIND = 2
"""Import batches whose search vectors may still be in the making while the next is written."""

_INDEX = f"UPDATE cables SET search = {SEARCH_VECTOR} WHERE search IS NULL"

_PARAGRAPHS = TypeAdapter(tuple[Paragraph, ...])
_CABLE_COLUMNS = (
    "ref_id",
    "created",
    "released",
    "classification",
    "origin",
    "subject",
    "meta",
    "header",
    "body",
    "hash",
)
_GET = (
    "SELECT ref_id, created, released, classification, origin, subject, meta, header, body,"
    " (SELECT coalesce(json_agg(json_build_object('number', number, 'marking', marking,"
    " 'text', text) ORDER BY seq), '[]') FROM paragraphs AS p WHERE p.ref_id = c.ref_id)"
    " FROM cables AS c WHERE ref_id = $1"
)
_HEADLINE = (
    "ts_headline('english', {column}, {q}, 'StartSel=**, StopSel=**, MaxWords=16, MinWords=6,"
    " ShortWord=2, MaxFragments=1, FragmentDelimiter=…')"
)


def snippet_sql(q: str, cable: str = "c") -> str:
    """The snippet of the cable `cable` for the tsquery `q`: from the body when the words are
    there, else from the subject (FTS5's snippet picks the better column likewise)."""
    body, subject = (_HEADLINE.format(column=f"{cable}.{c}", q=q) for c in ("body", "subject"))
    return f"CASE WHEN to_tsvector('english', {cable}.body) @@ {q} THEN {body} ELSE {subject} END"


SUBJECT = "to_tsvector('english', {cable}subject)"
"""The subject's words, as `cables_subject_search` indexes them."""
_COUNT = (
    "SELECT count(*) FROM (SELECT 1 FROM cables WHERE search @@ to_tsquery('english', $1)"
    " LIMIT $2) AS m"
)
_RANKED = (
    "SELECT ref_id FROM cables, to_tsquery('english', $1) AS q WHERE search @@ q"
    " ORDER BY ts_rank_cd(search, q) DESC, ref_id LIMIT $2 OFFSET $3"
)
_BY_SUBJECT = (
    "SELECT ref_id FROM cables, to_tsquery('english', $1) AS q WHERE {s} @@ q"
    " ORDER BY ts_rank_cd({s}, q) DESC, created DESC NULLS LAST, ref_id"
).format(s=SUBJECT.format(cable=""))
_NEWEST = (
    "SELECT ref_id FROM cables, to_tsquery('english', $1) AS q WHERE search @@ q"
    " AND NOT {s} @@ q ORDER BY created DESC NULLS LAST, ref_id LIMIT $2 OFFSET $3"
).format(s=SUBJECT.format(cable=""))
_HITS = (
    f"SELECT ref_id, subject, created, {snippet_sql('q')} FROM cables AS c,"
    " to_tsquery('english', $1) AS q WHERE ref_id = ANY($2::text[])"
)


async def _page(conn: Connection, match: str, limit: int, offset: int) -> list[str]:
    """The reference IDs of one page of the matches of the tsquery `match`, best first."""
    if await conn.fetchval(_COUNT, match, RANK_ALL + 1) <= RANK_ALL:
        return [r[0] for r in await conn.fetch(_RANKED, match, limit, offset)]
    by_subject = [r[0] for r in await conn.fetch(_BY_SUBJECT, match)]
    ids = by_subject[offset : offset + limit]
    if len(ids) < limit:  # then the others, newest first
        skip = max(offset - len(by_subject), 0)
        ids += [r[0] for r in await conn.fetch(_NEWEST, match, limit - len(ids), skip)]
    return ids


def redacted(url: str) -> str:
    """`url` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def ts_query(text: str, max_terms: int = 32) -> str | None:
    """Turn what a user typed into a safe `to_tsquery` expression, read as `fts_query` reads
    it for FTS5: words ANDed, "phrases" kept in order, word* a prefix."""
    terms: list[str] = []
    for match in re.finditer(r'"([^"]*)"?|(\w+)(\*?)', text):
        phrase, word, star = match.groups()
        if word:
            terms.append(f"'{word}'" + (":*" if star else ""))
        elif phrase is not None:
            words = re.findall(r"\w+", phrase)
            if words:
                terms.append("(" + " <-> ".join(f"'{w}'" for w in words) + ")")
    return " & ".join(terms[:max_terms]) or None


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _build_cable(row: Sequence[Any]) -> Cable:
    ref_id, created, released, classification, origin, subject, meta, header, body, paras = row
    extra = json.loads(meta)
    for name in ("tags", "references", "to", "info", "caveats"):
        extra[name] = tuple(extra.get(name) or ())
    return Cable.model_construct(
        ref_id=ref_id,
        created=_date(created),
        released=_date(released),
        classification=classification,
        origin=origin,
        subject=subject,
        header=header,
        body=body,
        paragraphs=_PARAGRAPHS.validate_json(paras),
        **extra,
    )


def _reason(exc: BaseException) -> str:
    """What went wrong in a few words."""
    if isinstance(exc, asyncpg.exceptions.DiskFullError):
        return "disk is full"
    if isinstance(exc, asyncpg.exceptions.ReadOnlySQLTransactionError):
        return "the database is read-only"
    if isinstance(exc, OSError | asyncpg.exceptions.ConnectionDoesNotExistError):
        return f"the database connection was lost ({exc})"
    return str(exc).splitlines()[0]


async def _no_reset(conn: Connection) -> None:
    """A connection goes back to the pool as it is: the store leaves no session state (its
    locks are transaction-scoped, its settings SET LOCAL, it never LISTENs), so asyncpg's
    reset query would only add a round trip to every read (0.35 ms instead of 0.18 at p50)."""


async def _migrate(conn: Connection, where: str) -> int:
    """Bring the schema to SCHEMA_VERSION in one transaction, under the advisory lock (a
    process that waited for it finds the work done). Returns the version found first."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
        version = await conn.fetchval("SELECT max(version) FROM schema_version")
        if version is None:
            if await conn.fetchval("SELECT to_regclass('cables') IS NOT NULL"):
                raise StoreError(f"{where}: not a Cablebot store (a `cables` table, no version)")
            version = 0
            await conn.execute("INSERT INTO schema_version VALUES (0)")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{where}: the store has schema version {version}, newer than this cablebot"
                f" ({SCHEMA_VERSION})"
            )
        for script in MIGRATIONS[version:]:
            await conn.execute(script)
        await conn.execute("UPDATE schema_version SET version = $1", SCHEMA_VERSION)
        return int(version)


class PostgresStore:
    """Async access to the cable store in PostgreSQL; open with `await PostgresStore.open(url)`."""

    readonly = False
    """(A PostgreSQL store is always written; a refused write raises StoreWriteError.)"""
    packs_texts = False
    """(Texts are columns, which PostgreSQL compresses itself.)"""

    def __init__(self, url: str, pool: asyncpg.Pool) -> None:
        self.path = redacted(url)
        self._open_pool = pool
        self._indexing: list[asyncio.Task[None]] = []

    @property
    def _pool(self) -> asyncpg.Pool:
        """The pool; StoreError once the store is closed (as the SQLite store does)."""
        if self._open_pool.is_closing():
            raise StoreError("the store is closed")
        return self._open_pool

    @classmethod
    async def open(
        cls, url: str, *, min_size: int = 1, max_size: int = 10, migrate: bool = True
    ) -> PostgresStore:
        """Connect a pool of `min_size`..`max_size` connections to `url` and migrate the schema
        unless `migrate` is False (StoreError when the database cannot be reached or is not a
        Cablebot store)."""
        where = redacted(url)
        try:
            pool = await asyncpg.create_pool(
                url, min_size=min(min_size, max_size), max_size=max_size, reset=_no_reset
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"{where}: cannot connect ({_reason(exc)})") from exc
        try:
            async with pool.acquire() as conn:
                if migrate:
                    await _migrate(conn, where)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, asyncpg.PostgresError):
                raise StoreError(f"{where}: cannot prepare the schema ({_reason(exc)})") from exc
            raise
        return cls(url, pool)

    async def close(self) -> None:
        """Close the pool's connections (idempotent); search vectors still in the making are
        left to the next import's end (`clear_checkpoint`)."""
        for task in self._indexing:
            task.cancel()
        await asyncio.gather(*self._indexing, return_exceptions=True)
        self._indexing.clear()
        await self._open_pool.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # reads -------------------------------------------------------------------------------

    async def schema_version(self) -> int | None:
        """The schema version the database is at; None when it holds no Cablebot schema."""
        async with self._pool.acquire() as conn:
            if not await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL"):
                return None
            version = await conn.fetchval("SELECT max(version) FROM schema_version")
        return None if version is None else int(version)

    async def get(self, ref_id: str) -> Cable | None:
        """The stored cable `ref_id`, or None."""
        row = await self._pool.fetchrow(_GET, ref_id)
        return None if row is None else _build_cable(tuple(row))

    async def search(self, query: str, limit: int = 10, offset: int = 0) -> list[SearchHit]:
        """Full-text search over subjects and bodies, best matches first (see the module's
        docstring for how it differs from FTS5)."""
        match = ts_query(query)
        if match is None or limit <= 0:
            return []
        async with self._pool.acquire() as conn:
            ids = await _page(conn, match, limit, max(offset, 0))
            rows = {r[0]: r for r in await conn.fetch(_HITS, match, ids)}  # page only
        return [
            SearchHit(ref_id=r, subject=s, created=_date(c), snippet=" ".join(snip.split()))
            for r, s, c, snip in (rows[i] for i in ids)
        ]

    async def cites(self, ref_id: str) -> list[str]:
        """Reference IDs that `ref_id` cites, in the cable's order."""
        rows = await self._pool.fetch("SELECT dst FROM refs WHERE src = $1 ORDER BY pos", ref_id)
        return [r[0] for r in rows]

    async def cited_by(self, ref_id: str) -> list[str]:
        """Stored cables that cite `ref_id`, sorted."""
        rows = await self._pool.fetch(
            "SELECT DISTINCT src FROM refs WHERE dst = $1 ORDER BY src", ref_id
        )
        return [r[0] for r in rows]

    async def complete_ids(self, prefix: str, limit: int = 25) -> list[str]:
        """Stored reference IDs starting with `prefix`."""
        prefix = prefix.strip().upper()
        if limit <= 0:
            return []
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\U0010ffff"
        window = max(limit * 8, 200)  # the first IDs in order, then shortest first
        rows = await self._pool.fetch(
            "SELECT ref_id FROM cables WHERE ref_id >= $1 AND ref_id < $2 ORDER BY ref_id LIMIT $3",
            prefix,
            upper,
            window,
        )
        found = {r[0] for r in rows}
        return sorted(found, key=lambda ref_id: (len(ref_id), ref_id))[:limit]

    async def month_of(self, ref_id: str) -> int | None:
        """The month (1-12) the stored cable `ref_id` was created in."""
        month = await self._pool.fetchval(
            "SELECT substr(created, 6, 2)::smallint FROM cables"
            " WHERE ref_id = $1 AND created IS NOT NULL",
            ref_id,
        )
        return None if month is None else int(month)

    async def stats(self) -> LibraryStats:
        """Counts, dates and size of the store (the size of the whole database)."""
        row = await self._pool.fetchrow(
            "SELECT (SELECT count(*) FROM cables), (SELECT count(*) FROM paragraphs),"
            " (SELECT count(*) FROM refs), (SELECT count(DISTINCT tag) FROM tags),"
            " (SELECT min(created) FROM cables),"
            " (SELECT max(created) FROM cables), pg_database_size(current_database()),"
            " (SELECT max(version) FROM schema_version)"
        )
        assert row is not None
        return LibraryStats(
            cables=row[0],
            paragraphs=row[1],
            references=row[2],
            tags=row[3],
            first_created=_date(row[4]),
            last_created=_date(row[5]),
            size_bytes=row[6],
            schema_version=row[7],
        )

    async def checkpoint(self, source: str) -> Checkpoint | None:
        """The saved position of an unfinished import of `source`."""
        row = await self._pool.fetchrow(
            "SELECT source, fingerprint, position, row, imported, updated, skipped, errors"
            " FROM imports WHERE source = $1",
            source,
        )
        return None if row is None else Checkpoint(*row)

    async def get_guild_settings(self, guild_id: int) -> dict[str, object]:
        """The settings saved for a guild ({} when none)."""
        text = await self._pool.fetchval(
            "SELECT data FROM guild_settings WHERE guild_id = $1", guild_id
        )
        data: dict[str, object] = json.loads(text) if text is not None else {}
        return data

    async def followed(self, trigger_id: int, since: float) -> FollowedReply | None:
        """The reply to message `trigger_id`, if it was remembered at or after `since`."""
        row = await self._pool.fetchrow(
            "SELECT channel_id, reply_id, author_id FROM replies WHERE trigger_id = $1"
            " AND at >= $2",
            trigger_id,
            since,
        )
        return None if row is None else FollowedReply(*row)

    @contextlib.asynccontextmanager
    async def fetching(self, ref_id: str) -> AsyncIterator[None]:
        """Held while this process fetches `ref_id` from the mirror: another process asking for
        it waits here, then finds it stored (a transaction-scoped advisory lock, so a process
        that dies lets the others go on)."""
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "SELECT pg_advisory_xact_lock($1, hashtext($2))", _FETCH_CLASS, ref_id
                )
                yield
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"{self.path}: {_reason(exc)}") from exc

    async def not_found(self, ref_id: str, now: float) -> bool:
        """True when the mirror answered "not found" for `ref_id` and that answer is still
        good at `now` (seconds since the epoch; every process shares it)."""
        return bool(
            await self._pool.fetchval(
                "SELECT 1 FROM not_found WHERE ref_id = $1 AND until > $2", ref_id, now
            )
        )

    # discovery (bot.library.discover, bot.library.postgres_discover) --------------------------

    async def browse(
        self, filters: discover.Filters, sort: discover.Sort | None, limit: int, offset: int
    ) -> discover.HitPage:
        """The cables passing `filters`, a page of them and how many in all."""
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            return await postgres_discover.browse(conn, filters, sort, limit, offset)

    async def random_hit(self, filters: discover.Filters, pick: float) -> discover.Hit | None:
        """The cable at fraction `pick` of those passing `filters`, or None."""
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            return await postgres_discover.random_hit(conn, filters, pick)

    async def citations(self, ref_id: str) -> list[discover.Linked]:
        """What `ref_id` cites, in the order of its REF line."""
        async with self._pool.acquire() as conn:
            return await postgres_discover.citations(conn, ref_id)

    async def citing(self, ref_id: str) -> list[discover.Linked]:
        """The stored cables citing `ref_id`, oldest first."""
        async with self._pool.acquire() as conn:
            return await postgres_discover.citing(conn, ref_id)

    async def related(self, ref_id: str, limit: int) -> list[discover.Related] | None:
        """Stored cables related to `ref_id`, best first; None when it is not stored."""
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            return await postgres_discover.related(conn, ref_id, limit)

    async def counts(self, filters: discover.Filters, by: discover.StatsBy) -> discover.Counts:
        """How many cables pass `filters`, grouped by `by`."""
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            return await postgres_discover.counts(conn, filters, by)

    # writes ------------------------------------------------------------------------------
    # Each is one transaction: on a failure it is rolled back and StoreWriteError raised.

    async def _write(self, sql: str, *args: Any) -> None:
        try:
            await self._pool.execute(sql, *args)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreWriteError(self.path, _reason(exc)) from exc

    async def remember_reply(
        self, trigger_id: int, reply: FollowedReply, at: float, *, forget_before: float
    ) -> None:
        """Remember that `reply` answers message `trigger_id`; drop entries older than
        `forget_before` in the same transaction."""
        await self._write(
            "WITH gone AS (DELETE FROM replies WHERE at < $6)"
            " INSERT INTO replies (trigger_id, channel_id, reply_id, author_id, at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (trigger_id) DO UPDATE SET"
            " channel_id = excluded.channel_id, reply_id = excluded.reply_id,"
            " author_id = excluded.author_id, at = excluded.at",
            trigger_id,
            *reply,
            at,
            forget_before,
        )

    async def forget_reply(
        self, *, trigger_id: int | None = None, reply_id: int | None = None
    ) -> None:
        """Stop following a trigger message, or whichever message `reply_id` answered."""
        if trigger_id is not None:
            await self._write("DELETE FROM replies WHERE trigger_id = $1", trigger_id)
        if reply_id is not None:
            await self._write("DELETE FROM replies WHERE reply_id = $1", reply_id)

    async def remember_not_found(self, ref_id: str, until: float) -> None:
        """Share the mirror's "not found" for `ref_id` until `until` (seconds since the epoch);
        answers already expired are dropped."""
        await self._write(
            "WITH gone AS (DELETE FROM not_found WHERE until <= extract(epoch FROM now()))"
            " INSERT INTO not_found (ref_id, until) VALUES ($1, $2)"
            " ON CONFLICT (ref_id) DO UPDATE SET until = excluded.until",
            ref_id,
            until,
        )

    async def claim_job(self, name: str, guild_id: int, day: date, *, forget_before: date) -> bool:
        """Claim job `name` of `guild_id` for `day`: True for exactly one caller, whichever
        process it is in and however often it asks; claims of `name` before `forget_before` are
        dropped in the same statement."""
        try:
            claimed = await self._pool.fetchval(
                "WITH gone AS (DELETE FROM jobs WHERE name = $1 AND day < $4)"
                " INSERT INTO jobs (name, day, guild_id) VALUES ($1, $2, $3)"
                " ON CONFLICT DO NOTHING RETURNING true",
                name,
                day,
                guild_id,
                forget_before,
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreWriteError(self.path, _reason(exc)) from exc
        return claimed is True

    async def put(
        self, cables: Iterable[Cable | PreparedCable], checkpoint: Checkpoint | None = None
    ) -> PutResult:
        """Insert or update cables in one transaction (the last copy of a repeated ID wins),
        written with binary COPY.

        `checkpoint`, when given (an import's batch), is saved in the same transaction with this
        batch's counts added to the counts it carries; the batch's search vectors are then made
        on another connection while the next batches are written (`to_tsvector` is most of an
        import's work in the database, and this spreads it over two server processes): `get`
        finds the cables at once, `search` once `clear_checkpoint` has returned. Without a
        checkpoint they are made in the same transaction.
        """
        rows = [c if isinstance(c, PreparedCable) else PreparedCable.of(c) for c in cables]
        if checkpoint is not None:
            await self._indexing_room(INDEXING_BEHIND)
        for attempt in range(3):
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    result, touched = await _put(conn, rows, checkpoint)
                    if checkpoint is None and touched:
                        await conn.execute(_INDEX + " AND ref_id = ANY($1::text[])", touched)
                break
            except asyncpg.exceptions.UniqueViolationError as exc:
                # another process stored one of these cables meanwhile: count again
                if attempt == 2:
                    raise StoreWriteError(self.path, _reason(exc)) from exc
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                raise StoreWriteError(self.path, _reason(exc)) from exc
        if checkpoint is not None and touched:
            self._indexing.append(asyncio.create_task(self._index(touched)))
        return result

    async def _index(self, ref_ids: list[str] | None) -> None:
        """Make the missing search vectors of `ref_ids` (None: of every cable)."""
        if ref_ids is None:
            await self._write(_INDEX)
        else:
            await self._write(_INDEX + " AND ref_id = ANY($1::text[])", ref_ids)

    async def _indexing_room(self, room: int) -> None:
        """Wait until fewer than `room` batches are being indexed (StoreWriteError if one
        of them failed)."""
        while self._indexing:
            for task in [t for t in self._indexing if t.done()]:
                self._indexing.remove(task)
                task.result()
            if len(self._indexing) < room:
                return
            await asyncio.wait(self._indexing, return_when=asyncio.FIRST_COMPLETED)

    async def clear_checkpoint(self, source: str) -> None:
        """Forget the import position of `source` (the import finished), once every stored
        cable is searchable, those of an earlier import killed before its end included; then
        gather the tables' statistics. Without them, right after a full import, a `get` took
        4.2 ms at p50 (the planner guessing), and 0.23 ms once ANALYZE had run (1.5 s)."""
        await self._indexing_room(1)
        await self._index(None)
        await self._write("DELETE FROM imports WHERE source = $1", source)
        await self._write("ANALYZE")

    async def set_guild_settings(self, guild_id: int, data: dict[str, object]) -> None:
        """Replace the settings saved for a guild (must be JSON-serialisable)."""
        await self._write(
            "INSERT INTO guild_settings (guild_id, data) VALUES ($1, $2::jsonb)"
            " ON CONFLICT (guild_id) DO UPDATE SET data = excluded.data",
            guild_id,
            json.dumps(data, sort_keys=True),
        )


async def _put(
    conn: Connection, rows: list[PreparedCable], checkpoint: Checkpoint | None
) -> tuple[PutResult, list[str]]:
    """Write `rows` (search vectors left empty) and the checkpoint; the counts, and the IDs
    written."""
    latest = {r.ref_id: r for r in rows}  # the last copy of a repeated ID wins
    existing: dict[str, bytes] = {
        r[0]: bytes(r[1])
        for r in await conn.fetch(
            "SELECT ref_id, hash FROM cables WHERE ref_id = ANY($1::text[]) FOR UPDATE",
            list(latest),
        )
    }
    counts = {"imported": 0, "updated": 0, "skipped": 0}
    seen = dict(existing)
    for row in rows:  # count row by row, as if the batch were put one cable at a time
        previous = seen.get(row.ref_id)
        kind = "imported" if previous is None else "skipped" if previous == row.hash else "updated"
        counts[kind] += 1
        seen[row.ref_id] = row.hash
    touched = [r for i, r in latest.items() if existing.get(i) != r.hash]
    changed = [r.ref_id for r in touched if r.ref_id in existing]
    if changed:  # paragraphs, tags and references go with them (ON DELETE CASCADE)
        await conn.execute("DELETE FROM cables WHERE ref_id = ANY($1::text[])", changed)
    if touched:
        await conn.copy_records_to_table(
            "cables", records=[(*r.row, r.hash) for r in touched], columns=_CABLE_COLUMNS
        )
        await conn.copy_records_to_table(
            "paragraphs",
            records=[(r.ref_id, seq, *p) for r in touched for seq, p in enumerate(r.paragraphs)],
            columns=("ref_id", "seq", "number", "marking", "text"),
        )
        await conn.copy_records_to_table(
            "tags",
            records=[(tag, r.ref_id) for r in touched for tag in dict.fromkeys(r.tags)],
            columns=("tag", "ref_id"),
        )
        await conn.copy_records_to_table(
            "refs",
            records=[(r.ref_id, pos, dst) for r in touched for pos, dst in enumerate(r.references)],
            columns=("src", "pos", "dst"),
        )
        # (row: ref_id, created, released, classification, origin, …)
        browse = [(r.ref_id, r.row[1], r.row[4], r.row[3], sorted(set(r.tags))) for r in touched]
        await conn.copy_records_to_table(
            "browse",
            records=browse,
            columns=("ref_id", "created", "origin", "classification", "tags"),
        )
    result = PutResult(**counts)
    if checkpoint is not None:
        saved = dataclasses.replace(
            checkpoint,
            imported=checkpoint.imported + result.imported,
            updated=checkpoint.updated + result.updated,
            skipped=checkpoint.skipped + result.skipped,
        )
        await conn.execute(
            "INSERT INTO imports (source, fingerprint, position, row, imported, updated, skipped,"
            " errors) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (source) DO UPDATE SET"
            " fingerprint = excluded.fingerprint, position = excluded.position,"
            " row = excluded.row, imported = excluded.imported, updated = excluded.updated,"
            " skipped = excluded.skipped, errors = excluded.errors",
            *dataclasses.astuple(saved),
        )
    return result, [r.ref_id for r in touched]
