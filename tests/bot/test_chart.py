"""bot.chart and `cablebot stats --chart`: the PNG's size, its bars measured back in pixels
against the numbers of `--json`, its title read back by OCR, and what it leaves out."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.chart import BAR, HEIGHT, OTHER, TOP, WIDTH, alt_text, bars, render_png, ticks, title
from bot.cli import main
from bot.library.discover import Count, Counts, Filters
from bot.library.store import CableStore
from tests.bot.library.helpers import make_cable
from tests.bot.test_quote_image import _ocr

YEARS = {2003: 2, 2005: 7, 2006: 1, 2009: 4}
"""Cables of Embassy Atlantis in the test store, by year (2004, 2007 and 2008 have none)."""
ORIGINS = 13
"""Other origins, the n-th with n cables of 2010: more than TOP, so some become "other"."""


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A store in tmp_path holding YEARS and ORIGINS cables; the CLI reads it."""
    for key in [k for k in os.environ if k.upper().startswith("CABLEBOT_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    cables = [
        make_cable(f"{year % 100:02d}ATLANTIS{i}").model_copy(update={"tags": ("PREL", "AT")})
        for year, many in YEARS.items()
        for i in range(many)
    ]
    for n in range(1, ORIGINS + 1):
        cables += [
            make_cable(f"10PLACE{n}X{i}").model_copy(
                update={
                    "origin": f"Consulate Place {n:02d}",
                    "created": datetime(2010, n % 12 + 1, 2),
                }
            )
            for i in range(n)
        ]

    async def fill() -> None:
        async with await CableStore.open(tmp_path / "cables.db") as opened:
            await opened.put(cables)

    asyncio.run(fill())
    return tmp_path


def _stats(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["stats", *argv, "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    result: dict[str, Any] = json.loads(out)
    return result


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(start, length) of each run of True in `flags`."""
    found, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            found.append((start, i - start))
            start = None
    return found


def _columns(png: Image.Image) -> list[int]:
    """The height in pixels of each vertical bar, left to right."""
    rgb = png.convert("RGB")
    width, height = rgb.size
    pixels = rgb.load()
    assert pixels is not None
    filled = [sum(pixels[x, y] == BAR for y in range(height)) for x in range(width)]
    return [max(filled[s : s + n]) for s, n in _runs([f > 0 for f in filled])]


def _rows(png: Image.Image) -> list[tuple[int, bool]]:
    """(length in pixels, is it the "other" bar) of each horizontal bar, top to bottom."""
    rgb = png.convert("RGB")
    width, height = rgb.size
    pixels = rgb.load()
    assert pixels is not None
    colour = [
        next((c for x in range(width) if (c := pixels[x, y]) in (BAR, OTHER)), None)
        for y in range(height)
    ]
    found = []
    for start, n in _runs([c is not None for c in colour]):
        y = start + n // 2
        found.append((sum(pixels[x, y] in (BAR, OTHER) for x in range(width)), colour[y] == OTHER))
    return found


def test_year_bars_are_as_tall_as_the_json_counts(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = store / "years.png"
    result = _stats(capsys, "--origin", "atlantis", "--chart", str(png))
    assert result["chart"] == str(png) and result["total"] == sum(YEARS.values())
    counts = {int(c["key"]): c["count"] for c in result["counts"]}
    assert counts == YEARS
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (WIDTH, HEIGHT) == (1200, 675)
        heights = _columns(image)
    assert len(heights) == len(YEARS)  # the years without cables are gaps, not bars
    tallest = max(heights)
    for height, count in zip(heights, counts.values(), strict=True):
        assert abs(height - tallest * count / max(YEARS.values())) <= 1


def test_origins_beyond_the_top_add_up_to_one_other_bar(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = store / "origins.png"
    result = _stats(capsys, "--from", "2010-01-01", "--by", "origin", "--chart", str(png))
    counts = [c["count"] for c in result["counts"]]
    assert counts == list(range(ORIGINS, 0, -1))
    with Image.open(png) as image:
        measured = _rows(image)
    assert [other for _, other in measured] == [False] * TOP + [True]
    longest = measured[0][0]
    for (length, _), count in zip(measured[:TOP], counts[:TOP], strict=True):
        assert abs(length - longest * count / counts[0]) <= 1
    rest = sum(counts[TOP:])  # 6, less than the largest: drawn to scale
    assert abs(measured[TOP][0] - longest * rest / counts[0]) <= 1


def test_month_chart_has_a_bar_per_month_with_cables(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = store / "months.png"
    result = _stats(capsys, "--by", "month", "--chart", str(png))
    with Image.open(png) as image:
        assert image.size == (1200, 675)
        assert len(_columns(image)) == len(result["counts"])  # 2003-03 .. 2010-12, thin bars


def test_the_title_names_the_filters_and_reads_back(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = store / "filtered.png"
    _stats(capsys, "--tag", "prel", "--origin", "atlantis", "--chart", str(png))
    words = _ocr(png)
    assert "Cables by year — tag PREL, origin atlantis".replace("—", "") in words.replace("—", "")
    assert "14 cables" in words and "2005" in words and "cables" in words and "year" in words


def test_title_alt_text_and_an_empty_chart() -> None:
    filters = Filters(
        tags=("PREL", "MX"), origin="mexico", date_from=date(2005, 1, 1), date_to=date(2008, 12, 31)
    )
    assert title(filters, "year") == (
        "Cables by year — tags PREL+MX, origin mexico, 2005-01-01 to 2008-12-31"
    )
    assert title(Filters(classification="SECRET"), "tag") == "Cables by tag — classification SECRET"
    assert title(Filters(), "month") == "Cables by month"
    counts = Counts(
        total=5,
        by="year",
        counts=[Count(key="2008", count=3), Count(key="2010", count=1), Count(key=None, count=1)],
    )
    assert [(b.label, b.count) for b in bars(counts)] == [("2008", 3), ("2009", 0), ("2010", 1)]
    assert alt_text(counts, "Cables by year") == (
        "Cables by year. 5 cables · 1 undated not shown. 2008: 3; 2010: 1"
    )
    many = Counts(total=900, by="month", counts=[Count(key="2001-01", count=n) for n in range(900)])
    assert len(alt_text(many, "Cables by month")) <= 1024
    empty = Counts(total=0, by="origin", counts=[])
    with Image.open(io.BytesIO(render_png(empty, "Cables by origin — origin nowhere"))) as image:
        assert image.size == (1200, 675) and not _rows(image)


def test_ticks_are_round_and_cover_the_largest() -> None:
    assert ticks(36_739) == [0, 10_000, 20_000, 30_000, 40_000]
    assert ticks(587) == [0, 200, 400, 600]
    assert ticks(3) == [0, 1, 2, 3]
    assert ticks(0) == [0, 1]


def test_stats_without_a_chart_loads_neither_the_chart_nor_pillow(store: Path) -> None:
    probe = (
        "import sys; from bot.cli import main; code = main(sys.argv[1:]); "
        "sys.exit(code or 10 * ('PIL' in sys.modules) + 20 * ('bot.chart' in sys.modules))"
    )
    env = {**os.environ, "CABLEBOT_DATA_DIR": str(store)}
    run = [sys.executable, "-c", probe, "stats", "--by", "origin"]
    assert subprocess.run(run, env=env, capture_output=True, check=False).returncode == 0
    drawn = subprocess.run([*run, "--chart", str(store / "c.png")], env=env, check=False)
    assert drawn.returncode == 30  # both, only when asked


def test_a_long_title_wraps_to_a_second_line_and_keeps_every_filter(tmp_path: Path) -> None:
    filters = Filters(
        tags=("PREL",), origin="mexico", date_from=date(2005, 1, 1), date_to=date(2008, 12, 31)
    )
    counts = Counts(total=4, by="year", counts=[Count(key="2006", count=4)])
    png = tmp_path / "long.png"
    png.write_bytes(render_png(counts, title(filters, "year")))
    words = _ocr(png)
    assert "tag PREL, origin mexico, 2005-01-01 to" in words and "2008-12-31 4 cables" in words


def test_loading_the_chart_and_the_stats_cog_does_not_import_pillow() -> None:
    code = "import sys, bot.chart, bot.discord.cogs.stats; sys.exit('PIL' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
