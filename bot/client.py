"""The Discord bot: a commands.Bot that owns the library and loads one cog per feature."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import discord
from discord.ext import commands

from bot.answer import CableSource, Reply, answer, answer_requests
from bot.config import Settings
from bot.cooldown import RateLimit
from bot.embeds import CiteButton, DeleteButton, ParagraphButton
from bot.guilds import GuildSettingsCache, GuildSettingsStore
from bot.store import SearchHit
from parsers.models import CableRequest

log = logging.getLogger(__name__)

COGS = (
    "bot.cogs.passive",
    "bot.cogs.follow",
    "bot.cogs.slash",
    "bot.cogs.settings",
)
FOLLOW_SECONDS = 24 * 3600
"""How long a reply follows edits and deletes of the message that triggered it."""


class BotLibrary(CableSource, GuildSettingsStore, Protocol):
    """What the bot needs from bot.library.CableLibrary."""

    async def search(self, query: str, limit: int = 10, offset: int = 0) -> list[SearchHit]: ...

    async def complete_ids(self, prefix: str, limit: int = 25) -> list[str]: ...


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
        self.replies: dict[int, tuple[int, int, int, float]] = {}
        """Trigger message id -> (channel id, reply id, author id, time) for message-follow."""

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

    def remember_reply(self, trigger: discord.Message, reply: discord.Message) -> None:
        """Follow `trigger` for 24 h: its edits update `reply`, its deletion deletes it."""
        now = time.monotonic()
        self.replies[trigger.id] = (reply.channel.id, reply.id, trigger.author.id, now)
        if len(self.replies) > 10_000:
            cutoff = now - FOLLOW_SECONDS
            self.replies = {k: v for k, v in self.replies.items() if v[3] >= cutoff}

    def followed(self, trigger_id: int) -> tuple[int, int, int] | None:
        """(channel id, reply id, author id) of the reply to `trigger_id`, within 24 h."""
        entry = self.replies.get(trigger_id)
        if entry is None or time.monotonic() - entry[3] > FOLLOW_SECONDS:
            return None
        return entry[:3]

    def forget_reply(self, reply_id: int) -> None:
        """Stop following the message whose reply `reply_id` was deleted."""
        for trigger, entry in list(self.replies.items()):
            if entry[1] == reply_id:
                del self.replies[trigger]

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: messages are handled by the cogs' listeners only."""

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Log and carry on: one bad event never stops the bot."""
        log.exception("error in %s", event_method)
