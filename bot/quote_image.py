"""A quote card: one paragraph of a cable as a 1200x675 PNG, the size social networks preview.

The paragraph is set in IBM Plex Mono (SIL Open Font License 1.1, shipped by the
`fontpkg-ibm-plex-mono` package with its licence), a typewriter-like monospace as in the
telegram, under the header line (reference and ¶, classification, origin, date) and the subject,
with `#cablegate #REFID` at the foot. Pillow is imported only when a card is drawn.
"""

from __future__ import annotations

import io
import textwrap
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from bot.cards import shorten
from bot.share import Quote

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

WIDTH, HEIGHT = 1200, 675
MARGIN = 56
PAPER = (246, 242, 231)
INK = (28, 28, 28)
FAINT = (96, 92, 84)
RULE = (180, 172, 156)
SIZES = (34, 31, 28, 26, 24, 22)
"""Body font sizes tried, largest first; the smallest one cuts the paragraph to fit."""
ALT_MAX = 1024
"""Discord's limit on an attachment's description (its alt text)."""
_FONT_PACKAGE = "fontpkg_ibm_plex_mono"


@cache
def _font(weight: str, size: int) -> FreeTypeFont:
    from PIL import ImageFont

    path = files(_FONT_PACKAGE) / "files" / f"IBMPlexMono-{weight}.ttf"
    return ImageFont.truetype(str(path), size)


def header_line(quote: Quote) -> str:
    """`10ATLANTIS17 ¶2 · CONFIDENTIAL · Embassy Atlantis · 2010-02-03`."""
    where = quote.ref_id + (f" ¶{quote.number}" if quote.number is not None else "")
    when = f"{quote.created:%Y-%m-%d}" if quote.created else ""
    return " · ".join(part for part in (where, quote.classification, quote.origin, when) if part)


def alt_text(quote: Quote) -> str:
    """The image's words, for its alt text (at most 1024 characters)."""
    head = f"{header_line(quote)}. {quote.subject}. "
    tail = f" #cablegate #{quote.ref_id}"
    body = shorten(_body(quote), max(0, ALT_MAX - len(head) - len(tail)), sentences=True)
    return shorten(head + body + tail, ALT_MAX)


def _body(quote: Quote) -> str:
    """The paragraph as the telegram numbers it: `2. (C) The challenger ...`."""
    text = " ".join(quote.text.split())
    if quote.number is None:
        return text
    marking = quote.heading.partition(" ")[2]
    return f"{quote.number}. {marking} {text}" if marking else f"{quote.number}. {text}"


def _wrap(text: str, columns: int) -> list[str]:
    return textwrap.wrap(text, columns, break_on_hyphens=False) or [""]


def _fit(text: str, columns: int, rows: int) -> list[str]:
    """`text` wrapped to `columns`, cut at a sentence (or word) with "…" to `rows` lines."""
    lines = _wrap(text, columns)
    limit = sum(len(line) + 1 for line in lines[:rows])
    while len(lines) > rows and limit > 1:
        lines = _wrap(shorten(text, limit, sentences=True), columns)
        limit -= columns // 2
    return lines[:rows]


def render_png(quote: Quote) -> bytes:
    """The quote card of `quote` as PNG bytes, WIDTH x HEIGHT pixels."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    y = MARGIN - 8

    small = _font("SemiBold", 24)
    small_columns = int(inner // small.getlength("M"))
    header = shorten(header_line(quote), small_columns)
    draw.text((MARGIN, y), header, font=small, fill=INK)
    y += 36
    subject_font = _font("Regular", 22)
    subject_columns = int(inner // subject_font.getlength("M"))
    for line in _fit(f"SUBJECT: {quote.subject}", subject_columns, 2):
        draw.text((MARGIN, y), line, font=subject_font, fill=FAINT)
        y += 30
    y += 10
    draw.line((MARGIN, y, WIDTH - MARGIN, y), fill=RULE, width=2)
    y += 26

    foot = _font("SemiBold", 26)
    foot_y = HEIGHT - MARGIN - 26
    room = foot_y - 24 - y
    body = _body(quote)
    for size in SIZES:
        font = _font("Regular", size)
        columns = int(inner // font.getlength("M"))
        leading = round(size * 1.45)
        rows = max(1, room // leading)
        if len(_wrap(body, columns)) <= rows or size == SIZES[-1]:
            break
    for line in _fit(body, columns, rows):
        draw.text((MARGIN, y), line, font=font, fill=INK)
        y += leading

    draw.line((MARGIN, foot_y - 18, WIDTH - MARGIN, foot_y - 18), fill=RULE, width=2)
    draw.text((MARGIN, foot_y), f"#cablegate #{quote.ref_id}", font=foot, fill=INK)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)  # the default (6) costs 3x the time, saves ~15%
    return out.getvalue()
