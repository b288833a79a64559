"""Finding cables without knowing their IDs: filtered search and browsing, the reference graph,
related cables, a random cable, on this day, and counts, over the SQLite store's tables.

The models and the pure parts (filters, dates, the related-cable scoring) are shared by every
back end; the functions taking a `sqlite3.Connection` run on the store's reader thread.
"""

from __future__ import annotations

import calendar
import math
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Sort = Literal["relevance", "oldest", "newest"]
StatsBy = Literal["year", "month", "origin", "tag", "classification"]


class Filters(BaseModel):
    """Which cables to look at: every given condition must hold (several tags: all of them)."""

    model_config = ConfigDict(frozen=True)

    query: str | None = Field(None, description="Words to find in the subject or body.")
    tags: tuple[str, ...] = Field((), description="TAGS codes the cable must all carry.")
    origin: str | None = Field(None, description="Part of the origin's name, any case.")
    classification: str | None = Field(None, description="How the classification starts.")
    date_from: date | None = Field(None, description="Created on or after this day.")
    date_to: date | None = Field(None, description="Created on or before this day.")
    month_day: str | None = Field(None, description='Created on this day of any year, "MM-DD".')

    @field_validator("query", "origin", "classification")
    @classmethod
    def _stripped(cls, text: str | None) -> str | None:
        """Spaces around a text do not count; an empty text is no condition."""
        return text.strip() or None if text is not None else None

    @field_validator("tags")
    @classmethod
    def _codes(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        """TAGS codes in capitals, each once."""
        return tuple(dict.fromkeys(t.strip().upper() for t in tags if t.strip()))


class Hit(BaseModel):
    """One cable found: what a result line shows."""

    ref_id: str
    created: datetime | None
    subject: str
    origin: str
    classification: str
    tags: tuple[str, ...]
    snippet: str | None = Field(None, description="Matching words in context (with a query).")


class HitPage(BaseModel):
    """One page of results, with how many cables match in all."""

    total: int
    hits: list[Hit]


class Linked(BaseModel):
    """A cable at the other end of a reference; subject and date only when it is stored."""

    ref_id: str
    subject: str | None
    created: datetime | None
    in_store: bool


class Related(BaseModel):
    """A stored cable related to another one, with why."""

    ref_id: str
    subject: str
    created: datetime | None
    score: float
    why: list[str]


class Count(BaseModel):
    """How many matching cables share one key (a year, a month, an origin…); key None: no date."""

    key: str | None
    count: int


class Counts(BaseModel):
    """Counts of the matching cables grouped by one field."""

    total: int
    by: StatsBy
    counts: list[Count]


# pure parts ------------------------------------------------------------------------------


def default_sort(filters: Filters, sort: Sort | None) -> Sort:
    """Relevance with a query, else oldest first (relevance means nothing without words)."""
    if sort is None or (sort == "relevance" and not filters.query):
        return "relevance" if filters.query else "oldest"
    return sort


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date (ValueError naming the text otherwise)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise ValueError(f"{text!r} is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a real date") from None


def parse_month_day(text: str) -> str:
    """A day of the year written MM-DD ("02-29" allowed), returned as MM-DD."""
    match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a day written MM-DD")
    month, day = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise ValueError(f"{text!r} is not a day of the year")
    return f"{month:02d}-{day:02d}"


WEIGHTS = {"cites it": 3.0, "cited by it": 3.0, "cited together": 1.0, "tags": 1.0, "text": 2.0}
"""What each kind of relation adds to a related cable's score (tags: per rare shared tag)."""


def score_related(
    *,
    citing: Iterable[str],
    cited: Iterable[str],
    cocited: Mapping[str, int],
    shared_tags: Mapping[str, Sequence[str]],
    tag_counts: Mapping[str, int],
    cables: int,
    similar: Sequence[str],
) -> list[tuple[str, float, list[str]]]:
    """Rank candidate cables, best first: (ref_id, score, why).

    `citing` cite the cable, `cited` are cited by it, `cocited` maps a cable to how many
    cables cite both; `shared_tags` maps a cable to the tags it shares, each weighing
    log(cables / cables with it) / log(cables) (a tag on every cable weighs nothing);
    `similar` are the cables whose words are closest, closest first.
    """
    scores: dict[str, float] = {}
    why: dict[str, list[str]] = {}

    def add(ref_id: str, score: float, reason: str) -> None:
        scores[ref_id] = scores.get(ref_id, 0.0) + score
        why.setdefault(ref_id, []).append(reason)

    for ref_id in dict.fromkeys(citing):
        add(ref_id, WEIGHTS["cites it"], "cites it")
    for ref_id in dict.fromkeys(cited):
        add(ref_id, WEIGHTS["cited by it"], "cited by it")
    for ref_id, times in cocited.items():
        label = "once" if times == 1 else f"{times} times"
        add(ref_id, WEIGHTS["cited together"] * min(times, 3), f"cited together {label}")
    scale = math.log(cables) if cables > 1 else 1.0
    for ref_id, tags in shared_tags.items():
        weight = sum(math.log(cables / max(tag_counts.get(t, 1), 1)) / scale for t in tags)
        if weight > 0:
            add(ref_id, WEIGHTS["tags"] * weight, f"{len(tags)} shared tag{'s' * (len(tags) > 1)}")
    for rank, ref_id in enumerate(similar):
        add(ref_id, WEIGHTS["text"] * (1 - rank / len(similar)), "similar words")
    ranked = sorted(scores, key=lambda r: (-scores[r], r))
    return [(r, round(scores[r], 3), why[r]) for r in ranked]


_STOP_WORDS = (
    "about after again also among been before being between both could does during each from"
    " have into more most over said says should such than that their them then there these"
    " they this those through under until very were what when where which while will with"
    " would your subject summary"
)
_STOP = frozenset(_STOP_WORDS.split())


def similarity_words(text: str, max_terms: int = 24) -> list[str]:
    """The distinctive words of `text` (longest first), casefolded: no stop word, no number,
    none shorter than four letters."""
    words = {w.casefold() for w in re.findall(r"[^\W\d_]{4,}", text)} - _STOP
    return sorted(words, key=lambda w: (-len(w), w))[:max_terms]


# SQLite ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FullText:
    """Every use of the full-text table, in one place: how it joins the cables, the match
    condition, the ranking and the snippet."""

    join: str = " JOIN cables_fts ON cables_fts.rowid = c.id"
    match: str = "cables_fts MATCH ?"
    rank: str = "bm25(cables_fts)"
    snippet: str = "snippet(cables_fts, -1, '**', '**', '…', 16)"


_FTS = _FullText()


def _like(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


def _where(filters: Filters, *, by_value: bool = True) -> tuple[str, str, list[Any]]:
    """(join, WHERE clause, parameters) selecting the rows `c` of `browse` (see
    `bot.library.store._BROWSE`: one per cable, same id) whose cables pass `filters`.

    `by_value`: let SQLite read the origins and classifications asked for as ranges of their
    indexes (counting); otherwise it tests each row of the index it reads in date order
    (a page stops after `offset + limit` matches instead of sorting all of them)."""
    from bot.library.store import browse_tags, fts_query  # (here: the store imports this module)

    join, conditions, params = "", ["1"], []
    if filters.query:
        match = fts_query(filters.query)
        if match is None:  # only punctuation: nothing can match
            conditions.append("0")
        else:
            join = _FTS.join
            conditions.append(_FTS.match)
            params.append(match)
    for tag in filters.tags:
        conditions.append("instr(c.tags, ?)")
        params.append(browse_tags([tag]))
    if filters.origin:
        conditions.append(f"{'' if by_value else '+'}c.origin IN ({_NAMED})")
        params.append(f"%{_like(filters.origin)}%")
    if filters.classification:
        plus = "" if by_value else "+"
        conditions.append(f"{plus}c.classification IN ({_NAMED})")
        params.append(f"{_like(filters.classification)}%")
    if _dated(filters):
        conditions.append("(c.created IS NULL) = 0")  # (the indexes' first column: a range)
    if filters.date_from is not None:
        conditions.append("c.created >= ?")
        params.append(filters.date_from.isoformat())
    if filters.date_to is not None:
        conditions.append("c.created < ?")
        params.append((filters.date_to + timedelta(days=1)).isoformat())
    if filters.month_day is not None:
        conditions.append("substr(c.created, 6, 5) = ?")
        params.append(filters.month_day)
    return join, " AND ".join(conditions), params


_NAMED = "SELECT code FROM browse_names WHERE name LIKE ? ESCAPE '\\'"
"""The codes of the origins or classifications (`browse_names`, see
`bot.library.store._BROWSE`) whose names are LIKE a parameter: the matching cables are then
ranges of the column's index instead of a test of every cable."""


def _dated(filters: Filters) -> bool:
    """Whether `filters` keep dated cables only (a date range: `(c.created IS NULL) = 0`)."""
    return filters.date_from is not None or filters.date_to is not None


_ORDER: dict[Sort, str] = {  # (the orders of the indexes browse_oldest and browse_newest)
    "relevance": f"{_FTS.rank}, c.created, c.ref_id",
    "oldest": "c.created IS NULL, c.created, c.ref_id",
    "newest": "c.created IS NULL, c.created DESC, c.ref_id",
}


def _order(sort: Sort, filters: Filters) -> str:
    """`_ORDER[sort]`, without its first term when the WHERE sets it (SQLite then reads the
    index in order only without it)."""
    order = _ORDER[sort]
    return order.removeprefix("c.created IS NULL, ") if _dated(filters) else order


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _total(
    conn: sqlite3.Connection, join: str, where: str, params: list[Any], filters: Filters
) -> int:
    if filters == Filters(tags=filters.tags) and len(filters.tags) == 1:  # a range of `tags`
        sql, params = "SELECT count(*) FROM tags WHERE tag = ?", list(filters.tags)
    else:
        sql = f"SELECT count(*) FROM browse AS c{join} WHERE {where}"
    return int(conn.execute(sql, params).fetchone()[0])


def browse(
    conn: sqlite3.Connection, filters: Filters, sort: Sort | None, limit: int, offset: int
) -> HitPage:
    """The cables passing `filters`, `limit` of them from `offset`, and how many in all.

    By relevance, the matches are in the store's search order (`bot.library.store._search`):
    all ranked by BM25 when at most RANK_ALL pass, else those whose subject matches first,
    by BM25 over the subjects, then the others, the last stored first."""
    from bot.library.store import RANK_ALL, fts_query

    sort = default_sort(filters, sort)
    join, where, params = _where(filters)
    total = _total(conn, join, where, params, filters)
    if limit <= 0 or offset >= total:
        return HitPage(total=total, hits=[])
    match = fts_query(filters.query) if join and filters.query else None
    where = _where(filters, by_value=False)[1]
    head, order = "", _order(sort, filters)
    if sort == "relevance" and total > RANK_ALL:
        head = (
            "WITH s AS MATERIALIZED (SELECT rowid AS id, bm25(cables_subject_fts) AS score"
            " FROM cables_subject_fts WHERE cables_subject_fts MATCH ?) "
        )
        params = [match, *params]
        order = "s.score IS NULL, s.score, CASE WHEN s.score IS NULL THEN -c.id ELSE c.id END"
        join += " LEFT JOIN s ON s.id = c.id"
    ids = conn.execute(
        f"{head}SELECT c.id FROM browse AS c{join} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, limit, max(offset, 0)],
    ).fetchall()
    return HitPage(total=total, hits=_hits(conn, [i for (i,) in ids], match))


def _hits(conn: sqlite3.Connection, ids: list[int], match: str | None) -> list[Hit]:
    """The cables of `ids` (`browse` ids, same as `cables`), in that order, with their
    snippets for the FTS5 query `match` (a page only: `cables` rows are large)."""
    snippet, fts = (
        (_FTS.snippet, f"{_FTS.join} WHERE {_FTS.match} AND") if match else ("NULL", " WHERE")
    )
    sql = (
        f"SELECT c.ref_id, c.created, c.subject, c.origin, c.classification, b.tags, {snippet}"
        f" FROM cables AS c JOIN browse AS b ON b.id = c.id{fts} c.id = ?"
    )
    args: list[Any] = [match] if match else []
    return [_hit(conn.execute(sql, [*args, i]).fetchone()) for i in ids]


def _hit(row: Sequence[Any]) -> Hit:
    ref_id, created, subject, origin, classification, tags, snippet = row
    return Hit(
        ref_id=ref_id,
        created=_date(created),
        subject=subject,
        origin=origin,
        classification=classification,
        tags=tuple(t for t in tags.split("|") if t),
        snippet=" ".join(snippet.split()) if snippet is not None else None,
    )


def random_hit(conn: sqlite3.Connection, filters: Filters, pick: float) -> Hit | None:
    """The cable at fraction `pick` (0 <= pick < 1) of those passing `filters`, in the order
    SQLite reads them (no sort to pay for), or None when none does."""
    join, where, params = _where(filters)
    total = _total(conn, join, where, params, filters)
    if total == 0:
        return None
    from bot.library.store import fts_query

    row = conn.execute(
        f"SELECT c.id FROM browse AS c{join} WHERE {where} LIMIT 1 OFFSET ?",
        [*params, min(int(pick * total), total - 1)],
    ).fetchone()
    match = fts_query(filters.query) if join and filters.query else None
    return _hits(conn, [row[0]], match)[0] if row else None


def citations(conn: sqlite3.Connection, ref_id: str) -> list[Linked]:
    """What `ref_id` cites, in the order of its REF line."""
    rows = conn.execute(
        "SELECT r.dst, c.subject, c.created, c.ref_id IS NOT NULL FROM refs AS r"
        " LEFT JOIN cables AS c ON c.ref_id = r.dst WHERE r.src = ? ORDER BY r.pos",
        (ref_id,),
    ).fetchall()
    return [_linked(row) for row in rows]


def citing(conn: sqlite3.Connection, ref_id: str) -> list[Linked]:
    """The stored cables citing `ref_id`, oldest first."""
    rows = conn.execute(
        "SELECT c.ref_id, c.subject, c.created, 1 FROM cables AS c WHERE c.ref_id IN"
        " (SELECT src FROM refs WHERE dst = ?) ORDER BY c.created IS NULL, c.created, c.ref_id",
        (ref_id,),
    ).fetchall()
    return [_linked(row) for row in rows]


def _linked(row: Sequence[Any]) -> Linked:
    ref_id, subject, created, stored = row
    return Linked(ref_id=ref_id, subject=subject, created=_date(created), in_store=bool(stored))


TAG_CANDIDATES = 5_000
"""`related` looks at the cables sharing the rarest tags of a cable, up to this many tag rows
(a tag on most cables says little and would cost a scan of most of the store)."""
SIMILAR_WORDS = 6
"""`related` looks for this many of the rarest words of a cable's subject and summary in the
other cables' subjects."""
SIMILAR_SUBJECTS = 30_000
"""A word found in more subjects than this is not looked for by `related` (it says little, and
the index rows read stay under SIMILAR_WORDS times this)."""


def _similar(
    conn: sqlite3.Connection, ref_id: str, text: str, limit: int, cables: int
) -> list[str]:
    """Stored cables whose subjects share the most distinctive words of `text`, best first.

    The SIMILAR_WORDS rarest words of `text` found in at most SIMILAR_SUBJECTS subjects each
    weigh log(cables / subjects with it); a cable scores the weights of the words its subject
    has (ties: first stored first). Subjects, not bodies: on the full generated store, every
    body word is in most cables, and ranking bodies took seconds."""
    found: list[tuple[int, str]] = []
    for word in similarity_words(text):
        quoted = f'"{word}"'
        count = conn.execute(
            "SELECT count(*) FROM cables_subject_fts WHERE cables_subject_fts MATCH ?", (quoted,)
        ).fetchone()[0]
        if 0 < count <= SIMILAR_SUBJECTS:
            found.append((count, word))
    chosen = sorted(found)[:SIMILAR_WORDS]
    if not chosen:
        return []
    union = " UNION ALL ".join(
        ["SELECT rowid AS id, ? AS w FROM cables_subject_fts WHERE cables_subject_fts MATCH ?"]
        * len(chosen)
    )
    weights = [v for count, word in chosen for v in (math.log(cables / count), f'"{word}"')]
    own = conn.execute("SELECT id FROM cables WHERE ref_id = ?", (ref_id,)).fetchone()
    best = conn.execute(
        f"SELECT id FROM ({union}) WHERE id != ? GROUP BY id ORDER BY sum(w) DESC, id LIMIT ?",
        (*weights, own[0] if own else 0, limit),
    ).fetchall()
    names = dict(
        conn.execute(
            f"SELECT id, ref_id FROM cables WHERE id IN ({','.join('?' * len(best))})",
            [i for (i,) in best],
        ).fetchall()
    )
    return [names[i] for (i,) in best]


def rare_tags(counts: dict[str, int]) -> list[str]:
    """The rarest tags whose cables add up to at most TAG_CANDIDATES."""
    chosen, rows = [], 0
    for tag, count in sorted(counts.items(), key=lambda kv: (kv[1], kv[0])):
        rows += count
        if rows > TAG_CANDIDATES:
            break
        chosen.append(tag)
    return chosen


def related(conn: sqlite3.Connection, ref_id: str, limit: int) -> list[Related] | None:
    """Stored cables related to `ref_id`, best first; None when `ref_id` is not stored."""
    row = conn.execute(
        "SELECT subject, json_extract(cable_meta(text), '$.summary') FROM cables WHERE ref_id = ?",
        (ref_id,),
    ).fetchone()
    if row is None:
        return None

    def column(sql: str, *params: Any) -> list[Any]:
        return [r[0] for r in conn.execute(sql, params)]

    (tags,) = conn.execute(
        "SELECT b.tags FROM browse AS b JOIN cables AS c ON c.id = b.id WHERE c.ref_id = ?",
        (ref_id,),
    ).fetchone()
    tag_counts: dict[str, int] = {
        tag: conn.execute("SELECT count(*) FROM tags WHERE tag = ?", (tag,)).fetchone()[0]
        for tag in tags.split("|")
        if tag
    }
    cables = int(conn.execute("SELECT count(*) FROM cables").fetchone()[0])
    rare = rare_tags(tag_counts)
    shared: dict[str, list[str]] = {}
    for other, tag in conn.execute(
        f"SELECT ref_id, tag FROM tags WHERE tag IN ({','.join('?' * len(rare))}) AND ref_id != ?",
        (*rare, ref_id),
    ):
        shared.setdefault(other, []).append(tag)
    ranked = score_related(
        citing=column("SELECT src FROM refs WHERE dst = ? AND src != ?", ref_id, ref_id),
        cited=column("SELECT dst FROM refs WHERE src = ? AND dst != ?", ref_id, ref_id),
        cocited=dict(
            conn.execute(
                "SELECT b.dst, count(DISTINCT b.src) FROM refs AS a JOIN refs AS b"
                " ON b.src = a.src WHERE a.dst = ?1 AND b.dst != ?1 GROUP BY b.dst",
                (ref_id,),
            ).fetchall()
        ),
        shared_tags=shared,
        tag_counts=tag_counts,
        cables=cables,
        similar=_similar(conn, ref_id, f"{row[0]} {row[1] or ''}", 20, cables),
    )
    found: list[Related] = []
    for start in range(0, len(ranked), 500):  # stored cables only, until `limit` are found
        chunk = ranked[start : start + 500]
        names = [r for r, _, _ in chunk]
        stored = {
            r: (s, c)
            for r, s, c in conn.execute(
                "SELECT ref_id, subject, created FROM cables WHERE ref_id IN"
                f" ({','.join('?' * len(names))})",
                names,
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


_KEYS: dict[StatsBy, tuple[str, str]] = {  # the group, and the order of the groups
    "year": ("substr(c.created, 1, 4)", "key IS NULL, key"),
    "month": ("substr(c.created, 1, 7)", "key IS NULL, key"),
    "origin": ("c.origin", "n DESC, key"),
    "classification": ("c.classification", "n DESC, key"),
}


def counts(conn: sqlite3.Connection, filters: Filters, by: StatsBy) -> Counts:
    """How many cables pass `filters`, and how many of them fall under each key of `by`."""
    join, where, params = _where(filters)
    if by == "tag":
        return _tag_counts(conn, join, where, params)
    if by in ("year", "month") and not (join or filters.origin or filters.classification):
        where = _where(filters, by_value=False)[1]
        rows = _period_counts(conn, filters, where, params, 4 if by == "year" else 7)
    else:  # (a GROUP BY sorts the matches: few with words, an origin or a classification)
        group, order = _KEYS[by]
        key = group
        if by in ("origin", "classification"):  # (codes: their names)
            key = f"(SELECT name FROM browse_names WHERE code = {group})"
        if by == "origin" and filters.tags:  # (not in browse_origin: scan an index with tags)
            group = f"+{group}"
        rows = conn.execute(
            f"SELECT {key} AS key, count(*) AS n FROM browse AS c{join} WHERE {where}"
            f" GROUP BY {group} ORDER BY {order}",
            params,
        ).fetchall()
    total = sum(n for _, n in rows)  # (every cable falls under one key, None included)
    return Counts(total=total, by=by, counts=[Count(key=k, count=n) for k, n in rows])


def _period_counts(
    conn: sqlite3.Connection, filters: Filters, where: str, params: list[Any], width: int
) -> list[tuple[str | None, int]]:
    """Counts by the first `width` characters of the created date (4: year, 7: month), one
    range of the index in date order each (a GROUP BY of the keys sorts every match first),
    from the first to the last date of the store or of `filters`."""
    first, last = (
        conn.execute(
            f"SELECT c.created FROM browse AS c WHERE (c.created IS NULL) = 0 ORDER BY {o} LIMIT 1"
        ).fetchone()
        for o in ("c.created", "c.created DESC")
    )
    keys: list[tuple[str, str]] = []
    if first is not None and last is not None:
        start, end = first[0][:width], last[0][:width]
        if filters.date_from is not None:
            start = max(start, filters.date_from.isoformat()[:width])
        if filters.date_to is not None:
            end = min(end, filters.date_to.isoformat()[:width])
        keys = _periods(start, end)
    rows: list[tuple[str | None, int]] = []
    if keys:  # (the range first: SQLite searches the index with the first range it is given)
        rows = conn.execute(
            f"WITH k(key, after) AS (VALUES {', '.join(['(?, ?)'] * len(keys))})"
            " SELECT key, (SELECT count(*) FROM browse AS c WHERE (c.created IS NULL) = 0"
            f" AND c.created >= k.key AND c.created < k.after AND {where}) AS n FROM k",
            [*(x for pair in keys for x in pair), *params],
        ).fetchall()
    undated = conn.execute(
        f"SELECT count(*) FROM browse AS c WHERE (c.created IS NULL) = 1 AND {where}", params
    ).fetchone()[0]
    return [(k, n) for k, n in rows if n] + ([(None, undated)] if undated else [])


def _periods(first: str, last: str) -> list[tuple[str, str]]:
    """Every year ("YYYY") or month ("YYYY-MM") from `first` to `last`, each with the next."""
    year, month = int(first[:4]), int(first[5:7] or 0)
    out: list[tuple[str, str]] = []
    key = first
    while key <= last:
        year, month = (year + 1, month) if not month else (year + month // 12, month % 12 + 1)
        after = f"{year:04d}-{month:02d}" if month else f"{year:04d}"
        out.append((key, after))
        key = after
    return out


def _tag_counts(conn: sqlite3.Connection, join: str, where: str, params: list[Any]) -> Counts:
    """Counts by tag: of every cable from `tags`, one range count per tag; of some cables,
    from the tags of their `browse` rows (one scan, no join with `tags`)."""
    if not join and where == "1":
        rows = conn.execute(
            "WITH RECURSIVE t(tag) AS (SELECT min(tag) FROM tags UNION ALL"
            " SELECT (SELECT min(tag) FROM tags WHERE tag > t.tag) FROM t WHERE t.tag IS NOT NULL)"
            " SELECT tag, (SELECT count(*) FROM tags AS o WHERE o.tag = t.tag) AS n FROM t"
            " WHERE tag IS NOT NULL ORDER BY n DESC, tag"
        ).fetchall()
        total = int(conn.execute("SELECT count(*) FROM browse").fetchone()[0])
    else:
        total, tags = conn.execute(
            f"SELECT count(*), group_concat(c.tags, '') FROM browse AS c{join} WHERE {where}",
            params,
        ).fetchone()
        found = Counter((tags or "").split("|"))
        found.pop("", None)
        rows = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    return Counts(total=total, by="tag", counts=[Count(key=k, count=n) for k, n in rows])
