"""`/search [query] [filters]`: full-text search or browsing, paged with buttons that survive a
restart; and the paging and filter autocomplete that `/browse` and `/onthisday` share.

The buttons carry the requester and the page; the query and filters are read back from the
footer of the message clicked (see bot.discord.listing). Only the requester can page.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.client import Cablebot
from bot.discord.embeds import NO_MENTIONS
from bot.discord.listing import (
    LAST_PAGE,
    PAGE_SIZE,
    QUERY_MAX,
    filters_from,
    list_embed,
    pages_of,
    state_of,
    state_text,
)
from bot.discord.vocabulary import name_choices, tag_choices, vocabulary_of
from bot.library.discover import Filters, Sort
from bot.library.store import StoreError

log = logging.getLogger(__name__)

_TEMPLATE = (
    r"(?s)cablebot:(?:list:(?P<owner>[0-9]{1,20}):(?P<page>[0-9]{1,3})"
    r"|find:(?P<old_owner>[0-9]{1,20}):(?P<old_page>[0-9]{1,3}):(?P<query>.+))"
)
"""`cablebot:list:OWNER:PAGE`; `cablebot:find:OWNER:PAGE:QUERY` is the query-only button of
messages sent before filters existed, still honoured."""


class ListPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=_TEMPLATE
):
    """Go to `page` of the list in the clicked message; only `owner` may."""

    def __init__(
        self,
        owner_id: int,
        page: int,
        *,
        forward: bool,
        disabled: bool,
        query: str | None = None,
    ) -> None:
        custom_id = f"cablebot:list:{owner_id}:{page}"
        if query is not None:
            custom_id = f"cablebot:find:{owner_id}:{page}:{query}"
        super().__init__(
            discord.ui.Button(
                label="Next ▶" if forward else "◀ Previous",
                style=discord.ButtonStyle.secondary,
                custom_id=custom_id,
                disabled=disabled,
            )
        )
        self.owner_id, self.page, self.query = owner_id, page, query

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any
    ) -> ListPageButton:
        forward = isinstance(item, discord.ui.Button) and (item.label or "").startswith("Next")
        if match["query"] is not None:
            owner, page = int(match["old_owner"]), int(match["old_page"])
            return cls(owner, page, forward=forward, disabled=False, query=match["query"])
        return cls(int(match["owner"]), int(match["page"]), forward=forward, disabled=False)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                f"Only <@{self.owner_id}> can page this list; run the command for your own.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        state = _state(interaction.message, self.query)
        if state is None:
            await interaction.response.send_message(
                "This list can no longer be paged; run the command again.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        await interaction.response.defer()
        bot: Cablebot = interaction.client
        page = await list_page(bot, *state, self.page, self.owner_id)
        if page is None:
            await interaction.followup.send(
                "Nothing matches any more.", ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        await interaction.edit_original_response(**page)


def _state(message: discord.Message | None, query: str | None) -> tuple[Filters, Sort] | None:
    """The list's filters and sort: the old buttons' query, or the clicked message's footer."""
    if query is not None:
        return Filters(query=query), "relevance"
    try:
        return state_of(message.embeds[0]) if message is not None else None
    except (ValueError, IndexError):
        log.warning("a list message without a readable state was paged", exc_info=True)
        return None


def list_view(owner_id: int, page: int, pages: int) -> discord.ui.View:
    """Previous and next buttons (disabled on the first and the last page)."""
    view = discord.ui.View(timeout=None)
    view.add_item(ListPageButton(owner_id, page - 1, forward=False, disabled=page <= 1))
    view.add_item(ListPageButton(owner_id, page + 1, forward=True, disabled=page >= pages))
    return view


async def list_page(
    bot: Cablebot, filters: Filters, sort: Sort | None, page: int, owner_id: int
) -> dict[str, Any] | None:
    """Keyword arguments for sending or editing to `page` of a list (the last page when past
    it); None when nothing matches."""
    page = max(1, min(page, LAST_PAGE))

    async def fetch(page: int) -> Any:
        offset = (page - 1) * PAGE_SIZE
        return await bot.library.browse(filters, sort=sort, limit=PAGE_SIZE, offset=offset)

    found = await fetch(page)
    if found.total == 0:
        return None
    if not found.hits:  # fewer cables than when the button was made
        page = pages_of(found.total)
        found = await fetch(page)
    return {
        "embed": list_embed(filters, sort, found, page, site=bot.settings.site_url),
        "view": list_view(owner_id, page, pages_of(found.total)),
        "allowed_mentions": NO_MENTIONS,
    }


async def send_list(
    interaction: discord.Interaction[Any], filters: Filters, sort: Sort | None, empty: str
) -> None:
    """Answer with page 1 of a list, publicly; `empty` privately when nothing matches (the
    store answers at once: no deferred "thinking…")."""
    bot: Cablebot = interaction.client
    page = await list_page(bot, filters, sort, 1, interaction.user.id)
    if page is None:
        await private(interaction, empty)
        return
    await interaction.response.send_message(**page)


async def private(interaction: discord.Interaction[Any], text: str) -> None:
    """A private answer to the user, whether or not the interaction was answered yet."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def command_failed(
    interaction: discord.Interaction[Any], error: app_commands.AppCommandError
) -> None:
    """Tell the user privately that a command failed (a store that cannot be read is a
    warning; anything else is logged with its traceback)."""
    cause = getattr(error, "original", error)
    name = interaction.command.name if interaction.command else "?"
    if isinstance(cause, StoreError):
        log.warning("/%s: %s", name, cause)
        text = "The cable store could not be read just now; try again in a minute."
    else:
        log.error("/%s failed", name, exc_info=cause)
        text = "Something went wrong on our side; try again later."
    try:
        await private(interaction, text)
    except discord.HTTPException:
        log.warning("/%s: could not tell the user", name, exc_info=True)


# autocomplete of the filters -------------------------------------------------------------


async def complete_tag(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The store's TAGS codes starting with, or meaning, what was typed."""
    bot: Cablebot = interaction.client
    terms = await vocabulary_of(bot, bot.library).terms("tag")
    return tag_choices(current, terms, bot.tag_meanings or {})


async def complete_origin(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The store's origins (display names) with a word starting with what was typed."""
    bot: Cablebot = interaction.client
    return name_choices(current, await vocabulary_of(bot, bot.library).terms("origin"))


async def complete_classification(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The store's classifications."""
    bot: Cablebot = interaction.client
    return name_choices(current, await vocabulary_of(bot, bot.library).terms("classification"))


FILTER_HELP = {
    "tag": "TAGS code, e.g. PREL (several: all of them, e.g. PREL MX)",
    "origin": "Part of the origin's name, e.g. Embassy Mexico",
    "classification": "How the classification starts, e.g. SECRET",
    "date_from": "Created on or after, YYYY-MM-DD",
    "date_to": "Created on or before, YYYY-MM-DD",
}
Text = app_commands.Range[str, 1, QUERY_MAX]


class Search(commands.Cog):
    """Full-text search and browsing of the stored cables."""

    def __init__(self, bot: Cablebot) -> None:
        self.bot = bot

    async def cog_unload(self) -> None:
        await vocabulary_of(self.bot, self.bot.library).close()

    async def cog_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        await command_failed(interaction, error)

    @app_commands.command(name="search", description="Search or browse the cables, with filters")
    @app_commands.describe(
        query=f"Words to look for (up to {QUERY_MAX} characters; none: browse)",
        sort="Default: relevance with words, oldest first without",
        **FILTER_HELP,
    )
    @app_commands.rename(date_from="from", date_to="to")
    @app_commands.autocomplete(
        tag=complete_tag, origin=complete_origin, classification=complete_classification
    )
    async def search(
        self,
        interaction: discord.Interaction[Any],
        query: Text | None = None,
        tag: Text | None = None,
        origin: Text | None = None,
        classification: Text | None = None,
        date_from: Text | None = None,
        date_to: Text | None = None,
        sort: Literal["relevance", "oldest", "newest"] | None = None,
    ) -> None:
        """/search: a public, paged list with its total; bad options and no results are
        private notes."""
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
        described = state_text(filters, None, with_sort=False) or "anything"
        empty = f"No cables match {described}. Try fewer or other words or filters."
        await send_list(interaction, filters, sort, empty)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: the command and its persistent buttons."""
    assert isinstance(bot, Cablebot)
    bot.add_dynamic_items(ListPageButton)
    await bot.add_cog(Search(bot))


async def teardown(bot: commands.Bot) -> None:
    """Extension exit point."""
    bot.remove_dynamic_items(ListPageButton)
