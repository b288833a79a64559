"""The embedded cable store: one SQLite file (WAL), versioned schema, async access.

Where each query runs, by design rather than by pinning threads to a CPU:
- Primary-key reads (`get`, `month_of`, `cites`, guild settings, `followed`) run on the event
  loop's own read connection, opened by `CableStore.open` on the loop's thread and used by that
  thread only. Such a read costs a few hundred microseconds of CPU, less than handing it to a
  thread and being woken up again, which on a busy host waits for the scheduler (with the
  threads pinned to one CPU and other work on the machine, `get` p99 was 4.8 ms). It never
  waits for a lock: SQLite busy (a checkpoint resetting the log), it goes to the reader thread,
  and so does a cable longer than LOOP_TEXT_LIMIT compressed bytes.
- Searches, the reference graph's reverse lookups, stats, completions and every write run on
  two threads (one reader, one writer), so a slow query never holds up the loop. Writes are
  batched: one transaction per `put`, carrying an optional import checkpoint.

Measured with a small script that times each read's CPU time on the loop's thread (the stall it
causes), on the 390 real cables of ../shared/corpus/pages each read 10 times, on a 2-CPU VM
shared with other busy processes: `get` p50 0.24 ms, p99 0.45 ms, p99.9 0.58 ms; `month_of`,
`cites`, guild settings and `followed` p99.9 under 0.15 ms. In such runs a bare
`await asyncio.sleep(0)` took up to 8 ms of wall time at p99.9: on a busy host the scheduler,
not the store, makes the loop's longest stalls.

Size (see bot.library.packed and `PAGE_SIZE`): the corpus pages (4.09 MB of header and body)
make a 4.03 MB store, 0.99x (schema 4: 13.1 MB, 3.2x; schema 5 with zlib, whole paragraph texts
and 4 KB pages: 1.13x); the full generated dump (1,677 MB) a 0.74x store (bench/store.py).

Search (schema 7) returns what the query and the store decide, never what a clock decides.
Measured on the full generated store (251,287 cables), CPU time of one query on a busy 2-CPU VM:
counting the matches of a plain word reads no positions (5 ms for `minister`, in 244,443
cables); the phrase `"border police"` reads the positions of two words found in 237,671 cables
(41 ms for its 12,921 matches). BM25 over every match costs per match (its positions, its row
of sizes) plus one more pass per phrase for its IDF: `minister` 155 ms, `election violence` 200
ms, the phrase 93 ms; `ORDER BY rank` took twice as long as `ORDER BY bm25()`; the query of
schema 5 also built a snippet (a body decompressed) for every match before sorting. Merging the
index into one segment (`optimize`) and memory-mapping the file changed nothing measurable
(the imported index is merged already, its pages cached); `detail=column` would lose phrases.
So (`_search`): a query matching at most RANK_ALL cables ranks them all by BM25; one matching
more ranks the cables whose subject matches by BM25 over a small index of the subjects (6 MB),
then the others, the last stored first; snippets are made for the page only. CPU per search:
`quokka` 0.8 ms, `refinery` 1.5 ms, the phrase 20 ms, `minister` 20 ms, `election violence` 5 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, partial
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeVar

from pydantic import BaseModel

try:
    import fcntl
except ImportError:  # (not on Windows: no lock file there)
    fcntl = None  # type: ignore[assignment]

from bot.library import discover, packed
from parsers.models import Cable, Paragraph

T = TypeVar("T")

log = logging.getLogger(__name__)

_SCHEMA_V1 = """
CREATE TABLE cables (
    id INTEGER PRIMARY KEY,
    ref_id TEXT NOT NULL UNIQUE,
    created TEXT,
    released TEXT,
    classification TEXT NOT NULL,
    origin TEXT NOT NULL,
    subject TEXT NOT NULL,
    meta TEXT NOT NULL,
    header TEXT NOT NULL,
    body TEXT NOT NULL,
    hash BLOB NOT NULL
);
CREATE TABLE paragraphs (
    ref_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    number INTEGER NOT NULL,
    marking TEXT,
    text TEXT NOT NULL,
    PRIMARY KEY (ref_id, seq)
) WITHOUT ROWID;
CREATE TABLE tags (
    tag TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    PRIMARY KEY (tag, ref_id)
) WITHOUT ROWID;
CREATE INDEX tags_ref ON tags (ref_id);
CREATE TABLE refs (
    src TEXT NOT NULL,
    pos INTEGER NOT NULL,
    dst TEXT NOT NULL,
    PRIMARY KEY (src, pos)
) WITHOUT ROWID;
CREATE INDEX refs_dst ON refs (dst, src);
CREATE TABLE months (
    ref_id TEXT PRIMARY KEY,
    month INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12)
) WITHOUT ROWID;
CREATE TABLE guild_settings (
    guild_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE imports (
    source TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    position INTEGER NOT NULL,
    row INTEGER NOT NULL,
    imported INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    errors INTEGER NOT NULL
);
CREATE VIRTUAL TABLE cables_fts USING fts5 (
    subject, body, content='cables', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER cables_ai AFTER INSERT ON cables BEGIN
    INSERT INTO cables_fts (rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;
CREATE TRIGGER cables_ad AFTER DELETE ON cables BEGIN
    INSERT INTO cables_fts (cables_fts, rowid, subject, body)
    VALUES ('delete', old.id, old.subject, old.body);
END;
CREATE TRIGGER cables_au AFTER UPDATE OF subject, body ON cables BEGIN
    INSERT INTO cables_fts (cables_fts, rowid, subject, body)
    VALUES ('delete', old.id, old.subject, old.body);
    INSERT INTO cables_fts (rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;
"""

_V2_PARAGRAPHS_IN_ROWID_ORDER = """
CREATE TABLE paragraphs_v2 (
    ref_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    number INTEGER NOT NULL,
    marking TEXT,
    text TEXT NOT NULL
);
INSERT INTO paragraphs_v2 (ref_id, seq, number, marking, text)
    SELECT ref_id, seq, number, marking, text FROM paragraphs ORDER BY ref_id, seq;
DROP TABLE paragraphs;
ALTER TABLE paragraphs_v2 RENAME TO paragraphs;
CREATE UNIQUE INDEX paragraphs_ref ON paragraphs (ref_id, seq);
"""
"""Paragraph texts are appended in rowid order (dense pages, one cable's paragraphs together)
instead of a WITHOUT ROWID tree split by random ref_id inserts (half-empty pages)."""

_V3_REPLIES = """
CREATE TABLE replies (
    trigger_id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    reply_id INTEGER NOT NULL,
    author_id INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX replies_reply ON replies (reply_id);
CREATE INDEX replies_at ON replies (at);
"""
"""Which bot reply answers which message, so edits and deletes are followed across restarts."""

_V4_FTS_WRITTEN_BY_PUT = """
DROP TRIGGER cables_ai;
DROP TRIGGER cables_ad;
DROP TRIGGER cables_au;
"""
"""The search index is written by `put` in one statement per batch: per-row triggers made
indexing three times slower than the index itself."""

MIGRATIONS: tuple[str, ...] = (
    _SCHEMA_V1,
    _V2_PARAGRAPHS_IN_ROWID_ORDER,
    _V3_REPLIES,
    _V4_FTS_WRITTEN_BY_PUT,
)
"""SQL migration scripts of the stores before version 5; MIGRATIONS[i] moves the schema from
version i to i + 1. Version 4 to 5 is `_rewrite` (the store is rebuilt into a new file); the
later versions are `LATER_STEPS`."""

REWRITTEN_VERSION = len(MIGRATIONS) + 1
"""The version `_rewrite` makes, and the one whose layout `_SCHEMA` is."""

_BROWSE = """
CREATE TABLE browse_names (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE browse (
    id INTEGER PRIMARY KEY,
    ref_id TEXT NOT NULL,
    created TEXT,
    origin INTEGER NOT NULL,
    classification INTEGER NOT NULL,
    tags TEXT NOT NULL
);
CREATE INDEX browse_oldest ON browse (
    created IS NULL, created, ref_id, origin, classification, tags
);
CREATE INDEX browse_newest ON browse (
    created IS NULL, created DESC, ref_id, origin, classification, tags
);
CREATE INDEX browse_day ON browse (substr(created, 6, 5), created IS NULL, created, ref_id);
CREATE INDEX browse_origin ON browse (origin, classification, created);
CREATE INDEX browse_classification ON browse (classification, origin, created, tags);
"""
"""What browsing reads (`bot.library.discover`): one narrow row per cable (same id), its origin
and classification as codes of their names in `browse_names` (a byte each instead of 27 on
average, in the table and each index), its tags in one text (`browse_tags`), and covering
indexes for each order and grouping (browse_origin has no tags: the cables of one origin are
few enough to look up). On the 251,287-cable generated store, a `count(*)` that joined `tags`
to `cables` took 170 ms (one B-tree search per tagged cable) and one that read `cables` rows
(their compressed texts spread over 1 GB of pages) seconds; any filter over these indexes is
one scan of 17 MB at most. Written by `_put` with the cable and its tags. 86 MB on that store,
and dropping `tags_ref` gives 26 MB back (a cable's tags are in its browse row)."""


def browse_tags(tags: Iterable[str]) -> str:
    """A cable's tags as `browse.tags` keeps them: sorted, each between bars ("|MX|PGOV|"), so
    that `instr(tags, '|PGOV|')` finds one; no tag: "||"."""
    return f"|{'|'.join(sorted(set(tags)))}|"


_CODE = "(SELECT code FROM browse_names WHERE name = {})"
"""The code in `browse_names` of the text of an SQL expression."""


def _add_browse_indexes(conn: sqlite3.Connection) -> None:
    """Version 7 to 8: the `browse` table and its indexes, filled from the stored cables (seconds
    for the full 251,287 cables: only the narrow columns of `cables` are read); `tags_ref` goes
    (what read it reads the browse rows now)."""
    for statement in _statements(_BROWSE):
        conn.execute(statement)
    conn.execute(
        "INSERT INTO browse_names (name) SELECT origin FROM cables"
        " UNION SELECT classification FROM cables"
    )
    conn.execute(
        f"INSERT INTO browse (id, ref_id, created, origin, classification, tags)"
        f" SELECT id, ref_id, created, {_CODE.format('origin')}, {_CODE.format('classification')},"
        " '|' || coalesce((SELECT group_concat(tag, '|') FROM (SELECT tag FROM tags"
        " WHERE ref_id = c.ref_id ORDER BY tag)), '') || '|' FROM cables AS c ORDER BY id"
    )
    conn.execute("DROP INDEX tags_ref")


_SCHEMA = """
CREATE TABLE cables (
    id INTEGER PRIMARY KEY,
    ref_id TEXT NOT NULL UNIQUE,
    created TEXT,
    released TEXT,
    classification TEXT NOT NULL,
    origin TEXT NOT NULL,
    subject TEXT NOT NULL,
    paragraphs INTEGER NOT NULL,
    hash BLOB NOT NULL,
    text BLOB NOT NULL
);
CREATE TABLE tags (
    tag TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    PRIMARY KEY (tag, ref_id)
) WITHOUT ROWID;
CREATE INDEX tags_ref ON tags (ref_id);
CREATE TABLE refs (
    src TEXT NOT NULL,
    pos INTEGER NOT NULL,
    dst TEXT NOT NULL,
    PRIMARY KEY (src, pos)
) WITHOUT ROWID;
CREATE INDEX refs_dst ON refs (dst, src);
CREATE TABLE guild_settings (
    guild_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE imports (
    source TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    position INTEGER NOT NULL,
    row INTEGER NOT NULL,
    imported INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    errors INTEGER NOT NULL
);
CREATE TABLE replies (
    trigger_id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    reply_id INTEGER NOT NULL,
    author_id INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX replies_reply ON replies (reply_id);
CREATE INDEX replies_at ON replies (at);
CREATE VIEW cables_text (id, body, subject) AS SELECT id, cable_body(text), subject FROM cables;
CREATE VIRTUAL TABLE cables_fts USING fts5 (
    body, subject, content='cables_text', content_rowid='id', detail=full,
    tokenize='unicode61 remove_diacritics 2'
);
"""
"""The layout of schema version 5, which a new store starts from (then `LATER_STEPS`). Stores
made before had a `months` table too (nothing filled it since the month index became built in):
it stays there, unread.

A cable's texts are kept once, compressed: `text` is one blob of header, body, header fields
and paragraphs, whose texts point into the body (bot.library.packed). SQL reads the body and the
header fields with `cable_body(text)` and `cable_meta(text)`.

The search index keeps positions (`detail=full`: phrase queries, snippets) and indexes each
text once; its content is read through the `cables_text` view, which decompresses a body with
the `cable_body` SQL function (registered on every connection by `_register`). The body is its
first column: FTS5 marks every position list outside column 0, so body-first makes the index a
fifth smaller than subject-first."""


def _v6_jobs(conn: sqlite3.Connection) -> None:
    """Version 5 to 6: the `jobs` table, where once-a-day work is claimed (`claim_job`); the
    primary key lets exactly one of the processes sharing the store insert a given row."""
    conn.execute(
        "CREATE TABLE jobs (name TEXT NOT NULL, day TEXT NOT NULL, guild_id INTEGER NOT NULL,"
        " PRIMARY KEY (name, day, guild_id)) WITHOUT ROWID"
    )


_V7_SUBJECT_INDEX = """
CREATE VIRTUAL TABLE cables_subject_fts USING fts5 (
    subject, content='cables', content_rowid='id', detail=full,
    tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO cables_subject_fts (cables_subject_fts) VALUES ('rebuild');
"""


def _v7_subject_index(conn: sqlite3.Connection) -> None:
    """Version 6 to 7: `cables_subject_fts`, a small full-text index of the subjects alone (same
    tokenizer as `cables_fts`), to rank the matches of common words cheaply (see `_search`).
    Built in place, once the disk is seen to have room: it only adds pages, nothing to give
    back. On the full generated store: 9.7 MB more (0.7%), built in 9 s."""
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    if path:  # (not an in-memory schema)
        subjects = conn.execute("SELECT coalesce(sum(length(subject)), 0) FROM cables")
        _check_free(Path(path), int(subjects.fetchone()[0]), "6 to 7")  # ~0.6x, plus the log
    for statement in _statements(_V7_SUBJECT_INDEX):
        conn.execute(statement)


LATER_STEPS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _v6_jobs,
    _v7_subject_index,
    _add_browse_indexes,
)
"""Migrations after the version-5 rewrite: LATER_STEPS[i] moves the schema from version
REWRITTEN_VERSION + i to the next, inside the migration's transaction."""

SCHEMA_VERSION = REWRITTEN_VERSION + len(LATER_STEPS)


def build_schema(conn: sqlite3.Connection, version: int) -> None:
    """Create schema `version` as the code of that version made it, in the empty database
    `conn` (with the SQL functions registered): a new store, or an old one for the tests."""
    for script in MIGRATIONS[:version] if version < REWRITTEN_VERSION else (_SCHEMA,):
        for statement in _statements(script):
            conn.execute(statement)
    for step in LATER_STEPS[: max(version - REWRITTEN_VERSION, 0)]:
        step(conn)


PAGE_SIZE = 2048
"""Of a new store. Most cables pack into 1 to 5 KB, and a row that does not fill its leaf page
leaves the rest empty: with 4 KB pages a quarter of the table's leaf space was empty on the
corpus pages (16 KB: a fifth of all its pages). 2 KB pages make the corpus-page store 5% smaller
(1.046x -> 0.993x of its text) and a 30,000-cable generated one 7% (0.79x -> 0.73x of the dump),
with the same CPU per `get` (0.085 ms) and per search, measured interleaved on the same stores.
FTS5's own 4,050-byte leaves are left as they are: 2,000-byte ones made the index larger."""

_CABLE_COLUMNS = (
    "ref_id, created, released, classification, origin, subject, paragraphs, hash, text"
)
_GET = f"SELECT {_CABLE_COLUMNS} FROM cables WHERE ref_id = ?"
_META_FIELDS = (
    "tags",
    "references",
    "precedence",
    "date_time_group",
    "sender",
    "to",
    "info",
    "caveats",
    "summary",
)


class StoreError(Exception):
    """The store file cannot be used (unreadable, newer schema, not a Cablebot store)."""


class StoreWriteError(StoreError):
    """A write failed (disk full, I/O error…); its transaction was rolled back."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        """Short and lower case, e.g. "disk is full", to be placed in a longer sentence."""


_REASONS = {
    "SQLITE_FULL": "disk is full",
    "SQLITE_IOERR": "disk I/O error",
    "SQLITE_READONLY": "the store is read-only",
    "SQLITE_BUSY": "the store is locked by another process",
    "SQLITE_CORRUPT": "the store is damaged",
}


def _reason(exc: sqlite3.Error) -> str:
    """What went wrong in a few words: SQLite's error class, else its message."""
    name = getattr(exc, "sqlite_errorname", "")  # SQLITE_IOERR_WRITE is an SQLITE_IOERR
    for code, reason in _REASONS.items():
        if name == code or name.startswith(f"{code}_"):
            return reason
    return str(exc)


class SearchHit(BaseModel):
    """One full-text search result."""

    ref_id: str
    subject: str
    created: datetime | None
    snippet: str


class LibraryStats(BaseModel):
    """Counts describing what the store holds."""

    cables: int
    paragraphs: int
    references: int
    tags: int
    first_created: datetime | None
    last_created: datetime | None
    size_bytes: int
    schema_version: int


class FollowedReply(NamedTuple):
    """Where the bot's reply to a message is, and who wrote that message."""

    channel_id: int
    reply_id: int
    author_id: int


@dataclass(frozen=True)
class PutResult:
    """What one `put` did: new cables, changed cables, unchanged cables."""

    imported: int = 0
    updated: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class Checkpoint:
    """Where an import of `source` stands; committed with the batch it follows."""

    source: str
    fingerprint: str
    position: int
    row: int
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0


@dataclass(frozen=True, slots=True)
class PreparedCable:
    """A cable turned into the rows the store writes (cheap to pickle between processes)."""

    ref_id: str
    row: tuple[Any, ...]
    hash: bytes
    paragraphs: tuple[tuple[int, str | None, str], ...]
    tags: tuple[str, ...]
    references: tuple[str, ...]
    text: bytes | None
    """Header, body and paragraphs packed (bot.library.packed): done where the cable is parsed,
    so the importer's parsing processes compress, not its one writer. None when not asked for
    (a store that keeps its texts as columns); `stored` then packs them."""

    @classmethod
    def of(cls, cable: Cable, *, pack: bool = True) -> PreparedCable:
        """The rows for `cable`, with a digest of all of them: equal digests, nothing changed;
        its texts compressed for this store when `pack`."""
        row = _cable_row(cable)
        paragraphs = tuple((p.number, p.marking, p.text) for p in cable.paragraphs)
        digest = hashlib.sha256(  # the short values by repr, the long texts as they are
            repr((row[:7], [p[:2] for p in paragraphs], cable.tags, cable.references)).encode()
        )
        digest.update("\0".join((row[7], row[8], *(p[2] for p in paragraphs))).encode())
        return cls(
            cable.ref_id,
            row,
            digest.digest()[:16],
            paragraphs,
            cable.tags,
            cable.references,
            packed.pack(row[7], row[8], row[6], paragraphs) if pack else None,
        )

    @property
    def stored(self) -> tuple[Any, ...]:
        """The values of the `cables` columns `_CABLE_COLUMNS`."""
        text = self.text or packed.pack(self.row[7], self.row[8], self.row[6], self.paragraphs)
        return (*self.row[:6], len(self.paragraphs), self.hash, text)


def fts_query(text: str, max_terms: int = 32) -> str | None:
    """Turn what a user typed into a safe FTS5 query (words ANDed, "phrases" kept, word*)."""
    terms: list[str] = []
    for match in re.finditer(r'"([^"]*)"?|(\w+)(\*?)', text):
        phrase, word, star = match.groups()
        if word:
            terms.append(f'"{word}"{star}')
        elif phrase is not None:
            words = re.findall(r"\w+", phrase)
            if words:
                terms.append('"' + " ".join(words) + '"')
    return " ".join(terms[:max_terms]) or None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _cable_row(cable: Cable) -> tuple[Any, ...]:
    meta = {name: getattr(cable, name) for name in _META_FIELDS}
    return (
        cable.ref_id,
        _iso(cable.created),
        _iso(cable.released),
        cable.classification,
        cable.origin,
        cable.subject,
        json.dumps(meta, separators=(",", ":")),
        cable.header,
        cable.body,
    )


def _cable_body(text: bytes) -> str:
    """SQL function `cable_body(text)`: the body, for the search index's content view."""
    return packed.body(text)


def _cable_meta(text: bytes) -> str:
    """SQL function `cable_meta(text)`: the header fields (tags, summary…) as JSON text."""
    return json.dumps(packed.fields(text))


def register_functions(conn: sqlite3.Connection) -> None:
    """Make the SQL functions the schema uses known to `conn`: every connection to a store
    needs them to search it (also tools and tests reading the file directly)."""
    conn.create_function("cable_body", 1, _cable_body, deterministic=True)
    conn.create_function("cable_meta", 1, _cable_meta, deterministic=True)


def _build_cable(row: Sequence[Any]) -> Cable:
    ref_id, created, released, classification, origin, subject, _, _, text = row
    header, body, extra, paragraphs = packed.unpack(text)
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
        paragraphs=tuple(
            Paragraph.model_construct(number=n, marking=m, text=t) for n, m, t in paragraphs
        ),
        **extra,
    )


def _connect(path: Path, *, writer: bool, same_thread: bool = False) -> sqlite3.Connection:
    """A connection to the store. The writer's first refuses a file that is not a Cablebot
    store, reading only: the switch to WAL below writes to the file."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=same_thread)
    register_functions(conn)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        if writer:
            if _schema_version(conn, path) == 0:  # a new store (setting these again writes)
                conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # (see `_give_back`)
            conn.execute("PRAGMA journal_mode = WAL")
            # checkpoint every 64 MB of log, not 4 MB: an import copies pages back 16x less often
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            conn.execute(f"PRAGMA wal_autocheckpoint = {(64 << 20) // page_size}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -32000")
    except BaseException:
        conn.close()
        raise
    return conn


def _connect_here(path: Path, *, readonly: bool) -> sqlite3.Connection:
    """The event loop's read connection: usable by the opening thread only, and never waiting
    on a lock (`CableStore._quick` hands a busy read to the reader thread)."""
    conn = (
        _connect_readonly(path, same_thread=True)
        if readonly
        else _connect(path, writer=False, same_thread=True)
    )
    conn.execute("PRAGMA busy_timeout = 0")
    return conn


def _connect_readonly(path: Path, *, same_thread: bool = False) -> sqlite3.Connection:
    """A connection that never writes, to a store that cannot be written (read-only media or
    folder). `mode=ro` still reads a log left beside the file; where the shared-memory file
    that needs cannot be created, `immutable=1` reads the file alone."""
    try:
        return _connect_uri(path, "mode=ro", same_thread)
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorname", "") != "SQLITE_CANTOPEN":
            raise
        return _connect_uri(path, "immutable=1", same_thread)


def _connect_uri(path: Path, option: str, same_thread: bool) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?{option}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=same_thread)
    register_functions(conn)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        version = _schema_version(conn, path)
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"{path}: the store is read-only and at schema version {version}, not"
                f" {SCHEMA_VERSION}: open it once where it can be written, to migrate it"
            )
        conn.execute("PRAGMA cache_size = -32000")
    except BaseException:
        conn.close()
        raise
    return conn


@cache
def _tables(version: int) -> frozenset[str]:
    """The tables a store at schema `version` has."""
    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    build_schema(conn, version)
    tables = frozenset(
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    )
    conn.close()
    return tables


def _schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """The store's schema version (0: an empty file, a new store), reading only; a file that
    is not a Cablebot store, or a newer one, is refused."""
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") != "SQLITE_NOTADB":
            raise
        raise StoreError(f"{path}: not a Cablebot store (not a SQLite database)") from exc
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 and not tables:
        return 0
    if version > SCHEMA_VERSION and "cables" in tables:
        raise StoreError(
            f"{path}: the store has schema version {version}, newer than this cablebot"
            f" ({SCHEMA_VERSION})"
        )
    if not 0 < version <= SCHEMA_VERSION or not _tables(version) <= tables:
        names = sorted(tables)
        found = ", ".join(names[:6]) + (", …" if len(names) > 6 else "") if names else "none"
        raise StoreError(
            f"{path}: not a Cablebot store (a SQLite database at user_version {version},"
            f" tables: {found})"
        )
    return version


PAUSE_MIGRATION = "TEST_CABLEBOT_PAUSE_MIGRATION"
"""Test hook: with this set to FILE, a migration creates FILE.paused once it has read the
schema version, then waits until FILE exists before taking the write lock. (Not named
CABLEBOT_…: it is no setting.)"""

Progress = Callable[[int, int], None]
"""Called with (cables done, cables in all) while a migration rewrites the store."""


class _StoreLock:
    """`STORE.lock` beside the store: each process holds it shared while it has the store open,
    and a migration holds it alone, since it replaces the file (and its log) by a new one. The
    last process to close the store removes it. Where it cannot be made (a read-only folder)
    or without `fcntl`, nothing is locked: nothing is migrated there either."""

    def __init__(self, path: Path) -> None:
        self.path = Path(f"{path}.lock")
        self._fd: int | None = None

    def shared(self) -> None:
        """Hold the lock shared (waiting for a migration to finish)."""
        self._take(fcntl.LOCK_SH if fcntl is not None else 0)

    def alone(self, store: Path, wait: float = 30.0) -> None:
        """Hold the lock alone, waiting up to `wait` seconds for other processes to close the
        store (StoreError if they do not)."""
        give_up = time.monotonic() + wait
        while fcntl is not None and not self._take(fcntl.LOCK_EX | fcntl.LOCK_NB):
            if time.monotonic() > give_up:
                raise StoreError(
                    f"{store}: the store must be migrated, and another process has it open:"
                    " stop it (the bot, an import) and try again"
                )
            time.sleep(0.05)

    def _take(self, how: int) -> bool:
        """Lock the file `how`; False when LOCK_NB and it is held. The file is opened again
        when the process that closed the store last removed it meanwhile."""
        while fcntl is not None:
            if self._fd is None:
                try:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                except OSError:
                    return True  # (read-only folder)
            try:
                fcntl.flock(self._fd, how)
            except BlockingIOError:
                return False
            with contextlib.suppress(OSError):
                if os.stat(self.path).st_ino == os.fstat(self._fd).st_ino:
                    return True
            os.close(self._fd)
            self._fd = None
        return True

    def release(self) -> None:
        if self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Let go of the lock, removing the file when no other process holds it (idempotent)."""
        if self._fd is None or fcntl is None:
            return
        with contextlib.suppress(BlockingIOError):
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def _migrate(conn: sqlite3.Connection, path: Path, progress: Progress | None) -> bool:
    """Bring the schema to SCHEMA_VERSION, one transaction per version; True when the store was
    rewritten into a new file (reconnect). Each step reads the version again under the write
    lock: another process may have migrated meanwhile."""
    while True:
        if _schema_version(conn, path) == len(MIGRATIONS):
            return _rewrite(conn, path, progress)
        with _transaction(conn):
            version = _schema_version(conn, path)
            if version == SCHEMA_VERSION:
                return False
            if version == len(MIGRATIONS):
                continue
            if version == 0:
                build_schema(conn, SCHEMA_VERSION)
                version = SCHEMA_VERSION
            elif version < len(MIGRATIONS):
                for statement in _statements(MIGRATIONS[version]):
                    conn.execute(statement)
                version += 1
            else:
                LATER_STEPS[version - REWRITTEN_VERSION](conn)
                version += 1
            conn.execute(f"PRAGMA user_version = {version}")


def stored_schema(path: Path) -> int:
    """The schema version of the store at `path`, read without changing anything (0: an empty
    file); StoreError when it is no Cablebot store or a newer one."""

    def read(option: str) -> int:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{option}", uri=True)
        try:
            return _schema_version(conn, path)
        finally:
            conn.close()

    try:
        if not Path(f"{path}-wal").exists():  # no other process has it open
            return read("immutable=1")  # (mode=ro would leave a log and shared memory behind)
        try:
            return read("mode=ro")
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", "") != "SQLITE_CANTOPEN":
                raise
            return read("immutable=1")  # (no shared memory can be made beside it)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot read it ({exc})") from exc


def migration_space(path: Path) -> str | None:
    """Why the store at `path` cannot be rewritten by its migration to this schema (too little
    free space beside it), or None when it can."""
    needed = path.stat().st_size // 2  # the new store is a third of the old one, or less
    return _space_problem(path, needed, f"4 to {SCHEMA_VERSION}")


def _space_problem(path: Path, needed: int, versions: str) -> str | None:
    """What to say when the disk beside `path` has less than `needed` bytes free for the
    migration from schema `versions` ("4 to 5"), or None when it has enough."""
    free = shutil.disk_usage(path.parent).free
    if free >= needed:
        return None
    return (
        f"{path}: migrating the store (schema {versions}) needs about"
        f" {_megabytes(needed)} free beside it, and {_megabytes(free)} are free"
    )


def _rewrite(conn: sqlite3.Connection, path: Path, progress: Progress | None) -> bool:
    """Version 4 to 5: rebuild the store into `STORE.migrating` beside it, then put that in its
    place, so that the space of the old one is given back. Needs the store to itself (the
    process holds `_StoreLock` alone; an older cablebot still using it makes this refuse)."""
    _check_free(path, path.stat().st_size // 2, f"4 to {SCHEMA_VERSION}")  # a third, or less
    if conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] != "delete":
        raise StoreError(f"{path}: another process has the store open: stop it to migrate it")
    new = Path(f"{path}.migrating")
    with _transaction(conn):
        if _schema_version(conn, path) != len(MIGRATIONS):
            return False  # (not reached while the lock file works: another process migrated)
        for stale in (new, Path(f"{new}-journal")):
            stale.unlink(missing_ok=True)  # from a migration that was stopped
        try:
            _copy(conn, new, progress)
        except BaseException:
            new.unlink(missing_ok=True)
            raise
    conn.close()
    os.replace(new, path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return True


def _check_free(path: Path, needed: int, versions: str) -> None:
    """StoreError, saying how much is needed, when the disk beside `path` has less than
    `needed` bytes free for the migration from schema `versions`."""
    problem = _space_problem(path, needed, versions)
    if problem is not None:
        raise StoreError(problem)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 1e6 else f"{-(-size // 1000)} kB"


def _copy(old: sqlite3.Connection, path: Path, progress: Progress | None) -> None:
    """Write the cables and tables of the version-4 store `old` into a new version-5 store at
    `path`."""
    new = sqlite3.connect(path, isolation_level=None)
    try:
        register_functions(new)
        new.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        new.execute("PRAGMA auto_vacuum = INCREMENTAL")
        new.execute("PRAGMA journal_mode = OFF")  # a failure deletes the file: nothing to undo
        new.execute("PRAGMA synchronous = OFF")
        new.execute("BEGIN")
        for statement in _statements(_SCHEMA):
            new.execute(statement)
        for table in ("tags", "refs", "guild_settings", "imports", "replies"):
            found = old.execute(f"SELECT * FROM {table}")
            marks = ",".join("?" * len(found.description))
            new.executemany(f"INSERT INTO {table} VALUES ({marks})", found)
        total = int(old.execute("SELECT count(*) FROM cables").fetchone()[0])
        done = 0
        if progress is not None:
            progress(done, total)
        cables = old.execute(
            "SELECT id, ref_id, created, released, classification, origin, subject, meta, hash,"
            " header, body, (SELECT json_group_array(json_array(number, marking, text)) FROM ("
            "SELECT number, marking, text FROM paragraphs WHERE ref_id = c.ref_id ORDER BY seq))"
            " FROM cables AS c ORDER BY id"
        )
        while batch := cables.fetchmany(500):
            rows: list[tuple[Any, ...]] = []
            texts: list[tuple[int, str, str]] = []
            for *columns, meta, digest, header, body, paragraphs in batch:
                listed = json.loads(paragraphs)
                blob = packed.pack(header, body, meta, listed)
                rows.append((*columns, len(listed), digest, blob))
                texts.append((columns[0], body, columns[6]))
            new.executemany(
                f"INSERT INTO cables (id, {_CABLE_COLUMNS}) VALUES ({', '.join('?' * 10)})", rows
            )
            new.executemany("INSERT INTO cables_fts (rowid, body, subject) VALUES (?, ?, ?)", texts)
            done += len(batch)
            if progress is not None:
                progress(done, total)
        # one segment: smaller and faster to search (an import's merges would need as much log)
        new.execute("INSERT INTO cables_fts (cables_fts) VALUES ('optimize')")
        new.execute(f"PRAGMA user_version = {REWRITTEN_VERSION}")  # (then `LATER_STEPS`)
        new.execute("COMMIT")
        _give_back(new)
        new.execute("PRAGMA journal_mode = WAL")
    finally:
        new.close()


def _log_progress(path: Path) -> Progress:
    """A `Progress` that logs every tenth of the way."""
    step = [0]

    def report(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth > step[0] or done == 0:
            step[0] = tenth
            log.warning("%s: migrating the store: %d of %d cables", path, done, total)

    return report


def _open_writer(path: Path, lock: _StoreLock, progress: Progress | None) -> _Worker | None:
    """The store's writing connection, migrated; None when the file exists but cannot be
    written (read-only media, folder or file). Leaves `lock` held shared."""
    if path.exists() and not os.access(path, os.W_OK):
        return None
    writer: _Worker | None = None
    try:
        lock.shared()
        writer = _Worker(partial(_connect, path, writer=True))
        if writer.call(_schema_version, path) == SCHEMA_VERSION:
            return writer
        writer.close()
        lock.release()
        release = os.environ.get(PAUSE_MIGRATION)
        if release:
            Path(f"{release}.paused").touch()
            while not os.path.exists(release):
                time.sleep(0.01)
        lock.alone(path)
        writer = _Worker(partial(_connect, path, writer=True))
        while writer.call(_migrate, path, progress or _log_progress(path)):
            writer.close()  # the store was rewritten into a new file
            writer = _Worker(partial(_connect, path, writer=True))
        lock.shared()
        return writer
    except BaseException as exc:
        if writer is not None:
            writer.close()
        refused = getattr(exc, "sqlite_errorname", "").startswith(
            ("SQLITE_READONLY", "SQLITE_CANTOPEN")  # (no log or shared memory beside it)
        )
        if refused and path.exists():
            return None
        raise


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (triggers contain ';')."""
    out: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


_Call = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]


class _Worker:
    """One SQLite connection living on its own thread.

    Calls made in the same turn of the event loop (a card's cable and who cites it, five
    cables of one message) go to the thread as one job and come back in one wake-up.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="cablestore")
        self._queued: list[_Call] = []
        self._closed = False
        try:
            self.conn = self._executor.submit(connect).result()
        except BaseException:
            self._executor.shutdown()
            raise

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` on the worker thread and wait (for use off the event loop)."""
        return self._executor.submit(fn, self.conn, *args).result()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` on the worker thread, with the other calls of this turn."""
        if self._closed:
            raise StoreError("the store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if not self._queued or self._queued[0][2].get_loop() is not loop:
            # (calls left by a loop that stopped before sending them have nobody waiting)
            self._queued = []
            loop.call_soon(self._send, loop)  # after the tasks that are ready this turn
        self._queued.append((fn, args, future))
        return await future

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        calls, self._queued = self._queued, []
        if self._closed:  # closed after these calls were queued
            _deliver([(future, None, StoreError("the store is closed")) for _, _, future in calls])
            return
        self._executor.submit(self._serve, loop, calls)

    def _serve(self, loop: asyncio.AbstractEventLoop, calls: list[_Call]) -> None:
        """Worker thread: run the calls in order, then hand every outcome back at once."""
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        for fn, args, future in calls:
            try:
                outcomes.append((future, fn(self.conn, *args), None))
            except BaseException as exc:  # delivered to the caller, as run_in_executor does
                outcomes.append((future, None, exc))
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_deliver, outcomes)

    def close(self) -> None:
        """Close the connection and end the thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._executor.submit(self.conn.close).result()
        self._executor.shutdown()


def _deliver(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.cancelled():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


class CableStore:
    """Async access to the SQLite cable store; open with `await CableStore.open(path)`."""

    packs_texts = True
    """Cables are written with their texts compressed (`PreparedCable.text`)."""

    def __init__(
        self,
        path: Path,
        writer: _Worker | None,
        reader: _Worker,
        here: sqlite3.Connection | None = None,
        lock: _StoreLock | None = None,
    ) -> None:
        self.path = path
        self._lock = lock
        self._writer = writer
        self._reader = reader
        self._here = here
        """The event loop's own read connection, for primary-key reads; only its thread uses it."""
        self._here_thread = threading.get_ident()
        self._warned_readonly = False

    @property
    def readonly(self) -> bool:
        """True when the store could only be opened for reading: writes are skipped."""
        return self._writer is None

    @classmethod
    async def open(cls, path: Path, *, progress: Progress | None = None) -> CableStore:
        """Open (creating it and its folder if needed) the store at `path`, migrating it.

        A file that is not a Cablebot store is refused (StoreError) before anything in it
        changes. A store that cannot be written (read-only media or folder) is opened for
        reading only: see `readonly`. Call it on the event loop that will use the store: that
        loop's thread gets its own read connection (see the module docstring). `progress` is
        called while a migration rewrites the store (default: a log line every tenth).
        """
        path = Path(path).expanduser()

        def prepare() -> tuple[_Worker | None, _Worker, _StoreLock]:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path}: cannot create its folder ({exc.strerror})") from exc
            lock = _StoreLock(path)
            try:
                writer = _open_writer(path, lock, progress)
                if writer is None:
                    return None, _Worker(partial(_connect_readonly, path)), lock
                try:
                    return writer, _Worker(partial(_connect, path, writer=False)), lock
                except BaseException:
                    writer.close()
                    raise
            except sqlite3.DatabaseError as exc:
                lock.close()
                raise StoreError(f"{path}: not a usable cable store ({exc})") from exc
            except BaseException:
                lock.close()
                raise

        writer, reader, lock = await asyncio.to_thread(prepare)
        try:
            here = _connect_here(path, readonly=writer is None)
        except BaseException:
            for worker in (writer, reader):
                if worker is not None:
                    await asyncio.to_thread(worker.close)
            lock.close()
            raise
        return cls(path, writer, reader, here, lock)

    async def close(self) -> None:
        """Close every connection (idempotent); a call on the store then raises StoreError."""
        if self._here is not None and threading.get_ident() == self._here_thread:
            self._here.close()
        self._here = None
        for worker in (self._writer, self._reader):
            if worker is not None:
                await asyncio.to_thread(worker.close)
        if self._lock is not None:
            self._lock.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _quick(self, fn: Callable[..., T], *args: Any) -> T:
        """Run the primary-key read `fn(conn, *args)` on the loop's own connection: a few
        hundred microseconds, less than a hand-over to the reader thread costs. From another
        thread, or when SQLite is busy (a checkpoint resetting the log), the reader thread."""
        here = self._here
        if here is not None and threading.get_ident() == self._here_thread:
            try:
                return fn(here, *args)
            except sqlite3.OperationalError as exc:
                if not getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY"):
                    raise
        return await self._reader.run(fn, *args)

    # reads -------------------------------------------------------------------------------

    async def get(self, ref_id: str) -> Cable | None:
        """The stored cable `ref_id`, or None."""
        try:
            return await self._quick(_get_short, ref_id)
        except _Long:
            return await self._reader.run(_get, ref_id)

    async def search(self, query: str, limit: int = 10, offset: int = 0) -> list[SearchHit]:
        """Full-text search over subjects and bodies, best matches first."""
        match = fts_query(query)
        if match is None or limit <= 0:
            return []
        return await self._reader.run(_search, match, limit, max(offset, 0))

    async def cites(self, ref_id: str) -> list[str]:
        """Reference IDs that `ref_id` cites, in the cable's order."""
        rows = await self._quick(_all, "SELECT dst FROM refs WHERE src = ? ORDER BY pos", ref_id)
        return [r[0] for r in rows]

    async def cited_by(self, ref_id: str) -> list[str]:
        """Stored cables that cite `ref_id`, sorted."""
        rows = await self._reader.run(
            _all, "SELECT DISTINCT src FROM refs WHERE dst = ? ORDER BY src", ref_id
        )
        return [r[0] for r in rows]

    async def complete_ids(self, prefix: str, limit: int = 25) -> list[str]:
        """Stored reference IDs starting with `prefix`."""
        prefix = prefix.strip().upper()
        if limit <= 0:
            return []
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\U0010ffff"
        window = max(limit * 8, 200)  # the first IDs in order, then shortest first
        sql = "SELECT ref_id FROM cables WHERE ref_id >= ? AND ref_id < ? ORDER BY ref_id LIMIT ?"
        found = {r[0] for r in await self._reader.run(_all, sql, prefix, upper, window)}
        return sorted(found, key=lambda ref_id: (len(ref_id), ref_id))[:limit]

    async def ref_ids(self) -> list[str]:
        """Every stored reference ID, in order (to copy the store elsewhere)."""
        rows = await self._reader.run(_all, "SELECT ref_id FROM cables ORDER BY ref_id")
        return [r[0] for r in rows]

    async def month_of(self, ref_id: str) -> int | None:
        """The month (1-12) the stored cable `ref_id` was created in."""
        return await self._quick(_month_of, ref_id)

    async def stats(self) -> LibraryStats:
        """Counts, dates and size of the store."""
        return await self._reader.run(_stats, self.path)

    async def checkpoint(self, source: str) -> Checkpoint | None:
        """The saved position of an unfinished import of `source`."""
        rows = await self._reader.run(_all, "SELECT * FROM imports WHERE source = ?", source)
        return Checkpoint(*rows[0]) if rows else None

    async def get_guild_settings(self, guild_id: int) -> dict[str, object]:
        """The settings saved for a guild ({} when none)."""
        rows = await self._quick(
            _all, "SELECT data FROM guild_settings WHERE guild_id = ?", guild_id
        )
        data: dict[str, object] = json.loads(rows[0][0]) if rows else {}
        return data

    async def followed(self, trigger_id: int, since: float) -> FollowedReply | None:
        """The reply to message `trigger_id`, if it was remembered at or after `since`."""
        rows = await self._quick(
            _all,
            "SELECT channel_id, reply_id, author_id FROM replies WHERE trigger_id = ? AND at >= ?",
            trigger_id,
            since,
        )
        return FollowedReply(*rows[0]) if rows else None

    # writes ------------------------------------------------------------------------------
    # Each is one transaction: on a failure (disk full…) it is rolled back and StoreWriteError
    # raised. On a read-only store they are skipped, with one warning the first time.

    async def _written(self, fn: Callable[..., T], *args: Any) -> T | None:
        """Run the write `fn(conn, *args)` on the writer's thread; None when skipped."""
        if self._writer is None:
            if not self._warned_readonly:
                log.warning(
                    "%s: the store is read-only; cables fetched from the mirror, followed"
                    " replies and settings are not saved",
                    self.path,
                )
                self._warned_readonly = True
            return None
        try:
            return await self._writer.run(fn, *args)
        except sqlite3.Error as exc:
            raise StoreWriteError(self.path, _reason(exc)) from exc

    async def remember_reply(
        self, trigger_id: int, reply: FollowedReply, at: float, *, forget_before: float
    ) -> None:
        """Remember that `reply` answers message `trigger_id`; drop entries older than
        `forget_before` in the same transaction."""
        await self._written(_remember_reply, trigger_id, reply, at, forget_before)

    async def forget_reply(
        self, *, trigger_id: int | None = None, reply_id: int | None = None
    ) -> None:
        """Stop following a trigger message, or whichever message `reply_id` answered."""
        if trigger_id is not None:
            await self._written(_write, "DELETE FROM replies WHERE trigger_id = ?", [(trigger_id,)])
        if reply_id is not None:
            await self._written(_write, "DELETE FROM replies WHERE reply_id = ?", [(reply_id,)])

    async def put(
        self, cables: Iterable[Cable | PreparedCable], checkpoint: Checkpoint | None = None
    ) -> PutResult:
        """Insert or update cables in one transaction (the last copy of a repeated ID wins).

        `checkpoint`, when given, is saved in the same transaction with this batch's counts
        added to the counts it carries. Nothing is counted when the store is read-only.
        """
        result = await self._written(_put, list(cables), checkpoint)
        return PutResult() if result is None else result

    async def clear_checkpoint(self, source: str) -> None:
        """Forget the import position of `source`: the import finished, so the search indexes
        are merged into one segment each and the pages that frees are given back to the file
        system."""
        await self._written(_write, "DELETE FROM imports WHERE source = ?", [(source,)])
        await self._written(_merge_indexes)
        await self._written(_give_back)

    async def set_guild_settings(self, guild_id: int, data: dict[str, object]) -> None:
        """Replace the settings saved for a guild (must be JSON-serialisable)."""
        text = json.dumps(data, sort_keys=True)
        await self._written(
            _write,
            "INSERT INTO guild_settings (guild_id, data) VALUES (?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET data = excluded.data",
            [(guild_id, text)],
        )

    async def claim_job(self, name: str, guild_id: int, day: date, *, forget_before: date) -> bool:
        """Claim job `name` of `guild_id` for `day`: True for exactly one caller, whichever
        process it is in and however often it asks; claims of `name` before `forget_before` are
        dropped in the same transaction. False on a read-only store: nothing can be recorded
        there, so nothing may run (a restart would run it again)."""
        claimed = await self._written(_claim_job, name, guild_id, day, forget_before)
        return bool(claimed)

    # discovery (bot.library.discover) -------------------------------------------------------

    async def browse(
        self, filters: discover.Filters, sort: discover.Sort | None, limit: int, offset: int
    ) -> discover.HitPage:
        """The cables passing `filters`, one page of them, and how many match in all."""
        return await self._reader.run(discover.browse, filters, sort, limit, offset)

    async def random_hit(self, filters: discover.Filters, pick: float) -> discover.Hit | None:
        """The cable at fraction `pick` (0 <= pick < 1) of those passing `filters`."""
        return await self._reader.run(discover.random_hit, filters, pick)

    async def citations(self, ref_id: str) -> list[discover.Linked]:
        """What `ref_id` cites, in the order of its REF line."""
        return await self._reader.run(discover.citations, ref_id)

    async def citing(self, ref_id: str) -> list[discover.Linked]:
        """The stored cables citing `ref_id`, oldest first."""
        return await self._reader.run(discover.citing, ref_id)

    async def related(self, ref_id: str, limit: int) -> list[discover.Related] | None:
        """Stored cables related to `ref_id`, best first; None when it is not stored."""
        return await self._reader.run(discover.related, ref_id, limit)

    async def counts(self, filters: discover.Filters, by: discover.StatsBy) -> discover.Counts:
        """How many cables pass `filters`, grouped by `by`."""
        return await self._reader.run(discover.counts, filters, by)


# functions run on the store threads --------------------------------------------------------


def _all(conn: sqlite3.Connection, sql: str, *params: Any) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def _write(conn: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    with _transaction(conn):
        conn.executemany(sql, rows)


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, rolled back when anything in it or its COMMIT fails."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # (SQLite may have rolled back already, e.g. on a full disk)
            with contextlib.suppress(sqlite3.Error):  # the first error is the one to report
                conn.execute("ROLLBACK")
        raise


def _get(conn: sqlite3.Connection, ref_id: str) -> Cable | None:
    row = conn.execute(_GET, (ref_id,)).fetchone()
    return None if row is None else _build_cable(row)


LOOP_TEXT_LIMIT = 8_000
"""Compressed bytes of the longest cable built on the event loop (about 0.6 ms); a longer one
(57 of the 390 real cables of ../shared/corpus/pages) is built on the reader thread."""


class _Long(Exception):
    """The cable is longer than LOOP_TEXT_LIMIT."""


def _get_short(conn: sqlite3.Connection, ref_id: str) -> Cable | None:
    """`_get`, for a cable of at most LOOP_TEXT_LIMIT compressed bytes (else _Long); the length
    of a BLOB is read from its row's header, without the text."""
    row = conn.execute("SELECT length(text) FROM cables WHERE ref_id = ?", (ref_id,)).fetchone()
    if row is not None and row[0] > LOOP_TEXT_LIMIT:
        raise _Long
    return None if row is None else _get(conn, ref_id)


RANK_ALL = 5_000
"""A search matching at most this many cables ranks all of them by BM25 over subjects and
bodies; one matching more ranks by BM25 over subjects only (see `_search`)."""

_HIT = (
    "SELECT c.ref_id, c.subject, c.created, snippet(cables_fts, -1, '**', '**', '…', 16)"
    " FROM cables_fts JOIN cables AS c ON c.id = cables_fts.rowid"
    " WHERE cables_fts MATCH ? AND cables_fts.rowid = ?"
)


def _matches_more_than(conn: sqlite3.Connection, match: str, count: int) -> bool:
    """True when the FTS5 query `match` matches more than `count` cables (stops counting
    there: the first `count` + 1 matches are read, without their positions for plain words)."""
    sql = "SELECT count(*) FROM (SELECT 1 FROM cables_fts WHERE cables_fts MATCH ? LIMIT ?)"
    return int(conn.execute(sql, (match, count + 1)).fetchone()[0]) > count


def _search(conn: sqlite3.Connection, match: str, limit: int, offset: int) -> list[SearchHit]:
    """One page of the matches of the FTS5 query `match`, in the order the module docstring
    explains (at most RANK_ALL matches: BM25; more: subject matches first)."""
    if _matches_more_than(conn, match, RANK_ALL):
        ids = _subject_ranked_ids(conn, match, limit, offset)
    else:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT rowid FROM cables_fts WHERE cables_fts MATCH ?"
                " ORDER BY bm25(cables_fts), rowid LIMIT ? OFFSET ?",
                (match, limit, offset),
            )
        ]
    hits = []
    for rowid in ids:  # snippets for the page only
        ref_id, subject, created, snip = conn.execute(_HIT, (match, rowid)).fetchone()
        hits.append(
            SearchHit(
                ref_id=ref_id,
                subject=subject,
                created=_date(created),
                snippet=" ".join(snip.split()),
            )
        )
    return hits


def _subject_ranked_ids(conn: sqlite3.Connection, match: str, limit: int, offset: int) -> list[int]:
    """One page of the matches of a common query: those whose subject matches first (BM25 over
    the subject index), then the others, the last stored first. A subject match is a match of
    the whole index, which holds the same subjects with the same tokenizer."""
    by_subject = [
        r[0]
        for r in conn.execute(
            "SELECT rowid FROM cables_subject_fts WHERE cables_subject_fts MATCH ?"
            " ORDER BY bm25(cables_subject_fts), rowid",
            (match,),
        )
    ]
    ids = by_subject[offset : offset + limit]
    if len(ids) < limit:
        skip, seen = max(offset - len(by_subject), 0), set(by_subject)
        rest = conn.execute(
            "SELECT rowid FROM cables_fts WHERE cables_fts MATCH ? ORDER BY rowid DESC", (match,)
        )
        for (rowid,) in rest:
            if rowid in seen:
                continue
            if skip:
                skip -= 1
                continue
            ids.append(rowid)
            if len(ids) == limit:
                break
        rest.close()
    return ids


def _month_of(conn: sqlite3.Connection, ref_id: str) -> int | None:
    row = conn.execute(
        "SELECT CAST(substr(created, 6, 2) AS INTEGER) FROM cables"
        " WHERE ref_id = ? AND created IS NOT NULL",
        (ref_id,),
    ).fetchone()
    return int(row[0]) if row else None


def _stats(conn: sqlite3.Connection, path: Path) -> LibraryStats:
    def one(sql: str) -> Any:
        return conn.execute(sql).fetchone()[0]

    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    return LibraryStats(
        cables=one("SELECT count(*) FROM cables"),
        paragraphs=one("SELECT coalesce(sum(paragraphs), 0) FROM cables"),
        references=one("SELECT count(*) FROM refs"),
        tags=one("SELECT count(DISTINCT tag) FROM tags"),
        first_created=_date(one("SELECT min(created) FROM cables")),
        last_created=_date(one("SELECT max(created) FROM cables")),
        size_bytes=size,
        schema_version=one("PRAGMA user_version"),
    )


def _put(
    conn: sqlite3.Connection, cables: list[Cable | PreparedCable], checkpoint: Checkpoint | None
) -> PutResult:
    rows = [c if isinstance(c, PreparedCable) else PreparedCable.of(c) for c in cables]
    latest = {r.ref_id: r for r in rows}  # the last copy of a repeated ID wins
    with _transaction(conn):
        existing: dict[str, bytes] = _by_ref_id(conn, "hash", list(latest))
        new = [r for i, r in latest.items() if i not in existing]
        changed = [r for i, r in latest.items() if i in existing and existing[i] != r.hash]
        counts = {"imported": 0, "updated": 0, "skipped": 0}
        seen = dict(existing)
        for row in rows:  # count row by row, as if the batch were put one cable at a time
            previous = seen.get(row.ref_id)
            kind = (
                "imported" if previous is None else "skipped" if previous == row.hash else "updated"
            )
            counts[kind] += 1
            seen[row.ref_id] = row.hash
        if changed:
            ref_ids = [r.ref_id for r in changed]
            gone = [(r,) for r in ref_ids]
            conn.executemany(
                "INSERT INTO cables_fts (cables_fts, rowid, body, subject)"
                " SELECT 'delete', id, cable_body(text), subject FROM cables WHERE ref_id = ?",
                gone,
            )
            conn.executemany(
                "INSERT INTO cables_subject_fts (cables_subject_fts, rowid, subject)"
                " SELECT 'delete', id, subject FROM cables WHERE ref_id = ?",
                gone,
            )
            old_tags = _by_ref_id(conn, "(SELECT tags FROM browse WHERE id = cables.id)", ref_ids)
            conn.executemany(  # (by pairs: no index of `tags` by cable since schema 8)
                "DELETE FROM tags WHERE tag = ? AND ref_id = ?",
                [(t, r) for r, tags in old_tags.items() for t in tags.split("|") if t],
            )
            conn.executemany("DELETE FROM refs WHERE src = ?", gone)
            conn.executemany(
                "UPDATE cables SET created = ?2, released = ?3, classification = ?4, origin = ?5,"
                " subject = ?6, paragraphs = ?7, hash = ?8, text = ?9"
                " WHERE ref_id = ?1",
                [r.stored for r in changed],
            )
        conn.executemany(
            f"INSERT INTO cables ({_CABLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [r.stored for r in new],
        )
        touched = new + changed
        ids = _by_ref_id(conn, "id", [r.ref_id for r in touched])
        conn.executemany(  # VALUES, not INSERT ... SELECT: that indexes three times slower
            "INSERT INTO cables_fts (rowid, body, subject) VALUES (?, ?, ?)",
            [(ids[r.ref_id], r.row[8], r.row[5]) for r in touched],
        )
        conn.executemany(
            "INSERT INTO cables_subject_fts (rowid, subject) VALUES (?, ?)",
            [(ids[r.ref_id], r.row[5]) for r in touched],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO tags (tag, ref_id) VALUES (?, ?)",
            [(tag, r.ref_id) for r in touched for tag in r.tags],
        )
        conn.executemany(
            "INSERT INTO refs (src, pos, dst) VALUES (?, ?, ?)",
            [(r.ref_id, pos, dst) for r in touched for pos, dst in enumerate(r.references)],
        )
        conn.executemany(  # (row: ref_id, created, released, classification, origin, …)
            "INSERT OR IGNORE INTO browse_names (name) VALUES (?)",
            [(name,) for name in {n for r in touched for n in (r.row[3], r.row[4])}],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO browse (id, ref_id, created, origin, classification, tags)"
            f" SELECT id, ref_id, created, {_CODE.format('origin')},"
            f" {_CODE.format('classification')}, ? FROM cables WHERE id = ?",
            [(browse_tags(r.tags), ids[r.ref_id]) for r in touched],
        )
        result = PutResult(**counts)
        if checkpoint is not None:
            saved = dataclasses.replace(
                checkpoint,
                imported=checkpoint.imported + result.imported,
                updated=checkpoint.updated + result.updated,
                skipped=checkpoint.skipped + result.skipped,
            )
            conn.execute(
                "INSERT OR REPLACE INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                dataclasses.astuple(saved),
            )
    return result


def _by_ref_id(conn: sqlite3.Connection, column: str, ref_ids: list[str]) -> dict[str, Any]:
    """ref_id → `column` of the stored cables among `ref_ids`."""
    found: dict[str, Any] = {}
    for start in range(0, len(ref_ids), 900):
        chunk = ref_ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT ref_id, {column} FROM cables WHERE ref_id IN ({marks})"
        found.update(conn.execute(sql, chunk))
    return found


def _merge_indexes(conn: sqlite3.Connection) -> None:
    """Merge each full-text index into one segment (FTS5 `optimize`). After importing
    ../shared/corpus/pages the main index shrinks from 1.74 to 1.62 MB (the store: 4.11 to 3.97
    MB); on the full generated store it takes 10 s and changes neither size nor search time
    measurably (the import's own merges left it nearly merged).

    The browse indexes are rebuilt too: filled in import order, not in theirs, their pages are
    partly empty (after ../shared/corpus/pages: 102 KB of entries in 145 KB of pages, 121 KB
    rebuilt: the store then holds 0.997x its text, not 1.003x)."""
    with _transaction(conn):
        for index in ("cables_fts", "cables_subject_fts"):
            conn.execute(f"INSERT INTO {index} ({index}) VALUES ('optimize')")
        conn.execute("REINDEX browse")


def _give_back(conn: sqlite3.Connection) -> None:
    """Give the free pages back to the file system (a store made with auto_vacuum)."""
    conn.executescript("PRAGMA incremental_vacuum;")  # (execute would free one page)


def _claim_job(
    conn: sqlite3.Connection, name: str, guild_id: int, day: date, forget_before: date
) -> bool:
    with _transaction(conn):
        conn.execute(
            "DELETE FROM jobs WHERE name = ? AND day < ?", (name, forget_before.isoformat())
        )
        inserted = conn.execute(
            "INSERT INTO jobs (name, day, guild_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (name, day.isoformat(), guild_id),
        )
        return inserted.rowcount == 1


def _remember_reply(
    conn: sqlite3.Connection, trigger_id: int, reply: FollowedReply, at: float, forget_before: float
) -> None:
    with _transaction(conn):
        conn.execute("DELETE FROM replies WHERE at < ?", (forget_before,))
        conn.execute(
            "INSERT OR REPLACE INTO replies (trigger_id, channel_id, reply_id, author_id, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (trigger_id, *reply, at),
        )
