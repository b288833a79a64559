"""Latency of chat text -> ready-to-send Discord payload, on a store hit and without references.

    .venv/bin/python bench/resolve.py [--rounds N]

Prints p50/p99 per case and the ratio to a baseline measured in the same run: for the store hit,
the bare `CableLibrary.get` of the same cable; for messages without references, a `str.lower()`
of the same text (the cheapest thing any handler does to a message). Targets: p99 of the store
hit under 2 ms; a message without references under 5 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answer import answer  # noqa: E402
from bot.discord.embeds import payload  # noqa: E402
from bot.library.cables import CableLibrary  # noqa: E402
from bot.library.store import CableStore, one_cpu  # noqa: E402
from parsers.models import Cable, Paragraph  # noqa: E402

SEED = ROOT.parent / "shared" / "corpus" / "seed" / "08MEXICO2498.txt"
Row = tuple[str, float, float, float]
CHATTER = [
    "lol that meeting ran long again, anyone up for lunch at 12:30?",
    "I think the 2nd draft is better; see the doc from May 5 (v3)",
    "https://example.org/some/page?id=42 has the photos from 2019",
    "ok",
]


def sample_cable() -> Cable:
    """The seed cable when ../shared is present, else a synthetic cable of similar size."""
    if SEED.exists():
        from parsers.page import parse_page

        return parse_page(SEED.read_text(encoding="utf-8"))
    text = " ".join(["the ministry said the talks would resume after the elections"] * 15)
    return Cable(
        ref_id="08MEXICO2498",
        created=datetime(2008, 8, 14, 18, 42),
        classification="UNCLASSIFIED//FOR OFFICIAL USE ONLY",
        origin="Embassy Mexico",
        subject="SCENESETTER FOR A VISIT",
        tags=("PREL", "PGOV", "SNAR", "ECON", "OREP", "MX"),
        paragraphs=tuple(Paragraph(number=n, marking="SBU", text=text) for n in range(1, 11)),
    )


def run_now(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never suspends, without an event loop round trip."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("the coroutine suspended")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def timed(fn: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        await fn()
        samples.append((time.perf_counter_ns() - start) / 1e3)
    return samples


def timed_sync(fn: Callable[[], Any], rounds: int, batch: int = 100) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter_ns() - start) / 1e3 / batch)
    return samples


async def store_hit(library: CableLibrary, cable: Cable, rounds: int) -> list[Row]:
    """The store-hit rows: bare `get`, then text -> payload with and without citations."""
    text = f"have you read {cable.ref_id} ¶5 yet?"

    async def pipeline(with_citations: bool = False) -> None:
        reply = await answer(library, text, with_citations=with_citations)
        sent = payload(reply, owner_id=1)
        [embed.to_dict() for embed in sent["embeds"]]
        sent["view"].to_components()

    async def bare_get() -> None:
        await library.get(cable.ref_id)

    for _ in range(50):  # warm up caches and the SQLite page cache
        await pipeline()
    base50, base99 = percentiles(await timed(bare_get, rounds))
    hit50, hit99 = percentiles(await timed(pipeline, rounds))
    cite50, cite99 = percentiles(await timed(lambda: pipeline(True), rounds // 2))
    return [
        ("baseline: CableLibrary.get (store hit)", base50, base99, 1.0),
        ("text -> embed payload (store hit)", hit50, hit99, hit50 / base50),
        ("  same, with the citations built too", cite50, cite99, cite50 / base50),
    ]


async def main(rounds: int) -> None:
    cable = sample_cable()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        async with await CableStore.open(path) as store:
            await store.put([cable])
            library = CableLibrary(store)
            rows.append(("store threads free to run on any CPU:", 0.0, 0.0, 0.0))
            rows += await store_hit(library, cable, rounds)
            for message in CHATTER:
                low50, _ = percentiles(timed_sync(message.lower, rounds // 10 + 10))
                m50, m99 = percentiles(
                    timed_sync(lambda m=message: run_now(answer(library, m)), rounds // 10 + 10)
                )
                rows.append((f"baseline: str.lower ({len(message)} chars)", low50, low50, 1.0))
                rows.append((f"no reference: {message[:28]!r}", m50, m99, m50 / low50))
        # last: pinning the event loop's thread cannot be undone for the threads it starts
        async with await CableStore.open(path, cpu=one_cpu()) as store:
            rows.append(("event loop and store threads on one CPU, as `cablebot run`:", 0, 0, 0))
            served = await store_hit(CableLibrary(store), cable, rounds)
            rows += served
    print(f"{'case':<62} {'p50 µs':>9} {'p99 µs':>9} {'ratio':>8}")
    for name, p50, p99, ratio in rows:
        if not ratio:
            print(name)
            continue
        print(f"{name:<62} {p50:>9.2f} {p99:>9.2f} {ratio:>8.1f}")
    hit99 = served[1][2]
    print(f"\nstore hit p99 as the bot runs {hit99 / 1000:.3f} ms (target < 2 ms); {cable.ref_id}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    asyncio.run(main(parser.parse_args().rounds))
