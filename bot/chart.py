"""A chart of `cablebot stats` counts as a 1200x675 PNG, drawn with Pillow.

Years and months are vertical bars on a time axis (years without cables show as gaps; a
few hundred months become thin bars); origins, tags and classifications are horizontal bars,
the TOP largest and one "other" bar for the rest. Fonts are large enough to read at Discord's
~550 px wide preview. Pillow is imported only when a chart is drawn (as in bot.quote_image,
whose IBM Plex Mono fonts this shares), so no plotting library is loaded by other commands.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.cards import shorten
from bot.library.discover import Counts, Filters, StatsBy
from bot.quote_image import ALT_MAX, PAPER, _font

if TYPE_CHECKING:
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont

WIDTH, HEIGHT = 1200, 675
MARGIN = 40
TOP = 10
"""Origins, tags or classifications drawn one bar each; the rest add up to one "other" bar."""
INK = (28, 28, 28)
FAINT = (96, 92, 84)
GRID = (218, 212, 198)
BAR = (31, 94, 158)
OTHER = (150, 144, 132)
TIME: tuple[StatsBy, ...] = ("year", "month")
BAR_MAX = 150
"""Widest vertical bar, in pixels (a few years are not drawn as slabs)."""
LABEL_MAX = 28
"""Longest category label, in characters (a longer one is cut with "…")."""


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its count, and whether it stands for the rest ("other")."""

    label: str
    count: int
    other: bool = False


def title(filters: Filters, by: StatsBy) -> str:
    """`Cables by year — tag PREL, origin mexico` (no dash without filters)."""
    parts = []
    if filters.query:
        parts.append(f'words "{filters.query}"')
    if filters.tags:
        parts.append(f"tag{'s' * (len(filters.tags) > 1)} {'+'.join(filters.tags)}")
    if filters.origin:
        parts.append(f"origin {filters.origin}")
    if filters.classification:
        parts.append(f"classification {filters.classification}")
    if filters.date_from and filters.date_to:
        parts.append(f"{filters.date_from} to {filters.date_to}")
    elif filters.date_from or filters.date_to:
        parts.append(f"from {filters.date_from}" if filters.date_from else f"to {filters.date_to}")
    if filters.month_day:
        parts.append(f"on {filters.month_day}")
    head = f"Cables by {by}"
    return f"{head} — {', '.join(parts)}" if parts else head


def _timeline(counts: Counts) -> list[Bar]:
    """Every year (or month) from the first to the last dated one, gaps counted 0."""
    found = {c.key: c.count for c in counts.counts if c.key is not None}
    if not found:
        return []
    first, last = min(found), max(found)
    if counts.by == "year":
        keys = [str(y) for y in range(int(first), int(last) + 1)]
    else:
        start, end = int(first[:4]) * 12 + int(first[5:7]) - 1, int(last[:4]) * 12 + int(last[5:7])
        keys = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(start, end)]
    return [Bar(key, found.get(key, 0)) for key in keys]


def bars(counts: Counts, top: int = TOP) -> list[Bar]:
    """The bars to draw: a timeline for years and months, else the `top` largest keys and
    one "other" bar adding up the rest."""
    if counts.by in TIME:
        return _timeline(counts)
    shown = [Bar(c.key or "(none)", c.count) for c in counts.counts[:top]]
    rest = counts.counts[top:]
    if rest:
        label = f"{len(rest):,} other{'s' * (len(rest) > 1)}"
        shown.append(Bar(label, sum(c.count for c in rest), other=True))
    return shown


def undated(counts: Counts) -> int:
    """Cables without a date (not on a time axis)."""
    return sum(c.count for c in counts.counts if c.key is None) if counts.by in TIME else 0


def subtitle(counts: Counts) -> str:
    """`1,234 cables` and what the chart leaves out."""
    line = f"{counts.total:,} cable{'s' * (counts.total != 1)}"
    if counts.by == "tag":
        line += " (a cable counts under each of its tags)"
    missing = undated(counts)
    if missing:
        line += f" · {missing:,} undated not shown"
    return line


def alt_text(counts: Counts, heading: str) -> str:
    """The chart's words and numbers, for its alt text (at most ALT_MAX characters)."""
    rows = [c for c in counts.counts if c.key is not None] if counts.by in TIME else counts.counts
    numbers = "; ".join(f"{c.key or '(none)'}: {c.count:,}" for c in rows)
    return shorten(f"{heading}. {subtitle(counts)}. {numbers}".rstrip(". "), ALT_MAX)


def short_number(n: float) -> str:
    """`950`, `1.5k`, `36k`, `2.5M`: a tick or bar label that stays narrow."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(n) >= size:
            value = n / size
            text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
            return text.removesuffix(".0") + suffix
    return f"{n:.0f}"


def ticks(largest: int, most: int = 5) -> list[int]:
    """Round tick values from 0 covering `largest`: steps of 1, 2 or 5 times a power of ten."""
    if largest <= 0:
        return [0, 1]
    step = 1
    for exponent in range(0, 12):
        for base in (1, 2, 5):
            step = base * 10**exponent
            if math.ceil(largest / step) <= most:
                return [i * step for i in range(math.ceil(largest / step) + 1)]
    return [0, step]


def _fit(draw: ImageDraw, text: str, weight: str, sizes: range, width: int) -> FreeTypeFont:
    """The largest font of `sizes` (descending) in which `text` fits `width` pixels."""
    for size in sizes:
        font = _font(weight, size)
        if draw.textlength(text, font=font) <= width:
            return font
    return _font(weight, sizes[-1])


def _cut(draw: ImageDraw, text: str, font: FreeTypeFont, width: int) -> str:
    """`text` shortened with "…" until it fits `width` pixels."""
    limit = len(text)
    while limit > 1 and draw.textlength(text, font=font) > width:
        limit -= 1
        text = shorten(text, limit)
    return text


def _heading_lines(draw: ImageDraw, heading: str, width: int) -> tuple[list[str], FreeTypeFont]:
    """`heading` on one line in the largest font that fits, else on two lines (cut at a
    filter), the second one cut with "…" if it must be."""
    font = _fit(draw, heading, "SemiBold", range(40, 31, -2), width)
    if draw.textlength(heading, font=font) <= width:
        return [heading], font
    font = _font("SemiBold", 32)
    words, line = heading.split(" "), ""
    for i, word in enumerate(words):
        longer = f"{line} {word}".strip()
        if line and draw.textlength(longer, font=font) > width:
            return [line, _cut(draw, " ".join(words[i:]), font, width)], font
        line = longer
    return [line], font


def render_png(counts: Counts, heading: str) -> bytes:
    """The chart of `counts` titled `heading`, as PNG bytes of WIDTH x HEIGHT pixels."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    y = MARGIN - 12
    lines, font = _heading_lines(draw, heading, WIDTH - 2 * MARGIN)
    for line in lines:
        draw.text((MARGIN, y), line, font=font, fill=INK)
        y += round(font.size) + 8
    y += 4 * (len(lines) - 1)
    draw.text((MARGIN, y), subtitle(counts), font=_font("Regular", 26), fill=FAINT)
    top = y + 100  # below the subtitle and the name of the axis
    shown = bars(counts)
    if not any(bar.count for bar in shown):
        font = _font("Regular", 34)
        draw.text((WIDTH / 2, HEIGHT / 2), "no cable matches", font=font, fill=FAINT, anchor="mm")
    elif counts.by in TIME:
        _columns(draw, shown, counts.by, top)
    else:
        _rows(draw, shown, counts.by, top)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)  # as the quote card: fast, ~15% larger
    return out.getvalue()


def _columns(draw: ImageDraw, shown: list[Bar], by: StatsBy, top: int) -> None:
    """Vertical bars on a time axis, y ticks with grid lines, x labels spaced to fit."""
    small = _font("Regular", 24)
    steps = ticks(max(bar.count for bar in shown))
    labels = [short_number(t) for t in steps]
    left = MARGIN + int(max(draw.textlength(t, font=small) for t in labels)) + 14
    right, bottom = WIDTH - MARGIN, HEIGHT - MARGIN - 78
    height = bottom - top
    draw.text((MARGIN, top - 52), "cables", font=_font("SemiBold", 26), fill=INK)
    for value, label in zip(steps, labels, strict=True):
        y = bottom - round(value / steps[-1] * height)
        draw.line((left, y, right, y), fill=GRID, width=2)
        draw.text((left - 10, y), label, font=small, fill=FAINT, anchor="rm")
    draw.line((left, bottom + 1, right, bottom + 1), fill=INK, width=2)  # below the bars
    slot = (right - left) / len(shown)
    gap = max(slot * 0.18, slot - BAR_MAX) if slot >= 6 else 0.0
    for i, bar in enumerate(shown):
        tall = round(bar.count / steps[-1] * height)
        if tall:
            x0 = left + i * slot + gap / 2
            x1 = max(x0, left + (i + 1) * slot - gap / 2 - 1)
            draw.rectangle((round(x0), bottom - tall, round(x1), bottom - 1), fill=BAR)
        number = f"{bar.count:,}"
        if draw.textlength(number, font=small) + 8 <= slot:  # room to write it above the bar
            x = left + (i + 0.5) * slot
            draw.text((x, bottom - tall - 6), number, font=small, fill=FAINT, anchor="md")
    # x labels: years, every `every` years, so that they do not touch
    per_year = 1 if by == "year" else 12
    label_width = draw.textlength("0000", font=small) + 16
    every = next(n for n in (1, 2, 5, 10, 20, 50, 100) if n * per_year * slot >= label_width)
    for i, bar in enumerate(shown):
        year, month = int(bar.label[:4]), bar.label[5:7]
        if month in ("", "01") and year % every == 0:
            x = left + i * slot + (slot / 2 if by == "year" else 0)
            draw.line((x, bottom, x, bottom + 8), fill=INK, width=2)
            draw.text((x, bottom + 12), str(year), font=small, fill=INK, anchor="mt")
    draw.text(
        ((left + right) / 2, HEIGHT - MARGIN), by, font=_font("SemiBold", 26), fill=INK, anchor="mb"
    )


def _rows(draw: ImageDraw, shown: list[Bar], by: StatsBy, top: int) -> None:
    """Horizontal bars, largest first, each with its label on the left and its count after it."""
    label_font = _font("Regular", 26 if len(shown) <= 11 else 20)
    names = [shorten(bar.label, LABEL_MAX) for bar in shown]
    left = MARGIN + int(max(draw.textlength(n, font=label_font) for n in names)) + 16
    value_room = int(draw.textlength("000,000", font=label_font)) + 12
    right, bottom = WIDTH - MARGIN - value_room, HEIGHT - MARGIN - 40
    draw.text((MARGIN, top - 52), by, font=_font("SemiBold", 26), fill=INK)
    draw.line((left - 2, top - 4, left - 2, bottom), fill=INK, width=2)  # left of the bars
    slot = (bottom - top) / len(shown)
    largest = max(bar.count for bar in shown if not bar.other)
    for i, (bar, name) in enumerate(zip(shown, names, strict=True)):
        y0, y1 = round(top + (i + 0.12) * slot), round(top + (i + 0.88) * slot)
        long = round(min(bar.count / largest, 1.0) * (right - left))
        if long:
            draw.rectangle((left, y0, left + long - 1, y1), fill=OTHER if bar.other else BAR)
        if bar.count > largest:  # "other" outgrows the scale: cut, with a visible break
            cut = left + long - 40
            draw.polygon([(cut, y0), (cut + 10, y0), (cut + 2, y1), (cut - 8, y1)], fill=PAPER)
        middle = (y0 + y1) / 2
        draw.text((left - 12, middle), name, font=label_font, fill=INK, anchor="rm")
        value = f"{bar.count:,}"
        draw.text((left + long + 10, middle), value, font=label_font, fill=FAINT, anchor="lm")
    axis = _font("SemiBold", 26)
    draw.text((left, HEIGHT - MARGIN), "cables", font=axis, fill=INK, anchor="lb")
