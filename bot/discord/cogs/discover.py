"""`/browse`, `/related`, `/random` and `/onthisday`: finding cables without knowing their IDs.

Lists are paged like `/search` (bot.discord.cogs.search); what is wrong is said privately.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.answer import failure_lines
from bot.discord.client import Cablebot
from bot.discord.cogs.search import (
    FILTER_HELP,
    Text,
    command_failed,
    complete_classification,
    complete_origin,
    complete_tag,
    private,
    send_list,
)
from bot.discord.cogs.slash import complete_ref
from bot.discord.embeds import NO_MENTIONS, payload
from bot.discord.listing import RELATED_MAX, filters_from, related_embed, state_text
from bot.library.discover import Filters, parse_month_day
from parsers.models import CableRequest

log = logging.getLogger(__name__)


class Discover(commands.Cog):
    """Browse by filters, related cables, a random cable, the cables of a day."""

    def __init__(self, bot: Cablebot) -> None:
        self.bot = bot

    async def cog_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        await command_failed(interaction, error)

    @app_commands.command(name="browse", description="Browse the cables by tag, origin and year")
    @app_commands.describe(
        tag=FILTER_HELP["tag"], origin=FILTER_HELP["origin"], year="Created in this year"
    )
    @app_commands.autocomplete(tag=complete_tag, origin=complete_origin)
    async def browse(
        self,
        interaction: discord.Interaction[Any],
        tag: Text | None = None,
        origin: Text | None = None,
        year: app_commands.Range[int, 1900, 2100] | None = None,
    ) -> None:
        """/browse: the matching cables, oldest first, paged."""
        filters = filters_from(tag=tag, origin=origin)
        if year is not None:
            span = {"date_from": date(year, 1, 1), "date_to": date(year, 12, 31)}
            filters = filters.model_copy(update=span)
        described = state_text(filters, None, with_sort=False) or "anything"
        await send_list(interaction, filters, "oldest", f"No cables match {described}.")

    @app_commands.command(name="onthisday", description="Cables written on this day in any year")
    @app_commands.describe(day="MM-DD, e.g. 03-12 (default: today, UTC)")
    @app_commands.rename(day="date")
    async def onthisday(
        self,
        interaction: discord.Interaction[Any],
        day: app_commands.Range[str, 1, 10] | None = None,
    ) -> None:
        """/onthisday [date]: the cables of that day of the year, oldest first, paged."""
        try:
            month_day = parse_month_day(day or f"{datetime.now(UTC):%m-%d}")
        except ValueError as exc:
            await private(interaction, f"date: {exc}; write it MM-DD, e.g. 03-12.")
            return
        empty = f"No stored cable was written on {month_day} of any year."
        await send_list(interaction, Filters(month_day=month_day), "oldest", empty)

    @app_commands.command(name="random", description="A random cable, with optional filters")
    @app_commands.describe(query="Words the cable must contain", **FILTER_HELP)
    @app_commands.rename(date_from="from", date_to="to")
    @app_commands.autocomplete(
        tag=complete_tag, origin=complete_origin, classification=complete_classification
    )
    async def random(
        self,
        interaction: discord.Interaction[Any],
        query: Text | None = None,
        tag: Text | None = None,
        origin: Text | None = None,
        classification: Text | None = None,
        date_from: Text | None = None,
        date_to: Text | None = None,
    ) -> None:
        """/random: the card of a cable picked at random among those matching, publicly."""
        try:
            filters = filters_from(
                query=query,
                tag=tag,
                origin=origin,
                classification=classification,
                date_from=date_from,
                date_to=date_to,
            )
        except ValueError as exc:
            await private(interaction, f"{exc}.")
            return
        hit = await self.bot.library.random(filters)
        described = state_text(filters, None, with_sort=False)
        if hit is None:
            await private(interaction, f"No cables match {described or 'anything'}.")
            return
        reply = await self.bot.answer_requests([CableRequest(ref_id=hit.ref_id)])
        if not reply.cards:
            await private(interaction, "\n".join(failure_lines(reply.failures)))
            return
        sent = payload(reply, owner_id=interaction.user.id)
        sent["content"] = "-# A random cable" + (f" among {described}" if described else "")
        await interaction.response.send_message(**sent)

    @app_commands.command(name="related", description="Cables related to a cable, best first")
    @app_commands.describe(ref="Reference ID, e.g. 08MEXICO2498")
    async def related(self, interaction: discord.Interaction[Any], ref: Text) -> None:
        """/related <ref>: up to ten related stored cables, each with why; a cable not yet
        stored is fetched from the mirror first (deferred)."""
        ref_id = "".join(ref.split()).upper()
        found = await self.bot.library.related(ref_id, RELATED_MAX)
        if found is None:  # not stored: the card's own pipeline fetches it, or says why not
            fetch = await self.bot.library.needs_fetch(ref_id)
            if fetch:
                await interaction.response.defer(thinking=True)
            reply = await self.bot.answer_requests([CableRequest(ref_id=ref_id)])
            if not reply.cards:
                error = "\n".join(failure_lines(reply.failures)) or f"{ref_id} was not found."
                if fetch:
                    await interaction.followup.send(error, allowed_mentions=NO_MENTIONS)
                else:
                    await private(interaction, error)
                return
            found = await self.bot.library.related(ref_id, RELATED_MAX) or []
        site = self.bot.settings.site_url
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if found:
            kwargs["embed"] = related_embed(ref_id, found, site=site)
        else:
            kwargs["content"] = f"No stored cable is related to {ref_id} yet."
        if interaction.response.is_done():
            await interaction.followup.send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)

    related.autocomplete("ref")(complete_ref)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, Cablebot)
    await bot.add_cog(Discover(bot))
