"""`/cablebot settings`: per-guild passive detection, channel allow/deny list and cooldown."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.client import Cablebot
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
        ]
    )


def apply(
    settings: GuildSettings,
    *,
    passive: bool | None = None,
    channel: int | None = None,
    channel_mode: Literal["allow", "deny", "clear"] | None = None,
    cooldown: float | None = None,
) -> GuildSettings:
    """`settings` with the given changes (a channel goes to one list, or leaves both)."""
    data = settings.model_copy(deep=True)
    if passive is not None:
        data.passive = passive
    if cooldown is not None:
        data.cooldown = cooldown
    if channel is not None:
        data.allow_channels = [c for c in data.allow_channels if c != channel]
        data.deny_channels = [c for c in data.deny_channels if c != channel]
        if channel_mode == "allow":
            data.allow_channels.append(channel)
        elif channel_mode == "deny":
            data.deny_channels.append(channel)
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
    )
    async def settings(
        self,
        interaction: discord.Interaction[Any],
        passive: bool | None = None,
        channel: discord.TextChannel | None = None,
        channel_mode: Literal["allow", "deny", "clear"] = "allow",
        cooldown: app_commands.Range[float, 0, 3600] | None = None,
    ) -> None:
        """/cablebot settings [passive] [channel channel_mode] [cooldown]."""
        if interaction.guild_id is None:
            await interaction.response.send_message("Settings apply to servers.", ephemeral=True)
            return
        if not interaction.permissions.manage_guild:
            await interaction.response.send_message(
                "Only members with Manage Server can change Cablebot's settings.", ephemeral=True
            )
            return
        cache = self.bot.guild_settings
        current = await cache.get(interaction.guild_id)
        changed = apply(
            current,
            passive=passive,
            channel=channel.id if channel else None,
            channel_mode=channel_mode,
            cooldown=cooldown,
        )
        if changed != current:
            await cache.set(interaction.guild_id, changed)
        await interaction.response.send_message(
            describe(changed), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, Cablebot)
    await bot.add_cog(Settings(bot))
