"""Cold start: whole-process time of `cablebot --help` and `cablebot resolve` on a filled store.

    .venv/bin/python bench/startup.py [--runs 10] [--store PATH] [--busy]

Median of `--runs` runs of each command, run as `python -m bot` from this checkout, beside the
same interpreter doing nothing (`python -c pass`). Without --store, a store holding the seed
cable (or a synthetic one) is made in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


def whole_process(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median seconds of `runs` runs of `argv` (which must succeed), from start to exit."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, cwd=ROOT, check=True, capture_output=True, timeout=60)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--store", type=Path, help="a filled store to resolve from")
    parser.add_argument("--busy", action="store_true", help="keep every CPU busy meanwhile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or filled_store(Path(tmp))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CABLEBOT_", "DISCORD_"))}
        env |= {"CABLEBOT_DATA_DIR": tmp, "CABLEBOT_STORE_PATH": str(store)}
        python = [sys.executable]
        with busy(args.busy) as spinning:
            bare = whole_process([*python, "-c", "pass"], env, args.runs)
            helped = whole_process([*python, "-m", "bot", "--help"], env, args.runs)
            resolved = whole_process([*python, "-m", "bot", "resolve", MESSAGE], env, args.runs)
    mode = f"--busy: {spinning} spinning processes" if args.busy else "quiet"
    print_table(
        f"bench/startup.py, median of {args.runs} whole-process runs, {mode}",
        [
            Measure("cablebot --help", helped, "s", bare, "python -c pass", 0.15),
            Measure(f'cablebot resolve "{MESSAGE}", filled store', resolved, "s", bare, "", 0.3),
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
