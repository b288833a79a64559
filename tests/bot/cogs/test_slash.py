"""bot.cogs.slash and the buttons: explicit commands answer publicly, errors privately."""

from __future__ import annotations

from typing import Any

import discord
import discord.ext.test as dpytest

from bot.client import Cablebot
from bot.cogs.slash import STYLES, parse_request
from bot.embeds import CiteButton, DeleteButton, ParagraphButton
from bot.guilds import GuildSettings
from tests.bot.helpers import spec_interaction


def test_options_are_read_with_the_chat_grammar() -> None:
    assert parse_request("08mexico2498", "5-7") is not None
    request = parse_request("08MEXICO2498", "5-7")
    assert request is not None and request.paragraphs == (5, 6, 7)
    assert parse_request("hello") is None


async def test_cable_posts_the_card_publicly(bot: Cablebot) -> None:
    cog: Any = bot.get_cog("Slash")
    interaction = spec_interaction(bot)
    await cog.cable.callback(cog, interaction, "09OSLO777", "2")
    kwargs = interaction.followup.send.call_args.kwargs
    assert kwargs["embeds"][0].url.endswith("09OSLO777.html#par2")
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    assert not kwargs.get("ephemeral")


async def test_cable_errors_are_private(bot: Cablebot) -> None:
    cog: Any = bot.get_cog("Slash")
    interaction = spec_interaction(bot)
    await cog.cable.callback(cog, interaction, "09OSLO777", "12")
    interaction.delete_original_response.assert_awaited_once()
    args, kwargs = interaction.followup.send.call_args
    assert args[0] == "09OSLO777 has 6 paragraphs (¶1-¶6); there is no ¶12"
    assert kwargs["ephemeral"] is True


async def test_cite_and_hashtags_are_private(bot: Cablebot) -> None:
    cog: Any = bot.get_cog("Slash")
    interaction = spec_interaction(bot)
    [bibtex] = [c for c in STYLES if c.value == "bibtex"]
    await cog.cite.callback(cog, interaction, "09OSLO777", None, bibtex)
    kwargs = interaction.followup.send.call_args.kwargs
    assert kwargs["ephemeral"] is True
    assert "@misc{cable:09OSLO777," in kwargs["embed"].description
    await cog.hashtags.callback(cog, interaction, "09OSLO777")
    assert "#cablegate #09OSLO777" in interaction.followup.send.call_args.args[0]


async def test_autocomplete_offers_stored_ids(bot: Cablebot) -> None:
    cog: Any = bot.get_cog("Slash")
    choices = await cog.autocomplete_ref(spec_interaction(bot), "09osl")
    assert {c.value for c in choices} >= {"09OSLO777", "09OSLO12"}


async def test_paragraph_button_replaces_the_card_in_place(bot: Cablebot) -> None:
    await dpytest.message("see 09OSLO777 ¶2")
    reply = dpytest.get_message()
    interaction = spec_interaction(bot)
    interaction.message = reply
    await ParagraphButton(0, "09OSLO777", 3, "▶").callback(interaction)
    kwargs = interaction.edit_original_response.call_args.kwargs
    assert kwargs["embeds"][0].url.endswith("#par3")
    labels = [getattr(getattr(i, "item", i), "label", None) for i in kwargs["view"].children]
    assert "◀ ¶2" in labels and "¶4 ▶" in labels


async def test_cite_button_answers_privately(bot: Cablebot) -> None:
    interaction = spec_interaction(bot)
    await CiteButton(0, "09OSLO777", (2,)).callback(interaction)
    kwargs = interaction.followup.send.call_args.kwargs
    assert kwargs["ephemeral"] is True
    assert "09OSLO777.html#par2" in kwargs["embed"].description


async def test_delete_button_refuses_others(bot: Cablebot) -> None:
    await dpytest.message("see 09OSLO777 ¶2")
    reply = dpytest.get_message()
    stranger = spec_interaction(bot, user_id=1)
    stranger.response.is_done.return_value = False
    stranger.message = reply
    await DeleteButton(owner_id=2).callback(stranger)
    assert "Only the person who asked" in stranger.response.send_message.call_args.args[0]


def test_cite_offers_readable_style_choices(bot: Cablebot) -> None:
    cog: Any = bot.get_cog("Slash")
    [style] = [p for p in cog.cite.parameters if p.name == "style"]
    names = {c.name: c.value for c in style.choices}
    assert names["Chicago note"] == "chicago" and names["All styles"] == "all"
    assert not style.required
    for name in ("cable", "cite", "hashtags"):
        [ref] = [p for p in getattr(cog, name).parameters if p.name == "ref"]
        assert ref.autocomplete, f"/{name} ref has no autocomplete"


async def test_cable_shows_what_exists_and_tells_the_rest_privately(bot: Cablebot) -> None:
    cog: Any = bot.get_cog("Slash")
    interaction = spec_interaction(bot)
    await cog.cable.callback(cog, interaction, "09OSLO777", "2,40")
    public, private = interaction.followup.send.call_args_list
    assert public.kwargs["embeds"][0].url.endswith("#par2")
    assert public.kwargs["content"] is None and not public.kwargs.get("ephemeral")
    assert private.args[0] == "09OSLO777 has 6 paragraphs (¶1-¶6); there is no ¶40"
    assert private.kwargs["ephemeral"] is True


async def _menu_target(bot: Cablebot) -> Any:
    guild = dpytest.get_config().guilds[0]
    await bot.guild_settings.set(guild.id, GuildSettings(passive=False))
    return await dpytest.message("compare 09OSLO777 ¶2 with 09OSLO777 ¶40")


async def test_resolve_menu_posts_cards_and_keeps_errors_private(bot: Cablebot) -> None:
    target = await _menu_target(bot)
    assert dpytest.sent_queue.empty()
    cog: Any = bot.get_cog("Slash")
    interaction = spec_interaction(bot, user_id=target.author.id)
    await cog.resolve_menu(interaction, target)
    posted = dpytest.get_message()
    assert posted.embeds[0].url.endswith("09OSLO777.html#par2")
    assert not posted.content  # the missing paragraph is not said in public
    [private] = interaction.followup.send.call_args_list
    assert private.args[0] == "09OSLO777 has 6 paragraphs (¶1-¶6); there is no ¶40"
    assert private.kwargs["ephemeral"] is True
    assert await bot.followed(target.id) is not None


async def test_resolve_menu_shows_the_cards_privately_where_it_may_not_post(
    bot: Cablebot,
) -> None:
    target = await _menu_target(bot)
    cog: Any = bot.get_cog("Slash")
    interaction = spec_interaction(bot)
    interaction.app_permissions = discord.Permissions.none()
    await cog.resolve_menu(interaction, target)
    assert dpytest.sent_queue.empty()
    cards, error = interaction.followup.send.call_args_list
    assert cards.kwargs["ephemeral"] is True and "view" not in cards.kwargs
    assert cards.kwargs["embeds"][0].url.endswith("#par2")
    assert "there is no ¶40" in error.args[0]
