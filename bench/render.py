"""Time to draw the images the bot posts: quote cards (bot.quote_image) and charts (bot.chart).

    .venv/bin/python bench/render.py [--rounds 30] [--busy]

Warm renders (fonts loaded) are timed `--rounds` times each, p50 and p99, beside the same
process encoding a blank 1200x675 PNG (the least any image costs). The first chart and the
first quote card of a fresh process (Pillow imported, fonts read) are timed in a subprocess,
beside that interpreter starting and importing the counts' models only. The charts' counts
have the shapes of the full generated dump: 19 years over 1966-2010, 228 months over 540,
274 origins. Target: under 300 ms each.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import Measure, busy, percentile, print_table  # noqa: E402

from bot.library.discover import Count, Counts  # noqa: E402

TARGET = 0.3
YEARS = (1966, 1972, 1975, 1979, 1986, 1988, 1989, 1990, *range(2000, 2011))


def dump_counts(by: str) -> Counts:
    """Counts shaped like the full generated dump's."""
    if by == "year":
        rows = [Count(key=str(y), count=36_000 if y >= 2005 else 1_250) for y in YEARS]
    elif by == "month":
        rows = [
            Count(key=f"{y}-{m:02d}", count=3_000 + 37 * m if y >= 2005 else 105 + m)
            for y in YEARS
            for m in range(1, 13)
        ]
    else:
        rows = [Count(key=f"Embassy Number {n}", count=15_706 - n) for n in range(274)]
    return Counts(total=sum(c.count for c in rows), by=by, counts=rows)  # type: ignore[arg-type]


def timed(draw: Callable[[], bytes], rounds: int) -> list[float]:
    """Seconds of each of `rounds` calls of `draw` (after one call not counted)."""
    draw()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        draw()
        samples.append(time.perf_counter() - started)
    return samples


FIRST = """
import time
from bench.render import dump_counts
from bench.resolve import sample_cable
from bot.share import quote_of
started = time.perf_counter()
{imports}
{draw}
print(time.perf_counter() - started)
"""


def first_in_process(imports: str, draw: str) -> float:
    """Seconds a fresh interpreter takes to import what draws and draw a first image (the
    data's models are imported before the clock starts)."""
    code = FIRST.format(imports=imports, draw=draw)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--busy", action="store_true", help="keep every CPU busy meanwhile")
    args = parser.parse_args()

    from PIL import Image
    from resolve import sample_cable

    from bot.chart import render_png as chart
    from bot.quote_image import render_png as card
    from bot.share import quote_of

    def blank() -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (1200, 675), (246, 242, 231)).save(out, format="PNG", compress_level=1)
        return out.getvalue()

    cable = sample_cable()
    short, whole = quote_of(cable, [cable.paragraphs[0].number]), quote_of(cable, [])
    counts = {by: dump_counts(by) for by in ("year", "month", "origin")}
    warm: dict[str, Callable[[], bytes]] = {
        "quote card, first paragraph": lambda: card(short),
        "quote card, whole cable (cut to fit)": lambda: card(whole),
        **{
            f"chart by {by}": (lambda c=c: chart(c, f"Cables by {c.by}"))
            for by, c in counts.items()
        },
    }
    firsts = {
        "blank": (
            "import io; from PIL import Image",
            "Image.new('RGB', (1200, 675)).save(io.BytesIO(), format='PNG', compress_level=1)",
        ),
        "chart": (
            "from bot.chart import render_png",
            "render_png(dump_counts('year'), 'Cables by year')",
        ),
        "card": (
            "from bot.quote_image import render_png",
            "render_png(quote_of(sample_cable(), [1]))",
        ),
    }
    with busy(args.busy) as spinning:
        base = statistics.median(timed(blank, args.rounds))
        samples = {name: timed(draw, args.rounds) for name, draw in warm.items()}
        first = {
            name: statistics.median(first_in_process(*code) for _ in range(5))
            for name, code in firsts.items()
        }
    measures = []
    for name, times in samples.items():
        for label, q in (("p50", 0.5), ("p99", 0.99)):
            value = percentile(times, q) * 1000
            measures.append(
                Measure(f"{name}, {label}", value, "ms", base * 1000, "blank PNG", TARGET * 1000)
            )
    measures += (
        Measure(
            f"first {name} of a fresh process (import, fonts)",
            first[name] * 1000,
            "ms",
            first["blank"] * 1000,
            "import PIL + blank PNG, fresh process",
            TARGET * 1000,
        )
        for name in ("chart", "card")
    )
    mode = f"--busy: {spinning} spinning processes" if args.busy else "quiet"
    print_table(f"bench/render.py, {args.rounds} warm rounds each, {mode}", measures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
