"""Message-follow: a reply is updated when its trigger is edited and deleted with it (24 h)."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.client import Cablebot
from bot.cogs.passive import embed_links_allowed
from bot.embeds import payload

log = logging.getLogger(__name__)


class Follow(commands.Cog):
    """Keeps the bot's reply in step with the message that triggered it."""

    def __init__(self, bot: Cablebot) -> None:
        self.bot = bot

    def _reply_message(self, channel_id: int, reply_id: int) -> discord.PartialMessage | None:
        channel = self.bot.get_channel(channel_id)
        if channel is None or not hasattr(channel, "get_partial_message"):
            return None
        message: discord.PartialMessage = channel.get_partial_message(reply_id)
        return message

    @commands.Cog.listener()
    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        """Recompute the reply from the edited text; delete it when nothing resolves now."""
        entry = self.bot.followed(event.message_id)
        content = event.data.get("content")
        if entry is None or content is None:
            return
        channel_id, reply_id, author_id = entry
        target = self._reply_message(channel_id, reply_id)
        if target is None:
            return
        try:
            reply = (await self.bot.answer(content)).passive()
            if not reply.cards:
                await target.delete()
                self.bot.forget_reply(reply_id)
                return
            guild = self.bot.get_guild(event.guild_id) if event.guild_id else None
            me = guild.me if guild else self.bot.user
            channel = target.channel
            allowed = embed_links_allowed(channel, me)
            await target.edit(**payload(reply, owner_id=author_id, embed_links=allowed))
        except discord.NotFound:
            self.bot.forget_reply(reply_id)
        except Exception:
            log.exception("failed to follow the edit of %s", event.message_id)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, event: discord.RawMessageDeleteEvent) -> None:
        """Delete the reply to a deleted message."""
        entry = self.bot.followed(event.message_id)
        if entry is None:
            return
        channel_id, reply_id, _ = entry
        self.bot.replies.pop(event.message_id, None)
        target = self._reply_message(channel_id, reply_id)
        if target is None:
            return
        try:
            await target.delete()
        except discord.NotFound:
            pass
        except Exception:
            log.exception("failed to delete the reply to %s", event.message_id)

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, event: discord.RawBulkMessageDeleteEvent) -> None:
        """Delete the replies to messages removed in bulk."""
        for message_id in event.message_ids:
            await self.on_raw_message_delete(
                discord.RawMessageDeleteEvent({"id": message_id, "channel_id": event.channel_id})
            )


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, Cablebot)
    await bot.add_cog(Follow(bot))
