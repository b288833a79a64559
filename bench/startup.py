"""Cold start: whole-process time of `cablebot --help` and `cablebot resolve` on a filled store.

    .venv/bin/python bench/startup.py [--runs 10] [--store PATH] [--busy]

Median of `--runs` runs of each command, run as `python -m bot` from this checkout, beside the
same interpreter doing nothing (`python -c pass`): wall clock (the targets), and CPU time (user
and system), which other work on the machine changes less. Without --store, a store holding the
seed cable (or a synthetic one) is made in a temporary folder. `resolve` must be a store hit (a
miss measures the mirror): when the --store does not hold 08MEXICO2498 (the generated dump does
not), the message names its first cable with a paragraph 5 instead. The store is only read
(opening a store at the current schema writes nothing to it; an older one is refused). Bytecode
is cached (PYTHONDONTWRITEBYTECODE is dropped for the runs), as in an installed cablebot, which
does not compile its modules on every run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import Measure, busy, print_table  # noqa: E402

MESSAGE = "08MEXICO2498 ¶5"


def whole_process(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median seconds of `runs` runs of `argv` (which must succeed) from start to exit, and
    median CPU seconds (user and system) of those runs."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, env=env, cwd=ROOT, check=True, capture_output=True, timeout=60)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times), statistics.median(cpu)


def filled_store(folder: Path) -> Path:
    """A store in `folder` holding the cable MESSAGE names."""
    from resolve import sample_cable

    from bot.library.store import CableStore

    path = folder / "cables.db"

    async def fill() -> None:
        async with await CableStore.open(path) as store:
            await store.put([sample_cable()])

    asyncio.run(fill())
    return path


def stored_message(store: Path) -> str:
    """MESSAGE when `store` holds its cable, else the same request for a cable it holds. A
    store at an older schema is refused: resolving would migrate it."""
    from bot.library.store import SCHEMA_VERSION, stored_schema

    version = stored_schema(store)
    if version != SCHEMA_VERSION:
        raise SystemExit(
            f"{store} is at schema {version}, not {SCHEMA_VERSION}: resolving would migrate it;"
            " copy it (cp --reflink=auto) and open the copy once, e.g. with `cablebot setup`"
        )
    conn = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
    try:
        ref_id = MESSAGE.split()[0]
        if conn.execute("SELECT 1 FROM cables WHERE ref_id = ?", (ref_id,)).fetchone():
            return MESSAGE
        row = conn.execute("SELECT ref_id FROM cables WHERE paragraphs >= 5 LIMIT 1").fetchone()
    finally:
        conn.close()
    if row is None:
        raise SystemExit(f"{store}: no stored cable has a paragraph 5")
    return f"{row[0]} ¶5"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--store", type=Path, help="a filled store to resolve from")
    parser.add_argument("--busy", action="store_true", help="keep every CPU busy meanwhile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or filled_store(Path(tmp))
        message = stored_message(store)
        # bytecode cached, as an installed cablebot has it (the warm-up run below writes it)
        skip = ("CABLEBOT_", "DISCORD_", "PYTHONDONTWRITEBYTECODE")
        env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
        env |= {"CABLEBOT_DATA_DIR": tmp, "CABLEBOT_STORE_PATH": str(store)}
        python = [sys.executable]
        shown = subprocess.run(  # once before timing: a store hit, and the file in the cache
            [*python, "-m", "bot", "resolve", message, "--json"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        if '"error"' in shown:
            raise SystemExit(f"resolve {message!r} is no store hit: {shown}")
        with busy(args.busy) as spinning:
            bare, bare_cpu = whole_process([*python, "-c", "pass"], env, args.runs)
            helped, helped_cpu = whole_process([*python, "-m", "bot", "--help"], env, args.runs)
            resolved, resolved_cpu = whole_process(
                [*python, "-m", "bot", "resolve", message], env, args.runs
            )
    mode = f"--busy: {spinning} spinning processes" if args.busy else "quiet"
    resolve = f'cablebot resolve "{message}", store hit'
    print_table(
        f"bench/startup.py, median of {args.runs} whole-process runs, {mode}",
        [
            Measure("cablebot --help", helped, "s", bare, "python -c pass", 0.15),
            Measure(resolve, resolved, "s", bare, "", 0.3),
            Measure("cablebot --help, CPU time", helped_cpu, "s", bare_cpu),
            Measure(f"{resolve}, CPU time", resolved_cpu, "s", bare_cpu),
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
