"""Passive detection: answer cable references typed in ordinary messages, threads and DMs."""

from __future__ import annotations

import logging
import time

import discord
from discord.ext import commands

from bot.answer import Reply
from bot.discord.client import Cablebot
from bot.discord.embeds import payload
from parsers.refs import find_requests

log = logging.getLogger(__name__)

HOURGLASS = "⏳"
"""The reaction on the first message of a cooldown window whose reference is not answered."""
OUTAGE_QUIET_SECONDS = 600.0
"""A mirror outage is announced once per channel in this many seconds."""


def channel_permissions(
    channel: discord.abc.Messageable, me: discord.abc.User | None
) -> discord.Permissions:
    """The bot's permissions in `channel`; everything it needs in DMs."""
    if isinstance(channel, discord.abc.GuildChannel | discord.Thread) and isinstance(
        me, discord.Member
    ):
        return channel.permissions_for(me)
    return discord.Permissions.text()


def embed_links_allowed(channel: discord.abc.Messageable, me: discord.abc.User | None) -> bool:
    """True when the bot may embed links in `channel` (always in DMs)."""
    return channel_permissions(channel, me).embed_links


async def post_answer(
    message: discord.Message, reply: Reply, *, owner_id: int, perms: discord.Permissions
) -> discord.Message | None:
    """Post `reply` under `message` as `perms` allow: as a reply when the bot may read the
    history (replying needs it), else as a plain message; None when it may not post there."""
    in_thread = isinstance(message.channel, discord.Thread)
    if not (perms.send_messages_in_threads if in_thread else perms.send_messages):
        return None
    send = payload(reply, owner_id=owner_id, embed_links=perms.embed_links)
    if perms.read_message_history:
        return await message.reply(**send, mention_author=False)
    return await message.channel.send(**send)


def home_channel_id(channel: discord.abc.Messageable) -> int:
    """The channel whose settings apply: a thread's parent, else the channel itself."""
    if isinstance(channel, discord.Thread) and channel.parent_id:
        return channel.parent_id
    return int(getattr(channel, "id", 0))


class Passive(commands.Cog):
    """Replies to messages that mention cables; silent when nothing resolves."""

    def __init__(self, bot: Cablebot) -> None:
        self.bot = bot
        self._outage_told: dict[int, float] = {}

    def _addressed(self, message: discord.Message) -> bool:
        """True for DMs, mentions of the bot and replies to it (seen without the intent)."""
        me = self.bot.user
        if message.guild is None or (me is not None and me in message.mentions):
            return True
        resolved = message.reference.resolved if message.reference else None
        return isinstance(resolved, discord.Message) and me is not None and resolved.author == me

    async def reply_for(self, message: discord.Message, *, addressed: bool) -> Reply:
        """The reply to `message`: misses are silent unless the bot was addressed."""
        reply = await self.bot.answer(message.content)
        if addressed:
            return reply
        reply = reply.passive()
        if reply.mirror_down:
            channel = message.channel.id
            now = time.monotonic()
            if now - self._outage_told.get(channel, -OUTAGE_QUIET_SECONDS) < OUTAGE_QUIET_SECONDS:
                reply = Reply(cards=reply.cards, note=reply.note)
            else:
                self._outage_told[channel] = now
        return reply

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer the references in `message`, within the guild's settings and cooldowns."""
        await self._receive(message)  # (mutmut mutates undecorated functions only)

    async def _receive(self, message: discord.Message) -> None:
        if message.author.bot or not message.content:
            return
        try:
            await self._handle(message)
        except Exception:  # a single message must never take the bot down
            log.exception("failed to answer message %s", message.id)

    async def _hourglass(self, message: discord.Message) -> None:
        """React ⏳ to a reference a cooldown swallowed (only with Add Reactions, which needs
        Read Message History too; skipped silently without them)."""
        me = message.guild.me if message.guild else self.bot.user
        perms = channel_permissions(message.channel, me)
        if not (perms.add_reactions and perms.read_message_history):
            return
        try:
            await message.add_reaction(HOURGLASS)
        except discord.HTTPException:
            log.debug("could not react to message %s", message.id, exc_info=True)

    async def _handle(self, message: discord.Message) -> None:
        addressed = self._addressed(message)
        cooldown = 5.0
        if message.guild is not None:
            settings = await self.bot.guild_settings.get(message.guild.id)
            if not addressed and not settings.allows(home_channel_id(message.channel)):
                return
            cooldown = settings.cooldown
        channel = message.channel.id
        user = (message.guild.id if message.guild else 0, message.author.id)  # per server
        limits = ((self.bot.user_limit, user, cooldown), (self.bot.channel_limit, channel, None))
        for limit, key, per in limits:
            if not limit.ready(key, per=per):
                if find_requests(message.content, max_requests=1) and limit.first_refusal(
                    key, per=per
                ):
                    await self._hourglass(message)
                return
        reply = await self.reply_for(message, addressed=addressed)
        if reply.empty:
            return
        self.bot.user_limit.hit(user, per=cooldown)
        self.bot.channel_limit.hit(channel)
        me = message.guild.me if message.guild else self.bot.user
        perms = channel_permissions(message.channel, me)
        sent = await post_answer(message, reply, owner_id=message.author.id, perms=perms)
        if sent is not None:
            await self.bot.remember_reply(message, sent)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, Cablebot)
    await bot.add_cog(Passive(bot))
