"""Message-follow: a reply is updated when its trigger is edited and deleted with it (24 h).

Which reply answers which message is kept in the store, so this survives a restart.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.discord.client import Cablebot
from bot.discord.cogs.passive import embed_links_allowed
from bot.discord.embeds import payload
from bot.library.store import FollowedReply

log = logging.getLogger(__name__)

_WITH_MESSAGES = (
    discord.TextChannel,
    discord.Thread,
    discord.VoiceChannel,
    discord.StageChannel,
    discord.DMChannel,
)


class Follow(commands.Cog):
    """Keeps the bot's reply in step with the message that triggered it."""

    def __init__(self, bot: Cablebot) -> None:
        self.bot = bot

    def _reply_message(self, entry: FollowedReply, guild_id: int | None) -> discord.PartialMessage:
        """The reply as a partial message; its channel need not be cached (after a restart)."""
        found = self.bot.get_channel(entry.channel_id)
        channel = (
            found
            if isinstance(found, _WITH_MESSAGES)
            else self.bot.get_partial_messageable(entry.channel_id, guild_id=guild_id)
        )
        return channel.get_partial_message(entry.reply_id)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        """Recompute the reply from the edited text; delete it when nothing resolves now."""
        await self._edited(event)  # (mutmut mutates undecorated functions only)

    async def _edited(self, event: discord.RawMessageUpdateEvent) -> None:
        content = event.data.get("content")
        cached = event.cached_message
        if content is None or (cached is not None and cached.content == content):
            return  # an embed unfurl or a pin, not a new text
        try:
            entry = await self.bot.followed(event.message_id)
            if entry is None:
                return
            target = self._reply_message(entry, event.guild_id)
            reply = (await self.bot.answer(content)).passive()
            if not reply.cards and reply.mirror_down:
                return  # the new text cannot be checked now: keep the old answer
            if not reply.cards:
                await target.delete()
                await self.bot.forget_reply(trigger_id=event.message_id)
                return
            guild = self.bot.get_guild(event.guild_id) if event.guild_id else None
            me = guild.me if guild else self.bot.user
            allowed = embed_links_allowed(target.channel, me)
            await target.edit(**payload(reply, owner_id=entry.author_id, embed_links=allowed))
        except discord.NotFound:
            await self.bot.forget_reply(trigger_id=event.message_id)
        except Exception:
            log.exception("failed to follow the edit of %s", event.message_id)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, event: discord.RawMessageDeleteEvent) -> None:
        """Delete the reply to a deleted message."""
        await self._deleted(event)

    async def _deleted(self, event: discord.RawMessageDeleteEvent) -> None:
        try:
            entry = await self.bot.followed(event.message_id)
            if entry is None:
                return
            await self.bot.forget_reply(trigger_id=event.message_id)
            await self._reply_message(entry, event.guild_id).delete()
        except discord.NotFound:
            pass
        except Exception:
            log.exception("failed to delete the reply to %s", event.message_id)

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, event: discord.RawBulkMessageDeleteEvent) -> None:
        """Delete the replies to messages removed in bulk."""
        await self._bulk_deleted(event)

    async def _bulk_deleted(self, event: discord.RawBulkMessageDeleteEvent) -> None:
        for message_id in event.message_ids:
            data = {"id": message_id, "channel_id": event.channel_id}
            if event.guild_id is not None:
                data["guild_id"] = event.guild_id
            await self._deleted(discord.RawMessageDeleteEvent(data))  # type: ignore[arg-type]


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, Cablebot)
    await bot.add_cog(Follow(bot))
