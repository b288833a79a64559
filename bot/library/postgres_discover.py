"""Discovery (`bot.library.discover`) over the PostgreSQL store's tables: the same filters,
orders, graph and counts as the SQLite functions, with PostgreSQL's full-text search (see
`bot.library.postgres` for how it differs from FTS5). The models and the scoring are shared."""

from __future__ import annotations

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


def _like(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


def _values(column: str, pattern: str) -> str:
    """The distinct values of a `browse` column matching the ILIKE `pattern`: one index search
    per value (a few hundred origins), then the matching cables are ranges of its index."""
    return (
        f"WITH RECURSIVE v(x) AS (SELECT min({column}) FROM browse UNION ALL SELECT"
        f" (SELECT min({column}) FROM browse WHERE {column} > v.x) FROM v WHERE v.x IS NOT NULL)"
        f" SELECT x FROM v WHERE x ILIKE {pattern} ESCAPE '\\'"
    )


class _Where:
    """The WHERE clause selecting the rows `c` of `browse` (one per cable, see
    `bot.library.postgres`) that pass some filters, with its parameters ($1, $2… in order),
    the join of `cables AS t` and the full-text query's placeholder when there is a query."""

    def __init__(self, filters: Filters) -> None:
        from bot.library.postgres import ts_query  # (here: that module imports this one)

        self.params: list[Any] = []
        self.query: str | None = None
        self.join = ""
        conditions = ["true"]
        if filters.query:
            match = ts_query(filters.query)
            if match is None:  # only punctuation: nothing can match
                conditions.append("false")
            else:
                self.query = f"to_tsquery('english', {self.add(match)})"
                self.join = " JOIN cables AS t ON t.ref_id = c.ref_id"
                conditions.append(f"t.search @@ {self.query}")
        if filters.tags:
            conditions.append(f"c.tags @> {self.add(list(filters.tags))}::text[]")
        if filters.origin:
            like = self.add(f"%{_like(filters.origin.strip())}%")
            conditions.append(f"c.origin IN ({_values('origin', like)})")
        if filters.classification:
            like = self.add(f"{_like(filters.classification.strip())}%")
            conditions.append(f"c.classification IN ({_values('classification', like)})")
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
        sql = f"SELECT count(*) FROM browse AS c{self.join} WHERE {self.sql}"
        return int(await conn.fetchval(sql, *self.params))


def _order(sort: Sort, where: _Where, total: int) -> str:
    """By relevance: as `PostgresStore.search` ranks, every match by `ts_rank_cd` when at most
    RANK_ALL pass, else subject matches first, then the others newest first. (ASC puts NULLs
    last in PostgreSQL: the other orders are those of the browse indexes.)"""
    from bot.library.postgres import SUBJECT
    from bot.library.store import RANK_ALL

    if sort == "relevance" and where.query is not None:
        if total <= RANK_ALL:
            return f"ts_rank_cd(t.search, {where.query}) DESC, c.created, c.ref_id"
        subject = SUBJECT.format(cable="t.")
        return (
            f"{subject} @@ {where.query} DESC, ts_rank_cd({subject}, {where.query}) DESC,"
            " c.created DESC NULLS LAST, c.ref_id"
        )
    if sort == "newest":
        return "c.created DESC NULLS LAST, c.ref_id"
    return "c.created, c.ref_id"


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
    return HitPage(
        total=total, hits=await _hits(conn, where, _order(sort, where, total), limit, offset)
    )


async def _hits(
    conn: Connection, where: _Where, order: str | None, limit: int, offset: int
) -> list[Hit]:
    """A page of the `browse` rows passing `where` in `order` (None: any), then their
    subjects from `cables` (a page only: `cables` rows are large)."""
    from bot.library.postgres import snippet_sql

    snippet = snippet_sql(where.query, "t") if where.query else "NULL"
    rows = await conn.fetch(
        f"SELECT c.ref_id, c.created, c.origin, c.classification, c.tags, {snippet}"
        f" FROM browse AS c{where.join} WHERE {where.sql}"
        f"{f' ORDER BY {order}' if order else ''}"
        f" LIMIT {where.add(limit)} OFFSET {where.add(max(offset, 0))}",
        *where.params,
    )
    subjects = dict(
        await conn.fetch(
            "SELECT ref_id, subject FROM cables WHERE ref_id = ANY($1::text[])",
            [row[0] for row in rows],
        )
    )
    return [
        Hit(
            ref_id=ref_id,
            created=_date(created),
            subject=subjects[ref_id],
            origin=origin,
            classification=classification,
            tags=tuple(tags),
            snippet=" ".join(snippet.split()) if snippet is not None else None,
        )
        for ref_id, created, origin, classification, tags, snippet in rows
    ]


async def random_hit(conn: Connection, filters: Filters, pick: float) -> Hit | None:
    """The cable at fraction `pick` (0 <= pick < 1) of those passing `filters`, in the order
    PostgreSQL reads them (no sort to pay for), or None when none does."""
    where = _Where(filters)
    total = await where.total(conn)
    if total == 0:
        return None
    hits = await _hits(conn, where, None, 1, min(int(pick * total), total - 1))
    return hits[0] if hits else None


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
    "tag": ("g.tag", "n DESC, key"),
}


async def counts(conn: Connection, filters: Filters, by: StatsBy) -> Counts:
    """How many cables pass `filters`, and how many of them fall under each key of `by`
    (a cable counts once per tag: the total is counted apart)."""
    where = _Where(filters)
    key, order = _KEYS[by]
    tags = ", unnest(c.tags) AS g(tag)" if by == "tag" else ""
    rows = await conn.fetch(
        f'SELECT {key} COLLATE "C" AS key, count(*) AS n FROM browse AS c{where.join}{tags}'
        f" WHERE {where.sql} GROUP BY 1 ORDER BY {order}",
        *where.params,
    )
    total = await where.total(conn) if by == "tag" else sum(n for _, n in rows)
    return Counts(total=total, by=by, counts=[Count(key=k, count=n) for k, n in rows])
