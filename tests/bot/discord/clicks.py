"""Clicking the bot's buttons as Discord does after a restart: the button is rebuilt from its
custom_id alone, and the message clicked is what Discord stored of the one sent."""

from __future__ import annotations

import re
from typing import Any
from unittest.mock import create_autospec

import discord

from tests.bot.helpers import spec_interaction


def buttons(view: discord.ui.View) -> list[Any]:
    """The view's dynamic buttons (loading a cog runs its module again: no isinstance)."""
    return [item for item in view.children if isinstance(item, discord.ui.DynamicItem)]


def stored_message(sent: dict[str, Any]) -> Any:
    """The message Discord keeps of a send or edit with these keyword arguments: its embeds
    went through JSON, as they do on the way to Discord and back."""
    message = create_autospec(discord.Message, instance=True)
    embeds = [sent["embed"]] if "embed" in sent else list(sent.get("embeds") or [])
    message.embeds = [discord.Embed.from_dict(e.to_dict()) for e in embeds]
    message.content = sent.get("content") or ""
    return message


async def click(
    bot: discord.Client,
    button: Any,
    *,
    on: dict[str, Any] | None = None,
    user_id: int = 99,
    message: Any = None,
) -> Any:
    """Click `button` of the message sent with `on` (or of `message`), as `user_id`, after a
    restart; the interaction, with what it answered."""
    interaction = spec_interaction(bot, user_id)
    interaction.message = stored_message(on) if on is not None else message
    cls = type(button)
    match = re.fullmatch(cls.__discord_ui_compiled_template__, button.custom_id)
    assert match is not None, button.custom_id
    again = await cls.from_custom_id(interaction, button.item, match)
    await again.callback(interaction)
    return interaction


def edited(interaction: Any) -> dict[str, Any]:
    """The keyword arguments the interaction's message was edited with."""
    return dict(interaction.edit_original_response.call_args.kwargs)


def said_privately(interaction: Any) -> str:
    """The one private line the user got (as a response or a follow-up)."""
    for call in (interaction.response.send_message, interaction.followup.send):
        if call.await_count:
            assert call.call_args.kwargs["ephemeral"] is True
            assert call.call_args.kwargs["allowed_mentions"].to_dict() == {"parse": []}
            args = call.call_args.args
            return str(args[0] if args else call.call_args.kwargs["content"])
    raise AssertionError("nothing was said")
