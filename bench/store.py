#!/usr/bin/env python3
"""Store benchmark: `python bench/store.py [N] [--busy]` (default: the full 251,287 cables).

In one run: generates an N-cable dump (bench/make_dump.py, cached in --workdir), then measures,
each phase in its own process, each beside a baseline measured in the same run:
- import: `cablebot import`'s code path against reading the same CSV with the csv module (wall
  clock, CPU seconds of the parser processes and of the store's writer thread, peak memory summed
  over the importing process and its children);
- store size against the dump's size, and for ../shared/corpus/pages against their text;
- `CableLibrary.get` (opened as `cablebot run` opens it) against a raw `SELECT` of the same
  row, and the event loop's longest stall during reads against the same probe on an idle loop;
- full-text search on a fixed set of rare, medium and common words and a phrase, and `related`
  on 100 cables, against the raw SELECT, in a table of their own (p50, p99, target).
`--phase queries --db STORE` measures the lookups and searches alone, on a store already
imported (a copy: opening it migrates it), and prints the search table.
`--busy` keeps every CPU busy with a spinning process while the lookups and searches are
measured (the import uses every CPU already, and its targets are for a quiet machine).

`--to postgresql://…/DB` also imports the same dump into PostgreSQL (a scratch database
DB_bench made beside DB on that server and dropped afterwards) and measures `get` and chat
text -> Discord payload there, each printed beside the SQLite number of the same run; the import
also shows the CPU time of the database's server processes (`to_tsvector` is most of it).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import Measure, busy, percentile, print_table  # noqa: E402

FULL = 251_287
PAGES = ROOT.parent / "shared" / "corpus" / "pages"
QUERIES = {  # the fixed query set: make_dump.py's RARE and MEDIUM words occur in few cables
    "rare": "quokka",
    "medium": "refinery",
    "phrase": '"border police"',
    "common": "minister",
    "common, two words": "election violence",
}
QUICK = 50.0  # ms: target p50 of a search for rare and medium words and a phrase
COMMON = 200.0  # ms: target p50 of a search for common words
RELATED = 100.0  # ms: target p99 of `related` (references, tags and similar words)
SEARCHES = 40  # timed runs of each query


def _store_bytes(db: Path) -> int:
    """The store's size on disk, with its write-ahead log if any."""
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _family(pid: int) -> Iterator[int]:
    """`pid` and all its descendants (Linux /proc)."""
    yield pid
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            yield from _family(int(child))


@contextmanager
def peak_memory() -> Iterator[list[float]]:
    """Samples, every 50 ms, the RSS summed over this process and its children; yields [peak MB]."""
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], sum(_rss_kb(p) for p in _family(os.getpid())) / 1024)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join()


def phase_baseline(dump: Path) -> dict[str, float]:
    """Read every row of the dump with the csv module, and nothing else."""
    csv.field_size_limit(1 << 30)
    with peak_memory() as peak:
        started = time.perf_counter()
        with dump.open(newline="", encoding="utf-8") as fh:
            rows = sum(1 for _ in csv.reader(fh, escapechar="\\", doublequote=False))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "peak_mb": peak[0], "cpu": time.process_time()}


def phase_import(source: Path, db: Path) -> dict[str, float]:
    """The real importer, as `cablebot import` runs it, into a new store at `db`."""
    from bot.library.importer import import_path
    from bot.library.store import CableStore

    for old in db.parent.glob(db.name + "*"):
        old.unlink()

    async def go() -> dict[str, float]:
        async with await CableStore.open(db) as store:
            summary = await import_path(store, source, batch_size=500)
            writer = getattr(store, "_writer", None)  # private: CPU time of its writer thread
            writer_cpu = writer.call(lambda _: time.thread_time()) if writer else float("nan")
        return {"rows": summary.imported, "errors": summary.errors, "writer_cpu": writer_cpu}

    with peak_memory() as peak:
        started = time.perf_counter()
        result = asyncio.run(go())
        seconds = time.perf_counter() - started
    cpu = os.times()  # the parser processes were waited for: they count as children
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {
        **result,
        "seconds": seconds,
        "peak_mb": peak[0],
        "size": _store_bytes(db),
        "process_cpu": cpu.user + cpu.system,
        "parser_cpu": cpu.children_user + cpu.children_system,
    }


def phase_pages(db: Path) -> dict[str, float]:
    """Import ../shared/corpus/pages; their text is each parsed cable's header and body."""
    from parsers.models import NotACableError
    from parsers.page import parse_any

    text = 0
    for page in sorted(PAGES.iterdir()):
        try:
            cable = parse_any(page.read_text(encoding="utf-8", errors="replace"))
        except NotACableError:
            continue
        text += len(cable.header.encode()) + len(cable.body.encode())
    return {**phase_import(PAGES, db), "text": text}


async def _queries(db: Path, lookups: int) -> dict[str, list[float]]:
    from resolve import loop_cpu, loop_stalls, timed

    from bot.config import Settings
    from bot.library.cables import CableLibrary
    from bot.library.discover import Filters

    raw = sqlite3.connect(db)
    ids = [r[0] for r in raw.execute("SELECT ref_id FROM cables")]
    sample = random.Random(1).sample(ids, min(lookups, len(ids)))

    def raw_select() -> list[float]:
        out = []
        for ref_id in sample:
            t = time.perf_counter()
            raw.execute("SELECT * FROM cables WHERE ref_id = ?", (ref_id,)).fetchone()
            out.append((time.perf_counter() - t) * 1e3)
        return out

    settings = Settings(data_dir=db.parent, store_path=db, mirrors=())
    async with await CableLibrary.open(settings, serving=True) as library:
        picks = iter(sample * 10)

        async def get() -> None:
            await library.get(next(picks))

        async def nothing() -> None:
            await asyncio.sleep(0)

        for ref_id in sample:  # warm: the rows a get reads, as on a bot that has served a while
            await library.get(ref_id)
        out = {"select": raw_select(), "get": await timed(get, len(sample))}
        out["idle"] = await loop_stalls(nothing, len(sample) * 2)
        out["stalls"] = await loop_stalls(get, len(sample) * 2)
        out["cpu_idle"] = await loop_cpu(nothing, len(sample) * 2)
        out["cpu"] = await loop_cpu(get, len(sample) * 2)
        for kind, query in QUERIES.items():
            await library.search(query, limit=10)  # once to warm its pages
            out[kind] = await timed(partial(library.search, query, limit=10), SEARCHES)
            out[f"{kind} matches"] = [float((await library.browse(Filters(query=query))).total)]
        related = iter(sample[:100])

        async def relate() -> None:
            await library.related(next(related))

        out["related"] = await timed(relate, min(100, len(sample)))
    raw.close()
    return out


def search_table(q: dict[str, list[float]]) -> None:
    """One row per query kind: p50 and p99 against the raw SELECT's p50, target, met or not."""
    select50 = statistics.median(q["select"])
    print(
        f"{'search (limit 10)':<40}{'matches':>9}{'p50 ms':>9}{'p99 ms':>9}{'p50/SELECT':>12}"
        f"{'target p50':>12}"
    )
    rows = [(f"{kind}: {query}", kind) for kind, query in QUERIES.items()]
    for name, kind in [*rows, ("related (100 cables), p99 target", "related")]:
        p50, p99 = statistics.median(q[kind]), percentile(q[kind], 0.99)
        target = RELATED if kind == "related" else COMMON if kind.startswith("common") else QUICK
        value = p99 if kind == "related" else p50
        matches = f"{q[f'{kind} matches'][0]:,.0f}" if kind != "related" else ""
        print(
            f"{name:<40}{matches:>9}{p50:>9.1f}{p99:>9.1f}{p50 / select50:>11,.0f}x"
            f"{'<= ' + format(target, '.0f'):>12}  {'met' if value <= target else 'MISSED'}"
        )
    print(f"raw SELECT by primary key (same run): p50 {select50:.3f} ms")


def phase_queries(db: Path, lookups: int, load: bool) -> dict[str, list[float]]:
    """Lookups, loop stalls and searches on the imported store (under --busy load if asked)."""
    with busy(load):
        return asyncio.run(_queries(db, lookups))


PG_IMPORT = 240.0  # s: target for the full dump into PostgreSQL
PG_GET = 2.0  # ms: target p99 of CableLibrary.get over loopback
PG_PAYLOAD = 3.0  # ms: target p99 of chat text -> Discord payload over loopback


@contextmanager
def server_cpu(database: str) -> Iterator[list[float]]:
    """Samples, every 100 ms, the CPU of the server processes connected to `database`, found
    by their process titles (each pid's last value counts once); yields [seconds]."""
    seen: dict[int, float] = {}
    stop = threading.Event()
    out = [0.0]

    def sample() -> None:
        while not stop.wait(0.1):
            for proc in Path("/proc").iterdir():
                if proc.name.isdigit():
                    one = _server_cpu_of(proc, database)
                    if one is not None:
                        seen[int(proc.name)] = one

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield out
    finally:
        stop.set()
        sampler.join()
        out[0] = sum(seen.values())


def _server_cpu_of(proc: Path, database: str) -> float | None:
    try:
        title = (proc / "cmdline").read_bytes().split(b"\0")[0].decode()
        words = title.split()  # postgres: [CLUSTER:] USER DATABASE HOST(PORT) STATE
        if words[:1] != ["postgres:"] or database not in words[2:4]:
            return None
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _scratch(url: str) -> tuple[str, str]:
    """The scratch database's name and URL beside the database `url` names."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    name = (parts.path.strip("/") or "postgres") + "_bench"
    return name, parts._replace(path="/" + name).geturl()


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def phase_pg_import(source: Path, url: str) -> dict[str, float]:
    """The real importer, as `cablebot import --to URL` runs it, into a new scratch database."""
    from bot.library.importer import import_path
    from bot.library.postgres import PostgresStore

    name, scratch = _scratch(url)

    async def go() -> dict[str, float]:
        await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _admin(url, f'CREATE DATABASE "{name}"')
        async with await PostgresStore.open(scratch) as store:
            summary = await import_path(store, source, batch_size=500)
            size = (await store.stats()).size_bytes
        return {"rows": summary.imported, "errors": summary.errors, "size": size}

    with peak_memory() as peak, server_cpu(name) as server:
        started = time.perf_counter()
        result = asyncio.run(go())
        seconds = time.perf_counter() - started
    cpu = os.times()
    return {
        **result,
        "seconds": seconds,
        "peak_mb": peak[0],
        "process_cpu": cpu.user + cpu.system,
        "parser_cpu": cpu.children_user + cpu.children_system,
        "server_cpu": server[0],
    }


async def _ref_ids(target: str) -> list[str]:
    """Every stored reference ID, read directly."""
    if not target.startswith("postgres"):
        with sqlite3.connect(target) as raw:
            return [r[0] for r in raw.execute("SELECT ref_id FROM cables ORDER BY ref_id")]
    import asyncpg

    conn = await asyncpg.connect(target)
    try:
        return [r[0] for r in await conn.fetch("SELECT ref_id FROM cables ORDER BY ref_id")]
    finally:
        await conn.close()


async def _lookups(target: str, lookups: int) -> dict[str, list[float]]:
    """`CableLibrary.get` and chat text -> Discord payload on stored cables, the library opened
    as `cablebot run` opens it on the store at `target` (a file or a postgresql:// URL)."""
    from resolve import timed

    from bot.answer import answer
    from bot.config import Settings
    from bot.discord.embeds import payload
    from bot.library.backend import is_database_url
    from bot.library.cables import CableLibrary

    if is_database_url(target):
        settings = Settings(data_dir=Path("/tmp"), database_url=target, mirrors=())
    else:
        settings = Settings(data_dir=Path(target).parent, store_path=Path(target), mirrors=())
    async with await CableLibrary.open(settings, serving=True) as library:
        ids = await _ref_ids(target)
        sample = random.Random(2).sample(ids, min(lookups, len(ids)))
        for ref_id in sample:  # warm, as on a bot that has served a while
            await library.get(ref_id)
        gets, texts = iter(sample * 2), iter(sample * 2)

        async def get() -> None:
            await library.get(next(gets))

        async def message() -> None:
            reply = await answer(library, f"have you read {next(texts)} ¶2 yet?")
            sent = payload(reply, owner_id=1)
            [embed.to_dict() for embed in sent["embeds"]]
            sent["view"].to_components()

        return {"get": await timed(get, len(sample)), "payload": await timed(message, len(sample))}


def phase_lookups(target: str, lookups: int, load: bool) -> dict[str, list[float]]:
    """`get` and message -> payload on the store at `target` (under --busy load if asked)."""
    if target.startswith("postgres"):
        target = _scratch(target)[1]
    with busy(load):
        return asyncio.run(_lookups(target, lookups))


def _postgres_table(
    url: str, imp: dict[str, Any], pg: dict[str, Any], lite: dict[str, Any], mode: str
) -> None:
    """PostgreSQL's numbers beside the SQLite store's of the same run."""
    import_cpu = pg["process_cpu"] + pg["parser_cpu"] + pg["server_cpu"]
    measures = [
        Measure("import, wall clock", pg["seconds"], "s", imp["seconds"], "SQLite", PG_IMPORT),
        Measure(
            "  cables per second", pg["rows"] / pg["seconds"], "/s", imp["rows"] / imp["seconds"]
        ),
        Measure("  CPU of the parser processes", pg["parser_cpu"], "s", imp["parser_cpu"]),
        Measure("  CPU of the importing process", pg["process_cpu"], "s", imp["process_cpu"]),
        Measure("  CPU of the database's server processes", pg["server_cpu"], "s"),
        Measure("  CPU in all / 2 CPUs (wall clock if alone)", import_cpu / 2, "s"),
        Measure("  peak memory of the importer, summed", pg["peak_mb"], "MB", imp["peak_mb"]),
        Measure("store size", pg["size"] / 1e6, "MB", imp["size"] / 1e6),
    ]
    for kind, name, target in (
        ("get", "CableLibrary.get, store hit", PG_GET),
        ("payload", "text -> Discord payload, store hit", PG_PAYLOAD),
    ):
        measures.append(
            Measure(
                f"{name}, p99",
                percentile(pg[kind], 0.99),
                "ms",
                percentile(lite[kind], 0.99),
                "",
                target,
            )
        )
        measures.append(
            Measure("  same, p50", statistics.median(pg[kind]), "ms", statistics.median(lite[kind]))
        )
    from bot.library.postgres import redacted

    print()
    print_table(
        f"PostgreSQL ({redacted(url)}): {pg['rows']:,.0f} cables imported ({pg['errors']:.0f}"
        f" errors), beside the SQLite store of the same run, {mode}",
        measures,
    )


def _child(phase: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--json", *args],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _dump(workdir: Path, count: int) -> Path:
    from make_dump import VERSION, write_dump

    workdir.mkdir(parents=True, exist_ok=True)
    dump = workdir / f"cables-{count}-v{VERSION}.csv"
    if not dump.exists():
        started = time.perf_counter()
        partial = dump.with_suffix(".part")
        write_dump(partial, count, seed=4)
        partial.rename(dump)
        print(f"generated {dump} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return dump


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=FULL, help="cables in the dump")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cablebot-bench"))
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--busy", action="store_true", help="keep every CPU busy meanwhile")
    parser.add_argument("--to", metavar="URL", help="also PostgreSQL: postgresql://HOST/DB")
    hidden = argparse.SUPPRESS
    phases = ["baseline", "import", "queries", "pages", "pg_import", "lookups"]
    parser.add_argument("--phase", choices=phases, help=hidden)
    parser.add_argument("--target", help=hidden)
    parser.add_argument("--source", type=Path, help=hidden)
    parser.add_argument("--db", type=Path, help=hidden)
    parser.add_argument("--json", action="store_true", help=hidden)
    args = parser.parse_args(argv)
    if args.phase == "queries" and not args.json:  # by hand, on a store already imported
        search_table(phase_queries(args.db, args.lookups, args.busy))
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{'--busy' if args.busy else 'quiet'}; {os.cpu_count()} CPUs, load average {load}")
        return 0
    if args.phase:
        if args.phase == "baseline":
            result: object = phase_baseline(args.source)
        elif args.phase == "import":
            result = phase_import(args.source, args.db)
        elif args.phase == "pages":
            result = phase_pages(args.db)
        elif args.phase == "pg_import":
            result = phase_pg_import(args.source, args.target)
        elif args.phase == "lookups":
            result = phase_lookups(args.target, args.lookups, args.busy)
        else:
            result = phase_queries(args.db, args.lookups, args.busy)
        print(json.dumps(result))
        return 0

    dump = _dump(args.workdir, args.count)
    size = dump.stat().st_size
    db = args.workdir / "store.db"
    base = _child("baseline", "--source", str(dump))
    imp = _child("import", "--source", str(dump), "--db", str(db))
    busy_flag = ["--busy"] if args.busy else []
    q = _child("queries", "--db", str(db), "--lookups", str(args.lookups), *busy_flag)
    pages = _child("pages", "--db", str(args.workdir / "pages.db")) if PAGES.is_dir() else None
    if args.to:
        pg_imp = _child("pg_import", "--source", str(dump), "--target", args.to)
        lookups = ["--lookups", str(args.lookups), *busy_flag]
        lite = _child("lookups", "--target", str(db), *lookups)
        pg = {**pg_imp, **_child("lookups", "--target", args.to, *lookups)}

    def p(kind: str, at: float) -> float:
        return percentile(q[kind], at)

    select50 = statistics.median(q["select"])
    measures = [
        Measure("import, wall clock", imp["seconds"], "s", base["seconds"], "import vs csv.reader"),
        Measure("  CPU of the parser processes", imp["parser_cpu"], "s", base["cpu"]),
        Measure("  CPU of the store's writer thread", imp["writer_cpu"], "s", base["cpu"]),
        Measure("  CPU of the importing process", imp["process_cpu"], "s", base["cpu"]),
        Measure("import peak memory, summed", imp["peak_mb"], "MB", base["peak_mb"], "", 400),
        Measure("store size / dump size", imp["size"] / size, "x", target=1.0),
    ]
    if pages is not None:
        ratio = pages["size"] / pages["text"]
        measures.append(Measure("corpus/pages store size / their text", ratio, "x", target=1.0))
    measures += [
        Measure(
            "CableLibrary.get, store hit, p99",
            p("get", 0.99),
            "ms",
            p("select", 0.99),
            "get/search vs raw SELECT by primary key",
            1.0,
        ),
        Measure("  same, p50", statistics.median(q["get"]), "ms", select50),
        Measure(
            "longest loop stall during store reads, p99.9",
            p("stalls", 0.999),
            "ms",
            p("idle", 0.999),
            "stall vs the same probe on an idle loop",
            1.0,
        ),
        Measure("  loop-thread CPU per read, p99.9", p("cpu", 0.999), "ms", p("cpu_idle", 0.999)),
    ]
    mode = "--busy while looking up and searching" if args.busy else "quiet"
    print_table(
        f"bench/store.py: {imp['rows']:,.0f} cables imported ({imp['errors']:.0f} errors), "
        f"{size / 1e6:,.0f} MB dump, {mode}",
        measures,
    )
    print()
    search_table(q)
    if pages is not None:
        print(
            f"corpus/pages: {pages['rows']:,.0f} pages, {pages['text'] / 1e6:.1f} MB of header "
            f"and body text, store {pages['size'] / 1e6:.1f} MB"
        )
    if args.to:
        _postgres_table(args.to, imp, pg, lite, mode)
        name, _ = _scratch(args.to)
        asyncio.run(_admin(args.to, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
