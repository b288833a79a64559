"""Lists of cables as Discord embeds (search, browse, on this day), and the list's state written
into the embed so that its paging buttons work after a restart.

Pure: what to send, no I/O. The state (query and filters) does not fit a button's 100-character
custom_id, so the buttons carry only the requester and the page, and the state is the first line
of the embed's footer, written as `key:value` words (`tag:PREL origin:"Embassy Oslo"
sort:oldest`) that `parse_state` reads back from the clicked message. Discord keeps the message,
so the state survives restarts, is the same for every process, and costs no store writes; it
also tells the reader what the list shows.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol, get_args

import discord

from bot.cards import shorten
from bot.library.discover import (
    Counts,
    Filters,
    Hit,
    HitPage,
    Linked,
    Related,
    Sort,
    StatsBy,
    default_sort,
    parse_day,
)
from parsers.models import cable_path

PAGE_SIZE = 5
"""Hits a page: five fields of at most HIT_MAX characters stay far below 6000 per embed."""
HIT_MAX = 900
LAST_PAGE = 200
"""Pages beyond this are not offered (offsets grow costly and nobody reads that far)."""
QUERY_MAX = 100
"""Longest query and origin typed into a command."""
COLOUR = 0x95A5A6
RELATED_MAX = 10
"""Related cables shown: ten fields of at most 450 characters stay below 6000 per embed."""


class DiscoverSource(Protocol):
    """What the discovery commands need from bot.library.CableLibrary."""

    async def browse(
        self, filters: Filters, *, sort: Sort | None = None, limit: int = 10, offset: int = 0
    ) -> HitPage: ...

    async def random(self, filters: Filters, *, pick: float | None = None) -> Hit | None: ...

    async def related(self, ref_id: str, limit: int = 10) -> list[Related] | None: ...

    async def citing(self, ref_id: str) -> list[Linked]: ...

    async def counts(self, filters: Filters, by: StatsBy = "year") -> Counts: ...


def normalize(text: str, limit: int = QUERY_MAX) -> str:
    """Typed text as kept: whitespace collapsed, at most `limit` characters."""
    return " ".join(text.split())[:limit].strip()


def filters_from(
    *,
    query: str | None = None,
    tag: str | None = None,
    origin: str | None = None,
    classification: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Filters:
    """The filters of a command's options (ValueError with a line fit for the user)."""
    days: dict[str, date | None] = {}
    for name, text in (("from", date_from), ("to", date_to)):
        try:
            days[name] = parse_day(text) if text and text.strip() else None
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    start, end = days["from"], days["to"]
    if start is not None and end is not None and start > end:
        raise ValueError(f"from: {start} is after to: {end}")
    return Filters(
        query=normalize(query) if query else None,
        tags=tuple(re.split(r"[\s,]+", tag)) if tag else (),
        origin=normalize(origin) if origin else None,
        classification=normalize(classification) if classification else None,
        date_from=start,
        date_to=end,
    )


# the state, written into the footer ------------------------------------------------------

_PLAIN = re.compile(r"[^\s\"'\\]+")


def _word(key: str, value: str) -> str:
    if _PLAIN.fullmatch(value):
        return f"{key}:{value}"
    return f'{key}:"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def state_text(filters: Filters, sort: Sort | None, *, with_sort: bool = True) -> str:
    """`filters` and the sort as `key:value` words (quoted where needed); `parse_state`
    reads them back."""
    words: list[str] = []
    if filters.query:
        words.append(_word("query", filters.query))
    words += [_word("tag", tag) for tag in filters.tags]
    if filters.origin:
        words.append(_word("origin", filters.origin))
    if filters.classification:
        words.append(_word("classification", filters.classification))
    if filters.date_from:
        words.append(f"from:{filters.date_from}")
    if filters.date_to:
        words.append(f"to:{filters.date_to}")
    if filters.month_day:
        words.append(f"day:{filters.month_day}")
    if with_sort:
        words.append(f"sort:{default_sort(filters, sort)}")
    return " ".join(words)


def parse_state(text: str) -> tuple[Filters, Sort]:
    """The filters and sort of `state_text` (ValueError when it is not one)."""
    fields: dict[str, object] = {}
    tags: list[str] = []
    sort: Sort | None = None
    for word in shlex.split(text):
        key, _, value = word.partition(":")
        if key == "tag":
            tags.append(value)
        elif key == "sort" and value in get_args(Sort):
            sort = value  # type: ignore[assignment]
        elif key in ("query", "origin", "classification"):
            fields[key] = value
        elif key in ("from", "to"):
            fields[f"date_{key}"] = parse_day(value)
        elif key == "day":
            fields["month_day"] = value
        else:
            raise ValueError(f"{word!r} is not part of a list's state")
    if sort is None:
        raise ValueError(f"{text!r} has no sort")
    return Filters.model_validate({**fields, "tags": tuple(tags)}), sort


def state_of(embed: discord.Embed) -> tuple[Filters, Sort]:
    """The state kept in the first line of a list embed's footer (ValueError without one)."""
    text = embed.footer.text or ""
    return parse_state(text.split("\n", 1)[0])


# the embeds ------------------------------------------------------------------------------


def pages_of(total: int) -> int:
    """How many pages a list of `total` cables is offered in."""
    return max(1, min(math.ceil(total / PAGE_SIZE), LAST_PAGE))


def title_of(filters: Filters) -> str:
    """What a list is: a search, the cables of a day, or browsing."""
    if filters.query:
        return shorten(f"Search: {filters.query}", 256)
    if filters.month_day and filters == Filters(month_day=filters.month_day):
        return f"On this day ({filters.month_day}) in any year"
    return "Browse"


def hit_url(site: str, ref_id: str, created: datetime | None) -> str:
    """The cable-site page of a cable."""
    return site.rstrip("/") + cable_path(ref_id, created)


def list_embed(
    filters: Filters, sort: Sort | None, found: HitPage, page: int, *, site: str
) -> discord.Embed:
    """One page of a list: the total, a field per hit (ID, date, origin, linked subject, then
    the snippet or the TAGS), and the state in the footer."""
    pages = pages_of(found.total)
    noun = "cable" if found.total == 1 else "cables"
    embed = discord.Embed(
        title=title_of(filters),
        description=f"**{found.total:,}** {noun} · page {page} of {pages}",
        colour=COLOUR,
    )
    for hit in found.hits[:PAGE_SIZE]:
        created = f"{hit.created:%Y-%m-%d}" if hit.created else "undated"
        subject = shorten(hit.subject or "(no subject)", 300)
        detail = hit.snippet or " · ".join(
            part for part in (hit.classification, " ".join(hit.tags)) if part
        )
        embed.add_field(
            name=shorten(f"{hit.ref_id} · {created} · {hit.origin}", 256),
            value=shorten(
                f"[{subject}]({hit_url(site, hit.ref_id, hit.created)})\n{detail}", HIT_MAX
            ),
            inline=False,
        )
    state = state_text(filters, sort)
    embed.set_footer(text=f"{state}\nOpen one with /cable <ref>")
    return embed


def related_embed(ref_id: str, related: Sequence[Related], *, site: str) -> discord.Embed:
    """The cables related to `ref_id`, best first, each with why."""
    embed = discord.Embed(
        title=f"Related to {ref_id}",
        description="Best first: by references, shared TAGS and similar words.",
        colour=COLOUR,
    )
    for rank, item in enumerate(related[:RELATED_MAX], 1):
        created = f"{item.created:%Y-%m-%d}" if item.created else "undated"
        subject = shorten(item.subject or "(no subject)", 200)
        why = " · ".join(item.why)
        embed.add_field(
            name=f"{rank}. {item.ref_id} · {created}",
            value=shorten(
                f"[{subject}]({hit_url(site, item.ref_id, item.created)})\n-# {why}", 450
            ),
            inline=False,
        )
    embed.set_footer(text="Open one with /cable <ref>")
    return embed
