#!/usr/bin/env python3
"""Filter autocomplete of the Discord commands (bot.discord.vocabulary) on a store.

A keystroke in `/search tag:` or `origin:` is answered from counts kept in memory; the baseline,
measured in the same run, is what a keystroke would cost without them: counting the store's
tags or origins (`CableLibrary.counts`, the query the memory is filled from). The tags offered
are the store's; on top, the whole built-in TAGS table is offered as if every code were in the
store, the worst case of a real dump. Target: p99 of a keystroke <= 10 ms (Discord allows 3 s).

    .venv/bin/python bench/autocomplete.py STORE [--keystrokes N] [--busy]

STORE is opened as `cablebot run` opens it (it may be migrated): give a copy of a big store.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Measure, busy, percentile, print_table

from bot.chat import load_tag_meanings
from bot.discord.vocabulary import Vocabulary, name_choices, tag_choices
from bot.library.cables import CableLibrary
from bot.library.discover import Count, Filters
from bot.library.store import CableStore


def _typed(rng: random.Random, count: int) -> list[str]:
    """What people type: one to four letters, sometimes nothing."""
    letters = string.ascii_lowercase
    return ["".join(rng.choice(letters) for _ in range(rng.randint(0, 4))) for _ in range(count)]


async def _run(store_path: Path, keystrokes: int) -> list[Measure]:
    rng = random.Random(14)
    meanings = load_tag_meanings(None)
    async with CableLibrary(await CableStore.open(store_path)) as library:
        counted: dict[str, list[float]] = {"tag": [], "origin": []}
        for by in ("tag", "origin"):
            for _ in range(5):
                start = time.perf_counter()
                await library.counts(Filters(), by)  # type: ignore[arg-type]
                counted[by].append(time.perf_counter() - start)
        kept = Vocabulary(library)
        tags, origins = await kept.terms("tag"), await kept.terms("origin")
        table = [Count(key=code, count=rng.randint(1, 60_000)) for code in meanings]
        table.sort(key=lambda c: -c.count)
        cases = {
            f"tag: the store's {len(tags)} codes": lambda t: tag_choices(t, tags, meanings),
            f"tag: all {len(table)} TAGS codes": lambda t: tag_choices(t, table, meanings),
            f"origin: the store's {len(origins)} origins": lambda t: name_choices(t, origins),
        }
        measures = []
        for name, complete in cases.items():
            by = "origin" if name.startswith("origin") else "tag"
            samples = []
            for typed in _typed(rng, keystrokes):
                start = time.perf_counter()
                await kept.terms(by)  # type: ignore[arg-type]  # (the memory's cost counts too)
                assert len(complete(typed)) <= 25
                samples.append(time.perf_counter() - start)
            for q, target in ((0.5, None), (0.99, 10.0)):
                measures.append(
                    Measure(
                        f"keystroke p{q * 100:.0f}, {name}",
                        percentile(samples, q) * 1000,
                        "ms",
                        baseline=percentile(counted[by], 0.5) * 1000,
                        baseline_name=f"counting the store's {by}s (median of 5)",
                        target=target,
                    )
                )
        await kept.close()
    return measures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path, help="a copy of a big store (it may be migrated)")
    parser.add_argument("--keystrokes", type=int, default=2000)
    parser.add_argument("--busy", action="store_true", help="keep every CPU busy meanwhile")
    args = parser.parse_args()
    with busy(args.busy):
        measures = asyncio.run(_run(args.store, args.keystrokes))
    print_table(f"filter autocomplete on {args.store}", measures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
