"""`/cablebot settings`: per-guild passive detection, channel allow/deny list, cooldown, the
daily post's channel and images."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.client import Cablebot
from bot.discord.cogs.daily import missing_permissions
from bot.discord.embeds import NO_MENTIONS
from bot.discord.guilds import GuildSettings


def describe(settings: GuildSettings) -> str:
    """The settings as a few readable lines."""

    def channels(ids: list[int]) -> str:
        return ", ".join(f"<#{i}>" for i in ids) or "none"

    return "\n".join(
        [
            f"Passive detection: {'on' if settings.passive else 'off'}",
            f"Only in: {channels(settings.allow_channels)}"
            if settings.allow_channels
            else "Only in: every channel",
            f"Never in: {channels(settings.deny_channels)}",
            f"Cooldown per user: {settings.cooldown:g} s",
            f"Daily post at 00:00 UTC: <#{settings.daily_channel}>"
            if settings.daily_channel
            else "Daily post at 00:00 UTC: off",
            f"Images (quote cards, charts): {'on' if settings.images else 'off'}",
        ]
    )


def apply(
    settings: GuildSettings,
    *,
    passive: bool | None = None,
    channel: int | None = None,
    channel_mode: Literal["allow", "deny", "clear"] | None = None,
    cooldown: float | None = None,
    daily_channel: int | None = None,
    daily_off: bool = False,
    images: bool | None = None,
) -> GuildSettings:
    """`settings` with the given changes (a channel goes to one list, or leaves both;
    `daily_off` wins over `daily_channel`)."""
    data = settings.model_copy(deep=True)
    if passive is not None:
        data.passive = passive
    if cooldown is not None:
        data.cooldown = cooldown
    if images is not None:
        data.images = images
    if channel is not None:
        data.allow_channels = [c for c in data.allow_channels if c != channel]
        data.deny_channels = [c for c in data.deny_channels if c != channel]
        if channel_mode == "allow":
            data.allow_channels.append(channel)
        elif channel_mode == "deny":
            data.deny_channels.append(channel)
    if daily_channel is not None:
        data.daily_channel = daily_channel
    if daily_off:
        data.daily_channel = None
    return GuildSettings.model_validate(data.model_dump())


class Settings(commands.Cog):
    """Server settings, changed only by members with Manage Server."""

    group = app_commands.Group(
        name="cablebot",
        description="Cablebot for this server",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: Cablebot) -> None:
        self.bot = bot

    @group.command(name="settings", description="Show or change Cablebot's settings here")
    @app_commands.describe(
        passive="Answer references in ordinary messages",
        channel="A channel to allow, deny or clear",
        channel_mode="What to do with that channel",
        cooldown="Seconds between replies to one user (0-3600)",
        daily_channel='Post "on this day" here every day at 00:00 UTC',
        daily_off="Stop the daily post",
        images="Post images: quote cards (Share) and charts (/stats)",
    )
    async def settings(
        self,
        interaction: discord.Interaction[Any],
        passive: bool | None = None,
        channel: discord.TextChannel | None = None,
        channel_mode: Literal["allow", "deny", "clear"] = "allow",
        cooldown: app_commands.Range[float, 0, 3600] | None = None,
        daily_channel: discord.TextChannel | None = None,
        daily_off: bool = False,
        images: bool | None = None,
    ) -> None:
        """/cablebot settings [passive] [channel channel_mode] [cooldown] [daily_channel]
        [daily_off] [images]. A daily channel where the bot cannot post is refused, privately."""
        if interaction.guild_id is None:
            await interaction.response.send_message("Settings apply to servers.", ephemeral=True)
            return
        if not interaction.permissions.manage_guild:
            await interaction.response.send_message(
                "Only members with Manage Server can change Cablebot's settings.", ephemeral=True
            )
            return
        refused = ""
        if daily_channel is not None and (missing := missing_permissions(daily_channel)):
            refused = (
                f"I cannot post in {daily_channel.mention} (missing: {', '.join(missing)}),"
                " so the daily post is unchanged.\n\n"
            )
            daily_channel = None
        cache = self.bot.guild_settings
        current = await cache.get(interaction.guild_id)
        changed = apply(
            current,
            passive=passive,
            channel=channel.id if channel else None,
            channel_mode=channel_mode,
            cooldown=cooldown,
            daily_channel=daily_channel.id if daily_channel else None,
            daily_off=daily_off,
            images=images,
        )
        if changed != current:
            await cache.set(interaction.guild_id, changed)
        await interaction.response.send_message(
            refused + describe(changed), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, Cablebot)
    await bot.add_cog(Settings(bot))
