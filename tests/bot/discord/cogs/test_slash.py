"""bot.discord.cogs.slash and the buttons: explicit commands answer publicly, errors privately."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
from discord import app_commands
from pytest_httpserver import HTTPServer

from bot.config import Settings
from bot.discord.client import Cablebot
from bot.discord.cogs.slash import STYLES, complete_ref, parse_request
from bot.discord.embeds import CiteButton, DeleteButton, ParagraphButton
from bot.discord.guilds import GuildSettings
from bot.library.cables import CableLibrary
from bot.library.mirror import CableMirror
from bot.library.month_index import MonthIndex, pack_month_index
from tests.bot.helpers import answered, harbour_page, spec_interaction


def test_options_are_read_with_the_chat_grammar() -> None:
    assert parse_request("08mexico2498", "5-7") is not None
    request = parse_request("08MEXICO2498", "5-7")
    assert request is not None and request.paragraphs == (5, 6, 7)
    assert parse_request("hello") is None


async def test_a_stored_cable_is_posted_publicly_at_once(bot: Cablebot) -> None:
    cog: Any = bot.get_cog("Slash")
    interaction = spec_interaction(bot)
    await cog.cable.callback(cog, interaction, "09OSLO777", "2")
    assert answered(interaction) == ["response.send_message"]  # no "thinking…" first
    kwargs = interaction.response.send_message.call_args.kwargs
    assert kwargs["embeds"][0].url.endswith("09OSLO777.html#par2")
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    assert not kwargs.get("ephemeral")


@pytest.mark.parametrize(
    ("command", "options", "error"),
    [
        ("cable", ("09OSLO777", "12"), "09OSLO777 has 6 paragraphs (¶1-¶6); there is no ¶12"),
        ("cable", ("hello",), "'hello' is not a cable reference ID."),
        ("cable", ("09OSLO777", "0"), "09OSLO777: ¶0 is not a paragraph number"),
        ("cite", ("09OSLO777", "9"), "09OSLO777 has 6 paragraphs (¶1-¶6); there is no ¶9"),
        ("cite", ("not an id",), "'not an id' is not a cable reference ID."),
        ("hashtags", ("09OSLO",), "'09OSLO' is not a cable reference ID."),
        ("cable", ("09OSLO999",), "09OSLO999 is not in the cable library"),
    ],
)
async def test_what_is_knowable_at_once_is_said_privately_without_a_defer(
    bot: Cablebot, command: str, options: tuple[str, ...], error: str
) -> None:
    cog: Any = bot.get_cog("Slash")
    interaction = spec_interaction(bot)
    await getattr(cog, command).callback(cog, interaction, *options)
    assert answered(interaction) == ["response.send_message"]
    kwargs = interaction.response.send_message.call_args.kwargs
    assert kwargs["content"] == error and kwargs["ephemeral"] is True


async def test_cite_and_hashtags_are_private(bot: Cablebot) -> None:
    cog: Any = bot.get_cog("Slash")
    interaction = spec_interaction(bot)
    [bibtex] = [c for c in STYLES if c.value == "bibtex"]
    await cog.cite.callback(cog, interaction, "09OSLO777", None, bibtex)
    kwargs = interaction.response.send_message.call_args.kwargs
    assert kwargs["ephemeral"] is True
    assert "@misc{cable:09OSLO777," in kwargs["embed"].description
    assert "#par" not in kwargs["embed"].description  # no paragraph asked: the whole cable
    tags = spec_interaction(bot)
    await cog.hashtags.callback(cog, tags, "09OSLO777")
    assert answered(tags) == ["response.send_message"]
    assert "#cablegate #09OSLO777" in tags.response.send_message.call_args.kwargs["content"]


async def test_autocomplete_offers_stored_ids(bot: Cablebot) -> None:
    choices = await complete_ref(spec_interaction(bot), "09osl")
    assert {c.value for c in choices} >= {"09OSLO777", "09OSLO12"}
    for name in ("cable", "cite", "hashtags", "related"):  # every command with a ref
        command = bot.tree.get_command(name)
        assert isinstance(command, app_commands.Command)
        parameter = command.get_parameter("ref")
        assert parameter is not None and parameter.autocomplete, name


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
    assert answered(interaction) == ["response.send_message", "followup.send"]
    public = interaction.response.send_message.call_args
    assert public.kwargs["embeds"][0].url.endswith("#par2")
    assert public.kwargs["content"] is None and not public.kwargs.get("ephemeral")
    private = interaction.followup.send.call_args
    assert private.kwargs["content"] == "09OSLO777 has 6 paragraphs (¶1-¶6); there is no ¶40"
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
    assert private.kwargs["content"] == "09OSLO777 has 6 paragraphs (¶1-¶6); there is no ¶40"
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
    assert "there is no ¶40" in error.kwargs["content"]


@pytest.fixture
async def mirrored(bot: Cablebot, library: CableLibrary, server: HTTPServer) -> AsyncIterator[Any]:
    """The bot over the same store, with a mirror on 127.0.0.1 and a month index that lists
    09OSLO996-999 (not stored) as published."""
    template = f"http://127.0.0.1:{server.port}/cable/{{year}}/{{month}}/{{ref_id}}.html"
    settings = Settings(_env_file=None, mirrors=(template,), retries=0)  # type: ignore[call-arg]
    months = MonthIndex(pack_month_index((f"09OSLO{n}", 3) for n in range(996, 1000)), "test")
    mirrored = CableLibrary(library.store, None, months)
    mirrored.mirror = CableMirror.from_settings(settings, mirrored.month_of)
    bot.library = mirrored
    yield bot
    await mirrored.mirror.close()


def _serve(server: HTTPServer, ref_id: str) -> None:
    server.expect_request(f"/cable/2009/03/{ref_id}.html").respond_with_data(
        harbour_page(ref_id), content_type="text/html"
    )


async def test_a_cable_from_the_mirror_is_deferred_then_posted(
    mirrored: Cablebot, server: HTTPServer
) -> None:
    _serve(server, "09OSLO999")
    cog: Any = mirrored.get_cog("Slash")
    interaction = spec_interaction(mirrored)
    await cog.cable.callback(cog, interaction, "09OSLO999", "3")
    assert answered(interaction) == ["response.defer", "followup.send"]
    assert interaction.response.defer.call_args.kwargs == {"ephemeral": False, "thinking": True}
    card = interaction.followup.send.call_args.kwargs
    assert card["embeds"][0].url == "https://wikileaks.org/cable/2009/03/09OSLO999.html#par3"
    assert not card.get("ephemeral")
    assert len(server.log) == 1

    again = spec_interaction(mirrored)  # now stored: answered at once
    await cog.cable.callback(cog, again, "09OSLO999", "4")
    assert answered(again) == ["response.send_message"]
    assert len(server.log) == 1


async def test_cite_from_the_mirror_defers_privately(
    mirrored: Cablebot, server: HTTPServer
) -> None:
    _serve(server, "09OSLO998")
    cog: Any = mirrored.get_cog("Slash")
    interaction = spec_interaction(mirrored)
    await cog.cite.callback(cog, interaction, "09OSLO998", None, None)
    assert answered(interaction) == ["response.defer", "followup.send"]
    assert interaction.response.defer.call_args.kwargs == {"ephemeral": True, "thinking": True}
    cited = interaction.followup.send.call_args.kwargs
    assert cited["ephemeral"] is True and "09OSLO998" in cited["embed"].title


async def test_a_failed_fetch_is_one_public_line_in_the_deferred_message(
    mirrored: Cablebot, server: HTTPServer
) -> None:
    server.expect_request("/cable/2009/03/09OSLO997.html").respond_with_data("no", status=404)
    cog: Any = mirrored.get_cog("Slash")
    interaction = spec_interaction(mirrored)
    await cog.cable.callback(cog, interaction, "09OSLO997", None)
    assert answered(interaction) == ["response.defer", "followup.send"]
    said = interaction.followup.send.call_args.kwargs
    assert said["content"] == "09OSLO997 is not a published cable"
    assert "ephemeral" not in said and "embeds" not in said


async def test_an_id_the_month_index_lacks_is_said_at_once_without_asking_the_mirror(
    mirrored: Cablebot, server: HTTPServer
) -> None:
    cog: Any = mirrored.get_cog("Slash")
    interaction = spec_interaction(mirrored)
    await cog.cable.callback(cog, interaction, "09OSLO995", None)
    assert answered(interaction) == ["response.send_message"]
    said = interaction.response.send_message.call_args.kwargs
    assert said["content"] == "09OSLO995 is not a published cable" and said["ephemeral"] is True
    assert server.log == []


async def test_a_bare_id_links_and_cites_the_whole_cable(bot: Cablebot) -> None:
    cog: Any = bot.get_cog("Slash")
    interaction = spec_interaction(bot)
    await cog.cable.callback(cog, interaction, "09OSLO777", None)
    sent = interaction.response.send_message.call_args.kwargs
    [embed] = sent["embeds"]
    assert embed.url == "https://wikileaks.org/cable/2009/03/09OSLO777.html"
    assert embed.description.startswith("**Summary (preview)**")
    ids = [getattr(item, "custom_id", "") for item in sent["view"].children]
    assert "cablebot:cite:0:09OSLO777:" in ids  # no paragraphs: Cite cites the whole cable
    clicked = spec_interaction(bot)
    [cite] = [i for i in sent["view"].children if i.custom_id.startswith("cablebot:cite:")]
    await cite.callback(clicked)
    citation = clicked.followup.send.call_args.kwargs["embed"]
    assert citation.url == embed.url and "#par" not in citation.description
