"""bot.discord.cogs.settings: changing and showing a server's settings; only managers may."""

from __future__ import annotations

from unittest.mock import create_autospec

import discord

from bot.discord.client import Cablebot
from bot.discord.cogs.settings import Settings, apply, describe
from bot.discord.guilds import GuildSettings


def test_a_channel_moves_between_lists_and_leaves_both_on_clear() -> None:
    base = GuildSettings()
    allowed = apply(base, channel=7, channel_mode="allow")
    assert allowed.allow_channels == [7] and allowed.allows(7) and not allowed.allows(8)
    denied = apply(allowed, channel=7, channel_mode="deny")
    assert denied.allow_channels == [] and denied.deny_channels == [7] and not denied.allows(7)
    cleared = apply(denied, channel=7, channel_mode="clear")
    assert cleared == GuildSettings()
    assert not apply(base, passive=False).allows(8)
    assert apply(base, cooldown=30).cooldown == 30
    assert apply(base, images=False) == GuildSettings(images=False)


def test_describe_names_every_setting() -> None:
    text = describe(GuildSettings(passive=False, deny_channels=[5], cooldown=2, images=False))
    assert "Passive detection: off" in text and "<#5>" in text and "2 s" in text
    assert "Images (quote cards, charts): off" in text


def _interaction(guild_id: int, *, manage_guild: bool) -> discord.Interaction:  # type: ignore[type-arg]
    interaction = create_autospec(discord.Interaction, instance=True)
    interaction.guild_id = guild_id
    interaction.permissions = discord.Permissions(manage_guild=manage_guild)
    interaction.response = create_autospec(discord.InteractionResponse, instance=True)
    return interaction


async def test_only_managers_change_settings_and_they_persist(bot: Cablebot) -> None:
    cog = bot.get_cog("Settings")
    assert type(cog).__name__ == Settings.__name__  # extensions are loaded as fresh modules
    member = _interaction(11, manage_guild=False)
    await cog.settings.callback(cog, member, passive=False)  # type: ignore[union-attr]
    assert "Manage Server" in member.response.send_message.call_args.args[0]
    assert await bot.library.get_guild_settings(11) == {}

    manager = _interaction(11, manage_guild=True)
    await cog.settings.callback(cog, manager, passive=False, cooldown=12.0)  # type: ignore[union-attr]
    assert "Passive detection: off" in manager.response.send_message.call_args.args[0]
    stored = await bot.library.get_guild_settings(11)
    assert stored["passive"] is False and stored["cooldown"] == 12.0
    await cog.settings.callback(cog, manager, images=False)  # type: ignore[union-attr]
    assert (await bot.library.get_guild_settings(11))["images"] is False
