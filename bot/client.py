"""The Discord bot: a commands.Bot that owns the library and loads one cog per feature."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import discord
from discord.ext import commands

from bot.answer import CableSource, Reply, answer, answer_requests
from bot.config import Settings
from bot.cooldown import RateLimit
from bot.embeds import CiteButton, DeleteButton, ParagraphButton
from bot.guilds import GuildSettingsCache, GuildSettingsStore
from bot.store import FollowedReply, SearchHit
from parsers.models import CableRequest

log = logging.getLogger(__name__)

COGS = (
    "bot.cogs.passive",
    "bot.cogs.follow",
    "bot.cogs.slash",
    "bot.cogs.search",
    "bot.cogs.settings",
)
FOLLOW_SECONDS = 24 * 3600
"""How long a reply follows edits and deletes of the message that triggered it."""


class BotLibrary(CableSource, GuildSettingsStore, Protocol):
    """What the bot needs from bot.library.CableLibrary."""

    async def search(self, query: str, limit: int = 10, offset: int = 0) -> list[SearchHit]: ...

    async def complete_ids(self, prefix: str, limit: int = 25) -> list[str]: ...

    async def remember_reply(
        self, trigger_id: int, reply: FollowedReply, at: float, *, forget_before: float
    ) -> None: ...

    async def followed(self, trigger_id: int, since: float) -> FollowedReply | None: ...

    async def forget_reply(
        self, *, trigger_id: int | None = None, reply_id: int | None = None
    ) -> None: ...


class Cablebot(commands.Bot):
    """Cablebot on Discord: answers cable references with cards; never pings anyone."""

    def __init__(
        self,
        library: BotLibrary,
        settings: Settings,
        *,
        tag_meanings: Mapping[str, str] | None = None,
        sync_commands: bool = True,
        intents: discord.Intents | None = None,
    ) -> None:
        if intents is None:
            intents = discord.Intents.default()
            intents.message_content = settings.message_content
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )
        self.library = library
        self.settings = settings
        self.tag_meanings = tag_meanings
        self.sync_commands = sync_commands
        self.guild_settings = GuildSettingsCache(library)
        self.user_limit = RateLimit(1, 5.0)
        self.channel_limit = RateLimit(5, 30.0)
        self.clock: Callable[[], float] = time.time
        """Wall-clock seconds: follow entries are kept in the store across restarts."""

    async def setup_hook(self) -> None:
        """Load the cogs, register the persistent buttons and publish the slash commands."""
        self.add_dynamic_items(ParagraphButton, CiteButton, DeleteButton)
        for name in COGS:
            await self.load_extension(name)
        if self.sync_commands:
            await self.tree.sync()

    async def answer(self, text: str) -> Reply:
        """What the bot sends for a chat message (the pipeline of `cablebot chat`).

        Embeds carry no citations, so they are left out here; the Cite button builds them.
        """
        return await answer(
            self.library,
            text,
            max_requests=self.settings.max_requests,
            tag_meanings=self.tag_meanings,
            site=self.settings.site_url,
            with_citations=False,
        )

    async def answer_requests(
        self,
        requests: Sequence[CableRequest],
        *,
        slots: int | None = None,
        with_citations: bool = False,
    ) -> Reply:
        """The reply for requests built from slash-command options or buttons."""
        return await answer_requests(
            self.library,
            requests,
            tag_meanings=self.tag_meanings,
            site=self.settings.site_url,
            slots=slots,
            with_citations=with_citations,
        )

    async def remember_reply(self, trigger: discord.Message, reply: discord.Message) -> None:
        """Follow `trigger` for 24 h: its edits update `reply`, its deletion deletes it.

        Kept in the store, so a restart does not lose it; a store failure only loses the follow.
        """
        now = self.clock()
        entry = FollowedReply(reply.channel.id, reply.id, trigger.author.id)
        try:
            await self.library.remember_reply(
                trigger.id, entry, now, forget_before=now - FOLLOW_SECONDS
            )
        except Exception:
            log.exception("could not remember the reply to %s", trigger.id)

    async def followed(self, trigger_id: int) -> FollowedReply | None:
        """Where the reply to message `trigger_id` is, if it was sent within 24 h."""
        return await self.library.followed(trigger_id, self.clock() - FOLLOW_SECONDS)

    async def forget_reply(
        self, *, trigger_id: int | None = None, reply_id: int | None = None
    ) -> None:
        """Stop following a trigger message, or the message whose reply `reply_id` is gone."""
        await self.library.forget_reply(trigger_id=trigger_id, reply_id=reply_id)

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: messages are handled by the cogs' listeners only."""

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Log and carry on: one bad event never stops the bot."""
        log.exception("error in %s", event_method)
