#!/usr/bin/env python3
"""Discovery benchmark: `python bench/discover.py --db STORE.db [--busy]` or
`python bench/discover.py --to postgresql://… [--busy]`.

Opens the store as `cablebot run` does (`CableLibrary.open`; a SQLite store of an older schema
is migrated, so point --db at a copy) and times every discovery method of `CableLibrary` on a
fixed set of queries, in one warm process: each query is run twice to warm up, then --runs
times. Each line prints p50 and p99 against the 100 ms target, and the ratio of its p99 to the
p99 of a baseline measured in the same run: `CableLibrary.get` of one cable (a primary-key
read). The queries name what the generated dump (bench/make_dump.py) has: its 16 tags are each
on about a quarter of the cables (so tag pairs and triples are the rare filters), its 16
origins on a sixteenth each.
`--busy` keeps every CPU busy with a spinning process while measuring.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import busy, percentile  # noqa: E402

TARGET = 100.0  # ms, p99 of every method


def _filters(**kwargs: Any) -> Any:
    from bot.library.discover import Filters

    return Filters(**kwargs)


def queries(
    much_cited: str, some_cable: str
) -> list[tuple[str, str, Callable[[Any], Awaitable[Any]]]]:
    """The fixed query set: (method, what, call on a CableLibrary)."""
    f = _filters
    y2008 = {"date_from": date(2008, 1, 1), "date_to": date(2008, 12, 31)}
    browse = {
        "no filter": f(),
        "tag PGOV": f(tags=("PGOV",)),
        "tag MX": f(tags=("MX",)),
        "tags PGOV+MX": f(tags=("PGOV", "MX")),
        "tags KDEM+SNAR+ENRG": f(tags=("KDEM", "SNAR", "ENRG")),
        "origin mexico": f(origin="mexico"),
        "origin Embassy Baghdad": f(origin="Embassy Baghdad"),
        "classification SECRET": f(classification="SECRET"),
        "classification UNCLASSIFIED//": f(classification="UNCLASSIFIED//"),
        "2008": f(**y2008),
        "1990-03-01..1990-03-31": f(date_from=date(1990, 3, 1), date_to=date(1990, 3, 31)),
        "tag PTER, origin Baghdad, 2008": f(tags=("PTER",), origin="baghdad", **y2008),
        "tag PGOV, SECRET, since 2005": f(
            tags=("PGOV",), classification="secret", date_from=date(2005, 1, 1)
        ),
    }
    out: list[tuple[str, str, Callable[[Any], Awaitable[Any]]]] = []

    def add(method: str, what: str, call: Callable[[Any], Awaitable[Any]]) -> None:
        out.append((method, what, call))

    for what, filters in browse.items():
        for sort in ("oldest", "newest"):
            add("browse", f"{what}, {sort}", lambda lib, f=filters, s=sort: lib.browse(f, sort=s))
    for what in ("no filter", "tag PGOV", "origin mexico", "tags PGOV+MX"):
        add(
            "browse",
            f"{what}, oldest, offset 1000",
            lambda lib, f=browse[what]: lib.browse(f, sort="oldest", limit=20, offset=1000),
        )
        add(
            "browse",
            f"{what}, newest, offset 1000",
            lambda lib, f=browse[what]: lib.browse(f, sort="newest", limit=20, offset=1000),
        )
    for what in ("no filter", "tag PGOV", "tags KDEM+SNAR+ENRG", "origin mexico", "2008"):
        add("random", what, lambda lib, f=browse[what]: lib.random(f, pick=0.73))
    for day in ("01-01", "03-15", "02-29", "12-31"):
        add("on_this_day", day, lambda lib, d=day: lib.on_this_day(d))
    add("on_this_day", "03-15, offset 100", lambda lib: lib.on_this_day("03-15", offset=100))
    add("citing (cited-by)", f"{much_cited} (most cited)", lambda lib: lib.citing(much_cited))
    add("citations (cites)", some_cable, lambda lib: lib.citations(some_cable))
    for by in ("year", "month", "origin", "tag", "classification"):
        for what in ("no filter", "tag PGOV", "origin mexico", "classification SECRET", "2008"):
            add("counts", f"by {by}, {what}", lambda lib, f=browse[what], b=by: lib.counts(f, b))
    return out


async def _pick_cables(library: Any) -> tuple[str, str]:
    """A much-cited cable and a cable citing it, found through the library."""
    page = await library.browse(_filters(), sort="oldest", limit=200)
    best, citer = "", ""
    for hit in page.hits:
        for cited in await library.citations(hit.ref_id):
            if cited.in_store:
                count = len(await library.citing(cited.ref_id))
                if not best or count > len(await library.citing(best)):
                    best, citer = cited.ref_id, hit.ref_id
    return best, citer or page.hits[0].ref_id


async def _time(call: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
    for _ in range(2):
        await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def run(args: argparse.Namespace) -> int:
    from bot.config import Settings
    from bot.library.cables import CableLibrary

    if args.to:
        settings = Settings(database_url=args.to, mirrors=())
        where = args.to
    else:
        db = Path(args.db)
        settings = Settings(data_dir=db.parent, store_path=db, mirrors=())
        where = str(db)
    async with await CableLibrary.open(settings, serving=True) as library:
        stats = await library.stats()
        much_cited, some_cable = await _pick_cables(library)
        measured = queries(much_cited, some_cable)
        if args.only:
            measured = [q for q in measured if args.only in f"{q[0]} {q[1]}"]
        with busy(args.busy):
            base = await _time(lambda: library.get(some_cable), args.runs)
            rows = []
            for method, what, call in measured:
                samples = await _time(lambda c=call: c(library), args.runs)  # type: ignore[misc]
                rows.append((method, what, percentile(samples, 0.5), percentile(samples, 0.99)))
    base99 = percentile(base, 0.99)
    mode = "--busy" if args.busy else "quiet"
    print(
        f"bench/discover.py: {where}, {stats.cables:,} cables, {args.runs} runs per query"
        f" after 2 warm-up runs, {mode}"
    )
    print(
        f"{'method':<18}{'query':<42}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>9}{'target':>9}  verdict"
    )
    missed = 0
    for method, what, p50, p99 in rows:
        verdict = "met" if p99 <= TARGET else "MISSED"
        missed += verdict == "MISSED"
        print(
            f"{method:<18}{what[:41]:<42}{p50:>8.1f}{p99:>8.1f}{p99 / base99:>8.0f}x"
            f"{'<= ' + format(TARGET, '.0f'):>9}  {verdict}"
        )
    print(
        f"baseline (same run): CableLibrary.get({some_cable}) p50 {percentile(base, 0.5):.2f} ms,"
        f" p99 {base99:.2f} ms; ratio = p99 / baseline p99"
    )
    print(f"{len(rows) - missed} of {len(rows)} met the target")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", help="a SQLite store (migrated when older: use a copy)")
    where.add_argument("--to", help="a postgresql:// URL of an imported store")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per query")
    parser.add_argument("--only", help="only the queries whose method and text contain this")
    parser.add_argument("--busy", action="store_true", help="keep every CPU busy meanwhile")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
