"""Latency of chat text -> ready-to-send Discord payload on a store hit, and what it is made of.

    .venv/bin/python bench/resolve.py [--rounds N] [--busy]

The library is opened as `cablebot run` opens it (CableLibrary.open, serving). Each measure is
printed beside a baseline measured in the same run: the payload against the bare
`CableLibrary.get` it starts with, `get` against a raw SQLite `SELECT` of the same row,
a message without references against `str.lower()` of it, and the event loop's longest stalls
during store reads against the same probe while the loop does nothing else.
`--busy` keeps every CPU busy with a spinning process at normal priority while it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
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
sys.path.insert(0, str(ROOT / "bench"))

from common import Measure, busy, percentile, print_table  # noqa: E402

from bot.answer import answer  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.discord.embeds import payload  # noqa: E402
from bot.library.cables import CableLibrary  # noqa: E402
from bot.library.store import CableStore  # noqa: E402
from parsers.models import Cable, Paragraph  # noqa: E402

SEED = ROOT.parent / "shared" / "corpus" / "seed" / "08MEXICO2498.txt"
CHATTER = "lol that meeting ran long again, anyone up for lunch at 12:30?"


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


async def timed(fn: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    """Milliseconds of each of `rounds` awaits of `fn()`."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return samples


def timed_sync(fn: Callable[[], Any], rounds: int, batch: int = 100) -> list[float]:
    """Microseconds of one call of `fn`, averaged over `batch` calls, `rounds` times."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) * 1e6 / batch)
    return samples


async def loop_stalls(op: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    """Milliseconds between turns of a probe task while `op` is awaited `rounds` times.

    The probe yields to the loop and notes how long it waited to run again: a read done on the
    loop's own thread shows as a gap as long as the read; one done in a thread barely shows.
    Each `op()` is followed by a yield, as a bot's messages are separate tasks: a read that never
    suspends would otherwise hold the loop for all the rounds.
    """
    gaps: list[float] = []
    done = False

    async def probe() -> None:
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0)
            now = time.perf_counter()
            gaps.append((now - last) * 1e3)
            last = now

    task = asyncio.create_task(probe())
    await asyncio.sleep(0)
    for _ in range(rounds):
        await op()
        await asyncio.sleep(0)
    done = True
    await task
    return gaps


async def loop_cpu(op: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    """Milliseconds of CPU the loop's thread spends in each of `rounds` awaits of `op()`.

    Unlike a stall, not lengthened by other processes taking the CPU (as under --busy).
    """
    samples = []
    for _ in range(rounds):
        start = time.thread_time()
        await op()
        samples.append((time.thread_time() - start) * 1e3)
    return samples


async def measure(path: Path, cable: Cable, rounds: int) -> list[Measure]:
    """Every measure, on the store at `path` holding `cable`."""
    settings = Settings(data_dir=path.parent, store_path=path, mirrors=())
    text = f"have you read {cable.ref_id} ¶5 yet?"
    raw = sqlite3.connect(path)

    def raw_select() -> object:
        return raw.execute("SELECT * FROM cables WHERE ref_id = ?", (cable.ref_id,)).fetchone()

    async with await CableLibrary.open(settings, serving=True) as library:

        async def pipeline() -> None:
            reply = await answer(library, text)
            sent = payload(reply, owner_id=1)
            [embed.to_dict() for embed in sent["embeds"]]
            sent["view"].to_components()

        async def get() -> None:
            await library.get(cable.ref_id)

        async def nothing() -> None:
            await asyncio.sleep(0)

        for _ in range(50):  # warm up caches and the SQLite page cache
            await pipeline()
        select = [x / 1e3 for x in timed_sync(raw_select, rounds, batch=1)]
        got = await timed(get, rounds)
        hit = await timed(pipeline, rounds)
        idle = await loop_stalls(nothing, rounds * 5)
        stalls = await loop_stalls(get, rounds * 5)
        cpu_idle, cpu = await loop_cpu(nothing, rounds * 5), await loop_cpu(get, rounds * 5)
        lower = timed_sync(CHATTER.lower, rounds // 10 + 10)
        chatter = timed_sync(lambda: run_now(answer(library, CHATTER)), rounds // 10 + 10)
    raw.close()
    p99, p999 = 0.99, 0.999
    return [
        Measure(
            "text -> embed payload, store hit, p99",
            percentile(hit, p99),
            "ms",
            percentile(got, p99),
            "payload vs CableLibrary.get",
            2.0,
        ),
        Measure("  same, p50", statistics.median(hit), "ms", statistics.median(got)),
        Measure(
            "CableLibrary.get, store hit, p99",
            percentile(got, p99),
            "ms",
            percentile(select, p99),
            "get vs raw SELECT of its cables row (no thread, no paragraphs)",
            1.0,
        ),
        Measure("  same, p50", statistics.median(got), "ms", statistics.median(select)),
        Measure(
            "longest loop stall during store reads, p99.9",
            percentile(stalls, p999),
            "ms",
            percentile(idle, p999),
            "stall vs the same probe on an idle loop",
            1.0,
        ),
        Measure("  same, max", max(stalls), "ms", max(idle)),
        Measure(
            "  loop-thread CPU per read, p99.9",
            percentile(cpu, p999),
            "ms",
            percentile(cpu_idle, p999),
        ),
        Measure(
            "message without references, p50",
            statistics.median(chatter),
            "µs",
            statistics.median(lower),
            "no reference vs str.lower() of it",
            5.0,
        ),
    ]


async def main(rounds: int, load: bool) -> None:
    cable = sample_cable()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        async with await CableStore.open(path) as store:
            await store.put([cable])
        with busy(load) as spinning:
            measures = await measure(path, cable, rounds)
    mode = f"--busy: {spinning} spinning processes" if load else "quiet"
    print_table(f"bench/resolve.py, {cable.ref_id}, {rounds} rounds, {mode}", measures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--busy", action="store_true", help="keep every CPU busy meanwhile")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.busy))
