"""`/search <query>`: full-text search, paged with buttons that survive a restart.

The query, the page and the requester live in the buttons' `custom_id`; only the requester
can page, anyone else gets a private note.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import shorten
from bot.discord.client import Cablebot
from bot.discord.embeds import NO_MENTIONS
from bot.library.store import SearchHit
from parsers.models import cable_path

log = logging.getLogger(__name__)

PAGE_SIZE = 5
"""Hits a page: five fields of at most HIT_MAX characters stay far below 6000 per embed."""
HIT_MAX = 900
QUERY_MAX = 60
"""Longest query: it must fit the 100-character custom_id beside the prefix, owner and page."""
LAST_PAGE = 200
_PREFIX = "cablebot:find"


def normalize(query: str) -> str:
    """The query as stored in buttons: whitespace collapsed, at most QUERY_MAX characters
    (counted in UTF-16 units, as Discord may count them)."""
    text = " ".join(query.split())[:QUERY_MAX]
    while len(text.encode("utf-16-le")) > 2 * QUERY_MAX:
        text = text[:-1]
    return text.strip()


def search_embed(
    query: str, hits: Sequence[SearchHit], page: int, *, last: bool, site: str
) -> discord.Embed:
    """One page of results: a field per hit (ID, date, linked subject, snippet)."""
    embed = discord.Embed(title=shorten(f"Search: {query}", 256), colour=0x95A5A6)
    for hit in hits[:PAGE_SIZE]:
        created = f"{hit.created:%Y-%m-%d}" if hit.created else "undated"
        url = site.rstrip("/") + cable_path(hit.ref_id, hit.created)
        subject = shorten(hit.subject or "(no subject)", 300)
        head = f"[{subject}]({url})"
        embed.add_field(
            name=f"{hit.ref_id} · {created}",
            value=shorten(f"{head}\n{hit.snippet}", HIT_MAX),
            inline=False,
        )
    end = " · last page" if last else ""
    embed.set_footer(text=f"Page {page}{end} · open one with /cable <ref>")
    return embed


class SearchPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"(?s)" + _PREFIX + r":(?P<owner>[0-9]{1,20}):(?P<page>[0-9]{1,3}):(?P<query>.+)",
):
    """Go to `page` of the search for `query`; only `owner` may."""

    def __init__(self, owner_id: int, page: int, query: str, *, forward: bool, disabled: bool):
        super().__init__(
            discord.ui.Button(
                label="Next ▶" if forward else "◀ Previous",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{_PREFIX}:{owner_id}:{page}:{query}",
                disabled=disabled,
            )
        )
        self.owner_id, self.page, self.query = owner_id, page, query

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any
    ) -> SearchPageButton:
        page = int(match["page"])
        forward = isinstance(item, discord.ui.Button) and (item.label or "").startswith("Next")
        return cls(int(match["owner"]), page, match["query"], forward=forward, disabled=False)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                f"Only <@{self.owner_id}> can page this search; run `/search` for your own.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        await interaction.response.defer()
        bot: Cablebot = interaction.client
        page = await search_page(bot, self.query, self.page, self.owner_id)
        if page is None:
            end = search_view(self.owner_id, self.query, self.page - 1, last=True)
            await interaction.edit_original_response(view=end)
            await interaction.followup.send(
                f"No more results for {self.query!r}: page {self.page - 1} was the last.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        await interaction.edit_original_response(**page)


def search_view(owner_id: int, query: str, page: int, *, last: bool) -> discord.ui.View:
    """Previous and next buttons (disabled on the first and the last page)."""
    view = discord.ui.View(timeout=None)
    view.add_item(SearchPageButton(owner_id, page - 1, query, forward=False, disabled=page <= 1))
    view.add_item(SearchPageButton(owner_id, page + 1, query, forward=True, disabled=last))
    return view


async def search_page(bot: Cablebot, query: str, page: int, owner_id: int) -> dict[str, Any] | None:
    """Keyword arguments for sending or editing to `page` of `query`; None past the end."""
    page = max(1, min(page, LAST_PAGE))
    hits = await bot.library.search(query, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    if not hits:
        return None
    last = len(hits) <= PAGE_SIZE or page >= LAST_PAGE
    return {
        "embed": search_embed(query, hits, page, last=last, site=bot.settings.site_url),
        "view": search_view(owner_id, query, page, last=last),
        "allowed_mentions": NO_MENTIONS,
    }


class Search(commands.Cog):
    """Full-text search over the stored cables."""

    def __init__(self, bot: Cablebot) -> None:
        self.bot = bot

    @app_commands.command(name="search", description="Full-text search of the cables")
    @app_commands.describe(query=f"Words to look for (up to {QUERY_MAX} characters)")
    async def search(
        self,
        interaction: discord.Interaction[Any],
        query: app_commands.Range[str, 1, QUERY_MAX],
    ) -> None:
        """/search <query>: a public, paged list; no results is a private note, said at once
        (the search reads the local store only, so it needs no deferred answer)."""
        text = normalize(query)
        if not text:
            await interaction.response.send_message(
                "Type a few words to search for.", ephemeral=True
            )
            return
        page = await search_page(self.bot, text, 1, interaction.user.id)
        if page is None:
            await interaction.response.send_message(
                f"No cables match {text!r}. Try fewer or other words.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        await interaction.response.send_message(**page)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: the command and its persistent buttons."""
    assert isinstance(bot, Cablebot)
    bot.add_dynamic_items(SearchPageButton)
    await bot.add_cog(Search(bot))


async def teardown(bot: commands.Bot) -> None:
    """Extension exit point."""
    bot.remove_dynamic_items(SearchPageButton)
