"""Discovery (`bot.library.discover`) over the PostgreSQL store's tables: the same filters,
orders, graph and counts as the SQLite functions, with PostgreSQL's full-text search (see
`bot.library.postgres` for how it differs from FTS5). The models and the scoring are shared."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.library.discover import (
    SIMILAR_SUBJECTS,
    SIMILAR_WORDS,
    Count,
    Counts,
    Filters,
    Hit,
    HitPage,
    Linked,
    Related,
    Sort,
    StatsBy,
    default_sort,
    rare_tags,
    score_related,
    similarity_words,
)

if TYPE_CHECKING:
    from bot.library.postgres import Connection

_TAGS = "(SELECT coalesce(json_agg(tag ORDER BY tag), '[]') FROM tags WHERE ref_id = c.ref_id)"


def _like(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


class _Where:
    """The WHERE clause selecting the cables `c` that pass some filters, with its parameters
    ($1, $2… in order) and the full-text query's placeholder when there is one."""

    def __init__(self, filters: Filters) -> None:
        from bot.library.postgres import ts_query  # (here: that module imports this one)

        self.params: list[Any] = []
        self.query: str | None = None
        conditions = ["true"]
        if filters.query:
            match = ts_query(filters.query)
            if match is None:  # only punctuation: nothing can match
                conditions.append("false")
            else:
                self.query = f"to_tsquery('english', {self.add(match)})"
                conditions.append(f"c.search @@ {self.query}")
        for tag in dict.fromkeys(t.strip().upper() for t in filters.tags):
            conditions.append(f"c.ref_id IN (SELECT ref_id FROM tags WHERE tag = {self.add(tag)})")
        if filters.origin:
            like = self.add(f"%{_like(filters.origin.strip())}%")
            conditions.append(f"c.origin ILIKE {like} ESCAPE '\\'")
        if filters.classification:
            like = self.add(f"{_like(filters.classification.strip())}%")
            conditions.append(f"c.classification ILIKE {like} ESCAPE '\\'")
        if filters.date_from is not None:
            conditions.append(f"c.created >= {self.add(filters.date_from.isoformat())}")
        if filters.date_to is not None:
            day_after = (filters.date_to + timedelta(days=1)).isoformat()
            conditions.append(f"c.created < {self.add(day_after)}")
        if filters.month_day is not None:
            conditions.append(f"substr(c.created, 6, 5) = {self.add(filters.month_day)}")
        self.sql = " AND ".join(conditions)

    def add(self, value: Any) -> str:
        """The placeholder of one more parameter."""
        self.params.append(value)
        return f"${len(self.params)}"

    async def total(self, conn: Connection) -> int:
        sql = f"SELECT count(*) FROM cables AS c WHERE {self.sql}"
        return int(await conn.fetchval(sql, *self.params))


def _order(sort: Sort, where: _Where, total: int) -> str:
    """By relevance: as `PostgresStore.search` ranks, every match by `ts_rank_cd` when at most
    RANK_ALL pass, else subject matches first, then the others newest first."""
    from bot.library.postgres import SUBJECT
    from bot.library.store import RANK_ALL

    if sort == "relevance" and where.query is not None:
        if total <= RANK_ALL:
            return f"ts_rank_cd(c.search, {where.query}) DESC, c.created, c.ref_id"
        subject = SUBJECT.format(cable="c.")
        return (
            f"{subject} @@ {where.query} DESC, ts_rank_cd({subject}, {where.query}) DESC,"
            " c.created DESC NULLS LAST, c.ref_id"
        )
    if sort == "newest":
        return "c.created IS NULL, c.created DESC, c.ref_id"
    return "c.created IS NULL, c.created, c.ref_id"


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def browse(
    conn: Connection, filters: Filters, sort: Sort | None, limit: int, offset: int
) -> HitPage:
    """The cables passing `filters`, `limit` of them from `offset`, and how many in all."""
    sort = default_sort(filters, sort)
    where = _Where(filters)
    total = await where.total(conn)
    if limit <= 0 or offset >= total:
        return HitPage(total=total, hits=[])
    from bot.library.postgres import snippet_sql

    snippet = snippet_sql(where.query) if where.query else "NULL"
    order = _order(sort, where, total)
    sql = (
        f"SELECT c.ref_id, c.created, c.subject, c.origin, c.classification, {_TAGS}, {snippet}"
        f" FROM cables AS c WHERE {where.sql} ORDER BY {order}"
        f" LIMIT {where.add(limit)} OFFSET {where.add(max(offset, 0))}"
    )
    rows = await conn.fetch(sql, *where.params)
    return HitPage(total=total, hits=[_hit(tuple(row)) for row in rows])


def _hit(row: tuple[Any, ...]) -> Hit:
    ref_id, created, subject, origin, classification, tags, snippet = row
    return Hit(
        ref_id=ref_id,
        created=_date(created),
        subject=subject,
        origin=origin,
        classification=classification,
        tags=tuple(json.loads(tags)),
        snippet=" ".join(snippet.split()) if snippet is not None else None,
    )


async def random_hit(conn: Connection, filters: Filters, pick: float) -> Hit | None:
    """The cable at fraction `pick` (0 <= pick < 1) of those passing `filters`, or None."""
    total = (await browse(conn, filters, "oldest", 0, 0)).total
    if total == 0:
        return None
    page = await browse(conn, filters, "oldest", 1, min(int(pick * total), total - 1))
    return page.hits[0] if page.hits else None


async def citations(conn: Connection, ref_id: str) -> list[Linked]:
    """What `ref_id` cites, in the order of its REF line."""
    rows = await conn.fetch(
        "SELECT r.dst, c.subject, c.created, c.ref_id IS NOT NULL FROM refs AS r"
        " LEFT JOIN cables AS c ON c.ref_id = r.dst WHERE r.src = $1 ORDER BY r.pos",
        ref_id,
    )
    return [_linked(tuple(row)) for row in rows]


async def citing(conn: Connection, ref_id: str) -> list[Linked]:
    """The stored cables citing `ref_id`, oldest first."""
    rows = await conn.fetch(
        "SELECT c.ref_id, c.subject, c.created, true FROM cables AS c WHERE c.ref_id IN"
        " (SELECT src FROM refs WHERE dst = $1) ORDER BY c.created IS NULL, c.created, c.ref_id",
        ref_id,
    )
    return [_linked(tuple(row)) for row in rows]


def _linked(row: tuple[Any, ...]) -> Linked:
    ref_id, subject, created, stored = row
    return Linked(ref_id=ref_id, subject=subject, created=_date(created), in_store=bool(stored))


async def _similar(conn: Connection, ref_id: str, text: str, limit: int, cables: int) -> list[str]:
    """Stored cables whose subjects share the most distinctive words of `text`, best first,
    scored as the SQLite store scores them (`bot.library.discover._similar`); ties by ID."""
    from bot.library.postgres import SUBJECT

    subject = SUBJECT.format(cable="c.")
    words = similarity_words(text)
    counted = await conn.fetch(
        f"SELECT w, (SELECT count(*) FROM cables AS c WHERE {subject}"
        " @@ plainto_tsquery('english', w)) FROM unnest($1::text[]) AS w",
        words,
    )
    chosen = sorted((n, w) for w, n in counted if 0 < n <= SIMILAR_SUBJECTS)[:SIMILAR_WORDS]
    if not chosen:
        return []
    rows = await conn.fetch(
        f"SELECT c.ref_id FROM unnest($1::text[], $2::float8[]) AS x(w, weight), cables AS c"
        f" WHERE {subject} @@ plainto_tsquery('english', x.w) AND c.ref_id != $3"
        " GROUP BY c.ref_id ORDER BY sum(x.weight) DESC, c.ref_id LIMIT $4",
        [w for _, w in chosen],
        [math.log(cables / n) for n, _ in chosen],
        ref_id,
        limit,
    )
    return [r[0] for r in rows]


async def related(conn: Connection, ref_id: str, limit: int) -> list[Related] | None:
    """Stored cables related to `ref_id`, best first; None when `ref_id` is not stored."""
    row = await conn.fetchrow(
        "SELECT subject, meta::json ->> 'summary' FROM cables WHERE ref_id = $1", ref_id
    )
    if row is None:
        return None

    async def column(sql: str, *params: Any) -> list[Any]:
        return [r[0] for r in await conn.fetch(sql, *params)]

    cables = int(await conn.fetchval("SELECT count(*) FROM cables"))
    tags = await column("SELECT tag FROM tags WHERE ref_id = $1", ref_id)
    tag_counts = {
        r[0]: int(r[1])
        for r in await conn.fetch(
            "SELECT tag, count(*) FROM tags WHERE tag = ANY($1::text[]) GROUP BY tag", tags
        )
    }
    shared: dict[str, list[str]] = {}
    for other, tag in await conn.fetch(  # the rarest tags only, as the SQLite store does
        "SELECT ref_id, tag FROM tags WHERE tag = ANY($1::text[]) AND ref_id != $2"
        " ORDER BY ref_id, tag",
        rare_tags(tag_counts),
        ref_id,
    ):
        shared.setdefault(other, []).append(tag)
    cocited = await conn.fetch(
        "SELECT b.dst, count(DISTINCT b.src) FROM refs AS a JOIN refs AS b"
        " ON b.src = a.src WHERE a.dst = $1 AND b.dst != $1 GROUP BY b.dst",
        ref_id,
    )
    ranked = score_related(
        citing=await column("SELECT src FROM refs WHERE dst = $1 AND src != $1", ref_id),
        cited=await column("SELECT dst FROM refs WHERE src = $1 AND dst != $1", ref_id),
        cocited={r[0]: int(r[1]) for r in cocited},
        shared_tags=shared,
        tag_counts=tag_counts,
        cables=cables,
        similar=await _similar(conn, ref_id, f"{row[0]} {row[1] or ''}", 20, cables),
    )
    found: list[Related] = []
    for start in range(0, len(ranked), 500):  # stored cables only, until `limit` are found
        chunk = ranked[start : start + 500]
        stored = {
            r[0]: (r[1], r[2])
            for r in await conn.fetch(
                "SELECT ref_id, subject, created FROM cables WHERE ref_id = ANY($1::text[])",
                [r for r, _, _ in chunk],
            )
        }
        for other, score, why in chunk:
            if other in stored and len(found) < limit:
                subject, created = stored[other]
                found.append(
                    Related(
                        ref_id=other, subject=subject, created=_date(created), score=score, why=why
                    )
                )
        if len(found) >= limit:
            break
    return found


_KEYS: dict[StatsBy, tuple[str, str]] = {  # the key, and the order of the groups
    "year": ("substr(c.created, 1, 4)", "key NULLS LAST"),
    "month": ("substr(c.created, 1, 7)", "key NULLS LAST"),
    "origin": ("c.origin", "n DESC, key"),
    "classification": ("c.classification", "n DESC, key"),
    "tag": ("t.tag", "n DESC, key"),
}


async def counts(conn: Connection, filters: Filters, by: StatsBy) -> Counts:
    """How many cables pass `filters`, and how many of them fall under each key of `by`."""
    where = _Where(filters)
    total = await where.total(conn)
    key, order = _KEYS[by]
    join = " JOIN tags AS t ON t.ref_id = c.ref_id" if by == "tag" else ""
    rows = await conn.fetch(
        f'SELECT {key} COLLATE "C" AS key, count(*) AS n FROM cables AS c{join}'
        f" WHERE {where.sql} GROUP BY 1 ORDER BY {order}",
        *where.params,
    )
    return Counts(total=total, by=by, counts=[Count(key=k, count=n) for k, n in rows])
