"""`/stats`: how many stored cables the filters keep, grouped by year, month, origin, tag or
classification, as a chart with its numbers in the embed and in the image's alt text.

The chart is an image: it is left out (the numbers stay) when the guild turned images off or
the image cooldown holds.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import shorten
from bot.chart import TIME, alt_text, render_png, subtitle, title
from bot.discord.client import Cablebot
from bot.discord.cogs.search import complete_classification, complete_origin, complete_tag
from bot.discord.embeds import NO_MENTIONS
from bot.library.discover import Counts, Filters, StatsBy, parse_day

log = logging.getLogger(__name__)

ROWS = 25
"""Rows of numbers in the embed: every year or month when they are this few, else the largest."""
KEY_MAX = 28
"""Longest key in the embed's table, in characters."""
FILENAME = "stats.png"


def table(counts: Counts) -> str:
    """The numbers as a code block: keys in time order when they all fit, else the ROWS
    largest (and how many are left out)."""
    rows = counts.counts
    if len(rows) > ROWS:
        rows = sorted(rows, key=lambda c: -c.count)[:ROWS] if counts.by in TIME else rows[:ROWS]
    keys = [shorten(c.key or "no date", KEY_MAX) for c in rows]
    width = max((len(k) for k in keys), default=0)
    lines = [f"{k:<{width}}  {c.count:>9,}" for k, c in zip(keys, rows, strict=True)]
    text = "```\n" + "\n".join(lines) + "\n```" if lines else ""
    left = len(counts.counts) - len(rows)
    if left:
        text = f"The {len(rows)} largest of {len(counts.counts):,}:\n{text}"
    return text


def stats_embed(counts: Counts, heading: str) -> discord.Embed:
    """The title naming the filters, the total and the numbers."""
    body = f"{subtitle(counts)}\n{table(counts)}" if counts.total else "No stored cable matches."
    return discord.Embed(title=shorten(heading, 256), description=body, colour=0x1F5E9E)


def filters_of(
    tag: str | None,
    origin: str | None,
    classification: str | None,
    date_from: str | None,
    date_to: str | None,
) -> Filters:
    """The filters of the options (ValueError naming a bad date and its option)."""
    days = {}
    for option, text in (("from", date_from), ("to", date_to)):
        try:
            days[option] = parse_day(text) if text else None
        except ValueError as exc:
            raise ValueError(f"{option}: {exc}") from None
    if days["from"] and days["to"] and days["from"] > days["to"]:
        raise ValueError(f"from {days['from']} is after to {days['to']}")
    return Filters(
        tags=tuple(re.split(r"[\s,]+", tag)) if tag else (),
        origin=origin,
        classification=classification,
        date_from=days["from"],
        date_to=days["to"],
    )


class Stats(commands.Cog):
    """Counts of the stored cables, with a chart."""

    def __init__(self, bot: Cablebot) -> None:
        self.bot = bot

    @app_commands.command(name="stats", description="Count the stored cables, with a chart")
    @app_commands.rename(date_from="from", date_to="to")
    @app_commands.describe(
        by="Group them by (default year)",
        tag="Only cables with these TAGS codes, e.g. PREL or PREL, MX",
        origin="Part of the origin's name, e.g. mexico",
        classification="How the classification starts, e.g. SECRET",
        date_from="Created on or after (YYYY-MM-DD)",
        date_to="Created on or before (YYYY-MM-DD)",
    )
    @app_commands.autocomplete(
        tag=complete_tag, origin=complete_origin, classification=complete_classification
    )
    async def stats(
        self,
        interaction: discord.Interaction[Any],
        by: Literal["year", "month", "origin", "tag", "classification"] = "year",
        tag: app_commands.Range[str, 1, 20] | None = None,
        origin: app_commands.Range[str, 1, 60] | None = None,
        classification: app_commands.Range[str, 1, 60] | None = None,
        date_from: app_commands.Range[str, 1, 10] | None = None,
        date_to: app_commands.Range[str, 1, 10] | None = None,
    ) -> None:
        """/stats [by] [filters]: public; a bad option is a private note."""
        try:
            filters = filters_of(tag, origin, classification, date_from, date_to)
        except ValueError as exc:
            await interaction.response.send_message(
                str(exc), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        await interaction.response.defer(thinking=True)
        grouping: StatsBy = by
        try:
            counts = await self.bot.library.counts(filters, grouping)
        except Exception:  # the store's trouble: said, logged, and the bot goes on
            log.exception("/stats could not count the cables")
            await interaction.followup.send(
                "The cables cannot be counted now; try again later.", allowed_mentions=NO_MENTIONS
            )
            return
        heading = title(filters, grouping)
        embed = stats_embed(counts, heading)
        refusal = None
        if counts.total:
            refusal = await self.bot.take_image(interaction.user.id, interaction.guild_id)
        if not counts.total or refusal is not None:
            if refusal is not None:
                embed.set_footer(text=f"No chart: {refusal}")
            await interaction.followup.send(embed=embed, allowed_mentions=NO_MENTIONS)
            return
        png = await asyncio.to_thread(render_png, counts, heading)  # CPU: off the event loop
        chart = discord.File(
            io.BytesIO(png), filename=FILENAME, description=alt_text(counts, heading)
        )
        embed.set_image(url=f"attachment://{FILENAME}")
        await interaction.followup.send(embed=embed, file=chart, allowed_mentions=NO_MENTIONS)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, Cablebot)
    await bot.add_cog(Stats(bot))
